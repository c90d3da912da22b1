"""The Meshy API client: one method per endpoint, plus waiting for and downloading results.

Every create validates its body first (nothing is sent, nothing is paid for bad input).
The client is plain Python and blocking; the job layer calls it from worker threads.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3

from .animations import LIBRARY_PATH, Action, parse_library
from .download import DEFAULT_PACE, DownloadPace, Progress, download_file
from .errors import (
    AuthenticationError,
    CancelledError,
    MeshyError,
    NetworkError,
    RequestTimeoutError,
    ResultExpiredError,
    ServerError,
    TaskFailedError,
    ValidationError,
)
from .glb_safety import DEFAULT_MAX_BYTES
from .http import (
    DEFAULT_TIMEOUT,
    PREFERENCES_PATH,
    Listener,
    RetryPolicy,
    SecureSession,
    Transport,
    error_for_exception,
    error_for_response,
    error_for_status,
    interrupt_when,
    pause,
    read_json,
)
from .limits import DEFAULT_BASE_URL
from .sse import iter_events
from .tasks import Task, TaskKind, TaskStatus, expired_message, parse_task
from .untrusted import MAX_QUOTED_CHARS, UnsafeJSONError, clean_text, loads_json
from .urls import require_secure_url
from .validation import action_fields, validate

log = logging.getLogger(__name__)

BALANCE_PATH = "openapi/v1/balance"
MAX_PAGE_SIZE = 50
SORT_ORDERS = ("-created_at", "+created_at")
STREAM_READ_BYTES = 64 * 1024
#: Longest a progress stream is read past its task's last state, for its end (see ``MeshyClient._stream``).
STREAM_END_WAIT_S = 0.5


def _read_stream(response: requests.Response) -> requests.Response:
    if not 200 <= response.status_code < 300:
        raise error_for_response(response)
    return response


def _stream_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, without waiting for a read buffer to fill.

    Chunked bodies come chunk by chunk from requests; for a body delimited by the
    connection closing, ``read1`` returns whatever has arrived (urllib3 2.x has it,
    1.26 only on the underlying ``http.client`` response).
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None) or getattr(getattr(raw, "_fp", None), "read1", None)
    if getattr(raw, "chunked", False) or read1 is None:
        yield from response.iter_content(chunk_size=None)
        return
    try:
        while chunk := read1(STREAM_READ_BYTES):
            yield chunk
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # What iter_content would have wrapped: report it the same way.
        raise requests.exceptions.ConnectionError(exc) from exc


def _read_to_end(events: Iterator[object]) -> None:
    """Read a progress stream to its end after the task's last state.

    Meshy ends the stream after the terminal state, so its end is already on its way: read,
    the connection goes back to the pool for the job's next request (left unread, it was
    closed, and the next request opened a new one: for Meshy, a TLS handshake per job). The
    stream's watch shuts it if the end does not come within :data:`STREAM_END_WAIT_S`: nothing
    is lost but that connection.
    """
    with contextlib.suppress(requests.RequestException, MeshyError):
        for _ in events:
            pass


def _stream_error(data: str) -> MeshyError:
    """The exception for an ``event: error`` frame, e.g. ``{"status_code": 404, ...}``."""
    try:
        payload = loads_json(data)
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    status, message = payload.get("status_code"), clean_text(str(payload.get("message") or ""), MAX_QUOTED_CHARS)
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return error_for_status(status, message)
    return ServerError(f"Meshy's progress stream reported an error{f' ({message})' if message else ''}.")


def _state(task: Task) -> tuple[TaskStatus, int, int]:
    return task.status, task.progress, task.preceding_tasks


class MeshyClient:
    """A connection to Meshy with one API key.

    Worker threads may share one client: it keeps no per-request state, and requests'
    connection pool is thread-safe.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        key = (api_key or "").strip()
        if not key:
            raise ValidationError(
                f"No Meshy API key: enter it in {PREFERENCES_PATH} or set MESHY_API_KEY.", field="api_key"
            )
        if not (key.isascii() and key.isprintable()) or " " in key:
            raise ValidationError(
                "The Meshy API key contains characters that cannot be sent; paste it again.", field="api_key"
            )
        if len(timeout) != 2 or min(timeout) <= 0:
            raise ValidationError("Timeouts must be two positive numbers of seconds (connect, read).", field="timeout")
        self.base_url = require_secure_url(base_url.strip().rstrip("/"), "Meshy base URL", "base_url")
        self._owns_session = session is None
        self._transport = Transport(
            session or SecureSession(), api_key=key, timeout=timeout, retry=retry or RetryPolicy(), listeners=[]
        )

    def __repr__(self) -> str:
        return f"MeshyClient(base_url={self.base_url!r})"

    @property
    def request_listeners(self) -> list[Listener]:
        """Callables run with ``(method, url)`` before every HTTP request; append to it."""
        return self._transport.listeners

    @property
    def timeout(self) -> tuple[float, float]:
        return self._transport.timeout

    def close(self) -> None:
        if self._owns_session:
            self._transport.session.close()

    def __enter__(self) -> MeshyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URLs and plumbing ------------------------------------------------------------

    def _url(self, kind: TaskKind) -> str:
        return f"{self.base_url}/{kind.path}"

    def _task_url(self, kind: TaskKind, task_id: str) -> str:
        if not isinstance(task_id, str) or not task_id.strip():
            raise ValidationError("No task id given.", field="task_id")
        return f"{self._url(kind)}/{quote(task_id.strip(), safe='')}"

    def _json(
        self, method: str, url: str, *, body: Any = None, idempotent: bool = True, cancel: threading.Event | None = None
    ) -> Any:
        # Streamed, so that read_json can refuse an oversized body before it is all in memory.
        return self._transport.call(
            method, url, read=read_json, idempotent=idempotent, json_body=body, cancel=cancel, stream=True
        )

    def _task(self, kind: TaskKind, task_id: str, data: Any) -> Task:
        if not isinstance(data, dict):
            raise ServerError("Meshy sent something that is not a task. Try again in a moment.")
        given = data.get("id")
        return parse_task(kind, data if isinstance(given, str) and given else {**data, "id": task_id})

    # -- creating tasks ---------------------------------------------------------------

    def create_task(self, kind: TaskKind, body: Mapping[str, Any]) -> str:
        """Validate ``body``, create the task and return its id.

        Not retried after a failure that may have reached Meshy (timeout, reset, 5xx):
        such a task may exist and be charged; the job layer looks for it before retrying.
        """
        cleaned = validate(kind, body)
        data = self._json("POST", self._url(kind), body=cleaned, idempotent=False)
        task_id = data.get("result") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ServerError("Meshy accepted the task but did not send its id.")
        log.info("created %s task %s", kind.label, task_id)
        return task_id

    def _create(self, kind: TaskKind, fixed: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        given = {name: value for name, value in fixed.items() if value is not None}
        twice = sorted(given.keys() & options.keys())
        if twice:
            raise ValidationError(f"'{twice[0]}' is given twice; pass it only once.", field=twice[0])
        return self.create_task(kind, {**options, **given})

    def text_to_3d_preview(self, prompt: str, **options: Any) -> str:
        return self._create(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": prompt}, options)

    def text_to_3d_refine(self, preview_task_id: str, **options: Any) -> str:
        return self._create(TaskKind.TEXT_TO_3D, {"mode": "refine", "preview_task_id": preview_task_id}, options)

    def image_to_3d(self, image: str | Path, **options: Any) -> str:
        """``image``: a local PNG/JPEG file (sent as a data URI), a URL or a data URI."""
        return self._create(TaskKind.IMAGE_TO_3D, {"image_url": image}, options)

    def multi_image_to_3d(self, images: Sequence[str | Path], **options: Any) -> str:
        return self._create(TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": list(images)}, options)

    def text_to_image(self, prompt: str, ai_model: str, **options: Any) -> str:
        """Concept pictures from a prompt (``generate_multi_view``: four views); see ``images.py``."""
        return self._create(TaskKind.TEXT_TO_IMAGE, {"prompt": prompt, "ai_model": ai_model}, options)

    def image_to_image(self, references: Sequence[str | Path], prompt: str, ai_model: str, **options: Any) -> str:
        """Concept pictures from 1–5 reference images (files, URLs or data URIs) and a prompt."""
        fixed = {"reference_image_urls": list(references), "prompt": prompt, "ai_model": ai_model}
        return self._create(TaskKind.IMAGE_TO_IMAGE, fixed, options)

    def rigging(
        self, *, input_task_id: str | None = None, model: str | Path | bytes | None = None, **options: Any
    ) -> str:
        """Rig a finished task's model or a GLB (file, bytes or URL)."""
        return self._create(TaskKind.RIGGING, {"input_task_id": input_task_id, "model_url": model}, options)

    def animation(self, rig_task_id: str, action_id: int | Sequence[int], **options: Any) -> str:
        """Apply one library action, or several (``action_ids``: one file with a clip per action)."""
        return self._create(TaskKind.ANIMATION, {"rig_task_id": rig_task_id, **action_fields(action_id)}, options)

    def retexture(
        self,
        *,
        input_task_id: str | None = None,
        model: str | Path | bytes | None = None,
        text_style_prompt: str | None = None,
        image_style: str | Path | None = None,
        **options: Any,
    ) -> str:
        fixed = {
            "input_task_id": input_task_id,
            "model_url": model,
            "text_style_prompt": text_style_prompt,
            "image_style_url": image_style,
        }
        return self._create(TaskKind.RETEXTURE, fixed, options)

    def remesh(
        self, *, input_task_id: str | None = None, model: str | Path | bytes | None = None, **options: Any
    ) -> str:
        return self._create(TaskKind.REMESH, {"input_task_id": input_task_id, "model_url": model}, options)

    def uv_unwrap(self, *, input_task_id: str | None = None, model: str | Path | bytes | None = None) -> str:
        """A new UV layout for a finished task's model or a GLB of at most 40,000 faces (an untextured GLB)."""
        return self._create(TaskKind.UV_UNWRAP, {"input_task_id": input_task_id, "model_url": model}, {})

    def resize(
        self, *, input_task_id: str | None = None, model: str | Path | bytes | None = None, **options: Any
    ) -> str:
        """Scale a model to real-world size: one of ``resize_height``, ``resize_longest_side``, ``auto_size``."""
        return self._create(TaskKind.RESIZE, {"input_task_id": input_task_id, "model_url": model}, options)

    def convert(
        self,
        target_formats: Sequence[str],
        *,
        input_task_id: str | None = None,
        model: str | Path | bytes | None = None,
    ) -> str:
        """The model in other file formats (glb, fbx, obj, usdz, blend, stl, 3mf), without remeshing."""
        fixed = {"input_task_id": input_task_id, "model_url": model, "target_formats": list(target_formats)}
        return self._create(TaskKind.CONVERT, fixed, {})

    # -- reading tasks ----------------------------------------------------------------

    def get_task(self, kind: TaskKind, task_id: str) -> Task:
        return self._task(kind, task_id, self._json("GET", self._task_url(kind, task_id)))

    def list_tasks(
        self, kind: TaskKind, *, page_num: int = 1, page_size: int = 10, sort_by: str = "-created_at"
    ) -> list[Task]:
        """One page of the account's tasks of ``kind``, newest first by default."""
        if isinstance(page_num, bool) or not isinstance(page_num, int) or page_num < 1:
            raise ValidationError(f"'page_num' must be a whole number from 1 (got {page_num!r}).", field="page_num")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                f"'page_size' must be a whole number from 1 to {MAX_PAGE_SIZE} (got {page_size!r}).", field="page_size"
            )
        if sort_by not in SORT_ORDERS:
            raise ValidationError(
                f"'sort_by' must be '-created_at' or '+created_at' (got {sort_by!r}).", field="sort_by"
            )
        query = urlencode({"page_num": page_num, "page_size": page_size, "sort_by": sort_by})
        data = self._json("GET", f"{self._url(kind)}?{query}")
        if not isinstance(data, list):
            raise ServerError("Meshy's task list was not a list. Try again in a moment.")
        return [parse_task(kind, item) for item in data if isinstance(item, dict)]

    def delete_task(self, kind: TaskKind, task_id: str) -> None:
        """Delete a task and its files on Meshy; this cannot be undone."""
        self._json("DELETE", self._task_url(kind, task_id))

    def animation_library(self) -> list[Action]:
        """Meshy's animation library as it is today (free; bounded and checked like every answer)."""
        return parse_library(self._json("GET", f"{self.base_url}/{LIBRARY_PATH}"))

    def balance(self) -> int:
        """The account's remaining credits."""
        data = self._json("GET", f"{self.base_url}/{BALANCE_PATH}")
        value = data.get("balance") if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ServerError("Meshy did not say the account's balance. Try again in a moment.")
        return int(value)

    # -- following a task -------------------------------------------------------------

    def stream_task(self, kind: TaskKind, task_id: str, *, cancel: threading.Event | None = None) -> Iterator[Task]:
        """The task's states as Meshy streams them (SSE), ending with the terminal one.

        Progress frames carry only a few fields; each is merged into what was known.
        An ``event: error`` frame raises its error (404: TaskNotFoundError); a stream
        that ends before the task does raises NetworkError.
        """
        return self._stream(kind, task_id, cancel, None)

    def _stream(
        self, kind: TaskKind, task_id: str, cancel: threading.Event | None, deadline: float | None
    ) -> Iterator[Task]:
        url = f"{self._task_url(kind, task_id)}/stream"
        response = self._transport.call(
            "GET",
            url,
            read=_read_stream,
            idempotent=True,
            stream=True,
            cancel=cancel,
            headers={"Accept": "text/event-stream", "Accept-Encoding": "identity", "Cache-Control": "no-cache"},
        )
        current: Task | None = None
        end_by: list[float] = []  # once the last state came: when to stop waiting for the stream's end

        def watch_until() -> float:
            return end_by[0] if end_by else math.inf if deadline is None else deadline

        with contextlib.closing(response), interrupt_when(response, cancel, watch_until):
            try:
                events = iter_events(_stream_chunks(response))
                for event in events:
                    if event.event == "error":
                        raise _stream_error(event.data)
                    if event.event != "message":
                        continue
                    try:
                        update = self._task(kind, task_id, loads_json(event.data))
                    except UnsafeJSONError as error:
                        raise ServerError(
                            f"Meshy's progress stream sent a frame that cannot be used: {error}."
                        ) from None
                    current = update if current is None else current.merged(update)
                    if current.is_terminal:
                        end_by.append(time.monotonic() + STREAM_END_WAIT_S)
                        _read_to_end(events)
                    yield current
                    if current.is_terminal:
                        return
            except requests.RequestException as exc:
                self._check_stopped(cancel, deadline)
                raise error_for_exception(exc, urlsplit(url).hostname or url) from exc
        self._check_stopped(cancel, deadline)
        raise NetworkError("Meshy's progress stream closed before the task finished.")

    @staticmethod
    def _check_stopped(cancel: threading.Event | None, deadline: float | None) -> None:
        if cancel is not None and cancel.is_set():
            raise CancelledError("Cancelled.")
        if deadline is not None and time.monotonic() >= deadline:
            raise RequestTimeoutError("Stopped waiting for the Meshy task: it took too long.")

    def wait_for_task(
        self,
        kind: TaskKind,
        task_id: str,
        *,
        cancel: threading.Event | None = None,
        on_update: Callable[[Task], None] | None = None,
        use_sse: bool = True,
        poll_interval: float = 2.0,
        timeout: float = 3600.0,
    ) -> Task:
        """Follow a task until it ends and return it, or raise TaskFailedError.

        Listens to the SSE stream and falls back to polling every ``poll_interval``
        seconds when the stream fails or is unavailable. ``on_update`` sees each new
        state. Gives up with RequestTimeoutError after ``timeout`` seconds; setting
        ``cancel`` stops it within a quarter of a second (CancelledError).
        """
        deadline = time.monotonic() + timeout
        last: Task | None = None

        def seen(task: Task) -> Task:
            nonlocal last
            if on_update is not None and (last is None or _state(task) != _state(last)):
                on_update(task)
            last = task
            return task

        final = (
            self._follow_stream(kind, task_id, cancel, deadline=deadline, timeout=timeout, seen=seen)
            if use_sse
            else None
        )
        while final is None:
            if cancel is not None and cancel.is_set():
                raise CancelledError("Cancelled.")
            task = seen(self._task(kind, task_id, self._json("GET", self._task_url(kind, task_id), cancel=cancel)))
            if task.is_terminal:
                final = task
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._gave_up(timeout)
            pause(min(poll_interval, remaining), cancel=cancel, sleep=self._transport.retry.sleep)
        return self._finish(final)

    def _follow_stream(
        self,
        kind: TaskKind,
        task_id: str,
        cancel: threading.Event | None,
        *,
        deadline: float,
        timeout: float,
        seen: Callable[[Task], Task],
    ) -> Task | None:
        """The task's terminal state from its SSE stream, or None when the stream failed (poll instead)."""
        try:
            for streamed in self._stream(kind, task_id, cancel, deadline):
                if not streamed.is_terminal:
                    seen(streamed)
                    continue
                partial = "model_urls" not in streamed.raw and "result" not in streamed.raw
                # A closing frame without the result fields is completed with a GET.
                return seen(self.get_task(kind, task_id) if streamed.succeeded and partial else streamed)
        except (AuthenticationError, CancelledError):
            raise
        except MeshyError as error:
            if time.monotonic() >= deadline:
                raise self._gave_up(timeout) from error
            log.info("progress stream for task %s failed (%s); polling instead", task_id, error)
        return None

    @staticmethod
    def _gave_up(timeout: float) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"The Meshy task was not finished after {timeout:g} s; it may still finish — check the task list later."
        )

    @staticmethod
    def _finish(task: Task) -> Task:
        if task.succeeded:
            return task
        if task.status is TaskStatus.CANCELED:
            raise TaskFailedError(f"The {task.kind.label} task was cancelled on Meshy.", task_id=task.id)
        if task.status is TaskStatus.EXPIRED:
            raise ResultExpiredError(expired_message(task))
        error = task.task_error
        reason = error.message if error and error.message else "no reason given"
        code = error.code if error and error.code else None
        raise TaskFailedError(
            f"Meshy could not finish the {task.kind.label} task: {reason}", code=code, task_id=task.id
        )

    # -- results ----------------------------------------------------------------------

    def download(
        self,
        url: str,
        dest: Path,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        expect_glb: bool = True,
        stall_timeout: float | None = None,
        pace: DownloadPace = DEFAULT_PACE,
    ) -> Path:
        """Download a result file to ``dest`` (verified, atomic, not too slow; see ``download.py``)."""
        return download_file(
            self._transport,
            url,
            Path(dest),
            progress=progress,
            cancel=cancel,
            max_bytes=max_bytes,
            expect_glb=expect_glb,
            stall_timeout=stall_timeout,
            pace=pace,
        )
