"""HTTP plumbing: timeouts on every request, a retry policy, and errors in plain words.

Retries are done here rather than with urllib3's ``Retry`` so that the same code works
with the urllib3 1.26 and 2.x that different Blender versions bundle, and so that the
decision can depend on what a request costs: a GET may be repeated freely, a
task-creating POST only when the server certainly never saw it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from .errors import (
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ForbiddenError,
    InsufficientCreditsError,
    MeshyError,
    NetworkError,
    PoseEstimationError,
    QueueFullError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TaskNotFoundError,
)
from .untrusted import MAX_QUOTED_CHARS, UnsafeJSONError, clean_text, loads_json
from .urls import require_secure_url

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)
#: Longest stretch any wait may go without looking at its cancel event.
CANCEL_CHECK_S = 0.25
#: Where the user types the key (the separators are U+203A, escaped for the linter).
PREFERENCES_PATH = "Preferences \u203a Add-ons \u203a Meshy"
USER_AGENT = f"meshy-blender python-requests/{requests.__version__}"
#: Far above any API answer (a page of 50 tasks is ~200 KB); a longer body is refused unread.
MAX_JSON_BYTES = 8 * 1024 * 1024
#: An error body is read only this far for its ``message``.
MAX_ERROR_BODY_BYTES = 64 * 1024
BODY_PIECE_BYTES = 64 * 1024

Listener = Callable[[str, str], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again.

    ``attempts`` counts every try including the first. Delays use exponential backoff
    with full jitter, or the server's ``Retry-After``; the sum of all delays of one
    request stays within ``max_total_delay``. ``sleep`` and ``random`` are injectable
    so tests run instantly and deterministically.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, retry_number: int, error: MeshyError) -> float:
        """Seconds to wait before retry ``retry_number`` (0 for the first retry)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.random() * min(self.max_delay, self.base_delay * 2**retry_number)


def should_retry(error: MeshyError, *, idempotent: bool) -> bool:
    """Whether a request that failed with ``error`` may be sent again.

    A create request is charged once the server accepts it, so it is repeated only
    when the server certainly did not accept it: it was never delivered, or it was
    refused by the per-second rate limit. A full queue is left to the job layer, which
    waits for a running task to finish instead of hammering.
    """
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, NetworkError) and not error.maybe_sent:
        return True
    if not idempotent:
        return False
    return isinstance(error, (NetworkError, ServerError))


#: Connections a session keeps open per host: at least as many as the threads that share it (the job
#: manager runs two per job at a time, 100 at Meshy's Enterprise queue of 50, plus the library's map
#: threads), so that a thread's requests after its first reuse a connection. requests keeps 10: a
#: 300-asset batch then opened a new connection for a third of its 1,800 requests (for Meshy, a TLS
#: handshake each). Idle connections cost a socket each, and are opened only when needed.
POOL_SIZE = 128


class SecureSession(requests.Session):
    """A session that checks every request it sends, redirect hops included, with :func:`require_secure_url`.

    Downloads follow redirects (asset links may point to a CDN); a hop to plain HTTP on
    another computer is refused before it is sent.

    The environment's proxy settings (``HTTPS_PROXY``, ``NO_PROXY``…) and CA bundle
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) are honoured as requests honours them,
    but read once per host and session: requests reads them at every request, scanning
    the whole environment twice (about 1 ms of interpreter time a request here: 2 s of a
    300-asset batch's 1,800 requests, taken from the imports on the main thread).
    """

    def __init__(self) -> None:
        super().__init__()
        adapter = _InterruptibleAdapter(pool_maxsize=POOL_SIZE)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self._environ_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        require_secure_url(request.url or "", "address", "url")
        return super().send(request, **kwargs)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        """What requests' own returns, with the environment's part remembered per host."""
        if self.trust_env:
            proxies = dict(proxies or {})
            for scheme, proxy in self._proxies_for(str(url), proxies.get("no_proxy")).items():
                proxies.setdefault(scheme, proxy)
            if verify is True or verify is None:
                verify = self._ca_bundle or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def _proxies_for(self, url: str, no_proxy: str | None) -> dict[str, str]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        found = self._environ_proxies.get(key)
        if found is None:  # two threads may both look it up: the same answer
            found = self._environ_proxies[key] = get_environ_proxies(url, no_proxy=no_proxy)
        return found


# -- error mapping ------------------------------------------------------------------


def server_message(body: bytes | str | None) -> str:
    """The ``message`` of a Meshy error body, cleaned for printing, or "" when there is none."""
    try:
        data = loads_json(body) if body else None
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return clean_text(str(message), MAX_QUOTED_CHARS).strip() if message else ""


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds; HTTP dates and junk are ignored."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return max(0.0, seconds) if seconds is not None else None


def _quoted(message: str) -> str:
    return f" ({message})" if message else ""


def error_for_status(status: int, message: str = "", *, retry_after: float | None = None) -> MeshyError:
    """The exception for an HTTP error ``status`` with Meshy's ``message`` (cleaned and shortened here)."""
    message = clean_text(message, MAX_QUOTED_CHARS).strip()
    if status == 401:
        # The server's text is not quoted: it could echo the key.
        return AuthenticationError(f"Meshy rejected the API key. Check it in {PREFERENCES_PATH}.", status=status)
    if status == 402:
        return InsufficientCreditsError(
            f"Not enough Meshy credits for this task{_quoted(message)}. Top up your account on meshy.ai.",
            status=status,
        )
    if status == 403:
        return ForbiddenError(f"Meshy refused access with this API key{_quoted(message)}.", status=status)
    if status == 404:
        return TaskNotFoundError(
            f"Meshy has no such task{_quoted(message)}: it was deleted or belongs to another account.",
            status=status,
        )
    if status == 422:
        return PoseEstimationError(
            "Meshy could not find a humanoid pose in the model. Rigging works on a textured humanoid "
            f"standing upright and facing forward{_quoted(message)}.",
            status=status,
        )
    if status == 429:
        if "concurrent" in message.lower():
            return QueueFullError(
                "Your Meshy task queue is full: the next task starts when a running one finishes.",
                retry_after=retry_after,
            )
        return RateLimitError(
            "Meshy is limiting how many requests are sent per second; try again in a moment.",
            retry_after=retry_after,
        )
    if status >= 500:
        return ServerError(
            f"Meshy's server had a problem (HTTP {status}){_quoted(message)}. Try again in a moment.", status=status
        )
    if 300 <= status < 400:
        return ServerError(f"Meshy answered with an unexpected redirect (HTTP {status}).", status=status)
    return BadRequestError(f"Meshy refused the request (HTTP {status}){_quoted(message)}.", status=status)


def read_at_most(response: requests.Response, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit`` bytes: a streamed body is read no further."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    pieces: list[bytes] = []
    size = 0
    for piece in response.iter_content(BODY_PIECE_BYTES):
        size += len(piece)
        if size > limit:
            return None
        pieces.append(piece)
    return b"".join(pieces)


def error_for_response(response: requests.Response) -> MeshyError:
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    message = server_message(read_at_most(response, MAX_ERROR_BODY_BYTES))
    return error_for_status(response.status_code, message, retry_after=retry_after)


def _reason(exc: BaseException) -> BaseException | None:
    """The urllib3 exception inside a requests exception (``MaxRetryError.reason``)."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
    return getattr(inner, "reason", inner)


def error_for_exception(exc: requests.RequestException, host: str) -> NetworkError:
    """A network failure as a NetworkError that says whether the request may have arrived."""
    reason = _reason(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, NewConnectionError):
        # The connection was never made (refused, unknown host, connect timeout): nothing was sent.
        return NetworkError(f"Could not connect to {host}. Check your internet connection.", maybe_sent=False)
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"The secure connection to {host} failed (TLS/certificate problem).", maybe_sent=False)
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(reason, (ReadTimeoutError, TimeoutError)):
        return RequestTimeoutError(f"{host} did not answer in time.")
    return NetworkError(f"The connection to {host} was interrupted.")


# -- waiting and cancelling -----------------------------------------------------------


def pause(seconds: float, *, cancel: threading.Event | None, sleep: Callable[[float], None]) -> None:
    """Sleep ``seconds`` in short slices, raising CancelledError as soon as ``cancel`` is set."""
    remaining = seconds
    while remaining > 0:
        if cancel is not None and cancel.is_set():
            raise CancelledError("Cancelled.")
        step = min(CANCEL_CHECK_S, remaining)
        sleep(step)
        remaining -= step
    if cancel is not None and cancel.is_set():
        raise CancelledError("Cancelled.")


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from (private attributes of urllib3 1.26/2.x and http.client)."""
    raw = response.raw
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        # For "Connection: close" answers http.client lets go of conn.sock; the body's reader keeps it.
        reader = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


@contextlib.contextmanager
def interrupt_when(
    response: requests.Response,
    cancel: threading.Event | None,
    deadline: float | Callable[[], float] | None = None,
) -> Iterator[threading.Event]:
    """Shut the response's socket down when ``cancel`` is set or ``deadline`` passes.

    A thread blocked reading a socket does not notice ``close()`` from another thread;
    ``shutdown()`` wakes it at once, so a cancelled stream or download stops within
    :data:`CANCEL_CHECK_S` rather than at the next read timeout. ``deadline`` may be a
    function, asked each time, for a deadline that moves as data arrives. The event
    yielded is set once the socket was shut, so the reader can tell why its data ended.
    """
    fired = threading.Event()
    if cancel is None and deadline is None:
        yield fired
        return
    watch = _Watch(lambda: _socket_of(response), cancel, deadline, fired)
    _WATCHDOG.add(watch)
    try:
        yield fired
    finally:
        _WATCHDOG.remove(watch)


@dataclass(eq=False)
class _Watch:
    socket_of: Callable[[], socket.socket | None]
    cancel: threading.Event | None
    deadline: float | Callable[[], float] | None
    fired: threading.Event

    def due(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            return True
        if self.deadline is None:
            return False
        return time.monotonic() >= (self.deadline() if callable(self.deadline) else self.deadline)

    def fire(self) -> None:
        self.fired.set()
        sock = self.socket_of()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread looking at every response being read (and request awaiting its answer), every :data:`CANCEL_CHECK_S`.

    (A thread per response cost a thread start per download and four wake-ups a second per
    stream: 1,800 starts and 200 wake-ups a second in a 300-asset batch, each taking the
    interpreter lock from Blender's main thread.) The thread runs while anything is watched;
    whoever removes the last watch waits for it to end, so that a stopped worker leaves no
    thread behind (add-on disable).
    """

    def __init__(self) -> None:
        self._state = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._state:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="meshy-interrupt", daemon=True)
                self._thread.start()

    def remove(self, watch: _Watch) -> None:
        with self._state:
            self._watches.discard(watch)
            if not self._watches:
                self._state.notify_all()
                self._state.wait_for(lambda: self._thread is None or bool(self._watches), CANCEL_CHECK_S)

    def _run(self) -> None:
        while True:
            with self._state:
                if not self._watches:
                    self._thread = None
                    self._state.notify_all()
                    return
                self._state.wait(CANCEL_CHECK_S)
                due = [watch for watch in self._watches if watch.due()]
                self._watches.difference_update(due)
                for watch in due:  # under the lock: once remove() returns, its socket is not shut any more
                    watch.fire()


_WATCHDOG = _Watchdog()


class _Awaited:
    """The socket a request of one thread waits on for its answer: set by the connection, shut by the watchdog."""

    sock: socket.socket | None = None


_awaited = threading.local()


@contextlib.contextmanager
def _answer_interrupted_when(cancel: threading.Event | None) -> Iterator[threading.Event]:
    """Shut the socket of the request sent inside when ``cancel`` is set while it waits for the answer.

    :func:`interrupt_when` covers a response being read; before there is one, the thread waits
    in urllib3 for the status line, up to the whole read timeout (30 s by default), and a
    cancelled download or stream went on "downloading" that long after Cancel. The socket is
    known to the connection only (:class:`_InterruptibleAnswer` hands it over). The event
    yielded is set when the socket was shut. Only for requests that may be sent again: a
    create's answer is its task id, waited for even when its job is cancelled.
    """
    fired = threading.Event()
    if cancel is None:
        yield fired
        return
    awaited = _awaited.request = _Awaited()
    watch = _Watch(lambda: awaited.sock, cancel, None, fired)
    _WATCHDOG.add(watch)
    try:
        yield fired
    finally:
        _WATCHDOG.remove(watch)
        _awaited.request = None


class _InterruptibleAnswer:
    """A urllib3 connection that lets :func:`_answer_interrupted_when` shut its socket while it waits for an answer."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        awaited = getattr(_awaited, "request", None)
        if awaited is not None:
            awaited.sock = self.sock
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _InterruptibleHTTPConnection(_InterruptibleAnswer, HTTPConnection):
    pass


class _InterruptibleHTTPSConnection(_InterruptibleAnswer, HTTPSConnection):
    pass


class _InterruptibleHTTPPool(HTTPConnectionPool):
    ConnectionCls = _InterruptibleHTTPConnection


class _InterruptibleHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _InterruptibleHTTPSConnection


class _InterruptibleAdapter(HTTPAdapter):
    """requests' adapter whose direct connections are :class:`_InterruptibleAnswer` (through a proxy they
    are urllib3's own: a cancel then waits for the answer, as before)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _InterruptibleHTTPPool, "https": _InterruptibleHTTPSPool}


# -- the transport --------------------------------------------------------------------


def read_json(response: requests.Response) -> Any:
    """The JSON of a successful API response (None for an empty body); errors mapped.

    Meant for a streamed response, so that an oversized body is refused before it is
    all in memory; the response is closed (its connection reused) once read.
    """
    with contextlib.closing(response):
        if not 200 <= response.status_code < 300:
            raise error_for_response(response)
        status = response.status_code
        body = read_at_most(response, MAX_JSON_BYTES)
        if body is None:
            raise ServerError(
                f"Meshy sent an answer larger than {MAX_JSON_BYTES // (1024 * 1024)} MB, far more than any API "
                "answer; it was not read. Try again in a moment.",
                status=status,
            )
        if not body.strip():
            return None
        try:
            return loads_json(body)
        except UnsafeJSONError as error:
            raise ServerError(
                f"Meshy sent an answer that cannot be used: {error}. Try again in a moment.", status=status
            ) from None


class Transport:
    """One requests session plus timeouts, retries, listeners and the Authorization header."""

    def __init__(
        self,
        session: requests.Session,
        *,
        api_key: str,
        timeout: tuple[float, float],
        retry: RetryPolicy,
        listeners: list[Listener],
    ) -> None:
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.listeners = listeners
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self._secret = api_key

    def __repr__(self) -> str:
        return f"Transport(timeout={self.timeout!r})"

    def call(
        self,
        method: str,
        url: str,
        *,
        read: Callable[[requests.Response], T],
        idempotent: bool,
        auth: bool = True,
        stream: bool = False,
        cancel: threading.Event | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] | None = None,
        json_body: Any = None,
    ) -> T:
        """Send a request, retrying per the policy, and return ``read(response)``.

        ``read`` runs inside the retry loop, so a body that arrives broken counts as a
        failed attempt. With ``stream`` the response stays open for the caller.
        """
        waited = 0.0
        attempt = 0
        while True:
            try:
                return self._once(
                    method,
                    url,
                    read,
                    auth=auth,
                    stream=stream,
                    headers=headers,
                    timeout=timeout,
                    json_body=json_body,
                    cancel=cancel if idempotent else None,
                )
            except MeshyError as error:
                attempt += 1
                if attempt >= self.retry.attempts or not should_retry(error, idempotent=idempotent):
                    raise
                delay = self.retry.delay(attempt - 1, error)
                if waited + delay > self.retry.max_total_delay:
                    raise
                waited += delay
                log.info("%s %s failed (%s); retry %d in %.2f s", method, _loggable(url), error, attempt, delay)
                pause(delay, cancel=cancel, sleep=self.retry.sleep)

    def _once(
        self,
        method: str,
        url: str,
        read: Callable[[requests.Response], T],
        *,
        auth: bool,
        stream: bool,
        headers: Mapping[str, str] | None,
        timeout: tuple[float, float] | None,
        json_body: Any,
        cancel: threading.Event | None,
    ) -> T:
        for listener in list(self.listeners):
            listener(method, url)
        all_headers = {"User-Agent": USER_AGENT, **(headers or {}), **(self._auth if auth else {})}
        host = urlsplit(url).hostname or url
        with _answer_interrupted_when(cancel) as interrupted:
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=all_headers,
                    json=json_body,
                    timeout=timeout or self.timeout,
                    stream=stream,
                    allow_redirects=not auth,
                )
            except requests.RequestException as exc:
                if interrupted.is_set():
                    raise CancelledError("Cancelled.") from None
                raise error_for_exception(exc, host) from exc
        if interrupted.is_set():  # cancelled as the answer arrived: its socket may be shut already
            response.close()
            raise CancelledError("Cancelled.")
        log.debug("%s %s -> %d", method, _loggable(url), response.status_code)
        keep_open = False
        try:
            result = read(response)
            keep_open = stream
            return result
        except requests.RequestException as exc:
            raise error_for_exception(exc, host) from exc
        except MeshyError as error:
            self._redact(error)
            raise
        finally:
            if not keep_open:
                response.close()

    def _redact(self, error: MeshyError) -> None:
        """Belt and braces: a server message that echoes the key must not carry it on."""
        if self._secret and self._secret in str(error):
            error.args = (str(error).replace(self._secret, "***"),)


def _loggable(url: str) -> str:
    """The URL without its query: signed asset parameters stay out of logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
