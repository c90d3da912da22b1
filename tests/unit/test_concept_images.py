"""Concept images without the network: request checks, prices, the PNG check, jobs and command lines."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import sandbox_assets

from meshy_blender import cli_args
from meshy_blender.api.costs import estimate_credits
from meshy_blender.api.errors import DownloadError, ValidationError
from meshy_blender.api.images import MAX_PNG_SIDE, check_png
from meshy_blender.api.tasks import TaskKind, parse_task
from meshy_blender.api.validation import validate
from meshy_blender.jobs import specs

TEXT = {"prompt": "a brave knight", "ai_model": "nano-banana"}


def refused(kind: TaskKind, body: dict) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate(kind, body)
    return caught.value


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"prompt": "a knight"}, "ai_model", "needs 'ai_model'"),
        ({"ai_model": "nano-banana"}, "prompt", "needs a 'prompt'"),
        ({**TEXT, "generate_multi_view": True, "aspect_ratio": "16:9"}, "aspect_ratio", "cannot go with"),
        ({**TEXT, "aspect_ratio": "3:2"}, "aspect_ratio", "only by the GPT Image models"),
        ({**TEXT, "aspect_ratio": "21:9"}, "aspect_ratio", "must be one of"),
        ({**TEXT, "pose_mode": "z-pose"}, "pose_mode", "must be one of"),
    ],
)
def test_text_to_image_is_checked_before_sending(body: dict, field: str, words: str) -> None:
    error = refused(TaskKind.TEXT_TO_IMAGE, body)
    assert error.field == field and words in str(error)


def test_a_new_image_model_and_the_gpt_ratios_go_as_given() -> None:
    assert validate(TaskKind.TEXT_TO_IMAGE, {**TEXT, "ai_model": "nano-banana-3"})["ai_model"] == "nano-banana-3"
    assert validate(TaskKind.TEXT_TO_IMAGE, {**TEXT, "ai_model": "gpt-image-2", "aspect_ratio": "2:3"})


def test_image_to_image_takes_one_to_five_references_sent_as_data_uris(tmp_path: Path) -> None:
    reference = tmp_path / "sketch.png"
    reference.write_bytes(sandbox_assets.png_bytes(8, 8, (1, 2, 3)))
    body = validate(TaskKind.IMAGE_TO_IMAGE, {**TEXT, "reference_image_urls": [str(reference)]})
    assert body["reference_image_urls"][0].startswith("data:image/png;base64,")
    assert "1 to 5" in str(refused(TaskKind.IMAGE_TO_IMAGE, {**TEXT, "reference_image_urls": [str(reference)] * 6}))
    assert refused(TaskKind.IMAGE_TO_IMAGE, TEXT).field == "reference_image_urls"
    assert refused(TaskKind.IMAGE_TO_IMAGE, {**TEXT, "reference_image_urls": [str(reference)], "aspect_ratio": "1:1"})


def test_multi_image_to_3d_takes_images_or_a_picture_task_not_both() -> None:
    assert validate(TaskKind.MULTI_IMAGE_TO_3D, {"input_task_id": "t-1"}) == {"input_task_id": "t-1"}
    both = {"input_task_id": "t-1", "image_urls": ["https://example.com/a.png"]}
    assert "exactly one input" in str(refused(TaskKind.MULTI_IMAGE_TO_3D, both))


@pytest.mark.parametrize(
    ("kind", "model", "credits"),
    [
        (TaskKind.TEXT_TO_IMAGE, "nano-banana", 3),
        (TaskKind.TEXT_TO_IMAGE, "nano-banana-pro", 9),
        (TaskKind.IMAGE_TO_IMAGE, "gpt-image-2", 12),
        (TaskKind.IMAGE_TO_IMAGE, "some-future-model", 12),  # unknown: priced like the dearest
    ],
)
def test_prices_come_from_the_catalogue(kind: TaskKind, model: str, credits: int) -> None:
    assert estimate_credits(kind, {"ai_model": model}) == credits


def test_a_task_lists_its_pictures() -> None:
    task = parse_task(TaskKind.TEXT_TO_IMAGE, {"id": "t", "image_urls": ["https://a/1.png", "", 3, "https://a/2.png"]})
    assert task.image_urls == ["https://a/1.png", "https://a/2.png"]
    assert parse_task(TaskKind.TEXT_TO_IMAGE, {"id": "t", "image_urls": None}).image_urls == []


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"GIF89a" + bytes(40), "signature"),
        (_png(4, 4)[:-12], "ends before its IEND"),
        (_png(4, 4)[:29] + b"\0\0\0\0" + _png(4, 4)[33:], "CRC mismatch"),
        (_png(MAX_PNG_SIDE + 1, 4), "pixels"),
        (_png(0, 4), "pixels"),
    ],
)
def test_a_bad_picture_is_refused_with_the_reason(tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "image_1.png"
    path.write_bytes(data)
    with pytest.raises(DownloadError, match=why):
        check_png(path)


def test_a_whole_picture_passes_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "image_1.png"
    path.write_bytes(sandbox_assets.png_bytes(48, 27, (9, 9, 9)))
    assert check_png(path) == (48, 27)
    path.write_bytes(_png(3, 2))
    assert check_png(path) == (3, 2)


def test_commands_build_picture_jobs_and_chains() -> None:
    parser = cli_args.build_parser()
    args = parser.parse_args(["text-to-image", "--prompt", "a knight", "--ai-model", "nano-banana-3", "-o", "d"])
    job = specs.build_job(args.command, cli_args.request_values(args))
    assert job.makes_images and not job.import_result
    assert job.stages[0].body == {"prompt": "a knight", "ai_model": "nano-banana-3"}

    args = parser.parse_args(["image-to-3d", "--input-task-id", "t-7", "-o", "m.glb"])
    chained = specs.build_job(args.command, cli_args.request_values(args))
    assert (chained.stages[0].kind, chained.stages[0].body) == (TaskKind.IMAGE_TO_3D, {"input_task_id": "t-7"})
    assert chained.estimated_credits == estimate_credits(TaskKind.IMAGE_TO_3D, {})
