"""Every exit code of the command, and what is (not) sent before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_harness import ROOT, Cli, cli_env, is_glb
from sandbox_control import PAID_KEY, TEST_KEY, Sandbox, closed_port


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("text-to-3d", "--prompt", "x", "--no-such-option", "-o", "a.glb"), "unrecognized arguments"),
        (("text-to-3d", "--prompt", "x"), "--output"),
        (("text-to-3d", "--prompt", "x", "-o", "a.obj"), ".blend or .glb"),
        (("text-to-3d", "--prompt", "x" * 601, "-o", "a.glb"), "601 characters"),
        (("text-to-3d", "--prompt", "x", "--hd-texture", "-o", "a.glb"), "refine"),
        (("image-to-3d", "missing.png", "-o", "a.glb"), "not found"),
        (("rig", "--model", "notes.txt", "-o", "a.glb"), "GLB"),
        (("batch", "broken.jsonl", "--out-dir", "out"), "line 2"),
    ],
)
def test_bad_usage_or_input_exits_2_and_sends_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "broken.jsonl").write_text('{"name": "a", "kind": "text-to-3d", "prompt": "ok"}\n{"name": "b"}\n')
    result = cli(*argv)
    assert result.code == 2
    assert message in result.stderr
    assert sandbox.requests() == []
    assert not (tmp_path / "out").exists()


def test_a_missing_key_is_bad_usage(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("balance", "--json", key=None)
    assert result.code == 2
    assert "MESHY_API_KEY" in result.event("error")["message"]
    assert sandbox.requests() == []


def test_a_wrong_key_exits_3_before_any_task(cli: Cli, sandbox: Sandbox) -> None:
    wrong = "msy_this_key_is_wrong_0000000000"
    result = cli("text-to-3d", "--prompt", "a chair", "-o", "chair.glb", "--json", key=wrong)
    assert result.code == 3
    assert result.event("error")["exit_code"] == 3
    assert sandbox.creates() == []


def test_no_credits_left_exits_3(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.configure(balance=0)
    result = cli("text-to-3d", "--prompt", "a chair", "-o", "chair.glb", key=PAID_KEY)
    assert result.code == 3
    assert "credit" in result.stderr.lower()
    assert sandbox.creates() == []
    assert list(tmp_path.iterdir()) == []  # nothing to resume is left behind


def test_a_failed_task_exits_4_with_meshy_reason(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.fail_next("text-to-3d", message="The prompt was blocked by moderation", code="moderation_blocked")
    result = cli("text-to-3d", "--prompt", "a chair", "-o", "chair.blend", "--json")
    assert result.code == 4
    error = result.event("error")
    assert "blocked by moderation" in error["message"] and error["exit_code"] == 4
    assert list(tmp_path.iterdir()) == []  # no scene saved, no ledger kept


def test_an_unreachable_server_exits_5(cli: Cli) -> None:
    result = cli("balance", base_url=f"http://127.0.0.1:{closed_port()}")
    assert result.code == 5
    assert result.stderr.strip()


def test_a_hanging_server_times_out_with_5_and_a_second_run_picks_up_the_same_task(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.fault(r"text-to-3d/.+", "hang", method="GET", times=-1)
    first = cli("text-to-3d", "--prompt", "a slow chair", "-o", "chair.glb", "--timeout", "3", "--json")
    assert first.code == 5
    assert "again" in first.event("error")["message"]
    assert not (tmp_path / "chair.glb").exists()
    assert list((tmp_path / ".chair.glb.meshy" / "jobs").glob("*.json"))  # kept so the next run can resume

    sandbox.control("DELETE", "faults")
    second = cli("text-to-3d", "--prompt", "a slow chair", "-o", "chair.glb", "--json")
    assert second.code == 0, second.stderr
    assert second.event("resumed")["job_id"] == first.event("submitted")["job_id"]
    assert second.event("done")["task_id"] == first.event("state")["task_id"]
    assert len(sandbox.creates()) == 1  # the first run's task, never created again
    assert is_glb(tmp_path / "chair.glb")
    assert not (tmp_path / ".chair.glb.meshy").exists()


def test_help_answers_without_blender_and_register_command_works_in_bpy() -> None:
    """`blender -c meshy` needs a Blender binary; the bpy module can at least register and unregister it."""
    script = (
        "import bpy\n"
        "from meshy_blender.blender import registration as cli\n"
        "cli.register_command(); cli.register_command()\n"  # a second call must not register twice
        "assert cli._command is not None\n"
        "cli.unregister_command(); assert cli._command is None\n"
        "cli.register_command(); cli.unregister_command()\n"  # the id is free again after unregistering
        "print('ok')\n"
    )
    env = cli_env("http://127.0.0.1:9", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "ok"
    assert "already registered" not in done.stdout + done.stderr
    helped = subprocess.run(
        [sys.executable, "-m", "meshy_blender", "--help"], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    for command in ("text-to-3d", "image-to-3d", "multi-image-to-3d", "rig", "animate", "retexture", "batch",
                    "tasks", "balance"):  # fmt: skip
        assert command in helped.stdout


def test_inside_blender_without_online_mode_nothing_is_sent(cli: Cli, sandbox: Sandbox) -> None:
    """What `blender -b -c meshy …` does when Blender's online access is off: say how to turn it on."""
    script = "import sys\nfrom meshy_blender.blender.cli import command as cli\nsys.exit(cli.main(sys.argv[1:]))\n"
    done = subprocess.run(
        [sys.executable, "-c", script, "text-to-3d", "--prompt", "a chair", "-o", "chair.glb"],
        env=cli_env(sandbox.url, TEST_KEY), cwd=cli.cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 5
    assert "--online-mode" in done.stderr
    assert sandbox.requests() == []
