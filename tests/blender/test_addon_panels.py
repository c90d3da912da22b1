"""Every panel drawn with jobs in every state, and with every outcome of the background calls.

Jobs are built with the add-on's own plans, put in each state the way a worker leaves
them, and placed in the live manager; the panels are drawn against a recording layout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest

if TYPE_CHECKING:
    from addon_env import AddonEnv, RecordingLayout

pytest_plugins = ["addon_env"]


def job_in_state(env: AddonEnv, state: Any, model_file: Path, *, kind: str = "text") -> Any:
    """A job as the runner leaves it in ``state``."""
    plans = env.module("jobs.plans")
    model = env.module("jobs.model")
    if kind == "rig":
        job = plans.rig_job(input_task_id="task-rig-input", name=f"rig {state.value}")
    else:
        job = plans.text_job(f"chair {state.value}", refine=False)
    job.state = state
    job.message = state.label
    stage = job.stages[0]
    if state not in (model.JobState.QUEUED, model.JobState.SUBMITTING, model.JobState.WAITING_FOR_SLOT):
        stage.task_id = f"task-{kind}-{state.value}"
    if state is model.JobState.RUNNING:
        stage.status, stage.preceding_tasks = "PENDING", 3
    if state is model.JobState.DOWNLOADING:
        stage.status, stage.progress, job.download_fraction = "SUCCEEDED", 100, 0.4
    if state in (model.JobState.READY, model.JobState.IMPORTED, model.JobState.DONE):
        stage.status, stage.progress, stage.consumed_credits = "SUCCEEDED", 100, 20
        job.files["model"] = str(model_file)
    if state is model.JobState.FAILED:
        job.error = "Meshy could not make this model: the image is too complex for Image to 3D; try a simpler one."
    return job


@pytest.fixture
def every_state(meshy: AddonEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The live manager holding one text job in every state, plus a finished rig job, all on one page."""
    model = meshy.module("jobs.model")
    monkeypatch.setattr(meshy.module("blender.ui.jobs.view"), "PAGE_SIZE", len(model.JobState) + 1)
    manager = meshy.module("blender.ui.operators").manager(bpy.context)
    model_file = tmp_path / "model.glb"
    model_file.write_bytes(b"glTF")
    jobs = [job_in_state(meshy, state, model_file) for state in model.JobState]
    jobs += [job_in_state(meshy, model.JobState.IMPORTED, model_file, kind="rig")]
    for job in jobs:
        manager.book._jobs[job.id] = job  # shown, not run: no worker ever sees them
    yield jobs
    manager.book._jobs.clear()


def buttons_of(layout: RecordingLayout, job: Any) -> set[str]:
    return {op.idname for op in layout.operators() if op.values.get("job_id") == job.id}


def test_jobs_panel_draws_every_state_with_the_right_buttons(meshy: AddonEnv, every_state: list[Any]) -> None:
    model = meshy.module("jobs.model")
    state = model.JobState
    layout = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_jobs)
    labels = layout.labels()
    for job in every_state:
        assert job.name in labels
        assert job.state.label in labels
    text = " ".join(labels)
    assert "the image is too complex for Image to 3D" in text.replace("  ", " ")
    assert "3 tasks ahead in Meshy's queue" in labels
    assert "Credits: ~20 estimated, 20 used" in labels
    bars = [kwargs for kind, kwargs in layout.calls if kind == "progress"]
    assert len(bars) == sum(1 for job in every_state if not job.state.is_final)

    by_state = {job.state: job for job in every_state if job.kind == "text"}
    assert buttons_of(layout, by_state[state.RUNNING]) == {"meshy.job_cancel"}
    assert buttons_of(layout, by_state[state.QUEUED]) == {"meshy.job_cancel"}
    assert buttons_of(layout, by_state[state.READY]) == {  # downloaded, waiting for its file: Import here
        "meshy.job_cancel",
        "meshy.job_reimport",
        "meshy.job_refine",
        "meshy.job_rig",
    }
    assert buttons_of(layout, by_state[state.FAILED]) == {
        "meshy.job_retry",
        "meshy.job_delete_remote",
        "meshy.job_forget",
    }
    assert buttons_of(layout, by_state[state.CANCELED]) == {
        "meshy.job_retry",
        "meshy.job_delete_remote",
        "meshy.job_forget",
    }
    assert buttons_of(layout, by_state[state.IMPORTED]) == {
        "meshy.job_reimport",
        "meshy.job_refine",
        "meshy.job_rig",
        "meshy.job_delete_remote",
        "meshy.job_forget",
    }
    rig = every_state[-1]
    assert buttons_of(layout, rig) == {
        "meshy.job_reimport",
        "meshy.job_animate",
        "meshy.job_delete_remote",
        "meshy.job_forget",
    }


def test_jobs_panel_pages_with_unfinished_jobs_first(meshy: AddonEnv, tmp_path: Path) -> None:
    """25 jobs: 10 a page; the 3 still running come first although older, then the finished, newest first."""
    model = meshy.module("jobs.model")
    manager = meshy.module("blender.ui.operators").manager(bpy.context)
    panel = meshy.module("blender.ui.panels").MESHY_PT_jobs
    model_file = tmp_path / "model.glb"
    model_file.write_bytes(b"glTF")
    jobs = []
    for index in range(25):
        state = model.JobState.RUNNING if index >= 22 else model.JobState.IMPORTED
        job = job_in_state(meshy, state, model_file)
        job.name, job.created_ms = f"job {index:02d}", 1_000_000 + index  # job 24 is the newest
        manager.book._jobs[job.id] = job
        jobs.append(job)
    try:
        first = meshy.draw(panel)
        shown = [label for label in first.labels() if label.startswith("job ")]
        assert shown == ["job 24", "job 23", "job 22", *(f"job {index:02d}" for index in range(21, 14, -1))]
        assert "Page 1 of 3 (25 jobs)" in first.labels()
        bpy.ops.meshy.jobs_page(page=3)
        last = meshy.draw(panel)
        assert [label for label in last.labels() if label.startswith("job ")] == [
            f"job {index:02d}" for index in range(4, -1, -1)
        ]
        assert "Page 3 of 3 (25 jobs)" in last.labels()
        assert [op.values["page"] for op in last.operators() if op.idname == "meshy.jobs_page"] == [2, 3]
        for job in jobs[:20]:  # forgotten: page 3 is past the end, the last page (the only one) is shown
            del manager.book._jobs[job.id]
        remaining = meshy.draw(panel)
        assert [label for label in remaining.labels() if label.startswith("job ")] == [
            f"job {index:02d}" for index in range(24, 19, -1)
        ]
        assert not any(label.startswith("Page ") for label in remaining.labels())  # one page: no pager
    finally:
        manager.book._jobs.clear()
        bpy.context.window_manager.meshy_jobs_page = 1


def test_a_job_asked_from_another_file_says_where_it_lands(meshy: AddonEnv, every_state: list[Any]) -> None:
    model = meshy.module("jobs.model")
    running = next(job for job in every_state if job.state.value == "running")
    panel = meshy.module("blender.ui.panels").MESHY_PT_jobs
    running.bind(model.FileRef("/art/chair.blend", "elsewhere-id"))
    assert "Lands in chair.blend" in meshy.draw(panel).labels()
    running.bind(model.FileRef())  # bound to no file: lands wherever it is asked to
    assert not any("Lands in" in label for label in meshy.draw(panel).labels())


def test_a_job_another_blender_runs_is_shown_without_buttons(meshy: AddonEnv, every_state: list[Any]) -> None:
    manager = meshy.module("blender.ui.operators").manager(bpy.context)
    running = next(job for job in every_state if job.state.value == "running")
    manager.book.mark_elsewhere(running)
    layout = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_jobs)
    assert buttons_of(layout, running) == set()
    assert "Running in another Blender window or command" in layout.labels()
    with pytest.raises(RuntimeError, match="another Blender window or command"):
        bpy.ops.meshy.job_cancel(job_id=running.id)


def test_a_job_failed_on_meshy_offers_no_retry(meshy: AddonEnv, every_state: list[Any]) -> None:
    failed = next(job for job in every_state if job.state.value == "failed")
    failed.stages[0].status = "FAILED"
    layout = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_jobs)
    assert "meshy.job_retry" not in buttons_of(layout, failed)
    with pytest.raises(RuntimeError, match="cannot be retried"):
        bpy.ops.meshy.job_retry(job_id=failed.id)


def test_without_layout_progress_the_jobs_panel_falls_back_to_labels(
    meshy: AddonEnv, every_state: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    panels = meshy.module("blender.ui.panels")
    monkeypatch.setattr(panels, "HAS_PROGRESS", False)
    layout = meshy.draw(panels.MESHY_PT_jobs)
    assert "progress" not in layout.kinds()
    assert any(label.endswith("(97%)") for label in layout.labels())  # downloading: 95% + 5% x 0.4


def test_every_panel_draws_in_every_job_state(meshy: AddonEnv, every_state: list[Any]) -> None:
    meshy.props.images.add().image = bpy.data.images.new("view", 4, 4)
    meshy.props.images.add()
    meshy.props.action_ids = "1,13,5000"  # 5000: an id this add-on's library does not list
    for panel in meshy.module("blender.ui.panels").CLASSES:
        assert meshy.draw(panel).calls, panel.__name__
    meshy.draw(meshy.module("blender.ui.preferences").MeshyPreferences)


def test_every_panel_draws_offline_and_without_jobs(meshy: AddonEnv) -> None:
    bpy.context.preferences.system.use_online_access = False
    for panel in meshy.module("blender.ui.panels").CLASSES:
        meshy.draw(panel)
    assert "No jobs yet" in meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_jobs).labels()


def test_panels_draw_every_outcome_of_background_calls(meshy: AddonEnv, every_state: list[Any]) -> None:
    calls = meshy.module("blender.ui.calls")
    tasks = meshy.module("api.tasks")
    panels = meshy.module("blender.ui.panels")
    finished = every_state[-1]
    now_ms = int(time.time() * 1000)
    page = [
        tasks.parse_task(
            tasks.TaskKind.TEXT_TO_3D,
            {"id": "t-ok", "status": "SUCCEEDED", "prompt": "a fox", "expires_at": now_ms + 60_000},
        ),
        tasks.parse_task(
            tasks.TaskKind.TEXT_TO_3D,
            {"id": "t-old", "status": "SUCCEEDED", "prompt": "a cat", "expires_at": now_ms - 1},
        ),
        tasks.parse_task(tasks.TaskKind.TEXT_TO_3D, {"id": "t-run", "status": "IN_PROGRESS", "prompt": "a dog"}),
    ]
    calls.start("browse", lambda: page, request=(tasks.TaskKind.TEXT_TO_3D, 1))
    calls.start(f"delete-{finished.id}", lambda: 1)
    assert calls.wait("browse", 5) and calls.wait(f"delete-{finished.id}", 5)
    browser = meshy.draw(panels.MESHY_PT_browser)
    assert [op.values["task_id"] for op in browser.operators() if op.idname == "meshy.browse_import"] == ["t-ok"]
    assert {"a fox", "a cat", "a dog", "Expired", "In Progress"} <= set(browser.labels())
    assert "Deleted on Meshy" in meshy.draw(panels.MESHY_PT_jobs).labels()

    release = threading.Event()
    calls.start("browse", release.wait)
    try:
        assert "Loading…" in meshy.draw(panels.MESHY_PT_browser).labels()
        assert "Loading…" in poll_message(bpy.ops.meshy.browse_tasks)
    finally:
        release.set()
        calls.wait("browse", 5)

    calls.fail("balance", "Meshy refused the API key (401).")
    calls.fail(f"delete-{finished.id}", "Task not found")
    assert "Meshy refused the API key (401)." in meshy.draw(panels.MESHY_PT_account).labels()
    assert any("Delete failed" in label for label in meshy.draw(panels.MESHY_PT_jobs).labels())


def poll_message(operator: Any) -> str:
    with pytest.raises(RuntimeError) as caught:
        operator()
    return str(caught.value)
