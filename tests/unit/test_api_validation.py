"""Every validation rule refuses bad input with a message naming the field (nothing is sent)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from api_samples import JPEG_BYTES, glb_bytes, png_bytes

from meshy_blender.api.errors import ValidationError
from meshy_blender.api.tasks import TaskKind
from meshy_blender.api.validation import MAX_IMAGE_BYTES, image_to_data_uri, validate

URL = "https://example.com/chair.png"


def refused(kind: TaskKind, body: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate(kind, body)
    return caught.value


def preview(**options: Any) -> dict[str, Any]:
    return {"mode": "preview", "prompt": "a wooden chair", **options}


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "chair.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def glb_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.glb"
    path.write_bytes(glb_bytes())
    return path


# -- text fields ----------------------------------------------------------------------


def test_a_good_preview_passes_unchanged() -> None:
    body = preview(topology="quad", target_polycount=30_000, symmetry_mode="auto", pose_mode="", seed=7)
    assert validate(TaskKind.TEXT_TO_3D, body) == body


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompt_is_refused(prompt: str) -> None:
    error = refused(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": prompt})
    assert error.field == "prompt"
    assert "'prompt' is empty" in str(error)


def test_prompt_over_600_characters_is_refused() -> None:
    assert validate(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x" * 600})
    error = refused(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x" * 601})
    assert error.field == "prompt"
    assert "601 characters" in str(error)
    assert "at most 600" in str(error)


def test_missing_prompt_is_refused() -> None:
    assert refused(TaskKind.TEXT_TO_3D, {"mode": "preview"}).field == "prompt"


def test_long_texture_prompt_is_refused() -> None:
    body = {"mode": "refine", "preview_task_id": "p1", "texture_prompt": "y" * 700}
    assert refused(TaskKind.TEXT_TO_3D, body).field == "texture_prompt"


def test_empty_text_style_prompt_is_refused() -> None:
    error = refused(TaskKind.RETEXTURE, {"input_task_id": "t1", "text_style_prompt": ""})
    assert error.field == "text_style_prompt"


def test_non_text_prompt_is_refused() -> None:
    assert refused(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": 42}).field == "prompt"


# -- numbers and enums ----------------------------------------------------------------


@pytest.mark.parametrize("count", [99, 300_001, -1, 0])
def test_polycount_outside_100_to_300000_is_refused(count: int) -> None:
    error = refused(TaskKind.TEXT_TO_3D, preview(target_polycount=count))
    assert error.field == "target_polycount"
    assert "from 100 to 300,000" in str(error)


@pytest.mark.parametrize("count", [100, 300_000])
def test_polycount_bounds_are_inclusive(count: int) -> None:
    assert validate(TaskKind.TEXT_TO_3D, preview(target_polycount=count))["target_polycount"] == count


@pytest.mark.parametrize("count", [30000.0, "30000", True])
def test_polycount_must_be_an_int(count: object) -> None:
    assert refused(TaskKind.TEXT_TO_3D, preview(target_polycount=count)).field == "target_polycount"


def test_unknown_enum_value_lists_the_allowed_ones() -> None:
    error = refused(TaskKind.TEXT_TO_3D, preview(topology="hexagons"))
    assert error.field == "topology"
    assert "'quad', 'triangle'" in str(error)
    assert "'hexagons'" in str(error)


def test_an_ai_model_the_catalogue_does_not_know_is_sent_as_given() -> None:
    body = {"image_url": URL, "ai_model": "meshy-99"}
    assert validate(TaskKind.IMAGE_TO_3D, body) == body
    assert refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "ai_model": " "}).field == "ai_model"


def test_non_boolean_flag_is_refused() -> None:
    assert refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "should_remesh": "yes"}).field == "should_remesh"


@pytest.mark.parametrize("height", [0, -1.7, float("nan"), "1.7"])
def test_height_meters_must_be_positive(height: object) -> None:
    error = refused(TaskKind.RIGGING, {"input_task_id": "t1", "height_meters": height})
    assert error.field == "height_meters"
    assert "greater than 0" in str(error)


@pytest.mark.parametrize("action", [-1, 1.5, "3", True])
def test_action_id_must_be_a_non_negative_int(action: object) -> None:
    assert refused(TaskKind.ANIMATION, {"rig_task_id": "r1", "action_id": action}).field == "action_id"


def test_action_id_zero_is_fine() -> None:
    assert validate(TaskKind.ANIMATION, {"rig_task_id": "r1", "action_id": 0}) == {"rig_task_id": "r1", "action_id": 0}


def test_post_process_is_checked() -> None:
    good = {"rig_task_id": "r1", "action_id": 1, "post_process": {"operation_type": "change_fps", "fps": 30}}
    assert validate(TaskKind.ANIMATION, good) == good
    bad = {**good, "post_process": {"operation_type": "change_fps", "fps": 29}}
    assert refused(TaskKind.ANIMATION, bad).field == "fps"


def test_target_formats_must_be_known() -> None:
    assert validate(TaskKind.REMESH, {"input_task_id": "t", "target_formats": ["glb", "fbx", "glb"]})[
        "target_formats"
    ] == ["glb", "fbx"]
    assert refused(TaskKind.REMESH, {"input_task_id": "t", "target_formats": ["blend"]}).field == "target_formats"
    assert refused(TaskKind.REMESH, {"input_task_id": "t", "target_formats": "glb"}).field == "target_formats"


# -- option names and required inputs ----------------------------------------------


def test_unknown_option_is_named_with_the_task_kind() -> None:
    error = refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "foo": 1})
    assert "unknown option 'foo' for image to 3D" in str(error)
    assert error.field == "foo"


def test_preview_only_option_is_unknown_for_refine() -> None:
    error = refused(TaskKind.TEXT_TO_3D, {"mode": "refine", "preview_task_id": "p", "topology": "quad"})
    assert "unknown option 'topology' for text to 3D refine" in str(error)


def test_none_options_count_as_not_given() -> None:
    assert validate(TaskKind.TEXT_TO_3D, preview(seed=None)) == preview()


def test_refine_without_preview_id_is_refused() -> None:
    error = refused(TaskKind.TEXT_TO_3D, {"mode": "refine", "enable_pbr": True})
    assert error.field == "preview_task_id"
    assert "preview" in str(error)


def test_unknown_mode_is_refused() -> None:
    assert refused(TaskKind.TEXT_TO_3D, {"mode": "draft", "prompt": "x"}).field == "mode"


def test_retexture_needs_a_model() -> None:
    error = refused(TaskKind.RETEXTURE, {"text_style_prompt": "rusty metal"})
    assert "Retexture needs exactly one model" in str(error)


def test_retexture_needs_a_style() -> None:
    error = refused(TaskKind.RETEXTURE, {"input_task_id": "t1"})
    assert "Retexture needs a style" in str(error)


def test_rigging_takes_exactly_one_model_source(glb_file: Path) -> None:
    assert refused(TaskKind.RIGGING, {}).field == "model_url"
    assert refused(TaskKind.RIGGING, {"input_task_id": "t", "model_url": str(glb_file)}).field == "model_url"


def test_animation_needs_rig_and_action() -> None:
    assert refused(TaskKind.ANIMATION, {"action_id": 1}).field == "rig_task_id"
    assert refused(TaskKind.ANIMATION, {"rig_task_id": "r"}).field == "action_id"


def test_enable_pbr_without_should_texture_is_refused() -> None:
    error = refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "should_texture": False, "enable_pbr": True})
    assert error.field == "enable_pbr"
    assert "should_texture" in str(error)
    assert validate(TaskKind.IMAGE_TO_3D, {"image_url": URL, "enable_pbr": True})  # texturing is on by default


def test_texture_prompt_without_texturing_is_refused() -> None:
    body = {"image_urls": [URL], "should_texture": False, "texture_prompt": "gold"}
    assert refused(TaskKind.MULTI_IMAGE_TO_3D, body).field == "texture_prompt"


def test_image_to_3d_needs_exactly_one_input() -> None:
    assert refused(TaskKind.IMAGE_TO_3D, {}).field == "image_url"
    assert refused(TaskKind.IMAGE_TO_3D, {"image_url": URL, "input_task_id": "t"}).field == "image_url"


# -- images ---------------------------------------------------------------------------


def test_local_png_becomes_a_png_data_uri(png_file: Path) -> None:
    uri = validate(TaskKind.IMAGE_TO_3D, {"image_url": str(png_file)})["image_url"]
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png_bytes()


def test_jpeg_is_recognised_by_its_bytes_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(JPEG_BYTES)
    assert image_to_data_uri(path).startswith("data:image/jpeg;base64,")


def test_text_file_named_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("just some text")
    error = refused(TaskKind.IMAGE_TO_3D, {"image_url": path})
    assert error.field == "image_url"
    assert "'notes.png' is not a PNG or JPEG image" in str(error)


def test_missing_image_file_is_refused(tmp_path: Path) -> None:
    error = refused(TaskKind.IMAGE_TO_3D, {"image_url": str(tmp_path / "gone.png")})
    assert "not found" in str(error)
    assert "gone.png" in str(error)


def test_huge_image_is_refused_with_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as file:
        file.write(png_bytes())
        file.truncate(MAX_IMAGE_BYTES + 1)
    error = refused(TaskKind.IMAGE_TO_3D, {"image_url": path})
    assert "20.0 MB" in str(error)
    assert "huge.png" in str(error)


def test_urls_pass_through() -> None:
    assert validate(TaskKind.IMAGE_TO_3D, {"image_url": URL})["image_url"] == URL
    assert validate(TaskKind.IMAGE_TO_3D, {"image_url": "http://example.com/a.jpg"})["image_url"]


def test_other_url_schemes_are_refused() -> None:
    assert refused(TaskKind.IMAGE_TO_3D, {"image_url": "ftp://example.com/a.png"}).field == "image_url"


def test_valid_data_uri_passes_through() -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(JPEG_BYTES).decode()
    assert validate(TaskKind.IMAGE_TO_3D, {"image_url": uri})["image_url"] == uri


def test_data_uri_with_the_wrong_bytes_is_refused() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"hello, not an image").decode()
    assert "not a PNG or JPEG image" in str(refused(TaskKind.IMAGE_TO_3D, {"image_url": uri}))
    mislabelled = "data:image/png;base64," + base64.b64encode(JPEG_BYTES).decode()
    assert "says it is image/png" in str(refused(TaskKind.IMAGE_TO_3D, {"image_url": mislabelled}))


def test_data_uri_of_another_type_or_broken_base64_is_refused() -> None:
    gif = "data:image/gif;base64," + base64.b64encode(b"GIF89a").decode()
    assert "image/gif" in str(refused(TaskKind.IMAGE_TO_3D, {"image_url": gif}))
    assert "damaged" in str(refused(TaskKind.IMAGE_TO_3D, {"image_url": "data:image/png;base64,@@@"}))
    assert "base64" in str(refused(TaskKind.IMAGE_TO_3D, {"image_url": "data:image/png,raw"}))


@pytest.mark.parametrize("count", [0, 5])
def test_multi_image_needs_one_to_four_images(count: int) -> None:
    error = refused(TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": [URL] * count})
    assert error.field == "image_urls"
    assert f"got {count}" in str(error)


def test_multi_image_converts_every_local_file(png_file: Path, tmp_path: Path) -> None:
    jpeg = tmp_path / "side.jpg"
    jpeg.write_bytes(JPEG_BYTES)
    images = validate(TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": [png_file, str(jpeg), URL]})["image_urls"]
    assert [image[:15] for image in images] == ["data:image/png;", "data:image/jpeg", URL[:15]]


def test_texture_image_is_checked_like_an_image(tmp_path: Path) -> None:
    path = tmp_path / "style.jpg"
    path.write_text("not a picture")
    body = {"mode": "refine", "preview_task_id": "p", "texture_image_url": str(path)}
    assert refused(TaskKind.TEXT_TO_3D, body).field == "texture_image_url"


# -- models ---------------------------------------------------------------------------


def test_glb_file_becomes_an_octet_stream_data_uri(glb_file: Path) -> None:
    uri = validate(TaskKind.RIGGING, {"model_url": glb_file})["model_url"]
    assert uri.startswith("data:application/octet-stream;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == glb_bytes()


def test_glb_bytes_are_accepted() -> None:
    assert validate(TaskKind.REMESH, {"model_url": glb_bytes()})["model_url"].startswith("data:application/")


def test_rigging_refuses_a_model_that_is_not_glb(tmp_path: Path) -> None:
    path = tmp_path / "body.glb"
    path.write_bytes(b"Kaydara FBX Binary  \x00" + bytes(64))
    error = refused(TaskKind.RIGGING, {"model_url": path})
    assert error.field == "model_url"
    assert "Rigging needs a GLB model" in str(error)


def test_glb_data_uri_is_checked() -> None:
    good = "data:application/octet-stream;base64," + base64.b64encode(glb_bytes()).decode()
    assert validate(TaskKind.RIGGING, {"model_url": good})["model_url"] == good
    bad = "data:application/octet-stream;base64," + base64.b64encode(b"solid cube\nendsolid").decode()
    assert "GLB" in str(refused(TaskKind.RIGGING, {"model_url": bad}))


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    assert "not found" in str(
        refused(TaskKind.RETEXTURE, {"model_url": str(tmp_path / "x.glb"), "text_style_prompt": "a"})
    )


def test_model_url_passes_through() -> None:
    body = {"model_url": "https://example.com/m.glb", "text_style_prompt": "gold"}
    assert validate(TaskKind.RETEXTURE, body) == body
