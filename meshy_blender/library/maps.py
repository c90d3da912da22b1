"""A library entry's texture maps, fetched once its job is offered for import, on threads of their own.

Fetching a result's four maps on its job's worker, before the job was offered for import,
cost each result ~15-20 ms of interpreter time while Blender's main thread imported the
others: with 50 jobs at a time the imports waited for the interpreter lock, and a batch of
300 with the library on ended ~0.2 × its ideal span later than the same batch with the maps
left out (BENCHMARKS.md, section 6). So the recorder keeps a result with its model and
thumbnail and names its maps as pending (``Entry.textures_pending``); the job manager hands
them here, and :data:`THREADS` threads fetch them, one entry at a time each: the model
reaches the scene first, the library's maps follow. While results wait to be imported, the
threads wait too (at most :data:`YIELD_MAX_S` per entry): on a machine whose cores a batch
keeps busy, the maps' downloads (~3 ms of CPU each, half of it in the kernel) otherwise slow
Blender's imports, and the maps are for later anyway. With Meshy's tasks taking minutes, the
imports leave them plenty of time.

Nothing is lost when the process stops first: the maps stay pending in the entry's record,
and the next fetcher started with that library (:meth:`MapFetcher.complete_earlier`: a
Blender with online access and a key, a command) asks Meshy for the task again (its links
expire) and fetches them then. Two processes completing one entry download its maps twice at
worst; the record takes them once (:meth:`.store.Library.add_textures`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from ..api.client import MeshyClient
from ..api.errors import MeshyError, TaskNotFoundError
from ..api.task_kinds import TaskKind
from .recorder import fetch_maps
from .store import Library

log = logging.getLogger(__name__)

#: Threads fetching maps: few, so that they take little of the interpreter from the imports.
THREADS = 2
#: Longest an entry's maps wait for the imports waiting before them; how often they look.
YIELD_MAX_S = 30.0
YIELD_POLL_S = 0.1
#: Queued in place of an entry: look in the library for maps earlier processes left pending.
EARLIER = ""


class MapFetcher:
    """Fetches the pending texture maps of ``library``'s entries, until ``stopping`` is set.

    Its threads run while there is something to fetch (a client each, closed when it ends),
    so that a Blender with nothing pending keeps none.
    """

    def __init__(
        self,
        library: Library,
        client_factory: Callable[[], MeshyClient],
        stopping: threading.Event,
        imports_waiting: Callable[[], bool],
    ) -> None:
        self.library = library
        self._client_factory = client_factory
        self._stopping = stopping
        self._imports_waiting = imports_waiting
        self._changes = threading.Condition()
        self._queue: deque[tuple[str, dict[str, str]]] = deque()
        #: Entries queued or being fetched (and :data:`EARLIER` while the library is looked through).
        self._busy: set[str] = set()
        self._threads: list[threading.Thread] = []
        #: Threads that have not yet found the queue empty (counted under the lock: one that did is ending,
        #: and the next entry queued gets a new thread, not that one).
        self._running = 0

    def add(self, entry_id: str, urls: dict[str, str]) -> None:
        """Fetch ``entry_id``'s pending maps from ``urls`` (its final task's: map name → link)."""
        self._put(entry_id, urls)

    def complete_earlier(self) -> None:
        """Fetch the maps that stopped processes left pending in the library, with links asked of Meshy anew."""
        self._put(EARLIER, {})

    def pending(self) -> int:
        """Entries whose maps are queued or being fetched."""
        with self._changes:
            return len(self._busy - {EARLIER})

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s until nothing is left to fetch; True when nothing is."""
        with self._changes:
            return self._changes.wait_for(lambda: not self._busy, timeout)

    def stop(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s for the threads to end; True when they did.

        Once ``stopping`` is set (the manager's shutdown) they end at once, a download under way
        given up: what was not fetched stays pending in the entries' records, for the next start.
        Until then they end when the queue is done.
        """
        deadline = time.monotonic() + timeout
        with self._changes:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    # -- the threads -------------------------------------------------------------------
    def _put(self, entry_id: str, urls: dict[str, str]) -> None:
        with self._changes:
            if entry_id in self._busy or self._stopping.is_set():
                return
            self._busy.add(entry_id)
            self._queue.append((entry_id, urls))
            if self._running < THREADS:
                self._running += 1
                self._threads = [thread for thread in self._threads if thread.is_alive()]
                thread = threading.Thread(target=self._work, name="meshy-library-maps", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _next(self) -> tuple[str, dict[str, str]] | None:
        """The next entry to complete; None (and the thread ends) when there is none or the manager stops."""
        with self._changes:
            if self._stopping.is_set():
                self._busy.difference_update(entry_id for entry_id, _ in self._queue)  # left pending in the records
                self._queue.clear()
                self._changes.notify_all()
            if self._queue:
                return self._queue.popleft()
            self._running -= 1
            return None

    def _work(self) -> None:
        made: list[MeshyClient] = []

        def client() -> MeshyClient:  # made when a map is first fetched: most looks through the library find none
            if not made:
                made.append(self._client_factory())
            return made[0]

        try:
            while (work := self._next()) is not None:
                entry_id, urls = work
                try:
                    if entry_id == EARLIER:
                        self._complete_earlier(client)
                    else:
                        self._complete(client, entry_id, urls)
                except (MeshyError, OSError, ValueError) as error:  # no key, offline, a disk that refuses
                    log.warning("Meshy library: texture maps not fetched now (%s); they are fetched later", error)
                except Exception:  # a bug must not end the thread with entries still queued behind it
                    log.exception("Meshy library: fetching the texture maps of %s failed unexpectedly", entry_id)
                finally:
                    with self._changes:
                        self._busy.discard(entry_id)
                        self._changes.notify_all()
        finally:
            for each in made:
                each.close()

    def _complete(self, client: Callable[[], MeshyClient], entry_id: str, urls: dict[str, str]) -> None:
        entry = self.library.get(entry_id)
        if entry is None or not entry.textures_pending:
            return  # removed meanwhile, or completed by another process
        wanted = {name: url for name, url in urls.items() if name in entry.textures_pending}
        deadline = time.monotonic() + YIELD_MAX_S
        while wanted and self._imports_waiting() and time.monotonic() < deadline:
            if self._stopping.wait(YIELD_POLL_S):
                return
        with self.library.staging() as folder:
            fetched = fetch_maps(client(), wanted, entry_id, folder, self._stopping) if wanted else {}
            if self._stopping.is_set():
                return  # a map may have been cut short: all stay pending
            self.library.add_textures(entry_id, fetched, settled=entry.textures_pending)

    def _complete_earlier(self, client: Callable[[], MeshyClient]) -> None:
        for entry in self.library.entries():
            if not entry.textures_pending or self._stopping.is_set():
                continue
            with self._changes:
                if entry.id in self._busy:
                    continue  # this process's own, queued
            kind = TaskKind.__members__.get(entry.kind.upper().replace("-", "_"))
            try:
                task = client().get_task(kind, entry.id) if kind is not None else None
            except TaskNotFoundError:
                task = None  # Meshy no longer keeps it: the maps are missing for good
            self._complete(client, entry.id, task.texture_urls if task is not None else {})
