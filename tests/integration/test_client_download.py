"""Verified, atomic downloads of result files from the sandbox's signed asset URLs."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sandbox_assets
from api_samples import glb_bytes, sandbox_client
from local_server import serving
from sandbox_control import Sandbox

from meshy_blender.api import AssetExpiredError, CancelledError, DownloadError, MeshyClient, TaskKind, check_glb
from meshy_blender.api.download import CHUNK_BYTES, WRITEBACK_BYTES


@pytest.fixture
def client(sandbox: Sandbox, paid_key: str) -> Iterator[MeshyClient]:
    sandbox.configure(task_seconds=0.2)
    with sandbox_client(sandbox.url, paid_key) as result:
        yield result


@pytest.fixture
def glb_url(client: MeshyClient) -> str:
    task_id = client.text_to_3d_preview("a small chair")
    return client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05).glb_url


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_writes_a_verified_glb(client: MeshyClient, glb_url: str, tmp_path: Path) -> None:
    progress: list[tuple[int, int | None]] = []
    dest = client.download(glb_url, tmp_path / "models" / "chair.glb", progress=lambda n, t: progress.append((n, t)))
    assert dest == tmp_path / "models" / "chair.glb"
    check_glb(dest)
    size = dest.stat().st_size
    assert progress[-1] == (size, size)
    assert files_in(dest.parent) == ["chair.glb"]


def test_download_replaces_an_existing_file(client: MeshyClient, glb_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "chair.glb"
    dest.write_bytes(b"old")
    client.download(glb_url, dest)
    check_glb(dest)


def test_non_glb_file_with_expect_glb_off(client: MeshyClient, tmp_path: Path) -> None:
    task = client.get_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("a lamp"))
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, task.id, poll_interval=0.05)
    dest = client.download(task.thumbnail_url, tmp_path / "thumb.png", expect_glb=False)
    assert dest.read_bytes().startswith(b"\x89PNG")


def test_truncated_download_is_refused_and_cleaned_up(
    client: MeshyClient, sandbox: Sandbox, glb_url: str, tmp_path: Path
) -> None:
    sandbox.fault("^/assets/", "truncate", times=-1, bytes=1000)
    with pytest.raises(DownloadError, match="cut off"):
        client.download(glb_url, tmp_path / "chair.glb")
    assert files_in(tmp_path) == []


def test_corrupt_download_is_refused_and_cleaned_up(
    client: MeshyClient, sandbox: Sandbox, glb_url: str, tmp_path: Path
) -> None:
    sandbox.fault("^/assets/", "corrupt")
    with pytest.raises(DownloadError, match="not a GLB"):
        client.download(glb_url, tmp_path / "chair.glb")
    assert files_in(tmp_path) == []


def test_expired_link_is_asset_expired_and_a_fresh_one_works(
    client: MeshyClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.configure(asset_ttl_seconds=0)
    task_id = client.text_to_3d_preview("a vase")
    expired = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05).glb_url
    with pytest.raises(AssetExpiredError):
        client.download(expired, tmp_path / "vase.glb")
    assert files_in(tmp_path) == []
    sandbox.configure(asset_ttl_seconds=3600)
    check_glb(client.download(client.get_task(TaskKind.TEXT_TO_3D, task_id).glb_url, tmp_path / "vase.glb"))


def test_tampered_signature_is_refused(client: MeshyClient, glb_url: str, tmp_path: Path) -> None:
    with pytest.raises(AssetExpiredError):
        client.download(glb_url[:-4] + "0000", tmp_path / "chair.glb")


def test_missing_asset_is_a_download_error(client: MeshyClient, sandbox: Sandbox, glb_url: str, tmp_path: Path) -> None:
    sandbox.fault("^/assets/", "status", status=404, message="Not found")
    with pytest.raises(DownloadError, match="HTTP 404"):
        client.download(glb_url, tmp_path / "chair.glb")


def test_asset_host_5xx_is_retried(client: MeshyClient, sandbox: Sandbox, glb_url: str, tmp_path: Path) -> None:
    sandbox.fault("^/assets/", "status", status=503, message="busy")
    check_glb(client.download(glb_url, tmp_path / "chair.glb"))


def test_size_cap_by_content_length(client: MeshyClient, glb_url: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="download limit"):
        client.download(glb_url, tmp_path / "chair.glb", max_bytes=100)
    assert files_in(tmp_path) == []


def test_stalled_asset_server_times_out(sandbox: Sandbox, paid_key: str, glb_url: str, tmp_path: Path) -> None:
    sandbox.fault("^/assets/", "hang", times=-1, seconds=10)
    with sandbox_client(sandbox.url, paid_key) as client, pytest.raises(DownloadError, match="did not answer"):
        client.download(glb_url, tmp_path / "chair.glb", stall_timeout=0.3)
    assert files_in(tmp_path) == []


def test_cancel_stops_a_large_download_and_cleans_up(client: MeshyClient, sandbox: Sandbox, tmp_path: Path) -> None:
    cancel = threading.Event()
    received: list[int] = []

    def progress(done: int, total: int | None) -> None:
        received.append(done)
        if done >= 2 * CHUNK_BYTES:
            cancel.set()

    with pytest.raises(CancelledError):
        client.download(
            f"{sandbox.url}/_sandbox/large.glb?mb=64", tmp_path / "big.glb", progress=progress, cancel=cancel
        )
    assert received[-1] < 64 * 1024 * 1024
    assert files_in(tmp_path) == []


@pytest.mark.timeout(8)
def test_cancel_stops_a_download_still_waiting_for_its_answer(
    sandbox: Sandbox, paid_key: str, glb_url: str, tmp_path: Path
) -> None:
    """The asset server took the request and says nothing for 30 s: Cancel ends the wait, not the 60 s read timeout."""
    sandbox.fault("^/assets/", "hang", times=-1, seconds=30)
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        with sandbox_client(sandbox.url, paid_key, timeout=(2.0, 60.0)) as client, pytest.raises(CancelledError):
            client.download(glb_url, tmp_path / "chair.glb", cancel=cancel)
    finally:
        timer.cancel()
    assert files_in(tmp_path) == []


def test_large_download_arrives_byte_for_byte(client: MeshyClient, sandbox: Sandbox, tmp_path: Path) -> None:
    """80 MB: written out to disk in several pieces while it streams, identical to what the server sent."""
    megabytes = 80
    assert megabytes * 1024 * 1024 > 2 * WRITEBACK_BYTES
    dest = client.download(f"{sandbox.url}/_sandbox/large.glb?mb={megabytes}", tmp_path / "big.glb")
    check_glb(dest)
    sent = hashlib.sha256()
    for piece in sandbox_assets.large_glb_stream(megabytes * 1024 * 1024):
        sent.update(piece)
    with dest.open("rb") as file:
        assert hashlib.file_digest(file, "sha256").hexdigest() == sent.hexdigest()
    assert files_in(tmp_path) == ["big.glb"]


class _ChunkedHandler(BaseHTTPRequestHandler):
    """A chunked GLB-looking body without Content-Length: endless (``/endless``) or one piece then silence."""

    protocol_version = "HTTP/1.1"
    server: _ChunkedServer

    def do_GET(self) -> None:
        self.server.headers_seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "model/gltf-binary")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = glb_bytes() * 1000
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            while self.path == "/endless":
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            self.connection.settimeout(10)
            self.connection.recv(1)  # silent until the client hangs up (or 10 s)
        except OSError:
            return

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _ChunkedServer(ThreadingHTTPServer):
    daemon_threads = True
    headers_seen: list[dict[str, str]]


@pytest.fixture
def chunked_server() -> Iterator[_ChunkedServer]:
    server = _ChunkedServer(("127.0.0.1", 0), _ChunkedHandler)
    server.headers_seen = []
    with serving(server):
        yield server


def url_of(server: _ChunkedServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def test_size_cap_while_streaming_without_content_length(chunked_server: _ChunkedServer, tmp_path: Path) -> None:
    client = sandbox_client(url_of(chunked_server, ""), "msy_any_key_123")
    with client, pytest.raises(DownloadError, match="larger than"):
        client.download(url_of(chunked_server, "/endless"), tmp_path / "endless.glb", max_bytes=3 * CHUNK_BYTES)
    assert files_in(tmp_path) == []
    assert [h.get("Authorization") for h in chunked_server.headers_seen] == [None]


@pytest.mark.timeout(8)
def test_cancel_interrupts_a_download_waiting_for_data(chunked_server: _ChunkedServer, tmp_path: Path) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        client = sandbox_client(url_of(chunked_server, ""), "msy_any_key_123")
        with client, pytest.raises(CancelledError):
            client.download(url_of(chunked_server, "/stall"), tmp_path / "stall.glb", cancel=cancel, stall_timeout=60)
    finally:
        timer.cancel()
    assert files_in(tmp_path) == []


@pytest.mark.timeout(15)
def test_cancelling_one_of_two_waiting_downloads_stops_only_that_one(
    chunked_server: _ChunkedServer, tmp_path: Path
) -> None:
    """Every download being read is watched by one thread: it must shut the right socket, and only that one."""
    cancels = {name: threading.Event() for name in ("first", "second")}
    outcomes: dict[str, BaseException | None] = {}

    def fetch(name: str) -> None:
        try:
            with sandbox_client(url_of(chunked_server, ""), "msy_any_key_123") as client:
                client.download(
                    url_of(chunked_server, "/stall"), tmp_path / f"{name}.glb", cancel=cancels[name], stall_timeout=60
                )
            outcomes[name] = None
        except BaseException as error:  # the outcome is what the test reads
            outcomes[name] = error

    threads = {name: threading.Thread(target=fetch, args=(name,)) for name in cancels}
    for thread in threads.values():
        thread.start()
    time.sleep(0.3)  # both wait for data
    cancels["first"].set()
    threads["first"].join(5)
    assert isinstance(outcomes.get("first"), CancelledError)
    assert threads["second"].is_alive() and "second" not in outcomes  # still waiting, its socket untouched
    cancels["second"].set()
    threads["second"].join(5)
    assert isinstance(outcomes.get("second"), CancelledError)
    assert files_in(tmp_path) == []
