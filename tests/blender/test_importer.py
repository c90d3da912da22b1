"""Importing Meshy GLBs into real Blender: where the result lands and what it carries."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import addon_utils
import bpy
import pytest
from glb_edit import rewrite_glb
from mathutils import Vector

from meshy_blender.blender.scene.gltf_log import GLTF_LOGGER, progress_held_back
from meshy_blender.blender.scene.importer import ImportFailedError, ImportResult, find_imported, import_glb

if TYPE_CHECKING:
    from conftest import GlbAssets

TAGS = {"meshy_task_id": "task-123", "meshy_kind": "text-to-3d", "meshy_prompt": "a wooden chair"}
CURSOR = (1.5, -2.0, 0.25)

# Data kinds whose growth means something was left behind.
DATA_KINDS = ("objects", "meshes", "materials", "images", "armatures", "actions", "collections")


def _import(path: Path, name: str = "chair", job_id: str = "job-1", **options: Any) -> ImportResult:
    return import_glb(path, job_id=job_id, display_name=name, tags=TAGS, **options)


def _counts() -> dict[str, int]:
    return {kind: len(getattr(bpy.data, kind)) for kind in DATA_KINDS}


def test_model_lands_in_its_own_collection_at_the_cursor(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    empty_scene.cursor.location = CURSOR

    result = _import(glb_assets.textured)

    meshy = empty_scene.collection.children["Meshy"]
    assert result.collection.name == "chair"
    assert list(meshy.children) == [result.collection]
    assert set(result.collection.objects) == set(result.objects)
    assert len(empty_scene.collection.objects) == 0, "nothing may stay in the scene's root collection"
    assert result.root.name == "chair"
    assert result.root.matrix_world.translation == Vector(CURSOR)
    for obj in result.objects:
        assert obj["meshy_job_id"] == "job-1"
        assert obj["meshy_task_id"] == "task-123"
        assert obj["meshy_kind"] == "text-to-3d"
        assert obj["meshy_prompt"] == "a wooden chair"
    assert set(bpy.context.selected_objects) == set(result.objects)
    assert bpy.context.view_layer.objects.active == result.root
    assert set(find_imported("job-1")) == set(result.objects)
    assert find_imported("another-job") == []


def test_pbr_model_has_every_map_wired_and_packed(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    download = tmp_path / "download.glb"
    download.write_bytes(glb_assets.textured.read_bytes())

    result = _import(download)
    download.unlink()  # the add-on deletes its downloads; the textures must not go with them

    assert result.materials.missing(pbr=True) == []
    [material] = result.materials.materials
    assert material.textured == {"base_color", "metallic", "roughness", "normal"}
    images = [img for img in bpy.data.images if img.users]
    assert len(images) == 3
    assert all(img.packed_file is not None for img in images)


def test_base_color_only_model_reports_the_missing_pbr_maps(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets
) -> None:
    result = _import(glb_assets.base_color_only)

    assert result.materials.missing(pbr=False) == []
    [material] = result.materials.materials
    assert result.materials.missing(pbr=True) == [
        f"{material.name}: metallic",
        f"{material.name}: roughness",
        f"{material.name}: normal",
    ]


def test_rig_keeps_walking_and_running_clips_and_nothing_else(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    result = _import(glb_assets.rig, name="hero", extra_actions_from=[glb_assets.walking, glb_assets.running])

    armature = result.armature
    assert armature is not None and armature is result.root and armature.name == "hero"
    assert len(armature.data.bones) > 1
    [mesh] = [obj for obj in result.objects if obj.type == "MESH"]
    assert any(mod.type == "ARMATURE" and mod.object == armature for mod in mesh.modifiers)
    assert {group.name for group in mesh.vertex_groups} <= {bone.name for bone in armature.data.bones}
    assert result.actions == ["walking", "running"]
    assert armature.animation_data.action.name == "walking"
    # The animation files' own character objects, meshes and materials are gone.
    assert set(bpy.data.objects) == set(result.objects)
    assert list(bpy.data.meshes) == [mesh.data]
    assert len(bpy.data.materials) == 1 and len(bpy.data.armatures) == 1
    assert all(img.users for img in bpy.data.images)

    saved = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(saved))
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.ops.wm.open_mainfile(filepath=str(saved))
    assert {"walking", "running"} <= set(bpy.data.actions.keys())
    assert bpy.data.objects["hero"].animation_data.action.name == "walking"


def test_clip_on_the_model_itself_is_kept(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    result = _import(glb_assets.walking, name="walker")

    assert result.actions == ["walking"]
    assert result.armature is not None
    assert result.armature.animation_data.action.name == "walking"
    assert bpy.data.actions["walking"].use_fake_user


def test_two_imports_with_the_same_name_do_not_collide(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    first = _import(glb_assets.textured, job_id="job-1")
    second = _import(glb_assets.textured, job_id="job-2")

    assert [c.name for c in empty_scene.collection.children] == ["Meshy"]
    assert {first.collection.name, second.collection.name} == {"chair", "chair.001"}
    assert {first.root.name, second.root.name} == {"chair", "chair.001"}
    assert set(first.objects).isdisjoint(second.objects)
    assert set(find_imported("job-1")) == set(first.objects)
    assert set(find_imported("job-2")) == set(second.objects)
    assert set(bpy.context.selected_objects) == set(second.objects)


def test_the_users_active_collection_stays_active_and_untouched(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets
) -> None:
    props = bpy.data.collections.new("Props")
    empty_scene.collection.children.link(props)
    view_layer = bpy.context.view_layer
    view_layer.active_layer_collection = view_layer.layer_collection.children["Props"]

    result = _import(glb_assets.rig, extra_actions_from=[glb_assets.walking])

    assert view_layer.active_layer_collection.collection == props
    assert len(props.objects) == 0
    assert all(obj.users_collection == (result.collection,) for obj in result.objects)


@pytest.mark.parametrize("hidden_by", ["exclude", "hide_viewport"])
def test_import_into_an_excluded_or_hidden_meshy_collection_still_lands_there(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, hidden_by: str
) -> None:
    """The user switched the Meshy collection off: the rig still imports, into it, and it stays off."""
    _import(glb_assets.textured, job_id="job-1")
    meshy_layer = bpy.context.view_layer.layer_collection.children["Meshy"]
    setattr(meshy_layer, hidden_by, True)

    result = _import(glb_assets.rig, job_id="job-2", extra_actions_from=[glb_assets.walking])

    assert result.armature is not None and "walking" in result.actions
    assert all(obj.users_collection == (result.collection,) for obj in result.objects)
    assert result.collection in list(empty_scene.collection.children["Meshy"].children)
    assert getattr(meshy_layer, hidden_by) is True
    assert len(empty_scene.collection.objects) == 0


def test_each_scene_gets_one_meshy_collection(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    _import(glb_assets.textured, job_id="job-1")
    other = bpy.data.scenes.new("Other")
    bpy.context.window.scene = other

    second = _import(glb_assets.textured, job_id="job-2")
    third = _import(glb_assets.textured, job_id="job-3")

    assert len(other.collection.children) == 1
    [meshy] = other.collection.children
    assert set(meshy.children) == {second.collection, third.collection}
    assert [c.name for c in empty_scene.collection.children] == ["Meshy"]
    assert len(empty_scene.collection.children["Meshy"].children) == 1


def test_roots_move_together_to_the_given_location(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    def add_second_root(document: dict[str, Any]) -> None:
        document["nodes"].append({"name": "Twin", "mesh": 0, "translation": [2.0, 0.0, 0.0]})
        document["scenes"][document.get("scene", 0)]["nodes"].append(len(document["nodes"]) - 1)

    two_roots = rewrite_glb(glb_assets.textured, tmp_path / "two.glb", add_second_root)
    empty_scene.cursor.location = CURSOR

    result = _import(two_roots, location=(10.0, 0.0, 0.0))

    xs = sorted(obj.matrix_world.translation.x for obj in result.objects)
    assert xs == pytest.approx([10.0, 12.0])  # the file's origin at the location, the 2 m offset kept
    assert all(obj.matrix_world.translation.yz.length < 1e-6 for obj in result.objects)


def test_long_multiline_name_becomes_a_short_single_line(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    prompt = "  a weathered\nbronze statue of a lion " + "très détaillé " * 10

    result = _import(glb_assets.textured, name=prompt)

    name = result.root.name
    assert len(name.encode()) <= 63
    assert name.startswith("a weathered bronze statue of a lion très")
    assert "\n" not in name and name == name.strip()


def test_import_while_another_object_is_in_edit_mode(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    bpy.ops.mesh.primitive_cube_add()
    bpy.ops.object.mode_set(mode="EDIT")

    result = _import(glb_assets.textured)

    assert bpy.context.mode == "OBJECT"
    assert result.root.name == "chair"
    assert bpy.context.view_layer.objects.active == result.root
    assert not bpy.data.objects["Cube"].select_get()


def _truncated(glb: Path, target: Path) -> Path:
    target.write_bytes(glb.read_bytes()[:5000])
    return target


def _not_a_glb(glb: Path, target: Path) -> Path:
    target.write_bytes(b"<html>AccessDenied</html>")
    return target


def _broken_animation(glb: Path, target: Path) -> Path:
    # Valid up to the animation, which the importer builds after the objects and meshes.
    def break_sampler(document: dict[str, Any]) -> None:
        document["animations"][0]["samplers"][0]["output"] = 9999

    return rewrite_glb(glb, target, break_sampler)


@pytest.mark.parametrize("corrupt", [_truncated, _not_a_glb, _broken_animation])
def test_corrupt_file_raises_and_leaves_nothing(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path, corrupt: Callable[[Path, Path], Path]
) -> None:
    bad = corrupt(glb_assets.walking, tmp_path / "model.glb")
    before = _counts()

    with pytest.raises(ImportFailedError, match=r"model\.glb") as caught:
        _import(bad)

    assert caught.value.exit_code == 4
    assert "\n" not in str(caught.value)
    assert _counts() == before


def test_bad_animation_file_undoes_the_whole_import(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    before = _counts()

    with pytest.raises(ImportFailedError, match="no armature animation"):
        _import(glb_assets.rig, extra_actions_from=[glb_assets.walking, glb_assets.textured])

    assert _counts() == before
    assert "Meshy" not in bpy.data.collections


GLTF_PROGRESS = ("Data are loaded", "glTF import finished")


def test_the_gltf_importers_progress_lines_stay_out_of_the_console(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, capfd: pytest.CaptureFixture[str]
) -> None:
    """Three INFO lines per import: 3,000 in the log of a 1,000-asset batch."""
    result = _import(glb_assets.textured)

    printed = "".join(capfd.readouterr())
    assert result.objects
    assert not [line for line in GLTF_PROGRESS if line in printed], printed


def test_the_gltf_add_ons_warnings_still_reach_the_console(capfd: pytest.CaptureFixture[str]) -> None:
    """Its warnings (an animation target it does not support…) need hand-made files: one is logged as it logs them."""
    logger = logging.getLogger(GLTF_LOGGER)
    handler = logging.StreamHandler(sys.stdout)  # the add-on attaches one like it for each call
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with progress_held_back():
            logger.info("Blender create Mesh node Vase")
            logger.warning("UV map is ignored")
    finally:
        logger.removeHandler(handler)

    printed = capfd.readouterr().out
    assert "UV map is ignored" in printed
    assert "create Mesh node" not in printed


def test_with_blenders_debug_value_set_the_gltf_importer_says_everything(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, capfd: pytest.CaptureFixture[str]
) -> None:
    bpy.app.debug_value = 4  # the glTF add-on's "debug" level
    try:
        _import(glb_assets.textured)
    finally:
        bpy.app.debug_value = 0

    printed = "".join(capfd.readouterr())
    assert all(line in printed for line in GLTF_PROGRESS), printed


def test_missing_gltf_addon_is_reported(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    addon_utils.disable("io_scene_gltf2")
    try:
        with pytest.raises(ImportFailedError, match=r"enable the 'glTF 2\.0 format' add-on"):
            _import(glb_assets.textured)
    finally:
        addon_utils.enable("io_scene_gltf2")
    assert len(bpy.data.objects) == 0


def test_import_works_through_bpy_ops_when_blenders_private_operator_call_is_gone(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Operators are called through ``_bpy.ops`` (no extra depsgraph update); a Blender without it still works."""
    from meshy_blender.blender.scene import importer

    monkeypatch.setattr(importer, "_operators", None)

    result = _import(glb_assets.rig, extra_actions_from=[glb_assets.walking, glb_assets.running])

    assert result.actions == ["walking", "running"]
    assert all(obj.users_collection == (result.collection,) for obj in result.objects)
    assert set(bpy.data.objects) == set(result.objects)
