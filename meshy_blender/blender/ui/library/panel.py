"""The Library panel: every kept result as a thumbnail, searchable, by kind, a page at a time.

A page of :data:`library_view.PAGE_SIZE` thumbnails (the placeholder icon where Meshy
sent none), each with its name as the button that selects it; the selected result's
details and actions in a box below. Drawing reads only what the view already holds (see
:mod:`.library_view`), so the panel costs the same with 20 results or 20,000.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import bpy

from .. import icons
from ..panels import MeshySubPanel, layout_of, wrapped
from . import asset_library as asset_library_ui
from . import operators as library_operators
from . import view as library_view

if TYPE_CHECKING:
    from ....library.entry import Entry

COLUMNS = 3
THUMBNAIL_SCALE = 4.0


class MESHY_PT_library(MeshySubPanel):
    bl_idname = "MESHY_PT_library"
    bl_label = "Library"

    def draw(self, context: bpy.types.Context) -> None:
        layout = layout_of(self)
        view = library_view.view_of(context)
        row = layout.row(align=True)
        row.prop(view, "search", text="", icon="VIEWZOOM")
        row.prop(view, "kind", text="")
        page = library_view.page_of(view)
        if not page.total:
            searching = view.search.strip() or view.kind != library_view.ANY_KIND
            layout.label(text="No result matches" if searching else "Finished results are kept here", icon="INFO")
            return
        grid = layout.grid_flow(row_major=True, columns=COLUMNS, even_columns=True, even_rows=True, align=True)
        for entry in page.items:
            cell = grid.column(align=True)
            cell.template_icon(icon_value=icons.thumbnail(library_view.thumbnail_of(entry)), scale=THUMBNAIL_SCALE)
            button = cell.operator("meshy.library_select", text=entry.name, depress=entry.id == view.selected)
            button.entry_id = entry.id
        from ..pager import draw_pager  # a draw helper: loaded with the first page drawn

        draw_pager(layout.row(align=True), page, "meshy.library_page", "results")
        selected = library_view.entry(view.selected)
        if selected is not None:
            draw_details(layout.box(), selected)
        asset_library_ui.draw_button(layout, context)  # every result in the Asset Browser too


def draw_details(layout: Any, entry: Entry) -> None:
    """The selected result: what it is, what it cost, and its buttons."""
    layout.label(text=entry.name, icon_value=icons.thumbnail(library_view.thumbnail_of(entry)))
    if entry.prompt:
        wrapped(layout, entry.prompt)
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime((entry.finished_ms or entry.added_ms) / 1000))
    credits = "" if entry.consumed_credits is None else f", {entry.consumed_credits} credits"
    layout.label(text=f"{entry.kind_label}, {made}{credits}")
    if entry.is_pictures:
        _draw_picture_buttons(layout, entry)
    else:
        _draw_model_buttons(layout, entry)
    row = layout.row(align=True)
    row.operator("meshy.library_open_folder", text="Open folder", icon="FILE_FOLDER").entry_id = entry.id
    row.operator("meshy.library_remove", text="Remove", icon="TRASH").entry_id = entry.id


def _draw_picture_buttons(layout: Any, entry: Entry) -> None:
    """Concept pictures have no model to import, rig or retexture: they are made 3D or loaded as images."""
    row = layout.row(align=True)
    row.operator("meshy.library_make_3d", text="Make 3D", icon="MESH_MONKEY").entry_id = entry.id
    row.operator("meshy.library_load_images", text="Load as images", icon="IMAGE_DATA").entry_id = entry.id


def _draw_model_buttons(layout: Any, entry: Entry) -> None:
    row = layout.row(align=True)
    row.operator("meshy.library_import", text="Import", icon="IMPORT").entry_id = entry.id
    if entry.kind in library_operators.RERUN_PANELS:
        row.operator("meshy.library_rerun", text="Re-run", icon="FILE_REFRESH").entry_id = entry.id
    actions = [
        ("meshy.library_rig", "Rig", "ARMATURE_DATA", library_operators.can_rig(entry)),
        ("meshy.library_animate", "Animate", "ACTION", library_operators.can_animate(entry)),
        ("meshy.library_retexture", "Retexture", "TEXTURE", library_operators.can_retexture(entry)),
    ]
    row = layout.row(align=True)
    for idname, text, icon, applies in actions:
        if applies:
            row.operator(idname, text=text, icon=icon).entry_id = entry.id


CLASSES = (MESHY_PT_library,)
