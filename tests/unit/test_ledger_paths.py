"""A job's id names its download folder: a ledger whose ids are paths is set aside, never followed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs.ledger import Ledger
from meshy_blender.jobs.model import Job, Stage


def a_job(**changes: object) -> Job:
    job = Job(name="a chair", kind="text", stages=[Stage(kind=TaskKind.TEXT_TO_3D, body={"prompt": "a chair"})])
    for name, value in changes.items():
        setattr(job, name, value)
    return job


def test_generated_job_ids_load_back(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "jobs.json")
    jobs = [a_job(), a_job(id="hand-made_id-1")]
    ledger.save(jobs)
    assert [job.id for job in ledger.load()] == [job.id for job in jobs]


@pytest.mark.parametrize("bad_id", ["../../escape", "..", "/etc", "a/b", "a\\b", ".hidden", "", 42])
def test_a_ledger_with_a_path_for_an_id_is_kept_aside(tmp_path: Path, bad_id: object) -> None:
    path = tmp_path / "jobs.json"
    ledger = Ledger(path)
    ledger.save([a_job()])
    data = json.loads(path.read_text())
    data["jobs"][0]["id"] = bad_id
    path.write_text(json.dumps(data))

    assert ledger.load() == []
    assert not path.exists()
    assert json.loads((tmp_path / "jobs.corrupt.json").read_text()) == data  # kept for inspection, not lost
