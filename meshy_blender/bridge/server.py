"""The bridge's HTTP server, compatible with the Meshy web app's "Send to Blender".

Protocol (the one Meshy's own Blender bridge speaks):

* ``GET /status`` or ``GET /ping`` → ``{"status": "ok", "dcc": "blender", "version": …}``
* ``POST /import`` with JSON ``{"url": …, "format": "glb"|"fbx", "name": …, "frameRate": …}`` →
  ``{"status": "ok", …}`` once the import is queued; the download (a GLB, an FBX, or a ZIP
  holding one) and import happen afterwards. Errors are 4xx with
  ``{"status": "error", "message": …}``.

Unlike Meshy's, this one listens on 127.0.0.1 only and checks every request as
``policy`` describes. Requests are answered on short-lived daemon threads; one worker
thread downloads the queued imports in order and hands each verified model to
``on_import``. :meth:`BridgeServer.stop` ends every thread within a second.

Any program on this computer can connect, so connections are bounded too: at most
:data:`MAX_CONNECTIONS` at once (more are answered 503 and closed, no thread started),
and each is cut :data:`REQUEST_DEADLINE_S` after it was accepted, however slowly its
bytes trickle in (the socket timeout alone bounds each read, not the request).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import queue
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..api.errors import EXIT_NETWORK, CancelledError, DownloadError, MeshyError
from ..api.glb_safety import DEFAULT_MAX_BYTES
from .messages import DEFAULT_PORT, ImportRequest, ReceivedModel, addon_version
from .policy import (
    IMPORT_PATH,
    MESHY_WEB_ORIGINS,
    STATUS_PATHS,
    PolicyError,
    check_download_url,
    check_host,
    check_origin,
    is_json_content_type,
    parse_import,
)

if TYPE_CHECKING:
    from .archive import ExtractedModel

log = logging.getLogger(__name__)

BIND_ADDRESS = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024
#: Imports accepted but not yet downloaded; more are refused with 429.
MAX_PENDING = 16
#: A client that stalls this long while sending its request is dropped.
REQUEST_TIMEOUT_S = 10.0
#: The web app makes one or two requests at a time; a few tabs stay far below this.
MAX_CONNECTIONS = 16
#: The whole request (headers, body) and its answer; a real one takes milliseconds.
REQUEST_DEADLINE_S = 10.0
_BUSY_BODY = json.dumps({"status": "error", "message": "Too many connections; try again in a moment."}).encode()
BUSY_RESPONSE = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)
STOP_TIMEOUT_S = 1.0
POLL_INTERVAL_S = 0.1
#: The CORS preflight answer for an allowed origin (plus its Access-Control-Allow-Origin).
#: Allow-Private-Network answers Chrome's Private Network Access check for pages calling localhost.
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Allow-Private-Network": "true",
    "Access-Control-Max-Age": "600",
}


class BridgeError(MeshyError):
    """The bridge could not start (e.g. its port is taken)."""

    exit_code = EXIT_NETWORK


ImportCallback = Callable[[ReceivedModel], None]
ErrorCallback = Callable[[ImportRequest, MeshyError], None]


class _HTTPServer(ThreadingHTTPServer):
    """Keeps track of its connections: to bound their number and age, and to end them all at once."""

    daemon_threads = True
    block_on_close = False
    # On Windows SO_REUSEADDR would let a second program bind the same port; there the
    # port is claimed exclusively instead, so no other program can take over the bridge's.
    allow_reuse_address = sys.platform != "win32"

    def __init__(self, bridge: BridgeServer, port: int, *, max_connections: int, deadline_s: float) -> None:
        self.bridge = bridge
        self.max_connections = max_connections
        self.deadline_s = deadline_s
        self._lock = threading.Lock()
        #: Each request thread's socket and the time after which it is cut.
        self._connections: dict[threading.Thread, tuple[socket.socket, float]] = {}
        super().__init__((BIND_ADDRESS, port), _Handler)

    def server_bind(self) -> None:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows only
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            busy = len(self._connections) >= self.max_connections
        if busy:
            self._refuse(request)
            return
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name="meshy-bridge-request", daemon=True
        )
        with self._lock:
            self._connections[thread] = (request, time.monotonic() + self.deadline_s)
        thread.start()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without waiting for the client (a fresh socket's buffer takes it whole) and close."""
        log.info("Meshy Bridge: %d connections open; refused one more", self.max_connections)
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(BUSY_RESPONSE)
        self.shutdown_request(request)

    def service_actions(self) -> None:
        """Cut connections past their deadline (called by serve_forever every poll interval)."""
        now = time.monotonic()
        with self._lock:
            late = [sock for sock, deadline in self._connections.values() if now >= deadline]
        for sock in late:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up or was cut off is routine: no traceback on stderr."""
        if isinstance(sys.exc_info()[1], OSError):
            log.debug("Meshy Bridge: connection ended early", exc_info=True)
        else:
            log.exception("Meshy Bridge: a request failed")

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self) -> list[threading.Thread]:
        """Wake every request thread by shutting its socket; return the threads to join."""
        with self._lock:
            connections = {thread: sock for thread, (sock, _) in self._connections.items()}
        for sock in connections.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return list(connections)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads
    server_version = "MeshyBridge"
    sys_version = ""
    timeout = REQUEST_TIMEOUT_S
    #: The request's Origin once checked: echoed in Access-Control-Allow-Origin.
    _allowed_origin: str | None = None
    _body_read = False

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("Meshy Bridge: " + format, *args)

    def _dispatch(self, method: str) -> None:
        bridge = self.server.bridge
        path = urlsplit(self.path).path
        try:
            origin = self._single_header("Origin")
            check_host(self._single_header("Host"), bridge.port)
            check_origin(origin, method, path, bridge.allowed_origins)
            self._allowed_origin = origin
            if path not in STATUS_PATHS and path != IMPORT_PATH:
                raise PolicyError("Not found.", status=404)
            if method == "OPTIONS":
                self._preflight()
            elif path in STATUS_PATHS and method == "GET":
                self._send(200, bridge.status())
            elif path == IMPORT_PATH and method == "POST":
                self._send(200, bridge.accept(self._json_body()))
            else:
                raise PolicyError(f"{method} is not allowed on {path}.", status=405)
        except PolicyError as error:
            self._discard_body()
            self._send(error.status or 400, {"status": "error", "message": str(error)})

    def _discard_body(self) -> None:
        """Read a small unread body: closing a socket with unread data resets it, losing our answer."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return
        if not self._body_read and 0 < length <= MAX_BODY_BYTES:
            self._body_read = True
            self.rfile.read(length)

    def _single_header(self, name: str) -> str | None:
        values = self.headers.get_all(name) or []
        if len(values) > 1:
            raise PolicyError(f"The request has more than one {name} header.", status=400)
        return values[0] if values else None

    def _json_body(self) -> bytes:
        if not is_json_content_type(self.headers.get("Content-Type")):
            raise PolicyError("The request must be JSON (Content-Type: application/json).", status=415)
        if self.headers.get("Transfer-Encoding"):
            raise PolicyError("Send the request with a Content-Length, not chunked.", status=411)
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise PolicyError("The request has no valid Content-Length.", status=411) from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise PolicyError(f"The request body must be at most {MAX_BODY_BYTES} bytes.", status=413)
        self._body_read = True
        body = self.rfile.read(length)
        if len(body) != length:
            raise PolicyError("The request body was cut short.", status=400)
        return body

    def _preflight(self) -> None:
        if self.headers.get("Access-Control-Request-Method") not in ("GET", "POST"):
            raise PolicyError("Only GET and POST are allowed.", status=405)
        self._send(204, None, PREFLIGHT_HEADERS)

    def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self._allowed_origin:
            self.send_header("Access-Control-Allow-Origin", self._allowed_origin)
            self.send_header("Vary", "Origin")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class BridgeServer:
    """The bridge: an HTTP server on 127.0.0.1 plus one download worker.

    ``extra_origins`` (tests only) adds origins to :data:`MESHY_WEB_ORIGINS`;
    ``allow_loopback_downloads`` (tests only) lets the model URL point at this computer.
    ``port=0`` picks a free port (see :attr:`port`). ``max_connections`` and
    ``request_deadline_s`` bound the connections (see the module docstring).
    """

    def __init__(
        self,
        on_import: ImportCallback,
        *,
        port: int = DEFAULT_PORT,
        download_dir: Path | None = None,
        on_error: ErrorCallback | None = None,
        extra_origins: Iterable[str] = (),
        allow_loopback_downloads: bool = False,
        max_download_bytes: int = DEFAULT_MAX_BYTES,
        max_connections: int = MAX_CONNECTIONS,
        request_deadline_s: float = REQUEST_DEADLINE_S,
    ) -> None:
        self.on_import = on_import
        self.on_error = on_error
        self.download_dir = Path(download_dir) if download_dir else Path(tempfile.gettempdir(), "meshy-bridge")
        self.allowed_origins = frozenset(MESHY_WEB_ORIGINS) | frozenset(extra_origins)
        self.allow_loopback_downloads = allow_loopback_downloads
        self.max_download_bytes = max_download_bytes
        self.max_connections = max_connections
        self.request_deadline_s = request_deadline_s
        self.version = addon_version()
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._queue: queue.Queue[ImportRequest | None] = queue.Queue()
        self._cancel = threading.Event()

    @property
    def port(self) -> int:
        """The port listened on (the one picked by the system when created with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        return f"http://{BIND_ADDRESS}:{self.port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> BridgeServer:
        if self._httpd is not None:
            return self
        try:
            self._httpd = _HTTPServer(
                self, self._port, max_connections=self.max_connections, deadline_s=self.request_deadline_s
            )
        except OSError as error:
            raise BridgeError(
                f"Could not start the Meshy Bridge on port {self._port} ({error.strerror or error}); "
                "another program, or another Blender running the bridge, may be using it."
            ) from error
        self._port = self._httpd.server_address[1]
        self._cancel.clear()
        self._queue = queue.Queue()
        self._threads = [
            threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL_S},
                name="meshy-bridge-server",
                daemon=True,
            ),
            threading.Thread(target=self._work, name="meshy-bridge-worker", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("Meshy Bridge listening on %s", self.url)
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stop serving, cancel a running download, end every thread; True when all ended in time."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return True
        deadline = time.monotonic() + timeout
        self._cancel.set()
        self._queue.put(None)
        httpd.shutdown()  # returns once serve_forever's loop has ended (≤ POLL_INTERVAL_S)
        threads = [*self._threads, *httpd.close_connections()]
        httpd.server_close()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        stopped = not any(thread.is_alive() for thread in threads)
        if not stopped:
            log.warning("Meshy Bridge: a thread did not stop within %.1f s", timeout)
        return stopped

    # -- called by request threads ---------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {"status": "ok", "dcc": "blender", "version": self.version}

    def accept(self, body: bytes) -> dict[str, Any]:
        """Queue the import described by a ``POST /import`` body; PolicyError when refused."""
        url, name, model_format, frame_rate = parse_import(body)
        check_download_url(url, allow_loopback=self.allow_loopback_downloads)
        if self._cancel.is_set():
            raise PolicyError("The bridge is stopping.", status=409)
        if self._queue.qsize() >= MAX_PENDING:
            raise PolicyError("Too many imports are waiting; try again in a moment.", status=429)
        request = ImportRequest(uuid.uuid4().hex[:12], name, url, format=model_format, frame_rate=frame_rate)
        self._queue.put(request)
        log.info("Meshy Bridge: queued %r (%s)", name, request.id)
        return {"status": "ok", "message": "Import queued", "id": request.id, "name": name}

    # -- the worker --------------------------------------------------------------------
    def _work(self) -> None:
        """Receive the queued imports in order over one transport, closed when the bridge stops.

        The download module (requests, urllib3) is imported here, on this thread, when the
        bridge starts: not when the add-on is enabled, and not on Blender's main thread.
        """
        from .fetch import fetch_model, make_transport

        transport = make_transport(allow_loopback=self.allow_loopback_downloads)
        download = functools.partial(fetch_model, transport, cancel=self._cancel, max_bytes=self.max_download_bytes)
        try:
            while (request := self._queue.get()) is not None and not self._cancel.is_set():
                self._receive(request, download)
        finally:
            transport.session.close()

    def _receive(self, request: ImportRequest, download: Callable[[str, Path, str], ExtractedModel]) -> None:
        try:
            model = download(request.url, self.download_dir / request.id, request.format)
        except CancelledError:
            return
        except MeshyError as error:
            self._report(request, error)
            return
        except Exception as error:  # a bug must not kill the worker: later imports still arrive
            log.exception("Meshy Bridge: receiving %r failed", request.name)
            self._report(request, DownloadError(f"Unexpected error: {type(error).__name__}: {error}"))
            return
        try:
            self.on_import(ReceivedModel(request.id, request.name, model.path, model.note, request.frame_rate))
        except Exception:
            log.exception("Meshy Bridge: handing over %r failed", request.name)

    def _report(self, request: ImportRequest, error: MeshyError) -> None:
        log.warning("Meshy Bridge: %r could not be received: %s", request.name, error)
        if self.on_error is None:
            return
        try:
            self.on_error(request, error)
        except Exception:
            log.exception("Meshy Bridge: reporting the failure of %r failed", request.name)


def start_bridge(port: int = DEFAULT_PORT, *, on_import: ImportCallback, **options: Any) -> BridgeServer:
    """Start a bridge on ``127.0.0.1:port`` (BridgeError if the port is taken); see :class:`BridgeServer`."""
    return BridgeServer(on_import, port=port, **options).start()
