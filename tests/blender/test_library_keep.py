"""In real Blender: the pump writes each result's library .blend when it is idle, and none is lost or written twice.

Jobs arrive already downloaded (nothing listens at the server address) with their
library entry kept, as a worker leaves them; the add-on is enabled, so its ``load_pre``
handler is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
import sandbox_assets
from sandbox_control import PAID_KEY, closed_port

if TYPE_CHECKING:
    from addon_env import AddonEnv
    from conftest import GlbAssets

pytest_plugins = ["addon_env"]


@dataclass
class Shelf:
    """The add-on's live manager with its library, and what the tests need of its modules."""

    env: AddonEnv
    manager: Any
    library: Any
    model: Path
    thumbnail: Path

    @property
    def pump(self) -> Any:
        return self.env.module("blender.pump")

    @property
    def queue(self) -> Any:
        return self.env.module("blender.scene.library_keep")

    def ready(self, name: str) -> Any:
        """A downloaded job offered for import, its result kept in the library (by the job's id)."""
        job = self.env.module("jobs.plans").text_job(name)
        job.state = self.env.module("jobs.model").JobState.READY
        job.files = {"model": str(self.model)}
        entry = self.env.module("library").Entry(id=job.id, kind="text-to-3d", name=name, prompt=name)
        self.library.add(entry, {"model": self.model, "thumbnail": self.thumbnail})
        self.manager.add_ready(job)
        return job

    def import_now(self, name: str) -> Any:
        """Import one job as the pump does, without the pump's idle time after it: its write stays queued."""
        job = self.ready(name)
        assert self.manager.take_ready() is job
        self.pump.import_job(self.manager, job)
        assert job.state.value == "imported", job.message
        return job

    def blend(self, job: Any) -> Path:
        entry = self.library.get(job.id)
        assert entry is not None
        return Path(self.env.module("blender.scene.library_blend").blend_path(entry))

    def imported(self, job: Any) -> list[bpy.types.Object]:
        return list(self.env.module("blender.scene.importer").find_imported(job.id))


@pytest.fixture
def shelf(meshy: AddonEnv, tmp_path: Path, glb_assets: GlbAssets) -> Iterator[Shelf]:
    session = meshy.module("blender.session")
    config = session.Config(
        api_key=PAID_KEY,
        base_url=f"http://127.0.0.1:{closed_port()}",
        download_dir=tmp_path / "downloads",
        jobs_dir=tmp_path / "jobs",
        library_dir=tmp_path / "library",
    )
    manager = session.configure(config)
    thumbnail = tmp_path / "thumbnail.png"
    thumbnail.write_bytes(sandbox_assets.png_bytes(64, 64, (176, 118, 72)))
    yield Shelf(meshy, manager, manager.library, glb_assets.textured, thumbnail)
    meshy.module("blender.scene.library_keep").flush()  # nothing queued leaks into the next test


def assets_in(blend: Path) -> list[str]:
    with bpy.data.libraries.load(str(blend), assets_only=True) as (kept, _):
        return list(kept.objects)


def test_a_headless_run_leaves_every_result_with_its_library_blend(shelf: Shelf) -> None:
    jobs = [shelf.ready(f"oak stool {index}") for index in range(3)]

    assert shelf.pump.run_until(lambda: all(job.state.value == "imported" for job in jobs), timeout=30)

    for job in jobs:
        (stool,) = shelf.imported(job)
        assert assets_in(shelf.blend(job)) == [stool.name]
    assert shelf.queue.pending() == 0


def test_a_burst_of_results_is_imported_before_any_library_blend_is_written(shelf: Shelf) -> None:
    jobs = [shelf.ready(f"oak stool {index}") for index in range(3)]
    written_at_each_import: list[int] = []

    def imported(_job: Any, _result: Any) -> None:
        written_at_each_import.append(sum(shelf.blend(job).is_file() for job in jobs))

    shelf.pump.import_listeners.append(imported)
    try:
        shelf.pump.tick(None, evaluate=False)
    finally:
        shelf.pump.import_listeners.remove(imported)

    assert written_at_each_import == [0, 0, 0]  # the ready jobs first
    assert all(shelf.blend(job).is_file() for job in jobs)  # then, no job waiting, the writes


def test_the_timer_writes_queued_blends_in_its_next_turns_and_comes_back_at_once_meanwhile(shelf: Shelf) -> None:
    jobs = [shelf.import_now(f"oak stool {index}") for index in range(3)]
    intervals = []
    while shelf.queue.pending() and len(intervals) < 10:
        intervals.append(shelf.pump.timer())

    assert all(shelf.blend(job).is_file() for job in jobs)
    assert intervals[:-1] == [shelf.pump.BACKLOG_INTERVAL] * (len(intervals) - 1)  # more to write: back at once


def test_loading_another_file_writes_the_queued_blends_first_and_skips_deleted_results(shelf: Shelf) -> None:
    stool_job, bench_job = shelf.import_now("oak stool"), shelf.import_now("pine bench")
    (stool,) = shelf.imported(stool_job)
    name = stool.name
    bpy.data.objects.remove(shelf.imported(bench_job)[0])  # deleted before its turn
    assert shelf.queue.pending() == 2 and not shelf.blend(stool_job).exists()

    bpy.ops.wm.read_homefile(use_empty=True)

    assert assets_in(shelf.blend(stool_job)) == [name]
    assert not shelf.blend(bench_job).exists()
    assert shelf.queue.pending() == 0


def test_a_result_deleted_before_its_turn_gets_its_blend_when_imported_again(shelf: Shelf) -> None:
    job = shelf.import_now("oak stool")
    bpy.data.objects.remove(shelf.imported(job)[0])
    shelf.queue.flush()
    assert not shelf.blend(job).exists()

    job.state = shelf.env.module("jobs.model").JobState.READY
    shelf.manager.add_ready(job)  # offered again ("Import here")
    assert shelf.pump.run_until(lambda: job.state.value == "imported", timeout=30)

    (again,) = shelf.imported(job)
    assert assets_in(shelf.blend(job)) == [again.name]


def test_a_renamed_result_is_written_under_its_new_name(shelf: Shelf) -> None:
    job = shelf.import_now("oak stool")
    (stool,) = shelf.imported(job)
    stool.name = "my stool"

    shelf.queue.flush()

    assert assets_in(shelf.blend(job)) == ["my stool"]


def test_a_result_queued_twice_is_written_once_and_never_rewritten(shelf: Shelf) -> None:
    job = shelf.import_now("oak stool")
    (stool,) = shelf.imported(job)
    entry = shelf.library.get(job.id)
    shelf.queue.defer(shelf.library, entry, stool)  # imported again before its turn

    assert shelf.queue.pending() == 1
    shelf.queue.flush()
    written = shelf.blend(job).stat()
    shelf.queue.defer(shelf.library, entry, stool)  # and once more, after its .blend was written
    shelf.queue.flush()

    again = shelf.blend(job).stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # replaced files get a new inode
    assert [path.name for path in shelf.blend(job).parent.glob("*.blend")] == [shelf.blend(job).name]
