"""The ledger writer: saves gathered on one thread, flush on disk, nothing pending lost at close."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs.ledger import Ledger
from meshy_blender.jobs.ledger_writer import LedgerWriter
from meshy_blender.jobs.model import Job, JobState, Stage

BOUND_S = 10.0


class CountingLedger(Ledger):
    """A real ledger file that counts its saves."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.saves = 0

    def save(self, jobs: list[Job]) -> None:
        super().save(jobs)
        self.saves += 1


def _job() -> Job:
    return Job(name="chair", kind="text", stages=[Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a chair"})])


def _on_disk(ledger: Ledger) -> JobState:
    (job,) = ledger.load()
    return job.state


def _writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "meshy-ledger-writer"]


def test_flush_returns_once_the_latest_change_is_on_disk(tmp_path: Path) -> None:
    job = _job()
    ledger = CountingLedger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, lambda: [job], gather_s=60.0)  # only a flush can make it write soon
    job.state = JobState.SUBMITTING
    assert writer.flush(BOUND_S)
    assert _on_disk(ledger) is JobState.SUBMITTING
    assert writer.close(BOUND_S)


def test_a_burst_of_changes_is_saved_in_a_few_writes_ending_with_the_last(tmp_path: Path) -> None:
    job = _job()
    ledger = CountingLedger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, lambda: [job], gather_s=0.2)
    for progress in range(100):
        job.stages[0].progress = progress
        writer.request()
    job.state = JobState.RUNNING
    writer.request()
    assert writer.close(BOUND_S)
    assert ledger.saves < 10
    (saved,) = ledger.load()
    assert (saved.state, saved.stages[0].progress) == (JobState.RUNNING, 99)


def test_close_writes_what_is_pending_then_nothing_more(tmp_path: Path) -> None:
    job = _job()
    ledger = CountingLedger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, lambda: [job], gather_s=60.0)
    job.state = JobState.IMPORTED
    writer.request()
    assert writer.close(BOUND_S)  # does not wait out the 60 s of gathering
    assert _on_disk(ledger) is JobState.IMPORTED
    assert not _writer_threads()
    job.state = JobState.FAILED
    writer.request()
    assert writer.flush(BOUND_S)
    assert (_on_disk(ledger), ledger.saves) == (JobState.IMPORTED, 1)


def test_a_writer_asked_for_nothing_starts_no_thread(tmp_path: Path) -> None:
    writer = LedgerWriter(Ledger(tmp_path / "jobs.json"), list)
    assert writer.close(BOUND_S)
    assert not _writer_threads()
    assert not (tmp_path / "jobs.json").exists()


def test_a_failed_save_is_logged_and_later_saves_still_happen(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    job = _job()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    ledger = Ledger(blocker / "jobs.json")  # its folder cannot be created
    writer = LedgerWriter(ledger, lambda: [job])
    with caplog.at_level(logging.ERROR):
        assert writer.flush(BOUND_S)
    assert "Could not save the Meshy job ledger" in caplog.text
    blocker.unlink()
    job.state = JobState.DONE
    assert writer.flush(BOUND_S)
    assert _on_disk(ledger) is JobState.DONE
    assert writer.close(BOUND_S)


def test_jobs_changing_while_serialized_are_taken_again(tmp_path: Path) -> None:
    job = _job()
    taken = 0

    def jobs() -> list[Job]:
        nonlocal taken
        taken += 1
        if taken == 1:  # as when a worker adds a file to a job's dict during json.dumps
            raise RuntimeError("dictionary changed size during iteration")
        return [job]

    ledger = Ledger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, jobs)
    assert writer.flush(BOUND_S)
    assert _on_disk(ledger) is JobState.QUEUED
    assert writer.close(BOUND_S)
