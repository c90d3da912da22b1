"""A received model as a job, so it shows in the job list and is imported by the pump.

The model came from the web app, not from a task this add-on created: the job has one
stage marked succeeded with no task id, and starts READY with the downloaded file.
Retrying it would mean creating a task, so only re-import makes sense for it. The web
app's ``frameRate`` is kept in that stage's body (:data:`FRAME_RATE_FIELD`) for the import.
"""

from __future__ import annotations

from ..api.task_kinds import TaskKind
from ..jobs.model import Job, JobState, Stage
from . import JOB_KIND
from .messages import ReceivedModel

__all__ = ["DEFAULT_MESSAGE", "FRAME_RATE_FIELD", "JOB_KIND", "bridge_job"]

DEFAULT_MESSAGE = "Received from the Meshy web app"
FRAME_RATE_FIELD = "frameRate"


def bridge_job(received: ReceivedModel) -> Job:
    # The stage only satisfies code that reads a job's last stage; its kind is unknown to us.
    body = {FRAME_RATE_FIELD: received.frame_rate} if received.frame_rate else {}
    stage = Stage(kind=TaskKind.TEXT_TO_3D, body=body, status="SUCCEEDED", progress=100)
    return Job(
        name=received.name,
        kind=JOB_KIND,
        stages=[stage],
        id=received.id,
        state=JobState.READY,
        message=received.note or DEFAULT_MESSAGE,
        files={"model": str(received.path)},
    )
