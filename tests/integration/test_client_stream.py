"""SSE framing the sandbox does not use: events must arrive live, whether the body is chunked
or delimited by the connection closing, and a silent stream must still be cancellable."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from api_samples import sandbox_client
from local_server import serving

from meshy_blender.api import CancelledError, RequestTimeoutError, TaskKind, TaskStatus

RELEASE_TIMEOUT_S = 10


class _StreamHandler(BaseHTTPRequestHandler):
    """``…/<id>/stream`` where id is ``chunked``, ``close``, ``silent`` or ``lingers`` (chunked, not ended after
    the last state until released)."""

    protocol_version = "HTTP/1.1"
    server: _StreamServer

    def do_GET(self) -> None:
        mode = self.path.rsplit("/", 2)[-2]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header(
            "Connection" if mode == "close" else "Transfer-Encoding", "close" if mode == "close" else "chunked"
        )
        self.end_headers()
        self.close_connection = True
        if mode == "silent":
            self.server.release.wait(RELEASE_TIMEOUT_S)
            return
        done = {"id": mode, "status": "SUCCEEDED", "progress": 100, "model_urls": {"glb": "https://a/m.glb"}}
        if mode == "lingers":
            self._send(mode, done)
            self.server.release.wait(RELEASE_TIMEOUT_S)
            return
        self._send(mode, {"id": mode, "status": "PENDING", "progress": 0})
        self.server.release.wait(RELEASE_TIMEOUT_S)
        self._send(mode, done)
        if mode == "chunked":
            self.wfile.write(b"0\r\n\r\n")

    def _send(self, mode: str, task: dict[str, object]) -> None:
        frame = f"event: message\ndata: {json.dumps(task)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame) if mode != "close" else frame)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _StreamServer(ThreadingHTTPServer):
    daemon_threads = True
    release = threading.Event()


@pytest.fixture
def server() -> Iterator[_StreamServer]:
    result = _StreamServer(("127.0.0.1", 0), _StreamHandler)
    result.release = threading.Event()
    with serving(result):
        try:
            yield result
        finally:
            result.release.set()  # let held streams end before the server shuts down


@pytest.mark.timeout(8)
@pytest.mark.parametrize("mode", ["chunked", "close"])
def test_each_event_arrives_before_the_stream_goes_on(server: _StreamServer, mode: str) -> None:
    # The server sends its second frame only after the client has seen the first.
    with sandbox_client(f"http://127.0.0.1:{server.server_port}", "msy_any_key_123") as client:
        states = client.stream_task(TaskKind.TEXT_TO_3D, mode)
        assert next(states).status is TaskStatus.PENDING
        server.release.set()
        rest = list(states)
    assert [s.status for s in rest] == [TaskStatus.SUCCEEDED]
    assert rest[0].glb_url == "https://a/m.glb"


@pytest.mark.timeout(8)
def test_a_stream_that_goes_on_after_the_last_state_is_not_waited_for(server: _StreamServer) -> None:
    # Meshy ends the stream after the task's last state; this server holds it open for 10 s, and
    # the client would wait a minute for its next byte.
    client = sandbox_client(f"http://127.0.0.1:{server.server_port}", "msy_any_key_123", timeout=(2.0, 60.0))
    with client:
        task = client.wait_for_task(TaskKind.TEXT_TO_3D, "lingers")
    assert task.status is TaskStatus.SUCCEEDED
    assert task.glb_url == "https://a/m.glb"


@pytest.mark.timeout(8)
def test_cancel_interrupts_a_silent_stream(server: _StreamServer) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        client = sandbox_client(f"http://127.0.0.1:{server.server_port}", "msy_any_key_123", timeout=(2.0, 60.0))
        with client, pytest.raises(CancelledError):
            client.wait_for_task(TaskKind.TEXT_TO_3D, "silent", cancel=cancel)
    finally:
        timer.cancel()


@pytest.mark.timeout(8)
def test_silent_stream_times_out_as_a_meshy_error(server: _StreamServer) -> None:
    client = sandbox_client(f"http://127.0.0.1:{server.server_port}", "msy_any_key_123", timeout=(2.0, 0.3))
    with client, pytest.raises(RequestTimeoutError):
        list(client.stream_task(TaskKind.TEXT_TO_3D, "silent"))
