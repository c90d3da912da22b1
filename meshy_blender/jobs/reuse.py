"""Carry on earlier work instead of paying for it twice.

The headless command keeps a ledger next to its output. When it runs again, each
request is matched with the job an earlier run made for the very same request (same
name, kinds and bodies); that job is resumed, retried from where it stopped, or taken
as finished. Only a request that Meshy itself failed gets a fresh job; a request with
no earlier job gets a new one. Unfinished jobs of requests that are no longer asked
for are set aside so that resuming the ledger never starts work nobody wants.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from .states import JobState

if TYPE_CHECKING:  # the manager is only a parameter here: the sidebar's Retry check loads no manager
    from .manager import JobManager
    from .model import Job

_SUCCESS = (JobState.DONE, JobState.IMPORTED)
_MESHY_FAILED = ("FAILED", "CANCELED", "EXPIRED")


def request_of(job: Job) -> list[Any]:
    """What the user asked for: ignores task ids and everything learnt while running."""
    stages = [
        (stage.kind.name, {key: value for key, value in stage.body.items() if key != stage.link_field})
        for stage in job.stages
    ]
    return [job.name, job.kind, job.import_result, stages]


def failed_on_meshy(job: Job) -> bool:
    """True when a task of the job ended FAILED, CANCELED or EXPIRED on Meshy (retrying cannot help)."""
    return any(stage.status in _MESHY_FAILED for stage in job.stages)


def find_previous(candidates: Sequence[Job], wanted: Job) -> Job | None:
    """The earlier job for ``wanted``'s request, preferring one that can still succeed."""
    matches = [job for job in candidates if request_of(job) == request_of(wanted)]
    if not matches:
        return None
    return max(matches, key=lambda job: (not failed_on_meshy(job), job.created_ms))


def set_aside(jobs: Sequence[Job], keep: Collection[str]) -> None:
    """Prepare ledger jobs for ``JobManager.resume``: stop the unwanted, re-download lost files.

    Unfinished jobs not in ``keep`` become CANCELED (their tasks keep running on Meshy,
    nobody waits for them). A kept finished job whose downloads are gone becomes FAILED,
    so that :func:`carry_on` retries it: that watches its finished task and downloads again.
    """
    for job in jobs:
        if job.id not in keep:
            if not job.state.is_final:
                job.state = JobState.CANCELED
                job.message = "Not part of this run"
        elif job.state in _SUCCESS and not job.files_on_disk:
            job.state = JobState.FAILED
            job.message = job.error = "The downloaded files are missing; downloading them again"


def carry_on(manager: JobManager, wanted: Job, previous_id: str = "") -> Job:
    """After ``manager.resume()``: the job that will deliver ``wanted``'s result."""
    job = manager.get(previous_id) if previous_id else None
    if job is None or failed_on_meshy(job):
        return manager.submit(wanted)
    if job.state in (JobState.FAILED, JobState.CANCELED):
        manager.retry(job.id)
    return job
