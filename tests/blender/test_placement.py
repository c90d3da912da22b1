"""Placement of an import in real Blender: at the cursor, on the ground, in place of a proxy, at a height.

Every check is on the result's world-space mesh bounds, read after a depsgraph update.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from glb_edit import rewrite_glb
from mathutils import Euler, Vector

from meshy_blender.blender.scene.importer import ImportResult, import_glb
from meshy_blender.blender.scene.placement import (
    CURSOR,
    GROUND,
    PROXY,
    PROXY_FOR_PROP,
    REPLACED_BY_PROP,
    Placement,
)
from meshy_blender.blender.scene.scene_io import world_bounds

if TYPE_CHECKING:
    from conftest import GlbAssets

CURSOR_AT = Vector((1.5, -2.0, 0.75))
TOLERANCE = 1e-4


def _import(path: Path, placement: Placement, job_id: str = "job-1") -> ImportResult:
    return import_glb(path, job_id=job_id, display_name="chair", tags={}, placement=placement)


def _bounds(result: ImportResult) -> tuple[Vector, Vector]:
    bpy.context.view_layer.update()
    return world_bounds(result.objects)


@pytest.fixture
def centred(glb_assets: GlbAssets, tmp_path: Path) -> Path:
    """The sandbox's vase moved 0.3 m down, so that its origin is not its lowest point (Meshy's "center" origin)."""

    def lower(document: dict[str, Any]) -> None:
        for node in document["nodes"]:
            node["translation"] = [0.0, -0.3, 0.0]  # glTF's Y is Blender's Z

    return rewrite_glb(glb_assets.textured, tmp_path / "centred.glb", lower)


@pytest.fixture
def as_made(empty_scene: bpy.types.Scene, centred: Path) -> tuple[Vector, Vector]:
    """The model's bounds when imported at the world origin, as Meshy made it (then removed)."""
    empty_scene.cursor.location = (0.0, 0.0, 0.0)
    result = _import(centred, Placement())
    low, high = _bounds(result)
    assert low.z < -TOLERANCE < TOLERANCE < high.z, "the test model must reach below its origin"
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.context.scene.cursor.location = CURSOR_AT
    return low, high


def test_at_the_cursor_the_origin_is_there_and_the_size_as_made(as_made: tuple[Vector, Vector], centred: Path) -> None:
    low, high = _bounds(_import(centred, Placement(CURSOR)))

    assert (low - (as_made[0] + CURSOR_AT)).length < TOLERANCE
    assert (high - (as_made[1] + CURSOR_AT)).length < TOLERANCE


def test_on_the_ground_the_lowest_point_is_at_the_cursors_height(as_made: tuple[Vector, Vector], centred: Path) -> None:
    result = _import(centred, Placement(GROUND))
    low, high = _bounds(result)

    assert low.z == pytest.approx(CURSOR_AT.z, abs=TOLERANCE)
    assert (high - low - (as_made[1] - as_made[0])).length < TOLERANCE  # same size
    assert tuple(result.root.location.xy) == pytest.approx(tuple(CURSOR_AT.xy))  # origin above the cursor


@pytest.mark.parametrize("mode", [CURSOR, GROUND])
def test_a_real_world_height_scales_the_result_uniformly(
    as_made: tuple[Vector, Vector], centred: Path, mode: str
) -> None:
    low, high = _bounds(_import(centred, Placement(mode, height=2.5)))

    made = as_made[1] - as_made[0]
    factor = 2.5 / made.z
    assert high.z - low.z == pytest.approx(2.5, abs=TOLERANCE)
    assert high.x - low.x == pytest.approx(made.x * factor, abs=TOLERANCE)
    assert high.y - low.y == pytest.approx(made.y * factor, abs=TOLERANCE)
    if mode == GROUND:
        assert low.z == pytest.approx(CURSOR_AT.z, abs=TOLERANCE)


def test_a_rig_scaled_to_a_height_keeps_its_clips(empty_scene: bpy.types.Scene, glb_assets: GlbAssets) -> None:
    result = import_glb(
        glb_assets.rig,
        job_id="rig-1",
        display_name="knight",
        tags={},
        extra_actions_from=[glb_assets.walking],
        placement=Placement(GROUND, height=1.8),
    )
    low, high = _bounds(result)

    assert high.z - low.z == pytest.approx(1.8, abs=TOLERANCE)
    assert low.z == pytest.approx(0.0, abs=TOLERANCE)
    assert result.armature is not None and result.armature.parent is None
    assert "walking" in result.actions


def _proxy(name: str, location: tuple[float, float, float], size: tuple[float, float, float]) -> bpy.types.Object:
    """A block-out box (its mesh 2 m wide) in a collection "Props", turned 30° about Z."""
    props = bpy.data.collections.get("Props") or bpy.data.collections.new("Props")
    if props.name not in bpy.context.scene.collection.children:
        bpy.context.scene.collection.children.link(props)
    bpy.ops.mesh.primitive_cube_add(size=2.0)
    cube = bpy.context.active_object
    for owner in cube.users_collection:
        owner.objects.unlink(cube)
    props.objects.link(cube)
    cube.name = name
    cube.location = location
    cube.rotation_euler = Euler((0.0, 0.0, math.radians(30.0)))
    cube.scale = (size[0] / 2, size[1] / 2, size[2] / 2)
    bpy.context.view_layer.update()
    return cube


def _in_frame_of(proxy: bpy.types.Object, result: ImportResult) -> tuple[Vector, Vector]:
    """The result's mesh bounds in the proxy's unscaled frame (its location and rotation)."""
    bpy.context.view_layer.update()
    location, rotation, _ = proxy.matrix_world.decompose()
    to_frame = rotation.to_matrix().inverted()
    corners = [
        to_frame @ (obj.matrix_world @ Vector(corner) - location)
        for obj in result.objects
        if obj.type == "MESH"
        for corner in obj.bound_box
    ]
    low = Vector(tuple(min(corner[axis] for corner in corners) for axis in range(3)))
    high = Vector(tuple(max(corner[axis] for corner in corners) for axis in range(3)))
    return low, high


def test_replacing_a_proxy_fits_its_box_turned_as_it_and_in_its_collection(
    as_made: tuple[Vector, Vector], centred: Path
) -> None:
    proxy = _proxy("Chair block-out", (4.0, 5.0, 0.5), (1.0, 2.0, 3.0))  # box from z=-1 to z=2
    proxy[PROXY_FOR_PROP] = "job-1"
    bpy.ops.mesh.primitive_uv_sphere_add()  # the artist selected something else meanwhile

    result = _import(centred, Placement(PROXY))
    low, high = _in_frame_of(proxy, result)

    assert result.replaced == proxy
    made = as_made[1] - as_made[0]
    factor = min(1.0 / made.x, 2.0 / made.y, 3.0 / made.z)
    assert tuple(high - low) == pytest.approx(tuple(made * factor), abs=TOLERANCE)  # uniform, fits the box
    assert any(abs((high - low)[axis] - (1.0, 2.0, 3.0)[axis]) < TOLERANCE for axis in range(3))  # as large as fits
    assert low.z == pytest.approx(-1.5, abs=TOLERANCE)  # standing on the box's bottom face
    assert ((low.x + high.x) / 2, (low.y + high.y) / 2) == pytest.approx((0.0, 0.0), abs=TOLERANCE)  # centred
    assert list(bpy.data.collections["Props"].children) == [result.collection]
    assert proxy.name in bpy.data.objects, "the proxy is hidden, not deleted"
    assert proxy.hide_get() and proxy.hide_render
    assert proxy[REPLACED_BY_PROP] == "job-1" and PROXY_FOR_PROP not in proxy


def test_replacing_the_selected_proxy_with_a_height_takes_that_height(
    as_made: tuple[Vector, Vector], centred: Path
) -> None:
    proxy = _proxy("Stand-in", (-3.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # selected and active, tagged for no job

    result = _import(centred, Placement(PROXY, height=0.4))
    low, high = _in_frame_of(proxy, result)

    assert result.replaced == proxy
    assert high.z - low.z == pytest.approx(0.4, abs=TOLERANCE)
    assert low.z == pytest.approx(-0.5, abs=TOLERANCE)  # the 1 m box's bottom face


def test_without_a_proxy_the_result_lands_at_the_cursor(as_made: tuple[Vector, Vector], centred: Path) -> None:
    result = _import(centred, Placement(PROXY))
    low, _ = _bounds(result)

    assert result.replaced is None
    assert (low - (as_made[0] + CURSOR_AT)).length < TOLERANCE
