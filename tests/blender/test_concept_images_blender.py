"""Concept Images in real Blender: pictures from the panel's operators, the gallery, Make 3D chained on Meshy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import sandbox_assets
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def concept_props() -> Any:
    return bpy.context.scene.meshy_concept


def test_four_views_show_in_the_gallery_and_make_one_model_without_uploading(meshy: AddonEnv, sandbox: Sandbox) -> None:
    props = concept_props()
    props.prompt = "a brave knight"
    props.multi_view = True
    assert bpy.ops.meshy.concept_generate() == {"FINISHED"}

    concept = meshy.run_jobs()[0]
    assert concept.state.value == "done", (concept.state, concept.error)
    assert props.job_id == concept.id
    pictures = [Path(concept.files[f"image_{number}"]) for number in range(1, 5)]
    contents = [path.read_bytes() for path in pictures]
    assert all(data.startswith(PNG_SIGNATURE) for data in contents)
    assert len(set(contents)) == 4, "the four views are four different pictures"
    assert not meshy.imported(concept), "pictures are never imported as a model"

    layout = meshy.draw(meshy.module("blender.ui.concept.panel").MESHY_PT_concept)
    assert len([call for call in layout.calls if call[0] == "template_icon"]) == 4
    icons = meshy.module("blender.ui.icons")
    loaded = icons.loaded_thumbnails()
    previews = [icons._thumbnails[loaded[str(path)]] for path in pictures]
    assert [tuple(preview.image_size) for preview in previews] == [(256, 256)] * 4  # Blender read each picture

    assert bpy.ops.meshy.concept_make_3d() == {"FINISHED"}
    model = meshy.run_job()
    assert model.stages[0].kind.name == "MULTI_IMAGE_TO_3D"
    assert model.stages[0].body["input_task_id"] == concept.final_task_id
    assert [obj for obj in meshy.imported(model) if obj.type == "MESH"]
    (create,) = [r for r in sandbox.creates() if r["path"].endswith("/multi-image-to-3d")]
    assert create["fields"] == ["enable_pbr", "input_task_id", "should_texture"]
    assert create["body_bytes"] < 200, "no picture was uploaded"

    assert bpy.ops.meshy.concept_load_images(job_id=concept.id) == {"FINISHED"}
    loaded_files = {Path(bpy.path.abspath(image.filepath)) for image in bpy.data.images}
    assert set(pictures) <= loaded_files


def test_one_view_of_a_set_is_sent_as_an_image(meshy: AddonEnv, tmp_path: Path) -> None:
    ops = meshy.module("blender.ui.concept.operators")
    plans = meshy.module("jobs.plans")
    job = plans.concept_job("a lamp", options={"generate_multi_view": True})
    job.state = type(job.state)("done")
    for number in range(1, 5):
        path = tmp_path / f"image_{number}.png"
        path.write_bytes(sandbox_assets.png_bytes(8, 8, (number * 40, 0, 0)))
        job.files[f"image_{number}"] = str(path)
    assert ops.make_3d_plan(job, 0) == (meshy.module("api.tasks").TaskKind.MULTI_IMAGE_TO_3D, "task")
    assert ops.make_3d_plan(job, 3) == (meshy.module("api.tasks").TaskKind.IMAGE_TO_3D, str(tmp_path / "image_3.png"))


def test_generate_waits_for_a_prompt_and_for_reference_images(meshy: AddonEnv) -> None:
    props = concept_props()
    props.prompt = ""
    assert not bpy.ops.meshy.concept_generate.poll()
    props.prompt = "the same chair, in oak"
    props.source = "IMAGES"
    assert not bpy.ops.meshy.concept_generate.poll()
    assert bpy.ops.meshy.concept_reference_add() == {"FINISHED"}
    props.references[0].filepath = "/somewhere/chair.png"
    assert bpy.ops.meshy.concept_generate.poll()


def test_a_custom_image_model_id_reaches_meshy_as_typed(meshy: AddonEnv) -> None:
    props = concept_props()
    props.prompt = "a lamp"
    props.ai_model = "CUSTOM"
    props.custom_model = ""
    assert not bpy.ops.meshy.concept_generate.poll()
    props.custom_model = "nano-banana-9"
    assert bpy.ops.meshy.concept_generate() == {"FINISHED"}

    concept = meshy.run_jobs()[0]
    assert concept.state.value == "done", (concept.state, concept.error)
    assert concept.stages[0].body["ai_model"] == "nano-banana-9"
