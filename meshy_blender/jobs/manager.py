"""The job manager: worker threads, and the hand-over of finished jobs to the main thread.

Threads: ``concurrency`` daemon workers take queued jobs and run them (network only).
The main thread calls :meth:`take_ready` from the pump to import finished jobs one at a
time, then :meth:`mark_imported`, or :meth:`park` a job whose file is not open.
``version`` increases on every change so the pump redraws only when something moved;
``news`` only when a job is offered for import or ends (what the headless pump acts on;
not every step of a job, which would wake it a few times per job for nothing), and
:meth:`wait_for_news` wakes the headless pump then, so it imports a ready job at once
instead of polling for it.

Many processes: the manager's :class:`~.job_book.JobBook` lists every job of the store
and knows which ones this process owns; the manager runs and changes only those. Once
resumed, a scan every :data:`SCAN_INTERVAL_S` seconds (:meth:`refresh`) takes over the
unfinished jobs of a process that stopped. Acting on a job another process owns raises
:class:`JobInUseError`.

Saving: every change worth keeping asks the book to write its job and goes on; only a
create about to be sent waits until the record is on disk (:meth:`_checkpoint`), and is
not sent when the disk refused it. Reads from the main thread (``get``, ``all_final``,
``version``) take no lock at all.

Cancel versus shutdown: a user's cancel ends the job as CANCELED; a shutdown (add-on
disabled, Blender quitting) stops the workers within a bound but leaves every job as
its record last saw it, so the next start — of this Blender or another — carries on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..api.errors import EXIT_TASK_FAILED, CancelledError, LocalWriteError, MeshyError
from ..library import Library, record_result
from ..library.entry import THUMBNAIL
from ..library.maps import MapFetcher
from ..library.recorder import fetch_thumbnail
from .job_book import JobBook
from .model import FileRef, Job, JobState
from .ownership import JobInUseError
from .runner import JobRunner, RunSettings
from .slots import TaskSlots
from .store import JobStore

if TYPE_CHECKING:
    from ..api.client import MeshyClient
    from ..api.tasks import Task

log = logging.getLogger(__name__)

MAX_FINISHED_KEPT = 200
#: How long a create waits for the disk to write anything (its record, or those ahead of it); it is not sent
#: when nothing was written for that long.
CHECKPOINT_TIMEOUT_S = 10.0
#: How often the store is read for other processes' changes and jobs left by a stopped one.
SCAN_INTERVAL_S = 1.0
#: Workers per place in Meshy's queue: one runs a job's tasks, the other downloads a finished one's results.
WORKERS_PER_SLOT = 2

__all__ = ["JobInUseError", "JobManager"]


class JobManager:
    def __init__(
        self,
        client_factory: Callable[[], MeshyClient],
        *,
        download_dir: Path,
        store: JobStore | None = None,
        concurrency: int = 10,
        settings: RunSettings | None = None,
        keep_finished: int | None = MAX_FINISHED_KEPT,
        library: Library | None = None,
        library_source: str = "sidebar",
    ) -> None:
        self.client_factory = client_factory
        self.download_dir = Path(download_dir)
        self.book = JobBook(store)
        self.concurrency = max(1, concurrency)
        self.settings = settings or RunSettings()
        #: Finished jobs kept in the store (None: all, as a batch needs to know every asset it made).
        self.keep_finished = keep_finished
        #: Where this manager's jobs come from, for the library.
        self.library_source = library_source
        self.version = 0
        self.news = 0
        self._changes = threading.Condition(threading.Lock())  # not the default RLock: workers take it per SSE frame
        self._cancel: dict[str, threading.Event] = {}
        self._user_canceled: set[str] = set()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ready: queue.Queue[str] = queue.Queue()
        self._parked: set[str] = set()
        self._threads: list[threading.Thread] = []
        #: Places in Meshy's queue (``concurrency``), held by a job until its last task ends; the manager runs
        #: twice as many workers, so that results download while the next tasks run (see :mod:`.slots`).
        self._slots = TaskSlots(lambda: self.concurrency)
        self._stopping = threading.Event()
        self._resumed = False
        #: Fetches the library entries' texture maps after their jobs are offered for import.
        self.maps: MapFetcher | None = None
        self.library = library
        self._scanner: threading.Thread | None = None
        #: The file open in this Blender (set by the pump; None until it ticks): ready jobs of
        #: other processes' that belong to it are taken over (see :meth:`refresh`).
        self.here: FileRef | None = None
        # Known from the start, so that no save can drop them; run once resumed (the add-on
        # may not send anything yet: offline, no key) if no other process runs them.
        self._dormant = {job.id for job in self.book.load()}

    @property
    def library(self) -> Library | None:
        """Where every finished result is kept (None: nowhere)."""
        return self._library

    @library.setter
    def library(self, library: Library | None) -> None:
        """Another library (the preferences changed) gets a fetcher of its own; the last one's threads
        finish what they were given, into the library it was for, and end."""
        self._library = library
        self.maps = (
            MapFetcher(library, self.client_factory, self._stopping, self.has_ready) if library is not None else None
        )

    @property
    def store(self) -> JobStore | None:
        return self.book.store

    # -- reading -------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """All known jobs, this process's and the others', newest first."""
        return self.book.jobs()

    def get(self, job_id: str) -> Job | None:
        return self.book.get(job_id)

    def active(self) -> list[Job]:
        """The unfinished jobs this process runs (not those of other processes)."""
        return [job for job in self.jobs() if not job.state.is_final and self.owns(job.id)]

    def all_final(self, job_ids: Iterable[str] | None = None) -> bool:
        """True when none of ``job_ids`` (default: all) is in flight in this process. Lock-free: the pump calls it."""
        jobs = (self.book.get(job_id) for job_id in (job_ids if job_ids is not None else self.book.ids()))
        return all(job.state.is_final or not self.owns(job.id) for job in jobs if job is not None)

    def owns(self, job_id: str) -> bool:
        return self.book.owns(job_id)

    def elsewhere(self, job: Job) -> bool:
        """Whether ``job`` is unfinished and run by another process (shown read-only here)."""
        return self.book.elsewhere(job)

    def claim(self, job_id: str) -> Job:
        """Own ``job_id`` to act on it (see :meth:`.JobBook.claim`)."""
        return self.book.claim(job_id)

    def try_claim(self, job: Job) -> bool:
        return self.book.try_claim(job)

    # -- writing -------------------------------------------------------------------
    def submit(self, job: Job) -> Job:
        """Own, record and queue a new job; LocalWriteError (nothing sent) when its record has no place."""
        self.book.add(job)
        job.state = JobState.QUEUED
        job.message = JobState.QUEUED.label
        self._changed(job, persist=True)
        self._enqueue(job)
        self._start_scanner()
        return job

    def add_ready(self, job: Job) -> Job:
        """List a job whose model was downloaded elsewhere (the Meshy Bridge) and queue it for import."""
        if job.state is not JobState.READY or not job.files.get("model"):
            raise ValueError("add_ready takes a READY job with a downloaded model")
        self.book.add(job)
        self._keep_result(job, None)
        self._changed(job, persist=True)
        self._offer(job.id)
        self._start_scanner()
        return job

    def persist(self, job: Job) -> None:
        """Write a job this process owns (after changing it outside a manager method)."""
        self._changed(job, persist=True)

    def resume(self) -> list[Job]:
        """Carry on every unfinished job that no other process runs; start watching the store."""
        waiting = [job for job in map(self.book.get, self._dormant) if job is not None]
        self._dormant.clear()
        self._resumed = True
        resumed = [job for job in sorted(waiting, key=lambda job: job.created_ms) if self._carry_on(job)]
        self._changed(None, persist=False)
        self._start_scanner()
        if self.maps is not None:
            self.maps.complete_earlier()
        return resumed

    def _carry_on(self, job: Job, message: str = "Resumed after restart") -> bool:
        """Own and run (or import) a job left unfinished; False when another process runs it."""
        if not self.book.try_claim(job):
            return False
        if job.state.is_final and not job.import_unsaved:  # finished by its owner meanwhile
            self.book.let_go_if_settled(job.id)
            return False
        if job.import_unsaved:  # imported into a file that was never saved: the model is in no file
            self._import_again(job, "The file it was imported into was closed without saving; importing again")
            return True
        job.message = message
        if job.state is JobState.READY:
            self._offer(job.id)
        else:
            self._enqueue(job)
        return True

    def cancel(self, job_id: str) -> None:
        """Stop watching a job. Meshy has no cancel: a created task still finishes there."""
        job = self.get(job_id)
        if job is None or job.state.is_final:
            return
        self.claim(job_id)
        self._user_canceled.add(job_id)
        self._cancel_event(job_id).set()
        if job.state in (JobState.QUEUED, JobState.READY) or job_id in self._dormant:
            self._dormant.discard(job_id)
            self._parked.discard(job_id)
            self._finish_canceled(job)

    def cancel_all(self) -> None:
        for job in self.active():
            self.cancel(job.id)

    def forget(self, job_id: str) -> None:
        """Remove a finished job from the list and the store."""
        job = self.get(job_id)
        if job is None or not job.state.is_final:
            return
        self.claim(job_id)
        self._parked.discard(job_id)
        self._cancel.pop(job_id, None)
        self.book.forget(job_id)
        self._changed(None, persist=False)

    def retry(self, job_id: str) -> None:
        """Run a failed or canceled job again from where it stopped (no task is created twice)."""
        job = self.get(job_id)
        if job is None or job.state not in (JobState.FAILED, JobState.CANCELED):
            return
        if any(not stage.task_id and not stage.body for stage in job.stages):
            return  # nothing to send again (e.g. a model received by the bridge): re-import instead
        self.claim(job_id)
        job.error = job.error_code = ""
        self._rerun(job, "Retrying")

    def _rerun(self, job: Job, message: str) -> None:
        self._user_canceled.discard(job.id)
        self._cancel[job.id] = threading.Event()
        job.state = JobState.QUEUED
        job.message = message
        self._changed(job, persist=True)
        self._enqueue(job)

    # -- main-thread hand-over -------------------------------------------------------
    def take_ready(self) -> Job | None:
        """The next job of this process whose files wait for import, or None. Main thread only."""
        while True:
            try:
                job_id = self._ready.get_nowait()
            except queue.Empty:
                return None
            job = self.get(job_id)
            if job is not None and job.state is JobState.READY and self.owns(job_id):
                return job

    def _offer(self, job_id: str) -> None:
        """Queue a job for import and wake a pump waiting in :meth:`wait_for_news`."""
        self._ready.put(job_id)
        self._news()

    def wait_for_news(self, seen: int, timeout: float) -> bool:
        """Wait at most ``timeout`` s until ``news`` differs from ``seen``; True when it does."""
        with self._changes:
            return self._changes.wait_for(lambda: self.news != seen, timeout)

    def _news(self) -> None:
        with self._changes:
            self.news += 1
            self._changes.notify_all()

    def park(self, job: Job, message: str, *, hand_over: bool = False) -> None:
        """Keep a ready job waiting (its file is not open, or Blender is not in Object Mode).

        ``hand_over``: its file is not open here — let it go once its record is written, so
        that another Blender with that file open takes it (this one takes it back when the
        file is opened here, or on Import here).
        """
        if hand_over:
            job.message = message
            self._changed(job, persist=False)
            self.book.hand_over(job)
            return
        self._parked.add(job.id)
        if job.message != message:
            job.message = message
            self._changed(job, persist=False)

    def has_ready(self) -> bool:
        """Whether jobs wait to be taken by :meth:`take_ready` (the pump's timer then comes back at once)."""
        return not self._ready.empty()

    def ready_count(self) -> int:
        """How many jobs wait to be taken by :meth:`take_ready` now (a canceled one among them is skipped)."""
        return self._ready.qsize()

    def has_parked(self) -> bool:
        return bool(self._parked)

    def unpark(self) -> None:
        """Offer the parked jobs to the pump again (the open file or the mode changed)."""
        parked, self._parked = self._parked, set()
        for job_id in parked:
            self._offer(job_id)

    def mark_imported(self, job: Job, object_names: list[str], *, warning: str = "", unsaved: bool = True) -> None:
        """The job's objects are in the scene; ``warning`` tells what is not as asked.

        ``unsaved``: the file holding them has not been saved since (see :meth:`file_closing`).
        """
        job.imported_objects = list(object_names)
        job.import_unsaved = unsaved
        job.state = JobState.IMPORTED
        job.message = f"Imported {len(object_names)} object(s)" + (f"; {warning}" if warning else "")
        self._changed(job, persist=True)

    def mark_import_failed(self, job: Job, message: str) -> None:
        job.exit_code = EXIT_TASK_FAILED
        self._fail(job, message)

    def _fail(self, job: Job, message: str) -> None:
        job.state = JobState.FAILED
        job.error = job.message = message
        self._changed(job, persist=True)

    def reimport(self, job_id: str, here: FileRef | None = None) -> Job:
        """Import a job's result (again) into ``here`` (default: the file it belongs to).

        A ready job waiting for its file is imported at once; a finished job from its
        downloaded files, or — when they are gone — downloaded again from its task
        (fresh links, nothing created). Raises JobInUseError when another process owns it.
        """
        job = self.claim(job_id)
        if here is not None:
            job.bind(here)
        if job.state is JobState.READY:
            self._parked.discard(job_id)
            self._offer(job_id)
            self._changed(job, persist=True)
        elif job.files_on_disk:
            self._import_again(job, "Re-importing")
        elif job.stages[-1].task_id:
            job.files = {}
            self._rerun(job, "The downloaded files are gone; downloading them again from Meshy")
        return job

    def _import_again(self, job: Job, message: str) -> None:
        job.state = JobState.READY
        job.import_unsaved = False
        job.message = message
        self._changed(job, persist=True)
        self._offer(job.id)

    def file_saved(self, file: FileRef) -> None:
        """``file`` was saved: the results imported into it are kept for good.

        Jobs still running for it learn its (new) path: an unsaved file, or Save As.
        """
        for job in self.jobs():
            if not job.belongs_to(file):
                continue
            moved = bool(file.path and job.file_id) and job.file_path != file.path
            moved = moved and not job.state.is_final and self.owns(job.id)
            if moved or (job.import_unsaved and self.try_claim(job)):
                job.import_unsaved = False
                if moved:
                    job.bind(file)
                self._changed(job, persist=True)

    def file_closing(self, file: FileRef, *, unsaved_changes: bool) -> None:
        """``file`` is being closed: results imported into it since its last save are lost with it.

        They become ready again and wait for their file (or "Import here"); the import
        check by tags keeps them from being imported twice if the file did keep them.
        """
        if not unsaved_changes:
            self.file_saved(file)
            return
        for job in self.jobs():
            if job.state is JobState.IMPORTED and job.import_unsaved and job.belongs_to(file) and self.try_claim(job):
                self._import_again(job, f"{file.label} was closed without saving; waiting to import again")

    # -- other processes -------------------------------------------------------------
    def refresh(self) -> None:
        """Read what other processes changed; once resumed, take over jobs left by a stopped one.

        The version moves (and the sidebar redraws) only when something did.
        """
        left, changed = self.book.refresh(resumed=self._resumed)
        if self._resumed:
            for job in left:
                if job.state is not JobState.READY:
                    changed |= self._carry_on(job, "Taken over from a Blender window or command that stopped")
                elif self.here is not None and job.belongs_to(self.here):
                    changed |= self._carry_on(job, f"Its file is open here: importing it into {job.file.label}")
            self.book.prune(self.keep_finished)
        if changed:
            self._changed(None, persist=False)

    def _start_scanner(self) -> None:
        """Watch the store once it exists: a Blender that never had a job starts no thread for it."""
        store = self.book.store
        if store is None or self._scanner is not None or self._stopping.is_set() or not store.folder.is_dir():
            return
        self._scanner = threading.Thread(target=self._scan_loop, name="meshy-store-scan", daemon=True)
        self._scanner.start()

    def _scan_loop(self) -> None:
        while not self._stopping.wait(SCAN_INTERVAL_S):
            try:
                self.refresh()
            except Exception:  # the scan must go on, or other processes' jobs stop showing
                log.exception("Reading the Meshy job store failed")

    # -- threads -------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        self._ensure_workers()
        self._queue.put(job.id)

    def _ensure_workers(self) -> None:
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        while len(self._threads) < WORKERS_PER_SLOT * self.concurrency and not self._stopping.is_set():
            thread = threading.Thread(target=self._work, name=f"meshy-worker-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.get(job_id)
            if job is None or job.state.is_final or job.state is JobState.READY or not self.owns(job_id):
                continue
            self._run(job)

    def _cancel_event(self, job_id: str) -> threading.Event:
        return self._cancel.setdefault(job_id, threading.Event())

    def _run(self, job: Job) -> None:
        cancel = self._cancel_event(job.id)
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
            notify=lambda persist: self._changed(job, persist=persist),
            checkpoint=lambda: self._checkpoint(job),
            claimed_task_ids=self.book.task_ids,
            settings=self.settings,
            on_result=lambda job, task: self._keep_result(job, task, client, cancel),
            slot=lambda: self._slots.held(cancel),
        )
        try:
            runner.run()
        except CancelledError:
            if job.id in self._user_canceled:
                self._finish_canceled(job)
            else:
                self._changed(job, persist=False)  # shutdown: the store already holds the job, resumable
            return
        if job.state is JobState.READY:
            self._offer(job.id)

    def _keep_result(
        self, job: Job, task: Task | None, client: MeshyClient | None = None, cancel: threading.Event | None = None
    ) -> None:
        """Keep the downloaded result in the library (once; never fails the job).

        Kept in no library (``--no-library``), a result to import still gets Meshy's thumbnail,
        beside its files, as its asset's preview (:meth:`thumbnail_of`).
        """
        if self.library is not None:
            kept = record_result(self.library, job, task, source=self.library_source, client=client, cancel=cancel)
            if kept is not None and kept.textures_pending and task is not None and self.maps is not None:
                self.maps.add(kept.id, task.texture_urls)
        elif job.import_result and task is not None and client is not None:
            fetch_thumbnail(client, task, self.download_dir / job.id, cancel)

    def thumbnail_of(self, job: Job) -> Path | None:
        """The thumbnail fetched beside ``job``'s files when it is kept in no library, if any."""
        return next((self.download_dir / job.id).glob(f"{THUMBNAIL}.*"), None)

    def _finish_canceled(self, job: Job) -> None:
        job.state = JobState.CANCELED
        job.message = "Canceled"
        self._changed(job, persist=True)

    def _changed(self, job: Job | None, *, persist: bool) -> None:
        with self._changes:
            self.version += 1
        if job is not None and job.state.is_final:
            self._news()
        # After shutdown a late worker must not write a record that another process may own by now;
        # anything it would have added (a task id) is found again by the create lookup.
        if persist and job is not None and not self._stopping.is_set():
            self.book.request_write(job)

    def save_now(self, stall_timeout: float = CHECKPOINT_TIMEOUT_S) -> bool:
        """Wait until the store holds every change of this process so far, while the disk keeps writing.

        True when it does, or when there is nothing to wait for (no store, or shut down); False
        when the disk wrote nothing for ``stall_timeout`` seconds.
        """
        if self._stopping.is_set():
            return True
        owned = [job for job in self.jobs() if self.owns(job.id)]
        return all(self._flush_quietly(job, stall_timeout) for job in owned)

    def _flush_quietly(self, job: Job, stall_timeout: float) -> bool:
        try:
            return self.book.flush(job, stall_timeout)
        except LocalWriteError:
            return False

    def _checkpoint(self, job: Job) -> None:
        """Write the job and return once it is on disk (before a paid create is sent).

        Raises LocalWriteError, and so nothing is sent, when the record could not be written.
        """
        self._changed(job, persist=False)  # the flush below writes the change
        if self._stopping.is_set():
            return
        if not self.book.flush(job, CHECKPOINT_TIMEOUT_S):
            folder = self.book.store.folder if self.book.store is not None else ""
            raise LocalWriteError(
                f"Meshy job '{job.name}' could not be saved in {folder}: the disk wrote nothing for "
                f"{CHECKPOINT_TIMEOUT_S:g} s; nothing was sent. Retry once the disk answers."
            )

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Save what is pending and stop every thread within ``timeout`` seconds; True when all stopped.

        Every job this process owned is let go, for the next start or another process to carry on.
        """
        self._stopping.set()
        for event in list(self._cancel.values()):
            event.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        saved = self.book.close(timeout)  # the changes asked for until now
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._scanner is not None:
            self._scanner.join(max(0.0, deadline - time.monotonic()))
        maps_stopped = self.maps is None or self.maps.stop(max(0.0, deadline - time.monotonic()))
        stopped = maps_stopped and not any(thread.is_alive() for thread in self._threads)
        self._threads.clear()
        self.book.let_go_all()
        return saved and stopped
