"""The ledger: every job, persisted so that a restart loses nothing.

One JSON file, rewritten whole and atomically (temporary file, fsync, ``os.replace``)
on each change that matters for recovery: a crash leaves either the old or the new
version, never half of one. It holds task ids, stages and import state, never the key.
The manager saves it through a :class:`~.ledger_writer.LedgerWriter`, on one thread.
A job's id names its download folder, so a ledger with an id that is not a plain name
(``../..``) is treated as damaged rather than followed out of the download folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from .model import Job

log = logging.getLogger(__name__)

LEDGER_VERSION = 1
#: What job ids look like (``uuid4().hex[:12]``), with room for hand-made ones; never a path.
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> list[Job]:
        """The jobs written last time; an unreadable ledger is kept aside, not lost."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            data = json.loads(text)
            jobs = [Job.from_dict(entry) for entry in data["jobs"]]
            for job in jobs:
                if not PLAIN_ID.fullmatch(job.id):
                    raise ValueError(f"job id {job.id!r} is not a plain name")
            return jobs
        except (ValueError, KeyError, TypeError) as error:
            broken = self.path.with_suffix(".corrupt.json")
            os.replace(self.path, broken)
            log.warning("Meshy job ledger was unreadable (%s); kept as %s", error, broken.name)
            return []

    def save(self, jobs: list[Job]) -> None:
        """Replace the file with ``jobs``: a crash leaves the old version or the new one, never half."""
        # Compact: an indented dump takes the slow pure-Python encoder (5x the time).
        payload = json.dumps({"version": LEDGER_VERSION, "jobs": [job.to_dict() for job in jobs]})
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
