"""`batch`: many assets at once, failures mixed in, interrupted and resumed without paying twice."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import sandbox_assets
from api_samples import png_bytes
from cli_harness import Cli, assets_in, describe_blend, is_glb
from sandbox_control import PAID_KEY, TEST_KEY, Sandbox

from meshy_blender.api import MeshyClient
from meshy_blender.api.tasks import TaskKind
from meshy_blender.blender.scene.catalogs import read_catalogs

KILL_WAIT_S = 60


def write_manifest(folder: Path, rows: list[dict[str, Any]]) -> Path:
    path = folder / "assets.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def prop_manifest(folder: Path, count: int) -> tuple[Path, list[str]]:
    """A manifest of ``count`` text-to-3D props ("prop 0"… prompted "a prop number 0"…) and their names."""
    names = [f"prop {index}" for index in range(count)]
    rows = [{"name": name, "kind": "text-to-3d", "prompt": f"a prop number {i}"} for i, name in enumerate(names)]
    return write_manifest(folder, rows), names


def overlaps(a: list[list[float]], b: list[list[float]]) -> bool:
    """Whether two world bounding boxes overlap on the XY plane."""
    return all(a[0][axis] < b[1][axis] and b[0][axis] < a[1][axis] for axis in (0, 1))


def prompts_created(base_url: str, key: str) -> Counter[str]:
    with MeshyClient(key, base_url) as client:
        return Counter(task.prompt for task in client.list_tasks(TaskKind.TEXT_TO_3D, page_size=50))


def test_batch_with_a_failure_then_a_second_run_finishes_it(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "vase.png").write_bytes(png_bytes())
    (tmp_path / "inputs" / "hero.glb").write_bytes(sandbox_assets.textured_glb(pbr=True))
    manifest = write_manifest(tmp_path / "inputs", [
        {"name": "chair", "kind": "text-to-3d", "prompt": "a wooden chair", "target_polycount": 5000},
        {"name": "table", "kind": "text-to-3d", "prompt": "a round table", "ai_model": "meshy-8-preview"},
        {"name": "vase", "kind": "image-to-3d", "images": ["vase.png"]},
        {"name": "hero", "kind": "rig", "model": "hero.glb", "height_meters": 1.8},
        {"name": "hero jump", "kind": "animate", "rig_of": "hero", "action_id": 13},
    ])  # fmt: skip
    sandbox.fail_next("image-to-3d", message="Image too complex", code="image_too_complex")

    first = cli("batch", str(manifest), "--out-dir", "out", "--concurrency", "3", "--json", key=PAID_KEY)
    assert first.code == 4, first.stderr
    summary = first.event("summary")
    assert sorted(summary["done"]) == ["chair", "hero", "hero jump", "table"]
    assert summary["failed"] == [{"name": "vase", "reason": summary["failed"][0]["reason"]}]
    assert "Image too complex" in summary["failed"][0]["reason"]
    assert summary["credits"] == 20 + 20 + 5 + 3  # the failed task was refunded
    assert summary["consumed_credits"] == {"chair": 20, "table": 20, "vase": 0, "hero": 5, "hero jump": 3}
    out = tmp_path / "out"
    for name in ("chair", "table", "hero", "hero jump"):
        assert is_glb(out / f"{name}.glb")
    assert not (out / "vase.glb").exists()

    second = cli("batch", str(manifest), "--out-dir", "out", "--json", key=PAID_KEY)
    assert second.code == 0, second.stderr
    assert sorted(second.event("summary")["done"]) == ["chair", "hero", "hero jump", "table", "vase"]
    assert "glTF import finished" not in first.stderr + second.stderr  # a farm log holds our lines, not its chatter
    assert [event["name"] for event in second.events if event["event"] == "submitted"] == ["vase"]
    creates = Counter(request["path"] for request in sandbox.creates())
    assert creates == {  # only the failed asset was made again
        "/openapi/v2/text-to-3d": 2, "/openapi/v1/image-to-3d": 2, "/openapi/v1/rigging": 1,
        "/openapi/v1/animations": 1,
    }  # fmt: skip
    # A model id the catalogue does not know reaches Meshy as given.
    assert [r["ai_model"] for r in sandbox.creates() if "ai_model" in r] == ["meshy-8-preview"]
    assert is_glb(out / "vase.glb")

    blend = describe_blend(out / "batch.blend")
    assets = assets_in(blend)
    assert sorted(assets) == ["chair", "hero", "hero jump", "table", "vase"]
    assert sorted(blend["collections"]["Meshy"]) == sorted(assets)  # one collection per asset
    assert not (out / "parts").exists()  # fewer assets than a part: all of them in batch.blend itself
    for name, parts in assets.items():
        assert len({obj["job_id"] for obj in parts}) == 1, name  # imported once
        assert all(obj["collections"] == [name] for obj in parts)
    meshes = {name: next(obj["bounds"] for obj in parts if obj["type"] == "MESH") for name, parts in assets.items()}
    for (a, box_a), (b, box_b) in combinations(meshes.items(), 2):
        assert not overlaps(box_a, box_b), (a, b)  # laid out in a grid
    catalog = read_catalogs(out)  # the output folder is an asset library as is
    assert {name: catalog[asset["catalog_id"]] for name, asset in blend["assets"].items()} == {
        "chair": "Meshy/Text to 3D", "table": "Meshy/Text to 3D", "vase": "Meshy/Image to 3D",
        "hero": "Meshy/Rigged", "hero jump": "Meshy/Animated",
    }  # fmt: skip


def test_an_interrupted_batch_resumes_without_creating_any_task_twice(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=1.5)
    manifest, names = prop_manifest(tmp_path, 6)
    process = cli.start("batch", str(manifest), "--out-dir", "out", "--concurrency", "2")
    deadline = time.monotonic() + KILL_WAIT_S
    while len(sandbox.creates()) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    created_before = len(sandbox.creates())
    assert 2 <= created_before < len(names)  # killed mid-way

    resumed = cli("batch", str(manifest), "--out-dir", "out", "--concurrency", "2", "--json")
    assert resumed.code == 0, resumed.stderr
    assert sorted(resumed.event("summary")["done"]) == names
    assert prompts_created(sandbox.url, TEST_KEY) == {f"a prop number {index}": 1 for index in range(len(names))}
    out = tmp_path / "out"
    assert all(is_glb(out / f"{name}.glb") for name in names)
    assets = assets_in(describe_blend(out / "batch.blend"))
    assert sorted(assets) == names
    assert all(len(parts) == 1 for parts in assets.values())  # each imported once
