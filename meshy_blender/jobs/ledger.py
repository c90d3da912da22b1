"""The ledger: every job, persisted so that a restart loses nothing.

One JSON file, rewritten whole and atomically (temporary file, fsync, ``os.replace``)
on each change that matters for recovery: a crash leaves either the old or the new
version, never half of one. It holds task ids, stages and import state, never the key.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from .model import Job

log = logging.getLogger(__name__)

LEDGER_VERSION = 1


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self) -> list[Job]:
        """The jobs written last time; an unreadable ledger is kept aside, not lost."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            data = json.loads(text)
            return [Job.from_dict(entry) for entry in data["jobs"]]
        except (ValueError, KeyError, TypeError) as error:
            broken = self.path.with_suffix(".corrupt.json")
            os.replace(self.path, broken)
            log.warning("Meshy job ledger was unreadable (%s); kept as %s", error, broken.name)
            return []

    def save(self, jobs: list[Job]) -> None:
        payload = json.dumps({"version": LEDGER_VERSION, "jobs": [job.to_dict() for job in jobs]}, indent=1)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
