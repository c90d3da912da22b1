"""The model menu of the generation panels, built from Meshy's model catalogue.

Active models first as Meshy lists them, ``latest`` explained ("Latest — Meshy-7.1 today"),
deprecated ones marked with their retirement date, retired ones left out, and "Custom…"
for any id the catalogue does not know (sent to Meshy as given). The menu is a dynamic
``EnumProperty``: each model keeps a fixed number (``latest`` is 0, the default), so a
saved choice survives a catalogue that lists models in another order.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the catalogue is read when a menu is first drawn, not at enable
    from ...api import catalogue

CUSTOM = "CUSTOM"
#: Which endpoint's models a group of mesh options offers, by the group's name on ``scene.meshy``.
ENDPOINTS = {"text_mesh": "text-to-3d", "image_mesh": "image-to-3d"}
DEFAULT_ENDPOINT = "text-to-3d"

# Blender keeps only pointers to the strings of dynamic enum items: they must outlive the call.
# Built once per endpoint and day (the catalogue is read once per process; a model may retire
# overnight): Blender asks for the items at every read of ``ai_model``, several times a draw.
_items: dict[str, tuple[datetime.date, list[tuple[str, str, str, str, int]]]] = {}


def endpoint_of(group: Any) -> str:
    """The endpoint a mesh-options group is for (``scene.meshy.image_mesh`` → image-to-3d)."""
    try:
        path = str(group.path_from_id())
    except (AttributeError, ValueError):
        return DEFAULT_ENDPOINT
    return ENDPOINTS.get(path.rsplit(".", 1)[-1], DEFAULT_ENDPOINT)


def number(model_id: str) -> int:
    """The enum number of a model: 0 for ``latest`` (the default), a stable hash otherwise."""
    from ...api import catalogue

    if model_id == catalogue.LATEST:
        return 0
    import zlib  # a C module: loaded when the menu is first drawn, not at enable

    return zlib.crc32(model_id.encode()) % 0x7FFFFFFE + 1


def label(model: catalogue.Model, endpoint: str) -> str:
    """The menu text: "Latest — Meshy-7.1 today", "Meshy-7 (retires 2026-12-31)", "Meshy-6"."""
    from ...api import catalogue

    cat = catalogue.load()
    if model.status_on(endpoint) == catalogue.DEPRECATED:
        when = f"retires {model.retires_on.isoformat()}" if model.retires_on else "deprecated"
        return f"{model.label} ({when})"
    return cat.label(model.id)


def menu(endpoint: str) -> list[tuple[str, str, str, str, int]]:
    """The items of the model menu for ``endpoint`` today (kept alive for Blender)."""
    from ...api import catalogue

    day = catalogue.today()
    built = _items.get(endpoint)
    if built is not None and built[0] == day:
        return built[1]
    cat = catalogue.load()
    items = [
        (model.id, label(model, endpoint), cat.describe(model.id, endpoint), "", number(model.id))
        for model in cat.offered(endpoint)
    ]
    items.append((CUSTOM, "Custom…", "Type any model id: it is sent to Meshy as given", "", number(CUSTOM)))
    _items[endpoint] = (day, items)
    return items


def items(group: Any, context: Any) -> list[tuple[str, str, str, str, int]]:
    """``EnumProperty(items=…)`` callback of ``ai_model``."""
    return menu(endpoint_of(group))


def retired_note(endpoint: str, model_id: str) -> str:
    """Why ``model_id`` cannot be used for ``endpoint`` (retired: the replacement named), or ""."""
    from ...api import catalogue

    refusal = catalogue.load().refusal(endpoint, {"ai_model": model_id})
    return refusal.message if refusal is not None else ""
