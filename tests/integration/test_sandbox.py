"""The offline Meshy sandbox over real HTTP: API contract, credits, limits, SSE, signed assets, faults.

Only the standard library talks to it here (``http.client``), so these tests pin the
server's behaviour independently of the add-on's own API client.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sandbox_control import PAID_KEY, SANDBOX_SCRIPT, TEST_KEY, Sandbox

TEXT = "/openapi/v2/text-to-3d"
IMAGE = "/openapi/v1/image-to-3d"
MULTI = "/openapi/v1/multi-image-to-3d"
RIG = "/openapi/v1/rigging"
ANIMATE = "/openapi/v1/animations"
RETEXTURE = "/openapi/v1/retexture"
REMESH = "/openapi/v1/remesh"
BALANCE = "/openapi/v1/balance"
TIMEOUT = 10.0
WAIT_BOUND_S = 10.0
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED"}
PBR_MAPS = {"base_color", "metallic", "normal", "roughness"}


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


PNG_URI = _data_uri("image/png", b"\x89PNG\r\n\x1a\n" + bytes(24))
JPEG_URI = _data_uri("image/jpeg", b"\xff\xd8\xff\xe0" + bytes(24))
GIF_URI = _data_uri("image/png", b"GIF89a" + bytes(24))
GLB_URI = _data_uri("application/octet-stream", b"glTF" + struct.pack("<II", 2, 12))
OBJ_URI = _data_uri("application/octet-stream", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
PREVIEW = {"mode": "preview", "prompt": "a wooden chair with a carved back, ünïcödé"}
LONG = "x" * 601


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stream:
    """What an SSE request returned: frames as (event, data), comments, the raw reads, a clean end or not."""

    status: int
    frames: list[tuple[str, Any]] = field(default_factory=list)
    comments: int = 0
    pieces: list[bytes] = field(default_factory=list)
    complete: bool = True


class Api:
    """Meshy calls with ``http.client``: one connection per call, the paid key unless told otherwise."""

    def __init__(self, sandbox: Sandbox) -> None:
        parts = urlsplit(sandbox.url)
        self.sandbox = sandbox
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def connect(self, timeout: float = TIMEOUT) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = PAID_KEY,
        headers: dict[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> Reply:
        sent = {"Authorization": f"Bearer {key}"} if key else {}
        sent.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn = self.connect(timeout)
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **options: Any) -> Reply:
        return self.call("GET", path, **options)

    def post(self, path: str, body: Any, **options: Any) -> Reply:
        return self.call("POST", path, body, **options)

    def create(self, path: str, body: dict[str, Any], key: str = PAID_KEY) -> str:
        reply = self.post(path, body, key=key)
        assert reply.status == 202, reply.body
        return str(reply.json()["result"])

    def task(self, path: str, task_id: str, key: str = PAID_KEY) -> dict[str, Any]:
        reply = self.get(f"{path}/{task_id}", key=key)
        assert reply.status == 200, reply.body
        return dict(reply.json())

    def wait(self, path: str, task_id: str, key: str = PAID_KEY) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_BOUND_S
        while True:
            task = self.task(path, task_id, key)
            if task["status"] in TERMINAL:
                return task
            assert time.monotonic() < deadline, f"task still {task['status']}"
            time.sleep(0.02)

    def succeeded(self, path: str, body: dict[str, Any], key: str = PAID_KEY) -> str:
        """A task of ``path`` that has already SUCCEEDED (created while tasks take no time)."""
        previous = self.sandbox.control("GET", "config")["task_seconds"]
        self.sandbox.configure(task_seconds=0)
        try:
            return self.create(path, body, key)
        finally:
            self.sandbox.configure(task_seconds=previous)

    def balance(self, key: str = PAID_KEY) -> int:
        return int(self.get(BALANCE, key=key).json()["balance"])

    def ids(self, path: str, query: str = "", key: str = PAID_KEY) -> list[str]:
        reply = self.get(f"{path}{query}", key=key)
        assert reply.status == 200, reply.body
        return [task["id"] for task in reply.json()]

    def fetch(self, url: str) -> Reply:
        """GET a signed asset URL, no Authorization (like a CDN)."""
        parts = urlsplit(url)
        return self.get(f"{parts.path}?{parts.query}", key=None)

    def stream(
        self, path: str, task_id: str, key: str = PAID_KEY, stop: Callable[[Stream], bool] | None = None
    ) -> Stream:
        conn = self.connect()
        try:
            conn.request("GET", f"{path}/{task_id}/stream", headers={"Authorization": f"Bearer {key}"})
            response = conn.getresponse()
            result = Stream(response.status)
            buffer = b""
            try:
                while piece := response.read1(65536):
                    result.pieces.append(piece)
                    buffer += piece
                    *blocks, buffer = buffer.split(b"\n\n")
                    for block in blocks:
                        _add_block(result, block.decode())
                    if stop is not None and stop(result):
                        break
            except http.client.IncompleteRead:
                result.complete = False
            return result
        finally:
            conn.close()


def _add_block(stream: Stream, block: str) -> None:
    event, data = "message", []
    for line in block.split("\n"):
        if line.startswith(":"):
            stream.comments += 1
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        stream.frames.append((event, json.loads("\n".join(data))))


def _glb_json(data: bytes) -> dict[str, Any]:
    """The JSON chunk of a GLB."""
    assert data[:4] == b"glTF"
    (length,) = struct.unpack_from("<I", data, 12)
    return dict(json.loads(data[20 : 20 + length]))


def _expires(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["expires"][0])


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    sandbox.configure(task_seconds=0.3, rate_limit=1000)
    return Api(sandbox)


# --------------------------------------------------------------------------- process


def test_prints_its_url_first_serves_quietly_and_exits_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, str(SANDBOX_SCRIPT), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"MESHY_BASE_URL=http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        conn = http.client.HTTPConnection("127.0.0.1", int(match[1]), timeout=TIMEOUT)
        conn.request("GET", BALANCE, headers={"Authorization": f"Bearer {TEST_KEY}"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["balance"] >= 100_000
        conn.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_connections_are_kept_alive_across_requests_and_errors(api: Api) -> None:
    conn = api.connect()
    sockets = []
    try:
        for path in (BALANCE, f"{TEXT}/missing", f"{TEXT}?page_size=500", BALANCE):
            conn.request("GET", path, headers={"Authorization": f"Bearer {PAID_KEY}"})
            response = conn.getresponse()
            response.read()
            sockets.append(conn.sock)
        assert sockets[0] is not None
        assert all(sock is sockets[0] for sock in sockets)
    finally:
        conn.close()


# --------------------------------------------------------------------------- resources


def _refine_body(api: Api) -> dict[str, Any]:
    return {"mode": "refine", "preview_task_id": api.succeeded(TEXT, PREVIEW), "enable_pbr": True}


def _animation_body(api: Api) -> dict[str, Any]:
    return {"rig_task_id": api.succeeded(RIG, {"model_url": GLB_URI}), "action_id": 13}


def _remesh_body(api: Api) -> dict[str, Any]:
    return {"input_task_id": api.succeeded(TEXT, PREVIEW), "target_formats": ["glb", "fbx"]}


CASES: dict[str, tuple[str, Callable[[Api], dict[str, Any]], str]] = {
    "text-preview": (TEXT, lambda api: dict(PREVIEW), "text-to-3d-preview"),
    "text-refine": (TEXT, _refine_body, "text-to-3d-refine"),
    "image": (IMAGE, lambda api: {"image_url": PNG_URI, "enable_pbr": True}, "image-to-3d"),
    "multi-image": (
        MULTI,
        lambda api: {"image_urls": [PNG_URI, JPEG_URI, "https://example.com/b.jpg"]},
        "multi-image-to-3d",
    ),
    "rigging": (RIG, lambda api: {"model_url": GLB_URI, "height_meters": 1.8}, "rig"),
    "animation": (ANIMATE, _animation_body, "animate"),
    "retexture": (RETEXTURE, lambda api: {"model_url": OBJ_URI, "text_style_prompt": "rusty metal"}, "retexture"),
    "remesh": (REMESH, _remesh_body, "remesh"),
}


def _main_glb_url(task: dict[str, Any]) -> str:
    if task["type"] == "rig":
        return str(task["result"]["rigged_character_glb_url"])
    if task["type"] == "animate":
        return str(task["result"]["animation_glb_url"])
    return str(task["model_urls"]["glb"])


@pytest.mark.parametrize("case", CASES)
def test_create_get_list_and_delete(api: Api, case: str) -> None:
    path, make_body, task_type = CASES[case]
    body = make_body(api)
    before = set(api.ids(path))
    task_id = api.create(path, body)

    task = api.task(path, task_id)
    assert task["id"] == task_id
    assert task["type"] == task_type
    assert task["status"] in ("PENDING", "IN_PROGRESS")
    assert task["finished_at"] == 0
    assert task["expires_at"] == 0
    if task_type in ("rig", "animate"):
        assert task["result"] is None
    else:
        assert task["model_urls"] == {"glb": ""}
    assert set(api.ids(path, "?page_size=50")) == before | {task_id}
    other = IMAGE if path != IMAGE else TEXT
    assert task_id not in api.ids(other)
    assert api.get(f"{other}/{task_id}").status == 404

    deleted = api.call("DELETE", f"{path}/{task_id}")
    assert (deleted.status, deleted.body) == (200, b"")
    gone = api.get(f"{path}/{task_id}")
    assert gone.status == 404
    assert gone.json() == {"message": "Task not found"}
    assert task_id not in api.ids(path)
    assert api.call("DELETE", f"{path}/{task_id}").status == 404


@pytest.mark.parametrize("case", CASES)
def test_each_resource_succeeds_with_a_downloadable_glb(api: Api, case: str) -> None:
    path, make_body, _ = CASES[case]
    task = api.wait(path, api.create(path, make_body(api)))
    assert task["status"] == "SUCCEEDED"
    assert task["progress"] == 100
    assert task["task_error"] == {"message": ""}
    assert task["consumed_credits"] > 0
    download = api.fetch(_main_glb_url(task))
    assert download.status == 200
    assert download.headers["Content-Type"] == "model/gltf-binary"
    assert int(download.headers["Content-Length"]) == len(download.body)
    assert _glb_json(download.body)["asset"]["version"] == "2.0"


def test_list_pages_and_sorts_by_creation(api: Api) -> None:
    api.sandbox.configure(task_seconds=30)
    created = [api.create(TEXT, PREVIEW) for _ in range(5)]
    newest_first = created[::-1]
    pages = [api.ids(TEXT, f"?page_num={n}&page_size=2&sort_by=-created_at") for n in (1, 2, 3, 4)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:], []]
    assert api.ids(TEXT, "?page_size=5&sort_by=%2Bcreated_at") == created
    assert api.ids(TEXT, "?page_size=5&sort_by=+created_at") == created  # an unencoded "+" reads as a space
    assert api.ids(TEXT) == newest_first  # defaults: page 1, 10 per page, newest first
    assert api.ids(IMAGE) == []
    assert api.ids(TEXT, key=TEST_KEY) == []
    for query in ("?page_size=51", "?page_size=0", "?page_num=0", "?page_num=one", "?sort_by=name"):
        reply = api.get(f"{TEXT}{query}")
        assert reply.status == 400, query
        assert reply.json()["message"]


def test_tasks_are_private_to_their_key(api: Api) -> None:
    task_id = api.create(TEXT, PREVIEW)
    assert api.get(f"{TEXT}/{task_id}", key=TEST_KEY).status == 404
    assert api.call("DELETE", f"{TEXT}/{task_id}", key=TEST_KEY).status == 404
    assert api.stream(TEXT, task_id, key=TEST_KEY).frames == [
        ("error", {"status_code": 404, "message": "Task not found"})
    ]
    assert api.task(TEXT, task_id)["id"] == task_id


def test_unknown_routes_and_methods(api: Api) -> None:
    assert api.get("/openapi/v1/text-to-3d").status == 404  # text to 3D lives under v2
    assert api.get("/openapi/v1/nothing-here").status == 404
    wrong_method = api.call("PUT", f"{TEXT}/some-id")
    assert wrong_method.status == 405
    assert wrong_method.json()["message"]
    assert api.post(BALANCE, {}).status == 405


# --------------------------------------------------------------------------- progression and SSE


def test_task_moves_from_pending_through_rising_progress_to_succeeded(api: Api) -> None:
    api.sandbox.configure(task_seconds=1.5)
    task_id = api.create(TEXT, PREVIEW)
    seen = [api.task(TEXT, task_id)]
    while seen[-1]["status"] not in TERMINAL:
        time.sleep(0.02)
        seen.append(api.task(TEXT, task_id))
        assert len(seen) < 2000

    first, last = seen[0], seen[-1]
    assert first["status"] == "PENDING"
    assert first["preceding_tasks"] > 0
    assert (first["progress"], first["started_at"], first["texture_urls"]) == (0, 0, None)
    running = [t for t in seen if t["status"] == "IN_PROGRESS"]
    assert running
    assert all(1 <= t["progress"] <= 99 and t["started_at"] > 0 and t["finished_at"] == 0 for t in running)
    assert all(t["preceding_tasks"] == 0 for t in running)
    order = ["PENDING", "IN_PROGRESS", "SUCCEEDED"]
    ranks = [order.index(t["status"]) for t in seen]
    assert ranks == sorted(ranks)
    progress = [t["progress"] for t in seen]
    assert progress == sorted(progress)
    assert (last["status"], last["progress"]) == ("SUCCEEDED", 100)
    assert last["created_at"] <= last["started_at"] <= last["finished_at"]
    assert last["expires_at"] == last["finished_at"] + 72 * 3600 * 1000
    assert last["consumed_credits"] == 20
    assert last["prompt"] == PREVIEW["prompt"]
    assert "seed" in last and "art_style" in last  # undocumented extras, as the real service sends


def test_stream_sends_progress_frames_then_the_full_object_and_ends(api: Api) -> None:
    task_id = api.create(TEXT, PREVIEW)
    stream = api.stream(TEXT, task_id)
    assert stream.status == 200
    assert stream.complete
    assert len(stream.frames) >= 3
    assert {event for event, _ in stream.frames} == {"message"}
    *updates, (_, final) = stream.frames
    assert all(set(data) == {"id", "progress", "status"} for _, data in updates)
    assert all(data["status"] in ("PENDING", "IN_PROGRESS") for _, data in updates)
    progress = [data["progress"] for _, data in stream.frames]
    assert progress == sorted(progress)
    assert final["status"] == "SUCCEEDED"
    assert final["prompt"] == PREVIEW["prompt"]
    assert final["model_urls"]["glb"].startswith(api.sandbox.url)
    assert set(final) == set(api.task(TEXT, task_id))
    # Frames arrive split across reads, never neatly one per read.
    assert any(not piece.endswith(b"\n\n") for piece in stream.pieces)


def test_stream_paces_progress_frames_as_meshy_does_not_one_per_percent(api: Api) -> None:
    """A 1.5 s task: a handful of rising progress frames (at most 4 a second), not 99."""
    api.sandbox.configure(task_seconds=1.5)
    task_id = api.create(TEXT, PREVIEW)
    frames = [data for _, data in api.stream(TEXT, task_id).frames]
    running = [data["progress"] for data in frames if data["status"] == "IN_PROGRESS"]
    assert 2 <= len(running) <= 1.5 / 0.25 + 1  # progress moves, paced whatever the load
    assert running == sorted(set(running))
    assert frames[-1]["status"] == "SUCCEEDED"


def test_stream_of_a_failed_task_ends_with_its_error(api: Api) -> None:
    api.sandbox.fail_next("image-to-3d", "Image too complex", "image_too_complex")
    task_id = api.create(IMAGE, {"image_url": PNG_URI})
    _, final = api.stream(IMAGE, task_id).frames[-1]
    assert final["status"] == "FAILED"
    assert final["task_error"] == {"type": "invalid_input", "message": "Image too complex", "code": "image_too_complex"}


def test_stream_of_an_unknown_task_answers_200_then_an_error_event(api: Api) -> None:
    stream = api.stream(TEXT, "no-such-task")
    assert stream.status == 200
    assert stream.frames == [("error", {"status_code": 404, "message": "Task not found"})]
    assert stream.complete


def test_stream_sends_heartbeats_while_nothing_changes(api: Api) -> None:
    api.sandbox.configure(task_seconds=30)
    task_id = api.create(TEXT, PREVIEW)
    stream = api.stream(TEXT, task_id, stop=lambda s: s.comments > 0)
    assert stream.comments == 1
    assert [data["status"] for _, data in stream.frames] == ["PENDING"]


# --------------------------------------------------------------------------- auth, credits, limits


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer msy_not_a_real_key"},
        {"Authorization": f"Basic {PAID_KEY}"},
        {"Authorization": PAID_KEY},
    ],
    ids=["missing", "unknown-key", "wrong-scheme", "no-scheme"],
)
def test_requests_without_a_valid_key_get_401(api: Api, headers: dict[str, str]) -> None:
    for method, path, body in (("GET", BALANCE, None), ("POST", TEXT, PREVIEW), ("GET", TEXT, None)):
        reply = api.call(method, path, body, key=None, headers=headers)
        assert reply.status == 401
        assert reply.json()["message"]
        assert "msy_not_a_real_key" not in reply.body.decode()
    assert api.ids(TEXT) == []


def test_spending_the_balance_gives_402_while_the_test_key_is_free(api: Api) -> None:
    api.sandbox.configure(balance=25)
    assert api.balance() == 25
    preview = api.create(TEXT, PREVIEW)  # 20 credits
    assert api.balance() == 5
    refused = api.post(TEXT, PREVIEW)
    assert refused.status == 402
    assert refused.json() == {"message": "Insufficient credits"}
    api.create(RIG, {"model_url": GLB_URI})  # 5 credits: exactly what is left
    assert api.balance() == 0
    assert api.task(TEXT, preview)["consumed_credits"] == 20

    free_balance = api.balance(TEST_KEY)
    assert free_balance >= 100_000
    free = api.create(TEXT, PREVIEW, key=TEST_KEY)
    assert api.task(TEXT, free, key=TEST_KEY)["consumed_credits"] == 0
    assert api.balance(TEST_KEY) == free_balance


@pytest.mark.parametrize(
    "body, cost",
    [
        ({**PREVIEW, "ai_model": "meshy-7.1"}, 20),
        ({"image_url": PNG_URI}, 30),
        ({"image_url": PNG_URI, "should_texture": False}, 20),
        ({"image_url": PNG_URI, "ai_model": "meshy-6-lite"}, 30),
        ({"image_url": PNG_URI, "ai_model": "a-model-from-next-month", "should_texture": False}, 20),
    ],
)
def test_credits_follow_the_documented_costs(api: Api, body: dict[str, Any], cost: int) -> None:
    path = TEXT if "mode" in body else IMAGE
    task_id = api.create(path, body)
    assert api.balance() == 1000 - cost
    assert api.task(path, task_id)["consumed_credits"] == cost


def test_failed_task_reports_its_error_and_refunds_credits(api: Api) -> None:
    api.sandbox.fail_next("text-to-3d", "Flagged by moderation", "moderation_blocked")
    failing = api.create(TEXT, PREVIEW)
    assert api.balance() == 980
    task = api.wait(TEXT, failing)
    assert task["status"] == "FAILED"
    assert task["task_error"] == {
        "type": "invalid_input",
        "message": "Flagged by moderation",
        "code": "moderation_blocked",
    }
    assert task["consumed_credits"] == 0
    assert api.balance() == 1000
    assert api.wait(TEXT, api.create(TEXT, PREVIEW))["status"] == "SUCCEEDED"  # fail_next is used up


@pytest.mark.parametrize("retry_after, header", [(2, "2"), (None, None)])
def test_too_many_requests_per_second_get_429_rate_limit_exceeded(
    api: Api, retry_after: int | None, header: str | None
) -> None:
    api.sandbox.configure(rate_limit=3, retry_after=retry_after)
    # 12 quick requests span at most three one-second windows, so one window sees more than 3.
    replies = [api.get(BALANCE) for _ in range(12)]
    limited = [reply for reply in replies if reply.status == 429]
    assert limited
    assert {reply.status for reply in replies} <= {200, 429}
    for reply in limited:
        assert reply.json()["message"].startswith("RateLimitExceeded")
        assert reply.headers.get("Retry-After") == header
    assert api.get(BALANCE, key=TEST_KEY).status == 200  # each key has its own budget


def test_a_full_queue_gives_429_no_more_concurrent_tasks(api: Api) -> None:
    api.sandbox.configure(queue_limit=2, task_seconds=30)
    first = api.create(TEXT, PREVIEW)
    api.create(IMAGE, {"image_url": PNG_URI})
    refused = api.post(RIG, {"model_url": GLB_URI})
    assert refused.status == 429
    assert refused.json()["message"].startswith("NoMoreConcurrentTasks")
    assert refused.headers.get("Retry-After") is None
    assert api.balance() == 1000 - 20 - 30
    assert api.call("DELETE", f"{TEXT}/{first}").status == 200
    api.create(RIG, {"model_url": GLB_URI})


# --------------------------------------------------------------------------- assets


def test_asset_urls_are_signed_expire_and_are_renewed_by_fetching_the_task(api: Api) -> None:
    task = api.wait(TEXT, api.create(TEXT, PREVIEW))
    url = task["model_urls"]["glb"]
    assert api.fetch(url).status == 200
    tampered = re.sub(r"sig=[0-9a-f]{4}", "sig=0000", url)
    assert api.fetch(tampered).status == 403
    other_file = url.replace("/model.glb", "/model.obj")
    assert api.fetch(other_file).status == 403  # the signature covers the path
    later = url.replace(f"expires={_expires(url)}", f"expires={_expires(url) + 3600}")
    assert api.fetch(later).status == 403  # and the expiry

    api.sandbox.configure(asset_ttl_seconds=-60)
    stale = api.task(TEXT, task["id"])["model_urls"]["glb"]
    refused = api.fetch(stale)
    assert refused.status == 403
    assert "expired" in refused.json()["message"]

    api.sandbox.configure(asset_ttl_seconds=600)
    fresh = api.task(TEXT, task["id"])["model_urls"]["glb"]
    assert _expires(fresh) > time.time()
    assert api.fetch(fresh).status == 200


def test_assets_of_an_expired_result_are_refused(api: Api) -> None:
    api.sandbox.configure(result_ttl_seconds=0)
    task = api.wait(TEXT, api.create(TEXT, PREVIEW))
    assert task["expires_at"] == task["finished_at"]
    assert api.fetch(task["model_urls"]["glb"]).status == 403


@pytest.mark.parametrize("pbr, maps", [(False, {"base_color"}), (True, PBR_MAPS)], ids=["base-colour", "pbr"])
def test_refined_textures_follow_enable_pbr(api: Api, pbr: bool, maps: set[str]) -> None:
    preview = api.succeeded(TEXT, PREVIEW)
    body = {"mode": "refine", "preview_task_id": preview, "enable_pbr": pbr, "texture_prompt": "oak"}
    task = api.wait(TEXT, api.create(TEXT, body))
    assert task["prompt"] == PREVIEW["prompt"]
    assert task["texture_prompt"] == "oak"
    [textures] = task["texture_urls"]
    assert set(textures) == maps
    for url in textures.values():
        png = api.fetch(url)
        assert (png.status, png.headers["Content-Type"]) == (200, "image/png")
        assert png.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert api.fetch(task["thumbnail_url"]).body.startswith(b"\x89PNG")
    material = _glb_json(api.fetch(task["model_urls"]["glb"]).body)["materials"][0]
    assert "baseColorTexture" in material["pbrMetallicRoughness"]
    assert ("metallicRoughnessTexture" in material["pbrMetallicRoughness"]) is pbr
    assert ("normalTexture" in material) is pbr


def test_rig_and_animation_results_link_skinned_and_animated_glbs(api: Api) -> None:
    rig = api.wait(RIG, api.create(RIG, {"model_url": GLB_URI}))
    result = rig["result"]
    rigged = _glb_json(api.fetch(result["rigged_character_glb_url"]).body)
    assert rigged["skins"]
    basic = result["basic_animations"]
    for clip in ("walking", "running"):
        assert _glb_json(api.fetch(basic[f"{clip}_glb_url"]).body)["animations"]
        assert api.fetch(basic[f"{clip}_armature_glb_url"]).status == 200
    # FBX is not written offline, so it is not advertised: every linked file is real.
    assert not any(key.endswith("fbx_url") for key in (*result, *basic))

    body = {"rig_task_id": rig["id"], "action_id": 1, "post_process": {"operation_type": "change_fps", "fps": 30}}
    animation = api.wait(ANIMATE, api.create(ANIMATE, body))
    animated = _glb_json(api.fetch(animation["result"]["animation_glb_url"]).body)
    assert animated["animations"] and animated["skins"]
    assert set(animation["result"]) == {"animation_glb_url"}


def test_large_glb_streams_a_valid_glb_of_about_the_requested_size(api: Api) -> None:
    reply = api.get("/_sandbox/large.glb?mb=2", key=None)
    assert reply.status == 200
    assert len(reply.body) == int(reply.headers["Content-Length"])
    assert abs(len(reply.body) - 2 * 1024 * 1024) < 256 * 1024
    assert struct.unpack_from("<4sII", reply.body) == (b"glTF", 2, len(reply.body))
    assert api.sandbox.requests() == []  # control endpoints are never logged


# --------------------------------------------------------------------------- validation

INVALID = [
    (TEXT, {"mode": "preview"}, "prompt"),
    (TEXT, {"mode": "preview", "prompt": "   "}, "prompt"),
    (TEXT, {"mode": "preview", "prompt": LONG}, "prompt"),
    (TEXT, {"prompt": "a chair"}, "mode"),
    (TEXT, {"mode": "draft", "prompt": "a chair"}, "mode"),
    (TEXT, {**PREVIEW, "model_type": "highpoly"}, "model_type"),
    (TEXT, {**PREVIEW, "ai_model": "meshy-5"}, "ai_model"),
    (TEXT, {**PREVIEW, "ai_model": ""}, "ai_model"),
    (TEXT, {**PREVIEW, "model_type": "lowpoly"}, "model_type"),
    # the model catalogue's rules (scripts/sandbox_models.py)
    (TEXT, {**PREVIEW, "is_a_t_pose": True}, "is_a_t_pose"),
    (IMAGE, {"image_url": PNG_URI, "ai_model": "meshy-t1"}, "ai_model"),
    (MULTI, {"image_urls": [PNG_URI], "ai_model": "meshy-t2"}, "ai_model"),
    (IMAGE, {"image_url": PNG_URI, "ai_model": "meshy-6-lite", "texture_resolution": "8k"}, "texture_resolution"),
    (MULTI, {"image_urls": [PNG_URI], "ai_model": "meshy-7.1", "geometry_resolution": "4k"}, "geometry_resolution"),
    (TEXT, {**PREVIEW, "ai_model": "meshy-t2", "target_polycount": 20_000}, "target_polycount"),
    (TEXT, {**PREVIEW, "topology": "hexagon"}, "topology"),
    (TEXT, {**PREVIEW, "symmetry_mode": "maybe"}, "symmetry_mode"),
    (TEXT, {**PREVIEW, "pose_mode": "x-pose"}, "pose_mode"),
    (TEXT, {**PREVIEW, "art_style": "cartoon"}, "art_style"),
    (TEXT, {**PREVIEW, "origin_at": "top"}, "origin_at"),
    (TEXT, {**PREVIEW, "target_polycount": 99}, "target_polycount"),
    (TEXT, {**PREVIEW, "target_polycount": 300_001}, "target_polycount"),
    (TEXT, {**PREVIEW, "should_remesh": "yes"}, "should_remesh"),
    (TEXT, {**PREVIEW, "target_formats": ["glb", "blend"]}, "target_formats"),
    (TEXT, {"mode": "refine"}, "preview_task_id"),
    (TEXT, {"mode": "refine", "preview_task_id": "no-such-task"}, "preview_task_id"),
    (TEXT, {"mode": "refine", "preview_task_id": "any", "texture_prompt": LONG}, "texture_prompt"),
    (IMAGE, {}, "image_url"),
    (IMAGE, {"image_url": GIF_URI}, "image_url"),
    (IMAGE, {"image_url": "data:image/png;base64,@@not base64@@"}, "image_url"),
    (IMAGE, {"image_url": "ftp://example.com/chair.png"}, "image_url"),
    (IMAGE, {"image_url": "https://example.com/chair.gif"}, "image_url"),
    (IMAGE, {"image_url": PNG_URI, "should_texture": False, "enable_pbr": True}, "enable_pbr"),
    (IMAGE, {"image_url": PNG_URI, "texture_prompt": LONG}, "texture_prompt"),
    (IMAGE, {"input_task_id": "no-such-task"}, "input_task_id"),
    (MULTI, {"image_urls": []}, "image_urls"),
    (MULTI, {"image_urls": [PNG_URI] * 5}, "image_urls"),
    (MULTI, {"image_urls": [PNG_URI, GIF_URI]}, "image_urls[1]"),
    (RIG, {}, "model_url"),
    (RIG, {"model_url": OBJ_URI}, "model_url"),
    (RIG, {"model_url": "https://example.com/character.fbx"}, "model_url"),
    (RIG, {"model_url": GLB_URI, "height_meters": 0}, "height_meters"),
    (RIG, {"input_task_id": "no-such-task"}, "input_task_id"),
    (ANIMATE, {"action_id": 1}, "rig_task_id"),
    (ANIMATE, {"rig_task_id": "no-such-task", "action_id": 1}, "rig_task_id"),
    (ANIMATE, {"rig_task_id": "any", "action_id": "walk"}, "action_id"),
    (ANIMATE, {"rig_task_id": "any", "action_id": 1.5}, "action_id"),
    (ANIMATE, {"rig_task_id": "any", "action_id": 1, "post_process": {"operation_type": "zip"}}, "post_process"),
    (RETEXTURE, {"text_style_prompt": "rust"}, "model_url"),
    (RETEXTURE, {"model_url": "https://example.com/chair.glb"}, "text_style_prompt"),
    (RETEXTURE, {"model_url": "https://example.com/chair.glb", "text_style_prompt": LONG}, "text_style_prompt"),
    (RETEXTURE, {"model_url": "https://example.com/chair.glb", "image_style_url": GIF_URI}, "image_style_url"),
    (REMESH, {}, "model_url"),
    (REMESH, {"model_url": "https://example.com/chair.glb", "resize_height": -1}, "resize_height"),
]


@pytest.mark.parametrize("path, body, name", INVALID, ids=[f"{p.rsplit('/', 1)[1]}-{n}" for p, _, n in INVALID])
def test_invalid_requests_get_400_naming_the_field_and_cost_nothing(
    api: Api, path: str, body: dict[str, Any], name: str
) -> None:
    reply = api.post(path, body)
    assert reply.status == 400
    assert name in reply.json()["message"]
    assert api.balance() == 1000
    assert api.ids(path) == []


def test_references_must_be_succeeded_tasks_of_the_same_key_and_kind(api: Api) -> None:
    api.sandbox.configure(task_seconds=30)
    running = api.create(TEXT, PREVIEW)
    not_ready = api.post(TEXT, {"mode": "refine", "preview_task_id": running})
    assert not_ready.status == 400
    assert "SUCCEEDED" in not_ready.json()["message"]

    preview = api.succeeded(TEXT, PREVIEW)
    assert api.post(TEXT, {"mode": "refine", "preview_task_id": preview}, key=TEST_KEY).status == 400
    refine = api.succeeded(TEXT, {"mode": "refine", "preview_task_id": preview})
    assert api.post(TEXT, {"mode": "refine", "preview_task_id": refine}).status == 400
    assert api.post(ANIMATE, {"rig_task_id": preview, "action_id": 0}).status == 400
    rig = api.succeeded(RIG, {"input_task_id": refine})
    assert api.post(RIG, {"input_task_id": rig}).status == 400  # a rig is not a mesh to rig
    assert api.post(ANIMATE, {"rig_task_id": rig, "action_id": 0}).status == 202


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""], ids=["broken", "array", "empty"])
def test_bodies_that_are_not_a_json_object_get_400(api: Api, body: bytes) -> None:
    reply = api.post(TEXT, body)
    assert reply.status == 400
    assert reply.json()["message"]


def test_oversized_bodies_get_413_before_they_are_read(api: Api) -> None:
    with socket.create_connection((api.host, api.port), timeout=TIMEOUT) as sock:
        head = (
            f"POST {TEXT} HTTP/1.1\r\nHost: {api.host}\r\nAuthorization: Bearer {PAID_KEY}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer


# --------------------------------------------------------------------------- faults


def test_status_fault_honours_method_skip_and_times(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "status", status=503, message="Down", headers={"Retry-After": "7"}, skip=1, times=2)
    replies = [api.get(BALANCE) for _ in range(4)]
    assert [reply.status for reply in replies] == [200, 503, 503, 200]
    assert replies[1].json() == {"message": "Down"}
    assert replies[1].headers["Retry-After"] == "7"

    api.sandbox.fault(r"text-to-3d$", "status", method="POST", status=500)
    assert api.get(TEXT).status == 200
    assert api.post(TEXT, PREVIEW).status == 500
    assert api.post(TEXT, PREVIEW).status == 202


def test_faults_forever_until_cleared(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "status", status=502, times=-1)
    assert [api.get(BALANCE).status for _ in range(3)] == [502, 502, 502]
    api.sandbox.control("DELETE", "faults")
    assert api.get(BALANCE).status == 200


def test_faults_are_consumed_in_order(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "status", status=500)
    api.sandbox.fault(r"/balance$", "status", status=503)
    assert [api.get(BALANCE).status for _ in range(3)] == [500, 503, 200]


def test_reset_fault_closes_the_connection_without_an_answer(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "reset")
    with pytest.raises(ConnectionError):
        api.get(BALANCE)
    assert api.get(BALANCE).status == 200
    assert [entry["status"] for entry in api.sandbox.requests()] == [0, 200]


def test_hang_fault_never_answers(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "hang", seconds=30)
    with pytest.raises(TimeoutError):
        api.get(BALANCE, timeout=0.3)
    api.sandbox.fault(r"/balance$", "hang", seconds=0.2)
    with pytest.raises(ConnectionError):  # the hang is bounded: then the server hangs up
        api.get(BALANCE)
    assert api.get(BALANCE).status == 200


def test_delay_fault_answers_late_but_normally(api: Api) -> None:
    api.sandbox.fault(r"/balance$", "delay", seconds=2)
    with pytest.raises(TimeoutError):
        api.get(BALANCE, timeout=0.2)
    api.sandbox.fault(r"/balance$", "delay", seconds=0.1)
    reply = api.get(BALANCE)
    assert reply.status == 200
    assert reply.json() == {"balance": 1000}


def test_truncate_fault_sends_the_full_length_then_part_of_the_body(api: Api) -> None:
    task = api.wait(TEXT, api.create(TEXT, PREVIEW))
    full = api.fetch(task["model_urls"]["glb"]).body
    api.sandbox.fault(r"^/assets/", "truncate", bytes=100)
    parts = urlsplit(task["model_urls"]["glb"])
    conn = api.connect()
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        assert int(response.headers["Content-Length"]) == len(full)
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        assert cut.value.partial == full[:100]
    finally:
        conn.close()
    api.sandbox.fault(r"/balance$", "truncate")
    with pytest.raises(http.client.IncompleteRead):
        api.get(BALANCE)


def test_malformed_fault_answers_200_with_a_body_that_is_not_json(api: Api) -> None:
    task_id = api.create(TEXT, PREVIEW)
    api.sandbox.fault(re.escape(task_id), "malformed")
    reply = api.get(f"{TEXT}/{task_id}")
    assert reply.status == 200
    with pytest.raises(ValueError):
        reply.json()


def test_corrupt_fault_replaces_a_download_with_garbage_of_the_same_size(api: Api) -> None:
    task = api.wait(TEXT, api.create(TEXT, PREVIEW))
    full = api.fetch(task["model_urls"]["glb"]).body
    api.sandbox.fault(r"/model\.glb$", "corrupt")
    garbled = api.fetch(task["model_urls"]["glb"])
    assert garbled.status == 200
    assert len(garbled.body) == len(full)
    assert not garbled.body.startswith(b"glTF")


def test_drop_fields_fault_removes_keys_from_task_json(api: Api) -> None:
    task_id = api.create(TEXT, PREVIEW)
    api.sandbox.fault(r"text-to-3d", "drop_fields", method="GET", fields=["status", "model_urls"], times=2)
    single = api.task(TEXT, task_id)
    assert single["id"] == task_id
    assert "status" not in single and "model_urls" not in single
    assert all("status" not in task for task in api.get(TEXT).json())
    assert api.task(TEXT, task_id)["status"]


def test_sse_drop_fault_breaks_the_stream_after_some_frames(api: Api) -> None:
    api.sandbox.configure(task_seconds=1)
    task_id = api.create(TEXT, PREVIEW)
    api.sandbox.fault(r"/stream$", "sse_drop", events=2)
    assert api.task(TEXT, task_id)["status"]  # stream faults leave other requests alone
    dropped = api.stream(TEXT, task_id)
    assert not dropped.complete
    assert len(dropped.frames) == 2
    assert all(data["status"] not in TERMINAL for _, data in dropped.frames)
    resumed = api.stream(TEXT, task_id)
    assert resumed.complete
    assert resumed.frames[-1][1]["status"] == "SUCCEEDED"


def test_sse_error_fault_sends_an_error_event(api: Api) -> None:
    task_id = api.create(TEXT, PREVIEW)
    api.sandbox.fault(r"/stream$", "sse_error", status_code=503, message="Stream unavailable")
    stream = api.stream(TEXT, task_id)
    assert stream.status == 200
    assert stream.frames == [("error", {"status_code": 503, "message": "Stream unavailable"})]


def test_control_api_rejects_bad_rules_and_config(api: Api) -> None:
    for path, body in (
        ("faults", {"path": "x", "action": "explode"}),
        ("faults", {"path": "(", "action": "reset"}),
        ("faults", {"path": "x", "action": "status", "times": 0}),
        ("config", {"no_such_setting": 1}),
        ("config", {"task_seconds": "fast"}),
        ("fail_next", {"kind": "teleport"}),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            api.sandbox.control("POST", path, body)
        assert refused.value.code == 400


def test_request_log_lists_api_and_asset_requests_without_secrets(api: Api) -> None:
    task_id = api.succeeded(TEXT, PREVIEW)
    task = api.task(TEXT, task_id)
    api.fetch(task["model_urls"]["glb"])
    api.get(BALANCE, key="msy_wrong_key_for_the_log")
    log = api.sandbox.requests()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("POST", TEXT, 202),
        ("GET", f"{TEXT}/{task_id}", 200),
        ("GET", f"/assets/{task_id}/model.glb", 200),
        ("GET", BALANCE, 401),
    ]
    times = [entry["t"] for entry in log]
    assert times == sorted(times)
    text = json.dumps(log)
    for secret in (PAID_KEY, "msy_wrong_key_for_the_log", "Authorization", "sig="):
        assert secret not in text
