"""Every finished result lands in the library once, with its thumbnail and maps, and outlives its job.

The texture maps follow the job (fetched once it is offered for import, see ``library/maps.py``):
a test that reads them waits for the manager's map fetcher first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_assets

from meshy_blender.api import glb_safety
from meshy_blender.api.client import MeshyClient
from meshy_blender.api.glb_safety import is_valid_glb
from meshy_blender.blender.cli import command
from meshy_blender.bridge.handover import bridge_job
from meshy_blender.bridge.messages import ReceivedModel
from meshy_blender.jobs import plans
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import Job, JobState
from meshy_blender.jobs.runner import RunSettings
from meshy_blender.jobs.store import JobStore
from meshy_blender.library import Entry, Library, record_result

FAST = RunSettings(poll_interval=0.1, backoff_base=0.05, backoff_max=0.2, task_timeout=30.0)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The sandbox's links to a task's texture maps.
MAP_LINKS = r"/(base_color|metallic|roughness|normal)\.png"
PBR_MAPS = ["base_color", "metallic", "normal", "roughness"]


@pytest.fixture
def make_manager(sandbox, paid_key, tmp_path) -> Iterator:
    managers: list[JobManager] = []

    def make(source: str = "sidebar") -> JobManager:
        manager = JobManager(
            lambda: MeshyClient(paid_key, sandbox.url),
            download_dir=tmp_path / "downloads",
            store=JobStore(tmp_path / "jobs"),
            settings=FAST,
            library=Library(tmp_path / "library"),
            library_source=source,
        )
        managers.append(manager)
        return manager

    sandbox.configure(task_seconds=0.2)
    yield make
    for manager in managers:
        manager.shutdown(2.0)


def _finish(manager: JobManager, job: Job) -> Job:
    job.import_result = False
    manager.submit(job)
    deadline = time.monotonic() + 30
    while not manager.all_final([job.id]):
        assert time.monotonic() < deadline, job.message
        time.sleep(0.05)
    assert job.state is JobState.DONE, job.error
    return job


def _pbr_job(prompt: str) -> Job:
    return plans.text_job(prompt, refine=True, refine_options={"enable_pbr": True})


def _maps_fetched(manager: JobManager) -> None:
    assert manager.maps is not None and manager.maps.wait(30)


def test_a_refined_result_is_kept_with_its_chain_thumbnail_maps_and_credits(make_manager, tmp_path) -> None:
    manager = make_manager()
    job = _finish(manager, _pbr_job("a wooden chair"))
    _maps_fetched(manager)
    entries = Library(tmp_path / "library").entries()  # a fresh reader: what another Blender sees
    assert [entry.id for entry in entries] == [job.final_task_id]
    entry = entries[0]
    assert entry.task_ids == [stage.task_id for stage in job.stages]
    assert (entry.kind, entry.name, entry.prompt, entry.source) == ("text-to-3d", job.name, "a wooden chair", "sidebar")
    assert entry.consumed_credits == job.consumed_credits > 0
    assert entry.options["enable_pbr"] is True
    assert entry.model_path is not None and is_valid_glb(entry.model_path)
    assert entry.thumbnail_path is not None and entry.thumbnail_path.read_bytes().startswith(PNG_MAGIC)
    assert sorted(entry.texture_paths) == PBR_MAPS and entry.textures_pending == []
    assert all(path.read_bytes().startswith(PNG_MAGIC) for path in entry.texture_paths.values())
    assert entry.created_ms <= entry.finished_ms


def test_the_maps_follow_the_job_without_holding_it_up(sandbox, make_manager, tmp_path) -> None:
    sandbox.fault(MAP_LINKS, "delay", seconds=1.0, times=-1)  # four maps: 4 s, one after the other
    manager = make_manager()
    job = _finish(manager, _pbr_job("a brass lamp"))  # done (offered for import) while the maps still come
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None and entry.model_path is not None and entry.thumbnail_path is not None
    assert entry.texture_paths == {} and entry.textures_pending == PBR_MAPS
    _maps_fetched(manager)
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None and sorted(entry.texture_paths) == PBR_MAPS and entry.textures_pending == []
    assert all(path.read_bytes().startswith(PNG_MAGIC) for path in entry.texture_paths.values())


def test_maps_the_disk_refuses_stay_pending_for_the_next_start(sandbox, make_manager, tmp_path) -> None:
    sandbox.fault(MAP_LINKS, "delay", seconds=0.5, times=-1)  # the entry is kept before its maps arrive
    manager = make_manager()
    job = _finish(manager, _pbr_job("a copper pot"))
    textures = tmp_path / "library" / job.final_task_id / "textures"
    textures.write_text("a file where the entry's textures folder goes")  # the disk refuses the folder
    _maps_fetched(manager)
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None and entry.texture_paths == {} and entry.textures_pending == PBR_MAPS
    assert job.state is JobState.DONE  # the job never hears of it

    textures.unlink()
    sandbox.control("DELETE", "faults")
    entry = _after_the_next_start(make_manager, tmp_path, job)
    assert sorted(entry.texture_paths) == PBR_MAPS and entry.textures_pending == []


def _after_the_next_start(make_manager, tmp_path, job: Job) -> Entry:
    """``job``'s entry once a new manager (the next Blender, the next command) started and its maps settled."""
    next_start = make_manager()
    next_start.resume()
    _maps_fetched(next_start)
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None
    return entry


def _left_pending(sandbox, make_manager, tmp_path, prompt: str) -> Job:
    """A result whose maps its process stopped before fetching (each map takes 2 s: the shutdown comes first)."""
    sandbox.fault(MAP_LINKS, "delay", seconds=2.0, times=-1)
    manager = make_manager()
    job = _finish(manager, _pbr_job(prompt))
    assert manager.shutdown(5.0)
    sandbox.control("DELETE", "faults")
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None and entry.texture_paths == {} and entry.textures_pending == PBR_MAPS
    return job


def test_maps_a_stopped_process_left_pending_are_fetched_by_the_next_with_fresh_links(
    sandbox, make_manager, tmp_path
) -> None:
    job = _left_pending(sandbox, make_manager, tmp_path, "an iron kettle")
    asked, creates = len(sandbox.requests()), len(sandbox.creates())
    entry = _after_the_next_start(make_manager, tmp_path, job)
    assert sorted(entry.texture_paths) == PBR_MAPS and entry.textures_pending == []
    later = sandbox.requests()[asked:]
    assert any(r["method"] == "GET" and r["path"].endswith(job.final_task_id) for r in later)  # links asked anew
    assert len(sandbox.creates()) == creates  # nothing made again


def test_maps_of_a_task_meshy_no_longer_keeps_are_given_up(sandbox, paid_key, make_manager, tmp_path) -> None:
    job = _left_pending(sandbox, make_manager, tmp_path, "a tin cup")
    MeshyClient(paid_key, sandbox.url).delete_task(job.stages[-1].kind, job.final_task_id)
    entry = _after_the_next_start(make_manager, tmp_path, job)
    assert entry.texture_paths == {} and entry.textures_pending == []
    assert entry.model_path is not None and is_valid_glb(entry.model_path)  # the rest of the entry stays


def test_a_result_kept_in_the_library_is_found_checked_by_its_import(make_manager, monkeypatch) -> None:
    manager = make_manager()
    job = manager.submit(plans.text_job("a stone bench"))  # to import: its model is checked on the worker
    deadline = time.monotonic() + 30
    while job.state is not JobState.READY:
        assert time.monotonic() < deadline and not job.state.is_final, job.message
        time.sleep(0.05)
    assert Library(manager.library.folder).get(job.final_task_id) is not None  # kept: its model hard-linked
    reads: list[object] = []
    read = glb_safety._read
    monkeypatch.setattr(glb_safety, "_read", lambda *args: reads.append(args) or read(*args))
    glb_safety.check_glb_safe(job.files["model"])  # what the import runs first, on Blender's thread
    assert reads == []  # the file is as it was checked: not read again


def test_the_entry_outlives_its_job(make_manager, tmp_path) -> None:
    manager = make_manager()
    job = _finish(manager, plans.text_job("a lamp"))
    manager.forget(job.id)
    assert manager.shutdown(5.0)  # the writer deletes the record before it stops
    for path in job.files.values():
        Path(path).unlink()
    assert not (tmp_path / "jobs" / f"{job.id}.json").exists()
    entries = Library(tmp_path / "library").entries()
    assert len(entries) == 1 and entries[0].model_path is not None and is_valid_glb(entries[0].model_path)


def test_a_rig_keeps_its_clips_and_a_task_browser_import_of_a_kept_task_adds_nothing(make_manager, tmp_path) -> None:
    manager = make_manager()
    preview = _finish(manager, plans.text_job("a knight"))
    rig = _finish(manager, plans.rig_job(input_task_id=preview.final_task_id))
    library = Library(tmp_path / "library")
    entry = library.get(rig.final_task_id)
    assert entry is not None and entry.kind == "rigging"
    assert preview.final_task_id in entry.task_ids
    assert {"model", "walking", "running"} <= set(entry.files)
    again = _finish(manager, plans.existing_task_job(preview.stages[-1].kind, preview.final_task_id, name="again"))
    assert again.final_task_id == preview.final_task_id
    assert len(library.entries()) == 2


def test_a_task_browser_import_is_recorded_as_such(make_manager, tmp_path) -> None:
    made = _finish(make_manager(source="command"), plans.text_job("a crate"))
    Library(tmp_path / "library").remove(made.final_task_id)
    browser = make_manager()
    _finish(browser, plans.existing_task_job(made.stages[-1].kind, made.final_task_id, name="crate"))
    entry = Library(tmp_path / "library").get(made.final_task_id)
    assert entry is not None and entry.source == "task-browser" and entry.consumed_credits is not None


def test_a_thumbnail_that_cannot_be_fetched_leaves_the_entry_without_one(sandbox, make_manager, tmp_path) -> None:
    sandbox.fault(r"thumbnail\.png", "status", status=404, times=-1)
    job = _finish(make_manager(), plans.text_job("a vase"))
    entry = Library(tmp_path / "library").get(job.final_task_id)
    assert entry is not None and entry.thumbnail_path is None
    assert entry.model_path is not None and is_valid_glb(entry.model_path)


def test_a_bridge_model_is_kept(make_manager, tmp_path) -> None:
    manager = make_manager()
    made = _finish(manager, plans.text_job("a teapot"))
    received = ReceivedModel(id="webapp0001", name="Teapot", path=Path(made.files["model"]))
    manager.add_ready(bridge_job(received))
    entry = Library(tmp_path / "library").get("webapp0001")
    assert entry is not None and (entry.kind, entry.source, entry.name) == ("bridge", "bridge", "Teapot")
    assert entry.model_path is not None and is_valid_glb(entry.model_path)


def test_a_library_that_cannot_be_written_does_not_fail_the_job(make_manager, tmp_path) -> None:
    (tmp_path / "library").write_text("a file where the library's folder should be")
    job = _finish(make_manager(), plans.text_job("a bucket"))
    assert is_valid_glb(Path(job.files["model"]))


def test_concept_pictures_are_kept_once_with_the_first_as_thumbnail(make_manager, tmp_path) -> None:
    manager = make_manager()
    job = _finish(manager, plans.concept_job("a red fox", options={"generate_multi_view": True}))
    library = Library(tmp_path / "library")
    entries = library.entries()
    assert [entry.id for entry in entries] == [job.final_task_id]
    entry = entries[0]
    assert (entry.kind, entry.prompt, entry.is_pictures) == ("text-to-image", "a red fox", True)
    assert entry.model and entry.model == job.stages[0].body["ai_model"]
    assert entry.options["generate_multi_view"] is True
    assert entry.consumed_credits == job.consumed_credits > 0
    assert entry.model_path is None
    pictures = entry.picture_paths
    assert [path.name for path in pictures] == ["picture-1.png", "picture-2.png", "picture-3.png", "picture-4.png"]
    downloaded = [Path(job.files[f"image_{number}"]).read_bytes() for number in range(1, 5)]
    assert [path.read_bytes() for path in pictures] == downloaded
    assert entry.thumbnail_path is not None and entry.thumbnail_path.read_bytes() == downloaded[0]
    again = record_result(library, job, None, source="command")  # kept again (another source): still one entry
    assert again is not None and again.source == "sidebar" and len(Library(tmp_path / "library").entries()) == 1


def test_the_command_lists_kept_pictures_and_refuses_to_import_them(
    make_manager, tmp_path, capfd: pytest.CaptureFixture[str]
) -> None:
    reference = tmp_path / "sketch.png"
    reference.write_bytes(sandbox_assets.png_bytes(32, 32, (10, 120, 200)))
    job = _finish(make_manager(), plans.concept_job("the same fox, in blue", references=[reference]))
    library = ["--library-dir", str(tmp_path / "library")]
    capfd.readouterr()

    assert command.main(["library", "list", "--kind", "image-to-image", "--json", *library]) == 0
    rows = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    (row,) = [row for row in rows if row["event"] == "entry"]
    assert (row["task_id"], row["kind"], row["prompt"], row["model"]) == (
        job.final_task_id, "image-to-image", "the same fox, in blue", None)  # fmt: skip
    assert row["pictures"] and all(Path(path).is_absolute() for path in row["pictures"])
    assert Path(row["pictures"][0]).read_bytes() == Path(job.files["image_1"]).read_bytes()
    assert Path(row["thumbnail"]).read_bytes() == Path(row["pictures"][0]).read_bytes()
    assert command.main(["library", "list", "--kind", "text-to-image", "--json", *library]) == 0
    (summary,) = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert summary["event"] == "library" and summary["count"] == 0

    code = command.main(["library", "import", job.final_task_id, "-o", str(tmp_path / "fox.blend"), *library])
    error = capfd.readouterr().err
    assert code == 2 and "holds concept pictures, not a model" in error
    assert str(Path(row["pictures"][0]).parent) in error
    assert not (tmp_path / "fox.blend").exists()
