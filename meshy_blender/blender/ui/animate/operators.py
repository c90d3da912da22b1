# mypy: disable-error-code="valid-type"
# No `from __future__ import annotations` here (see the package's docstring).
"""Operators of the animation library picker: tick actions, add an id, show more, refresh from Meshy."""

from typing import TYPE_CHECKING

import bpy
from bpy.props import IntProperty

from ..operators import start_call
from ..properties import scene_props
from . import actions as actions_library

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems


class MESHY_OT_action_toggle(bpy.types.Operator):
    """Select this action for the next Animate, or unselect it"""

    bl_idname = "meshy.action_toggle"
    bl_label = "Toggle action"
    bl_options = {"INTERNAL", "UNDO"}

    action_id: IntProperty(name="Action id", min=0)

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        actions_library.toggle(scene_props(context), self.action_id)
        return {"FINISHED"}


class MESHY_OT_action_add_id(bpy.types.Operator):
    """Select the typed action id, even one this add-on's library does not list yet (Meshy decides)"""

    bl_idname = "meshy.action_add_id"
    bl_label = "Add action id"
    bl_options = {"INTERNAL", "UNDO"}

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = scene_props(context)
        ids = actions_library.selected_ids(props)
        if props.custom_action_id not in ids:
            actions_library.set_selected(props, [*ids, props.custom_action_id])
        return {"FINISHED"}


class MESHY_OT_actions_clear(bpy.types.Operator):
    """Unselect every action"""

    bl_idname = "meshy.actions_clear"
    bl_label = "Clear selected actions"
    bl_options = {"INTERNAL", "UNDO"}

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        actions_library.set_selected(scene_props(context), [])
        return {"FINISHED"}


class MESHY_OT_actions_more(bpy.types.Operator):
    """List more of the matching actions"""

    bl_idname = "meshy.actions_more"
    bl_label = "Show more actions"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        scene_props(context).action_rows += actions_library.PAGE
        return {"FINISHED"}


class MESHY_OT_animation_library_refresh(bpy.types.Operator):
    """Fetch Meshy's animation library as it is today (free) and keep it for the next sessions"""

    bl_idname = "meshy.animation_library_refresh"
    bl_label = "Refresh animation library"

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        return start_call(self, context, actions_library.REFRESH_CALL, actions_library.refresh)


CLASSES = (
    MESHY_OT_action_toggle,
    MESHY_OT_action_add_id,
    MESHY_OT_actions_clear,
    MESHY_OT_actions_more,
    MESHY_OT_animation_library_refresh,
)
