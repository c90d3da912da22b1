"""The calmer generation panels: the model menu from the catalogue, a closed Advanced sub-panel, ignored options hidden.

Panels are drawn against a recording layout; generations run through the operators against the sandbox.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
import sandbox_assets
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv, RecordingLayout

pytest_plugins = ["addon_env"]

#: What the Text to 3D panel shows before Advanced is opened.
TEXT_MAIN = {"prompt", "ai_model", "refine", "enable_pbr", "auto_size", "origin_at"}


def props_drawn(layout: RecordingLayout) -> set[str]:
    return {kwargs["name"] for kind, kwargs in layout.calls if kind == "prop"}


def menu(group: Any) -> dict[str, str]:
    """The model menu of ``group`` as Blender offers it (id → label), read back through Blender itself."""
    with pytest.raises(TypeError) as refused:
        group.ai_model = "not-a-menu-item"
    identifiers = ast.literal_eval(str(refused.value).rsplit(" not found in ", 1)[1])
    return {name: bpy.types.UILayout.enum_item_name(group, "ai_model", name) for name in identifiers}


def panels(meshy: AddonEnv) -> Any:
    return meshy.module("blender.ui.panels")


def test_the_menu_offers_active_and_deprecated_models_never_retired_ones(meshy: AddonEnv) -> None:
    catalogue = meshy.module("api.catalogue")
    cat = catalogue.load()
    for group, endpoint in ((meshy.props.text_mesh, "text-to-3d"), (meshy.props.image_mesh, "image-to-3d")):
        offered = menu(group)
        assert offered["latest"] == "Latest — Meshy-7.1 today"
        ids = list(offered)
        assert (ids[0], ids[-1]) == ("latest", "CUSTOM")
        for model_id in cat.endpoint(endpoint).models:
            model = cat.model(model_id)
            status = model.status_on(endpoint)
            if status == catalogue.RETIRED:
                assert model_id not in offered
            elif status == catalogue.DEPRECATED:
                assert offered[model_id] == f"{model.label} (retires {model.retires_on.isoformat()})"
            else:
                assert model_id in offered
        assert not {"meshy-5", "meshy-4", "meshy-t1"} & set(offered)  # retired before this catalogue was written
    assert meshy.props.text_mesh.ai_model == "latest"  # the default


def test_generation_panels_show_what_most_generations_need_and_keep_the_rest_in_a_closed_advanced(
    meshy: AddonEnv,
) -> None:
    ui = panels(meshy)
    for main, advanced in (
        (ui.MESHY_PT_text, ui.MESHY_PT_text_advanced),
        (ui.MESHY_PT_image, ui.MESHY_PT_image_advanced),
    ):
        assert advanced.bl_parent_id == main.bl_idname
        assert "DEFAULT_CLOSED" in advanced.bl_options
        assert hasattr(bpy.types, advanced.bl_idname)  # registered
    assert props_drawn(meshy.draw(ui.MESHY_PT_text)) == TEXT_MAIN
    image_main = props_drawn(meshy.draw(ui.MESHY_PT_image))
    assert image_main == {"ai_model", "should_texture", "enable_pbr", "auto_size", "origin_at"}
    text_advanced = props_drawn(meshy.draw(ui.MESHY_PT_text_advanced))
    assert {"pose_mode", "should_remesh", "target_polycount", "texture_prompt", "geometry_resolution"} <= text_advanced
    assert not TEXT_MAIN & text_advanced


def test_options_the_chosen_model_ignores_are_not_shown_nor_sent(meshy: AddonEnv) -> None:
    ui = panels(meshy)
    mesh = meshy.props.text_mesh
    latest = props_drawn(meshy.draw(ui.MESHY_PT_text_advanced))
    assert not {"symmetry_mode", "negative_prompt"} & latest  # Meshy-6+ ignores them
    assert {"geometry_resolution", "texture_resolution", "remove_lighting"} <= latest
    assert "symmetry_mode" not in meshy.props.preview_options()

    mesh.ai_model = "meshy-6"
    assert "geometry_resolution" not in props_drawn(meshy.draw(ui.MESHY_PT_text_advanced))  # 7.1 only

    meshy.props.image_mesh.ai_model = "meshy-6-lite"
    lite = props_drawn(meshy.draw(ui.MESHY_PT_image_advanced))
    assert not {"texture_resolution", "image_enhancement"} & lite  # 2K only; no image enhancement

    mesh.ai_model = "CUSTOM"
    mesh.custom_model = "meshy-8"
    custom = meshy.draw(ui.MESHY_PT_text_advanced)
    assert {"symmetry_mode", "negative_prompt"} <= props_drawn(custom)  # unknown model: Meshy decides
    assert "custom_model" in props_drawn(meshy.draw(ui.MESHY_PT_text))
    assert "'meshy-8' is sent to Meshy as given." in meshy.draw(ui.MESHY_PT_text).labels()


def test_keep_the_model_before_remeshing_is_offered_only_when_remeshing(meshy: AddonEnv) -> None:
    ui = panels(meshy)
    mesh = meshy.props.image_mesh
    mesh.should_remesh = False
    assert "save_pre_remeshed_model" not in props_drawn(meshy.draw(ui.MESHY_PT_image_advanced))
    mesh.should_remesh = True
    mesh.save_pre_remeshed_model = True
    assert "save_pre_remeshed_model" in props_drawn(meshy.draw(ui.MESHY_PT_image_advanced))
    options = meshy.props.image_options()
    assert (options["should_remesh"], options["save_pre_remeshed_model"]) == (True, True)


def test_a_deprecated_model_says_when_it_retires_and_a_retired_id_is_refused_before_sending(
    meshy: AddonEnv, sandbox: Sandbox
) -> None:
    mesh = meshy.props.text_mesh
    meshy.props.prompt = "a chair"
    catalogue = meshy.module("api.catalogue")
    for model in catalogue.load().offered("text-to-3d"):  # Meshy-7 until 2026-12-31
        if model.status_on("text-to-3d") == catalogue.DEPRECATED:
            mesh.ai_model = model.id
            when = f"retires {model.retires_on.isoformat()}"
            assert any(when in label for label in meshy.draw(panels(meshy).MESHY_PT_text).labels())
            assert bpy.ops.meshy.generate_text.poll()  # deprecated still works
    mesh.ai_model = "CUSTOM"
    mesh.custom_model = "meshy-5"
    labels = " ".join(meshy.draw(panels(meshy).MESHY_PT_text).labels())
    assert "Meshy retired Meshy-5" in labels and "meshy-6-lite" in labels
    assert not bpy.ops.meshy.generate_text.poll()
    assert sandbox.requests() == []


def test_a_custom_model_id_reaches_meshy_unchanged_and_the_pre_remeshed_glb_is_kept(
    meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path
) -> None:
    item = meshy.props.images.add()
    item.filepath = str(tmp_path / "stool.png")
    Path(item.filepath).write_bytes(sandbox_assets.png_bytes(16, 16, (90, 60, 30)))
    mesh = meshy.props.image_mesh
    mesh.ai_model = "CUSTOM"
    mesh.custom_model = "meshy-8-preview"
    mesh.should_remesh = True
    mesh.save_pre_remeshed_model = True
    assert bpy.ops.meshy.generate_image() == {"FINISHED"}

    job = meshy.run_job()
    (created,) = sandbox.creates()
    assert created["ai_model"] == "meshy-8-preview"
    assert "save_pre_remeshed_model" in created["fields"]
    kept = Path(job.files["pre_remeshed"])
    assert kept.parent == Path(job.files["model"]).parent
    assert kept.read_bytes()[:4] == b"glTF"
    assert meshy.imported(job)  # the result itself is imported; the pre-remeshed GLB is kept beside it


def test_a_saved_choice_meshy_has_since_retired_is_refused_not_replaced(meshy: AddonEnv, sandbox: Sandbox) -> None:
    mesh = meshy.props.text_mesh
    meshy.props.prompt = "a chair"
    mesh.ai_model = "meshy-6"
    assert mesh.chosen_model == "meshy-6"
    mesh["ai_model"] = 12345  # what a file saved with a model the menu no longer offers reads back as
    mesh.chosen_model = "meshy-5"
    assert mesh.ai_model == "" and mesh.model_id() == "meshy-5"
    assert "Meshy retired Meshy-5" in " ".join(meshy.draw(panels(meshy).MESHY_PT_text).labels())
    assert not bpy.ops.meshy.generate_text.poll()
    assert sandbox.requests() == []
