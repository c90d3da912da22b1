"""Send to Blender with an FBX (animated models): the web app's {url, format, name, frameRate}, in real Blender.

The fixtures are made by Blender's own FBX exporter: an animated armature clip at 30 fps
and a textured mesh whose texture lies outside the download: the FBX names it by its
absolute path and by a relative one that climbs out of the download's folder (``../..``).
That path is a FIFO while the import runs: opening it for reading would be seen by a
watcher thread (and unblocked by it), so "never read" is observed, not assumed.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bpy
import pytest
from fbx_fixtures import animated_rig_fbx, textured_fbx
from local_server import serving_file
from web_app import ORIGIN, WAIT_S

from meshy_blender.blender import bridge_glue, pump, session
from meshy_blender.blender.scene import importer
from meshy_blender.blender.scene.model_formats import FRAME_RATE_PROP, fcurves
from meshy_blender.jobs.model import JobState

#: Run as ``python -c WATCHER FIFO FLAG``: whenever a reader opens FIFO, touch FLAG and let the reader go on (EOF).
WATCHER = """
import os, sys, time
fifo, flag = sys.argv[1], sys.argv[2]
while True:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        time.sleep(0.002)
        continue
    open(flag, "w").close()
    os.close(fd)
"""


@pytest.fixture
def online(tmp_path: Path) -> Iterator[Path]:
    preferences = bpy.context.preferences
    was = preferences.system.use_online_access
    preferences.system.use_online_access = True
    session.configure(session.Config(api_key="", download_dir=tmp_path / "downloads", library_dir=tmp_path / "library"))
    yield tmp_path / "downloads"
    bridge_glue.stop()
    session.shutdown()
    preferences.system.use_online_access = was


def _send(port: int, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The web app's "Send to Blender" with its whole body: {url, format, name, frameRate}."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_S)
    try:
        headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
        connection.request("POST", "/import", json.dumps(fields), headers)
        response = connection.getresponse()
        return response.status, dict(json.loads(response.read()))
    finally:
        connection.close()


def _receive(body: bytes, **fields: Any) -> Any:
    """Serve ``body``, send it to the bridge with ``fields``, pump until its job ends; the job."""
    server = bridge_glue.start(0, allow_loopback_downloads=True)
    manager = session.current_manager()
    with serving_file(body, "model") as url:
        status, reply = _send(server.port, {"url": url, **fields})
        assert status == 200, reply
        assert pump.run_until(
            lambda: (job := manager.get(reply["id"])) is not None and job.state.is_final, timeout=WAIT_S
        )
    return manager.get(reply["id"])


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_animated_fbx_in_a_zip_arrives_with_its_clip_at_the_scene_rate(online: Path, tmp_path: Path) -> None:
    fbx = animated_rig_fbx(tmp_path)
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    scene = bpy.context.scene
    assert (scene.render.fps, scene.render.fps_base) == (24, 1.0)

    job = _receive(_zip({"walker/walker.fbx": fbx.read_bytes()}), format="fbx", name="Walker", frameRate=30)

    assert job.state is JobState.IMPORTED, job.message
    assert Path(job.files["model"]).suffix == ".fbx"
    collection = scene.collection.children["Meshy"].children["Walker"]
    armature = next(obj for obj in collection.all_objects if obj.type == "ARMATURE")
    action = armature.animation_data.action
    assert action is not None and action[FRAME_RATE_PROP] == 30
    keys = [key.co.x for curve in fcurves(action) for key in curve.keyframe_points]
    assert max(keys) - min(keys) == pytest.approx(24, abs=0.5), "one second at the scene's 24 fps"
    assert (scene.render.fps, scene.render.fps_base) == (24, 1.0), "the import kept the scene's frame rate"
    assert "animation made at 30 fps, this scene runs at 24 fps" in job.message


def test_an_fbx_naming_a_texture_outside_the_download_never_opens_it(online: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    texture = private / "secret.png"
    exported = tmp_path / "x" / "y"  # as deep as the download's folder, downloads/<id>: ../../private/secret.png
    exported.mkdir(parents=True)
    fbx = textured_fbx(exported, texture)
    assert str(texture).encode() in fbx.read_bytes(), "the exporter named the texture by its absolute path"
    assert b"../../private/secret.png" in fbx.read_bytes(), "and by a path climbing out of the FBX's folder"
    texture.unlink()
    os.mkfifo(texture)  # opening it for reading blocks until the watcher answers: seen, never assumed
    seen = tmp_path / "opened"
    # A process, not a thread: a reader blocked in open() inside Blender's C code holds the GIL.
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(texture), str(seen)])
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    try:
        job = _receive(fbx.read_bytes(), format="fbx", name="Painted")
    finally:
        watcher.terminate()
        watcher.wait(5)

    assert not seen.exists(), "the texture outside the download was opened"
    assert job.state is JobState.IMPORTED, job.message
    assert "1 texture(s) named files outside the download and were not read (secret.png)" in job.message
    assert not [image for image in bpy.data.images if "secret" in image.filepath]
    meshes = [obj for obj in bpy.data.objects if obj.type == "MESH"]
    assert meshes and meshes[0].get("meshy_job_id") == job.id


def test_an_fbx_with_its_texture_is_kept_in_the_library_and_imports_from_there_textured(
    online: Path, tmp_path: Path
) -> None:
    made = tmp_path / "made"
    made.mkdir()
    fbx = textured_fbx(made, made / "wood.png")
    archive = _zip({"chair/chair.fbx": fbx.read_bytes(), "chair/wood.png": (made / "wood.png").read_bytes()})
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)

    job = _receive(archive, format="fbx", name="Chair")

    assert job.state is JobState.IMPORTED, job.message
    entry = session.current_library().get(job.id)
    assert entry is not None, "the web app's FBX is kept in the library like any result"
    assert entry.model_path.suffix == ".fbx" and (entry.model_path.parent / "wood.png").is_file()
    shutil.rmtree(tmp_path / "downloads")  # the library's copy stands alone
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    result = importer.import_glb(entry.model_path, job_id=entry.id, display_name=entry.name, tags={}, evaluate=False)
    textures = [image for image in bpy.data.images if image.filepath]
    assert result.objects and [Path(bpy.path.abspath(image.filepath)).name for image in textures] == ["wood.png"]
    assert all(Path(bpy.path.abspath(image.filepath)).parent == entry.model_path.parent for image in textures)
