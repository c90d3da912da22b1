"""Meshy's animation library in the sidebar: search, category filter and a multi-selection.

The library is :mod:`meshy_blender.api.animations` (shipped with the add-on, refreshable
from Meshy). The selection is kept in the scene's properties as text (``"1,13"``), so it
is saved with the file and costs nothing to draw; ids the library does not know (typed
with "Add id") stay selected and are sent as given.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ... import paths
from .. import calls

if TYPE_CHECKING:  # the library's reader and the price load when the Animate panel first draws, not at enable
    from ....api import animations
    from ..properties import MeshySceneProperties

ALL = "ALL"
REFRESH_CALL = "animation-library"
#: Actions listed at once; "Show more" adds as many again.
PAGE = 12

_current: animations.Library | None = None
#: Blender keeps only pointers to dynamic enum strings: the items must outlive the draw.
_category_items: list[tuple[str, str, str]] = []


def library() -> animations.Library:
    """The library in use: a refreshed copy in the user folder when newer than the shipped one."""
    global _current
    if _current is None:
        from ....api import animations

        _current = animations.load(paths.user_dir(create=False))
    return _current


def refresh(client: Any) -> animations.Library:
    """Fetch Meshy's library and keep it in the user folder (runs on a background thread)."""
    global _current
    from ....api import animations

    fresh = animations.save(client.animation_library(), paths.user_dir())
    _current = fresh
    return fresh


def forget() -> None:
    """Read the library again on next use (after the user folder changed)."""
    global _current
    _current = None


def category_items(_self: Any, _context: Any) -> list[tuple[str, str, str]]:
    wanted = [(ALL, "All categories", "Every action of the library")]
    wanted += [(name, name, f"Only {name} actions") for name in library().categories()]
    if wanted != _category_items:
        _category_items[:] = wanted
    return _category_items


def action_name(action_id: int) -> str:
    return library().name_of(action_id)


def selected_ids(props: MeshySceneProperties) -> list[int]:
    """The selected action ids, in the order they were picked."""
    parts = (part.strip() for part in props.action_ids.split(","))
    return list(dict.fromkeys(int(part) for part in parts if part.isdigit()))


def set_selected(props: MeshySceneProperties, ids: list[int]) -> None:
    props.action_ids = ",".join(str(action_id) for action_id in dict.fromkeys(ids))


def toggle(props: MeshySceneProperties, action_id: int) -> None:
    ids = selected_ids(props)
    set_selected(props, [i for i in ids if i != action_id] if action_id in ids else [*ids, action_id])


def matching(props: MeshySceneProperties) -> list[animations.Action]:
    """The actions the search and category show; searched again only when one of them (or the library) changed."""
    category = "" if props.action_category == ALL else props.action_category
    return _search(library(), props.action_search, category)


@functools.lru_cache(maxsize=4)
def _search(current: animations.Library, text: str, category: str) -> list[animations.Action]:
    return current.search(text, category)


@functools.lru_cache(maxsize=16)
def _cost(ids: tuple[int, ...]) -> int:
    from ....api.costs import estimate_credits
    from ....api.task_kinds import TaskKind
    from ....api.validation import action_fields

    return estimate_credits(TaskKind.ANIMATION, action_fields(list(ids))) if ids else 0


def cost(ids: list[int]) -> int:
    return _cost(tuple(ids))


def draw_picker(layout: Any, props: MeshySceneProperties) -> None:
    """Search, category, the matching actions with check boxes, and what is selected."""
    row = layout.row(align=True)
    row.prop(props, "action_search", text="", icon="VIEWZOOM")
    row.prop(props, "action_category", text="")
    found = matching(props)
    chosen = set(selected_ids(props))
    shown = found[: props.action_rows]
    column = layout.column(align=True)
    for action in shown:
        row = column.row(align=True)
        icon = "CHECKBOX_HLT" if action.id in chosen else "CHECKBOX_DEHLT"
        op = row.operator("meshy.action_toggle", text=f"{action.name} ({action.id})", icon=icon, emboss=False)
        op.action_id = action.id
        if action.preview_url:
            row.operator("wm.url_open", text="", icon="PLAY").url = action.preview_url
    if not found:
        layout.label(text="No action matches the search", icon="INFO")
    elif len(found) > len(shown):
        layout.operator("meshy.actions_more", text=f"Show more ({len(shown)} of {len(found)})", icon="TRIA_DOWN")
    row = layout.row(align=True)
    row.prop(props, "custom_action_id")
    row.operator("meshy.action_add_id", text="Add id", icon="ADD")
    draw_selection(layout, props)


def draw_selection(layout: Any, props: MeshySceneProperties) -> None:
    ids = selected_ids(props)
    if not ids:
        layout.label(text="No action selected: tick one or more above", icon="INFO")
        return
    box = layout.box()
    header = box.row()
    header.label(text=f"{len(ids)} selected (~{cost(ids)} credits)", icon="ACTION")
    header.operator("meshy.actions_clear", text="", icon="X")
    for action_id in ids:
        row = box.row()
        row.label(text=f"{action_name(action_id)} ({action_id})")
        row.operator("meshy.action_toggle", text="", icon="REMOVE", emboss=False).action_id = action_id


def draw_library_header(layout: Any) -> None:
    """How many actions the library has and from when; refresh it from Meshy, and how that went."""
    row = layout.row()
    row.label(text=library_label(), icon="ACTION")
    row.operator("meshy.animation_library_refresh", text="", icon="FILE_REFRESH")
    call = calls.get(REFRESH_CALL)
    if call is not None and call.running:
        layout.label(text="Fetching Meshy's animation library…", icon="SORTTIME")
    elif call is not None and call.error:
        layout.label(text=f"Refresh failed: {call.error}", icon="ERROR")


def library_label() -> str:
    current = library()
    when = current.updated[:10] or "unknown date"
    return f"{len(current)} actions (library of {when})"


def fps_notice(props: MeshySceneProperties, scene_fps: float) -> str:
    """What to tell the user when the asked frame rate is not the scene's ("" when they agree)."""
    from ....api import animations

    return animations.fps_notice(props.animation_options().get("post_process"), scene_fps)


def scene_fps(scene: Any) -> float:
    return float(scene.render.fps / scene.render.fps_base)
