"""The job manager: worker threads, the ledger, and the hand-over to the main thread.

Threads: ``concurrency`` daemon workers take queued jobs and run them (network only).
The main thread calls :meth:`take_ready` from the pump to import finished jobs one at a
time, then :meth:`mark_imported`. ``version`` increases on every change so the pump
redraws only when something moved.

Saving: every change worth keeping asks the :class:`LedgerWriter` for a save and goes on;
only a create about to be sent waits until the ledger is on disk (:meth:`_checkpoint`).
Reads from the main thread (``get``, ``all_final``, ``version``) take no lock at all.

Cancel versus shutdown: a user's cancel ends the job as CANCELED; a shutdown (add-on
disabled, Blender quitting) stops the workers within a bound but leaves every job as
the ledger last saw it, so the next start carries on where this one stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..api.client import MeshyClient
from ..api.errors import EXIT_TASK_FAILED, CancelledError, MeshyError
from .ledger import Ledger
from .ledger_writer import LedgerWriter
from .model import Job, JobState
from .runner import JobRunner, RunSettings

log = logging.getLogger(__name__)

MAX_FINISHED_KEPT = 200
#: How long a create waits for the ledger to reach the disk before it is sent anyway.
CHECKPOINT_TIMEOUT_S = 10.0


class JobManager:
    def __init__(
        self,
        client_factory: Callable[[], MeshyClient],
        *,
        download_dir: Path,
        ledger: Ledger | None = None,
        concurrency: int = 10,
        settings: RunSettings | None = None,
        keep_finished: int | None = MAX_FINISHED_KEPT,
    ) -> None:
        self.client_factory = client_factory
        self.download_dir = Path(download_dir)
        self.ledger = ledger
        self._writer = LedgerWriter(ledger, self._jobs_to_save) if ledger is not None else None
        self.concurrency = max(1, concurrency)
        self.settings = settings or RunSettings()
        #: Finished jobs kept in the ledger (None: all, as a batch needs to know every asset it made).
        self.keep_finished = keep_finished
        self.version = 0
        self._jobs: dict[str, Job] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._user_canceled: set[str] = set()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ready: queue.Queue[str] = queue.Queue()
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._dormant: set[str] = set()
        self._load_ledger()

    # -- reading -------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """All known jobs, newest first (attributes may move while a worker runs)."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.created_ms, reverse=True)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def active(self) -> list[Job]:
        return [job for job in self.jobs() if not job.state.is_final]

    def all_final(self, job_ids: Iterable[str] | None = None) -> bool:
        """True when none of ``job_ids`` (default: all jobs) is still in flight. Lock-free: the pump calls it."""
        ids = list(job_ids) if job_ids is not None else list(self._jobs)
        jobs = (self._jobs.get(job_id) for job_id in ids)  # a job pruned meanwhile is final
        return all(job.state.is_final for job in jobs if job is not None)

    def claimed_task_ids(self) -> set[str]:
        with self._lock:
            return {stage.task_id for job in self._jobs.values() for stage in job.stages if stage.task_id}

    # -- writing -------------------------------------------------------------------
    def submit(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
            job.state = JobState.QUEUED
            job.message = JobState.QUEUED.label
        self._changed(persist=True)
        self._enqueue(job)
        return job

    def add_ready(self, job: Job) -> Job:
        """List a job whose model was downloaded elsewhere (the Meshy Bridge) and queue it for import."""
        if job.state is not JobState.READY or not job.files.get("model"):
            raise ValueError("add_ready takes a READY job with a downloaded model")
        with self._lock:
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
        self._changed(persist=True)
        self._ready.put(job.id)
        return job

    def _load_ledger(self) -> None:
        """Know every ledger job from the start, so that no save can drop one.

        Unfinished jobs stay dormant (listed, not run) until :meth:`resume`: the add-on
        may not send anything yet (offline, no key).
        """
        if self.ledger is None:
            return
        for job in self.ledger.load():
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
            if not job.state.is_final:
                self._dormant.add(job.id)
                job.message = "Paused: carries on once Meshy can be reached (online access and an API key)"

    def resume(self) -> list[Job]:
        """Carry on every job the ledger had left unfinished."""
        resumed = []
        with self._lock:
            waiting = [self._jobs[job_id] for job_id in self._dormant if job_id in self._jobs]
            self._dormant.clear()
        for job in sorted(waiting, key=lambda job: job.created_ms):
            job.message = "Resumed after restart"
            if job.state is JobState.READY:
                self._ready.put(job.id)
            else:
                self._enqueue(job)
            resumed.append(job)
        self._changed(persist=False)
        return resumed

    def cancel(self, job_id: str) -> None:
        """Stop watching a job. Meshy has no cancel: a created task still finishes there."""
        job = self._jobs.get(job_id)
        if job is None or job.state.is_final:
            return
        self._user_canceled.add(job_id)
        self._cancel[job_id].set()
        if job.state in (JobState.QUEUED, JobState.READY) or job_id in self._dormant:
            self._dormant.discard(job_id)
            self._finish_canceled(job)

    def cancel_all(self) -> None:
        for job in self.active():
            self.cancel(job.id)

    def forget(self, job_id: str) -> None:
        """Remove a finished job from the list (the ledger too)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.state.is_final:
                return
            del self._jobs[job_id]
            self._cancel.pop(job_id, None)
        self._changed(persist=True)

    def retry(self, job_id: str) -> None:
        """Run a failed or canceled job again from where it stopped (no task is created twice)."""
        job = self._jobs.get(job_id)
        if job is None or job.state not in (JobState.FAILED, JobState.CANCELED):
            return
        if any(not stage.task_id and not stage.body for stage in job.stages):
            return  # nothing to send again (e.g. a model received by the bridge): re-import instead
        job.error = job.error_code = ""
        self._user_canceled.discard(job_id)
        self._cancel[job_id] = threading.Event()
        job.state = JobState.QUEUED
        job.message = "Retrying"
        self._changed(persist=True)
        self._enqueue(job)

    # -- main-thread hand-over -------------------------------------------------------
    def take_ready(self) -> Job | None:
        """The next job whose files wait for import, or None. Main thread only."""
        while True:
            try:
                job_id = self._ready.get_nowait()
            except queue.Empty:
                return None
            job = self._jobs.get(job_id)
            if job is not None and job.state is JobState.READY:
                return job

    def mark_imported(self, job: Job, object_names: list[str], *, warning: str = "") -> None:
        """The job's objects are in the scene; ``warning`` tells what is not as asked."""
        job.imported_objects = list(object_names)
        job.state = JobState.IMPORTED
        job.message = f"Imported {len(object_names)} object(s)" + (f"; {warning}" if warning else "")
        self._changed(persist=True)

    def mark_import_failed(self, job: Job, message: str) -> None:
        job.exit_code = EXIT_TASK_FAILED
        self._fail(job, message)

    def _fail(self, job: Job, message: str) -> None:
        job.state = JobState.FAILED
        job.error = job.message = message
        self._changed(persist=True)

    def reimport(self, job_id: str) -> None:
        """Queue a finished job's downloaded files for import again."""
        job = self._jobs.get(job_id)
        if job is None or not job.files.get("model") or not Path(job.files["model"]).is_file():
            return
        job.state = JobState.READY
        job.message = "Re-importing"
        self._changed(persist=True)
        self._ready.put(job.id)

    # -- threads -------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        self._ensure_workers()
        self._queue.put(job.id)

    def _ensure_workers(self) -> None:
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        while len(self._threads) < self.concurrency and not self._stopping.is_set():
            thread = threading.Thread(target=self._work, name=f"meshy-worker-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self._jobs.get(job_id)
            if job is None or job.state.is_final or job.state is JobState.READY:
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        cancel = self._cancel[job.id]
        if cancel.is_set():
            return
        try:
            client = self.client_factory()
        except MeshyError as error:  # no key, bad server address: say so on the job
            job.exit_code = error.exit_code
            self._fail(job, str(error))
            return
        runner = JobRunner(
            client,
            job,
            job_dir=self.download_dir / job.id,
            cancel=cancel,
            notify=lambda persist: self._changed(persist=persist),
            checkpoint=self._checkpoint,
            claimed_task_ids=self.claimed_task_ids,
            settings=self.settings,
        )
        try:
            runner.run()
        except CancelledError:
            if job.id in self._user_canceled:
                self._finish_canceled(job)
            else:
                self._changed(persist=False)  # shutdown: the ledger already holds the job, resumable
            return
        if job.state is JobState.READY:
            self._ready.put(job.id)

    def _finish_canceled(self, job: Job) -> None:
        job.state = JobState.CANCELED
        job.message = "Canceled"
        self._changed(persist=True)

    def _changed(self, *, persist: bool) -> None:
        with self._lock:
            self.version += 1
        # After shutdown a late worker must not overwrite the ledger a new manager now owns;
        # anything it would have added (a task id) is found again by the create lookup.
        if persist and self._writer is not None and not self._stopping.is_set():
            self._writer.request()

    def save_now(self, timeout: float = CHECKPOINT_TIMEOUT_S) -> bool:
        """Wait (at most ``timeout`` s) until the ledger on disk holds every change so far.

        True when it does, or when there is nothing to wait for (no ledger, or shut down).
        """
        return self._writer is None or self._stopping.is_set() or self._writer.flush(timeout)

    def _checkpoint(self) -> None:
        """Save the ledger and return once it is on disk (before a paid create is sent)."""
        self._changed(persist=False)  # the save below writes the change
        if not self.save_now():
            log.error("The Meshy job ledger was not saved within %g s; sending anyway", CHECKPOINT_TIMEOUT_S)

    def _jobs_to_save(self) -> list[Job]:
        with self._lock:
            self._prune()
            return list(self._jobs.values())

    def _prune(self) -> None:
        if self.keep_finished is None:
            return
        finished = sorted((j for j in self._jobs.values() if j.state.is_final), key=lambda j: j.created_ms)
        for job in finished[: max(0, len(finished) - self.keep_finished)]:
            del self._jobs[job.id]

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Save what is pending and stop every thread within ``timeout`` seconds; True when all stopped."""
        self._stopping.set()
        for event in self._cancel.values():
            event.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        saved = self._writer is None or self._writer.close(timeout)  # the changes asked for until now
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(thread.is_alive() for thread in self._threads)
        self._threads.clear()
        return saved and stopped
