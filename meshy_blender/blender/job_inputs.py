"""A job's folder for the inputs made in Blender before it is asked for (exported selection, saved images).

Apart from :mod:`.paths` so that enabling the add-on does not load it: only a button that
sends something uses it.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..jobs.model import Job


class JobInputs:
    """A job's folder for inputs made in Blender (exported selection, saved images), created on first use.

    The manager downloads a job's results into ``download_dir / job.id``: inputs written
    here end up next to the results they produced once :meth:`claim` gives the job this
    folder's id. :meth:`discard` removes the folder when the request was refused.
    """

    def __init__(self, download_dir: Path) -> None:
        self.job_id = uuid.uuid4().hex[:12]
        self.folder = download_dir / self.job_id
        self.used = False

    def path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.used = True
        return self.folder / name

    def write(self, name: str, data: bytes) -> Path:
        target = self.path(name)
        target.write_bytes(data)
        return target

    def claim(self, job: Job) -> Job:
        if self.used:
            job.id = self.job_id
        return job

    def discard(self) -> None:
        if self.used:
            shutil.rmtree(self.folder, ignore_errors=True)
