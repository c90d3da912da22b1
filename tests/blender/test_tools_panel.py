"""The Tools panel in real Blender against the sandbox: UV Unwrap, Resize and Convert from its operators."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from fbx_fixtures import animated_rig_fbx
from sandbox_control import Sandbox

from meshy_blender.blender.scene.model_formats import fcurves

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]


def _cube_without_uvs() -> bpy.types.Object:
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    while cube.data.uv_layers:
        cube.data.uv_layers.remove(cube.data.uv_layers[0])
    return cube


def _tools() -> Any:
    return bpy.context.scene.meshy_tools


def test_uv_unwrap_of_the_selected_mesh_comes_back_with_a_uv_layer(meshy: AddonEnv, sandbox: Sandbox) -> None:
    cube = _cube_without_uvs()
    assert not cube.data.uv_layers

    assert bpy.ops.meshy.tool_uv_unwrap() == {"FINISHED"}
    job = meshy.run_job()

    meshes = [obj for obj in meshy.imported(job) if obj.type == "MESH"]
    assert meshes and all(obj.data.uv_layers for obj in meshes)
    assert (job.name, meshes[0]["meshy_kind"]) == ("Cube unwrapped", "uv-unwrap")
    (create,) = sandbox.creates()
    assert create["path"].endswith("/uv-unwrap") and "model_url" in create["fields"]


def test_uv_unwrap_refuses_a_selection_over_40000_faces_with_its_count(meshy: AddonEnv, sandbox: Sandbox) -> None:
    bpy.ops.mesh.primitive_uv_sphere_add(segments=200, ring_count=120)  # 47,600 triangles once exported

    with pytest.raises(RuntimeError, match="The selection has 47,600 faces; Meshy's UV Unwrap takes at most 40,000"):
        bpy.ops.meshy.tool_uv_unwrap()  # an error report raises here, where nothing draws it

    assert meshy.jobs() == []
    assert sandbox.creates() == []


def test_resize_gives_the_selected_mesh_the_asked_height(meshy: AddonEnv) -> None:
    _cube_without_uvs()
    _tools().resize_mode = "HEIGHT"
    _tools().size = 1.8
    _tools().origin_at = "bottom"

    assert bpy.ops.meshy.tool_resize() == {"FINISHED"}
    job = meshy.run_job()

    (mesh,) = [obj for obj in meshy.imported(job) if obj.type == "MESH"]
    assert mesh.dimensions.z == pytest.approx(1.8, rel=1e-5)
    assert job.stages[0].body["resize_height"] == 1.8


def test_convert_of_a_task_saves_a_real_stl_and_says_where(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    meshy.props.prompt = "a vase"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    made = meshy.run_job()
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    _tools().source = "TASK"
    bpy.context.view_layer.objects.active = meshy.imported(made)[0]
    _tools().convert_format = "stl"

    assert bpy.ops.meshy.tool_convert() == {"FINISHED"}
    call = meshy.wait_call("convert")

    assert call.ok, call.error
    task, path = call.result
    assert path == tmp_path / f"{meshy.imported(made)[0]['meshy_name']}.stl"
    (triangles,) = struct.unpack_from("<I", path.read_bytes(), 80)
    assert triangles > 100 and path.stat().st_size == 84 + 50 * triangles
    assert sandbox.creates()[-1]["path"].endswith("/convert")
    assert task.id != made.final_task_id and "model_url" not in sandbox.creates()[-1]["fields"], "nothing uploaded"
    labels = meshy.draw(meshy.module("blender.ui.tools_ui").MESHY_PT_tools).labels()
    shown = "".join(label for label in labels if not label.startswith("Task:"))
    assert shown.replace(" ", "") == f"Saved {path}".replace(" ", ""), "the panel says where the file is"


def test_use_clip_frame_rate_sets_the_scene_only_when_asked_and_keeps_the_timing(
    meshy: AddonEnv, tmp_path: Path
) -> None:
    fbx = animated_rig_fbx(tmp_path)
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    result = meshy.module("blender.scene.importer").import_glb(fbx, job_id="j1", display_name="Walker", tags={})
    scene = bpy.context.scene
    assert _scene_rate(scene) == 24, "the import kept the scene's rate"
    bpy.context.view_layer.objects.active = result.armature
    tools_ui = meshy.module("blender.ui.tools_ui")
    assert "Clip made at 30 fps; the scene runs at 24" in meshy.draw(tools_ui.MESHY_PT_tools).labels()

    assert bpy.ops.meshy.use_clip_frame_rate() == {"FINISHED"}

    assert _scene_rate(scene) == 30
    keys = [key.co.x for curve in fcurves(result.armature.animation_data.action) for key in curve.keyframe_points]
    assert max(keys) - min(keys) == pytest.approx(30, abs=0.01), "one second, one key per frame again"
    assert tools_ui.clip_rate_offer(bpy.context) == (0.0, [])


def _scene_rate(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base
