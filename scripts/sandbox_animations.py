"""The offline sandbox's animation library: Meshy's catalogue and its rules for ``action_ids``.

The catalogue is the add-on's own data file (``meshy_blender/api/data/animations.json``,
built from Meshy's published table), served as ``GET /openapi/v1/animations/library``
answers it. An animation request names exactly one of ``action_id`` or ``action_ids``;
an id the library does not hold is refused with 400, as Meshy refuses it. Standard
library only, like the sandbox.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

LIBRARY_PATH = "/openapi/v1/animations/library"
CATALOGUE = Path(__file__).resolve().parent.parent / "meshy_blender" / "api" / "data" / "animations.json"
CREDITS_PER_ACTION = 3


@functools.cache
def _actions() -> dict[int, dict[str, Any]]:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in data["actions"]}


def library() -> list[dict[str, Any]]:
    """The library as Meshy's endpoint lists it: one object per action."""
    return [
        {
            "action_id": entry["id"],
            "name": entry["name"],
            "category": entry["category"],
            "sub_category": entry["sub_category"],
            "preview_url": entry["preview_url"],
        }
        for entry in _actions().values()
    ]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def problem(body: dict[str, Any]) -> str | None:
    """Why the request's actions are refused (400), or None when they are fine."""
    if ("action_id" in body) == ("action_ids" in body):
        return "Provide exactly one of action_id or action_ids"
    if "action_id" in body:
        ids = [body["action_id"]]
        if not _is_id(ids[0]):
            return "action_id must be a non-negative integer"
    else:
        ids = body["action_ids"]
        if not isinstance(ids, list) or not ids or not all(_is_id(item) for item in ids):
            return "action_ids must be a non-empty list of non-negative integers"
    unknown = [item for item in ids if item not in _actions()]
    if unknown:
        return f"Invalid action ID: {unknown[0]} does not correspond to a valid animation"
    return None


def action_ids(body: dict[str, Any]) -> list[int]:
    """The actions of a valid request, in order, each once."""
    return list(dict.fromkeys(body["action_ids"] if "action_ids" in body else [body["action_id"]]))


def clip_names(body: dict[str, Any]) -> tuple[str, ...]:
    """The clips of the result file: one per action, named after the library action."""
    return tuple(_actions()[item]["name"] for item in action_ids(body))


def cost(body: dict[str, Any]) -> int:
    return CREDITS_PER_ACTION * len(action_ids(body))
