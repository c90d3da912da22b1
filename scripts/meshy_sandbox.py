#!/usr/bin/env python3
"""Offline Meshy: a standard-library HTTP server that behaves like Meshy's REST API.

Tests, benchmarks and the demo talk to it over real HTTP on 127.0.0.1. It serves every
resource the add-on uses (text/image/multi-image to 3D, rigging, animations, retexture,
remesh, balance), validates requests with Meshy's status codes, accounts credits, rate
limits per key, moves tasks along a clock, streams progress as Server-Sent Events and
hands out expiring signed asset URLs whose files are real GLBs (``sandbox_assets``).
``/_sandbox/*`` steers it: reset, configuration, fault injection, the request log.

Usage: ``python scripts/meshy_sandbox.py [--host 127.0.0.1] [--port 0] [--task-seconds 5]
[--api-key KEY]... [--balance 1000] [--queue-limit 10] [--rate-limit 20]``; the first
line of stdout is ``MESHY_BASE_URL=http://<host>:<port>``. Standard library only, so it
also runs inside Blender's Python.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import functools
import hashlib
import hmac
import io
import json
import math
import random
import re
import secrets
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn, cast
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sandbox_animations
import sandbox_assets
import sandbox_images
import sandbox_models
import sandbox_thumbnails
import sandbox_tools

TEST_MODE_KEY = "msy_dummy_api_key_for_test_mode_12345678"
TEST_MODE_BALANCE = 1_000_000
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_TEXT = 600
PENDING_SHARE = 0.2  # share of a task's duration spent PENDING
QUEUE_AHEAD = 3  # preceding_tasks when a task is created; counts down to 0
HEARTBEAT_S = 1.0
#: Progress frames of one stream are at least this far apart (a status change goes out at
#: once): a 2 s task sends a handful, not one per percent, as Meshy's own stream paces them.
PROGRESS_FRAME_S = 0.25
CHUNK = 64 * 1024
MAX_LARGE_MB = 8192
CONTROL_PREFIX = "/_sandbox/"
LARGE_GLB_PATH = "/_sandbox/large.glb"
BALANCE_PATH = "/openapi/v1/balance"
GLB_TYPE = "model/gltf-binary"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"})


class ApiError(Exception):
    """A request refused with ``status`` and the body ``{"message": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> NoReturn:
    raise ApiError(400, message)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Config:
    task_seconds: float = 5.0
    balance: int = 1000
    rate_limit: int = 20
    queue_limit: int = 10
    asset_ttl_seconds: float = 259200.0
    retry_after: float | None = 1.0
    result_ttl_seconds: float = 259200.0

    def updated(self, changes: Any) -> Config:
        """This config with ``changes`` (a JSON object from the control API) applied."""
        if not isinstance(changes, dict):
            bad_request("config must be a JSON object")
        values = dataclasses.asdict(self)
        for name, value in changes.items():
            if name not in values:
                bad_request(f"unknown config key {name!r}")
            if value is None and name == "retry_after":
                values[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad_request(f"config {name} must be a number")
            values[name] = int(value) if name in ("balance", "rate_limit", "queue_limit") else float(value)
        return Config(**values)


# --------------------------------------------------------------------------- assets


@dataclass(frozen=True)
class Asset:
    content_type: str
    data: Callable[[], bytes]


@functools.cache
def _textured_glb(pbr: bool) -> bytes:
    return sandbox_assets.textured_glb(pbr=pbr)


@functools.cache
def _rigged() -> bytes:
    return sandbox_assets.rigged_character_glb()


@functools.lru_cache(maxsize=64)
def _animation(*clips: str) -> bytes:
    return sandbox_assets.animation_glb(*clips)


@functools.cache
def _png(size: int, rgb: tuple[int, int, int]) -> bytes:
    return sandbox_assets.png_bytes(size, size, rgb)


TEXTURE_COLOURS = {
    "base_color": (176, 118, 72),
    "metallic": (24, 24, 24),
    "normal": (128, 128, 255),
    "roughness": (200, 200, 200),
}
#: Meshy's default formats that the sandbox writes for real (USDZ it cannot: never advertised).
DEFAULT_FORMATS = ("glb", "fbx", "obj")
MODEL_FORMATS = frozenset({"glb", "obj", "fbx", "stl", "usdz", "3mf"})
BASIC_CLIPS = ("walking", "running")
PRE_REMESHED = "pre_remeshed.glb"
#: post_process operations accepted; their FBX/USDZ outputs are not written offline, so not advertised.
PROCESSED = frozenset({"change_fps", "fbx2usdz", "extract_armature"})


def _glb_asset(source: Callable[[], bytes]) -> Asset:
    return Asset(GLB_TYPE, source)


def _png_asset(size: int, rgb: tuple[int, int, int]) -> Asset:
    return Asset("image/png", functools.partial(_png, size, rgb))


def _png_assets(pictures: dict[str, Callable[[], bytes]]) -> dict[str, Asset]:
    return {name: Asset("image/png", picture) for name, picture in pictures.items()}


# --------------------------------------------------------------------------- validation

ENUMS: dict[str, frozenset[str]] = {
    "mode": frozenset({"preview", "refine"}),
    "model_type": frozenset({"standard", "smart-topology", "lowpoly"}),  # lowpoly: retired (sandbox_models)
    "texture_resolution": frozenset({"2k", "4k", "8k"}),
    "geometry_resolution": frozenset({"standard", "2k", "4k"}),
    "topology": frozenset({"quad", "triangle"}),
    "symmetry_mode": frozenset({"off", "auto", "on"}),
    "pose_mode": frozenset({"a-pose", "t-pose", ""}),
    "art_style": frozenset({"realistic", "sculpture"}),
    "origin_at": frozenset({"bottom", "center"}),
}
BOOL_FIELDS = frozenset(
    {
        "should_remesh",
        "moderation",
        "auto_size",
        "alpha_thumbnail",
        "enable_pbr",
        "hd_texture",
        "remove_lighting",
        "should_texture",
        "save_pre_remeshed_model",
        "image_enhancement",
        "multi_view_thumbnails",
        "enable_original_uv",
    }
)
TEXT_FIELDS = ("prompt", "texture_prompt", "text_style_prompt", "negative_prompt")
IMAGE_FIELDS = ("texture_image_url", "image_style_url")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg"})
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg"})
MESH_EXTENSIONS = frozenset({"glb", "gltf", "obj", "fbx", "stl"})
DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)((?:;[^;,]*)*);base64,(.*)", re.DOTALL)
POST_PROCESS_FPS = frozenset({24, 25, 30, 60})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decode_data_uri(value: str, name: str) -> tuple[str, bytes]:
    match = DATA_URI.fullmatch(value)
    if not match:
        bad_request(f"{name} is not a valid base64 data URI")
    try:
        data = base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        bad_request(f"{name} is not valid base64")
    if not data:
        bad_request(f"{name} is empty")
    return match.group(1).lower(), data


def _check_url(value: str, name: str, extensions: frozenset[str]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        bad_request(f"{name} must be an http(s) URL or a data URI")
    last = parts.path.rsplit("/", 1)[-1]
    if "." in last and last.rsplit(".", 1)[1].lower() not in extensions:
        bad_request(f"{name} must point to one of: {', '.join(sorted(extensions))}")


def check_image(value: Any, name: str) -> None:
    """A PNG or JPEG data URI (magic bytes checked) or an http(s) URL."""
    if not isinstance(value, str) or not value:
        bad_request(f"{name} must be an image URL or data URI")
    if value.startswith("data:"):
        mime, data = _decode_data_uri(value, name)
        if mime not in IMAGE_TYPES or not data.startswith(IMAGE_MAGIC):
            bad_request(f"{name}: only PNG and JPEG images are supported")
    else:
        _check_url(value, name, IMAGE_EXTENSIONS)


def check_model(value: Any, name: str, glb_only: bool) -> None:
    """A model data URI (GLB: ``glTF`` magic checked) or an http(s) URL."""
    if not isinstance(value, str) or not value:
        bad_request(f"{name} must be a model URL or data URI")
    if value.startswith("data:"):
        _, data = _decode_data_uri(value, name)
        if glb_only and not data.startswith(b"glTF"):
            bad_request(f"{name} must be a GLB file")
    else:
        _check_url(value, name, frozenset({"glb"}) if glb_only else MESH_EXTENSIONS)


def check_common(body: dict[str, Any]) -> None:
    """Fields shared by several resources, checked wherever they appear."""
    for name, allowed in ENUMS.items():
        if name in body and body[name] not in allowed:
            choices = ", ".join(repr(v) for v in sorted(allowed))
            bad_request(f"Invalid {name} {body[name]!r}: expected one of {choices}")
    for name in sorted(BOOL_FIELDS & body.keys()):
        if not isinstance(body[name], bool):
            bad_request(f"{name} must be a boolean")
    for name in TEXT_FIELDS:
        if name in body:
            if not isinstance(body[name], str):
                bad_request(f"{name} must be a string")
            if len(body[name]) > MAX_TEXT:
                bad_request(f"{name} is too long: {len(body[name])} characters, at most {MAX_TEXT}")
    for name in IMAGE_FIELDS:
        if name in body:
            check_image(body[name], name)
    if "target_polycount" in body:
        count = body["target_polycount"]
        if not _is_int(count) or not 100 <= count <= 300_000:
            bad_request("target_polycount must be an integer from 100 to 300000")
    if "target_formats" in body:
        formats = body["target_formats"]
        if not isinstance(formats, list) or not formats or not all(f in MODEL_FORMATS for f in formats):
            bad_request(f"target_formats must be a non-empty list of: {', '.join(sorted(MODEL_FORMATS))}")
    if "decimation_mode" in body and body["decimation_mode"] not in (1, 2, 3, 4):
        bad_request("decimation_mode must be 1, 2, 3 or 4")
    if "seed" in body and not _is_int(body["seed"]):
        bad_request("seed must be an integer")


def _require_one(body: dict[str, Any], *names: str) -> None:
    if not any(body.get(name) for name in names):
        bad_request(f"{' or '.join(names)} is required")


def _check_texturing(body: dict[str, Any]) -> None:
    if body.get("enable_pbr") and body.get("should_texture") is False:
        bad_request("enable_pbr requires should_texture")


def _validate_text(body: dict[str, Any]) -> None:
    if "mode" not in body:
        bad_request("mode is required: 'preview' or 'refine'")
    if body["mode"] == "preview":
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            bad_request("prompt is required")
    elif not isinstance(body.get("preview_task_id"), str) or not body["preview_task_id"]:
        bad_request("preview_task_id is required for refine")


def _validate_image(body: dict[str, Any]) -> None:
    _require_one(body, "image_url", "input_task_id")
    if "image_url" in body:
        check_image(body["image_url"], "image_url")
    _check_texturing(body)


def _validate_multi_image(body: dict[str, Any]) -> None:
    _require_one(body, "image_urls", "input_task_id")
    images = body.get("image_urls")
    if "input_task_id" in body and images is None:
        _check_texturing(body)
        return
    if not isinstance(images, list) or not 1 <= len(images) <= 4:
        bad_request("image_urls must hold 1 to 4 images")
    for index, image in enumerate(images):
        check_image(image, f"image_urls[{index}]")
    _check_texturing(body)


def _validate_rigging(body: dict[str, Any]) -> None:
    _require_one(body, "input_task_id", "model_url")
    if "model_url" in body:
        check_model(body["model_url"], "model_url", glb_only=True)
    if "height_meters" in body and (not _is_number(body["height_meters"]) or body["height_meters"] <= 0):
        bad_request("height_meters must be a number greater than 0")


def _validate_animation(body: dict[str, Any]) -> None:
    if not isinstance(body.get("rig_task_id"), str) or not body["rig_task_id"]:
        bad_request("rig_task_id is required")
    refused = sandbox_animations.problem(body)
    if refused:
        bad_request(refused)
    post = body.get("post_process")
    if post is None:
        return
    if not isinstance(post, dict) or post.get("operation_type") not in PROCESSED:
        bad_request(f"post_process.operation_type must be one of: {', '.join(sorted(PROCESSED))}")
    if "fps" in post and post["fps"] not in POST_PROCESS_FPS:
        bad_request("post_process.fps must be 24, 25, 30 or 60")


def _validate_retexture(body: dict[str, Any]) -> None:
    _require_one(body, "input_task_id", "model_url")
    if "model_url" in body:
        check_model(body["model_url"], "model_url", glb_only=False)
    _require_one(body, "text_style_prompt", "image_style_url")


def _validate_remesh(body: dict[str, Any]) -> None:
    _require_one(body, "input_task_id", "model_url")
    if "model_url" in body:
        check_model(body["model_url"], "model_url", glb_only=False)
    if "resize_height" in body and (not _is_number(body["resize_height"]) or body["resize_height"] < 0):
        bad_request("resize_height must be a number, 0 or more")


def _validate_text_to_image(body: dict[str, Any]) -> None:
    sandbox_images.validate_text_to_image(body, bad_request)


def _validate_image_to_image(body: dict[str, Any]) -> None:
    sandbox_images.validate_image_to_image(body, bad_request, check_image)


def _text_cost(body: dict[str, Any]) -> int:
    return sandbox_models.cost("text-to-3d", body, body["mode"])


def _image_cost(endpoint: str) -> Callable[[dict[str, Any]], int]:
    def cost(body: dict[str, Any]) -> int:
        return sandbox_models.cost(endpoint, body, "textured" if body.get("should_texture", True) else "untextured")

    return cost


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Resource:
    """One task resource: its path, validation, cost and result family."""

    name: str  # last path segment, e.g. "text-to-3d"
    version: str
    family: str  # "mesh", "rig" or "animation"
    validate: Callable[[dict[str, Any]], None]
    cost: Callable[[dict[str, Any]], int]
    task_type: str = ""  # fixed ``type``; text to 3D derives it from the mode
    aliases: frozenset[str] = frozenset()

    @property
    def path(self) -> str:
        return f"/openapi/{self.version}/{self.name}"

    def type_of(self, body: dict[str, Any]) -> str:
        return self.task_type or f"{self.name}-{body['mode']}"

    def known_as(self, kind: str, task_type: str) -> bool:
        return kind in ("*", self.name, task_type) or kind in self.aliases


def _fixed(credits: int) -> Callable[[dict[str, Any]], int]:
    return lambda body: credits


RESOURCES = (
    Resource("text-to-3d", "v2", "mesh", _validate_text, _text_cost),
    Resource("image-to-3d", "v1", "mesh", _validate_image, _image_cost("image-to-3d"), "image-to-3d"),
    Resource(
        "multi-image-to-3d", "v1", "mesh", _validate_multi_image, _image_cost("multi-image-to-3d"), "multi-image-to-3d"
    ),
    Resource("rigging", "v1", "rig", _validate_rigging, _fixed(5), "rig"),
    Resource(
        "animations",
        "v1",
        "animation",
        _validate_animation,
        sandbox_animations.cost,
        "animate",
        frozenset({"animation"}),
    ),
    Resource("retexture", "v1", "mesh", _validate_retexture, _fixed(10), "retexture"),
    Resource("remesh", "v1", "mesh", _validate_remesh, _fixed(5), "remesh"),
    *(
        Resource(
            name,
            "v1",
            "tool",
            sandbox_tools.validator(name, bad_request, check_model, _decode_data_uri),
            sandbox_tools.cost(name),
            name,
        )
        for name in sandbox_tools.TOOLS
    ),
    *(
        Resource(name, "v1", "image", validate, sandbox_images.cost(name), name)
        for name, validate in (
            (sandbox_images.TEXT_TO_IMAGE, _validate_text_to_image),
            (sandbox_images.IMAGE_TO_IMAGE, _validate_image_to_image),
        )
    ),
)
RESOURCES_BY_PATH = {resource.path: resource for resource in RESOURCES}
MESH_TYPES = frozenset(
    {"text-to-3d-preview", "text-to-3d-refine", "image-to-3d", "multi-image-to-3d", "retexture", "remesh"}
).union(sandbox_tools.TASK_TYPES)
ROUTE = re.compile(r"(/openapi/v[12]/[a-z0-9-]+)(?:/([^/]+)(/stream)?)?")


# --------------------------------------------------------------------------- tasks


@dataclass
class TaskRecord:
    id: str
    resource: Resource
    type: str
    key: str
    body: dict[str, Any]
    created: float  # epoch seconds
    seq: int  # creation order, breaks created_at ties
    duration: float
    result_ttl: float
    cost: int
    failure: dict[str, str] | None
    seed: int
    #: CANCELED or EXPIRED when ended through /_sandbox/cancel or /_sandbox/expire, at ``ended_at``.
    ended: str = ""
    ended_at: float = 0.0


@dataclass(frozen=True)
class Phase:
    """Where a task stands at one instant; ``next_change`` is when status or progress moves next."""

    status: str
    progress: int
    preceding_tasks: int
    started_at: int
    finished_at: int
    next_change: float | None
    #: When the status moves next (a stream sends that frame at once, whatever its pace).
    status_change: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def phase_of(task: TaskRecord, now: float) -> Phase:
    """PENDING for the first fifth of the duration, then IN_PROGRESS 1…99, then terminal."""
    pending = task.duration * PENDING_SHARE
    running = task.duration - pending
    elapsed = now - task.created
    started = _ms(task.created + pending)
    if task.ended == "CANCELED":
        began = started if task.ended_at >= task.created + pending else 0
        return Phase("CANCELED", 0, 0, began, _ms(task.ended_at), None)
    if task.ended == "EXPIRED":
        return Phase("EXPIRED", 100, 0, started, _ms(task.created + task.duration), None)
    if elapsed >= task.duration:
        failed = task.failure is not None
        finished = _ms(task.created + task.duration)
        return Phase("FAILED" if failed else "SUCCEEDED", 0 if failed else 100, 0, started, finished, None)
    if elapsed < pending:
        ahead = math.ceil(QUEUE_AHEAD * (pending - elapsed) / pending)
        return Phase("PENDING", 0, ahead, 0, 0, task.created + pending, task.created + pending)
    progress = min(99, 1 + int(99 * (elapsed - pending) / running))
    next_change = min(task.created + pending + progress * running / 99, task.created + task.duration)
    return Phase("IN_PROGRESS", progress, 0, started, 0, next_change, task.created + task.duration)


def _is_textured(task: TaskRecord) -> bool:
    if task.type in ("text-to-3d-preview", "remesh"):
        return False
    return bool(task.body.get("should_texture", True))


def _pbr(task: TaskRecord) -> bool:
    return _is_textured(task) and bool(task.body.get("enable_pbr", False))


def _texture_maps(task: TaskRecord) -> list[str]:
    if not _is_textured(task):
        return []
    return list(TEXTURE_COLOURS) if _pbr(task) else ["base_color"]


def _formats(task: TaskRecord) -> list[str]:
    default = ["glb"] if task.type == "remesh" else list(DEFAULT_FORMATS)
    asked = task.body.get("target_formats") or default
    return [fmt for fmt in dict.fromkeys(asked) if fmt in sandbox_tools.WRITTEN_FORMATS]  # as Meshy: made ones only


def asset_files(task: TaskRecord) -> dict[str, Asset]:
    """Every file a SUCCEEDED task offers, by the file name used in its signed URLs."""
    if task.resource.family == "rig":
        files = {"rigged.glb": _glb_asset(_rigged)}
        for clip in BASIC_CLIPS:
            clip_glb = _glb_asset(functools.partial(_animation, clip))
            files.update({f"{clip}.glb": clip_glb, f"{clip}_armature.glb": clip_glb})
        return files
    if task.resource.family == "animation":
        action = _glb_asset(functools.partial(_animation, *sandbox_animations.clip_names(task.body)))
        return {"animation.glb": action}
    if task.resource.family == "image":
        return _png_assets(sandbox_images.pictures(task.body))
    if task.resource.family == "tool":
        return {name: Asset(*made) for name, made in sandbox_tools.files(task.type, task.body).items()}
    files = _png_assets(sandbox_thumbnails.pictures(task.body))
    files.update({f"{name}.png": _png_asset(256, TEXTURE_COLOURS[name]) for name in _texture_maps(task)})
    for fmt in _formats(task):
        glb = fmt == "glb"
        made = functools.partial(_textured_glb, _pbr(task)) if glb else functools.partial(sandbox_tools.vase_file, fmt)
        files[f"model.{fmt}"] = Asset(sandbox_tools.CONTENT_TYPES[fmt], made)
    if sandbox_models.keeps_pre_remeshed(task.resource.name, task.body):
        files[PRE_REMESHED] = _glb_asset(functools.partial(_textured_glb, False))
    return files


def render(task: TaskRecord, phase: Phase, link: Callable[[str], str]) -> dict[str, Any]:
    """The task object as Meshy returns it; ``link(file)`` signs an asset URL."""
    done = phase.status == "SUCCEEDED"
    failed = phase.status == "FAILED"
    refunded = failed or phase.status == "CANCELED"
    obj: dict[str, Any] = {
        "id": task.id,
        "type": task.type,
        "status": phase.status,
        "progress": phase.progress,
        "preceding_tasks": phase.preceding_tasks,
        "created_at": _ms(task.created),
        "started_at": phase.started_at,
        "finished_at": phase.finished_at,
        "expires_at": phase.finished_at + _ms(task.result_ttl) if phase.finished_at else 0,
        "task_error": dict(task.failure) if failed and task.failure else {"message": ""},
        "consumed_credits": 0 if refunded else task.cost,
        "name": "",
        "seed": task.seed,
    }
    family = task.resource.family
    if family == "rig":
        obj["result"] = _rig_result(link) if done else None
    elif family == "animation":
        obj["result"] = _animation_result(task, link) if done else None
    elif family == "image":
        obj.update(sandbox_images.fields(task.body, done, link))
    elif family == "tool":
        obj.update(sandbox_tools.fields(task.type, task.body, done, link))
    else:
        obj.update(_mesh_fields(task, done, link))
    return obj


def _rig_result(link: Callable[[str], str]) -> dict[str, Any]:
    basic: dict[str, str] = {}
    for clip in BASIC_CLIPS:
        basic[f"{clip}_glb_url"] = link(f"{clip}.glb")
        basic[f"{clip}_armature_glb_url"] = link(f"{clip}_armature.glb")
    return {
        "rigged_character_glb_url": link("rigged.glb"),
        "basic_animations": basic,
    }


def _animation_result(task: TaskRecord, link: Callable[[str], str]) -> dict[str, Any]:
    return {"animation_glb_url": link("animation.glb")}


def _mesh_fields(task: TaskRecord, done: bool, link: Callable[[str], str]) -> dict[str, Any]:
    body = task.body
    fields: dict[str, Any] = {
        "model_urls": {fmt: link(f"model.{fmt}") for fmt in _formats(task)} if done else {"glb": ""},
        "art_style": body.get("art_style", "realistic"),
        **sandbox_thumbnails.fields(body, done, link),
    }
    if done and sandbox_models.keeps_pre_remeshed(task.resource.name, body):
        fields["model_urls"]["pre_remeshed_glb"] = link(PRE_REMESHED)
    if task.type != "remesh":
        maps = _texture_maps(task)
        fields["texture_urls"] = ([{m: link(f"{m}.png") for m in maps}] if maps else []) if done else None
    if task.resource.name == "text-to-3d":
        fields["prompt"] = body.get("prompt", "")
        fields["negative_prompt"] = body.get("negative_prompt", "")
        fields["mode"] = body["mode"]
    if task.type in ("text-to-3d-refine", "image-to-3d", "multi-image-to-3d"):
        fields["texture_prompt"] = body.get("texture_prompt", "")
    if task.type == "retexture":
        fields["text_style_prompt"] = body.get("text_style_prompt", "")
    return fields


# --------------------------------------------------------------------------- faults

FAULT_ACTIONS = frozenset(
    {
        "status", "reset", "hang", "delay", "truncate", "malformed", "corrupt", "drop_fields", "sse_drop", "sse_error",
        "body",
    }
)  # fmt: skip
STREAM_ACTIONS = frozenset({"sse_drop", "sse_error"})
NUMERIC_PARAMS = ("status", "seconds", "bytes", "events", "status_code", "repeat")
#: ``body``: answer ``prefix`` + ``text`` × ``repeat`` as given (hostile JSON, an endless SSE line, escapes).
TEXT_PARAMS = ("prefix", "text", "content_type")
MALFORMED_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n"
CORRUPT_PATTERN = b"\x00\xffCORRUPTED-BYTES-NOT-A-GLB\xfe\x01"


@dataclass
class Fault:
    """One rule of ``POST /_sandbox/faults``; ``times`` -1 never runs out."""

    method: str
    pattern: re.Pattern[str]
    action: str
    times: int
    skip: int
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, rule: Any) -> Fault:
        if not isinstance(rule, dict):
            bad_request("a fault rule must be a JSON object")
        params = dict(rule)
        action = params.pop("action", None)
        if action not in FAULT_ACTIONS:
            bad_request(f"action must be one of: {', '.join(sorted(FAULT_ACTIONS))}")
        try:
            pattern = re.compile(str(params.pop("path", "")))
        except re.error as exc:
            bad_request(f"path is not a valid regular expression: {exc}")
        method = str(params.pop("method", "*")).upper()
        times, skip = params.pop("times", 1), params.pop("skip", 0)
        if not _is_int(times) or (times < 1 and times != -1):
            bad_request("times must be a positive integer or -1")
        if not _is_int(skip) or skip < 0:
            bad_request("skip must be an integer, 0 or more")
        _check_fault_params(params)
        return cls(method, pattern, action, times, skip, params)

    def matches(self, method: str, path: str, stream: bool) -> bool:
        if self.action in STREAM_ACTIONS and not stream:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None

    def number(self, name: str, default: float) -> float:
        return float(self.params.get(name, default))


def _check_fault_params(params: dict[str, Any]) -> None:
    for name in NUMERIC_PARAMS:
        if name in params and not _is_number(params[name]):
            bad_request(f"{name} must be a number")
    if "status" in params and not 100 <= params["status"] <= 599:
        bad_request("status must be an HTTP status code")
    if not all(isinstance(params.get(name, ""), str) for name in TEXT_PARAMS):
        bad_request(f"{', '.join(TEXT_PARAMS)} must be strings")
    fields = params.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        bad_request("fields must be a list of strings")
    headers = params.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        bad_request("headers must be an object of strings")


def garbage(size: int, offset: int) -> bytes:
    """``size`` bytes that are neither JSON nor a GLB, stable for a given offset."""
    start = offset % len(CORRUPT_PATTERN)
    return (CORRUPT_PATTERN * ((start + size) // len(CORRUPT_PATTERN) + 1))[start : start + size]


def drop_fields(value: Any, fields: Iterable[str]) -> Any:
    """``value`` without ``fields``: from an object, or from each object of a list."""
    names = set(fields)
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [drop_fields(item, names) for item in value]
    return value


# --------------------------------------------------------------------------- state


def _normalise_kind(kind: str) -> str:
    return kind.strip().lower().replace("_", "-")


KNOWN_KINDS = frozenset(
    {"*", *MESH_TYPES, *(r.name for r in RESOURCES), *(r.task_type for r in RESOURCES if r.task_type)}
).union(*(r.aliases for r in RESOURCES))


def _bearer(header: str | None) -> str:
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class State:
    """Everything the sandbox remembers, behind one lock."""

    def __init__(self, defaults: Config, paid_keys: Iterable[str]) -> None:
        self.lock = threading.Lock()
        self.defaults = defaults
        self.paid_keys = frozenset(paid_keys)
        self._secret = secrets.token_bytes(32)
        self.generation = 0
        self._clear()

    def _clear(self) -> None:
        self.config = self.defaults
        self.tasks: dict[str, TaskRecord] = {}
        self.balances = dict.fromkeys(self.paid_keys, self.defaults.balance)
        self.faults: list[Fault] = []
        self.failures: list[tuple[str, dict[str, str]]] = []
        self.log: list[dict[str, Any]] = []
        self.windows: dict[str, tuple[int, int]] = {}  # key -> (second, requests in it)
        self.refunds: list[TaskRecord] = []  # failing tasks whose credits come back when they fail
        self.seq = 0
        self.generation += 1  # requests begun before a reset are not logged after it

    # -- control API

    def reset(self) -> None:
        with self.lock:
            self._clear()

    def current_config(self) -> dict[str, Any]:
        with self.lock:
            return dataclasses.asdict(self.config)

    def configure(self, changes: Any) -> dict[str, Any]:
        with self.lock:
            self.config = self.config.updated(changes)
            if "balance" in changes:
                self.balances = dict.fromkeys(self.paid_keys, self.config.balance)
            return dataclasses.asdict(self.config)

    def add_fault(self, rule: Any) -> None:
        fault = Fault.parse(rule)
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def end_task(self, spec: Any, status: str) -> None:
        """``/_sandbox/cancel`` or ``/_sandbox/expire`` ``{"task_id": …}``: the task ends CANCELED (refunded;
        only while it runs) or EXPIRED (its files deleted, as after Meshy's 3 days; only once SUCCEEDED)."""
        task_id = spec.get("task_id") if isinstance(spec, dict) else None
        with self.lock:
            task = self.tasks.get(task_id) if isinstance(task_id, str) else None
            if task is None:
                bad_request(f"unknown task {task_id!r}")
            now = time.time()
            current = phase_of(task, now).status
            wanted = "SUCCEEDED" if status == "EXPIRED" else None
            if (current != wanted) if wanted else current in TERMINAL:
                bad_request(f"task {task_id} is {current}: it cannot become {status}")
            task.ended, task.ended_at = status, now
            if status == "CANCELED" and task.key in self.balances:
                self.balances[task.key] += task.cost
                if task in self.refunds:
                    self.refunds.remove(task)

    def add_failure(self, spec: Any) -> None:
        if not isinstance(spec, dict):
            bad_request("fail_next takes a JSON object")
        kind = _normalise_kind(str(spec.get("kind", "*")))
        if kind not in KNOWN_KINDS:
            bad_request(f"unknown kind {kind!r}")
        error = {
            "type": str(spec.get("type", "server_error")),
            "message": str(spec.get("message", "Task failed")),
            "code": str(spec.get("code", "")),
        }
        with self.lock:
            self.failures.append((kind, error))

    def take_fault(self, method: str, path: str, stream: bool) -> Fault | None:
        """The rule that owns this request, if any: the first match, consumed in order."""
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path, stream):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
            return None

    def record(
        self, method: str, path: str, status: int, generation: int, *, body: bytes = b"", connection: int = 0
    ) -> None:
        """Log a request; a POST's entry also names its body's fields and size (what was sent, not its data).

        ``connection`` tells the client's connections apart (its port): tests count how many it opened.
        """
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "t": time.time(),
            "connection": connection,
        }
        if method == "POST":
            parsed = _json_object(body)
            entry.update(fields=sorted(parsed), body_bytes=len(body))
            if isinstance(parsed.get("ai_model"), str):
                entry["ai_model"] = parsed["ai_model"]  # the model id as it arrived (tests: sent as given)
        with self.lock:
            if generation == self.generation:
                self.log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

    # -- API

    def admit(self, authorization: str | None) -> str:
        """The caller's key, counted against its per-second budget (401, 429)."""
        key = _bearer(authorization)
        if key != TEST_MODE_KEY and key not in self.paid_keys:
            raise ApiError(401, "Invalid API key" if key else "Missing API key: send Authorization: Bearer <key>")
        with self.lock:
            now = time.time()
            second = int(now)
            start, count = self.windows.get(key, (second, 0))
            count = count + 1 if start == second else 1
            self.windows[key] = (second, count)
            if count > self.config.rate_limit:
                retry = self.config.retry_after
                headers = {} if retry is None else {"Retry-After": _seconds_text(retry)}
                message = f"RateLimitExceeded: more than {self.config.rate_limit} requests per second"
                raise ApiError(429, message, headers)
            self._settle(now)
        return key

    def balance(self, key: str) -> int:
        with self.lock:
            self._settle(time.time())
            return TEST_MODE_BALANCE if key == TEST_MODE_KEY else self.balances[key]

    def create(self, resource: Resource, key: str, body: Any) -> str:
        if not isinstance(body, dict):
            bad_request("Request body must be a JSON object")
        check_common(body)
        resource.validate(body)
        refused = sandbox_models.problem(resource.name, body)
        if refused:
            bad_request(refused)
        with self.lock:
            now = time.time()
            kept = self._resolve(resource, key, body, now)
            task_type = resource.type_of(body)
            paid = key != TEST_MODE_KEY
            cost = resource.cost(body) if paid else 0
            if paid and self.balances[key] < cost:
                raise ApiError(402, "Insufficient credits")
            active = sum(1 for t in self.tasks.values() if t.key == key and not phase_of(t, now).terminal)
            if active >= self.config.queue_limit:
                limit = self.config.queue_limit
                raise ApiError(429, f"NoMoreConcurrentTasks: {active} tasks already in the queue (limit {limit})")
            failure = self._take_failure(resource, task_type)
            self.seq += 1
            task = TaskRecord(
                id=str(uuid.uuid4()),
                resource=resource,
                type=task_type,
                key=key,
                body=kept,
                created=now,
                seq=self.seq,
                duration=self.config.task_seconds,
                result_ttl=self.config.result_ttl_seconds,
                cost=cost,
                failure=failure,
                seed=random.randrange(2**31),
            )
            if paid:
                self.balances[key] -= cost
                if failure is not None:
                    self.refunds.append(task)
            self.tasks[task.id] = task
            return task.id

    def view(self, resource: Resource, key: str, task_id: str, base: str) -> dict[str, Any]:
        snapshot = self.snapshot(resource, key, task_id, base)
        if snapshot is None:
            raise ApiError(404, "Task not found")
        return snapshot[0]

    def snapshot(self, resource: Resource, key: str, task_id: str, base: str) -> tuple[dict[str, Any], Phase] | None:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None or task.key != key or task.resource is not resource:
                return None
            now = time.time()
            phase = phase_of(task, now)
            return render(task, phase, self._linker(base, task.id, now)), phase

    def page(self, resource: Resource, key: str, paging: tuple[int, int, bool], base: str) -> list[dict[str, Any]]:
        """One page of the key's tasks of ``resource``; ``paging`` is (page_num, page_size, newest_first)."""
        page_num, page_size, newest_first = paging
        with self.lock:
            now = time.time()
            mine = [t for t in self.tasks.values() if t.key == key and t.resource is resource]
            mine.sort(key=lambda t: (t.created, t.seq), reverse=newest_first)
            start = (page_num - 1) * page_size
            return [render(t, phase_of(t, now), self._linker(base, t.id, now)) for t in mine[start : start + page_size]]

    def delete(self, resource: Resource, key: str, task_id: str) -> None:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None or task.key != key or task.resource is not resource:
                raise ApiError(404, "Task not found")
            del self.tasks[task_id]

    def asset(self, task_id: str, file: str, expires_text: str, signature: str) -> Asset:
        """The file behind a signed URL; 403 like a CDN when the signature or the result expired."""
        try:
            expires = int(expires_text)
        except ValueError:
            raise ApiError(403, "Access denied: invalid signature") from None
        expected = self._signature(f"/assets/{task_id}/{file}", expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise ApiError(403, "Access denied: invalid signature")
        now = time.time()
        if now >= expires:
            raise ApiError(403, "Access denied: request has expired")
        with self.lock:
            task = self.tasks.get(task_id)
            phase = phase_of(task, now) if task else None
        if phase is not None and phase.status == "EXPIRED":
            raise ApiError(403, "Access denied: the result has expired")
        if task is None or phase is None or phase.status != "SUCCEEDED":
            raise ApiError(404, "Not found")
        if _ms(now) >= phase.finished_at + _ms(task.result_ttl):
            raise ApiError(403, "Access denied: the result has expired")
        asset = asset_files(task).get(file)
        if asset is None:
            raise ApiError(404, "Not found")
        return asset

    # -- helpers, called with the lock held

    def _settle(self, now: float) -> None:
        """Refund the credits of tasks that have FAILED by now."""
        for task in [t for t in self.refunds if now >= t.created + t.duration]:
            self.balances[task.key] += task.cost
            self.refunds.remove(task)

    def _take_failure(self, resource: Resource, task_type: str) -> dict[str, str] | None:
        for index, (kind, error) in enumerate(self.failures):
            if resource.known_as(kind, task_type):
                del self.failures[index]
                return error
        return None

    def _referenced(self, key: str, task_id: Any, name: str, types: frozenset[str] | None, now: float) -> TaskRecord:
        task = self.tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.key != key:
            bad_request(f"{name}: task {task_id!r} not found")
        if types is not None and task.type not in types:
            bad_request(f"{name}: task {task_id!r} is a {task.type} task, not one of: {', '.join(sorted(types))}")
        status = phase_of(task, now).status
        if status != "SUCCEEDED":
            bad_request(f"{name}: task {task_id!r} is {status}, not SUCCEEDED yet")
        return task

    def _resolve(self, resource: Resource, key: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        """Check the tasks ``body`` refers to; return the body to keep (a refine inherits its prompt)."""
        if resource.name == "text-to-3d":
            if body["mode"] == "refine":
                preview = self._referenced(
                    key, body["preview_task_id"], "preview_task_id", frozenset({"text-to-3d-preview"}), now
                )
                return {**body, "prompt": preview.body["prompt"]}
        elif resource.name == "animations":
            self._referenced(key, body["rig_task_id"], "rig_task_id", frozenset({"rig"}), now)
        elif body.get("input_task_id"):
            chained = resource.name in ("image-to-3d", "multi-image-to-3d")
            types = sandbox_images.IMAGE_TYPES if chained else MESH_TYPES
            self._referenced(key, body["input_task_id"], "input_task_id", types, now)
        return body

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}{expires}".encode(), hashlib.sha256).hexdigest()

    def _linker(self, base: str, task_id: str, now: float) -> Callable[[str], str]:
        expires = int(now + self.config.asset_ttl_seconds)

        def link(file: str) -> str:
            path = f"/assets/{task_id}/{file}"
            return f"{base}{path}?expires={expires}&sig={self._signature(path, expires)}"

        return link


# --------------------------------------------------------------------------- HTTP


class _Cut(Exception):
    """The body was cut short on purpose (``truncate``): close the connection."""


class BodyWriter:
    """Writes a response body, applying a ``truncate`` or ``corrupt`` fault on the way."""

    def __init__(self, wfile: io.BufferedIOBase, fault: Fault | None, length: int) -> None:
        self._wfile = wfile
        truncate = fault is not None and fault.action == "truncate"
        self._limit = int(fault.number("bytes", length // 2)) if fault is not None and truncate else None
        self._corrupt = fault is not None and fault.action == "corrupt"
        self._sent = 0

    def write(self, payload: bytes) -> None:
        self._emit(self._garble(payload))

    def chunk(self, payload: bytes) -> None:
        """One chunk of a ``Transfer-Encoding: chunked`` body."""
        payload = self._garble(payload)
        self._emit(b"%x\r\n%s\r\n" % (len(payload), payload))

    def end_chunks(self) -> None:
        self._emit(b"0\r\n\r\n")

    def _garble(self, payload: bytes) -> bytes:
        return garbage(len(payload), self._sent) if self._corrupt else payload

    def _emit(self, data: bytes) -> None:
        if self._limit is not None and self._sent + len(data) > self._limit:
            self._wfile.write(data[: max(0, self._limit - self._sent)])
            raise _Cut
        self._wfile.write(data)
        self._sent += len(data)


def _slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _param(query: dict[str, list[str]], name: str, default: str = "") -> str:
    values = query.get(name)
    return values[0] if values else default


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(_param(query, name, str(default)))
    except ValueError:
        bad_request(f"{name} must be an integer")


def _page_args(query: dict[str, list[str]]) -> tuple[int, int, bool]:
    """page_num, page_size and newest-first from a list query (400 when out of range)."""
    page_num = _int_param(query, "page_num", 1)
    page_size = _int_param(query, "page_size", 10)
    if page_num < 1:
        bad_request("page_num must be 1 or more")
    if not 1 <= page_size <= 50:
        bad_request("page_size must be between 1 and 50")
    # An unencoded "+" arrives as a space.
    sort_by = _param(query, "sort_by", "-created_at").strip()
    if sort_by not in ("-created_at", "+created_at", "created_at"):
        bad_request("sort_by must be +created_at or -created_at")
    return page_num, page_size, sort_by == "-created_at"


def _json_value(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        bad_request("Request body is not valid JSON")


def _json_object(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, or {} when it is none (for the request log, which never refuses)."""
    try:
        value = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


CONTROL: dict[tuple[str, str], Callable[[State, Any], Any]] = {
    ("POST", "reset"): lambda state, body: state.reset(),
    ("GET", "config"): lambda state, body: state.current_config(),
    ("POST", "config"): State.configure,
    ("POST", "faults"): State.add_fault,
    ("DELETE", "faults"): lambda state, body: state.clear_faults(),
    ("POST", "fail_next"): State.add_failure,
    ("GET", "requests"): lambda state, body: state.requests(),
    ("POST", "cancel"): lambda state, body: state.end_task(body, "CANCELED"),
    ("POST", "expire"): lambda state, body: state.end_task(body, "EXPIRED"),
}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    #: Connections waiting to be accepted. socketserver's 5 made a burst of new connections (a batch's first
    #: 50 tasks) wait a second each for the kernel to retry them, which Meshy's servers do not do.
    request_queue_size = 128
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: State) -> None:
        self.state = state
        self._aborted: set[Any] = set()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host name, which can stall start-up."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)

    def abort(self, connection: socket.socket) -> None:
        """Have ``connection`` closed with a TCP reset rather than an orderly shutdown."""
        try:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            return
        self._aborted.add(connection)

    def shutdown_request(self, request: Any) -> None:
        if request in self._aborted:
            self._aborted.discard(request)
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client went away: not worth a traceback
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MeshySandbox/1.0"
    timeout = 300  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def sandbox(self) -> SandboxServer:
        return cast(SandboxServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: ``GET /_sandbox/requests`` is the request log."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- dispatch

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        self._method, self._path = method, path
        self._fault: Fault | None = None
        self._answered = False
        self._generation = self.sandbox.state.generation
        self._body = b""
        try:
            body = self._body = self._read_body()
            if path.startswith(CONTROL_PREFIX) and path != LARGE_GLB_PATH:
                self._control(method, path, body)
                return
            self._fault = self.sandbox.state.take_fault(method, path, path.endswith("/stream"))
            if self._fault is not None and self._answer_fault(self._fault):
                return
            self._route(method, path, parse_qs(url.query), body)
        except ApiError as error:
            self._send_json(error.status, {"message": error.message}, error.headers)
        except (_Cut, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            if not self._answered:
                self._send_json(500, {"message": "Internal server error"})

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise ApiError(411, "Content-Length required")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, f"Request body too large: the limit is {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _control(self, method: str, path: str, body: bytes) -> None:
        action = CONTROL.get((method, path[len(CONTROL_PREFIX) :]))
        if action is None:
            raise ApiError(404, "Not Found")
        result = action(self.sandbox.state, _json_value(body))
        self._send_json(200, {"ok": True} if result is None else result)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        if path.startswith("/assets/"):
            self._require(method, "GET")
            self._asset(path, query)
            return
        if path == LARGE_GLB_PATH:
            self._require(method, "GET")
            self._large(query)
            return
        match = ROUTE.fullmatch(path)
        resource = RESOURCES_BY_PATH.get(match.group(1)) if match else None
        if path != BALANCE_PATH and (match is None or resource is None):
            raise ApiError(404, "Not Found")
        state = self.sandbox.state
        key = state.admit(self.headers.get("Authorization"))
        if path == sandbox_animations.LIBRARY_PATH:
            self._require(method, "GET")
            self._send_json(200, sandbox_animations.library())
            return
        if resource is None or match is None:
            self._require(method, "GET")
            self._send_json(200, {"balance": state.balance(key)})
            return
        task_id, stream = match.group(2), match.group(3)
        base = self._base_url()
        if task_id is None:
            self._require(method, "GET", "POST")
            if method == "POST":
                self._send_json(202, {"result": state.create(resource, key, _json_value(body))})
            else:
                self._send_json(200, state.page(resource, key, _page_args(query), base))
        elif stream:
            self._require(method, "GET")
            self._stream(resource, key, task_id, base)
        else:
            self._require(method, "GET", "DELETE")
            if method == "GET":
                self._send_json(200, state.view(resource, key, task_id, base))
            else:
                state.delete(resource, key, task_id)
                self._send(200, {}, [], 0)

    @staticmethod
    def _require(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiError(405, "Method Not Allowed", {"Allow": ", ".join(allowed)})

    def _base_url(self) -> str:
        host = self.headers.get("Host") or f"{self.sandbox.server_name}:{self.sandbox.server_port}"
        return f"http://{host}"

    # -- faults answered before (or instead of) the real handler

    def _answer_fault(self, fault: Fault) -> bool:
        """Play ``fault``; True when it has answered (or refused to answer) the request."""
        if fault.action == "delay":
            time.sleep(fault.number("seconds", 1.0))
        elif fault.action == "status":
            message = str(fault.params.get("message", "Injected fault"))
            self._send_json(int(fault.number("status", 500)), {"message": message}, fault.params.get("headers"))
            return True
        elif fault.action == "malformed":
            self._send(200, {"Content-Type": "text/html"}, [MALFORMED_BODY], len(MALFORMED_BODY))
            return True
        elif fault.action == "body":
            text = fault.params.get("prefix", "") + fault.params.get("text", "") * int(fault.number("repeat", 1))
            data = text.encode()
            headers = {"Content-Type": fault.params.get("content_type", "application/json")}
            self._send(int(fault.number("status", 200)), headers, _slices(data), len(data))
            return True
        elif fault.action == "reset":
            self.sandbox.abort(self.connection)
            self._hang_up()
            return True
        elif fault.action == "hang":
            self._hang(fault.number("seconds", 120.0))
            self._hang_up()
            return True
        return False

    def _hang_up(self) -> None:
        self.close_connection = True
        self._answered = True
        self._log(0)

    def _hang(self, seconds: float) -> None:
        """Say nothing until the client gives up or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.25))
            if not readable:
                continue
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return  # the client closed its end
            except OSError:
                return
            time.sleep(min(left, 0.25))  # it sent more bytes; keep ignoring them

    # -- answers

    def _log(self, status: int) -> None:
        if not self._path.startswith(CONTROL_PREFIX):
            self.sandbox.state.record(
                self._method, self._path, status, self._generation, body=self._body, connection=self.client_address[1]
            )

    def _start(self, status: int, headers: dict[str, str]) -> None:
        # Logged before anything is sent: a client that acts on these headers alone (a 403 whose
        # body it skips) then finds this request before its next one in the log.
        self._log(status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection and "Connection" not in headers:
            self.send_header("Connection", "close")
        self.end_headers()
        self._answered = True

    def _send(self, status: int, headers: dict[str, str], chunks: Iterable[bytes], length: int) -> None:
        self._start(status, {**headers, "Content-Length": str(length)})
        out = BodyWriter(self.wfile, self._fault, length)
        for chunk in chunks:
            out.write(chunk)

    def _shape(self, value: Any) -> Any:
        """``value`` as the active ``drop_fields`` fault wants it."""
        fault = self._fault
        if fault is not None and fault.action == "drop_fields":
            return drop_fields(value, fault.params.get("fields", []))
        return value

    def _send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(self._shape(value), ensure_ascii=False).encode()
        self._send(status, {"Content-Type": "application/json", **(headers or {})}, [data], len(data))

    def _asset(self, path: str, query: dict[str, list[str]]) -> None:
        match = re.fullmatch(r"/assets/([^/]+)/([^/]+)", path)
        if match is None:
            raise ApiError(404, "Not found")
        asset = self.sandbox.state.asset(match[1], match[2], _param(query, "expires"), _param(query, "sig"))
        data = asset.data()
        self._send(200, {"Content-Type": asset.content_type}, _slices(data), len(data))

    def _large(self, query: dict[str, list[str]]) -> None:
        try:
            megabytes = float(_param(query, "mb", "10"))
        except ValueError:
            bad_request("mb must be a number")
        if not 0 < megabytes <= MAX_LARGE_MB:
            bad_request(f"mb must be more than 0 and at most {MAX_LARGE_MB}")
        target = int(megabytes * 1024 * 1024)
        size = sandbox_assets.large_glb_size(target)
        self._send(200, {"Content-Type": GLB_TYPE}, sandbox_assets.large_glb_stream(target), size)

    # -- Server-Sent Events

    def _stream(self, resource: Resource, key: str, task_id: str, base: str) -> None:
        """A frame at each status change and at most every PROGRESS_FRAME_S while progress moves,
        heartbeats in between, the full object last."""
        headers = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        self._start(200, {**headers, "Transfer-Encoding": "chunked"})
        out = BodyWriter(self.wfile, self._fault, 0)
        rng = random.Random(task_id)
        frames = 0
        last: tuple[str, int] | None = None
        last_write = time.time()
        while not self._stream_fault_due(out, rng, frames):
            snapshot = self.sandbox.state.snapshot(resource, key, task_id, base)
            if snapshot is None:
                self._event(out, rng, "error", {"status_code": 404, "message": "Task not found"})
                break
            task, phase = snapshot
            progress_due = time.time() >= last_write + PROGRESS_FRAME_S
            if last is None or phase.status != last[0] or (phase.progress != last[1] and progress_due):
                last = (phase.status, phase.progress)
                brief = {"id": task["id"], "progress": phase.progress, "status": phase.status}
                self._event(out, rng, "message", self._shape(task if phase.terminal else brief))
                frames += 1
                last_write = time.time()
                if phase.terminal:
                    break
                continue
            wake = last_write + HEARTBEAT_S
            if phase.next_change is not None:
                wake = min(wake, max(phase.next_change, last_write + PROGRESS_FRAME_S) + 0.001)
            if phase.status_change is not None:
                wake = min(wake, phase.status_change + 0.001)
            time.sleep(max(0.0, wake - time.time()))
            if time.time() >= last_write + HEARTBEAT_S:
                out.chunk(b": ping\n\n")
                last_write = time.time()
        else:
            return
        out.end_chunks()

    def _stream_fault_due(self, out: BodyWriter, rng: random.Random, frames: int) -> bool:
        """Play ``sse_drop``/``sse_error`` once ``events`` frames have gone out; True ends the stream."""
        fault = self._fault
        if fault is None or fault.action not in STREAM_ACTIONS:
            return False
        if frames < fault.number("events", 1 if fault.action == "sse_drop" else 0):
            return False
        if fault.action == "sse_drop":
            self.close_connection = True  # no closing chunk: the client sees the stream break
            return True
        status = int(fault.number("status_code", 500))
        message = str(fault.params.get("message", "Internal server error"))
        self._event(out, rng, "error", {"status_code": status, "message": message})
        out.end_chunks()
        return True

    @staticmethod
    def _event(out: BodyWriter, rng: random.Random, name: str, data: Any) -> None:
        """One SSE frame, written in two chunks split at a random byte (even inside a UTF-8 character)."""
        frame = f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        cut = rng.randint(1, len(frame) - 1)
        out.chunk(frame[:cut])
        time.sleep(0.001)
        out.chunk(frame[cut:])


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Offline Meshy API sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--task-seconds", type=float, default=Config.task_seconds)
    parser.add_argument("--api-key", action="append", default=[], help="a paid key to accept (repeatable)")
    parser.add_argument("--balance", type=int, default=Config.balance)
    parser.add_argument("--queue-limit", type=int, default=Config.queue_limit)
    parser.add_argument("--rate-limit", type=int, default=Config.rate_limit)
    return parser.parse_args(argv)


def _terminate(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    defaults = Config(
        task_seconds=args.task_seconds, balance=args.balance, rate_limit=args.rate_limit, queue_limit=args.queue_limit
    )
    server = SandboxServer((args.host, args.port), State(defaults, args.api_key))
    host = "127.0.0.1" if server.server_name in ("0.0.0.0", "") else server.server_name
    print(f"MESHY_BASE_URL=http://{host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
