"""`meshy animate` with several library actions: one request, one file, one Blender action per clip.

Asked at another frame rate than the scene's, the command says so.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import sandbox_assets
from cli_harness import TASK_SECONDS, Cli, describe_blend
from sandbox_control import TEST_KEY, Sandbox


def finished_rig(sandbox: Sandbox) -> str:
    """A rigging task that has already SUCCEEDED (made while the sandbox's tasks take no time)."""
    sandbox.configure(task_seconds=0)
    model = base64.b64encode(sandbox_assets.textured_glb(pbr=False)).decode()
    body = json.dumps({"model_url": f"data:application/octet-stream;base64,{model}"}).encode()
    request = urllib.request.Request(
        f"{sandbox.url}/openapi/v1/rigging",
        data=body,
        headers={"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id = json.loads(response.read())["result"]
    sandbox.configure(task_seconds=TASK_SECONDS)
    return task_id


def test_two_action_ids_make_one_request_and_two_actions_in_the_blend(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    rig = finished_rig(sandbox)
    result = cli(
        "animate", "--rig-task-id", rig, "--action-id", "1", "--action-id", "13", "--fps", "30",
        "-o", "moves.blend", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert "30 fps but the scene plays at 24 fps" in result.event("notice")["message"]

    creates = [r for r in sandbox.creates() if r["path"].endswith("/animations")]
    assert [r["fields"] for r in creates] == [["action_ids", "post_process", "rig_task_id"]]
    blend = describe_blend(tmp_path / "moves.blend")
    armatures = [obj for obj in blend["objects"].values() if obj["type"] == "ARMATURE"]
    assert len(armatures) == 1
    assert {"Walking_Woman", "Jump_Run"} <= set(blend["actions"])
