"""The output is the identity of a run: checked before paying, locked while written, never written through a trap.

Each case runs the real command (``python -m meshy_blender``) against the sandbox and
counts the tasks created there. Folders that cannot be written are made honestly for a
root test run (root ignores permission bits): a parent that is a file, and, where the
test may mount, a read-only or tiny full tmpfs.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import RUN_TIMEOUT_S, Cli, CliResult, assets_in, cli_env, describe_blend, is_glb
from sandbox_control import TEST_KEY, Sandbox
from test_cli_batch import write_manifest

WAIT_S = 60


def start(cli: Cli, *args: str) -> subprocess.Popen[str]:
    """The command in the background, its output captured (``finish`` reads it)."""
    return subprocess.Popen(
        cli.command(*args), cwd=cli.cwd, env=cli_env(cli.base_url, TEST_KEY), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> CliResult:
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    return CliResult(process.returncode, stdout, stderr)


def wait_for_creates(sandbox: Sandbox, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while len(sandbox.creates()) < count:
        assert process.poll() is None, "the command ended before creating its task"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def assert_clean_ending(result: CliResult, code: int) -> None:
    assert result.code == code, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A real tmpfs mounted at ``folder``: a read-only or full disk, as root has in CI (never skipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.fail(f"these tests mount a tmpfs (root, as in CI) and could not: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Write into ``folder`` until its file system is full."""
    with open(folder / "filler", "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)


# -- two runs on one output ------------------------------------------------------------------


def test_two_identical_commands_at_once_create_one_task(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.configure(task_seconds=2.0)
    argv = ("text-to-3d", "--prompt", "a brass lamp", "-o", "lamp.blend", "--json")
    first, second = start(cli, *argv), start(cli, *argv)
    results = sorted((finish(first), finish(second)), key=lambda result: result.code)

    assert [result.code for result in results] == [0, 7], [r.stderr[-2000:] for r in results]
    busy = results[1]
    assert "Another run is writing" in busy.event("error")["message"]
    assert str(tmp_path / "lamp.blend") in busy.event("error")["message"]
    assert len(sandbox.creates()) == 1
    assert len(assets_in(describe_blend(tmp_path / "lamp.blend"))["a brass lamp"]) == 1
    assert not list(tmp_path.glob(".lamp.blend*"))  # work folder and lock gone after the result


def test_a_second_command_that_waits_takes_the_first_ones_result(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    # The second must start while the first still runs: a Blender start under CI's load took longer than 2 s.
    sandbox.configure(task_seconds=6.0)
    argv = ("text-to-3d", "--prompt", "a brass lamp", "-o", "lamp.glb", "--json", "--wait-for-output", "60")
    first = start(cli, *argv)
    wait_for_creates(sandbox, 1, first)
    second = start(cli, *argv)
    results = [finish(first), finish(second)]

    for result in results:
        assert_clean_ending(result, 0)
    assert results[1].event("done")["note"] == "another run"
    assert len(sandbox.creates()) == 1
    assert is_glb(tmp_path / "lamp.glb")


def test_two_batches_at_once_on_one_out_dir_create_each_asset_once(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.configure(task_seconds=1.5)
    names = ["chair", "table", "stool"]
    manifest = write_manifest(tmp_path, [
        {"name": name, "kind": "text-to-3d", "prompt": f"a wooden {name}"} for name in names
    ])  # fmt: skip
    argv = ("batch", str(manifest), "--out-dir", "out", "--json", "--wait-for-output", "120")
    runs = [start(cli, *argv), start(cli, *argv)]
    results = [finish(run) for run in runs]

    for result in results:
        assert_clean_ending(result, 0)
        assert sorted(result.event("summary")["done"]) == sorted(names)
    assert len(sandbox.creates()) == len(names)
    out = tmp_path / "out"
    assert sorted(assets_in(describe_blend(out / "batch.blend"))) == sorted(names)
    for name in names:
        published, downloaded = out / f"{name}.glb", next((out / ".meshy-downloads").rglob("model.glb"))
        assert is_glb(published)
        # the copy keeps the permission bits of what it copies (a private download stays private)
        assert stat.S_IMODE(published.stat().st_mode) == stat.S_IMODE(downloaded.stat().st_mode)


# -- outputs that cannot be written, found before paying ---------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("text-to-3d", "--prompt", "a lamp", "-o", "blocker/props/lamp.blend"),
        ("text-to-3d", "--prompt", "a lamp", "-o", "blocker/lamp.glb"),
        ("batch", "assets.jsonl", "--out-dir", "blocker/out"),
    ],
    ids=["blend under a file", "glb under a file", "batch under a file"],
)
def test_an_output_under_a_file_exits_2_and_sends_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    write_manifest(tmp_path, [{"name": "lamp", "kind": "text-to-3d", "prompt": "a lamp"}])
    result = cli(*argv)
    assert_clean_ending(result, 2)
    assert f"{tmp_path / 'blocker'} is a file, not a folder" in result.stderr
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("options", "reason"),
    [("ro,size=1m", "Read-only file system"), ("size=64k", "No space left on device")],
    ids=["read-only", "full"],
)
def test_a_read_only_or_full_output_folder_exits_2_and_sends_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, options: str, reason: str
) -> None:
    with tmpfs(tmp_path / "disk", options) as disk:
        if "ro" not in options:
            fill(disk)
        result = cli("text-to-3d", "--prompt", "a lamp", "-o", "disk/lamp.blend")
    assert_clean_ending(result, 2)
    assert f"Cannot write lamp.blend in {tmp_path / 'disk'}: {reason}" in result.stderr
    assert sandbox.requests() == []


# -- a write that fails after paying ------------------------------------------------------------


@pytest.mark.parametrize("name", ["lamp.glb", "lamp.blend"])
def test_a_paid_result_that_cannot_be_written_exits_6_and_the_next_run_writes_it_without_paying(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, name: str
) -> None:
    sandbox.configure(task_seconds=2.0)
    output = tmp_path / "out" / name
    run = start(cli, "text-to-3d", "--prompt", "a brass lamp", "-o", f"out/{name}", "--json")
    wait_for_creates(sandbox, 1, run)
    output.mkdir()  # the task is paid; now the output's name is taken by a folder that is not empty
    (output / "keep.txt").write_text("something else")
    failed = finish(run)

    assert_clean_ending(failed, 6)
    message = failed.event("error")["message"]
    assert f"Cannot write {output}" in message and "run the same command again" in message
    assert (output.parent / f".{name}.meshy").is_dir()  # the paid job is kept
    assert not [path.name for path in output.parent.iterdir() if path.name.endswith((".tmp", "@"))]
    assert not [path.name for path in output.parent.glob(f".{name}.*") if path.is_dir() and "meshy" not in path.name]

    shutil.rmtree(output)
    again = cli("text-to-3d", "--prompt", "a brass lamp", "-o", f"out/{name}", "--json")
    assert_clean_ending(again, 0)
    assert len(sandbox.creates()) == 1  # written from the paid task, not paid again
    if name.endswith(".glb"):
        assert is_glb(output)
    else:
        assert len(assets_in(describe_blend(output))["a brass lamp"]) == 1


def test_a_disk_that_fills_up_during_the_download_exits_6_and_the_next_run_pays_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Room for the probe and the job's record, not for the 40 KB model: the download fails on a full disk."""
    with tmpfs(tmp_path / "disk", "size=32k") as disk:
        failed = cli("text-to-3d", "--prompt", "a brass lamp", "-o", "disk/lamp.glb", "--json")
        assert_clean_ending(failed, 6)
        assert "No space left on device" in failed.event("error")["message"]
        assert len(sandbox.creates()) == 1

        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        again = cli("text-to-3d", "--prompt", "a brass lamp", "-o", "disk/lamp.glb", "--json")
        assert_clean_ending(again, 0)
        assert len(sandbox.creates()) == 1
        assert is_glb(disk / "lamp.glb")


# -- traps at the temporary names -----------------------------------------------------------------


def test_symlinks_planted_at_the_temporary_names_are_not_followed(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    for trap in (".lamp.glb.tmp", "lamp.blend@"):
        (out / trap).symlink_to(victim)

    for name in ("lamp.glb", "lamp.blend"):
        assert_clean_ending(cli("text-to-3d", "--prompt", "a lamp", "-o", f"out/{name}"), 0)

    assert victim.read_text() == "precious"
    assert is_glb(out / "lamp.glb") and not (out / "lamp.glb").is_symlink()
    assert not (out / "lamp.blend").is_symlink()
    assert json.dumps(sorted(assets_in(describe_blend(out / "lamp.blend")))) == '["a lamp"]'
