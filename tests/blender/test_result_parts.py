"""In real Blender: a run's results written to part files, linked only while saving, taken over by the next run.

The end-to-end runs are in ``tests/e2e/test_cli_batch_parts.py``; here the cases a short
batch does not reach: a run stopped after writing a part but before its next save (its file
still holds copies of the part's results), and the parts leaving the file between saves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from meshy_blender.blender.scene import importer, scene_io
from meshy_blender.blender.scene.held_results import HeldResults
from meshy_blender.blender.scene.result_parts import ResultParts, part_paths

if TYPE_CHECKING:
    from conftest import GlbAssets


def import_results(parts: ResultParts, model: Path, names: list[str]) -> None:
    for name in names:
        result = importer.import_glb(
            model, job_id=f"job-{name}", display_name=name, tags={"meshy_name": name}, evaluate=False,
            parent=parts.root, collection_path=(),
        )  # fmt: skip
        parts.add(result.collection, result.actions)
        parts.write_due()  # as the run does between pump steps


def new_run(scene: bpy.types.Scene, blend: Path, size: int) -> ResultParts:
    """What a run of a batch saved as ``blend`` starts with: its results held out of ``scene``, parts of ``size``."""
    return ResultParts(blend, size, HeldResults(scene))


def next_run(blend: Path, size: int) -> ResultParts:
    """The next run of the batch: its file opened, its results held, the earlier parts taken over."""
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    assert scene is not None
    parts = new_run(scene, blend, size)
    parts.take_over_earlier()
    return parts


def linked_into_a_new_file(part: Path) -> Any:
    """What ``part`` holds (data-block names by kind), its collections and clips linked into a new empty file."""
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    libraries: Any = bpy.data.libraries
    with libraries.load(str(part), link=True) as (written, linked):
        linked.actions = list(written.actions)
        linked.collections = list(written.collections)
    return written


def meshy_objects() -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in bpy.data.objects:
        if obj.get("meshy_name"):
            counts[str(obj["meshy_name"])] = counts.get(str(obj["meshy_name"]), 0) + 1
    return counts


def test_a_part_leaves_the_file_and_comes_back_only_while_saving(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 2)
    import_results(parts, glb_assets.textured, ["a", "b", "c"])

    assert part_paths(blend) == [tmp_path / "parts" / "batch-part-001.blend"]
    assert meshy_objects() == {"c": 1}  # a and b live in the part now
    assert not bpy.data.libraries
    parts.save(blend, layout=True)
    assert not bpy.data.libraries  # linked for the save only: the next imports stay cheap
    assert meshy_objects() == {"c": 1}

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1}
    assert [library.filepath for library in bpy.data.libraries] == ["//parts/batch-part-001.blend"]
    linked = {obj["meshy_name"] for obj in bpy.data.objects if obj.library is not None}
    assert linked == {"a", "b"}


def test_the_next_run_drops_copies_its_last_save_kept_of_a_parts_results(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 3)
    import_results(parts, glb_assets.textured, ["a", "b"])
    parts.save(blend, layout=True)  # the checkpoint holds a and b itself
    import_results(parts, glb_assets.textured, ["c"])  # the part (a, b, c) is written; then the run stops
    assert meshy_objects() == {}

    parts = next_run(blend, 3)  # the next run opens the checkpoint
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1}  # the part's, linked; the stale copies are gone
    assert all(obj.library is not None for obj in bpy.data.objects if obj.get("meshy_name"))
    assert not [mesh for mesh in bpy.data.meshes if mesh.library is None and mesh.users == 0]
    assert importer.find_imported("job-a")  # so a job of the part counts as imported
    parts.unlink()
    assert meshy_objects() == {} and not bpy.data.libraries

    import_results(parts, glb_assets.textured, ["d"])
    parts.save(blend, layout=True)
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1, "d": 1}
    boxes = {str(obj["meshy_name"]): scene_io.world_bounds([obj]) for obj in bpy.data.objects if obj.get("meshy_name")}
    assert boxes["d"][0].x > max(high.x for low, high in (boxes[name] for name in "abc"))  # the next block


def test_a_part_takes_the_results_a_resumed_file_held_and_leaves_no_copy(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 3)
    import_results(parts, glb_assets.textured, ["a", "b"])
    parts.save(blend, layout=True)  # a checkpoint with no part yet; then the run stops

    parts = next_run(blend, 3)
    import_results(parts, glb_assets.textured, ["c", "d", "e"])  # a part of three: a and b from the file, c
    assert meshy_objects() == {"d": 1, "e": 1}
    assert [mesh.users for mesh in bpy.data.meshes if mesh.library is None] == [1, 1]  # the part's data went with it
    assert not [image for image in bpy.data.images if image.library is None and image.users == 0]
    parts.save(blend, layout=True)

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    assert len(bpy.data.libraries) == 1


def test_a_part_written_while_earlier_parts_are_linked_holds_only_its_own_results(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 2)
    import_results(parts, glb_assets.textured, ["a", "b", "c"])
    parts.save(blend, layout=True)  # part 1 (a, b) linked in the file, c its own

    parts = next_run(blend, 2)  # part 1 stays linked until earlier results were looked for
    import_results(parts, glb_assets.textured, ["d", "e"])  # part 2 (c, d), written meanwhile; e stays
    parts.unlink()
    parts.save(blend, layout=True)  # links both parts: part 2 must not bring part 1's results again

    written = linked_into_a_new_file(parts.paths[1])
    assert sorted(written.collections) == ["Meshy", "c", "d"]
    assert [library.name for library in bpy.data.libraries] == ["batch-part-002.blend"]  # no link to part 1

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}


def test_parts_hold_the_oldest_results_n_at_a_time_each_with_its_own_clips(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 2)
    for name, model in (("a", glb_assets.walking), ("b", glb_assets.textured), ("c", glb_assets.running)):
        result = importer.import_glb(
            model, job_id=f"job-{name}", display_name=name, tags={"meshy_name": name}, evaluate=False,
            parent=parts.root, collection_path=(),
        )  # fmt: skip
        parts.add(result.collection, result.actions)
    assert part_paths(blend) == []  # an import never writes a part: the run does, between pump steps

    parts.write_due()
    assert part_paths(blend) == [tmp_path / "parts" / "batch-part-001.blend"]  # a and b; c waits for the next
    assert meshy_objects() == {"c": 2}  # its armature and mesh
    assert [action.name for action in bpy.data.actions] == ["running"]  # a's clip left with it, c's stays
    parts.write_due()
    assert len(part_paths(blend)) == 1  # one result is not a part

    written = linked_into_a_new_file(part_paths(blend)[0])
    assert sorted(written.collections) == ["Meshy", "a", "b"]
    assert written.actions == ["walking"]


def test_a_checkpoint_leaves_the_parts_out_and_the_next_run_takes_them_over(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    """Linking every part at each checkpoint read them all (seconds with nine); only the run's last save links them."""
    blend = tmp_path / "batch.blend"
    parts = new_run(empty_scene, blend, 2)
    import_results(parts, glb_assets.textured, ["a", "b", "c"])
    parts.save(blend, layout=True, parts=False)  # a checkpoint; then the run stops

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"c": 1} and not bpy.data.libraries  # the part is not in the checkpoint
    parts = next_run(blend, 2)
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1}  # the next run links it first: a and b count as imported
    parts.unlink()
    parts.save(blend, layout=True)  # the last save links it
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert meshy_objects() == {"a": 1, "b": 1, "c": 1}
    assert [library.filepath for library in bpy.data.libraries] == ["//parts/batch-part-001.blend"]
