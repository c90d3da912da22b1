"""Writing job records on their own thread, so that nobody but a paid create waits for the disk.

Every change worth keeping asks for its job's record to be written (:meth:`StoreWriter.request`,
which returns at once); one thread writes the records asked for: at once after a quiet
spell, and at most once per ``min_interval_s`` seconds during a burst, each write covering
every change asked for before it began. Blender's main thread marks a job imported and
goes on; writing at once rather than after a delay keeps the write off the pump's next
import tick (0.1 s later), where it would hold the interpreter lock while it serialized.

The one change that must be on disk before anything else happens — a create about to be
sent, so that a crash after it is found again, not paid twice — asks with :meth:`flush`,
which never waits out the spacing, returns once that record is written, and raises the
:class:`~..api.errors.LocalWriteError` of a write the disk refused, so that nothing is sent
that could not be remembered. A flushed record is written ahead of the others waiting: when
a round of a batch ends, fifty finished jobs' records (one fsync each) would otherwise stand
between the next fifty creates and Meshy. Flushed records are written in the order they were
asked for, and a flush waits as long as records keep reaching the disk: it gives up only when
none was written for its whole bound (the disk stopped answering). A busy or slow disk makes a
create wait, not fail: a process slowed down tenfold (a profiler attached) saw its later
flushes, written in job id order behind fifty others, give up after 10 s and fail their jobs.

A change requested but not yet written when Blender dies is lost, as it was when it
happened a moment before the crash: everything recovery needs is either flushed (create
sent) or found again (a task id by the create lookup; an import by its tags).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..api.errors import LocalWriteError
from .store import JobStore

log = logging.getLogger(__name__)

#: The least time between two writes (a batch changes jobs in bursts).
MIN_INTERVAL_S = 0.1
#: Tries at serializing a job that a worker keeps changing meanwhile.
SNAPSHOT_ATTEMPTS = 3


class StoreWriter:
    def __init__(
        self,
        store: JobStore,
        snapshot: Callable[[str], str | None],
        *,
        on_written: Callable[[str], None] = lambda _job_id: None,
        on_dropped: Callable[[str], None] = lambda _job_id: None,
        min_interval_s: float = MIN_INTERVAL_S,
    ) -> None:
        """``snapshot(job_id)`` gives the record's text, or None when this process must not write it.

        ``on_written(job_id)`` follows each record written, ``on_dropped(job_id)`` each one skipped.
        """
        self.store = store
        self._snapshot = snapshot
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._min_interval_s = min_interval_s
        self._state = threading.Condition()
        self._dirty: set[str] = set()
        self._in_flight: set[str] = set()
        #: Records a flush waits for, in the order asked: written before the other dirty ones.
        self._flushing: dict[str, None] = {}
        #: Records written (or refused) so far: a flush waits while this moves.
        self._written = 0
        self._errors: dict[str, LocalWriteError] = {}
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self, job_id: str) -> None:
        """Ask for ``job_id``'s record to be written soon; returns at once."""
        with self._state:
            if self._closed:
                return
            self._dirty.add(job_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="meshy-store-writer", daemon=True)
                self._thread.start()
            self._state.notify_all()

    def flush(self, job_id: str, stall_timeout: float) -> bool:
        """Write ``job_id`` now and wait until it is on disk; True once it is.

        False when no record at all was written for ``stall_timeout`` seconds meanwhile (records
        ahead of it written slowly make it wait longer). Raises the LocalWriteError of the write
        when the disk refused it.
        """
        self.request(job_id)
        with self._state:
            self._flushing[job_id] = None
            self._state.notify_all()
            while self._pending(job_id) and self._thread is not None:
                # Dirty again after a write began, it is written again: a write that covers this change.
                written = self._written
                self._state.wait_for(
                    lambda: not self._pending(job_id) or self._thread is None or self._written != written,  # noqa: B023
                    stall_timeout,
                )
                if self._written == written:
                    break  # nothing reached the disk for the whole bound
            self._flushing.pop(job_id, None)
            done = not self._pending(job_id)
            error = self._errors.get(job_id)
        if error is not None:
            raise error
        return done

    def pending(self, job_id: str) -> bool:
        """Whether a change of ``job_id`` is waiting to be written or being written."""
        with self._state:
            return self._pending(job_id)

    def _pending(self, job_id: str) -> bool:
        return job_id in self._dirty or job_id in self._in_flight

    def close(self, timeout: float) -> bool:
        """Write what is still pending, then stop the thread; True when it stopped within ``timeout`` s."""
        with self._state:
            self._closed = True
            self._state.notify_all()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        next_write = time.monotonic()
        while True:
            with self._state:
                self._state.wait_for(lambda: bool(self._dirty) or self._closed)
                if not self._dirty:  # closed with nothing left to write
                    self._thread = None
                    self._state.notify_all()
                    return
                self._state.wait_for(self._due, max(0.0, next_write - time.monotonic()))
                # Only what a flush waits for, while the spacing is not over; else every dirty record.
                ahead = self._due() and not self._closed and time.monotonic() < next_write
                batch = [] if ahead else sorted(self._dirty)
                self._in_flight = set(batch)
                self._dirty -= self._in_flight
            while (job_id := self._take(batch)) is not None:
                self._write(job_id)
            if not ahead:  # the others keep their spacing
                next_write = time.monotonic() + self._min_interval_s
            with self._state:
                self._in_flight = set()
                self._state.notify_all()

    def _take(self, batch: list[str]) -> str | None:
        """The next record to write: one a flush waits for (even mid-batch), else the batch's next."""
        with self._state:
            flushed = next((job_id for job_id in self._flushing if job_id in self._dirty), None)
            if flushed is not None:
                self._dirty.discard(flushed)
                self._in_flight.add(flushed)
                return flushed
            return batch.pop(0) if batch else None

    def _due(self) -> bool:
        """Whether to write before the spacing is over: closing, or a flush waits for a dirty record."""
        return self._closed or not self._dirty.isdisjoint(self._flushing)

    def _write(self, job_id: str) -> None:
        try:
            written = self._write_record(job_id)
        finally:
            with self._state:  # no longer being written: the callbacks may ask whether anything is pending
                self._in_flight.discard(job_id)
                self._written += 1
                self._state.notify_all()  # a flush waiting for this record returns now
        try:
            if written is None:
                self._on_dropped(job_id)
            elif written:
                self._on_written(job_id)
        except Exception:  # a failing callback must not stop every later save
            log.exception("After saving Meshy job %s", job_id)

    def _write_record(self, job_id: str) -> bool | None:
        """True when written, False when it failed (logged), None when there was nothing of ours to write."""
        for _ in range(SNAPSHOT_ATTEMPTS):
            try:
                text = self._snapshot(job_id)
            except RuntimeError:  # a worker changed the job's dict while it was serialized: take it again
                continue
            break
        else:
            log.error("Could not save Meshy job %s: it kept changing while it was written", job_id)
            return False
        if text is None:
            return None
        try:
            self.store.write_text(job_id, text)
        except LocalWriteError as error:
            log.error("%s", error)
            with self._state:
                self._errors[job_id] = error
            return False
        except Exception:  # a bug must not stop every later save
            log.exception("Could not save Meshy job %s", job_id)
            return False
        with self._state:
            self._errors.pop(job_id, None)
        return True
