"""The artist's side of the add-on: why buttons are disabled, refused input, panels, account, browser.

Panels are drawn against a recording layout (see ``addon_env.RecordingLayout``) that checks
every property and operator name, so a drawing error cannot hide in Blender's console.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from sandbox_control import Sandbox

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]


def poll_error(operator: Any, **props: Any) -> str:
    """The poll message Blender gives when the operator is disabled."""
    assert not operator.poll()
    with pytest.raises(RuntimeError) as caught:
        operator(**props)
    return str(caught.value)


# -- why a button is disabled --------------------------------------------------------


def test_offline_disables_every_sending_button_and_says_how_to_enable(meshy: AddonEnv) -> None:
    bpy.context.preferences.system.use_online_access = False
    meshy.props.prompt = "a chair"
    for operator in (bpy.ops.meshy.generate_text, bpy.ops.meshy.refresh_balance, bpy.ops.meshy.browse_tasks):
        assert "Allow Online Access" in poll_error(operator)
    labels = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_main).labels()
    assert any("Allow Online Access" in label for label in labels)


def test_no_key_disables_sending_buttons(meshy: AddonEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHY_API_KEY", raising=False)
    meshy.prefs.api_key = ""
    meshy.props.prompt = "a chair"
    assert "No Meshy API key" in poll_error(bpy.ops.meshy.generate_text)
    assert any("API key" in label for label in meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_main).labels())


def test_key_from_the_environment_is_used_and_shown(meshy: AddonEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    meshy.prefs.api_key = ""
    monkeypatch.setenv("MESHY_API_KEY", "msy_from_environment")
    meshy.props.prompt = "a chair"
    assert bpy.ops.meshy.generate_text.poll()
    preferences = meshy.module("blender.ui.preferences")
    assert preferences.config(bpy.context).api_key == "msy_from_environment"
    labels = meshy.draw(preferences.MeshyPreferences).labels()
    assert any("MESHY_API_KEY" in label for label in labels)


def test_empty_prompt_and_missing_selection_disable_their_buttons(meshy: AddonEnv) -> None:
    assert "Write a prompt" in poll_error(bpy.ops.meshy.generate_text)
    assert "Add an image" in poll_error(bpy.ops.meshy.generate_image)
    assert "Select the mesh to rig" in poll_error(bpy.ops.meshy.rig_selected)
    bpy.ops.object.empty_add()
    assert "Select the mesh to retexture" in poll_error(bpy.ops.meshy.retexture_selected)
    assert "rigged by Meshy" in poll_error(bpy.ops.meshy.animate_selected)
    bpy.ops.mesh.primitive_cube_add()
    assert "Describe the new style" in poll_error(bpy.ops.meshy.retexture_selected)
    assert "No Meshy job is running" in poll_error(bpy.ops.meshy.cancel_all)


# -- refused input: reported, nothing sent ---------------------------------------------


def test_too_long_prompt_is_refused_before_sending(meshy: AddonEnv, sandbox: Sandbox) -> None:
    meshy.props.prompt = "x" * 601
    with pytest.raises(RuntimeError, match="at most 600"):
        bpy.ops.meshy.generate_text()
    assert sandbox.creates() == []
    assert meshy.jobs() == []


def test_five_images_are_refused_and_leave_no_files(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    for index in range(5):
        meshy.props.images.add().image = bpy.data.images.new(f"view {index}", 4, 4)
    with pytest.raises(RuntimeError, match="1 to 4 images"):
        bpy.ops.meshy.generate_image()
    assert sandbox.creates() == []
    downloads = tmp_path / "downloads"
    assert not downloads.exists() or not any(downloads.iterdir())
    assert "at most 4" in poll_error(bpy.ops.meshy.image_add)


def test_an_image_that_is_not_png_or_jpeg_is_refused(meshy: AddonEnv, sandbox: Sandbox, tmp_path: Path) -> None:
    fake = tmp_path / "photo.png"
    fake.write_text("not an image")
    meshy.props.images.add().filepath = str(fake)
    with pytest.raises(RuntimeError, match="not a PNG or JPEG"):
        bpy.ops.meshy.generate_image()
    assert sandbox.creates() == []


def test_a_bad_server_address_is_refused_before_queueing(meshy: AddonEnv) -> None:
    meshy.prefs.base_url = "ftp://example.com"
    meshy.props.prompt = "a chair"
    with pytest.raises(RuntimeError):
        bpy.ops.meshy.generate_text()
    assert meshy.jobs() == []


# -- account -----------------------------------------------------------------------------


def test_test_connection_reports_the_balance(meshy: AddonEnv) -> None:
    assert bpy.ops.meshy.test_connection() == {"FINISHED"}
    call = meshy.wait_call("balance")
    assert call.ok and call.result == 1000
    labels = meshy.draw(meshy.module("blender.ui.preferences").MeshyPreferences).labels()
    assert "Connected: 1000 credits" in labels
    assert not [request for request in meshy.network if request.on_main_thread]


def test_test_connection_says_why_it_failed(meshy: AddonEnv) -> None:
    meshy.prefs.api_key = "msy_not_a_valid_key_000000000000"
    bpy.ops.meshy.test_connection()
    wrong_key = meshy.wait_call("balance").error
    assert re.search(r"key", wrong_key, re.IGNORECASE)

    meshy.prefs.base_url = "http://127.0.0.1:9"  # nothing listens there
    bpy.ops.meshy.test_connection()
    unreachable = meshy.wait_call("balance").error
    assert unreachable and unreachable != wrong_key

    bpy.context.preferences.system.use_online_access = False
    with pytest.raises(RuntimeError, match="Allow Online Access"):
        bpy.ops.meshy.test_connection()
    assert "Allow Online Access" in meshy.wait_call("balance").error
    assert not [request for request in meshy.network if request.on_main_thread]


def test_account_panel_shows_balance_and_cost_of_the_inputs(meshy: AddonEnv) -> None:
    meshy.props.refine = True
    meshy.props.text_mesh.ai_model = "meshy-6"
    bpy.ops.meshy.refresh_balance()
    meshy.wait_call("balance")
    labels = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_account).labels()
    assert "Connected: 1000 credits" in labels
    assert "Text to 3D: 30" in labels  # preview 20 + refine 10
    meshy.props.text_mesh.ai_model = "CUSTOM"  # a model the catalogue does not know: priced like the dearest
    meshy.props.text_mesh.custom_model = "meshy-8"
    meshy.props.refine = False
    assert "Text to 3D: 20" in meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_account).labels()


# -- task browser --------------------------------------------------------------------------


def test_task_browser_lists_a_page_and_imports_a_result(meshy: AddonEnv) -> None:
    meshy.props.prompt = "a teapot"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    made = meshy.run_job()

    meshy.props.browse_kind = "TEXT_TO_3D"
    bpy.ops.meshy.browse_tasks(page=1)
    call = meshy.wait_call("browse")
    assert call.ok and [task.id for task in call.result] == [made.final_task_id]
    layout = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_browser)
    buttons = [op for op in layout.operators() if op.idname == "meshy.browse_import"]
    assert [op.values["task_id"] for op in buttons] == [made.final_task_id]

    bpy.ops.meshy.browse_import(task_id=made.final_task_id)
    imported = meshy.run_job()
    assert imported.kind == "import" and imported.id != made.id
    objects = meshy.imported(imported)
    assert objects and all(obj["meshy_task_id"] == made.final_task_id for obj in objects)
    assert not [request for request in meshy.network if request.on_main_thread]


def test_task_browser_shows_an_empty_page(meshy: AddonEnv) -> None:
    meshy.props.browse_kind = "RETEXTURE"
    bpy.ops.meshy.browse_tasks(page=3)
    assert meshy.wait_call("browse").result == []
    assert meshy.props.browse_page == 3
    labels = meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_browser).labels()
    assert "No tasks on this page" in labels


# -- job buttons ---------------------------------------------------------------------------


def test_delete_on_server_removes_the_jobs_tasks(meshy: AddonEnv, sandbox: Sandbox) -> None:
    meshy.props.prompt = "a crate"
    meshy.props.refine = True
    bpy.ops.meshy.generate_text()
    job = meshy.run_job()

    bpy.ops.meshy.job_delete_remote(job_id=job.id)
    assert meshy.wait_call(f"delete-{job.id}").ok
    deletes = [r for r in sandbox.requests() if r["method"] == "DELETE" and r["status"] == 200]
    deleted = [r["path"].rsplit("/", 1)[1] for r in deletes]
    assert sorted(deleted) == sorted(stage.task_id for stage in job.stages)
    assert "Deleted on Meshy" in meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_jobs).labels()
    assert not [request for request in meshy.network if request.on_main_thread]


def test_refine_a_finished_preview_on_demand(meshy: AddonEnv) -> None:
    meshy.props.prompt = "a robot"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    preview = meshy.run_job()
    bpy.ops.meshy.job_refine(job_id=preview.id)
    refined = meshy.run_job()
    assert refined.kind == "refine" and refined.name == "a robot refined"
    assert refined.stages[0].body["preview_task_id"] == preview.final_task_id
    with pytest.raises(RuntimeError, match="not a finished preview"):
        bpy.ops.meshy.job_refine(job_id=refined.id)


def test_cancel_retry_forget_and_reimport(meshy: AddonEnv, sandbox: Sandbox) -> None:
    sandbox.fault("/assets/", "status", status=500, times=-1)  # downloads keep failing
    meshy.props.prompt = "a bench"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    bpy.ops.meshy.job_cancel(job_id=meshy.newest_job().id)
    job = meshy.run_jobs()[0]
    assert job.state.value == "canceled"

    sandbox.control("DELETE", "faults")
    bpy.ops.meshy.job_retry(job_id=job.id)
    job = meshy.run_job()
    objects = meshy.imported(job)
    assert objects

    bpy.data.batch_remove(objects)
    bpy.ops.meshy.job_reimport(job_id=job.id)
    job = meshy.run_job()
    assert meshy.imported(job)
    creates = sandbox.creates()
    assert len(creates) == 1  # retry and re-import created nothing new

    bpy.ops.meshy.job_forget(job_id=job.id)
    assert meshy.manager().get(job.id) is None
    with pytest.raises(RuntimeError, match="no longer in the list"):
        bpy.ops.meshy.job_forget(job_id=job.id)
