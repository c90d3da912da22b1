"""In real Blender: results are assets (preview, tags, catalog), the library an asset library; placement from prefs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
import sandbox_assets
import sandbox_thumbnails
from mathutils import Vector

from meshy_blender.blender.scene.assets import mark_result
from meshy_blender.blender.scene.catalogs import catalog_uuid
from meshy_blender.blender.scene.importer import import_glb
from meshy_blender.library import Entry

if TYPE_CHECKING:
    from addon_env import AddonEnv
    from conftest import GlbAssets

pytest_plugins = ["addon_env"]

#: The ground of the sandbox's thumbnail (a picture of its vase), as the preview's floats.
THUMBNAIL_GROUND = tuple(channel / 255 for channel in sandbox_thumbnails.BACKGROUND[:3])


def _asset_libraries() -> Any:
    return bpy.context.preferences.filepaths.asset_libraries


@pytest.fixture
def asset_libraries_kept() -> Any:
    """Asset libraries a test adds to the (process-wide) preferences are removed after it."""
    before = {library.name for library in _asset_libraries()}
    yield
    for library in list(_asset_libraries()):
        if library.name not in before:
            _asset_libraries().remove(library)


def test_a_sidebar_result_is_an_asset_with_meshys_thumbnail_its_tags_and_catalog(meshy: AddonEnv) -> None:
    meshy.props.prompt = "a carved oak chair with lion feet"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    job = meshy.run_job()

    (chair,) = meshy.imported(job)  # one object: the object itself is the asset
    data = chair.asset_data
    assert data is not None
    catalogs = meshy.module("blender.scene.catalogs")
    assert data.catalog_id == catalogs.catalog_uuid("Meshy/Text to 3D")
    tags = [tag.name for tag in data.tags]
    assert tags[:2] == ["Meshy", "Text to 3D"]
    assert {"carved", "oak", "chair", "lion", "feet"} <= set(tags) and "with" not in tags
    assert data.description == "a carved oak chair with lion feet"
    preview = chair.preview
    assert preview is not None and preview.image_size[0] > 0 and preview.is_image_custom
    width, height = preview.image_size
    centre = 4 * (height // 2 * width + width // 2)
    assert tuple(preview.image_pixels_float[:3]) == pytest.approx(THUMBNAIL_GROUND, abs=0.02)  # Meshy's thumbnail
    model = tuple(preview.image_pixels_float[centre : centre + 3])
    assert model != pytest.approx(THUMBNAIL_GROUND, abs=0.1)  # the picture shows the model

    # The library holds the result as a Blender asset too: its own .blend and the catalog file.
    library = meshy.module("blender.session").current_library()
    (entry,) = library.entries()
    blend = meshy.module("blender.scene.library_blend").blend_path(entry)
    assert blend == entry.folder / "a carved oak chair with lion feet.blend"
    with bpy.data.libraries.load(str(blend), assets_only=True) as (kept, _):
        assert list(kept.objects) == [chair.name]
    assert catalogs.read_catalogs(library.folder)[data.catalog_id] == "Meshy/Text to 3D"


def test_a_rigged_result_marks_its_collection_in_the_rigged_catalog(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets
) -> None:
    result = import_glb(glb_assets.rig, job_id="rig-job", display_name="knight", tags={})
    entry = Entry(id="task-rig", kind="rigging", name="knight")

    asset = mark_result(result, entry)

    assert asset == result.collection and result.collection.asset_data is not None
    assert all(obj.asset_data is None for obj in result.objects)
    assert result.collection.asset_data.catalog_id == catalog_uuid("Meshy/Rigged")
    assert [tag.name for tag in result.collection.asset_data.tags] == ["Meshy", "Rigged"]
    assert result.collection.preview is None  # no thumbnail, and no rendering headless


def test_an_unreadable_thumbnail_leaves_the_asset_marked_without_a_preview(
    empty_scene: bpy.types.Scene, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    entry = Entry(id="task-1", kind="text-to-3d", name="vase", files={"thumbnail": "thumbnail.png"}, root=tmp_path)
    entry.folder.mkdir()
    (entry.folder / "thumbnail.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a picture")
    result = import_glb(glb_assets.textured, job_id="job-1", display_name="vase", tags={})

    asset = mark_result(result, entry)

    assert asset.asset_data is not None and asset.asset_data.catalog_id == catalog_uuid("Meshy/Text to 3D")
    assert asset.preview is None or asset.preview.image_size[0] == 0


def test_replacing_a_proxy_chosen_when_the_job_was_asked(meshy: AddonEnv) -> None:
    bpy.ops.mesh.primitive_cube_add(size=2.0, location=(3.0, -1.0, 1.0), rotation=(0.0, 0.0, math.radians(45.0)))
    proxy = bpy.context.active_object
    meshy.prefs.placement = "PROXY"
    meshy.prefs.target_height = 0.5
    meshy.props.prompt = "a brass lamp"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    bpy.ops.mesh.primitive_uv_sphere_add(location=(-5.0, 0.0, 0.0))  # the artist works on meanwhile
    other = bpy.context.active_object
    job = meshy.run_job()

    (lamp,) = meshy.imported(job)
    bpy.context.view_layer.update()
    corners = [lamp.matrix_world @ Vector(corner) for corner in lamp.bound_box]
    heights = [corner.z for corner in corners]
    assert max(heights) - min(heights) == pytest.approx(0.5, abs=1e-4)  # the height asked
    assert min(heights) == pytest.approx(0.0, abs=1e-4)  # on the proxy's bottom face
    assert lamp.matrix_world.to_euler().z == pytest.approx(math.radians(45.0), abs=1e-4)
    assert proxy.hide_get() and proxy.hide_render and proxy.name in bpy.data.objects
    assert not other.hide_get()


def test_the_library_is_added_to_the_asset_libraries_once(
    meshy: AddonEnv, asset_libraries_kept: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHY_LIBRARY_DIR", str(tmp_path / "library"))

    assert bpy.ops.meshy.add_asset_library() == {"FINISHED"}
    assert bpy.ops.meshy.add_asset_library() == {"FINISHED"}

    mine = [lib for lib in _asset_libraries() if Path(lib.path).resolve() == (tmp_path / "library").resolve()]
    assert [lib.name for lib in mine] == ["Meshy"]
    catalogs = meshy.module("blender.scene.catalogs")
    assert "Meshy" in catalogs.read_catalogs(tmp_path / "library").values()


def test_saving_into_an_asset_library_defines_the_catalogs_there(
    meshy: AddonEnv, asset_libraries_kept: None, tmp_path: Path
) -> None:
    _asset_libraries().new(name="Studio props", directory=str(tmp_path / "studio"))
    collection = bpy.data.collections.new("knight")
    bpy.context.scene.collection.children.link(collection)
    entry = meshy.module("library").Entry(id="task-rig", kind="rigging", name="knight")
    meshy.module("blender.scene.assets").mark(collection, entry)
    (tmp_path / "studio" / "characters").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()

    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "elsewhere" / "scene.blend"))
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "studio" / "characters" / "knight.blend"))

    catalogs = meshy.module("blender.scene.catalogs")
    assert "Meshy/Rigged" in catalogs.read_catalogs(tmp_path / "studio").values()
    assert not (tmp_path / "elsewhere" / catalogs.CATALOG_FILE).exists()  # nothing beside files saved elsewhere


def test_an_import_from_the_library_is_an_asset_and_replaces_the_selected_proxy(
    meshy: AddonEnv, glb_assets: GlbAssets, tmp_path: Path
) -> None:
    thumbnail = tmp_path / "thumbnail.png"
    thumbnail.write_bytes(sandbox_assets.png_bytes(64, 64, (176, 118, 72)))
    library = meshy.module("blender.ui.library.view").library()  # the one the panel shows
    entry = library.add(
        meshy.module("library").Entry(id="task-vase", kind="image-to-3d", name="blue vase", prompt=""),
        {"model": glb_assets.textured, "thumbnail": thumbnail},
    )
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(2.0, 2.0, 0.5))
    proxy = bpy.context.active_object
    meshy.prefs.placement = "PROXY"

    assert bpy.ops.meshy.library_import(entry_id=entry.id) == {"FINISHED"}

    (vase,) = [obj for obj in bpy.data.objects if obj.get("meshy_library_id") == entry.id]
    assert vase.asset_data is not None and vase.preview is not None and vase.preview.image_size[0] > 0
    assert vase.asset_data.catalog_id == catalog_uuid("Meshy/Image to 3D")
    assert proxy.hide_get() and vase.users_collection[0].name in proxy.users_collection[0].children
    assert meshy.module("blender.scene.library_blend").blend_path(entry).is_file()
