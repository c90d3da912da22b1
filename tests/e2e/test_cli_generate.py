"""The single-asset commands end to end: `python -m meshy_blender <command> -o FILE` against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
import sandbox_assets
from api_samples import png_bytes
from cli_harness import Cli, assets_in, describe_blend, is_glb
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.blender.scene.catalogs import read_catalogs

PBR = ["base_color", "metallic", "normal", "roughness"]


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / f"view{index}.png" for index in range(2)]
    for path in paths:
        path.write_bytes(png_bytes())
    return paths


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "figure.glb"
    path.write_bytes(sandbox_assets.textured_glb(pbr=True))
    return path


def create_paths(sandbox: Sandbox) -> list[str]:
    return [request["path"] for request in sandbox.creates()]


def test_text_to_3d_preview_saves_the_glb(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    result = cli("text-to-3d", "--prompt", "a wooden chair", "--target-polycount", "5000", "-o", "out/chair.glb",
                 "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    done = result.event("done")
    assert done["output"] == str(tmp_path / "out" / "chair.glb")
    assert is_glb(tmp_path / "out" / "chair.glb")
    assert create_paths(sandbox) == ["/openapi/v2/text-to-3d"]
    states = [event["state"] for event in result.events if event["event"] == "state"]
    assert states[-1] == "done" and "running" in states
    assert any(event["event"] == "progress" for event in result.events)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["chair.glb"]  # work folder cleaned up


def test_refine_with_pbr_saves_a_scene_and_later_commands_add_to_it(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, images: list[Path]
) -> None:
    refined = cli("text-to-3d", "--prompt", "a brass lamp", "--refine", "--enable-pbr", "-o", "scene.blend",
                  key=PAID_KEY)  # fmt: skip
    assert refined.code == 0, refined.stderr
    assert refined.stdout.strip() == f"Saved {tmp_path / 'scene.blend'} (30 credits)"
    assert create_paths(sandbox) == ["/openapi/v2/text-to-3d"] * 2  # preview, then refine
    image = cli("image-to-3d", images[0].name, "--should-texture", "--no-enable-pbr", "-o", "scene.blend")
    assert image.code == 0, image.stderr

    blend = describe_blend(tmp_path / "scene.blend")
    assets = assets_in(blend)
    assert sorted(assets) == ["a brass lamp", "view0"]
    lamp, photo = assets["a brass lamp"][0], assets["view0"][0]
    assert lamp["type"] == "MESH" and lamp["collections"] == ["a brass lamp"]
    assert lamp["textured"] == PBR
    assert photo["textured"] == ["base_color"]
    assert sorted(blend["collections"]["Meshy"]) == ["a brass lamp", "view0"]
    assert lamp["job_id"] != photo["job_id"]
    assert blend["unpacked_images"] == []  # textures travel inside the .blend
    marked = blend["assets"]  # each result is one object: that object is the asset
    catalog = read_catalogs(tmp_path)  # the catalog file beside scene.blend
    assert {name: catalog[asset["catalog_id"]] for name, asset in marked.items()} == {
        "a brass lamp": "Meshy/Text to 3D", "view0": "Meshy/Image to 3D"}  # fmt: skip
    assert {"Meshy", "Text to 3D", "brass", "lamp"} <= set(marked["a brass lamp"]["tags"])
    assert all(asset["preview_size"][0] > 0 for asset in marked.values())  # Meshy's thumbnail


def test_multi_image_to_3d(cli: Cli, sandbox: Sandbox, tmp_path: Path, images: list[Path]) -> None:
    result = cli("multi-image-to-3d", *(str(path) for path in images), "--symmetry-mode", "on", "-o", "statue.glb")
    assert result.code == 0, result.stderr
    assert is_glb(tmp_path / "statue.glb")
    assert create_paths(sandbox) == ["/openapi/v1/multi-image-to-3d"]


def test_rig_a_model_file_into_a_scene_with_its_clips(cli: Cli, sandbox: Sandbox, tmp_path: Path, model: Path) -> None:
    result = cli("rig", "--model", model.name, "--height-meters", "1.8", "-o", "rigged.blend")
    assert result.code == 0, result.stderr
    assert create_paths(sandbox) == ["/openapi/v1/rigging"]
    blend = describe_blend(tmp_path / "rigged.blend")
    (parts,) = assets_in(blend).values()
    armature = next(obj for obj in parts if obj["type"] == "ARMATURE")
    assert armature["action"] in ("walking", "running")
    assert {"walking", "running"} <= set(blend["actions"])
    assert any(obj["type"] == "MESH" for obj in parts)


def test_chained_commands_use_task_ids(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    """text-to-3d → rig --task-id → animate --rig-task-id → retexture --task-id, each to a GLB."""
    preview = cli("text-to-3d", "--prompt", "a knight", "--pose-mode", "t-pose", "-o", "knight.glb", "--json")
    assert preview.code == 0, preview.stderr
    rig = cli("rig", "--task-id", preview.event("done")["task_id"], "-o", "knight-rig.glb", "--json")
    assert rig.code == 0, rig.stderr
    assert sorted(rig.event("done")["files"]) == [
        str(tmp_path / name) for name in ("knight-rig-running.glb", "knight-rig-walking.glb", "knight-rig.glb")
    ]
    animate = cli("animate", "--rig-task-id", rig.event("done")["task_id"], "--action-id", "13", "--fps", "30",
                  "-o", "knight-jump.blend")  # fmt: skip
    assert animate.code == 0, animate.stderr
    retexture = cli("retexture", "--task-id", preview.event("done")["task_id"], "--text-style-prompt", "gold armour",
                    "--enable-pbr", "-o", "golden.glb")  # fmt: skip
    assert retexture.code == 0, retexture.stderr

    assert create_paths(sandbox) == [
        "/openapi/v2/text-to-3d", "/openapi/v1/rigging", "/openapi/v1/animations", "/openapi/v1/retexture",
    ]  # fmt: skip
    for name in ("knight.glb", "knight-rig.glb", "knight-rig-walking.glb", "golden.glb"):
        assert is_glb(tmp_path / name)
    jump = describe_blend(tmp_path / "knight-jump.blend")
    (parts,) = assets_in(jump).values()
    assert any(obj["type"] == "ARMATURE" and obj["action"] for obj in parts)


def test_retexture_a_model_file_with_an_image_style(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, model: Path, images: list[Path]
) -> None:
    result = cli("retexture", "--model", str(model), "--image-style-url", str(images[0]), "-o", "styled.glb")
    assert result.code == 0, result.stderr
    assert is_glb(tmp_path / "styled.glb")
    assert create_paths(sandbox) == ["/openapi/v1/retexture"]


def test_tasks_and_balance(cli: Cli, sandbox: Sandbox) -> None:
    made = cli("text-to-3d", "--prompt", "a teapot", "-o", "teapot.glb", "--json", key=PAID_KEY)
    assert made.code == 0, made.stderr
    task_id = made.event("done")["task_id"]

    listed = cli("tasks", "list", "--kind", "text-to-3d", "--page-size", "5", "--json", key=PAID_KEY)
    assert listed.code == 0, listed.stderr
    assert [task["id"] for task in listed.event("tasks")["tasks"]] == [task_id]
    shown = cli("tasks", "get", task_id, "--kind", "text-to-3d", key=PAID_KEY)
    assert shown.code == 0, shown.stderr
    assert task_id in shown.stdout and "SUCCEEDED" in shown.stdout and "a teapot" in shown.stdout
    balance = cli("balance", "--json", key=PAID_KEY)
    assert balance.event("balance")["balance"] == 1000 - 20

    deleted = cli("tasks", "delete", task_id, "--kind", "text-to-3d", key=PAID_KEY)
    assert deleted.code == 0, deleted.stderr
    gone = cli("tasks", "get", task_id, "--kind", "text-to-3d", "--json", key=PAID_KEY)
    assert gone.code == 3
    assert gone.event("error")["exit_code"] == 3
