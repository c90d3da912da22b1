"""The API key stays secret in real Blender; diagnostics help without leaking; paths stay in their folder.

- The "API key" preference keeps nothing in Blender's preferences: not in ``userpref.blend``,
  not in a scene, only in an owner-only ``credentials.json`` in the add-on's user folder.
- After full runs through the operators (success, a failed task, a wrong key, network
  errors) the key is in no file, log line, console output, job, error or report.
- "Copy diagnostics" lists what support needs, with the proxy password and the key left out.
- A prompt that looks like a path names objects, never folders.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import pytest
from sandbox_control import Sandbox, closed_port

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]

SECRET = "msy_SECRET_gui_key_must_not_leak_4f1c9a"
WRONG = "msy_WRONG_gui_key_must_not_leak_0d2e7b"
LEGACY = "msy_LEGACY_key_from_userpref_blend_77aa"
PROXY = "http://alice:pr0xy-pass@proxy.example:3128"


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def holding(files: list[Path], *secrets: str) -> list[str]:
    """The files whose bytes contain one of ``secrets``."""
    return [f"{path} has {secret}" for path in files for secret in secrets if secret.encode() in path.read_bytes()]


def stored_values(prefs: Any) -> Any:
    """What Blender saves of the add-on's preferences (Blender 5.0 keeps it apart from custom properties)."""
    separate = getattr(prefs, "bl_system_properties_get", None)
    return separate(do_create=True) if separate is not None else prefs


def save_preferences_and_scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Save the user preferences (into a temporary config folder) and the scene; both paths."""
    config = tmp_path / "config"
    monkeypatch.setenv("BLENDER_USER_CONFIG", str(config))  # read by Blender on every save
    assert bpy.ops.wm.save_userpref() == {"FINISHED"}
    scene = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(scene))
    userpref = config / "userpref.blend"
    assert userpref.is_file() and scene.is_file()
    return userpref, scene


# -- where the key is kept -------------------------------------------------------------------


def test_the_key_is_in_no_blend_only_in_its_owner_only_file(
    meshy: AddonEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meshy.prefs.api_key = SECRET
    meshy.prefs.download_dir = str(tmp_path / "marker-download-dir")  # a stored preference, as a control
    userpref, scene = save_preferences_and_scene(tmp_path, monkeypatch)

    assert b"marker-download-dir" in userpref.read_bytes()  # the preferences were saved, just not the key
    assert holding([userpref, scene], SECRET) == []
    assert "api_key" not in stored_values(meshy.prefs)  # no value of Blender's own behind the field
    credentials = meshy.module("blender.paths").credentials_path()
    assert json.loads(credentials.read_text()) == {"api_key": SECRET}
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert credentials.parent == meshy.module("blender.paths").user_dir()

    meshy.disable(keep_preferences=True)  # as quitting Blender does
    meshy.enable()
    assert meshy.prefs.api_key == SECRET
    assert meshy.prefs.bl_rna.properties["api_key"].subtype == "PASSWORD"
    assert meshy.module("blender.credentials").CredentialStore(credentials).load() == SECRET


def test_clearing_the_field_removes_the_file_and_the_environment_key_takes_over(
    meshy: AddonEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = meshy.module("blender.paths").credentials_path()
    meshy.prefs.api_key = ""
    assert not credentials.exists()
    monkeypatch.setenv("MESHY_API_KEY", SECRET)
    assert meshy.module("blender.ui.preferences").config(bpy.context).api_key == SECRET


@pytest.mark.parametrize("in_file", ["", "msy_current_key_in_the_file_1234"])
def test_a_key_older_versions_kept_in_the_preferences_moves_to_its_file(meshy: AddonEnv, in_file: str) -> None:
    meshy.prefs.api_key = in_file
    stored_values(meshy.prefs)["api_key"] = LEGACY  # what an older version left in userpref.blend

    meshy.disable(keep_preferences=True)
    meshy.enable()

    assert "api_key" not in stored_values(meshy.prefs)  # gone from what Blender saves
    assert meshy.prefs.api_key == (in_file or LEGACY)  # a key already in the file is not replaced


def test_the_preferences_warn_about_a_plain_http_server(meshy: AddonEnv, sandbox: Sandbox) -> None:
    preferences = meshy.module("blender.ui.preferences")
    warning = "Use https:// (plain http:// only to this computer)"
    assert warning not in meshy.draw(preferences.MeshyPreferences).labels()  # the sandbox on 127.0.0.1
    meshy.prefs.base_url = "http://meshy.example.com"
    assert warning in meshy.draw(preferences.MeshyPreferences).labels()


# -- diagnostics -----------------------------------------------------------------------------


def copy_diagnostics(capfd: pytest.CaptureFixture[str]) -> str:
    """Press "Copy diagnostics"; headless there is no clipboard, so the report is on the console."""
    capfd.readouterr()
    assert bpy.ops.meshy.copy_diagnostics() == {"FINISHED"}
    out = capfd.readouterr().out
    return out[out.index("Meshy for Blender diagnostics") :]


def test_copy_diagnostics_reports_the_setup_and_recent_errors_without_secrets(
    meshy: AddonEnv, sandbox: Sandbox, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sandbox.fail_next("text-to-3d", message="The prompt was blocked by moderation", code="moderation_blocked")
    meshy.props.prompt = "a forbidden chair"
    bpy.ops.meshy.generate_text()
    failed = meshy.run_jobs()[0]
    assert failed.state.value == "failed"

    report = copy_diagnostics(capfd)

    key = meshy.prefs.api_key
    assert key and key not in report
    assert "alice" not in report and "pr0xy-pass" not in report
    for expected in (
        f"Blender:        {bpy.app.version_string}",
        f"Add-on:         {meshy.module('bridge.messages').addon_version()}",
        "Online access:  yes",
        "HTTPS_PROXY=http://***@proxy.example:3128",
        "NO_PROXY=127.0.0.1,localhost",
        f"Server:         {sandbox.url}",
        f"API key:        set in the add-on preferences (kept in credentials.json) ({len(key)} characters)",
        f"Downloads:      {meshy.prefs.download_dir}",
        "Parallel jobs:  4",
        "Streaming:      on",
        "Bridge:         stopped",
        "Recent errors:  1",
    ):
        assert expected in report, expected
    line = next(line for line in report.splitlines() if line.startswith("- "))
    assert line.startswith(f"- a forbidden chair (text; {failed.stages[0].task_id}) [moderation_blocked]: ")
    assert "blocked by moderation" in line
    assert any(
        op.idname == "meshy.copy_diagnostics"
        for op in meshy.draw(meshy.module("blender.ui.panels").MESHY_PT_account).operators()
    )


def test_diagnostics_say_when_the_key_comes_from_the_environment(
    meshy: AddonEnv, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    meshy.prefs.api_key = ""
    monkeypatch.setenv("MESHY_API_KEY", SECRET)
    report = copy_diagnostics(capfd)
    assert f"API key:        set in the MESHY_API_KEY environment variable ({len(SECRET)} characters)" in report
    assert SECRET not in report
    assert "Recent errors:  none" in report


# -- no key anywhere after full runs ------------------------------------------------------


def run_to_the_end(meshy: AddonEnv, prompt: str) -> Any:
    meshy.props.prompt = prompt
    assert bpy.ops.meshy.generate_text() == {"FINISHED"}
    meshy.run_jobs()
    return next(job for job in meshy.jobs() if job.name == prompt)


def test_no_key_anywhere_after_full_runs_through_the_operators(
    meshy: AddonEnv,
    secret_sandbox: Sandbox,
    tmp_path: Path,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the add-on's and urllib3's included
    secret_sandbox.reset(task_seconds=0.3)
    meshy.prefs.api_key = SECRET
    meshy.prefs.base_url = secret_sandbox.url
    meshy.props.refine = False
    texts: dict[str, str] = {}

    assert bpy.ops.meshy.test_connection() == {"FINISHED"}
    assert meshy.wait_call("balance").ok
    assert run_to_the_end(meshy, "a lamp").state.value == "imported"

    secret_sandbox.fail_next("text-to-3d", message="Generation failed", code="generation_failed")
    assert run_to_the_end(meshy, "a failing lamp").state.value == "failed"

    secret_sandbox.fault(r"/text-to-3d$", "reset", method="POST", times=-1)  # the connection drops on create
    assert run_to_the_end(meshy, "a dropped lamp").state.value == "failed"
    secret_sandbox.control("DELETE", "faults")

    meshy.prefs.api_key = WRONG  # rejected with 401
    bpy.ops.meshy.test_connection()
    texts["wrong key, test connection"] = meshy.wait_call("balance").error
    assert run_to_the_end(meshy, "a lamp with a wrong key").state.value == "failed"

    meshy.prefs.base_url = f"http://127.0.0.1:{closed_port()}"  # nobody listens
    bpy.ops.meshy.test_connection()
    texts["unreachable, test connection"] = meshy.wait_call("balance").error
    meshy.prefs.base_url = "http://meshy.example.com"  # refused before sending
    with pytest.raises(RuntimeError) as refused:
        bpy.ops.meshy.test_connection()
    texts["insecure server, test connection"] = str(refused.value)
    assert all(texts.values()), texts

    meshy.prefs.api_key = SECRET
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    texts["diagnostics"] = copy_diagnostics(capfd)
    userpref, scene = save_preferences_and_scene(tmp_path, monkeypatch)

    states = {job.name: job.state.value for job in meshy.jobs()}
    assert states == {
        "a lamp": "imported",
        "a failing lamp": "failed",
        "a dropped lamp": "failed",
        "a lamp with a wrong key": "failed",
    }
    assert "Recent errors:  3" in texts["diagnostics"]
    assert re.search(r"key", meshy.newest_job().error, re.IGNORECASE)
    for job in meshy.jobs():
        texts[f"job {job.name}"] = json.dumps(job.to_dict())
    texts["log"] = caplog.text
    captured = capfd.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    texts["request paths"] = "\n".join(request["path"] for request in secret_sandbox.requests())
    assert "created Text to 3D task" in texts["log"]  # the log was captured

    for name, text in texts.items():
        for secret in (SECRET, WRONG):
            assert secret not in text, f"{secret} in {name}"
    assert meshy.manager().save_now()  # every record on disk: no writer renames a file while they are read
    paths = meshy.module("blender.paths")
    credentials = paths.credentials_path()
    written = [path for path in files_under(tmp_path, paths.user_dir()) if path != credentials]
    assert userpref in written and scene in written
    assert any(path.parent == paths.jobs_dir() and path.suffix == ".json" for path in written)
    assert any(path.suffix == ".glb" for path in written)
    assert holding(written, SECRET, WRONG) == []


# -- file names -------------------------------------------------------------------------------


def test_a_prompt_that_looks_like_a_path_stays_in_the_download_folder(meshy: AddonEnv, tmp_path: Path) -> None:
    meshy.props.prompt = "../../../etc/passwd"
    meshy.props.refine = False
    bpy.ops.meshy.generate_text()
    job = meshy.run_job()

    downloads = Path(meshy.prefs.download_dir)
    assert re.fullmatch(r"[0-9a-f]{12}", job.id)
    assert [path.relative_to(downloads).as_posix() for path in files_under(downloads)] == [f"{job.id}/model.glb"]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["downloads"]
    assert meshy.imported(job)  # the prompt names the objects, nothing on disk
