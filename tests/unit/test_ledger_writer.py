"""The ledger writer: saves on one thread, spaced in bursts, flush on disk, nothing pending lost at close."""

from __future__ import annotations

import logging
import threading
import time
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


def _wait_for_file(ledger: Ledger) -> None:
    deadline = time.monotonic() + BOUND_S
    while not ledger.path.exists():
        assert time.monotonic() < deadline, "the ledger was not written"
        time.sleep(0.01)


def test_a_change_is_written_at_once_and_a_flush_never_waits_out_the_interval(tmp_path: Path) -> None:
    """Not after the interval: a delayed write would land on the pump's next import."""
    job = _job()
    ledger = CountingLedger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, lambda: [job], min_interval_s=60.0)
    writer.request()
    _wait_for_file(ledger)  # the first change after a quiet spell: no 60 s wait
    assert _on_disk(ledger) is JobState.QUEUED
    job.state = JobState.SUBMITTING
    assert writer.flush(BOUND_S)  # did not wait out the 60 s before the next write
    assert _on_disk(ledger) is JobState.SUBMITTING
    assert writer.close(BOUND_S)


def test_a_burst_of_changes_is_saved_in_a_few_writes_ending_with_the_last(tmp_path: Path) -> None:
    job = _job()
    ledger = CountingLedger(tmp_path / "jobs.json")
    writer = LedgerWriter(ledger, lambda: [job], min_interval_s=0.2)
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
    writer = LedgerWriter(ledger, lambda: [job], min_interval_s=60.0)
    job.state = JobState.IMPORTED
    writer.request()
    assert writer.close(BOUND_S)  # does not wait out the 60 s interval
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
