"""Run one job to the end on a worker thread: create, watch, download.

The runner never touches bpy. It mutates only its own job and reports every change
through ``notify(persist)``; the manager saves the ledger and wakes the pump; before a
create it calls ``checkpoint()``, which returns once the job is on disk. It is
written to be restarted at any point: a stage with a task id is watched, not created
again; a stage whose create may have reached Meshy is looked up first; files already
downloaded and verified are kept.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..api.errors import (
    EXIT_TASK_FAILED,
    AssetExpiredError,
    CancelledError,
    DownloadError,
    LocalWriteError,
    MeshyError,
    NetworkError,
    QueueFullError,
    RateLimitError,
    RequestTimeoutError,
    ResultExpiredError,
    ServerError,
)
from ..api.glb_safety import check_ahead, is_valid_glb
from ..api.images import MAX_PNG_BYTES, check_png, is_valid_png
from ..api.tasks import Task, expired_message
from . import outputs
from .model import Job, JobState, Stage
from .recovery import find_created_task

if TYPE_CHECKING:
    from ..api.client import MeshyClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    use_sse: bool = True
    poll_interval: float = 2.0
    #: Longest a single task may take on Meshy before we give up watching it.
    task_timeout: float = 3600.0
    #: Longest we wait for a free slot when the account's queue is full.
    slot_wait_timeout: float = 3600.0
    #: How long connection problems may last before the job is reported failed.
    transient_window: float = 600.0
    max_download_bytes: int = 2 * 1024**3
    #: Create attempts after ambiguous failures (each preceded by a lookup).
    create_attempts: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0


def _refusal_message(error: QueueFullError | RateLimitError) -> str:
    if isinstance(error, QueueFullError):
        return "Meshy queue is full; waiting for a free slot…"
    return "Meshy asked us to slow down; retrying shortly…"


class JobRunner:
    def __init__(
        self,
        client: MeshyClient,
        job: Job,
        *,
        job_dir: Path,
        cancel: threading.Event,
        notify: Callable[[bool], None],
        #: Returns once the job is on disk; raises LocalWriteError when it cannot be, and nothing is sent.
        checkpoint: Callable[[], None],
        claimed_task_ids: Callable[[], Collection[str]],
        settings: RunSettings,
        #: Called on this thread once the result's files are downloaded, before the job is READY or DONE,
        #: with the final task as Meshy last described it (the library keeps the result: see ``library``).
        on_result: Callable[[Job, Task], None] | None = None,
        #: A place in Meshy's queue, held while the job's tasks are created and run (see ``slots``).
        slot: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.client = client
        self.job = job
        self.job_dir = job_dir
        self.cancel = cancel
        self.notify = notify
        self.checkpoint = checkpoint
        self.claimed_task_ids = claimed_task_ids
        self.settings = settings
        self.on_result = on_result
        self.slot = slot
        self._final_task: Task | None = None
        #: When the current stretch of connection problems began (None: Meshy is answering).
        self._trouble_since: float | None = None

    # -- entry point -------------------------------------------------------------
    def run(self) -> None:
        """Carry the job as far as it goes; errors end up on the job, never raised."""
        try:
            with self.slot():  # given back before the download: the next job's task starts meanwhile
                for index, stage in enumerate(self.job.stages):
                    if stage.succeeded and index < len(self.job.stages) - 1:
                        continue
                    if stage.link_field and not stage.body.get(stage.link_field):
                        stage.body[stage.link_field] = self.job.stages[index - 1].task_id
                    if not stage.task_id:
                        self._create(stage)
                    self._final_task = self._watch(stage)
            self._download_results()
            if self.on_result is not None and self._final_task is not None:
                self.on_result(self.job, self._final_task)
            if self.job.import_result and "model" in self.job.files:
                # The import's safety check, here rather than on Blender's thread; after the library's hard
                # link of the file (which moves its ctime), so that the import finds it as it was checked.
                check_ahead(self.job.files["model"])
            self._set_state(JobState.READY if self.job.import_result else JobState.DONE, "")
        except CancelledError:
            raise  # the manager decides: user cancel or shutdown
        except MeshyError as error:
            self.job.error = str(error)
            self.job.error_code = getattr(error, "code", "") or ""
            self.job.exit_code = error.exit_code
            self._set_state(JobState.FAILED, str(error))
        except Exception as error:  # a bug must not kill the worker or lose the job silently
            log.exception("Meshy job %s failed unexpectedly", self.job.id)
            self.job.error = f"Unexpected error: {type(error).__name__}: {error}"
            self.job.exit_code = EXIT_TASK_FAILED
            self._set_state(JobState.FAILED, self.job.error)

    # -- helpers -----------------------------------------------------------------
    def _set_state(self, state: JobState, message: str, *, persist: bool = True) -> None:
        self.job.state = state
        self.job.message = message or state.label
        self.notify(persist)

    def _sleep(self, seconds: float) -> None:
        """Wait without ignoring cancel; raises CancelledError when cancelled."""
        if self.cancel.wait(max(0.0, seconds)):
            raise CancelledError("Canceled.")

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.settings.backoff_max, self.settings.backoff_base * 2**attempt))

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CancelledError("Canceled.")

    # -- create ------------------------------------------------------------------
    def _create(self, stage: Stage) -> None:
        """Create the stage's task exactly once, waiting for a queue slot when needed."""
        slot_deadline = time.monotonic() + self.settings.slot_wait_timeout
        slot_attempt = 0
        ambiguous_failures = 0
        while True:
            self._check_cancel()
            if stage.create_sent_ms:
                try:
                    if self._adopt_earlier_create(stage):
                        return
                except (NetworkError, ServerError, RateLimitError) as error:
                    # The lookup failed, not the create: it must still happen before any new create.
                    ambiguous_failures = self._after_ambiguous_failure(error, ambiguous_failures)
                    continue
            self._set_state(JobState.SUBMITTING, f"Submitting {stage.kind.label}…")
            stage.create_sent_ms = int(time.time() * 1000)
            try:
                self.checkpoint()  # on disk before the request leaves: a crash now is recoverable
            except LocalWriteError:
                stage.create_sent_ms = 0  # nothing was sent: the job could not be remembered
                raise
            try:
                stage.task_id = self.client.create_task(stage.kind, stage.body)
            except (QueueFullError, RateLimitError) as error:
                stage.create_sent_ms = 0  # a 429 is a certain refusal: nothing to look up
                if time.monotonic() > slot_deadline:
                    waited = f"Gave up after waiting {self.settings.slot_wait_timeout:g} s; retry the job later."
                    raise type(error)(f"{error} {waited}", retry_after=error.retry_after) from error
                self._set_state(JobState.WAITING_FOR_SLOT, _refusal_message(error))
                self._sleep(error.retry_after or max(2.0, self._backoff(slot_attempt)))
                slot_attempt += 1
                continue
            except (NetworkError, ServerError) as error:
                if isinstance(error, NetworkError) and not error.maybe_sent:
                    stage.create_sent_ms = 0
                ambiguous_failures = self._after_ambiguous_failure(error, ambiguous_failures)
                continue
            self._set_state(JobState.RUNNING, f"{stage.kind.label} submitted")
            return

    def _after_ambiguous_failure(self, error: MeshyError, failures: int) -> int:
        """Count a failed create or lookup; raise it when there were too many, else pause."""
        failures += 1
        if failures >= self.settings.create_attempts:
            raise error
        self._set_state(JobState.SUBMITTING, f"Connection problem ({error}); checking with Meshy…")
        self._sleep(self._backoff(failures))
        return failures

    def _adopt_earlier_create(self, stage: Stage) -> bool:
        task_id = find_created_task(self.client, stage, self.claimed_task_ids())
        if task_id:
            log.info("Meshy job %s: adopted task %s created by an earlier attempt", self.job.id, task_id)
            stage.task_id = task_id
            self.notify(True)
        return bool(task_id)

    # -- watch -------------------------------------------------------------------
    def _watch(self, stage: Stage) -> Task:
        """Wait for the stage's task to finish, riding out connection problems.

        The whole wait lasts at most ``task_timeout``; each stretch of connection problems
        at most ``transient_window`` (a stretch ends when Meshy reports progress again).
        """
        self._set_state(JobState.RUNNING, f"{stage.kind.label}: waiting for Meshy")
        deadline = time.monotonic() + self.settings.task_timeout
        self._trouble_since = None
        attempt = 0
        while True:
            self._check_cancel()
            try:
                task = self.client.wait_for_task(
                    stage.kind,
                    stage.task_id,
                    cancel=self.cancel,
                    on_update=lambda t: self._on_update(stage, t),
                    use_sse=self.settings.use_sse,
                    poll_interval=self.settings.poll_interval,
                    timeout=max(0.0, deadline - time.monotonic()),
                )
            except (NetworkError, ServerError) as error:
                now = time.monotonic()
                if self._trouble_since is None:
                    self._trouble_since = now
                if now >= deadline:
                    raise RequestTimeoutError(
                        f"The {stage.kind.label} task was not finished after {self.settings.task_timeout:g} s; "
                        "it may still finish on Meshy — check the task list later."
                    ) from error
                if now - self._trouble_since > self.settings.transient_window:
                    raise
                self.job.message = f"Connection problem, retrying: {error}"
                self.notify(False)
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            self._on_update(stage, task)
            return task

    def _on_update(self, stage: Stage, task: Task) -> None:
        self._trouble_since = None
        stage.status = task.status.value
        stage.progress = task.progress
        stage.preceding_tasks = task.preceding_tasks
        if task.consumed_credits is not None:
            stage.consumed_credits = task.consumed_credits
        if task.status.value == "PENDING" and task.preceding_tasks:
            self.job.message = f"{stage.kind.label}: {task.preceding_tasks} tasks ahead in Meshy's queue"
        else:
            self.job.message = f"{stage.kind.label}: {task.progress}%"
        self.notify(task.is_terminal)

    # -- download ----------------------------------------------------------------
    def _download_results(self) -> None:
        stage = self.job.stages[-1]
        task = self._final_task
        pictures = self.job.makes_images
        if task is None or not (task.image_urls if pictures else task.glb_url):  # not seen, or seen without files
            task = self.client.get_task(stage.kind, stage.task_id)
        targets = self._targets(task)
        what = f"{len(targets)} pictures" if pictures else "the model"
        self._set_state(JobState.DOWNLOADING, f"Downloading {what}…")
        for role in targets:
            dest = self.job_dir / (f"{role}.png" if pictures else f"{role}.glb")
            if dest.is_file() and (is_valid_png(dest) if pictures else is_valid_glb(dest)):
                self.job.files[role] = str(dest)
                continue
            try:
                task = self._download_one(stage, task, role, dest)
            except OSError as error:  # network trouble arrives as MeshyError: this is the disk (full, read-only…)
                raise outputs.write_failed(dest, outputs.reason(error)) from error
            self.job.files[role] = str(dest)
            self.notify(True)
        self._final_task = task  # with the links that worked, for :attr:`on_result`

    def _targets(self, task: Task) -> dict[str, str]:
        if task.expired(int(time.time() * 1000)):
            raise ResultExpiredError(expired_message(task))
        if self.job.makes_images:
            if not task.image_urls:
                raise DownloadError(f"Meshy finished task {task.id} but gave no pictures to download.")
            return {f"image_{number}": url for number, url in enumerate(task.image_urls, 1)}
        if not task.glb_url:
            raise DownloadError(f"Meshy finished task {task.id} but gave no GLB model to download.")
        kept = {"pre_remeshed": task.pre_remeshed_glb_url} if task.pre_remeshed_glb_url else {}
        return {"model": task.glb_url, **task.animation_glb_urls, **kept}

    def _download_one(self, stage: Stage, task: Task, role: str, dest: Path) -> Task:
        """Download one file, renewing expired URLs and retrying broken transfers."""
        attempt = 0
        while True:
            url = self._targets(task)[role]
            pictures = self.job.makes_images
            limit = self.settings.max_download_bytes
            try:
                self.client.download(
                    url,
                    dest,
                    progress=self._on_download_progress,
                    cancel=self.cancel,
                    max_bytes=min(limit, MAX_PNG_BYTES) if pictures else limit,
                    expect_glb=not pictures,
                )
                if pictures:
                    _keep_png(dest)
                return task
            except AssetExpiredError:
                if attempt >= 3:
                    raise
                task = self.client.get_task(stage.kind, stage.task_id)  # fresh signed URLs
            except (DownloadError, NetworkError) as error:
                if attempt >= 3:
                    raise
                self.job.message = f"Download interrupted ({error}); retrying…"
                self.notify(False)
                self._sleep(self._backoff(attempt))
            attempt += 1

    def _on_download_progress(self, done: int, total: int | None) -> None:
        self.job.download_fraction = done / total if total else 0.0
        self.notify(False)


def _keep_png(path: Path) -> None:
    """Keep a downloaded picture only when it is a whole, plausible PNG (DownloadError, and it is gone, if not)."""
    try:
        check_png(path)
    except DownloadError:
        path.unlink(missing_ok=True)
        raise
