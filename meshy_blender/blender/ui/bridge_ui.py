"""The Meshy Bridge in the sidebar: a start/stop button, where it listens, what failed.

Starting makes sure a job manager exists (received models become its jobs and are
imported by the pump), then starts :mod:`.bridge_glue` on the port of the preferences.
:func:`autostart` does the same when the add-on registers, if the preferences ask for
it and online access is on; it never starts the bridge offline.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import bpy

from ... import api
from ...logs import logger
from . import operators, preferences
from .panels import MeshySubPanel, layout_of, wrapped

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ...bridge.server import BridgeServer

#: Extra options for :func:`bridge_glue.start` (tests only: ``allow_loopback_downloads``). Empty in use.
start_options: dict[str, Any] = {}

#: Why the last start failed, for the panel ("" after a successful start or a stop).
_start_error = ""
#: The bridge's glue (its server, the hand-over to the pump, the job layer) is imported by the
#: first start, not at enable: until then no bridge runs and none failed.
_GLUE = f"{__package__.rsplit('.', 1)[0]}.bridge_glue"


def running() -> BridgeServer | None:
    """The bridge listening now, if any."""
    glue = sys.modules.get(_GLUE)
    return None if glue is None else glue.running()


def failures() -> list[str]:
    """What went wrong with the last models the bridge received (newest last)."""
    glue = sys.modules.get(_GLUE)
    return [] if glue is None else glue.failures()


def start(context: bpy.types.Context) -> BridgeServer:
    """Start the bridge on the preferences' port; raises OfflineError or BridgeError (port taken)."""
    global _start_error
    port = preferences.get(context).bridge_port
    try:
        operators.manager(context)  # received models are imported as jobs of this manager
        from .. import bridge_glue

        server = bridge_glue.start(port=port, **start_options)
    except api.MeshyError as error:
        _start_error = str(error)
        raise
    _start_error = ""
    return server


def stop() -> None:
    global _start_error
    _start_error = ""
    glue = sys.modules.get(_GLUE)
    if glue is not None:
        glue.stop()


def autostart(context: bpy.types.Context) -> None:
    """At register: start the bridge if the preferences ask for it and online access is on."""
    global _start_error
    _start_error = ""
    if not preferences.get(context).bridge_autostart or not bpy.app.online_access:
        return
    try:
        start(context)
    except api.MeshyError as error:
        logger(__name__).warning("Meshy Bridge did not start: %s", error)


class MESHY_OT_bridge_toggle(bpy.types.Operator):
    """Start or stop the Meshy Bridge, which receives models sent with "Send to Blender" in the Meshy web app"""

    bl_idname = "meshy.bridge_toggle"
    bl_label = "Start/stop Meshy Bridge"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if running() is None and not bpy.app.online_access:
            cls.poll_message_set("Online access is off: enable it in Preferences > System > Network")
            return False
        return True

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        if running() is not None:
            return "Stop the Meshy Bridge: the web app can no longer send models to this Blender"
        return "Start the Meshy Bridge so that Send to Blender in the Meshy web app imports models here"

    def execute(self, context: bpy.types.Context) -> set[OperatorReturnItems]:
        if running() is not None:
            stop()
            self.report({"INFO"}, "Meshy Bridge stopped")
            return {"FINISHED"}
        try:
            server = start(context)
        except api.MeshyError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Meshy Bridge listening on {server.url}")
        return {"FINISHED"}


class MESHY_PT_bridge(MeshySubPanel):
    """Receive models from the Meshy web app ("Send to Blender")."""

    bl_idname = "MESHY_PT_bridge"
    bl_label = "Meshy Bridge"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = layout_of(self)
        server = running()
        if server is not None:
            layout.label(text=f"Listening on {server.url}", icon="LINKED")
            layout.label(text="Use Send to Blender in the Meshy web app.")
            layout.operator("meshy.bridge_toggle", text="Stop bridge", icon="PAUSE")
        else:
            row = layout.row(align=True)
            row.prop(preferences.get(context), "bridge_port", text="Port")
            row.operator("meshy.bridge_toggle", text="Start bridge", icon="PLAY")
            if not bpy.app.online_access:
                layout.label(text="Online access is off, so the bridge cannot start.", icon="ERROR")
            elif _start_error:
                col = layout.column()
                col.alert = True
                wrapped(col, _start_error, icon="ERROR")
        failed = failures()
        if failed:
            col = layout.column()
            col.label(text="Recent failures:")
            col.alert = True
            for failure in reversed(failed):
                wrapped(col, failure, icon="ERROR")


CLASSES = (MESHY_OT_bridge_toggle, MESHY_PT_bridge)
