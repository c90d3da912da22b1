"""Every kind of generation, started with the add-on's operators in real Blender, against the sandbox.

Each test runs the operator through ``bpy.ops`` as a button would, drives the pump until
the job is final and checks what the artist gets: objects in ``Meshy > <name>``, tagged
with the job, with their PBR maps wired or their armature and clips, and that no request
ran on Blender's main thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import sandbox_assets
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]


def png(path: Path, rgb: tuple[int, int, int]) -> Path:
    path.write_bytes(sandbox_assets.png_bytes(16, 16, rgb))
    return path


def assert_in_meshy_collection(objects: list[bpy.types.Object], name: str) -> None:
    collection = bpy.data.collections["Meshy"].children[name]
    assert objects
    assert all(collection in obj.users_collection for obj in objects)


def assert_tagged(objects: list[bpy.types.Object], job: Any, kind: str, prompt: str | None) -> None:
    for obj in objects:
        assert obj["meshy_job_id"] == job.id
        assert obj["meshy_task_id"] == job.final_task_id
        assert obj["meshy_kind"] == kind
        assert obj.get("meshy_prompt") == prompt


def assert_pbr_wired(env: AddonEnv, objects: list[bpy.types.Object]) -> None:
    meshes = [obj for obj in objects if obj.type == "MESH"]
    report = env.module("blender.scene.materials").material_report(meshes)
    assert report.materials
    assert report.missing(pbr=True) == []


def assert_network_off_main_thread(env: AddonEnv) -> None:
    assert env.network, "the add-on made no request at all"
    assert not [call for call in env.network if call.on_main_thread]


def creates_of(sandbox: Sandbox, resource: str) -> list[dict[str, Any]]:
    return [request for request in sandbox.creates() if request["path"].endswith(resource)]


def test_text_preview_only(meshy: AddonEnv, sandbox: Sandbox) -> None:
    meshy.props.prompt = "a wooden chair"
    meshy.props.refine = False
    assert bpy.ops.meshy.generate_text() == {"FINISHED"}

    job = meshy.run_job()
    objects = meshy.imported(job)
    assert [stage.body["mode"] for stage in job.stages] == ["preview"]
    assert_in_meshy_collection(objects, "a wooden chair")
    assert_tagged(objects, job, "text", "a wooden chair")
    assert any(obj.name == "a wooden chair" for obj in objects)
    assert len(creates_of(sandbox, "/text-to-3d")) == 1
    assert_network_off_main_thread(meshy)


def test_text_preview_then_refine_with_pbr(meshy: AddonEnv, sandbox: Sandbox) -> None:
    meshy.props.prompt = "a bronze vase"
    meshy.props.refine = True
    meshy.props.text_texture.enable_pbr = True
    bpy.ops.meshy.generate_text()

    job = meshy.run_job()
    objects = meshy.imported(job)
    preview, refine = job.stages
    assert refine.body["mode"] == "refine"
    assert refine.body["preview_task_id"] == preview.task_id
    assert refine.body["enable_pbr"] is True
    assert_in_meshy_collection(objects, "a bronze vase")
    assert_tagged(objects, job, "text", "a bronze vase")
    assert_pbr_wired(meshy, objects)
    assert len(creates_of(sandbox, "/text-to-3d")) == 2
    assert_network_off_main_thread(meshy)


def test_image_from_file(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    item = meshy.props.images.add()
    item.filepath = str(png(tmp_path / "red_teapot.png", (200, 40, 40)))
    bpy.ops.meshy.generate_image()

    job = meshy.run_job()
    objects = meshy.imported(job)
    assert job.kind == "image"
    assert job.stages[0].body["image_url"] == item.filepath
    assert_in_meshy_collection(objects, "red_teapot")
    assert_tagged(objects, job, "image", None)
    assert_pbr_wired(meshy, objects)
    assert len(creates_of(sandbox, "/image-to-3d")) == 1
    assert_network_off_main_thread(meshy)


def test_image_made_in_blender_is_saved_next_to_the_job(meshy: AddonEnv, tmp_path: Path) -> None:
    painted = bpy.data.images.new("Painted sketch", 8, 8)
    painted.generated_color = (0.1, 0.6, 0.2, 1.0)
    meshy.props.images.add().image = painted
    bpy.ops.meshy.generate_image()

    job = meshy.run_job()
    saved = Path(job.stages[0].body["image_url"])
    assert saved == tmp_path / "downloads" / job.id / "image-1.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert meshy.imported(job)


def test_multi_image(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
    for index, rgb in enumerate(colours):
        meshy.props.images.add().filepath = str(png(tmp_path / f"robot_{index}.png", rgb))
    bpy.ops.meshy.generate_image()

    job = meshy.run_job()
    objects = meshy.imported(job)
    assert job.kind == "multi-image"
    assert len(job.stages[0].body["image_urls"]) == 3
    assert_in_meshy_collection(objects, "robot_0")
    assert_tagged(objects, job, "multi-image", None)
    assert len(creates_of(sandbox, "/multi-image-to-3d")) == 1
    assert_network_off_main_thread(meshy)


def add_selected_cube(name: str) -> bpy.types.Object:
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    cube = bpy.context.active_object
    assert cube is not None
    cube.name = name
    return cube


def test_rig_selected_mesh_then_animate_it(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    add_selected_cube("Hero")
    meshy.props.height_meters = 1.8
    bpy.ops.meshy.rig_selected()

    rig_job = meshy.run_job()
    assert rig_job.stages[0].body["height_meters"] == 1.8
    uploaded = Path(rig_job.stages[0].body["model_url"])
    assert uploaded == tmp_path / "downloads" / rig_job.id / "selection.glb"
    assert uploaded.read_bytes()[:4] == b"glTF"
    objects = meshy.imported(rig_job)
    assert_in_meshy_collection(objects, "Hero rigged")
    assert_tagged(objects, rig_job, "rig", None)
    armatures = [obj for obj in objects if obj.type == "ARMATURE"]
    assert len(armatures) == 1
    assert {"walking", "running"} <= set(bpy.data.actions.keys())
    assert armatures[0].animation_data.action.name in ("walking", "running")

    # The imported character is selected and active: animate it with the ticked action.
    bpy.ops.meshy.action_toggle(action_id=13)
    assert bpy.ops.meshy.animate_selected.poll()
    bpy.ops.meshy.animate_selected()
    animate_job = meshy.run_job()
    assert animate_job.stages[0].body == {"rig_task_id": rig_job.final_task_id, "action_id": 13}
    assert animate_job.name == "Hero rigged Jump_Run"
    animated = meshy.imported(animate_job)
    assert_tagged(animated, animate_job, "animate", None)
    armature = next(obj for obj in animated if obj.type == "ARMATURE")
    assert armature.animation_data is not None and armature.animation_data.action is not None
    assert len(creates_of(sandbox, "/rigging")) == 1
    assert len(creates_of(sandbox, "/animations")) == 1
    assert_network_off_main_thread(meshy)


def test_animate_a_finished_rig_job_from_its_row(meshy: AddonEnv) -> None:
    add_selected_cube("Runner")
    bpy.ops.meshy.rig_selected()
    rig_job = meshy.run_job()

    meshy.props.custom_action_id = 42
    bpy.ops.meshy.action_add_id()
    bpy.ops.meshy.job_animate(job_id=rig_job.id)
    job = meshy.run_job()
    assert job.stages[0].body == {"rig_task_id": rig_job.final_task_id, "action_id": 42}
    assert job.name == "Runner rigged Gentlemans_Bow"
    assert any(obj.type == "ARMATURE" for obj in meshy.imported(job))


def test_retexture_selected_mesh(meshy: AddonEnv, sandbox: Sandbox) -> None:
    add_selected_cube("Crate")
    meshy.props.style_prompt = "rusty sci-fi metal"
    bpy.ops.meshy.retexture_selected()

    job = meshy.run_job()
    objects = meshy.imported(job)
    assert job.kind == "retexture"
    assert job.stages[0].body["text_style_prompt"] == "rusty sci-fi metal"
    assert_in_meshy_collection(objects, "rusty sci-fi metal")
    assert_tagged(objects, job, "retexture", "rusty sci-fi metal")
    assert_pbr_wired(meshy, objects)
    assert len(creates_of(sandbox, "/retexture")) == 1
    assert_network_off_main_thread(meshy)


def test_results_land_at_the_3d_cursor_or_the_origin(meshy: AddonEnv) -> None:
    bpy.context.scene.cursor.location = (2.0, 3.0, 0.0)
    meshy.props.prompt = "a lamp"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    at_cursor = meshy.run_job()
    meshy.prefs.place_at_cursor = False
    meshy.props.prompt = "a stool"
    bpy.ops.meshy.generate_text()
    at_origin = meshy.run_job()

    def roots(job: Any) -> list[bpy.types.Object]:
        objects = meshy.imported(job)
        return [obj for obj in objects if obj.parent not in objects]

    assert all(tuple(root.location)[:2] == (2.0, 3.0) for root in roots(at_cursor))
    assert all(tuple(root.location)[:2] == (0.0, 0.0) for root in roots(at_origin))


def test_rig_a_finished_job_by_its_task(meshy: AddonEnv, sandbox: Sandbox) -> None:
    meshy.props.prompt = "a knight in a-pose"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    model = meshy.run_job()

    bpy.ops.meshy.job_rig(job_id=model.id)
    rig = meshy.run_job()
    assert rig.stages[0].body == {"input_task_id": model.final_task_id, "height_meters": 1.7}
    assert rig.name == "a knight in a-pose rigged"
    assert any(obj.type == "ARMATURE" for obj in meshy.imported(rig))
    assert len(creates_of(sandbox, "/rigging")) == 1


def test_retexture_selected_mesh_with_a_style_image(meshy: AddonEnv, tmp_path: Path) -> None:
    add_selected_cube("Barrel")
    meshy.props.style_image = str(png(tmp_path / "moss.png", (30, 120, 30)))
    meshy.props.retexture_pbr = False
    bpy.ops.meshy.retexture_selected()

    job = meshy.run_job()
    assert job.stages[0].body["image_style_url"] == meshy.props.style_image
    assert "text_style_prompt" not in job.stages[0].body
    assert job.name == "Barrel retextured"
    assert meshy.imported(job)


def test_cancel_all_stops_every_running_job(meshy: AddonEnv, sandbox: Sandbox) -> None:
    sandbox.configure(task_seconds=30.0)
    for prompt in ("a chair", "a table"):
        meshy.props.prompt = prompt
        bpy.ops.meshy.generate_text()
    assert bpy.ops.meshy.cancel_all() == {"FINISHED"}
    assert [job.state.value for job in meshy.run_jobs(timeout=10)] == ["canceled", "canceled"]
