"""The animation library over real HTTP: the sandbox's catalogue endpoint and several actions in one task."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_samples import glb_bytes, sandbox_client
from sandbox_control import Sandbox

from meshy_blender.api import BadRequestError, MeshyClient, MeshyError, TaskKind, animations


@pytest.fixture
def client(sandbox: Sandbox, paid_key: str) -> Iterator[MeshyClient]:
    sandbox.configure(task_seconds=0.2)
    with sandbox_client(sandbox.url, paid_key) as result:
        yield result


def gltf_json(path: Path) -> dict:
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20 : 20 + length])


def test_the_library_endpoint_serves_the_catalogue(client: MeshyClient) -> None:
    served = client.animation_library()
    assert [(a.id, a.name, a.category) for a in served] == [
        (a.id, a.name, a.category) for a in animations.bundled().actions
    ]


def test_two_actions_make_one_task_whose_file_has_a_clip_per_action(
    client: MeshyClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    model = tmp_path / "body.glb"
    model.write_bytes(glb_bytes())
    rig = client.wait_for_task(TaskKind.RIGGING, client.rigging(model=model), poll_interval=0.05, timeout=30)
    before = client.balance()
    task_id = client.animation(rig.id, [1, 13])
    created = [r for r in sandbox.creates() if r["path"].endswith("/animations")]
    assert [r["fields"] for r in created] == [["action_ids", "rig_task_id"]]
    task = client.wait_for_task(TaskKind.ANIMATION, task_id, poll_interval=0.05, timeout=30)
    glb = client.download(task.glb_url, tmp_path / "animation.glb")
    clips = [animation["name"] for animation in gltf_json(glb)["animations"]]
    assert clips == ["Walking_Woman", "Jump_Run"]
    assert before - client.balance() == 6


def test_an_action_the_library_does_not_hold_is_refused_like_meshy(client: MeshyClient, tmp_path: Path) -> None:
    model = tmp_path / "body.glb"
    model.write_bytes(glb_bytes())
    rig = client.wait_for_task(TaskKind.RIGGING, client.rigging(model=model), poll_interval=0.05, timeout=30)
    for ids in (5000, [1, 5000]):
        with pytest.raises(BadRequestError, match="5000"):
            client.animation(rig.id, ids)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"result": "not a list"}', "not a list of actions"),
        ("[" * 100 + "]" * 100, "nested"),
        ('[{"action_id": 1, "name": NaN}]', "not a number"),
        ('[{"action_id": 1, "name": "x"}' + ', {"action_id": 2, "name": "y"}' * 10_000 + "]", "more than any library"),
    ],
)
def test_a_hostile_library_answer_is_refused_in_words(
    client: MeshyClient, sandbox: Sandbox, text: str, says: str
) -> None:
    sandbox.fault("/animations/library$", "body", times=-1, text=text)
    with pytest.raises(MeshyError, match=says):
        client.animation_library()
