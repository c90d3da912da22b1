"""Send to Blender, end to end in real Blender: the bridge, the job list, the pump, the scene."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from api_samples import naming_a_file, secret_file
from local_server import serving_file
from web_app import WAIT_S, sandbox_glb_url, send_to_blender

from meshy_blender.api.errors import EXIT_NETWORK, EXIT_TASK_FAILED, OfflineError
from meshy_blender.blender import bridge_glue, pump, session
from meshy_blender.bridge.handover import JOB_KIND
from meshy_blender.jobs.cli_events import Reporter
from meshy_blender.jobs.model import JobState

if TYPE_CHECKING:
    from conftest import GlbAssets


@pytest.fixture
def glb_url(sandbox: Any, test_key: str) -> str:
    """A signed asset link of the sandbox: a textured text-to-3d preview made with the test key."""
    sandbox.configure(task_seconds=0.2)
    return sandbox_glb_url(sandbox.url, test_key)


@pytest.fixture
def online() -> Iterator[None]:
    preferences = bpy.context.preferences
    assert preferences is not None
    was = preferences.system.use_online_access
    preferences.system.use_online_access = True
    yield
    bridge_glue.stop()
    session.shutdown()
    preferences.system.use_online_access = was


@pytest.fixture
def manager_dir(online: None, tmp_path: Path) -> Path:
    """A live job manager without an API key: the bridge needs none."""
    session.configure(session.Config(api_key="", download_dir=tmp_path / "downloads"))
    return tmp_path / "downloads"


def test_a_model_sent_from_the_web_app_lands_in_the_scene(
    empty_scene: bpy.types.Scene, manager_dir: Path, glb_url: str
) -> None:
    server = bridge_glue.start(0, allow_loopback_downloads=True)
    assert bridge_glue.running() is server

    reply = send_to_blender(server.port, glb_url, name="Wooden/Robot\t01")

    manager = session.current_manager()
    assert manager is not None

    def finished() -> bool:
        job = manager.get(reply["id"])
        return job is not None and job.state.is_final

    assert pump.run_until(finished, timeout=WAIT_S)
    job = manager.get(reply["id"])
    assert job is not None
    assert (job.state, job.kind, job.name) == (JobState.IMPORTED, JOB_KIND, "Wooden_Robot01")
    assert Path(job.files["model"]).parent == manager_dir / job.id
    collection = empty_scene.collection.children["Meshy"].children["Wooden_Robot01"]
    meshes = [obj for obj in collection.all_objects if obj.type == "MESH"]
    assert meshes, "the received model's mesh is in Meshy/<name>"
    assert all(obj.get("meshy_job_id") == job.id for obj in collection.all_objects)
    assert sorted(job.imported_objects) == sorted(obj.name for obj in collection.all_objects)


def test_a_failed_download_is_reported_and_adds_no_job(manager_dir: Path, sandbox: Any) -> None:
    server = bridge_glue.start(0, allow_loopback_downloads=True)

    send_to_blender(server.port, f"{sandbox.url}/assets/none/model.glb?expires=1&sig=00", name="Expired")

    deadline = time.monotonic() + WAIT_S
    while not bridge_glue.failures():
        assert time.monotonic() < deadline, "the failure was never reported"
        time.sleep(0.02)
    assert bridge_glue.failures()[0].startswith("Expired: ")
    assert "expired" in bridge_glue.failures()[0].lower()
    manager = session.current_manager()
    assert manager is not None
    assert manager.jobs() == []


def test_stopping_the_bridge_ends_its_threads(manager_dir: Path) -> None:
    server = bridge_glue.start(0)

    assert bridge_glue.stop() is True
    assert bridge_glue.running() is None
    assert not server.running
    assert not [t for t in threading.enumerate() if t.name.startswith("meshy-bridge")]


def serve_once(url: str, name: str, tmp_path: Path, out: Path | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Run ``meshy bridge --once`` while a thread plays the web app; the exit code and JSON events."""
    events = io.StringIO()

    def web_app() -> None:
        deadline = time.monotonic() + WAIT_S
        while (server := bridge_glue.running()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if server is not None:
            send_to_blender(server.port, url, name=name)

    sender = threading.Thread(target=web_app)
    sender.start()
    code = bridge_glue.serve_bridge(
        0,
        once=True,
        out_blend=out,
        reporter=Reporter(json_mode=True, stdout=events),
        timeout=WAIT_S,
        download_dir=tmp_path / "bridge",
        allow_loopback_downloads=True,
    )
    sender.join(WAIT_S)
    return code, [json.loads(line) for line in events.getvalue().splitlines()]


def test_headless_bridge_once_imports_and_saves(online: None, glb_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bridge.blend"

    code, events = serve_once(glb_url, "Robot", tmp_path, out)

    assert code == 0
    assert [event["event"] for event in events] == ["listening", "imported"]
    assert events[1]["name"] == "Robot"
    assert events[1]["output"] == str(out)
    assert bridge_glue.running() is None
    assert session.current_manager() is None, "the headless run shuts down the manager it made"
    bpy.ops.wm.open_mainfile(filepath=str(out))
    saved = bpy.data.collections["Robot"]
    assert any(obj.type == "MESH" for obj in saved.all_objects)


def test_headless_bridge_once_fails_with_the_download_error(online: None, sandbox: Any, tmp_path: Path) -> None:
    code, events = serve_once(f"{sandbox.url}/assets/none/model.glb?expires=1&sig=00", "Gone", tmp_path)

    assert code == EXIT_NETWORK
    assert [event["event"] for event in events] == ["listening", "error"]
    assert events[1]["exit_code"] == EXIT_NETWORK
    assert "expired" in events[1]["message"]


def test_headless_bridge_on_a_taken_port_says_so(manager_dir: Path) -> None:
    events = io.StringIO()
    with socket.create_server(("127.0.0.1", 0)) as other_program:
        port = other_program.getsockname()[1]
        code = bridge_glue.serve_bridge(port, reporter=Reporter(json_mode=True, stdout=events), timeout=WAIT_S)

    assert code == EXIT_NETWORK
    error = json.loads(events.getvalue())
    assert error["event"] == "error"
    assert f"port {port}" in error["message"]
    assert session.current_manager() is not None, "a manager it did not make is left running"


def test_the_bridge_does_not_start_while_blender_is_offline(manager_dir: Path) -> None:
    preferences = bpy.context.preferences
    assert preferences is not None
    preferences.system.use_online_access = False

    with pytest.raises(OfflineError, match="Allow Online Access"):
        bridge_glue.start(0)
    assert bridge_glue.running() is None


@pytest.fixture
def hostile_url(glb_assets: GlbAssets, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A link to the sandbox's textured model with its first image read from a secret file; the file's marker."""
    secret, marker = secret_file(tmp_path / "private")
    body = naming_a_file(glb_assets.textured.read_bytes(), str(secret))
    with serving_file(body) as url:
        yield url, marker


def test_a_model_naming_a_local_file_is_refused_and_nothing_of_the_file_is_saved(
    empty_scene: bpy.types.Scene, manager_dir: Path, hostile_url: tuple[str, str], tmp_path: Path
) -> None:
    url, marker = hostile_url
    server = bridge_glue.start(0, allow_loopback_downloads=True)
    manager = session.current_manager()
    assert manager is not None

    send_to_blender(server.port, url, name="Hostile")

    def settled() -> bool:
        return bool(bridge_glue.failures()) or any(job.state.is_final for job in manager.jobs())

    assert pump.run_until(settled, timeout=WAIT_S)
    assert [failure.split(": it ")[0] for failure in bridge_glue.failures()] == [
        "Hostile: The model file 'model.glb' was not imported"
    ]
    assert "asks Blender to read a file outside it (images[0].uri = " in bridge_glue.failures()[0]
    assert manager.jobs() == []
    assert list(empty_scene.objects) == []
    saved = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(saved), compress=False)
    assert marker.encode() not in saved.read_bytes()


def test_headless_bridge_once_refuses_a_model_naming_a_local_file(
    online: None, hostile_url: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = hostile_url
    out = tmp_path / "bridge.blend"

    code, events = serve_once(url, "Hostile", tmp_path, out)

    assert code == EXIT_TASK_FAILED
    assert [event["event"] for event in events] == ["listening", "error"]
    assert "asks Blender to read a file outside it" in events[1]["message"]
    assert not out.exists()
