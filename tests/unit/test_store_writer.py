"""The store writer: records written on one thread, spaced in bursts, flush on disk or a clear refusal."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from meshy_blender.api.errors import LocalWriteError
from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs.model import Job, JobState, Stage
from meshy_blender.jobs.store import JobStore, encode
from meshy_blender.jobs.store_writer import StoreWriter

BOUND_S = 10.0


class CountingStore(JobStore):
    """A real store folder that counts its writes."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.writes = 0

    def write_text(self, job_id: str, text: str) -> None:
        super().write_text(job_id, text)
        self.writes += 1


def _job() -> Job:
    return Job(name="chair", kind="text", stages=[Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a chair"})])


def _writer(store: JobStore, job: Job, **options: float) -> StoreWriter:
    return StoreWriter(store, lambda job_id: encode(job) if job_id == job.id else None, **options)


def _on_disk(store: JobStore, job: Job) -> JobState:
    saved = store.read(job.id)
    assert saved is not None
    return saved.state


def _writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "meshy-store-writer"]


def test_a_change_is_written_at_once_and_a_flush_never_waits_out_the_interval(tmp_path: Path) -> None:
    """Not after the interval: a delayed write would land on the pump's next import."""
    job = _job()
    store = CountingStore(tmp_path)
    writer = _writer(store, job, min_interval_s=60.0)
    writer.request(job.id)
    deadline = time.monotonic() + BOUND_S
    while store.read(job.id) is None:  # the first change after a quiet spell: no 60 s wait
        assert time.monotonic() < deadline, "the record was not written"
        time.sleep(0.01)
    job.state = JobState.SUBMITTING
    assert writer.flush(job.id, BOUND_S)  # did not wait out the 60 s before the next write
    assert _on_disk(store, job) is JobState.SUBMITTING
    assert writer.close(BOUND_S)


def test_a_burst_of_changes_is_saved_in_a_few_writes_ending_with_the_last(tmp_path: Path) -> None:
    job = _job()
    store = CountingStore(tmp_path)
    writer = _writer(store, job, min_interval_s=0.2)
    for progress in range(100):
        job.stages[0].progress = progress
        writer.request(job.id)
    job.state = JobState.RUNNING
    writer.request(job.id)
    assert writer.close(BOUND_S)
    assert store.writes < 10
    saved = store.read(job.id)
    assert saved is not None and (saved.state, saved.stages[0].progress) == (JobState.RUNNING, 99)


def test_close_writes_what_is_pending_then_nothing_more(tmp_path: Path) -> None:
    job = _job()
    store = CountingStore(tmp_path)
    writer = _writer(store, job, min_interval_s=60.0)
    job.state = JobState.IMPORTED
    writer.request(job.id)
    assert writer.close(BOUND_S)  # does not wait out the 60 s interval
    assert _on_disk(store, job) is JobState.IMPORTED
    assert not _writer_threads()
    job.state = JobState.FAILED
    writer.request(job.id)
    assert writer.flush(job.id, BOUND_S)
    assert (_on_disk(store, job), store.writes) == (JobState.IMPORTED, 1)


def test_a_writer_asked_for_nothing_starts_no_thread(tmp_path: Path) -> None:
    writer = StoreWriter(JobStore(tmp_path / "jobs"), lambda _job_id: None)
    assert writer.close(BOUND_S)
    assert not _writer_threads()
    assert not (tmp_path / "jobs").exists()


def test_a_refused_write_makes_the_flush_raise_and_later_writes_still_happen(tmp_path: Path) -> None:
    """The flush before a paid create must know the record is not on disk: nothing is sent then."""
    job = _job()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store = JobStore(blocker / "jobs")  # its folder cannot be created
    writer = _writer(store, job)
    with pytest.raises(LocalWriteError, match="not-a-folder"):
        writer.flush(job.id, BOUND_S)
    blocker.unlink()
    job.state = JobState.DONE
    assert writer.flush(job.id, BOUND_S)
    assert _on_disk(store, job) is JobState.DONE
    assert writer.close(BOUND_S)


def test_a_job_changing_while_serialized_is_taken_again(tmp_path: Path) -> None:
    job = _job()
    taken = 0

    def snapshot(job_id: str) -> str:
        nonlocal taken
        taken += 1
        if taken == 1:  # as when a worker adds a file to a job's dict during json.dumps
            raise RuntimeError("dictionary changed size during iteration")
        return encode(job)

    store = JobStore(tmp_path)
    writer = StoreWriter(store, snapshot)
    assert writer.flush(job.id, BOUND_S)
    assert _on_disk(store, job) is JobState.QUEUED
    assert writer.close(BOUND_S)


def test_written_and_dropped_records_are_reported(tmp_path: Path) -> None:
    """The manager lets a finished job go once written, and deletes a forgotten one's record."""
    job = _job()
    written: list[str] = []
    dropped: list[str] = []
    writer = StoreWriter(
        JobStore(tmp_path),
        lambda job_id: encode(job) if job_id == job.id else None,
        on_written=written.append,
        on_dropped=dropped.append,
    )
    assert writer.flush(job.id, BOUND_S)
    assert writer.flush("forgotten", BOUND_S)
    assert (written, dropped) == ([job.id], ["forgotten"])
    assert not writer.pending(job.id)
    assert writer.close(BOUND_S)


def test_a_flushed_record_is_written_ahead_of_the_others_waiting(tmp_path: Path) -> None:
    """A create about to be sent does not wait behind a round of finished jobs' records."""
    jobs = {job.id: job for job in (_job() for _ in range(4))}
    store = CountingStore(tmp_path)
    writer = StoreWriter(store, lambda job_id: encode(jobs[job_id]) if job_id in jobs else None, min_interval_s=60.0)
    first, *waiting, urgent = jobs
    writer.request(first)
    deadline = time.monotonic() + BOUND_S
    while store.read(first) is None:  # written at once; the next writes wait out the 60 s spacing
        assert time.monotonic() < deadline, "the record was not written"
        time.sleep(0.01)
    for job_id in waiting:
        writer.request(job_id)
    jobs[urgent].state = JobState.SUBMITTING
    assert writer.flush(urgent, BOUND_S)
    assert _on_disk(store, jobs[urgent]) is JobState.SUBMITTING
    assert all(writer.pending(job_id) and store.read(job_id) is None for job_id in waiting)
    assert writer.close(BOUND_S)  # closing writes the others without waiting out the spacing
    assert all(store.read(job_id) is not None for job_id in waiting)


class SlowStore(JobStore):
    """A real store folder whose every write takes ``seconds`` more, and which logs their order."""

    def __init__(self, folder: Path, seconds: float) -> None:
        super().__init__(folder)
        self.seconds = seconds
        self.order: list[str] = []

    def write_text(self, job_id: str, text: str) -> None:
        time.sleep(self.seconds)
        super().write_text(job_id, text)
        self.order.append(job_id)


def test_flushes_wait_through_a_slow_disk_and_are_written_in_the_order_asked(tmp_path: Path) -> None:
    """Twelve creates at once on a disk taking 0.1 s a write, each giving up after 0.5 s without one."""
    jobs = {job.id: job for job in (_job() for _ in range(12))}
    store = SlowStore(tmp_path, 0.1)
    writer = StoreWriter(store, lambda job_id: encode(jobs[job_id]) if job_id in jobs else None, min_interval_s=60.0)
    asked: list[str] = []
    results: dict[str, bool] = {}
    lock = threading.Lock()

    def create(job_id: str) -> None:
        with lock:
            asked.append(job_id)
            writer.request(job_id)  # asked in this order: the flush below follows it at once
        results[job_id] = writer.flush(job_id, 0.5)

    threads = []
    for job_id in jobs:  # one after another, so that the order asked is known
        threads.append(threading.Thread(target=create, args=(job_id,)))
        threads[-1].start()
        time.sleep(0.01)
    for thread in threads:
        thread.join(BOUND_S)
    # The last waited ~1.2 s behind the others, more than its 0.5 s bound: the disk kept writing.
    assert results == dict.fromkeys(jobs, True)
    assert all(store.read(job_id) is not None for job_id in jobs)
    assert store.order == asked
    assert writer.close(BOUND_S)


def test_a_flush_gives_up_when_the_disk_writes_nothing_for_its_bound(tmp_path: Path) -> None:
    job = _job()
    store = SlowStore(tmp_path, 1.0)
    writer = _writer(store, job)
    assert writer.flush(job.id, 0.2) is False  # nothing written in 0.2 s: the create is not sent
    assert writer.close(BOUND_S)
    assert store.read(job.id) is not None  # written once the disk answered
