"""`python -m meshy_blender bridge`: receive a model as the Meshy web app sends it, save it in a .blend."""

from __future__ import annotations

import json
import select
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import RUN_TIMEOUT_S, Cli, assets_in, cli_env, describe_blend
from sandbox_control import TEST_KEY, Sandbox
from web_app import WAIT_S, post_import, sandbox_glb_url, send_to_blender


class BridgeProcess:
    """The command running in the background, its JSON events read from stdout as they come."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.process = subprocess.Popen(
            cli.command("bridge", "--json", *args), cwd=cli.cwd, env=cli_env(cli.base_url, None), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def next_event(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], WAIT_S)
        assert ready, "no event from the bridge in time"
        line = stdout.readline()
        assert line, f"the bridge ended early: {self.stderr()}"
        return dict(json.loads(line))

    def finish(self) -> tuple[int, list[dict[str, Any]]]:
        """Wait for the exit; the exit code and the events not read yet."""
        out, _ = self.process.communicate(timeout=RUN_TIMEOUT_S)
        return self.process.returncode, [json.loads(line) for line in out.splitlines()]

    def stderr(self) -> str:
        self.process.kill()
        return self.process.communicate(timeout=RUN_TIMEOUT_S)[1][-2000:]


@pytest.fixture
def run_bridge(cli: Cli) -> Iterator[Any]:
    started: list[BridgeProcess] = []

    def start(*args: str) -> BridgeProcess:
        started.append(BridgeProcess(cli, *args))
        return started[-1]

    yield start
    for bridge in started:
        if bridge.process.poll() is None:
            bridge.process.kill()
            bridge.process.communicate(timeout=RUN_TIMEOUT_S)


def test_bridge_once_imports_the_sent_model_into_the_blend(run_bridge: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    url = sandbox_glb_url(sandbox.url, TEST_KEY)
    testing = "--allow-loopback-downloads"  # the sandbox serves the model from 127.0.0.1
    bridge = run_bridge("--port", "0", "--once", "-o", "received.blend", "--timeout", "60", testing)

    listening = bridge.next_event()
    assert listening["event"] == "listening"
    assert listening["url"] == f"http://127.0.0.1:{listening['port']}"
    send_to_blender(listening["port"], url, name="Sent robot")
    code, events = bridge.finish()

    assert code == 0, events
    assert [event["event"] for event in events] == ["imported"]
    assert events[0]["name"] == "Sent robot"
    assert events[0]["output"] == str(tmp_path / "received.blend")
    blend = describe_blend(tmp_path / "received.blend")
    robot = assets_in(blend)["Sent robot"]
    assert any(obj["type"] == "MESH" and obj["collections"] == ["Sent robot"] for obj in robot)
    assert sorted(obj_name for obj_name in blend["objects"]) == sorted(events[0]["objects"])
    assert blend["collections"]["Meshy"] == ["Sent robot"]
    assert blend["unpacked_images"] == []  # the downloads were temporary: textures live in the .blend


def test_bridge_refuses_a_model_from_outside_meshy_unless_testing(
    run_bridge: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    url = sandbox_glb_url(sandbox.url, TEST_KEY)
    bridge = run_bridge("--port", "0", "--once", "--timeout", "2")

    port = bridge.next_event()["port"]
    status, reply = post_import(port, url, name="Local file")
    code, events = bridge.finish()

    assert status == 400
    assert reply == {"status": "error", "message": "The model URL must use https://."}

    assert code == 5  # nothing was received before the timeout
    assert events == []
    assert not list(tmp_path.glob("*.blend"))


def test_bridge_on_a_taken_port_exits_5_and_says_so(cli: Cli) -> None:
    with socket.create_server(("127.0.0.1", 0)) as other_program:
        port = other_program.getsockname()[1]
        result = cli("bridge", "--port", str(port), "--json", key=None)

    assert result.code == 5
    assert f"port {port}" in result.event("error")["message"]


def test_bridge_help_names_every_option_and_its_limits(cli: Cli) -> None:
    result = cli("bridge", "--help", key=None)

    assert result.code == 0
    for text in ("--port", "--once", "--output", "--timeout", "--json", "127.0.0.1 only", "https://www.meshy.ai"):
        assert text in result.stdout
    assert "loopback" not in result.stdout  # the testing switch stays out of the help


def test_bridge_output_must_be_a_blend(cli: Cli) -> None:
    result = cli("bridge", "-o", "model.glb", key=None)

    assert result.code == 2
    assert ".blend" in result.stderr
