"""Validation follows the model catalogue: retired models and options never leave, new options are checked."""

from __future__ import annotations

from typing import Any

import pytest

from meshy_blender.api.errors import ValidationError
from meshy_blender.api.tasks import TaskKind
from meshy_blender.api.validation import validate

URL = "https://example.com/chair.png"
PREVIEW = {"mode": "preview", "prompt": "a wooden chair"}


def refused(kind: TaskKind, body: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate(kind, body)
    return caught.value


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (TaskKind.TEXT_TO_3D, {**PREVIEW, "ai_model": "meshy-5"}),
        (TaskKind.TEXT_TO_3D, {"mode": "refine", "preview_task_id": "p", "ai_model": "meshy-4"}),
        (TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": [URL], "ai_model": "meshy-5"}),
        (TaskKind.RETEXTURE, {"input_task_id": "t", "text_style_prompt": "gold", "ai_model": "meshy-5"}),
    ],
)
def test_a_retired_model_is_refused_naming_the_replacement(kind: TaskKind, body: dict[str, Any]) -> None:
    error = refused(kind, body)
    assert error.field == "ai_model"
    assert "retired" in str(error) and "instead" in str(error)


def test_models_meshy_offers_today_pass() -> None:
    for model in ("latest", "meshy-7.1", "meshy-7", "meshy-6", "meshy-6-lite"):
        assert validate(TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": [URL], "ai_model": model})["ai_model"] == model


def test_lowpoly_and_is_a_t_pose_are_refused_with_what_replaced_them() -> None:
    lowpoly = refused(TaskKind.TEXT_TO_3D, {**PREVIEW, "model_type": "lowpoly"})
    assert lowpoly.field == "model_type" and "meshy-t2.5" in str(lowpoly)
    pose = refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "is_a_t_pose": True})
    assert pose.field == "is_a_t_pose" and "pose_mode" in str(pose)


def test_smart_topology_sets_its_model_type() -> None:
    body = validate(TaskKind.IMAGE_TO_3D, {"image_url": URL, "ai_model": "meshy-t2.5"})
    assert body["model_type"] == "smart-topology"
    assert refused(TaskKind.TEXT_TO_3D, {**PREVIEW, "ai_model": "meshy-t2", "target_polycount": 30_000}).field == (
        "target_polycount"
    )


def test_new_options_are_checked_and_follow_the_model() -> None:
    body = {
        **PREVIEW,
        "ai_model": "meshy-7.1",
        "geometry_resolution": "4k",
        "decimation_mode": 2,
        "multi_view_thumbnails": True,
        "alpha_thumbnail": True,
    }
    assert validate(TaskKind.TEXT_TO_3D, body) == body
    assert refused(TaskKind.TEXT_TO_3D, {**body, "decimation_mode": 9}).field == "decimation_mode"
    assert refused(TaskKind.TEXT_TO_3D, {**body, "ai_model": "meshy-6"}).field == "geometry_resolution"
    lite = {"image_url": URL, "ai_model": "meshy-6-lite", "texture_resolution": "8k"}
    assert "2k" in str(refused(TaskKind.IMAGE_TO_3D, lite))
    assert validate(TaskKind.IMAGE_TO_3D, {**lite, "texture_resolution": "2k"})["texture_resolution"] == "2k"
    refine = {"mode": "refine", "preview_task_id": "p", "texture_resolution": "8k"}
    assert validate(TaskKind.TEXT_TO_3D, refine) == refine


def test_pre_remeshed_model_needs_remeshing_which_meshy6_does_only_when_asked() -> None:
    asked = {"image_url": URL, "save_pre_remeshed_model": True}
    assert refused(TaskKind.IMAGE_TO_3D, asked).field == "save_pre_remeshed_model"
    assert validate(TaskKind.IMAGE_TO_3D, {**asked, "should_remesh": True})["save_pre_remeshed_model"] is True
    # A model the catalogue does not know: its default is Meshy's to decide, so nothing is refused.
    assert validate(TaskKind.IMAGE_TO_3D, {**asked, "ai_model": "meshy-8"})["ai_model"] == "meshy-8"
