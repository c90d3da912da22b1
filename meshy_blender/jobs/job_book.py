"""The job book: every job this process knows, kept in step with a store that other processes share.

The book lists the jobs of its :class:`~.store.JobStore` — this process's and the others'
— and knows which ones this process owns (:mod:`.ownership`): only those are changed,
run and written, by one :class:`~.store_writer.StoreWriter` thread. The others are shown
read-only and re-read when their records change on disk (:meth:`JobBook.refresh`). Taking
a job (:meth:`JobBook.claim`) always re-reads its record, since another process may have
changed it; a finished job is let go once its final record is on disk, so that any
Blender may act on it later. Without a store (tests, jobs kept in memory) this process
owns every job and nothing is written.

Reads that Blender's main thread makes on every pump tick (``get``, ``owns``) take no lock.
"""

from __future__ import annotations

import dataclasses
import threading
from operator import attrgetter

from .model import Job, JobState
from .ownership import JobInUseError, Ownership
from .store import JobStore, RecordStamp, encode
from .store_writer import StoreWriter

ELSEWHERE = "Running in another Blender window or command"
PAUSED = "Paused: carries on once Meshy can be reached (online access and an API key)"


class JobBook:
    def __init__(self, store: JobStore | None) -> None:
        self.store = store
        self._owners = Ownership(store) if store is not None else None
        self._writer = (
            StoreWriter(store, self._snapshot, on_written=self._written, on_dropped=self._dropped)
            if store is not None
            else None
        )
        self._jobs: dict[str, Job] = {}
        self._stamps: dict[str, RecordStamp] = {}
        self._forgotten: set[str] = set()
        self._elsewhere: set[str] = set()
        #: Ready jobs waiting for a file that is not open here: let go once written, for a Blender that has it.
        self._handing_over: set[str] = set()
        self._lock = threading.RLock()

    # -- reading -------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """All known jobs, newest first (attributes may move while a worker runs)."""
        with self._lock:
            return sorted(self._jobs.values(), key=attrgetter("created_ms"), reverse=True)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def ids(self) -> list[str]:
        return list(self._jobs)

    def owns(self, job_id: str) -> bool:
        """Whether this process runs ``job_id`` (always, without a store: nobody else can)."""
        return self._owners is None or self._owners.owns(job_id)

    def elsewhere(self, job: Job) -> bool:
        """Whether ``job`` is unfinished and owned by another process (shown read-only here)."""
        return job.id in self._elsewhere and not job.state.is_final

    def task_ids(self) -> set[str]:
        with self._lock:
            return {stage.task_id for job in self._jobs.values() for stage in job.stages if stage.task_id}

    # -- taking and letting go -------------------------------------------------------
    def load(self) -> list[Job]:
        """List every record of the store; the jobs left unfinished (or imported into an unsaved file)."""
        if self.store is None:
            return []
        waiting = []
        for job in self.store.load():
            self._jobs[job.id] = job
            if not job.state.is_final or job.import_unsaved:
                waiting.append(job)
                self.note_owner(job)
        self._stamps = self.store.stamps()
        return waiting

    def add(self, job: Job) -> None:
        """List a new job as this process's; LocalWriteError when its record has no place."""
        if self._owners is not None and not self._owners.take(job.id):
            raise JobInUseError(f"Job id {job.id} is already used by another Blender window or command")
        with self._lock:
            self._jobs[job.id] = job

    def claim(self, job_id: str) -> Job:
        """Own ``job_id`` to act on it, with its record as on disk now; JobInUseError when another process owns it."""
        job = self._jobs.get(job_id)
        if job is None:
            raise JobInUseError("That job is no longer in the list")
        self._handing_over.discard(job_id)
        if self._owners is None or self._owners.owns(job_id):
            return job
        if not self._owners.take(job_id):
            self.mark_elsewhere(job)
            raise JobInUseError(f"'{job.name}' is being handled by another Blender window or command: act on it there")
        self._elsewhere.discard(job_id)
        assert self.store is not None
        fresh = self.store.read(job_id)
        if fresh is None and not self.pending(job_id):
            self._owners.release(job_id)
            self.remove(job_id)
            raise JobInUseError(f"'{job.name}' was removed by another Blender window or command")
        if fresh is not None:
            _refresh_in_place(job, fresh)
        return job

    def try_claim(self, job: Job) -> bool:
        """:meth:`claim` that answers False instead of raising."""
        try:
            self.claim(job.id)
        except JobInUseError:
            return False
        return True

    def note_owner(self, job: Job) -> None:
        """Say on a job this process does not run whether another one does."""
        if self._owners is not None and self._owners.held_elsewhere(job.id):
            self.mark_elsewhere(job)
        else:
            self._elsewhere.discard(job.id)
            job.message = PAUSED

    def mark_elsewhere(self, job: Job) -> None:
        if job.id in self._jobs:
            self._elsewhere.add(job.id)
            job.message = ELSEWHERE

    def let_go_if_settled(self, job_id: str) -> None:
        """Release a finished job, or one handed over, once its record is on disk (nothing left to write)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or self._owners is None or self.pending(job_id):
                return
            finished = job.state.is_final and not job.import_unsaved
            handed_over = job_id in self._handing_over and job.state is JobState.READY
            if finished or handed_over:
                self._handing_over.discard(job_id)
                self._owners.release(job_id)

    def hand_over(self, job: Job) -> None:
        """Let a ready job go once written, so that a Blender with its file open imports it.

        Taking it again (:meth:`claim`) cancels the hand-over.
        """
        with self._lock:
            self._handing_over.add(job.id)
        self.request_write(job)

    # -- other processes ---------------------------------------------------------------
    def refresh(self, *, resumed: bool) -> tuple[list[Job], bool]:
        """Read what other processes changed: the unfinished jobs this process does not run, and
        whether anything in the list changed.

        Records that vanished (forgotten or pruned elsewhere) leave the list. Before
        :meth:`~.manager.JobManager.resume`, each such job says whether another process runs it.
        """
        if self.store is None or self._owners is None:
            return [], False
        changed = False
        stamps = self.store.stamps()
        for job_id, stamp in stamps.items():
            if self._owners.owns(job_id) or job_id in self._forgotten or self._stamps.get(job_id) == stamp:
                continue
            fresh = self.store.read(job_id)
            if fresh is None:
                continue
            self._stamps[job_id] = stamp
            changed = True
            with self._lock:
                known = self._jobs.setdefault(job_id, fresh)
                if known is not fresh and not self._owners.owns(job_id):
                    _refresh_in_place(known, fresh)
            if not known.state.is_final and not resumed:
                self.note_owner(known)
        for job_id in self.ids():
            if job_id not in stamps and job_id in self._stamps and not self._owners.owns(job_id):
                self.remove(job_id)
                changed = True
        left = [job for job in self.jobs() if not job.state.is_final and not self._owners.owns(job.id)]
        return left, changed

    def prune(self, keep: int | None) -> None:
        """Forget the oldest finished jobs beyond ``keep`` (None: keep all), those no other process holds."""
        if keep is None:
            return
        finished = sorted((job for job in self.jobs() if job.state.is_final), key=lambda job: job.created_ms)
        for job in finished[: max(0, len(finished) - keep)]:
            if self.try_claim(job):
                self.forget(job.id)

    # -- writing -------------------------------------------------------------------
    def request_write(self, job: Job) -> None:
        if self._writer is not None:
            self._writer.request(job.id)

    def flush(self, job: Job, stall_timeout: float) -> bool:
        """Write ``job`` and wait until it is on disk (see :meth:`.StoreWriter.flush`); LocalWriteError when
        the disk refused it."""
        return self._writer is None or self._writer.flush(job.id, stall_timeout)

    def pending(self, job_id: str) -> bool:
        return self._writer is not None and self._writer.pending(job_id)

    def forget(self, job_id: str) -> None:
        """Drop a job this process owns from the list; its record and lock are deleted by the writer."""
        self.remove(job_id)
        if self._writer is not None:
            self._forgotten.add(job_id)
            self._writer.request(job_id)

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
            self._stamps.pop(job_id, None)

    def close(self, timeout: float) -> bool:
        """Write what is pending and stop the writer; True when it stopped within ``timeout`` s."""
        return self._writer is None or self._writer.close(timeout)

    def let_go_all(self) -> None:
        """Release every job this process owns (it stops: another may carry them on)."""
        if self._owners is not None:
            self._owners.release_all()

    # -- the writer's side -----------------------------------------------------------
    def _snapshot(self, job_id: str) -> str | None:
        """The record text of a job this process owns; None when it must not be written (or was forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not self.owns(job_id):
                return None
            return encode(job)

    def _written(self, job_id: str) -> None:
        self.let_go_if_settled(job_id)

    def _dropped(self, job_id: str) -> None:
        """The writer skipped a record: a forgotten job's record and lock are deleted now."""
        if job_id in self._forgotten and self.store is not None and self._owners is not None:
            self._forgotten.discard(job_id)
            self.store.remove(job_id)
            self._owners.release(job_id)


def _refresh_in_place(job: Job, fresh: Job) -> None:
    """Give ``job`` the fields of ``fresh`` (the same job as on disk), keeping the object others hold."""
    for name in (field.name for field in dataclasses.fields(Job)):
        setattr(job, name, getattr(fresh, name))
