"""The headless command's arguments and the requests they build (no bpy, no network)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from api_samples import glb_bytes, png_bytes

from meshy_blender import cli_args
from meshy_blender.api.errors import ValidationError
from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs import specs


def parse(*argv: str) -> argparse.Namespace:
    return cli_args.build_parser().parse_args(list(argv))


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as raised:
        parse(*argv)
    assert raised.value.code == 2
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps help to the terminal width, even at hyphens


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as raised:
        parse(*argv, "--help")
    assert raised.value.code == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "view.png"
    path.write_bytes(png_bytes())
    return path


@pytest.mark.parametrize("kind", specs.KINDS)
def test_help_of_each_generation_command_documents_every_option(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    text = help_text(capsys, kind)
    for name in specs.OPTIONS[kind]:
        field = specs.FIELDS[name]
        assert "--" + name.replace("_", "-") in text
        assert field.help in text
        for choice in field.choices:
            assert str(choice) in text
    for common in ("--api-key", "--base-url", "--json", "--timeout", "--output", "MESHY_API_KEY", "Exit codes"):
        assert common in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("batch", "--help"), ("--out-dir", "--concurrency", "rig_of", ".meshy-batch-jobs", "--shard K/N", "assemble")),
        (("assemble", "--help"), ("DIR", "-o FILE.blend", "batch.blend", "Exit codes")),
        (("tasks", "list", "--help"), ("--kind", "--page", "--page-size", "--sort")),
        (("tasks", "delete", "--help"), ("TASK_ID", "--kind")),
        (("balance", "--help"), ("--api-key", "--json")),
    ],
)
def test_help_of_the_other_commands(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: tuple) -> None:
    with pytest.raises(SystemExit):
        parse(*argv)
    text = capsys.readouterr().out
    for item in expected:
        assert item in text


def test_options_become_api_fields_with_their_types() -> None:
    args = parse(
        "text-to-3d", "--prompt", "a chair", "--refine", "--enable-pbr", "--target-polycount", "5000",
        "--should-remesh", "--no-moderation", "--target-formats", "glb", "fbx", "--pose-mode", "t-pose",
        "--ai-model", "meshy-8", "--texture-prompt", "oak", "-o", "chair.blend",
    )  # fmt: skip
    assert cli_args.request_values(args) == {
        "prompt": "a chair",
        "refine": True,
        "enable_pbr": True,
        "target_polycount": 5000,
        "should_remesh": True,
        "moderation": False,
        "target_formats": ["glb", "fbx"],
        "pose_mode": "t-pose",
        "ai_model": "meshy-8",  # any id: one the catalogue does not know is sent as given
        "texture_prompt": "oak",
    }
    assert args.output == "chair.blend"
    assert args.timeout == cli_args.DEFAULT_TIMEOUT_S


def test_options_not_given_are_not_sent() -> None:
    args = parse("image-to-3d", "photo.png", "-o", "out.glb")
    assert cli_args.request_values(args) == {"images": ["photo.png"]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("text-to-3d", "-o", "x.glb"), "--prompt"),
        (("text-to-3d", "--prompt", "p"), "--output"),
        (("text-to-3d", "--prompt", "p", "--topology", "hexagon", "-o", "x.glb"), "invalid choice"),
        (("text-to-3d", "--prompt", "p", "--target-polycount", "many", "-o", "x.glb"), "invalid int"),
        (("text-to-3d", "--prompt", "p", "--target-formats", "glb", "dwg", "-o", "x.glb"), "invalid choice"),
        (("rig", "-o", "x.glb"), "one of the arguments --model --task-id is required"),
        (("rig", "--model", "a.glb", "--task-id", "t", "-o", "x.glb"), "not allowed with"),
        (("retexture", "--task-id", "t", "-o", "x.glb"), "--text-style-prompt --image-style-url"),
        (("animate", "--rig-task-id", "r", "-o", "x.glb"), "--action-id"),
        (("animate", "--rig-task-id", "r", "--action-id", "1", "--fps", "23", "-o", "x.glb"), "invalid choice"),
        (("batch", "m.jsonl", "--out-dir", "d", "--concurrency", "0"), "at least 1"),
        (("batch", "m.jsonl"), "--out-dir"),
        (("tasks", "get", "--kind", "rigging"), "TASK_ID"),
        (("tasks", "list", "--kind", "sculpting"), "invalid choice"),
        (("text-to-3d", "--prompt", "p", "--timeout", "0", "-o", "x.glb"), "positive"),
        (("make-it-so",), "invalid choice"),
        (("batch", "m.csv", "--out-dir", "o", "--shard", "0/3"), "K must be from 1 to N"),
        (("batch", "m.csv", "--out-dir", "o", "--shard", "4/3"), "K must be from 1 to N"),
        (("batch", "m.csv", "--out-dir", "o", "--shard", "3"), "must be K/N"),
        (("batch", "m.csv", "--out-dir", "o", "--max-credits", "-5"), "0 or more"),
        (("assemble", "-o", "all.blend"), "required"),
    ],
)
def test_usage_errors_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert message in usage_error(capsys, *argv)


def test_tasks_options_and_sort_orders() -> None:
    args = parse("tasks", "list", "--kind", "rigging", "--page", "2", "--page-size", "50", "--sort=-created_at")
    assert (args.kind, args.page, args.page_size, cli_args.SORT_ORDERS[args.sort]) == ("rigging", 2, 50, "-created_at")
    assert TaskKind.from_name(args.kind) is TaskKind.RIGGING
    assert cli_args.SORT_ORDERS[parse("tasks", "list", "--sort", "oldest").sort] == "+created_at"
    for kind in cli_args.TASK_KINDS:
        TaskKind.from_name(kind)  # every choice names a real task kind


def test_batch_defaults() -> None:
    args = parse("batch", "m.csv", "--out-dir", "out")
    assert (args.shard, args.max_credits, args.timeout) == ((1, 1), None, cli_args.DEFAULT_BATCH_TIMEOUT_S)
    assert cli_args.batch_concurrency(args) == cli_args.DEFAULT_ACCOUNT_QUEUE


def test_a_shard_shares_the_account_queue() -> None:
    assert cli_args.batch_concurrency(parse("batch", "m.csv", "--out-dir", "o", "--shard", "2/3")) == 3
    many = parse("batch", "m.csv", "--out-dir", "o", "--shard", "7/40", "--account-queue", "20")
    assert (many.shard, cli_args.batch_concurrency(many)) == ((7, 40), 1)
    given = parse("batch", "m.csv", "--out-dir", "o", "--shard", "1/2", "--concurrency", "8")
    assert cli_args.batch_concurrency(given) == 8


# -- requests built from the values ------------------------------------------------------


def test_text_request_splits_options_between_preview_and_refine() -> None:
    values = {"prompt": "a chair", "refine": True, "enable_pbr": True, "target_polycount": 5000, "ai_model": "meshy-6"}
    job = specs.build_job("text-to-3d", values)
    preview, refine = job.stages
    assert preview.body == {"mode": "preview", "prompt": "a chair", "target_polycount": 5000, "ai_model": "meshy-6"}
    assert refine.body == {"mode": "refine", "enable_pbr": True, "ai_model": "meshy-6"}
    assert refine.link_field == "preview_task_id"


def test_refine_options_need_refine() -> None:
    with pytest.raises(ValidationError, match=r"enable_pbr.*refine"):
        specs.build_job("text-to-3d", {"prompt": "a chair", "enable_pbr": True})


def test_target_formats_must_keep_glb() -> None:
    with pytest.raises(ValidationError, match="glb"):
        specs.build_job("text-to-3d", {"prompt": "a chair", "target_formats": ["fbx"]})


def test_fields_of_another_kind_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"height_meters.*text-to-3d"):
        specs.build_job("text-to-3d", {"prompt": "a chair", "height_meters": 2.0})


def test_image_requests_count_their_images(png: Path) -> None:
    assert specs.build_job("image-to-3d", {"images": [str(png)]}).stages[0].kind is TaskKind.IMAGE_TO_3D
    assert specs.build_job("multi-image-to-3d", {"images": [str(png)] * 4}).stages[0].kind is (
        TaskKind.MULTI_IMAGE_TO_3D
    )
    with pytest.raises(ValidationError, match="one image"):
        specs.build_job("image-to-3d", {"images": [str(png)] * 2})
    with pytest.raises(ValidationError) as too_many:
        specs.build_job("multi-image-to-3d", {"images": [str(png)] * 5})
    assert "4" in str(too_many.value) and "5" in str(too_many.value)  # the limit and what was given


def test_missing_and_wrong_files_are_refused_before_sending(tmp_path: Path, png: Path) -> None:
    with pytest.raises(ValidationError, match="not found"):
        specs.build_job("image-to-3d", {"images": [str(tmp_path / "missing.png")]})
    with pytest.raises(ValidationError, match="GLB"):
        specs.build_job("rig", {"model": str(png)})


def test_rig_animate_and_retexture_bodies(tmp_path: Path) -> None:
    model = tmp_path / "hero.glb"
    model.write_bytes(glb_bytes())
    rig = specs.build_job("rig", {"model": str(model), "height_meters": 1.8})
    assert rig.stages[0].body == {"model_url": str(model), "height_meters": 1.8}
    animate = specs.build_job("animate", {"rig_task_id": "rig-1", "action_id": 13, "fps": 30})
    assert animate.stages[0].body == {
        "rig_task_id": "rig-1",
        "action_id": 13,
        "post_process": {"operation_type": "change_fps", "fps": 30},
    }
    retexture = specs.build_job("retexture", {"task_id": "t-9", "text_style_prompt": "rusty", "enable_pbr": True})
    assert retexture.stages[0].body == {"input_task_id": "t-9", "text_style_prompt": "rusty", "enable_pbr": True}


def test_relative_files_are_resolved_and_urls_kept(tmp_path: Path) -> None:
    values = {"images": ["a.png", "https://example.com/b.png"], "model": "sub/m.glb", "prompt": "x.png"}
    resolved = specs.resolve_files(values, tmp_path)
    assert resolved["images"] == [str(tmp_path / "a.png"), "https://example.com/b.png"]
    assert resolved["model"] == str(tmp_path / "sub" / "m.glb")
    assert resolved["prompt"] == "x.png"  # not a file field
