"""The library's folder: entries kept whole, once, shared by processes, listed from a cache."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from meshy_blender.api.tasks import TaskKind, parse_task
from meshy_blender.jobs.model import Job, Stage
from meshy_blender.library import Entry, Library, store
from meshy_blender.library.recorder import describe, thumbnail_url

GLB = b"glTF\x02\x00\x00\x00\x0c\x00\x00\x00"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "downloads" / "model.glb"
    path.parent.mkdir()
    path.write_bytes(GLB)
    return path


def entry(entry_id: str, *, kind: str = "text-to-3d", name: str = "", prompt: str = "") -> Entry:
    return Entry(id=entry_id, kind=kind, name=name or f"asset {entry_id}", prompt=prompt)


def _add_many(folder: str, model: str, prefix: str, count: int) -> None:
    library = Library(Path(folder))
    for number in range(count):
        library.add(entry(f"{prefix}{number}"), {"model": Path(model)})


def _remove_many(folder: str, ids: list[str]) -> None:
    library = Library(Path(folder))
    for entry_id in ids:
        assert library.remove(entry_id)


def _in_processes(target: Callable[..., None], calls: list[tuple[object, ...]]) -> None:
    """Run ``target`` once per argument tuple, each in its own process, all at once; each must succeed."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=target, args=args) for args in calls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0


def test_an_entry_is_kept_with_its_files_and_seen_by_a_fresh_reader(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    thumbnail = tmp_path / "thumb.PNG"
    thumbnail.write_bytes(b"\x89PNG\r\n\x1a\n")
    kept = library.add(entry("t1", prompt="a red chair"), {"model": model, "thumbnail": thumbnail})
    assert kept.model_path == tmp_path / "library" / "t1" / "model.glb"
    assert kept.thumbnail_path == tmp_path / "library" / "t1" / "thumbnail.png"
    model.unlink()  # the job's download goes: the library's copy stays
    (seen,) = Library(tmp_path / "library").entries()
    assert seen.id == "t1" and seen.prompt == "a red chair"
    assert seen.model_path is not None and seen.model_path.read_bytes() == GLB


def test_the_same_result_is_kept_once(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    first = library.add(entry("t1", name="first"), {"model": model})
    second = library.add(entry("t1", name="second"), {"model": model})
    assert second.name == first.name == "first"
    assert [kept.name for kept in library.entries()] == ["first"]


def test_find_by_kind_and_text_in_name_or_prompt(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    library.add(entry("a1", prompt="A Wooden Chair"), {"model": model})
    library.add(entry("a2", kind="rigging", prompt="a knight"), {"model": model})
    assert [found.id for found in library.find(search="wooden")] == ["a1"]
    assert [found.id for found in library.find(kind="rigging")] == ["a2"]
    assert [found.id for found in library.find(kind="rigging", search="chair")] == []
    assert {found.id for found in library.find()} == {"a1", "a2"}


def test_remove_deletes_the_record_and_the_files(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    library.add(entry("t1"), {"model": model})
    assert library.remove("t1")
    assert not (tmp_path / "library" / "t1").exists() and library.entries() == ()
    assert not library.remove("t1") and not library.remove("../etc")
    assert model.is_file()  # the source was never the library's to delete


def test_maps_fetched_later_are_placed_once_and_not_into_a_removed_entry(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    pending = entry("t1")
    pending.textures_pending = ["base_color", "normal"]
    library.add(pending, {"model": model})
    maps = {name: tmp_path / f"{name}.png" for name in ("base_color", "normal", "roughness")}
    for name, path in maps.items():
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + name.encode())
    kept = library.add_textures("t1", {"base_color": maps["base_color"]}, settled=["base_color", "normal"])
    assert kept is not None and kept.textures_pending == []  # the normal map could not be fetched: left out
    assert kept.texture_paths == {"base_color": tmp_path / "library" / "t1" / "textures" / "base_color.png"}
    again = library.add_textures("t1", maps, settled=list(maps))  # another process, later: nothing is pending
    assert again is not None and set(again.texture_paths) == {"base_color"}
    (seen,) = Library(tmp_path / "library").entries()
    assert seen.texture_paths["base_color"].read_bytes().endswith(b"base_color") and seen.textures_pending == []
    assert library.remove("t1")
    assert library.add_textures("t1", maps, settled=list(maps)) is None
    assert not (tmp_path / "library" / "t1").exists()


def test_an_unchanged_folder_is_not_read_again_and_a_change_is_seen(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    library.add(entry("t1"), {"model": model})
    old = time.time() - 60
    os.utime(library.folder, (old, old))  # settled: nothing changed for a minute
    listing, version = library.entries(), library.version
    assert library.entries() is listing and library.version == version
    Library(library.folder).add(entry("t2"), {"model": model})  # another process adds one
    assert [kept.id for kept in library.entries()] == ["t2", "t1"] and library.version > version


def test_a_change_the_folder_time_does_not_show_is_seen_within_the_rescan_gap(tmp_path: Path, model: Path) -> None:
    """A file system with a coarse mtime: the folder's time does not move although a record came."""
    library = Library(tmp_path / "library")
    library.add(entry("t1"), {"model": model})
    assert [kept.id for kept in library.entries()] == ["t1"]  # the folder changed just now: not trusted yet
    stamp = os.stat(library.folder).st_mtime_ns
    Library(library.folder).add(entry("t2"), {"model": model})  # another process
    os.utime(library.folder, ns=(stamp, stamp))
    time.sleep(store.RESCAN_GAP_S)
    assert [kept.id for kept in library.entries()] == ["t2", "t1"]
    library.add(entry("t3"), {"model": model})  # this reader's own add is seen at once, whatever the time says
    os.utime(library.folder, ns=(stamp, stamp))
    assert [kept.id for kept in library.entries()] == ["t3", "t2", "t1"]


def test_an_unreadable_record_is_skipped_and_the_others_listed(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    library.add(entry("t1"), {"model": model})
    (library.folder / "broken.json").write_text("{not json")
    (library.folder / "other.json").write_text(
        '{"version": 1, "entry": {"id": "someone-else", "kind": "x", "name": "x"}}'
    )
    assert [kept.id for kept in library.entries()] == ["t1"]


def test_a_folder_left_by_an_add_that_stopped_is_replaced(tmp_path: Path, model: Path) -> None:
    library = Library(tmp_path / "library")
    (library.folder / "t1").mkdir(parents=True)
    (library.folder / "t1" / "model.glb").write_bytes(b"half")
    kept = library.add(entry("t1"), {"model": model})
    assert kept.model_path is not None and kept.model_path.read_bytes() == GLB


def test_two_processes_adding_fifty_entries_each_keep_a_hundred(tmp_path: Path, model: Path) -> None:
    folder = str(tmp_path / "library")
    _in_processes(_add_many, [(folder, str(model), prefix, 50) for prefix in ("a", "b")])
    entries = Library(Path(folder)).entries()
    assert len(entries) == 100
    assert all(kept.model_path is not None and kept.model_path.read_bytes() == GLB for kept in entries)


def test_two_processes_adding_the_same_results_keep_each_once(tmp_path: Path, model: Path) -> None:
    folder = str(tmp_path / "library")
    _in_processes(_add_many, [(folder, str(model), "same", 30)] * 2)
    entries = Library(Path(folder)).entries()
    assert sorted(kept.id for kept in entries) == sorted(f"same{number}" for number in range(30))
    assert not [path for path in Path(folder).iterdir() if path.name.startswith(".removed-")]


def test_listing_while_another_process_removes_sees_only_whole_entries(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "library"
    _add_many(str(folder), str(model), "r", 60)
    reader = Library(folder)
    remover = multiprocessing.get_context("fork").Process(
        target=_remove_many, args=(str(folder), [f"r{number}" for number in range(50)])
    )
    remover.start()
    counts = []
    while remover.is_alive() or not counts:
        listing = reader.entries()
        counts.append(len(listing))
        assert all(kept.id.startswith("r") and kept.files.get("model") == "model.glb" for kept in listing)
    remover.join(60)
    assert remover.exitcode == 0
    assert sorted(kept.id for kept in reader.entries()) == sorted(f"r{number}" for number in range(50, 60))
    assert counts == sorted(counts, reverse=True)  # never an entry back from the dead


def test_describe_keeps_the_chain_prompt_options_and_input_names() -> None:
    preview = Stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": "a lamp", "ai_model": "meshy-5"}, task_id="p1")
    refine = Stage(TaskKind.TEXT_TO_3D, {"mode": "refine", "preview_task_id": "p1", "enable_pbr": True,
                   "texture_image_url": "data:image/png;base64,AAAA"}, link_field="preview_task_id", task_id="r1",
                   consumed_credits=10)  # fmt: skip
    preview.consumed_credits = 20
    job = Job(name="Lamp", kind="text", stages=[preview, refine])
    described = describe(job, None, entry_id="r1", source="command")
    assert described.task_ids == ["p1", "r1"]
    assert (described.prompt, described.model, described.consumed_credits) == ("a lamp", "meshy-5", 30)
    assert described.options == {"mode": "refine", "ai_model": "meshy-5", "enable_pbr": True}
    assert described.input_images == []  # a picture sent inline has no name to keep
    image = Job(name="Cat", kind="image", stages=[Stage(TaskKind.IMAGE_TO_3D, {"image_url": "/home/me/cat.png"})])
    assert describe(image, None, entry_id="x", source="sidebar").input_images == ["cat.png"]


def test_the_thumbnail_is_the_plain_one_then_the_clear_one_then_the_first_view() -> None:
    def task(**fields: object) -> str:
        return thumbnail_url(parse_task(TaskKind.MULTI_IMAGE_TO_3D, {"id": "t", **fields}))

    views = {"multi_view_thumbnail_urls": ["https://a/v1.png", 7, "https://a/v2.png"]}
    assert task(**views) == "https://a/v1.png"
    assert task(alpha_thumbnail_url="https://a/alpha.png", **views) == "https://a/alpha.png"
    assert task(thumbnail_url="https://a/t.png", alpha_thumbnail_url="https://a/alpha.png") == "https://a/t.png"
    assert task(multi_view_thumbnail_urls="nonsense") == ""


def test_a_cold_reader_takes_unchanged_records_from_the_index_and_reads_the_rest(tmp_path: Path, model: Path) -> None:
    folder = tmp_path / "library"
    _add_many(str(folder), str(model), "i", 60)
    assert len(Library(folder).entries()) == 60  # read 60 records: the index is written
    index = json.loads((folder / ".index.json").read_text())
    index["records"]["i1"][2]["name"] = "as the index has it"  # same stamp as its record: taken from the index
    (folder / ".index.json").write_text(json.dumps(index))
    Library(folder).remove("i2")
    Library(folder).add(entry("late"), {"model": model})  # after the index: read from its record
    names = {kept.id: kept.name for kept in Library(folder).entries()}
    assert names["i1"] == "as the index has it" and names["late"] == "asset late"
    assert "i2" not in names and len(names) == 60
    (folder / ".index.json").write_text("[broken")
    assert len(Library(folder).entries()) == 60  # a broken index only costs reading the records
