"""The command keeps the key secret through full runs and failures, and writes only where it is told.

Every run uses keys that appear nowhere else, so finding one in an output, a debug log,
a saved scene, a GLB or a ledger (the one a timed-out run keeps included) means it leaked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from api_samples import png_bytes
from cli_harness import RUN_TIMEOUT_S, Cli, CliResult, cli_env, is_glb
from sandbox_control import TEST_KEY, Sandbox, closed_port

SECRET = "msy_SECRET_cli_key_must_not_leak_9b3e51"
WRONG = "msy_WRONG_cli_key_must_not_leak_c85d20"
SECRETS = (SECRET, WRONG)

#: ``python -m meshy_blender`` with every logger at DEBUG on stderr.
DEBUG_RUN = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    "from meshy_blender.__main__ import run\n"
    "sys.exit(run())\n"
)


def debug_run(cwd: Path, base_url: str, key: str, *args: str) -> CliResult:
    done = subprocess.run(
        [sys.executable, "-c", DEBUG_RUN, *args], cwd=cwd, env=cli_env(base_url, key), text=True,
        capture_output=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    return CliResult(done.returncode, done.stdout, done.stderr)


def write_manifest(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def holding(files: list[Path], *secrets: str) -> list[str]:
    """The files whose bytes contain one of ``secrets``."""
    return [f"{path} has {secret}" for path in files for secret in secrets if secret.encode() in path.read_bytes()]


def test_no_key_anywhere_after_full_runs_and_failures(cli: Cli, secret_sandbox: Sandbox, tmp_path: Path) -> None:
    secret_sandbox.reset(task_seconds=0.3)
    url = secret_sandbox.url
    results: dict[str, CliResult] = {}

    results["scene, debug log"] = debug_run(tmp_path, url, SECRET, "text-to-3d", "--prompt", "a lamp", "-o",
                                            "lamp.blend", "--json")  # fmt: skip
    assert results["scene, debug log"].code == 0, results["scene, debug log"].stderr
    assert "DEBUG:meshy_blender.api.http:POST " in results["scene, debug log"].stderr  # the debug log was on

    results["glb"] = cli("text-to-3d", "--prompt", "a lamp", "-o", "lamp.glb", key=SECRET, base_url=url)
    assert results["glb"].code == 0 and is_glb(tmp_path / "lamp.glb")

    results["--api-key"] = cli("tasks", "list", "--kind", "text-to-3d", "--api-key", SECRET, "--json", key=None,
                               base_url=url)  # fmt: skip
    assert results["--api-key"].code == 0 and results["--api-key"].event("tasks")["tasks"]

    manifest = write_manifest(tmp_path / "assets.jsonl", [
        {"name": "good", "kind": "text-to-3d", "prompt": "a good lamp"},
        {"name": "bad", "kind": "image-to-3d", "images": ["lamp.png"]},
    ])  # fmt: skip
    (tmp_path / "lamp.png").write_bytes(png_bytes())
    secret_sandbox.fail_next("image-to-3d", message="Image too complex", code="image_too_complex")
    results["batch with a failure, debug log"] = debug_run(tmp_path, url, SECRET, "batch", str(manifest),
                                                           "--out-dir", "out")  # fmt: skip
    assert results["batch with a failure, debug log"].code == 4

    secret_sandbox.fail_next("text-to-3d", message="Generation failed", code="generation_failed")
    results["failed task"] = cli("text-to-3d", "--prompt", "a failing lamp", "-o", "failed.blend", key=SECRET,
                                 base_url=url)  # fmt: skip
    assert results["failed task"].code == 4

    results["wrong key, json"] = cli("balance", "--json", key=WRONG, base_url=url)
    assert results["wrong key, json"].code == 3
    results["wrong key, debug log"] = debug_run(tmp_path, url, WRONG, "text-to-3d", "--prompt", "a lamp", "-o",
                                                "wrong.glb")  # fmt: skip
    assert results["wrong key, debug log"].code == 3

    results["unreachable, debug log"] = debug_run(tmp_path, f"http://127.0.0.1:{closed_port()}", SECRET, "balance")
    assert results["unreachable, debug log"].code == 5

    secret_sandbox.fault(r"text-to-3d/.+", "status", method="GET", times=-1, status=503)
    results["timed out, debug log"] = debug_run(tmp_path, url, SECRET, "text-to-3d", "--prompt", "a slow lamp",
                                                "-o", "slow.glb", "--timeout", "2", "--json")  # fmt: skip
    assert results["timed out, debug log"].code == 5
    assert list((tmp_path / ".slow.glb.meshy" / "jobs").glob("*.json"))  # kept for the next run: it must be clean too
    secret_sandbox.control("DELETE", "faults")

    for name, result in results.items():
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr, f"{secret} in the output of {name}"
    written = files_under(tmp_path)
    assert {"lamp.blend", "lamp.glb", "model.glb"} <= {path.name for path in written}
    assert any(path.parent.name == "jobs" and path.suffix == ".json" for path in written)  # a job record
    assert holding(written, *SECRETS) == []
    for request in secret_sandbox.requests():
        assert not any(secret in request["path"] for secret in SECRETS), request


def test_a_prompt_that_looks_like_a_path_writes_only_the_requested_files(cli: Cli, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "assets.jsonl", [
        {"name": "passwd", "kind": "text-to-3d", "prompt": "../../../etc/passwd"},
        {"name": "lamp", "kind": "text-to-3d", "prompt": "/tmp/lamp"},
    ])  # fmt: skip
    single = cli("text-to-3d", "--prompt", "../../escape/here", "-o", "single/model.glb", key=TEST_KEY)
    batch = cli("batch", str(manifest), "--out-dir", "out", key=TEST_KEY)

    assert single.code == 0 and batch.code == 0, single.stderr + batch.stderr
    top_level = {path.relative_to(tmp_path).parts[0] for path in files_under(tmp_path)}
    assert top_level == {"assets.jsonl", "single", "out"}
    assert [path.name for path in files_under(tmp_path / "single")] == ["model.glb"]
    out = tmp_path / "out"
    catalog_lock = ".blender_assets.cats.txt.lock"  # held while catalogs are merged into an existing file
    assert {path.relative_to(out).parts[0] for path in files_under(out)} - {catalog_lock} == {
        "passwd.glb",
        "lamp.glb",
        "batch.blend",
        "blender_assets.cats.txt",  # the output folder is an asset library: its catalogs
        ".meshy-batch-jobs",
        ".meshy-downloads",
    }
    for download in files_under(out / ".meshy-downloads"):
        assert len(download.relative_to(out / ".meshy-downloads").parts) == 2  # <job id>/model.glb


def test_manifest_names_that_are_paths_are_refused_before_anything_is_sent(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    names = ["/tmp/absolute", "..", ".hidden", "a/../../b", "C:evil", "nul\0byte", "~user"]
    rows: list[dict[str, object]] = [{"name": name, "kind": "text-to-3d", "prompt": "a lamp"} for name in names]
    manifest = write_manifest(tmp_path / "assets.jsonl", rows)
    before = files_under(tmp_path)

    result = cli("batch", str(manifest), "--out-dir", "out", key=TEST_KEY)

    assert result.code == 2
    for line in range(1, len(names) + 1):
        assert f"line {line}: 'name'" in result.stderr, (line, result.stderr)
    assert sandbox.requests() == []
    assert files_under(tmp_path) == before
    assert not (tmp_path / "out").exists()
    assert not Path("/tmp/absolute.glb").exists()
