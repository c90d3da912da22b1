"""The sidebar's side of the library: icons, the Library panel, its buttons, thumbnails in the Jobs panel.

Entries are kept with the library's own ``add`` (model and thumbnail files linked into its
folder, as the job manager keeps them); the panels are drawn against the recording layout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
import sandbox_assets

if TYPE_CHECKING:
    from addon_env import AddonEnv, RecordingLayout
    from conftest import GlbAssets

pytest_plugins = ["addon_env"]

MANY = 2000
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def library(meshy: AddonEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty library of this test (``MESHY_LIBRARY_DIR``), as the panel reads it."""
    monkeypatch.setenv("MESHY_LIBRARY_DIR", str(tmp_path / "library"))
    meshy.module("blender.ui.operators").manager(bpy.context)  # the job manager keeps results there too
    shelf = meshy.module("blender.ui.library.view").library()
    assert shelf.folder == tmp_path / "library"
    icons = meshy.module("blender.ui.icons")
    icons.free()  # thumbnails start unloaded, whatever an earlier test in this process drew (a concept gallery)
    yield shelf
    icons.free()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, glb_assets: GlbAssets) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("library_files")
    thumbnail = folder / "thumbnail.png"
    thumbnail.write_bytes(sandbox_assets.png_bytes(64, 64, (200, 120, 60)))
    return {"model": glb_assets.textured, "thumbnail": thumbnail}


def keep(env: AddonEnv, shelf: Any, files: dict[str, Path], index: int = 0, **fields: Any) -> Any:
    """Add a text-to-3D result to the library; the entry as kept."""
    entry_module = env.module("library.entry")
    values: dict[str, Any] = {
        "id": f"task-{index:05d}",
        "kind": "text-to-3d",
        "name": f"chair {index}",
        "prompt": f"a carved wooden chair number {index}",
        "task_ids": [f"preview-{index:05d}", f"task-{index:05d}"],
        "consumed_credits": 30,
        "finished_ms": int(time.time() * 1000),
        **fields,
    }
    return shelf.add(entry_module.Entry(**values), files)


def draw_library(env: AddonEnv) -> RecordingLayout:
    return env.draw(env.module("blender.ui.library.panel").MESHY_PT_library)


def entry_buttons(layout: RecordingLayout, idname: str) -> list[str]:
    return [op.values["entry_id"] for op in layout.operators() if op.idname == idname]


def thumbnails_drawn(layout: RecordingLayout) -> int:
    return sum(1 for kind, _ in layout.calls if kind == "template_icon")


# -- icons ----------------------------------------------------------------------------------


def test_icons_load_at_the_first_draw_not_at_enable_and_are_freed_at_disable(meshy: AddonEnv) -> None:
    icons = meshy.module("blender.ui.icons")
    meshy.disable(keep_preferences=True)
    try:
        assert icons._icons is None  # freed by unregister
        meshy.enable()
        assert icons._icons is None  # enabling loads nothing
        header = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_main)
        assert any(kind == "label" and "icon_value" in call for kind, call in header.calls)
        loaded = icons.icons()
        assert set(loaded) == {"logo", "placeholder", "queued", "running", "ready", "done", "failed", "canceled"}
        assert tuple(loaded["logo"].image_size) == (128, 128)  # read from the shipped PNG
        assert Path(icons.ICONS_DIR).parent.name == "meshy_blender"
    finally:
        meshy.disable(keep_preferences=True)
        assert icons._icons is None
        meshy.enable()


# -- the Library panel --------------------------------------------------------------------------


def test_an_empty_library_says_where_results_go(meshy: AddonEnv, library: Any) -> None:
    layout = draw_library(meshy)
    assert "Finished results are kept here" in layout.labels()
    assert thumbnails_drawn(layout) == 0
    view = meshy.module("blender.ui.library.view").view_of(bpy.context)
    view.search = "dragon"
    assert "No result matches" in draw_library(meshy).labels()


def test_one_entry_shows_its_thumbnail_details_and_buttons(
    meshy: AddonEnv, library: Any, files: dict[str, Path]
) -> None:
    entry = keep(meshy, library, files)
    icons = meshy.module("blender.ui.icons")
    layout = draw_library(meshy)
    assert thumbnails_drawn(layout) == 1
    assert set(icons.loaded_thumbnails()) == {str(entry.thumbnail_path)}
    assert entry_buttons(layout, "meshy.library_select") == [entry.id]
    assert "Page 1 of 1 (1 results)" in layout.labels()
    assert not entry_buttons(layout, "meshy.library_import")  # nothing selected yet

    bpy.ops.meshy.library_select(entry_id=entry.id)
    layout = draw_library(meshy)
    for idname in (
        "meshy.library_import",
        "meshy.library_rerun",
        "meshy.library_rig",
        "meshy.library_retexture",
        "meshy.library_open_folder",
        "meshy.library_remove",
    ):
        assert entry_buttons(layout, idname) == [entry.id], idname
    assert not entry_buttons(layout, "meshy.library_animate")  # not a rig
    assert "Text to 3D" in " ".join(layout.labels())
    assert any("30 credits" in label for label in layout.labels())


def test_an_entry_without_thumbnail_shows_the_placeholder(
    meshy: AddonEnv, library: Any, files: dict[str, Path]
) -> None:
    keep(meshy, library, {"model": files["model"]})
    layout = draw_library(meshy)
    assert thumbnails_drawn(layout) == 1
    assert meshy.module("blender.ui.icons").loaded_thumbnails() == {}  # the shipped placeholder instead


def test_two_thousand_entries_page_search_and_filter(meshy: AddonEnv, library: Any, files: dict[str, Path]) -> None:
    for index in range(MANY):
        kind = "rigging" if index % 10 == 0 else "text-to-3d"
        keep(meshy, library, files, index, kind=kind)
    view_module = meshy.module("blender.ui.library.view")
    view = view_module.view_of(bpy.context)

    layout = draw_library(meshy)
    assert thumbnails_drawn(layout) == view_module.PAGE_SIZE
    assert "Page 1 of 167 (2000 results)" in layout.labels()
    newest = [f"task-{index:05d}" for index in range(MANY - 1, MANY - 1 - view_module.PAGE_SIZE, -1)]
    assert entry_buttons(layout, "meshy.library_select") == newest
    assert len(meshy.module("blender.ui.icons").loaded_thumbnails()) == view_module.PAGE_SIZE

    bpy.ops.meshy.library_page(page=167)
    layout = draw_library(meshy)
    assert "Page 167 of 167 (2000 results)" in layout.labels()
    assert entry_buttons(layout, "meshy.library_select") == [f"task-{index:05d}" for index in range(7, -1, -1)]

    view.search = "number 1999"  # back to the first page
    layout = draw_library(meshy)
    assert view.page == 1
    assert entry_buttons(layout, "meshy.library_select") == ["task-01999"]

    view.search = ""
    view.kind = "rigging"
    layout = draw_library(meshy)
    assert "Page 1 of 17 (200 results)" in layout.labels()
    assert entry_buttons(layout, "meshy.library_select")[:2] == ["task-01990", "task-01980"]


# -- the buttons --------------------------------------------------------------------------------


def test_rerun_fills_the_text_panel_with_the_entry_settings(
    meshy: AddonEnv, library: Any, files: dict[str, Path]
) -> None:
    options = {
        "mode": "refine",
        "negative_prompt": "no legs",
        "topology": "quad",
        "target_polycount": 12000,
        "symmetry_mode": "off",
        "enable_pbr": False,
        "texture_prompt": "dark oak",
        "option_from_a_newer_meshy": 3,
    }
    entry = keep(meshy, library, files, options=options, prompt="a carved wooden throne")
    props = meshy.props
    props.prompt, props.refine = "", False

    assert bpy.ops.meshy.library_rerun(entry_id=entry.id) == {"FINISHED"}

    assert props.prompt == "a carved wooden throne"
    assert props.negative_prompt == "no legs"
    assert props.refine  # preview and refine
    assert (props.text_mesh.topology, props.text_mesh.target_polycount) == ("quad", 12000)
    assert props.text_mesh.symmetry_mode == "off"
    assert (props.text_texture.enable_pbr, props.text_texture.texture_prompt) == (False, "dark oak")


@pytest.mark.parametrize(
    ("model", "menu"), [("meshy-6", "meshy-6"), ("meshy-8-preview", "CUSTOM"), ("meshy-4", "CUSTOM")]
)
def test_rerun_picks_the_entry_model_or_types_it_as_a_custom_id(
    meshy: AddonEnv, library: Any, files: dict[str, Path], model: str, menu: str
) -> None:
    """A model the menu lists is picked; one it does not (newer, or retired since) is typed, never swapped."""
    entry = keep(meshy, library, files, model=model, options={"ai_model": model})
    mesh = meshy.props.text_mesh
    mesh.ai_model, mesh.custom_model = "latest", ""

    assert bpy.ops.meshy.library_rerun(entry_id=entry.id) == {"FINISHED"}

    assert (mesh.ai_model, mesh.model_id()) == (menu, model)


def test_import_from_the_library_needs_no_network(meshy: AddonEnv, library: Any, files: dict[str, Path]) -> None:
    entry = keep(meshy, library, files)
    bpy.context.preferences.system.use_online_access = False

    assert bpy.ops.meshy.library_import(entry_id=entry.id) == {"FINISHED"}

    meshes = [obj for obj in bpy.context.scene.objects if obj.type == "MESH"]
    assert meshes
    assert all(obj.get("meshy_library_id") == entry.id for obj in meshes)
    assert meshes[0].get("meshy_prompt") == entry.prompt
    images = {
        node.image
        for obj in meshes
        for slot in obj.material_slots
        for node in slot.material.node_tree.nodes
        if node.type == "TEX_IMAGE"
    }
    assert images  # the textured model, with its maps
    assert meshy.network == []


def test_rig_sends_the_task_while_meshy_keeps_it_and_the_local_model_after(
    meshy: AddonEnv, library: Any, files: dict[str, Path]
) -> None:
    fresh = keep(meshy, library, files, 1)
    old = keep(meshy, library, files, 2, finished_ms=int(time.time() * 1000) - 4 * DAY_MS)

    assert bpy.ops.meshy.library_rig(entry_id=fresh.id) == {"FINISHED"}
    assert meshy.newest_job().stages[0].body["input_task_id"] == fresh.id
    assert bpy.ops.meshy.library_rig(entry_id=old.id) == {"FINISHED"}
    assert meshy.newest_job().stages[0].body["model_url"] == str(old.model_path)


def test_remove_asks_then_deletes_the_files(meshy: AddonEnv, library: Any, files: dict[str, Path]) -> None:
    entry = keep(meshy, library, files)
    operators = meshy.module("blender.ui.library.operators")
    assert "invoke" in vars(operators.MESHY_OT_library_remove)  # the button asks first (invoke_confirm)
    folder, model = entry.folder, entry.model_path
    assert model.is_file()
    bpy.ops.meshy.library_select(entry_id=entry.id)

    assert bpy.ops.meshy.library_remove(entry_id=entry.id) == {"FINISHED"}

    assert not folder.exists()
    assert not model.exists()
    assert entry.id not in library
    assert "Finished results are kept here" in draw_library(meshy).labels()
    with pytest.raises(RuntimeError, match="no longer in the library"):
        bpy.ops.meshy.library_import(entry_id=entry.id)


# -- the Jobs panel -------------------------------------------------------------------------------


def test_the_jobs_panel_shows_a_job_thumbnail_once_known(meshy: AddonEnv, library: Any, files: dict[str, Path]) -> None:
    plans = meshy.module("jobs.plans")
    model = meshy.module("jobs.model")
    manager = meshy.module("blender.ui.operators").manager(bpy.context)
    job = plans.text_job("a carved wooden chair")
    job.state = model.JobState.RUNNING
    job.stages[0].task_id = "task-00007"
    manager.book._jobs[job.id] = job  # shown, not run
    try:
        panel = meshy.module("blender.ui.panels").MESHY_PT_jobs
        assert thumbnails_drawn(meshy.draw(panel)) == 0  # not known yet
        entry = keep(meshy, meshy.module("blender.ui.library.view").library(), files, 7)
        assert thumbnails_drawn(meshy.draw(panel)) == 1
        assert str(entry.thumbnail_path) in meshy.module("blender.ui.icons").loaded_thumbnails()
    finally:
        manager.book._jobs.clear()


# -- concept pictures -----------------------------------------------------------------------------


def keep_pictures(env: AddonEnv, shelf: Any, pictures: list[Path], index: int = 0, **fields: Any) -> Any:
    """Add a text-to-image result (its pictures, the first as thumbnail) to the library; the entry as kept."""
    entry_module = env.module("library.entry")
    files = {entry_module.picture_role(number): path for number, path in enumerate(pictures, 1)}
    values: dict[str, Any] = {
        "id": f"concept-{index:05d}",
        "kind": "text-to-image",
        "name": f"fox {index}",
        "prompt": "a red fox, four views",
        "finished_ms": int(time.time() * 1000),
        **fields,
    }
    return shelf.add(entry_module.Entry(**values), {**files, "thumbnail": pictures[0]})


def test_a_picture_entry_shows_its_first_picture_and_only_the_picture_buttons(
    meshy: AddonEnv, library: Any, tmp_path: Path
) -> None:
    pictures = []
    for number in range(1, 5):
        pictures.append(tmp_path / f"view{number}.png")
        pictures[-1].write_bytes(sandbox_assets.png_bytes(16, 16, (number * 50, 90, 30)))
    entry = keep_pictures(meshy, library, pictures)
    view = meshy.module("blender.ui.library.view").view_of(bpy.context)
    view.kind = "text-to-image"  # the kind filter offers the picture kinds
    layout = draw_library(meshy)
    assert entry_buttons(layout, "meshy.library_select") == [entry.id]
    assert set(meshy.module("blender.ui.icons").loaded_thumbnails()) == {str(entry.thumbnail_path)}
    assert entry.thumbnail_path.read_bytes() == pictures[0].read_bytes()

    bpy.ops.meshy.library_select(entry_id=entry.id)
    layout = draw_library(meshy)
    for idname in ("meshy.library_make_3d", "meshy.library_load_images", "meshy.library_open_folder"):
        assert entry_buttons(layout, idname) == [entry.id], idname
    for idname in ("import", "rerun", "rig", "animate", "retexture"):
        assert not entry_buttons(layout, f"meshy.library_{idname}"), idname
    assert "Text to image" in " ".join(layout.labels())

    assert bpy.ops.meshy.library_load_images(entry_id=entry.id) == {"FINISHED"}
    loaded = {Path(bpy.path.abspath(image.filepath)) for image in bpy.data.images}
    assert set(entry.picture_paths) <= loaded and len(entry.picture_paths) == 4
    with pytest.raises(RuntimeError, match="holds concept pictures, not a model"):
        bpy.ops.meshy.library_import(entry_id=entry.id)


def test_make_3d_sends_the_concept_task_while_meshy_keeps_it_and_uploads_the_picture_after(
    meshy: AddonEnv, library: Any, sandbox: Any
) -> None:
    concept = bpy.context.scene.meshy_concept
    concept.prompt = "a red fox"
    assert bpy.ops.meshy.concept_generate() == {"FINISHED"}
    (job,) = meshy.run_jobs()
    assert job.state.value == "done", job.error
    fresh = library.get(job.final_task_id)  # the sidebar's concept job was kept
    assert fresh is not None and fresh.kind == "text-to-image" and len(fresh.picture_paths) == 1

    assert bpy.ops.meshy.library_make_3d(entry_id=fresh.id) == {"FINISHED"}
    meshy.run_job()
    (create,) = [r for r in sandbox.creates() if r["path"].endswith("/image-to-3d")]
    assert "input_task_id" in create["fields"] and "image_url" not in create["fields"]
    assert create["body_bytes"] < 200, "no picture was uploaded"

    old = keep_pictures(meshy, library, fresh.picture_paths, 1, finished_ms=int(time.time() * 1000) - 4 * DAY_MS)
    assert bpy.ops.meshy.library_make_3d(entry_id=old.id) == {"FINISHED"}
    meshy.run_job()
    uploaded = [r for r in sandbox.creates() if r["path"].endswith("/image-to-3d")][1]
    assert "image_url" in uploaded["fields"] and "input_task_id" not in uploaded["fields"]
    assert uploaded["body_bytes"] > old.picture_paths[0].stat().st_size, "the kept picture was uploaded"
