"""The places in Meshy's queue a manager's jobs may take at once: its concurrency.

A job holds a place while its tasks are created and run at Meshy, and gives it back as
soon as its last task has finished, before its files are downloaded and kept in the
library: the next job's task is then created while this one downloads, instead of after.
(A batch of 50 at a time otherwise started each round of tasks a download, a thumbnail and
the texture maps late; BENCHMARKS.md, section 6.) So the manager runs more workers than
places: the extra ones download. Plain Python.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..api.errors import CancelledError

#: How often a job waiting for a place looks at its cancel flag (seconds).
CANCEL_CHECK_S = 0.1


class TaskSlots:
    """At most ``limit()`` holders at once (read at each wait: the preferences may change it)."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._taken = 0
        self._changed = threading.Condition(threading.Lock())

    @contextmanager
    def held(self, cancel: threading.Event) -> Iterator[None]:
        """A place for the block; CancelledError when ``cancel`` is set while waiting for one."""
        with self._changed:
            while self._taken >= self._limit():
                if cancel.is_set():
                    raise CancelledError("Canceled.")
                self._changed.wait(CANCEL_CHECK_S)
            self._taken += 1
        try:
            yield
        finally:
            with self._changed:
                self._taken -= 1
                self._changed.notify()
