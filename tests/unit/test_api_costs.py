"""Credit estimates shown before submitting match Meshy's price list."""

from __future__ import annotations

from typing import Any

import pytest

from meshy_blender.api.costs import estimate_credits
from meshy_blender.api.tasks import TaskKind


@pytest.mark.parametrize(
    ("kind", "body", "credits"),
    [
        (TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x"}, 20),
        (TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x", "ai_model": "meshy-6"}, 20),
        (TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x", "ai_model": "meshy-7.1"}, 20),
        (TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "x", "ai_model": "meshy-from-next-month"}, 20),
        (TaskKind.TEXT_TO_3D, {"mode": "refine", "preview_task_id": "p", "enable_pbr": True}, 10),
        (TaskKind.IMAGE_TO_3D, {"image_url": "u"}, 30),
        (TaskKind.IMAGE_TO_3D, {"image_url": "u", "should_texture": False}, 20),
        (TaskKind.IMAGE_TO_3D, {"image_url": "u", "ai_model": "meshy-6-lite"}, 30),
        (TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": ["u"], "ai_model": "meshy-6", "should_texture": False}, 20),
        (TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": ["u"], "ai_model": "latest"}, 30),
        (TaskKind.RIGGING, {"input_task_id": "t"}, 5),
        (TaskKind.ANIMATION, {"rig_task_id": "r", "action_id": 0}, 3),
        (TaskKind.RETEXTURE, {"input_task_id": "t", "text_style_prompt": "gold"}, 10),
        (TaskKind.REMESH, {"input_task_id": "t"}, 5),
        (TaskKind.TEXT_TO_IMAGE, {"prompt": "x"}, 3),
        (TaskKind.TEXT_TO_IMAGE, {"prompt": "x", "ai_model": "nano-banana-pro"}, 9),
        (TaskKind.IMAGE_TO_IMAGE, {"prompt": "x", "ai_model": "gpt-image-2"}, 12),
        (TaskKind.IMAGE_TO_IMAGE, {"prompt": "x", "ai_model": "an-image-model-from-next-month"}, 12),
    ],
)
def test_estimate_matches_the_price_list(kind: TaskKind, body: dict[str, Any], credits: int) -> None:
    assert estimate_credits(kind, body) == credits
