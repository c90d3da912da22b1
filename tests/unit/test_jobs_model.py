"""Jobs as data: ledger round trips, crash safety of the ledger file, recovery matching."""

from __future__ import annotations

import json
from pathlib import Path

from meshy_blender.api.tasks import TaskKind, parse_task
from meshy_blender.jobs.ledger import Ledger
from meshy_blender.jobs.model import Job, JobState, Stage
from meshy_blender.jobs.recovery import find_created_task


def _text_job() -> Job:
    return Job(
        name="chair",
        kind="text",
        stages=[
            Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a chair"}, task_id="t1", status="SUCCEEDED"),
            Stage(TaskKind.TEXT_TO_3D, {"mode": "refine"}, link_field="preview_task_id", progress=40),
        ],
    )


def test_ledger_round_trip_keeps_every_field(tmp_path: Path) -> None:
    job = _text_job()
    job.state = JobState.RUNNING
    job.files = {"model": "/tmp/x.glb"}
    ledger = Ledger(tmp_path / "jobs.json")
    ledger.save([job])
    (loaded,) = ledger.load()
    assert loaded == job
    assert loaded.stages[1].kind is TaskKind.TEXT_TO_3D
    assert loaded.state is JobState.RUNNING


def test_ledger_missing_file_is_empty(tmp_path: Path) -> None:
    assert Ledger(tmp_path / "none.json").load() == []


def test_corrupt_ledger_is_kept_aside_not_deleted(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text("{not json", encoding="utf-8")
    assert Ledger(path).load() == []
    assert (tmp_path / "jobs.corrupt.json").read_text(encoding="utf-8") == "{not json"


def test_ledger_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "jobs.json")
    for _ in range(3):
        ledger.save([_text_job()])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.json"]
    assert json.loads((tmp_path / "jobs.json").read_text())["version"] == 1


def test_progress_spans_stages() -> None:
    job = _text_job()
    assert job.progress == (1.0 + 0.4) / 2
    job.state = JobState.IMPORTED
    assert job.progress == 1.0


def test_current_stage_is_the_first_unfinished() -> None:
    job = _text_job()
    assert job.current_stage is job.stages[1]


class _Lister:
    def __init__(self, tasks: list[dict]) -> None:
        self.tasks = [parse_task(TaskKind.TEXT_TO_3D, t) for t in tasks]

    def list_tasks(self, kind, *, page_num=1, page_size=10, sort_by="-created_at"):
        return self.tasks


def test_recovery_adopts_the_matching_unclaimed_task() -> None:
    stage = Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a chair"}, create_sent_ms=1_000_000)
    lister = _Lister(
        [
            {"id": "other-prompt", "type": "text-to-3d-preview", "prompt": "a table", "created_at": 1_000_500},
            {"id": "claimed", "type": "text-to-3d-preview", "prompt": "a chair", "created_at": 1_000_100},
            {"id": "mine", "type": "text-to-3d-preview", "prompt": "a chair", "created_at": 1_000_200},
            {"id": "refine", "type": "text-to-3d-refine", "prompt": "a chair", "created_at": 1_000_050},
            {"id": "too-old", "type": "text-to-3d-preview", "prompt": "a chair", "created_at": 500_000},
        ]
    )
    assert find_created_task(lister, stage, claimed={"claimed"}) == "mine"


def test_recovery_finds_nothing_when_the_create_never_landed() -> None:
    stage = Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a chair"}, create_sent_ms=1_000_000)
    lister = _Lister([{"id": "x", "type": "text-to-3d-preview", "prompt": "a lamp", "created_at": 1_000_500}])
    assert find_created_task(lister, stage, claimed=set()) == ""
