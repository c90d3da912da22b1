"""Requests reuse connections: for Meshy each new one is a TLS handshake (two round trips and a
certificate load), and a batch of 300 models opened 600 of them where 100 serve."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_samples import sandbox_client

from meshy_blender.api.tasks import TaskKind
from meshy_blender.blender import session
from meshy_blender.jobs import plans
from meshy_blender.jobs.model import Job, JobState
from meshy_blender.jobs.runner import RunSettings

WAIT_S = 30.0


def test_a_finished_progress_stream_leaves_its_connection_to_the_next_request(sandbox, paid_key) -> None:
    with sandbox_client(sandbox.url, paid_key) as client:
        task_id = client.text_to_3d_preview("a wooden crate")
        task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id)  # followed over its progress stream
        client.balance()
    assert task.succeeded
    paths = [entry["path"] for entry in sandbox.requests()]
    assert any(path.endswith("/stream") for path in paths) and paths[-1].endswith("/balance")
    assert sandbox.connections() == 1


@pytest.fixture
def jobs_session(sandbox, paid_key, tmp_path) -> Iterator[None]:
    fast = RunSettings(backoff_base=0.05, backoff_max=0.2, task_timeout=WAIT_S)
    downloads = tmp_path / "downloads"
    session.configure(session.Config(paid_key, sandbox.url, downloads, concurrency=1, settings=fast))
    yield
    session.shutdown(5.0)


def _run(job: Job) -> Job:
    manager = session.current_manager()
    assert manager is not None
    job.import_result = False
    manager.submit(job)
    deadline = time.monotonic() + WAIT_S
    while not manager.all_final([job.id]):
        assert time.monotonic() < deadline, (job.state, job.message)
        time.sleep(0.05)
    return job


@pytest.mark.usefixtures("jobs_session")
def test_each_job_reuses_the_connection_of_the_job_before(sandbox) -> None:
    sandbox.configure(task_seconds=0.2)
    jobs = [_run(plans.text_job(f"a wooden crate number {number}")) for number in range(3)]
    assert [job.state for job in jobs] == [JobState.DONE] * 3
    assert all(Path(job.files["model"]).is_file() for job in jobs)
    # Three creates, streams and downloads, one after the other: one connection carried them all.
    assert len(sandbox.creates()) == 3
    assert sandbox.connections() == 1


@pytest.mark.usefixtures("jobs_session")
def test_a_changed_key_is_the_one_the_next_job_sends(sandbox) -> None:
    sandbox.configure(task_seconds=0.2)
    assert _run(plans.text_job("a wooden crate")).state is JobState.DONE
    config = session.current_config()
    assert config is not None
    session.configure(dataclasses.replace(config, api_key="msy_not_a_key_of_this_account"))
    refused = _run(plans.text_job("a wooden chair"))
    assert refused.state is JobState.FAILED
    assert "API key" in refused.message, refused.message
    session.configure(config)
    assert _run(plans.text_job("a wooden table")).state is JobState.DONE
    assert len(sandbox.creates()) == 2
