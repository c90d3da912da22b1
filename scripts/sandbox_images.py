"""The sandbox's concept images: text-to-image and image-to-image as Meshy serves them (Nov. 2026).

Requests are checked as Meshy checks them (``ai_model`` and ``prompt`` required,
``aspect_ratio`` not with ``generate_multi_view``, 3:2 and 2:3 for GPT Image models only,
1–5 reference images; the model itself and the price by ``sandbox_models``, from the
add-on's model catalogue); a finished task lists its pictures in ``image_urls``:
real PNGs, one, or four distinct views (front, right, back, left) with
``generate_multi_view``, coloured after the prompt so two prompts give two pictures. Only a
SUCCEEDED task of these two kinds can be chained into Image or Multi-image to 3D by
``input_task_id`` (see ``meshy_sandbox.State._resolve``).

Standard library only (and ``sandbox_assets`` for the PNG encoder), like the sandbox.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, NoReturn

import sandbox_assets
import sandbox_models

Fail = Callable[[str], NoReturn]
CheckImage = Callable[[Any, str], None]

TEXT_TO_IMAGE = "text-to-image"
IMAGE_TO_IMAGE = "image-to-image"
#: Task types whose pictures Image and Multi-image to 3D take as ``input_task_id``.
IMAGE_TYPES = frozenset({TEXT_TO_IMAGE, IMAGE_TO_IMAGE})
RATIOS = {"1:1": (1, 1), "16:9": (16, 9), "9:16": (9, 16), "4:3": (4, 3), "3:4": (3, 4)}
GPT_RATIOS = {"3:2": (3, 2), "2:3": (2, 3)}
POSES = frozenset({"a-pose", "t-pose", ""})
MAX_REFERENCES = 5
VIEWS = ("front", "right", "back", "left")
LONG_SIDE = 256
MAX_PROMPT = 600


def _check_shared(body: dict[str, Any], fail: Fail) -> None:
    model = body.get("ai_model")
    if not isinstance(model, str) or not model:
        fail("ai_model is required")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        fail("prompt is required")
    if len(prompt) > MAX_PROMPT:
        fail(f"prompt is too long: {len(prompt)} characters, at most {MAX_PROMPT}")
    if "generate_multi_view" in body and not isinstance(body["generate_multi_view"], bool):
        fail("generate_multi_view must be a boolean")


def validate_text_to_image(body: dict[str, Any], fail: Fail) -> None:
    _check_shared(body, fail)
    if body.get("pose_mode", "") not in POSES:
        fail(f"Invalid pose_mode {body['pose_mode']!r}: expected 'a-pose', 't-pose' or ''")
    if "aspect_ratio" not in body:
        return
    ratio = body["aspect_ratio"]
    if body.get("generate_multi_view"):
        fail("aspect_ratio cannot be used with generate_multi_view")
    gpt = str(body["ai_model"]).startswith("gpt-image")
    if ratio not in RATIOS and not (gpt and ratio in GPT_RATIOS):
        allowed = [*RATIOS, *(GPT_RATIOS if gpt else ())]
        fail(f"Invalid aspect_ratio {ratio!r} for {body['ai_model']}: expected one of {', '.join(allowed)}")


def validate_image_to_image(body: dict[str, Any], fail: Fail, check_image: CheckImage) -> None:
    _check_shared(body, fail)
    references = body.get("reference_image_urls")
    if not isinstance(references, list) or not 1 <= len(references) <= MAX_REFERENCES:
        fail(f"reference_image_urls must hold 1 to {MAX_REFERENCES} images")
    for index, reference in enumerate(references):
        check_image(reference, f"reference_image_urls[{index}]")


def cost(endpoint: str) -> Callable[[dict[str, Any]], int]:
    return lambda body: sandbox_models.cost(endpoint, body, "task")


def _views(body: dict[str, Any]) -> tuple[str, ...]:
    return VIEWS if body.get("generate_multi_view") else VIEWS[:1]


def file_names(body: dict[str, Any]) -> list[str]:
    return [f"image_{index}.png" for index in range(len(_views(body)))]


def fields(body: dict[str, Any], done: bool, link: Callable[[str], str]) -> dict[str, Any]:
    """What a text-to-image / image-to-image task object adds to the common fields."""
    return {
        "ai_model": body["ai_model"],
        "prompt": body["prompt"],
        "image_urls": [link(name) for name in file_names(body)] if done else [],
    }


def pictures(body: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    """Every PNG a SUCCEEDED task offers, by file name; made when first fetched."""
    ratio = {**RATIOS, **GPT_RATIOS}.get(body.get("aspect_ratio", "1:1"), (1, 1))
    hue = hashlib.sha256(str(body["prompt"]).encode()).digest()[:3]
    return {
        name: functools.partial(_picture, view, ratio, bytes(hue), body.get("pose_mode", ""))
        for name, view in zip(file_names(body), _views(body), strict=True)
    }


@functools.lru_cache(maxsize=64)
def _picture(view: str, ratio: tuple[int, int], hue: bytes, pose: str) -> bytes:
    """A figure on a pale ground as seen from ``view``: each view a different silhouette and shade."""
    across, down = ratio
    scale = LONG_SIDE / max(across, down)
    width, height = max(1, round(across * scale)), max(1, round(down * scale))
    shade = {"front": 1.0, "right": 0.8, "back": 0.6, "left": 0.7}[view]
    red, green, blue = (int((64 + channel // 2) * shade) for channel in hue)
    colour = (red, green, blue)
    half_width = {"front": 0.18, "back": 0.18, "right": 0.09, "left": 0.09}[view]
    arms = 0.42 if pose == "t-pose" else 0.3
    marker_x = {"front": 0.5, "right": 0.62, "back": -1.0, "left": 0.38}[view]

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        u, v = x / width, y / height
        dx = abs(u - 0.5)
        head = (dx / 0.08) ** 2 + ((v - 0.22) / 0.08) ** 2 <= 1
        if head and abs(u - marker_x) < 0.02 and abs(v - 0.21) < 0.02:
            return (20, 20, 20)  # the face shows which way the figure looks
        torso = dx <= half_width and 0.3 <= v <= 0.62
        legs = 0.62 <= v <= 0.92 and 0.03 <= dx <= half_width * 0.8
        limbs = view in ("front", "back") and abs(v - 0.34) < 0.03 and dx <= arms
        if head or torso or legs or limbs:
            return colour
        return (236, 232, 224)

    return sandbox_assets.png_bytes(width, height, pixel)
