"""What the Concept Images gallery shows: concept jobs, their pictures, the pick, and Blender images of them.

Pictures stay in their job's download folder (the runner checked each PNG before keeping
it); the panel shows them through :func:`.icons.thumbnail`, whose previews are read when
first drawn and freed when the add-on is disabled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import bpy

from ....jobs.states import JobState

if TYPE_CHECKING:
    from ....jobs.manager import JobManager  # loads with the first manager, not at enable
    from ....jobs.model import Job

#: Older concept jobs listed under the gallery (newest first), to show one of them again.
MAX_EARLIER_SHOWN = 4


def concept_jobs(manager: JobManager | None) -> list[Job]:
    """Every job that makes pictures, newest first."""
    return [job for job in manager.jobs() if job.makes_images] if manager is not None else []


def shown_job(manager: JobManager | None, job_id: str) -> Job | None:
    """The concept job the gallery shows: the one picked, else the newest."""
    jobs = concept_jobs(manager)
    return next((job for job in jobs if job.id == job_id), jobs[0] if jobs else None)


def pictures(job: Job) -> list[Path]:
    """The job's downloaded pictures in Meshy's order (a multi-view set: front, right, back, left)."""
    if job.state is not JobState.DONE:
        return []
    numbered = sorted((int(role.removeprefix("image_")), path) for role, path in job.files.items())
    return [Path(path) for _, path in numbered if Path(path).is_file()]


def load_images(paths: list[Path]) -> list[bpy.types.Image]:
    """The pictures as Blender images (an image already loaded from the same file is reused)."""
    return [bpy.data.images.load(str(path), check_existing=True) for path in paths]
