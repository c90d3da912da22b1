"""`batch --part-size N`: results written to part files that batch.blend links; resumed, nothing twice."""

from __future__ import annotations

import signal
import time
from itertools import combinations
from pathlib import Path

import sandbox_assets
from api_samples import png_bytes
from cli_harness import Cli, assets_in, describe_blend
from sandbox_control import TEST_KEY, Sandbox
from test_cli_batch import KILL_WAIT_S, overlaps, prompts_created, prop_manifest, write_manifest

from meshy_blender.blender.scene.catalogs import read_catalogs


def part_names(out: Path) -> list[str]:
    return sorted(path.name for path in (out / "parts").glob("*.blend"))


def test_a_batch_in_parts_links_every_result_once_textured_and_laid_out(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "vase.png").write_bytes(png_bytes())
    (tmp_path / "hero.glb").write_bytes(sandbox_assets.textured_glb(pbr=True))
    manifest = write_manifest(tmp_path, [
        {"name": "chair", "kind": "text-to-3d", "prompt": "a wooden chair"},
        {"name": "table", "kind": "text-to-3d", "prompt": "a round table"},
        {"name": "vase", "kind": "image-to-3d", "images": ["vase.png"], "enable_pbr": True},
        {"name": "hero", "kind": "rig", "model": "hero.glb"},
        {"name": "hero jump", "kind": "animate", "rig_of": "hero", "action_id": 13},
    ])  # fmt: skip

    run = cli("batch", str(manifest), "--out-dir", "out", "--part-size", "2", "--json")
    assert run.code == 0, run.stderr
    assert sorted(run.event("summary")["done"]) == ["chair", "hero", "hero jump", "table", "vase"]
    out = tmp_path / "out"
    assert part_names(out) == ["batch-part-001.blend", "batch-part-002.blend"]  # 2 + 2, the fifth in batch.blend

    blend = describe_blend(out / "batch.blend")
    assets = assets_in(blend)
    assert sorted(assets) == ["chair", "hero", "hero jump", "table", "vase"]
    assert sorted(blend["collections"]["Meshy"]) == sorted(assets)  # one collection per asset, all under Meshy
    for name, objects in assets.items():
        assert len({obj["job_id"] for obj in objects}) == 1, name  # imported once
    textured = {name: obj["textured"] for name, objects in assets.items() for obj in objects if obj["type"] == "MESH"}
    assert textured["vase"] == ["base_color", "metallic", "normal", "roughness"]  # maps came along, from a part
    actions = {obj["action"] for obj in assets["hero jump"] if obj["type"] == "ARMATURE"}
    assert actions and None not in actions  # the clip plays, from its part
    assert blend["unpacked_images"] == []
    meshes = {name: next(obj["bounds"] for obj in objs if obj["type"] == "MESH") for name, objs in assets.items()}
    for (a, box_a), (b, box_b) in combinations(meshes.items(), 2):
        assert not overlaps(box_a, box_b), (a, b)  # each part a block of the grid, blocks side by side
    catalog = read_catalogs(out)  # the folder (parts included) is an asset library as is
    assert {catalog[asset["catalog_id"]] for asset in blend["assets"].values()} >= {"Meshy/Text to 3D", "Meshy/Rigged"}
    # The links are relative: the folder can move.
    moved = tmp_path / "moved"
    out.rename(moved)
    assert sorted(assets_in(describe_blend(moved / "batch.blend"))) == sorted(assets)


def test_an_interrupted_batch_in_parts_resumes_without_creating_or_importing_twice(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=1.0)
    manifest, names = prop_manifest(tmp_path, 7)
    out = tmp_path / "out"
    process = cli.start("batch", str(manifest), "--out-dir", "out", "--concurrency", "2", "--part-size", "2")
    deadline = time.monotonic() + KILL_WAIT_S
    while not part_names(out) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # after the first part was written, before the run ended
    process.wait(timeout=10)
    assert part_names(out), "the run ended before writing a part"
    assert len(sandbox.creates()) < len(names)

    resumed = cli("batch", str(manifest), "--out-dir", "out", "--concurrency", "2", "--part-size", "2", "--json")
    assert resumed.code == 0, resumed.stderr
    assert sorted(resumed.event("summary")["done"]) == names
    assert prompts_created(sandbox.url, TEST_KEY) == {f"a prop number {index}": 1 for index in range(len(names))}
    assets = assets_in(describe_blend(out / "batch.blend"))
    assert sorted(assets) == names
    assert all(len(objects) == 1 for objects in assets.values())  # each imported once, in a part or here

    again = cli("batch", str(manifest), "--out-dir", "out", "--part-size", "2", "--json")
    assert again.code == 0, again.stderr
    assert [event for event in again.events if event["event"] == "submitted"] == []
    assets = assets_in(describe_blend(out / "batch.blend"))
    assert sorted(assets) == names and all(len(objects) == 1 for objects in assets.values())


def test_assemble_joins_shards_written_in_parts(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [
        {"name": f"crate {index}", "kind": "text-to-3d", "prompt": f"a crate number {index}"} for index in range(6)
    ])  # fmt: skip
    for index in (1, 2):
        run = cli("batch", str(manifest), "--out-dir", f"shard-{index}", "--shard", f"{index}/2", "--part-size", "2")
        assert run.code == 0, run.stderr
    assert part_names(tmp_path / "shard-1") == ["batch-part-001.blend"]

    joined = cli("assemble", "shard-1", "shard-2", "-o", "all.blend", "--json")
    assert joined.code == 0, joined.stderr
    assert joined.event("assembled")["assets"] == 6
    blend = describe_blend(tmp_path / "all.blend")
    assert sorted(assets_in(blend)) == [f"crate {index}" for index in range(6)]
    assert blend["unpacked_images"] == []
    assert len(blend["collections"]["Meshy"]) == 6
    for index in (1, 2):  # appended, not linked: all.blend needs neither the shards nor their parts
        (tmp_path / f"shard-{index}").rename(tmp_path / f"gone-{index}")
    assert sorted(assets_in(describe_blend(tmp_path / "all.blend"))) == [f"crate {index}" for index in range(6)]


def test_a_part_the_disk_refuses_is_said_and_the_next_run_makes_it_without_paying_again(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    manifest, names = prop_manifest(tmp_path, 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "parts").write_text("not a folder")  # where the part must go, the disk says no

    refused = cli("batch", str(manifest), "--out-dir", "out", "--part-size", "2", "--json")
    assert refused.code == 6, refused.stderr
    assert "batch-part-001.blend" in refused.event("error")["message"]
    created = len(sandbox.creates())

    (out / "parts").unlink()
    again = cli("batch", str(manifest), "--out-dir", "out", "--part-size", "2", "--json")
    assert again.code == 0, again.stderr
    assert len(sandbox.creates()) == created  # the paid results were kept: nothing created again
    assert part_names(out) == ["batch-part-001.blend"]
    assets = assets_in(describe_blend(out / "batch.blend"))
    assert sorted(assets) == names and all(len(objects) == 1 for objects in assets.values())
