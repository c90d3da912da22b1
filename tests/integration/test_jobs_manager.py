"""The job manager with the real client against the sandbox: chains, queue waits, restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.glb_safety import is_valid_glb
from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs import plans
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import Job, JobState
from meshy_blender.jobs.runner import RunSettings
from meshy_blender.jobs.store import JobStore

FAST = RunSettings(
    poll_interval=0.1,
    backoff_base=0.05,
    backoff_max=0.2,
    transient_window=10.0,
    slot_wait_timeout=30.0,
    task_timeout=30.0,
)


def _wait(manager: JobManager, jobs: list[Job], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not manager.all_final(job.id for job in jobs):
        assert time.monotonic() < deadline, [(j.name, j.state, j.message) for j in jobs]
        time.sleep(0.05)


@pytest.fixture
def make_manager(sandbox, paid_key, tmp_path) -> Iterator:
    managers: list[JobManager] = []

    def make(concurrency: int = 10, settings: RunSettings = FAST) -> JobManager:
        manager = JobManager(
            lambda: MeshyClient(paid_key, sandbox.url),
            download_dir=tmp_path / "downloads",
            store=JobStore(tmp_path / "jobs"),
            concurrency=concurrency,
            settings=settings,
        )
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        manager.shutdown(2.0)


def _headless(job: Job) -> Job:
    job.import_result = False
    return job


def test_text_preview_then_refine_downloads_a_textured_glb(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.3)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a wooden chair", refine=True, refine_options={"enable_pbr": True})))
    _wait(manager, [job])
    assert job.state is JobState.DONE, job.error
    assert is_valid_glb(Path(job.files["model"]))
    preview, refine = job.stages
    assert refine.body["preview_task_id"] == preview.task_id
    assert job.consumed_credits == job.estimated_credits > 0
    assert len(sandbox.creates()) == 2


def test_rig_job_downloads_the_character_and_both_clips(sandbox, make_manager, tmp_path) -> None:
    sandbox.configure(task_seconds=0.3)
    manager = make_manager()
    preview = manager.submit(_headless(plans.text_job("a knight")))
    _wait(manager, [preview])
    rig = manager.submit(_headless(plans.rig_job(input_task_id=preview.final_task_id)))
    _wait(manager, [rig])
    assert rig.state is JobState.DONE, rig.error
    assert set(rig.files) == {"model", "walking", "running"}
    assert all(is_valid_glb(Path(path)) for path in rig.files.values())


def test_full_queue_makes_jobs_wait_for_a_slot_not_fail(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.5, queue_limit=2)
    manager = make_manager(concurrency=5)
    seen_waiting = threading.Event()
    jobs = [manager.submit(_headless(plans.text_job(f"crate {i}"))) for i in range(5)]
    deadline = time.monotonic() + 30
    while not manager.all_final(j.id for j in jobs) and time.monotonic() < deadline:
        if any(j.state is JobState.WAITING_FOR_SLOT for j in jobs):
            seen_waiting.set()
        time.sleep(0.02)
    assert [j.state for j in jobs] == [JobState.DONE] * 5
    assert seen_waiting.is_set()
    assert len(sandbox.creates()) == 5


def test_restart_while_watching_resumes_without_creating_again(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=1.5)
    first = make_manager()
    job = first.submit(_headless(plans.text_job("a lamp")))
    deadline = time.monotonic() + 10
    while not job.stages[0].task_id:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()
    assert first.shutdown(2.0)
    assert time.monotonic() - started < 2.5
    assert not job.state.is_final

    second = make_manager()
    (resumed,) = second.resume()
    _wait(second, [resumed])
    assert resumed.state is JobState.DONE, resumed.error
    assert resumed.final_task_id == job.final_task_id
    assert len(sandbox.creates()) == 1


def test_cancel_ends_the_job_as_canceled(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=5)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a statue")))
    while job.state is not JobState.RUNNING:
        time.sleep(0.02)
    manager.cancel(job.id)
    _wait(manager, [job], timeout=5)
    assert job.state is JobState.CANCELED


def test_cancel_while_the_asset_server_keeps_the_download_waiting_ends_the_job_at_once(sandbox, make_manager) -> None:
    """Meshy's file host took the request and sends nothing (30 s); the read timeout is 30 s as well."""
    sandbox.configure(task_seconds=0.2)
    sandbox.fault(r"^/assets/", "hang", method="GET", times=-1, seconds=30)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a statue")))
    while job.state is not JobState.DOWNLOADING:
        assert not job.state.is_final, job.message
        time.sleep(0.02)
    manager.cancel(job.id)
    _wait(manager, [job], timeout=5)
    assert job.state is JobState.CANCELED


def test_expired_asset_url_is_renewed(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.2)
    sandbox.fault(r"^/assets/", "status", method="GET", status=403, message="Request has expired")
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a mug")))
    _wait(manager, [job])
    assert job.state is JobState.DONE, job.error
    log = [(r["path"].split("/")[1], r["status"]) for r in sandbox.requests() if r["method"] == "GET"]
    refused = log.index(("assets", 403))
    renewed = log.index(("openapi", 200), refused)
    assert ("assets", 200) in log[renewed:]


def test_truncated_download_is_retried(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.2)
    sandbox.fault(r"^/assets/", "truncate", method="GET")
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a teapot")))
    _wait(manager, [job])
    assert job.state is JobState.DONE, job.error
    assert is_valid_glb(Path(job.files["model"]))


def test_failed_task_reports_meshys_reason(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.2)
    sandbox.fail_next("text-to-3d", message="The prompt was blocked by moderation", code="moderation_blocked")
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("something")))
    _wait(manager, [job])
    assert job.state is JobState.FAILED
    assert "moderation" in job.error
    assert job.error_code == "moderation_blocked"


def test_expired_result_is_reported_clearly(sandbox, make_manager, paid_key) -> None:
    sandbox.configure(task_seconds=0.1, result_ttl_seconds=0.2)
    client = MeshyClient(paid_key, sandbox.url)
    task_id = client.text_to_3d_preview("an old chair")
    client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, timeout=10)
    time.sleep(0.5)
    manager = make_manager()
    job = manager.submit(_headless(plans.existing_task_job(TaskKind.TEXT_TO_3D, task_id, name="old chair")))
    _wait(manager, [job])
    assert job.state is JobState.FAILED
    assert "expired" in job.error


def test_a_task_canceled_on_meshy_is_said_in_words(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=30)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a chair canceled on the web")))
    deadline = time.monotonic() + 10
    while not job.stages[0].task_id:
        assert time.monotonic() < deadline, "the task was not created"
        time.sleep(0.02)
    sandbox.control("POST", "cancel", {"task_id": job.stages[0].task_id})
    _wait(manager, [job])
    assert job.state is JobState.FAILED
    assert job.error == "The Text to 3D task was cancelled on Meshy."


def test_a_task_meshy_let_expire_is_said_in_words(sandbox, make_manager, paid_key) -> None:
    sandbox.configure(task_seconds=0.1)
    client = MeshyClient(paid_key, sandbox.url)
    task_id = client.text_to_3d_preview("an old chair")
    client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, timeout=10)
    sandbox.control("POST", "expire", {"task_id": task_id})  # status EXPIRED, files gone
    manager = make_manager()
    job = manager.submit(_headless(plans.existing_task_job(TaskKind.TEXT_TO_3D, task_id, name="old chair")))
    _wait(manager, [job])
    assert job.state is JobState.FAILED
    assert job.error.startswith("Meshy deleted this result after 3 days")
    assert "generating it again" in job.error


def test_shutdown_stops_workers_within_two_seconds(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=30)
    manager = make_manager(concurrency=4)
    jobs = [manager.submit(_headless(plans.text_job(f"tree {i}"))) for i in range(4)]
    while not all(j.stages[0].task_id for j in jobs):
        time.sleep(0.02)
    started = time.monotonic()
    assert manager.shutdown(2.0)
    assert time.monotonic() - started < 2.5
    assert not [t for t in threading.enumerate() if t.name.startswith("meshy-worker")]


def test_create_whose_answer_was_lost_is_adopted_not_paid_twice(sandbox, make_manager) -> None:
    """The sandbox creates the task, then cuts the response: the job must find it, not create another."""
    sandbox.configure(task_seconds=0.3)
    sandbox.fault(r"/text-to-3d$", "truncate", method="POST", bytes=5)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a barrel")))
    _wait(manager, [job])
    assert job.state is JobState.DONE, job.error
    posts = [r for r in sandbox.requests() if r["method"] == "POST"]
    assert len(posts) == 1
    assert sandbox.creates()[0]["status"] == 202


def test_create_refused_with_a_server_error_is_created_once_later(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.3)
    sandbox.fault(r"/text-to-3d$", "status", method="POST", status=503, times=2)
    manager = make_manager()
    job = manager.submit(_headless(plans.text_job("a crate")))
    _wait(manager, [job])
    assert job.state is JobState.DONE, job.error
    assert [r["status"] for r in sandbox.requests() if r["method"] == "POST"] == [503, 503, 202]


def test_request_rate_limit_slows_jobs_down_without_failing_them(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.3, rate_limit=2, retry_after=1)
    manager = make_manager(concurrency=6)
    jobs = [manager.submit(_headless(plans.text_job(f"rock {i}"))) for i in range(6)]
    _wait(manager, jobs, timeout=60)
    assert [j.state for j in jobs] == [JobState.DONE] * 6, [j.error for j in jobs]
    assert any(r["status"] == 429 for r in sandbox.requests())
    assert len(sandbox.creates()) == 6


def test_a_save_before_resume_keeps_the_ledgers_unfinished_jobs(sandbox, make_manager) -> None:
    """Offline or keyless start: the ledger is listed, not run, and a new job must not erase it."""
    sandbox.configure(task_seconds=1.0)
    first = make_manager()
    earlier = first.submit(_headless(plans.text_job("a lantern")))
    while not earlier.stages[0].task_id:
        time.sleep(0.02)
    assert first.shutdown(2.0)

    second = make_manager()
    assert second.get(earlier.id) is not None and not second.get(earlier.id).state.is_final
    fresh = second.submit(_headless(plans.text_job("a bucket")))  # saves the ledger
    _wait(second, [fresh])
    (resumed,) = second.resume()
    assert resumed.id == earlier.id
    _wait(second, [resumed])
    assert resumed.state is JobState.DONE, resumed.error
    assert len(sandbox.creates()) == 2


def test_each_create_is_on_disk_before_its_request_leaves(sandbox, paid_key, tmp_path) -> None:
    """The ledger is saved on a background thread, except before a paid create: that save is waited for."""
    store = JobStore(tmp_path / "jobs")
    on_disk_at_create: list[list[int]] = []

    def client() -> MeshyClient:
        made = MeshyClient(paid_key, sandbox.url)

        def listener(method: str, url: str) -> None:
            if method == "POST":
                (saved,) = store.load()
                on_disk_at_create.append([stage.create_sent_ms for stage in saved.stages])

        made.request_listeners.append(listener)
        return made

    sandbox.configure(task_seconds=0.2)
    manager = JobManager(client, download_dir=tmp_path / "downloads", store=store, settings=FAST)
    try:
        job = manager.submit(_headless(plans.text_job("a wooden chair", refine=True)))
        _wait(manager, [job])
    finally:
        assert manager.shutdown(2.0)
    assert job.state is JobState.DONE, job.error
    preview_sent, refine_sent = (stage.create_sent_ms for stage in job.stages)
    assert on_disk_at_create == [[preview_sent, 0], [preview_sent, refine_sent]]


def test_an_import_marked_just_before_shutdown_is_saved(make_manager, tmp_path) -> None:
    manager = make_manager()
    job = manager.add_ready(
        Job(name="crate", kind="import", stages=[], state=JobState.READY, files={"model": str(tmp_path / "m.glb")})
    )
    manager.mark_imported(job, ["crate"])  # returns without waiting for the disk
    assert manager.shutdown(2.0)
    (saved,) = JobStore(tmp_path / "jobs").load()
    assert (saved.state, saved.imported_objects) == (JobState.IMPORTED, ["crate"])


def test_a_job_offered_for_import_wakes_a_waiting_pump(make_manager, tmp_path) -> None:
    manager = make_manager()
    job = manager.add_ready(
        Job(name="crate", kind="import", stages=[], state=JobState.READY, files={"model": str(tmp_path / "m.glb")})
    )
    manager.park(manager.take_ready(), "Finishes in chair.blend: open it, or Import here")
    seen = manager.news
    assert not manager.wait_for_news(seen, 0.0)  # parking is no news

    manager.unpark()  # offered again, and nothing else happened

    assert manager.wait_for_news(seen, 0.0)
    assert manager.take_ready() is job


def test_the_next_task_is_created_while_a_finished_job_downloads(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.3)
    sandbox.fault("^/assets/", "delay", method="GET", seconds=2.0)  # the first result's download is slow
    manager = make_manager(concurrency=1)
    first = manager.submit(_headless(plans.text_job("a slow download")))
    second = manager.submit(_headless(plans.text_job("the next crate")))
    _wait(manager, [first, second])
    assert [first.state, second.state] == [JobState.DONE, JobState.DONE]
    log = sandbox.requests()
    creates = [entry["t"] for entry in log if entry["method"] == "POST" and entry["status"] < 300]
    downloads = [entry["t"] for entry in log if entry["method"] == "GET" and entry["path"].startswith("/assets/")]
    # A request is logged when answered: the slow download (the first job's, 2 s) ends last; the second
    # task was created while it ran, not after it.
    assert len(creates) == 2 and creates[1] < max(downloads) - 1.0, (creates, downloads)


def test_no_more_tasks_run_at_once_than_the_concurrency(sandbox, make_manager) -> None:
    sandbox.configure(task_seconds=0.4)
    manager = make_manager(concurrency=2)
    jobs = [manager.submit(_headless(plans.text_job(f"crate {i}"))) for i in range(6)]
    most = 0
    deadline = time.monotonic() + 30
    while not manager.all_final(j.id for j in jobs) and time.monotonic() < deadline:
        most = max(most, sum(j.state in (JobState.SUBMITTING, JobState.RUNNING) for j in jobs))
        time.sleep(0.01)
    assert [j.state for j in jobs] == [JobState.DONE] * 6
    assert most == 2
