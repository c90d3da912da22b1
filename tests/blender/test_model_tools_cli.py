"""``meshy uv-unwrap``, ``resize`` and ``convert`` run in-process in real Blender against the sandbox.

``command.main`` is what ``blender -c meshy`` and ``python -m meshy_blender`` run; calling
it here keeps the tests fast (no new Blender process) while every request goes over real
HTTP to the sandbox and every result is checked in the scene or file it produced.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import bpy
import pytest
import sandbox_assets
from api_samples import sandbox_client
from mathutils import Vector
from sandbox_control import PAID_KEY

from meshy_blender.api.tasks import TaskKind
from meshy_blender.blender.cli import command

TASK_SECONDS = 0.2


@pytest.fixture
def cli(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``meshy …`` with the paid sandbox key; returns ``run(*argv) -> exit code``."""
    sandbox.configure(task_seconds=TASK_SECONDS)
    monkeypatch.setenv("MESHY_API_KEY", PAID_KEY)
    monkeypatch.setenv("MESHY_BASE_URL", sandbox.url)
    monkeypatch.setenv("MESHY_LIBRARY_DIR", str(tmp_path / "library"))
    monkeypatch.chdir(tmp_path)
    return lambda *argv: command.main(list(argv), module_mode=True)


@pytest.fixture
def finished_task(sandbox: Any) -> str:
    with sandbox_client(sandbox.url, PAID_KEY) as client:
        task_id = client.text_to_3d_preview("a vase")
        client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05)
    return task_id


def _meshes_of(blend: Path) -> list[bpy.types.Object]:
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    return [obj for obj in bpy.data.objects if obj.type == "MESH"]


def _cube_without_uvs(path: Path) -> Path:
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    while cube.data.uv_layers:
        cube.data.uv_layers.remove(cube.data.uv_layers[0])
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=True)
    return path


def test_uv_unwrap_of_a_glb_without_uvs_lands_with_a_uv_layer(cli: Any, tmp_path: Path) -> None:
    model = _cube_without_uvs(tmp_path / "cube.glb")
    assert b"TEXCOORD_0" not in model.read_bytes()

    assert cli("uv-unwrap", "--model", str(model), "-o", str(tmp_path / "out.blend")) == 0

    meshes = _meshes_of(tmp_path / "out.blend")
    assert meshes and all(len(obj.data.uv_layers) >= 1 for obj in meshes)
    assert meshes[0]["meshy_kind"] == "uv-unwrap"


def test_uv_unwrap_over_40000_faces_exits_2_with_the_count_and_sends_nothing(
    cli: Any, sandbox: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dense = tmp_path / "dense.glb"
    dense.write_bytes(sandbox_assets.dense_glb(50_000, 16))

    assert cli("uv-unwrap", "--model", str(dense), "-o", str(tmp_path / "out.glb")) == 2

    assert "The model has 50,176 faces" in capfd.readouterr().err
    assert sandbox.creates() == []
    assert not (tmp_path / "out.glb").exists()


@pytest.mark.parametrize(("origin", "bottom"), [("bottom", 0.0), ("center", -0.9)])
def test_resize_gives_the_asked_height_with_the_origin_where_asked(
    cli: Any, finished_task: str, tmp_path: Path, origin: str, bottom: float
) -> None:
    out = tmp_path / "resized.blend"
    argv = ("resize", "--task-id", finished_task, "--resize-height", "1.8", "--origin-at", origin, "-o", str(out))
    assert cli(*argv) == 0

    (mesh,) = _meshes_of(out)
    corners = [mesh.matrix_world @ Vector(corner) for corner in mesh.bound_box]
    assert mesh.dimensions.z == pytest.approx(1.8, rel=1e-4)
    assert min(corner.z for corner in corners) == pytest.approx(bottom, abs=1e-4)


def test_convert_writes_a_real_stl_and_imports_an_obj_and_an_fbx_into_a_blend(
    cli: Any, finished_task: str, tmp_path: Path
) -> None:
    stl = tmp_path / "vase.stl"
    assert cli("convert", "--task-id", finished_task, "--target-format", "stl", "-o", str(stl)) == 0
    (triangles,) = struct.unpack_from("<I", stl.read_bytes(), 80)
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.ops.wm.stl_import(filepath=str(stl))
    assert len(bpy.context.active_object.data.polygons) == triangles > 100

    for fmt in ("obj", "fbx"):  # the sandbox's FBX is a binary FBX 7.4: Blender's own importer reads it
        out = tmp_path / f"vase-{fmt}.blend"
        assert cli("convert", "--task-id", finished_task, "--target-format", fmt, "-o", str(out)) == 0
        (mesh,) = _meshes_of(out)
        assert len(mesh.data.polygons) == triangles
        assert mesh["meshy_kind"] == "convert" and mesh.data.uv_layers
        assert max(mesh.dimensions) == pytest.approx(1.0, abs=0.01), "in metres, as the GLB"
