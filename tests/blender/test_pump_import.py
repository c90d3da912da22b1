"""The pump's import of a finished job in real Blender: what the job tells the user afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import bpy
import pytest
from sandbox_control import PAID_KEY, closed_port

from meshy_blender.blender import pump, session
from meshy_blender.jobs import plans
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import FileRef, Job, JobState

if TYPE_CHECKING:
    from conftest import GlbAssets


@pytest.fixture
def manager(empty_scene: bpy.types.Scene, tmp_path: Path) -> Iterator[JobManager]:
    """A session whose jobs arrive already downloaded (no request is ever sent: nothing listens)."""
    config = session.Config(
        api_key=PAID_KEY,
        base_url=f"http://127.0.0.1:{closed_port()}",
        download_dir=tmp_path / "downloads",
        jobs_dir=tmp_path / "jobs",
    )
    yield session.configure(config)
    session.shutdown(2.0)


def _import(manager: JobManager, job: Job, model: Path) -> Job:
    job.state = JobState.READY
    job.files = {"model": str(model)}
    manager.add_ready(job)
    pump.tick()
    assert job.state is JobState.IMPORTED, job.message
    return job


def test_pbr_maps_paid_for_but_missing_are_named_on_the_job(
    manager: JobManager, glb_assets: GlbAssets, caplog: pytest.LogCaptureFixture
) -> None:
    job = plans.text_job("a brass lamp", refine=True, refine_options={"enable_pbr": True})

    _import(manager, job, glb_assets.base_color_only)

    assert job.message.startswith("Imported 1 object(s); PBR maps missing:")
    for channel in ("metallic", "roughness", "normal"):
        assert channel in job.message
    assert "base_color" not in job.message
    assert "PBR maps missing" in caplog.text
    assert [obj.name for obj in bpy.data.objects] == job.imported_objects  # imported all the same


@pytest.mark.parametrize(
    ("pbr", "model"), [(True, "textured"), (False, "base_color_only")], ids=["pbr-complete", "no-pbr-asked"]
)
def test_a_model_with_what_was_asked_for_imports_without_a_warning(
    manager: JobManager, glb_assets: GlbAssets, pbr: bool, model: str
) -> None:
    job = plans.text_job("a brass lamp", refine=True, refine_options={"enable_pbr": pbr})

    _import(manager, job, getattr(glb_assets, model))

    assert job.message == "Imported 1 object(s)"


def _ready_jobs(manager: JobManager, model: Path, count: int) -> list[Job]:
    jobs = [plans.text_job(f"a brass lamp {index}") for index in range(count)]
    for job in jobs:
        job.state = JobState.READY
        job.files = {"model": str(model)}
        manager.add_ready(job)
    return jobs


def _imported(jobs: list[Job]) -> int:
    return sum(job.state is JobState.IMPORTED for job in jobs)


def test_a_headless_tick_imports_every_ready_job(manager: JobManager, glb_assets: GlbAssets) -> None:
    jobs = _ready_jobs(manager, glb_assets.textured, 3)
    elsewhere = _ready_jobs(manager, glb_assets.textured, 1)[0]
    elsewhere.bind(FileRef(path="/nowhere/chair.blend", file_id="another-file"))
    at_each_check: list[int] = []

    def done() -> bool:
        at_each_check.append(_imported(jobs))
        return _imported(jobs) == len(jobs)

    assert pump.run_until(done, timeout=30)

    assert at_each_check == [3], "all three were imported by the first tick"
    assert elsewhere.state is JobState.READY and "chair.blend" in elsewhere.message  # parked, not imported
    assert len(bpy.data.collections["Meshy"].children) == 3


def test_a_tick_importing_several_jobs_does_not_import_again_one_already_in_the_file(
    manager: JobManager, glb_assets: GlbAssets
) -> None:
    """The file's imported objects are read once per tick: a result already here is still found."""
    first = _import(manager, plans.text_job("a brass lamp"), glb_assets.textured)
    first.state = JobState.READY  # offered again, as after a restart that lost its record's last change
    manager.add_ready(first)
    others = _ready_jobs(manager, glb_assets.textured, 2)

    pump.tick(None)

    assert _imported([first, *others]) == 3
    assert len(bpy.data.collections["Meshy"].children) == 3  # the lamp once, and the two others
    tagged = [obj for obj in bpy.data.objects if obj.get("meshy_job_id") == first.id]
    assert [obj.name for obj in tagged] == first.imported_objects


def test_a_headless_tick_leaves_jobs_that_became_ready_meanwhile_to_the_next_step(
    manager: JobManager, glb_assets: GlbAssets
) -> None:
    jobs = _ready_jobs(manager, glb_assets.textured, 2)
    later = [plans.text_job(f"a tin lamp {index}") for index in range(2)]
    for job in later:
        job.state = JobState.READY
        job.files = {"model": str(glb_assets.textured)}
    arriving = iter(later)

    def hand_over_one(*_: object) -> None:  # each import sees another result handed over, as in a busy batch
        job = next(arriving, None)
        if job is not None:
            manager.add_ready(job)

    steps: list[int] = []  # what the run's own step (parts, checkpoints, progress) saw, after each tick

    def done() -> bool:
        steps.append(_imported(jobs + later))
        return steps[-1] == 4

    pump.import_listeners.append(hand_over_one)
    try:
        assert pump.run_until(done, timeout=30)
    finally:
        pump.import_listeners.remove(hand_over_one)

    assert steps[0] == 2, "the first tick imported the two ready when it started, then let the run step"
    assert steps[-1] == 4 and len(steps) >= 2


def test_a_waiting_headless_pump_wakes_when_a_job_becomes_ready(
    manager: JobManager, glb_assets: GlbAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = plans.text_job("a brass lamp")
    job.state = JobState.READY
    job.files = {"model": str(glb_assets.textured)}
    wait_for_news = manager.wait_for_news
    woken: list[bool] = []

    def watched(seen: int, timeout: float) -> bool:  # the real wait, its outcome recorded
        woken.append(wait_for_news(seen, timeout))
        return woken[-1]

    monkeypatch.setattr(manager, "wait_for_news", watched)
    later = threading.Timer(0.2, manager.add_ready, [job])  # as a worker thread hands a job over
    later.start()
    try:
        assert pump.run_until(lambda: job.state is JobState.IMPORTED, timeout=30, interval=60)
    finally:
        later.cancel()

    assert woken, "the pump waited for news"
    assert all(woken), "every wait ended with news, none ran out its time"


def test_a_timer_tick_stops_importing_when_its_budget_is_spent(manager: JobManager, glb_assets: GlbAssets) -> None:
    jobs = _ready_jobs(manager, glb_assets.textured, 3)

    imported = []
    for _ in jobs:
        pump.tick(budget_s=0.0)
        imported.append(_imported(jobs))

    assert imported == [1, 2, 3]  # at least one per tick, and no more once the budget is gone
    assert not manager.has_ready()


def test_the_timer_comes_back_at_once_while_jobs_wait(
    manager: JobManager, glb_assets: GlbAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = _ready_jobs(manager, glb_assets.textured, 3)
    monkeypatch.setattr(pump, "FRAME_BUDGET_S", 0.0)

    intervals, imported = [], []
    for _ in jobs:
        intervals.append(pump.timer())
        imported.append(_imported(jobs))

    assert imported == [1, 2, 3]
    assert intervals == [pump.BACKLOG_INTERVAL, pump.BACKLOG_INTERVAL, pump.IDLE_INTERVAL]
