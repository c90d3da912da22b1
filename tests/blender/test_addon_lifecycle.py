"""Enabling and disabling the add-on: nothing left behind, nothing sent unless allowed, work resumed."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from sandbox_control import PAID_KEY, Sandbox
from web_app import free_port, is_listening

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]


def meshy_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("meshy-")]


def our_handlers(package: str) -> list[Any]:
    lists = [getattr(bpy.app.handlers, name) for name in dir(bpy.app.handlers) if not name.startswith("_")]
    return [
        handler
        for handlers in lists
        if isinstance(handlers, list)
        for handler in handlers
        if getattr(handler, "__module__", "").startswith(package)
    ]


def operator_registered(idname: str) -> bool:
    module, name = idname.split(".")
    try:
        getattr(getattr(bpy.ops, module), name).get_rna_type()
    except KeyError:
        return False
    return True


def assert_nothing_left(env: AddonEnv, timers: list[Any], classes: tuple[type, ...]) -> None:
    assert not [timer for timer in timers if bpy.app.timers.is_registered(timer)]
    assert env.module("blender.pump").import_listeners == []
    assert meshy_threads() == []
    assert our_handlers(env.package) == []
    assert not hasattr(bpy.types.Scene, "meshy")
    assert not [cls.__name__ for cls in classes if cls.is_registered]
    assert not operator_registered("meshy.generate_text")
    assert env.module("blender.session").current_manager() is None


def test_disable_while_a_job_runs_then_enable_offline_then_resume_on_load(
    meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pump = meshy.module("blender.pump")
    registration = meshy.module("blender.registration")
    timer, classes = registration.pump_timer, registration.CLASSES
    timers = [timer, meshy.module("blender.ui.calls")._watch]
    assert bpy.app.timers.is_registered(timer)
    assert registration.on_load_post in bpy.app.handlers.load_post

    sandbox.configure(task_seconds=1.0)  # still running on Meshy when the add-on is disabled
    meshy.props.prompt = "a lantern"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    job = meshy.newest_job()
    assert pump.run_until(lambda: bool(job.stages[0].task_id), timeout=20)
    assert meshy_threads()

    meshy.disable()
    assert_nothing_left(meshy, timers, classes)

    # Enabled again while offline, with a key in the environment: nothing may be sent.
    bpy.context.preferences.system.use_online_access = False
    monkeypatch.setenv("MESHY_API_KEY", PAID_KEY)
    served = len(sandbox.requests())
    meshy.enable()
    assert bpy.app.timers.is_registered(timer)
    assert operator_registered("meshy.generate_text") and hasattr(bpy.types.Scene, "meshy")
    assert meshy.module("blender.session").current_manager() is None
    assert meshy_threads() == []
    assert len(sandbox.requests()) == served

    # Back online, opening a file resumes the ledger's job: the same task, no new one.
    bpy.context.preferences.system.use_online_access = True
    meshy.prefs.base_url = sandbox.url
    meshy.prefs.download_dir = str(tmp_path / "downloads")
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    resumed = meshy.manager().get(job.id)
    assert resumed is not None and resumed.stages[0].task_id == job.stages[0].task_id
    # The file it was asked from was never saved and is gone: the result waits, it does not land here unasked.
    assert pump.run_until(lambda: resumed.state.value == "ready" and "Import here" in resumed.message, timeout=20)
    assert not meshy.imported(resumed)
    bpy.ops.meshy.job_reimport(job_id=resumed.id)
    meshy.run_jobs()
    assert resumed.state.value == "imported"
    assert meshy.imported(resumed)
    assert len(sandbox.creates()) == 1


def test_enable_with_online_access_and_a_key_resumes_unfinished_jobs(meshy: AddonEnv, sandbox: Sandbox) -> None:
    sandbox.configure(task_seconds=1.0)
    meshy.props.prompt = "a kettle"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    job = meshy.newest_job()
    assert meshy.module("blender.pump").run_until(lambda: bool(job.stages[0].task_id), timeout=20)

    # Like quitting Blender and starting it again: saved preferences stay, the add-on registers anew.
    meshy.disable(keep_preferences=True)
    assert meshy_threads() == []
    meshy.enable()

    resumed = meshy.manager().get(job.id)
    assert resumed is not None and resumed is not job
    meshy.run_jobs()
    assert resumed.state.value == "imported"
    assert len(sandbox.creates()) == 1


def test_unregister_stops_background_calls(meshy: AddonEnv, sandbox: Sandbox) -> None:
    sandbox.fault("/balance", "delay", seconds=0.5)
    bpy.ops.meshy.test_connection()
    assert "meshy-call-balance" in meshy_threads()
    assert bpy.app.timers.is_registered(meshy.module("blender.ui.calls")._watch)
    meshy.disable()
    assert meshy_threads() == []
    assert not bpy.app.timers.is_registered(meshy.module("blender.ui.calls")._watch)
    meshy.enable()


def test_disable_while_the_bridge_runs_leaves_no_thread_or_socket(meshy: AddonEnv) -> None:
    meshy.prefs.bridge_port = port = free_port()
    assert bpy.ops.meshy.bridge_toggle() == {"FINISHED"}
    assert is_listening(port)
    assert "meshy-bridge-server" in meshy_threads()

    meshy.disable()
    assert meshy_threads() == []
    assert not is_listening(port)
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port is free for anyone again
    assert meshy.module("blender.bridge_glue").running() is None

    meshy.enable()  # preferences were reset: the bridge does not start by itself
    assert meshy.module("blender.bridge_glue").running() is None
    assert "meshy-bridge-server" not in meshy_threads()


def test_the_bridge_starts_with_the_addon_when_asked_but_never_offline(meshy: AddonEnv) -> None:
    glue = meshy.module("blender.bridge_glue")
    meshy.prefs.bridge_port = port = free_port()
    meshy.prefs.bridge_autostart = True
    try:
        bpy.context.preferences.system.use_online_access = False
        meshy.disable(keep_preferences=True)
        meshy.enable()
        assert glue.running() is None
        assert not is_listening(port)

        bpy.context.preferences.system.use_online_access = True
        meshy.disable(keep_preferences=True)
        meshy.enable()
        server = glue.running()
        assert server is not None and server.port == port
        assert is_listening(port)
        assert meshy.module("blender.session").current_manager() is not None, "a manager receives the imports"
    finally:
        meshy.prefs.bridge_autostart = False
        glue.stop()
