"""Saving the ledger on its own thread, so that nobody but a paid create waits for the disk.

Every change worth keeping asks for a save (:meth:`LedgerWriter.request`, which returns at
once); one thread serializes the jobs and writes them: at once after a quiet spell, and
at most once per ``min_interval_s`` seconds during a burst, each write covering every change
asked for before it began. The main thread marks a job imported and goes on (before, it
serialized and fsynced the whole ledger itself: 3–4 ms per import, up to 24 ms behind a
worker's write). Writing at once rather than after a delay matters too: the pump imports
the next ready job one timer interval (0.1 s) later, and a write delayed by as much
landed on that import, holding the interpreter lock while it serialized the jobs.

The one change that must be on disk before anything else happens — a create about to
be sent, so that a crash after it is found again, not paid twice — asks with
:meth:`flush`, which never waits out the spacing and returns once that write is done.

A change requested but not yet written when Blender dies is lost, as it was when it
happened a moment before the crash: everything recovery needs is either flushed
(create sent) or found again (a task id by the create lookup; an import by its tags).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .ledger import Ledger
from .model import Job

log = logging.getLogger(__name__)

#: The least time between two writes (a batch changes jobs in bursts).
MIN_INTERVAL_S = 0.1


class LedgerWriter:
    def __init__(
        self, ledger: Ledger, jobs: Callable[[], list[Job]], *, min_interval_s: float = MIN_INTERVAL_S
    ) -> None:
        self.ledger = ledger
        self._jobs = jobs
        self._min_interval_s = min_interval_s
        self._state = threading.Condition()
        self._requested = 0  # numbered requests; a write covers every request made before it began
        self._written = 0
        self._urgent = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self) -> int:
        """Ask for a save soon and return at once; the number :meth:`flush` can wait for."""
        with self._state:
            if self._closed:
                return self._written
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="meshy-ledger-writer", daemon=True)
                self._thread.start()
            self._state.notify_all()
            return self._requested

    def flush(self, timeout: float) -> bool:
        """Save now and wait (at most ``timeout`` s) until it is on disk; True when it is."""
        number = self.request()
        with self._state:
            self._urgent = True
            self._state.notify_all()
            return self._state.wait_for(lambda: self._written >= number or self._thread is None, timeout)

    def close(self, timeout: float) -> bool:
        """Write what is still pending, then stop the thread; True when it stopped within ``timeout`` s."""
        with self._state:
            self._closed = self._urgent = True
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
                self._state.wait_for(lambda: self._requested > self._written or self._closed)
                if self._requested == self._written:  # closed with nothing left to write
                    self._thread = None
                    self._state.notify_all()
                    return
                self._state.wait_for(lambda: self._urgent, max(0.0, next_write - time.monotonic()))
                self._urgent = self._closed
                number = self._requested
            self._save()
            next_write = time.monotonic() + self._min_interval_s
            with self._state:
                self._written = number
                self._state.notify_all()

    def _save(self) -> None:
        for _ in range(3):
            try:
                self.ledger.save(self._jobs())
                return
            except RuntimeError:  # a worker changed a job's dict while it was serialized: take it again
                continue
            except OSError as error:
                log.error("Could not save the Meshy job ledger: %s", error)
                return
            except Exception:  # a bug must not stop every later save
                log.exception("Could not save the Meshy job ledger")
                return
        log.error("Could not save the Meshy job ledger: the jobs kept changing while it was written")
