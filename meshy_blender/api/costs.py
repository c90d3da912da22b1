"""What a task will cost in Meshy credits, shown to the user before anything is sent.

Figures from Meshy's pricing (see meshy-api.md, "Costs"). Meshy-6 is what ``latest``
means today, and ``latest`` is the default when no ``ai_model`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .images import IMAGE_KINDS, image_credits
from .tasks import TaskKind

PREVIEW_MESHY6 = 20
PREVIEW_OLDER = 5
REFINE = 10
IMAGE_MESHY6 = {False: 20, True: 30}  # keyed by "textured"
IMAGE_OLDER = {False: 5, True: 15}
FIXED = {TaskKind.RIGGING: 5, TaskKind.ANIMATION: 3, TaskKind.RETEXTURE: 10, TaskKind.REMESH: 5}

_MESHY6_MODELS = ("meshy-6", "latest")


def _uses_meshy6(body: Mapping[str, Any]) -> bool:
    return body.get("ai_model", "latest") in _MESHY6_MODELS


def estimate_credits(kind: TaskKind, body: Mapping[str, Any]) -> int:
    """Credits Meshy charges for creating a task of ``kind`` with ``body``."""
    if kind is TaskKind.TEXT_TO_3D:
        if body.get("mode") == "refine":
            return REFINE
        return PREVIEW_MESHY6 if _uses_meshy6(body) else PREVIEW_OLDER
    if kind in (TaskKind.IMAGE_TO_3D, TaskKind.MULTI_IMAGE_TO_3D):
        textured = body.get("should_texture", True) is not False
        return (IMAGE_MESHY6 if _uses_meshy6(body) else IMAGE_OLDER)[textured]
    if kind in IMAGE_KINDS:
        return image_credits(kind, body)
    return FIXED[kind]
