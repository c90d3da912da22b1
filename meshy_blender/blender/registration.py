"""Enable and disable the add-on, leaving nothing behind.

``register`` adds the classes, the scene properties, the pump timer and a load handler,
moves an API key that older versions kept in the preferences to its own file, then
carries on the jobs the ledger left unfinished, but only when requests may go out
(online access and a key): enabling the add-on otherwise never touches the network.
It starts the Meshy Bridge too when the preferences ask for it (never offline).
``unregister`` stops the timer, the bridge and every thread (bounded), then removes what it added.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.app.handlers import persistent

from ..jobs.model import Job
from . import (
    bridge_glue,
    bridge_ui,
    calls,
    cli,
    diagnostics_ui,
    operators,
    operators_jobs,
    panels,
    preferences,
    properties,
    pump,
    session,
)

CLASSES = (
    preferences.MeshyPreferences,
    *operators.CLASSES,
    *operators_jobs.CLASSES,
    *panels.CLASSES,
    *bridge_ui.CLASSES,
    *diagnostics_ui.CLASSES,
)
SHUTDOWN_TIMEOUT = 2.0
CALLS_TIMEOUT = 1.0


def resume_jobs(context: bpy.types.Context) -> list[Job]:
    """Carry on the ledger's unfinished jobs, when online access and a key allow requests."""
    if preferences.not_ready_reason(context):
        return []
    return session.configure(preferences.config(context)).resume()


@persistent
def on_load_post(*_args: Any) -> None:
    resume_jobs(bpy.context)


def register() -> None:
    properties.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    preferences.move_key_out_of_preferences(bpy.context)
    bpy.app.handlers.load_post.append(on_load_post)
    pump.start_timer()
    cli.register_command()
    resume_jobs(bpy.context)
    bridge_ui.autostart(bpy.context)


def unregister() -> None:
    pump.stop_timer()
    cli.unregister_command()
    calls.shutdown(CALLS_TIMEOUT)
    bridge_glue.stop()
    session.shutdown(SHUTDOWN_TIMEOUT)
    if on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(on_load_post)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    properties.unregister()
