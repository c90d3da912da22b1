"""``meshy text-to-image`` writes real PNGs; ``multi-image-to-3d --input-task-id`` chains them into a model."""

from __future__ import annotations

from pathlib import Path

from cli_harness import Cli, describe_blend
from sandbox_control import TEST_KEY, Sandbox

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.tasks import TaskKind

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_four_views_into_a_folder_then_one_model_from_them_without_uploading(cli: Cli, sandbox: Sandbox) -> None:
    pictures = cli("text-to-image", "--prompt", "a brave knight", "--generate-multi-view", "-o", "pics", "--json")
    assert pictures.code == 0, pictures.stderr
    done = pictures.event("done")
    files = [Path(name) for name in done["files"]]
    assert sorted(path.name for path in (cli.cwd / "pics").iterdir()) == [
        f"a-brave-knight-{n}.png" for n in range(1, 5)
    ]
    contents = [path.read_bytes() for path in files]
    assert all(data.startswith(PNG_SIGNATURE) for data in contents)
    assert len(set(contents)) == 4

    model = cli("multi-image-to-3d", "--input-task-id", done["task_id"], "-o", "knight.blend", "--json")
    assert model.code == 0, model.stderr
    (create,) = [r for r in sandbox.creates() if r["path"].endswith("/multi-image-to-3d")]
    assert create["fields"] == ["input_task_id"]
    assert create["body_bytes"] < 100, "no picture was uploaded"
    meshes = [obj for obj in describe_blend(cli.cwd / "knight.blend")["objects"].values() if obj["type"] == "MESH"]
    assert meshes and all(obj["task_id"] == model.event("done")["task_id"] for obj in meshes)


def test_an_input_task_that_is_not_a_picture_task_is_refused_by_name(cli: Cli, sandbox: Sandbox) -> None:
    with MeshyClient(TEST_KEY, sandbox.url) as client:
        preview = client.text_to_3d_preview("a lamp")
        client.wait_for_task(TaskKind.TEXT_TO_3D, preview, poll_interval=0.05, timeout=10)

    chained = cli("image-to-3d", "--input-task-id", preview, "-o", "again.glb")
    assert chained.code == 3, chained.stderr
    assert "text-to-3d-preview task, not one of: image-to-image, text-to-image" in chained.stderr
    assert not (cli.cwd / "again.glb").exists()
