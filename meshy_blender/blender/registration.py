"""Enable and disable the add-on, leaving nothing behind.

``register`` adds the classes, the scene properties, the pump timer and file handlers
(a result imported into a file closed without saving becomes importable again; a new
file drops the file id it inherits from the startup file),
moves an API key that older versions kept in the preferences to its own file, then
carries on the jobs the ledger left unfinished, but only when requests may go out
(online access and a key): enabling the add-on otherwise never touches the network.
It starts the Meshy Bridge too when the preferences ask for it (never offline).
``unregister`` stops the timer, the bridge and every thread (bounded), then removes what it added.

What the add-on does only once asked is not loaded here: the pump's timer is registered here and
loads :mod:`.pump` at its first tick with a job manager (a start with no job has nothing to pump),
the ``blender -c meshy`` command is registered here and loads :mod:`.cli.command` when it runs,
and the operators' and panels' helpers load with the first operator or draw (the packages offer
them on first use, see :mod:`..lazy_names`). Enabling stays about defining and registering classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.app.handlers import persistent

from . import pump, session
from .cli import COMMAND_ID
from .scene import file_identity
from .ui import (
    bridge_ui,
    calls,
    diagnostics_ui,
    icons,
    operators,
    panels,
    preferences,
    properties,
    tools_ui,
)
from .ui.animate import operators as operators_actions
from .ui.concept import operators as concept_ops
from .ui.concept import panel as concept_panel
from .ui.concept import properties as concept_props
from .ui.jobs import operators as operators_jobs
from .ui.jobs import view as jobs_view
from .ui.library import asset_library as asset_library_ui
from .ui.library import operators as library_operators
from .ui.library import panel as library_panel
from .ui.library import view as library_view

CLASSES = (
    preferences.MeshyPreferences,
    *operators.CLASSES,
    *operators_actions.CLASSES,
    *operators_jobs.CLASSES,
    *jobs_view.CLASSES,
    *panels.CLASSES,
    *tools_ui.CLASSES,
    *concept_ops.CLASSES,
    *concept_panel.CLASSES,
    *library_operators.CLASSES,
    *library_panel.CLASSES,
    *bridge_ui.CLASSES,
    *diagnostics_ui.CLASSES,
    *asset_library_ui.CLASSES,
)
if TYPE_CHECKING:
    from ..jobs.model import Job

SHUTDOWN_TIMEOUT = 2.0
CALLS_TIMEOUT = 1.0
#: The pump timer's first turn, and its interval while there is no job manager (the pump's idle one).
FIRST_TICK_S = 0.1
NO_JOBS_INTERVAL = 0.5

_command: Any = None


def resume_jobs(context: bpy.types.Context) -> list[Job]:
    """Carry on the store's unfinished jobs, when online access and a key allow requests."""
    if not bpy.app.online_access:  # Blender's default: asked first, so that a start offline loads nothing more
        return []
    if preferences.not_ready_reason(context):
        return []
    return session.configure(preferences.config(context)).resume()


@persistent
def on_load_pre(*_args: Any) -> None:
    from .scene import library_keep  # cheap: bpy only

    library_keep.flush()  # the library's .blend files still queued, while their data is there
    manager = session.current_manager()
    if manager is not None:
        manager.file_closing(file_identity.current(), unsaved_changes=bpy.data.is_dirty)


@persistent
def on_save_post(*_args: Any) -> None:
    manager = session.current_manager()
    if manager is not None:
        manager.file_saved(file_identity.current())


@persistent
def on_load_post(*_args: Any) -> None:
    file_identity.forget_in_new_file()
    resume_jobs(bpy.context)


def pump_timer() -> float:
    """The pump's persistent timer: its tick once a job manager exists (see :func:`.pump.timer`)."""
    if session.current_manager() is None:
        return NO_JOBS_INTERVAL
    return pump.timer()


def _run_command(argv: list[str]) -> int:
    from .cli.command import main

    return main(argv)


def register_command() -> None:
    """Make ``blender -c meshy …`` available; Blender imports the command only when it runs."""
    global _command
    if _command is None:
        _command = cast(Any, bpy.utils).register_cli_command(COMMAND_ID, _run_command)


def unregister_command() -> None:
    global _command
    if _command is not None:
        bpy.utils.unregister_cli_command(_command)
        _command = None


HANDLERS = (
    (bpy.app.handlers.load_pre, on_load_pre),
    (bpy.app.handlers.save_post, on_save_post),
    (bpy.app.handlers.save_post, asset_library_ui.on_save_post),
    (bpy.app.handlers.load_post, on_load_post),
)


def register() -> None:
    properties.register()
    tools_ui.register()
    concept_props.register()
    library_view.register()
    jobs_view.register()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    preferences.move_key_out_of_preferences(bpy.context)
    for handlers, handler in HANDLERS:
        handlers.append(handler)
    if not bpy.app.timers.is_registered(pump_timer):
        bpy.app.timers.register(pump_timer, first_interval=FIRST_TICK_S, persistent=True)
    register_command()
    resume_jobs(bpy.context)
    bridge_ui.autostart(bpy.context)


def unregister() -> None:
    if bpy.app.timers.is_registered(pump_timer):
        bpy.app.timers.unregister(pump_timer)
    from .scene import library_keep

    library_keep.flush()  # no tick will write them now
    unregister_command()
    calls.shutdown(CALLS_TIMEOUT)
    bridge_ui.stop()
    session.shutdown(SHUTDOWN_TIMEOUT)
    pump.import_listeners.clear()  # e.g. the bridge's, added when it handed a model over: no job is left to import
    for handlers, handler in HANDLERS:
        if handler in handlers:
            handlers.remove(handler)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    icons.free()
    jobs_view.unregister()
    library_view.unregister()
    concept_props.unregister()
    tools_ui.unregister()
    properties.unregister()
