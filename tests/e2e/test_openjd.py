"""The Open Job Description template: validated, and run end to end by ``openjd run`` against the sandbox.

``openjd-cli`` is pinned in requirements/dev.txt and installed in ``.venv``; the Blender
matrix venvs (``.venv-bpy42``, ``.venv-bpy50``) do not carry it, and run the shard and
assemble tests of ``test_cli_shards.py`` instead.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_harness import ROOT, RUN_TIMEOUT_S, cli_env, describe_blend
from sandbox_control import TEST_KEY, Sandbox
from test_cli_batch import write_manifest

TEMPLATE = ROOT / "pipelines" / "openjd" / "meshy_batch.yaml"
OPENJD = Path(sys.executable).with_name("openjd")


def openjd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OPENJD), *args], env=env, capture_output=True, text=True, timeout=3 * RUN_TIMEOUT_S, check=False
    )


def meshes(blend: Path) -> list[str]:
    return sorted(obj["asset"] for obj in describe_blend(blend)["objects"].values() if obj["type"] == "MESH")


def test_the_template_validates() -> None:
    checked = openjd("check", str(TEMPLATE))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_job_killed_in_its_second_shard_runs_again_to_six_assets_made_once(sandbox: Sandbox, tmp_path: Path) -> None:
    names = ["chair", "table", "lamp", "cup", "rock", "tree"]
    manifest = write_manifest(tmp_path, [{"name": name, "kind": "text-to-3d", "prompt": f"a {name}"} for name in names])
    out = tmp_path / "build"
    run = (
        "run", str(TEMPLATE), "--step", "Assemble", "--run-dependencies",
        "-p", f"Manifest={manifest}", "-p", f"OutputDir={out}", "-p", "Shards=3",
        "-p", f"MeshyCommand={sys.executable} -m meshy_blender",
    )  # fmt: skip
    env = cli_env(sandbox.url, TEST_KEY)  # the key reaches the tasks through the environment only
    env["MESHY_LIBRARY_DIR"] = str(tmp_path / "worker-library")

    # Shard 1 makes chair and cup; shard 2 (table, rock) is stopped once its tasks exist (tasks take 1 s).
    first = subprocess.Popen([str(OPENJD), *run], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while len(sandbox.creates()) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)  # openjd cancels its session: the running task's processes are killed
    assert first.wait(timeout=60) != 0
    assert 3 <= len(sandbox.creates()) <= 4
    assert not (out / "shard-2" / "batch.blend").exists() and not (out / "assembled.blend").exists()

    again = openjd(*run, env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert TEST_KEY not in again.stdout + again.stderr
    assert len(sandbox.creates()) == 6  # shard 2 carried on with the tasks in its job store
    assert sorted(path.name for path in (out / "shard-2").glob("*.glb")) == ["rock.glb", "table.glb"]  # rows 2, 5
    assert meshes(out / "assembled.blend") == sorted(names)
    assert not (tmp_path / "worker-library").exists()  # KeepInLibrary "no": a farm node's library is nobody's
