"""Exporting the user's meshes as the GLB sent to Meshy (rigging, retexturing), in real Blender."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import bpy
import pytest

from meshy_blender.api.errors import ValidationError
from meshy_blender.blender.scene.exporter import count_faces, export_selection_glb
from meshy_blender.blender.scene.importer import import_glb

if TYPE_CHECKING:
    from conftest import GlbAssets


def _reimport(data: bytes, tmp_path: Path) -> list[bpy.types.Object]:
    path = tmp_path / "exported.glb"
    path.write_bytes(data)
    return import_glb(path, job_id="reimport", display_name="reimported", tags={}).objects


def test_cube_round_trip_keeps_its_faces_and_the_selection(empty_scene: bpy.types.Scene, tmp_path: Path) -> None:
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.object
    bpy.ops.object.camera_add()
    camera = bpy.context.object  # selected and active: the user's state to restore

    data = export_selection_glb([cube])

    assert data[:4] == b"glTF"
    assert bpy.context.selected_objects == [camera]
    assert bpy.context.view_layer.objects.active == camera
    assert count_faces([cube]) == 12  # six quads, sent as triangles
    assert count_faces(_reimport(data, tmp_path)) == 12


def test_the_gltf_exporters_progress_lines_stay_out_of_the_console(
    empty_scene: bpy.types.Scene, capfd: pytest.CaptureFixture[str]
) -> None:
    bpy.ops.mesh.primitive_cube_add()

    data = export_selection_glb([bpy.context.object])

    printed = "".join(capfd.readouterr())
    assert data[:4] == b"glTF"
    assert "glTF 2.0 export" not in printed, printed  # "Starting …", "Finished … in 0.01 s"


def test_modifiers_are_applied_and_counted(empty_scene: bpy.types.Scene, tmp_path: Path) -> None:
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.object
    cube.modifiers.new("Subdivision", "SUBSURF").levels = 1

    data = export_selection_glb([cube])

    assert count_faces([cube]) == 48
    assert count_faces(_reimport(data, tmp_path)) == 48


def test_materials_and_uvs_survive_the_export(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    model = import_glb(glb_assets.textured, job_id="job-1", display_name="vase", tags={})

    data = export_selection_glb(model.objects, purpose="retexture")

    [mesh] = [obj for obj in _reimport(data, tmp_path) if obj.type == "MESH"]
    assert len(mesh.data.uv_layers) == 1
    assert count_faces([mesh]) == count_faces(model.objects)
    reimported = import_glb(tmp_path / "exported.glb", job_id="again", display_name="again", tags={})
    assert reimported.materials.missing(pbr=True) == []


def test_export_from_edit_mode_includes_the_unsaved_edit(empty_scene: bpy.types.Scene, tmp_path: Path) -> None:
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.object
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="SELECT")
    bpy.ops.mesh.subdivide()  # 24 quads, only in the edit mesh so far

    data = export_selection_glb([cube])

    assert count_faces(_reimport(data, tmp_path)) == 48


def _refusal(objects: list[bpy.types.Object], purpose: str = "rig") -> str:
    """The message of the ValidationError that exporting ``objects`` raises."""
    with pytest.raises(ValidationError) as caught:
        export_selection_glb(objects, purpose=purpose)
    assert caught.value.exit_code == 2  # bad input, nothing sent
    return str(caught.value)


def test_nothing_selected_is_refused(empty_scene: bpy.types.Scene) -> None:
    assert _refusal([]) == "Nothing is selected: select a mesh to rig"


def test_camera_is_refused_by_name(empty_scene: bpy.types.Scene) -> None:
    bpy.ops.mesh.primitive_cube_add()
    bpy.ops.object.camera_add()
    selection = [bpy.data.objects["Cube"], bpy.data.objects["Camera"]]

    assert _refusal(selection) == "'Camera' is a camera, not a mesh: select a mesh to rig"


def test_empty_object_message_uses_its_article(empty_scene: bpy.types.Scene) -> None:
    bpy.ops.object.empty_add()

    assert _refusal([bpy.context.object], "retexture") == "'Empty' is an empty, not a mesh: select a mesh to retexture"


def test_mesh_without_faces_is_refused(empty_scene: bpy.types.Scene) -> None:
    mesh = bpy.data.meshes.new("Points")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [(0, 1), (1, 2)], [])
    points = bpy.data.objects.new("Points", mesh)
    empty_scene.collection.objects.link(points)

    assert _refusal([points]) == "'Points' has no faces: select a mesh with faces to rig"


def test_count_faces_sums_triangles_of_meshes_only(empty_scene: bpy.types.Scene) -> None:
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.object
    bpy.ops.mesh.primitive_plane_add()
    plane = bpy.context.object
    bpy.ops.object.camera_add()

    assert count_faces([cube, plane, bpy.context.object]) == 14
