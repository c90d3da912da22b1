"""The bridge over real HTTP on 127.0.0.1, spoken to the way Meshy's web app does.

Models come from the sandbox (a text-to-3d task made with the test key) or from a small
local asset server; the bridge is created with ``allow_loopback_downloads=True`` for that.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from api_samples import glb_from

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.errors import DownloadError, MeshyError
from meshy_blender.api.glb_safety import RefusedModelError, check_glb
from meshy_blender.api.tasks import TaskKind
from meshy_blender.bridge.handover import JOB_KIND
from meshy_blender.bridge.messages import ImportRequest, ReceivedModel, addon_version
from meshy_blender.bridge.policy import PolicyError
from meshy_blender.bridge.server import (
    MAX_BODY_BYTES,
    MAX_PENDING,
    BridgeError,
    BridgeServer,
    start_bridge,
)
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import JobState

WEB_APP = "https://www.meshy.ai"
WAIT_S = 20.0


def tiny_glb(extra: int = 0) -> bytes:
    text = b'{"asset":{"version":"2.0"}}' + b" " * extra
    text += b" " * (-len(text) % 4)
    body = len(text).to_bytes(4, "little") + b"JSON" + text
    return b"glTF" + (2).to_bytes(4, "little") + (12 + len(body)).to_bytes(4, "little") + body


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- a local stand-in for Meshy's asset host ---------------------------------------------


class AssetServer:
    """Serves ``routes`` (path → (status, headers, body)); ``/hang`` stalls until closed."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.served: list[str] = []
        self.release = threading.Event()
        assets = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                assets.served.append(self.path)
                if self.path == "/hang":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    self.wfile.write(b"glTF")
                    self.wfile.flush()
                    assets.release.wait(WAIT_S)
                    return
                status, headers, body = assets.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def assets() -> Iterator[AssetServer]:
    server = AssetServer()
    yield server
    server.close()


# -- the bridge and what it hands over ---------------------------------------------------


class Outcomes:
    def __init__(self) -> None:
        self.received: queue.Queue[ReceivedModel] = queue.Queue()
        self.failed: queue.Queue[tuple[ImportRequest, MeshyError]] = queue.Queue()

    def on_import(self, model: ReceivedModel) -> None:
        self.received.put(model)

    def on_error(self, request: ImportRequest, error: MeshyError) -> None:
        self.failed.put((request, error))

    def next_model(self) -> ReceivedModel:
        return self.received.get(timeout=WAIT_S)

    def next_failure(self) -> tuple[ImportRequest, MeshyError]:
        return self.failed.get(timeout=WAIT_S)


@pytest.fixture
def outcomes() -> Outcomes:
    return Outcomes()


@pytest.fixture
def make_bridge(tmp_path: Path, outcomes: Outcomes) -> Iterator[Callable[..., BridgeServer]]:
    started: list[BridgeServer] = []

    def make(**options: Any) -> BridgeServer:
        options = {"download_dir": tmp_path / "bridge", "allow_loopback_downloads": True, **options}
        bridge = start_bridge(0, on_import=outcomes.on_import, on_error=outcomes.on_error, **options)
        started.append(bridge)
        return bridge

    yield make
    for bridge in started:
        bridge.stop()


@pytest.fixture
def bridge(make_bridge: Callable[..., BridgeServer]) -> BridgeServer:
    return make_bridge()


class Reply:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        raw = response.read()
        self.json: Any = json.loads(raw) if raw else None


def call(
    bridge: BridgeServer,
    method: str,
    path: str,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    *,
    host: str | None = None,
) -> Reply:
    """One raw HTTP request: headers exactly as given (a browser's, or an attacker's)."""
    connection = http.client.HTTPConnection("127.0.0.1", bridge.port, timeout=WAIT_S)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host if host is not None else f"127.0.0.1:{bridge.port}")
        items = headers.items() if isinstance(headers, dict) else headers or []
        for name, value in items:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        return Reply(connection.getresponse())
    finally:
        connection.close()


def preflight(bridge: BridgeServer, origin: str = WEB_APP, path: str = "/import", method: str = "POST") -> Reply:
    return call(
        bridge,
        "OPTIONS",
        path,
        {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )


def send_to_blender(bridge: BridgeServer, url: str, name: str = "Robot", origin: str | None = WEB_APP) -> Reply:
    """What the web app's button does: JSON POST with the page's Origin."""
    headers = {"Content-Type": "application/json"}
    if origin is not None:
        headers["Origin"] = origin
    return call(bridge, "POST", "/import", headers, json.dumps({"url": url, "name": name}).encode())


def bridge_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("meshy-bridge")]


# -- status -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/status", "/ping"])
def test_a_local_tool_sees_a_blender_bridge(bridge: BridgeServer, path: str) -> None:
    reply = call(bridge, "GET", path)

    assert reply.status == 200
    assert reply.json == {"status": "ok", "dcc": "blender", "version": addon_version()}
    assert addon_version() != "unknown"
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_the_web_app_can_read_the_status(bridge: BridgeServer) -> None:
    assert preflight(bridge, path="/status", method="GET").status == 204
    reply = call(bridge, "GET", "/status", {"Origin": WEB_APP})

    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_APP
    assert reply.headers["Vary"] == "Origin"


def test_another_page_cannot_even_read_the_status(bridge: BridgeServer) -> None:
    reply = call(bridge, "GET", "/status", {"Origin": "https://evil.example"})

    assert reply.status == 403
    assert reply.json["status"] == "error"
    assert "Access-Control-Allow-Origin" not in reply.headers


# -- CORS preflight ------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://www.meshy.ai", "https://meshy.ai", "https://app.meshy.ai"])
def test_the_preflight_admits_meshy_by_name_with_private_network_access(bridge: BridgeServer, origin: str) -> None:
    reply = preflight(bridge, origin)

    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == origin
    assert set(reply.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert reply.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert reply.headers["Access-Control-Allow-Private-Network"] == "true"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://www.meshy.ai"])
def test_the_preflight_refuses_other_pages(bridge: BridgeServer, origin: str) -> None:
    reply = preflight(bridge, origin)

    assert reply.status == 403
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "Access-Control-Allow-Private-Network" not in reply.headers


def test_the_preflight_refuses_other_methods(bridge: BridgeServer) -> None:
    assert preflight(bridge, method="DELETE").status == 405


# -- imports ---------------------------------------------------------------------------------


@pytest.fixture
def sandbox_glb_url(sandbox: Any, test_key: str) -> str:
    """A real signed asset link: a text-to-3d preview made with the sandbox's test key."""
    sandbox.configure(task_seconds=0.2)
    with MeshyClient(test_key, sandbox.url) as client:
        task_id = client.text_to_3d_preview("a wooden robot")
        task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.1, timeout=WAIT_S)
    assert task.glb_url
    return task.glb_url


def test_send_to_blender_delivers_the_sandbox_model(
    bridge: BridgeServer, outcomes: Outcomes, sandbox_glb_url: str, tmp_path: Path
) -> None:
    assert preflight(bridge).status == 204
    reply = send_to_blender(bridge, sandbox_glb_url, name="Wooden/Robot\x07")

    assert reply.status == 200
    assert reply.json["status"] == "ok"
    assert reply.json["name"] == "Wooden_Robot"
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_APP
    model = outcomes.next_model()
    assert model.id == reply.json["id"]
    assert model.name == "Wooden_Robot"
    assert model.path == tmp_path / "bridge" / model.id / "model.glb"
    check_glb(model.path)
    assert sorted(p.name for p in model.path.parent.iterdir()) == ["model.glb"]


def test_a_zip_holding_the_model_is_unpacked(bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer) -> None:
    glb = tiny_glb(500)
    assets.routes["/robot.zip"] = (200, {}, zipped({"Robot/model/robot.glb": glb, "Robot/readme.txt": b"hi"}))

    assert send_to_blender(bridge, f"{assets.url}/robot.zip").status == 200

    model = outcomes.next_model()
    assert model.path.read_bytes() == glb
    assert model.note == ""
    assert sorted(p.name for p in model.path.parent.iterdir()) == ["model.glb"], "the ZIP is not kept"


def test_a_zip_with_several_models_takes_the_largest_and_says_so(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer
) -> None:
    big = tiny_glb(2000)
    assets.routes["/robot.zip"] = (200, {}, zipped({"lod1.glb": tiny_glb(10), "lod0.glb": big}))

    send_to_blender(bridge, f"{assets.url}/robot.zip")

    model = outcomes.next_model()
    assert model.path.read_bytes() == big
    assert "2 GLB files" in model.note


def test_received_models_become_ready_jobs(bridge: BridgeServer, assets: AssetServer, tmp_path: Path) -> None:
    from meshy_blender.bridge.handover import bridge_job

    manager = JobManager(_no_client, download_dir=tmp_path / "bridge")

    def hand_over(model: ReceivedModel) -> None:
        manager.add_ready(bridge_job(model))

    bridge.on_import = hand_over
    assets.routes["/chair.glb"] = (200, {}, tiny_glb())

    reply = send_to_blender(bridge, f"{assets.url}/chair.glb", name="Chair")

    deadline = time.monotonic() + WAIT_S
    while (job := manager.take_ready()) is None:
        assert time.monotonic() < deadline, "the received model never became a ready job"
        time.sleep(0.02)
    assert job.id == reply.json["id"]
    assert (job.name, job.kind, job.state) == ("Chair", JOB_KIND, JobState.READY)
    assert manager.jobs() == [job]
    check_glb(Path(job.files["model"]))
    manager.shutdown(1.0)


def _no_client() -> Any:
    raise AssertionError("a received model must not need the Meshy API")


def test_add_ready_takes_only_a_job_with_its_model(tmp_path: Path) -> None:
    from meshy_blender.jobs.model import Job, Stage

    manager = JobManager(_no_client, download_dir=tmp_path)
    stage = Stage(kind=TaskKind.TEXT_TO_3D, body={})
    with pytest.raises(ValueError):
        manager.add_ready(Job(name="x", kind=JOB_KIND, stages=[stage], state=JobState.READY))
    with pytest.raises(ValueError):
        manager.add_ready(Job(name="x", kind=JOB_KIND, stages=[stage], files={"model": "m.glb"}))
    assert manager.jobs() == []


# -- refusals ----------------------------------------------------------------------------------


def _assert_nothing_fetched(outcomes: Outcomes, assets: AssetServer) -> None:
    assert outcomes.received.empty()
    assert outcomes.failed.empty()
    assert assets.served == []


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null"])
def test_other_pages_cannot_import(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer, origin: str | None
) -> None:
    assets.routes["/m.glb"] = (200, {}, tiny_glb())

    reply = send_to_blender(bridge, f"{assets.url}/m.glb", origin=origin)

    assert reply.status == 403
    assert reply.json["status"] == "error"
    _assert_nothing_fetched(outcomes, assets)


def test_a_form_post_from_any_page_is_refused(bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer) -> None:
    """A cross-site <form> can POST without a preflight, but never with a JSON Content-Type."""
    body = json.dumps({"url": f"{assets.url}/m.glb"}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        reply = call(bridge, "POST", "/import", {"Origin": WEB_APP, "Content-Type": content_type}, body)
        assert reply.status == 415
        assert reply.headers["Access-Control-Allow-Origin"] == WEB_APP, "the web app may read why"
    _assert_nothing_fetched(outcomes, assets)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost"])
def test_dns_rebinding_is_refused_whatever_the_origin(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer, host: str
) -> None:
    host = host.format(port=bridge.port)
    assert call(bridge, "GET", "/status", host=host).status == 403
    body = json.dumps({"url": f"{assets.url}/m.glb"}).encode()
    headers = {"Origin": WEB_APP, "Content-Type": "application/json"}

    assert call(bridge, "POST", "/import", headers, body, host=host).status == 403
    _assert_nothing_fetched(outcomes, assets)


def test_localhost_by_name_is_fine(bridge: BridgeServer) -> None:
    assert call(bridge, "GET", "/ping", host=f"localhost:{bridge.port}").status == 200


def test_repeated_host_or_origin_headers_are_refused(bridge: BridgeServer) -> None:
    assert call(bridge, "GET", "/status", [("Host", "evil.example")]).status == 400
    assert call(bridge, "GET", "/status", [("Origin", WEB_APP), ("Origin", "https://evil.example")]).status == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'["https://assets.meshy.ai/m.glb"]', 400),
        (b'{"name": "no url"}', 400),
        (b'{"url": "https://evil.example/m.glb"}', 400),
        (b'{"url": "http://assets.meshy.ai/m.glb"}', 400),
        (b'{"url": "https://assets.meshy.ai@evil.example/m.glb"}', 400),
        (b'{"url": "' + b"a" * MAX_BODY_BYTES + b'"}', 413),
    ],
)
def test_bad_bodies_are_refused_before_anything_is_fetched(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer, body: bytes, status: int
) -> None:
    reply = call(bridge, "POST", "/import", {"Origin": WEB_APP, "Content-Type": "application/json"}, body)

    assert reply.status == status
    assert reply.json["status"] == "error"
    assert reply.json["message"]
    _assert_nothing_fetched(outcomes, assets)


def test_a_body_without_length_is_refused(bridge: BridgeServer) -> None:
    reply = call(bridge, "POST", "/import", {"Origin": WEB_APP, "Content-Type": "application/json"})

    assert reply.status == 411


def test_loopback_links_need_the_explicit_test_switch(
    make_bridge: Callable[..., BridgeServer], outcomes: Outcomes, assets: AssetServer
) -> None:
    bridge = make_bridge(allow_loopback_downloads=False)
    assets.routes["/m.glb"] = (200, {}, tiny_glb())

    reply = send_to_blender(bridge, f"{assets.url}/m.glb")

    assert reply.status == 400
    assert "https" in reply.json["message"]
    _assert_nothing_fetched(outcomes, assets)


def test_extra_origins_are_only_those_given(make_bridge: Callable[..., BridgeServer], assets: AssetServer) -> None:
    page = "http://127.0.0.1:8123"
    plain = make_bridge()
    with_page = make_bridge(extra_origins=[page])
    assets.routes["/m.glb"] = (200, {}, tiny_glb())

    assert send_to_blender(plain, f"{assets.url}/m.glb", origin=page).status == 403
    assert send_to_blender(with_page, f"{assets.url}/m.glb", origin=page).status == 200


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/import", 405), ("POST", "/ping", 405)])
def test_wrong_method_or_path(bridge: BridgeServer, method: str, path: str, status: int) -> None:
    assert call(bridge, method, path, {"Origin": WEB_APP}).status == status


def test_unknown_paths_are_not_found(bridge: BridgeServer) -> None:
    assert call(bridge, "GET", "/admin", {"Origin": WEB_APP}).status == 404


# -- failures after acceptance ---------------------------------------------------------------------


BAD_DOWNLOADS: dict[str, tuple[tuple[int, dict[str, str], bytes], str]] = {
    "gone": ((404, {}, b"gone"), "no longer on the server"),
    "web page": ((200, {}, b"<html>not a model</html>"), "not a GLB or FBX model"),
    "zip without model": ((200, {}, zipped({"readme.txt": b"no model"})), r"no \.glb"),
    "zip escaping": ((200, {}, zipped({"../../escape.glb": tiny_glb()})), "leaving its folder"),
}


@pytest.mark.parametrize("case", BAD_DOWNLOADS)
def test_a_bad_download_is_reported_and_leaves_nothing(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer, tmp_path: Path, case: str
) -> None:
    route, why = BAD_DOWNLOADS[case]
    assets.routes["/m"] = route

    reply = send_to_blender(bridge, f"{assets.url}/m", name="Broken")

    assert reply.status == 200, "accepted means queued; the download fails later"
    request, error = outcomes.next_failure()
    assert request.id == reply.json["id"]
    assert request.name == "Broken"
    assert isinstance(error, DownloadError)
    assert re.search(why, str(error)), str(error)
    assert not (tmp_path / "bridge" / request.id).exists()
    assert outcomes.received.empty()


#: A model whose image is read from a file on this computer, as Blender's importer would.
NAMING_A_FILE = glb_from({"asset": {"version": "2.0"}, "images": [{"uri": "/etc/passwd"}]})


@pytest.mark.parametrize("packed", [False, True], ids=["glb", "zip"])
def test_a_model_naming_a_local_file_is_refused_before_it_is_handed_over(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer, tmp_path: Path, packed: bool
) -> None:
    assets.routes["/m"] = (200, {}, zipped({"robot.glb": NAMING_A_FILE}) if packed else NAMING_A_FILE)

    reply = send_to_blender(bridge, f"{assets.url}/m", name="Hostile")

    request, error = outcomes.next_failure()
    assert request.id == reply.json["id"]
    assert isinstance(error, RefusedModelError)
    assert "read a file outside it (images[0].uri = '/etc/passwd')" in str(error)
    assert not (tmp_path / "bridge" / request.id).exists()
    assert outcomes.received.empty()


def test_a_redirect_away_from_meshy_is_not_followed(
    bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer
) -> None:
    assets.routes["/m.glb"] = (302, {"Location": "https://evil.invalid/m.glb"}, b"")

    send_to_blender(bridge, f"{assets.url}/m.glb")

    _, error = outcomes.next_failure()
    assert isinstance(error, PolicyError), error
    assert "evil.invalid" in str(error)


def test_too_many_waiting_imports_are_refused(bridge: BridgeServer, assets: AssetServer) -> None:
    assert send_to_blender(bridge, f"{assets.url}/hang").status == 200
    _wait_until(lambda: assets.served == ["/hang"])  # the worker is busy with the first one
    for _ in range(MAX_PENDING):
        assert send_to_blender(bridge, f"{assets.url}/queued.glb").status == 200

    reply = send_to_blender(bridge, f"{assets.url}/queued.glb")

    assert reply.status == 429
    assert reply.json["status"] == "error"


# -- lifecycle -------------------------------------------------------------------------------------


def test_stop_ends_every_thread_even_mid_download_and_with_a_stalled_client(
    make_bridge: Callable[..., BridgeServer], outcomes: Outcomes, assets: AssetServer
) -> None:
    bridge = make_bridge()
    assert send_to_blender(bridge, f"{assets.url}/hang").status == 200
    _wait_until(lambda: assets.served == ["/hang"])
    stalled = socket.create_connection(("127.0.0.1", bridge.port), timeout=WAIT_S)
    stalled.sendall(b"POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and never finishes
    _wait_until(lambda: len(bridge_threads()) == 3)  # server loop, worker, the stalled request

    try:
        assert bridge.stop() is True
    finally:
        stalled.close()

    assert bridge_threads() == []
    assert not bridge.running
    assert outcomes.received.empty()
    assert outcomes.failed.empty(), "a download cancelled by stop is not a failure"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", bridge.port), timeout=WAIT_S).close()


def test_the_bridge_listens_on_127_0_0_1_only(bridge: BridgeServer) -> None:
    assert bridge.url == f"http://127.0.0.1:{bridge.port}"
    # Bound to 0.0.0.0 it would answer on every address of the machine, 127.0.0.2 included.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", bridge.port), timeout=WAIT_S).close()


def test_a_taken_port_is_a_clear_error(bridge: BridgeServer, outcomes: Outcomes, tmp_path: Path) -> None:
    with pytest.raises(BridgeError, match=f"port {bridge.port}"):
        start_bridge(bridge.port, on_import=outcomes.on_import, download_dir=tmp_path)
    assert call(bridge, "GET", "/ping").status == 200


def test_a_stopped_bridge_starts_again(bridge: BridgeServer, outcomes: Outcomes, assets: AssetServer) -> None:
    assert bridge.stop() is True
    bridge.start()
    assets.routes["/m.glb"] = (200, {}, tiny_glb())

    assert send_to_blender(bridge, f"{assets.url}/m.glb").status == 200
    check_glb(outcomes.next_model().path)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_bridge_server_is_constructed_with_meshy_origins_only(tmp_path: Path, outcomes: Outcomes) -> None:
    server = BridgeServer(outcomes.on_import, port=0, download_dir=tmp_path)
    assert server.allowed_origins == {"https://www.meshy.ai", "https://meshy.ai", "https://app.meshy.ai"}
    assert not server.allow_loopback_downloads
