"""Concept images against the sandbox: the client's requests, the jobs' checked PNG downloads, the chain to 3D."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_assets

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.errors import BadRequestError
from meshy_blender.api.images import check_png
from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs import plans
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import Job, JobState
from meshy_blender.jobs.runner import RunSettings
from meshy_blender.jobs.store import JobStore

FAST = RunSettings(poll_interval=0.1, backoff_base=0.01, backoff_max=0.05, task_timeout=30.0)


@pytest.fixture
def manager(sandbox, paid_key, tmp_path) -> Iterator[JobManager]:
    sandbox.configure(task_seconds=0.2)
    manager = JobManager(
        lambda: MeshyClient(paid_key, sandbox.url),
        download_dir=tmp_path / "downloads",
        store=JobStore(tmp_path / "jobs"),
        settings=FAST,
    )
    yield manager
    manager.shutdown(2.0)


def _run(manager: JobManager, job: Job) -> Job:
    manager.submit(job)
    deadline = time.monotonic() + 30
    while not job.state.is_final:
        assert time.monotonic() < deadline, (job.state, job.message)
        time.sleep(0.05)
    return job


def test_image_to_image_sends_the_references_and_keeps_one_checked_png(manager, sandbox, tmp_path) -> None:
    reference = tmp_path / "sketch.png"
    reference.write_bytes(sandbox_assets.png_bytes(32, 32, (10, 120, 200)))
    job = _run(manager, plans.concept_job("the same lamp, in brass", references=[reference]))

    assert job.state is JobState.DONE, job.error
    assert job.stages[0].kind is TaskKind.IMAGE_TO_IMAGE
    assert check_png(Path(job.files["image_1"])) == (256, 256)
    assert list(job.files) == ["image_1"]
    (create,) = sandbox.creates()
    assert create["fields"] == ["ai_model", "prompt", "reference_image_urls"]
    assert create["body_bytes"] > len(reference.read_bytes())  # the reference went as a data URI
    assert job.consumed_credits == job.estimated_credits == 3


def test_a_damaged_picture_is_never_kept(manager, sandbox) -> None:
    sandbox.fault("^/assets/", "corrupt", method="GET", times=10)
    job = _run(manager, plans.concept_job("a lamp"))

    assert job.state is JobState.FAILED
    assert "not a usable PNG" in job.error
    assert not list(manager.download_dir.rglob("*.png"))


def test_image_to_3d_takes_only_a_finished_image_task(sandbox, paid_key) -> None:
    sandbox.configure(task_seconds=0.2)
    with MeshyClient(paid_key, sandbox.url) as client:
        preview = client.text_to_3d_preview("a lamp")
        client.wait_for_task(TaskKind.TEXT_TO_3D, preview, poll_interval=0.05, timeout=10)
        with pytest.raises(BadRequestError, match="text-to-3d-preview task, not one of: image-to-image, text-to-image"):
            client.create_task(TaskKind.IMAGE_TO_3D, {"input_task_id": preview})
        picture = client.text_to_image("a lamp", "nano-banana")
        with pytest.raises(BadRequestError, match="not SUCCEEDED yet"):
            client.create_task(TaskKind.MULTI_IMAGE_TO_3D, {"input_task_id": picture})
        task = client.wait_for_task(TaskKind.TEXT_TO_IMAGE, picture, poll_interval=0.05, timeout=10)
        assert len(task.image_urls) == 1
        assert client.create_task(TaskKind.IMAGE_TO_3D, {"input_task_id": picture})
