"""A headless run's results held out of the scene while it lasts: the saved file is as if imported normally."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from meshy_blender.blender.scene.held_results import HeldResults
from meshy_blender.blender.scene.importer import import_glb

if TYPE_CHECKING:
    from conftest import GlbAssets

TAGS = {"meshy_kind": "text-to-3d"}


def test_results_stay_out_of_the_scene_until_released_then_land_in_meshy_in_order(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets
) -> None:
    earlier = import_glb(glb_assets.textured, job_id="job-0", display_name="earlier", tags=TAGS)
    held = HeldResults(empty_scene)
    assert "Meshy" not in empty_scene.collection.children  # an earlier run's results leave too
    results = [
        import_glb(path, job_id=f"job-{n}", display_name=name, tags=TAGS, parent=held.root, collection_path=())
        for n, (name, path) in enumerate((("chair", glb_assets.textured), ("hero", glb_assets.rig)), start=1)
    ]
    in_scene = set(empty_scene.objects)
    assert not any(obj in in_scene for result in results for obj in result.objects)
    with held.in_scene():  # what a save in the middle of a run sees
        assert {obj for result in results for obj in result.objects} <= set(empty_scene.objects)
    assert "Meshy" not in empty_scene.collection.children
    held.release()
    meshy = empty_scene.collection.children["Meshy"]
    assert [c.name for c in meshy.children] == ["earlier", "chair", "hero"]
    for result in (earlier, *results):
        assert all(obj.users_collection == (result.collection,) for obj in result.objects)
        assert {obj.type for obj in result.objects} & {"MESH"}
    assert len(empty_scene.collection.objects) == 0, "nothing may stay in the scene's root collection"
    assert {obj.name for obj in empty_scene.objects} >= {"earlier", "chair", "hero"}


def test_a_hold_that_received_nothing_leaves_no_collection(empty_scene: bpy.types.Scene) -> None:
    HeldResults(empty_scene).release()
    assert "Meshy" not in bpy.data.collections
