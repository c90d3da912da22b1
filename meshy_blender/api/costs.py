"""What a task will cost in Meshy credits, shown to the user before anything is sent.

The figures are the model catalogue's (``data/models.json``): by endpoint, and by model
where a model has its own price. Without ``ai_model`` the endpoint's default model
applies (``latest`` for 3D); a model the catalogue does not know is priced like the
dearest known one. A finished task's ``consumed_credits`` says what was really charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import catalogue
from .tasks import TaskKind

#: Kinds priced by whether the model is textured.
_TEXTURED_KINDS = (TaskKind.IMAGE_TO_3D, TaskKind.MULTI_IMAGE_TO_3D)


def endpoint_of(kind: TaskKind) -> str:
    """The catalogue's name for ``kind``: the last part of its API path (``text-to-3d``, ``animations``…)."""
    return kind.path.rsplit("/", 1)[1]


def _price_key(kind: TaskKind, body: Mapping[str, Any]) -> str:
    if kind is TaskKind.TEXT_TO_3D:
        return "refine" if body.get("mode") == "refine" else "preview"
    if kind in _TEXTURED_KINDS:
        return "untextured" if body.get("should_texture") is False else "textured"
    return "task"


def estimate_credits(kind: TaskKind, body: Mapping[str, Any]) -> int:
    """Credits Meshy charges for creating a task of ``kind`` with ``body``."""
    model = body.get("ai_model")
    price = catalogue.load().cost(endpoint_of(kind), model if isinstance(model, str) else "", _price_key(kind, body))
    return price * _clips(kind, body)


def _clips(kind: TaskKind, body: Mapping[str, Any]) -> int:
    """Animation is priced per library action: ``action_ids`` makes one clip per action."""
    ids = body.get("action_ids")
    return len(ids) if kind is TaskKind.ANIMATION and isinstance(ids, list) and ids else 1
