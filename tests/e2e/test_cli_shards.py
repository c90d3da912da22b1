"""`batch --shard K/N`, `batch --max-credits N` and `assemble`: a batch split over machines and put back together."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

import sandbox_assets
from cli_harness import Cli, assets_in, describe_blend
from sandbox_control import PAID_KEY, Sandbox
from test_cli_batch import overlaps, write_manifest

from meshy_blender.blender.scene.catalogs import read_catalogs


def test_a_rig_keeps_its_animation_in_its_shard_and_assemble_joins_the_shards(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "hero.glb").write_bytes(sandbox_assets.textured_glb(pbr=True))
    manifest = write_manifest(tmp_path, [
        {"name": "hero", "kind": "rig", "model": "hero.glb"},
        {"name": "chair", "kind": "text-to-3d", "prompt": "a chair"},
        {"name": "table", "kind": "text-to-3d", "prompt": "a table"},
        {"name": "hero jump", "kind": "animate", "rig_of": "hero", "action_id": 13},  # row 4: shard 2 by itself
    ])  # fmt: skip
    done = {}
    for index in (1, 2):
        run = cli("batch", str(manifest), "--out-dir", f"shard-{index}", "--shard", f"{index}/2", "--json")
        assert run.code == 0, run.stderr
        done[index] = sorted(run.event("summary")["done"])
    assert done == {1: ["hero", "hero jump", "table"], 2: ["chair"]}
    assert len(sandbox.creates()) == 4
    assert sorted(path.name for path in (tmp_path / "shard-2").glob("*.glb")) == ["chair.glb"]

    joined = cli("assemble", "shard-1", "shard-2", "-o", "all.blend", "--json")
    assert joined.code == 0, joined.stderr
    assert joined.event("assembled")["assets"] == 4
    blend = describe_blend(tmp_path / "all.blend")
    assets = assets_in(blend)
    assert sorted(assets) == ["chair", "hero", "hero jump", "table"]
    assert sorted(blend["collections"]["Meshy"]) == sorted(assets)  # one collection per asset
    assert all(obj["collections"] == [name] for name, parts in assets.items() for obj in parts)
    assert any(obj["type"] == "ARMATURE" and obj["action"] for obj in assets["hero jump"])
    assert "running" in blend["actions"]  # the rig's second clip, kept only by its fake user
    assert not blend["unpacked_images"]
    catalog = read_catalogs(tmp_path)  # beside all.blend: the shards' asset marks are kept, their catalogs defined
    assert {name: catalog[asset["catalog_id"]] for name, asset in blend["assets"].items()} == {
        "hero": "Meshy/Rigged", "chair": "Meshy/Text to 3D", "table": "Meshy/Text to 3D", "hero jump": "Meshy/Animated",
    }  # fmt: skip
    meshes = {name: next(obj["bounds"] for obj in parts if obj["type"] == "MESH") for name, parts in assets.items()}
    for (a, box_a), (b, box_b) in combinations(meshes.items(), 2):
        assert not overlaps(box_a, box_b), (a, b)

    (tmp_path / "empty").mkdir()
    for dirs, message in (
        (["shard-1", "nowhere"], "no such folder"),
        (["shard-1", "empty"], "holds no batch.blend"),
        (["shard-1", "shard-1"], "given twice"),
    ):
        refused = cli("assemble", *dirs, "-o", "bad.blend")
        assert (refused.code, message in refused.stderr) == (2, True), refused.stderr
    assert not (tmp_path / "bad.blend").exists()
    too_many = cli("batch", str(manifest), "--out-dir", "x", "--shard", "4/4")  # hero jump goes with hero
    assert (too_many.code, "Shard 4/4 has no rows" in too_many.stderr) == (2, True), too_many.stderr


def test_max_credits_counts_earlier_runs_and_names_what_it_left_undone(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, [
        {"name": name, "kind": "text-to-3d", "prompt": f"a {name}"} for name in ("chair", "table", "lamp")
    ])  # fmt: skip
    batch = ("batch", str(manifest), "--out-dir", "out", "--json")

    first = cli(*batch, "--max-credits", "45", key=PAID_KEY)  # a preview is estimated at 20 credits
    assert first.code == 8, first.stderr
    summary = first.event("summary")
    left_undone = [left["name"] for left in summary["over_budget"]]
    assert (sorted(summary["done"]), left_undone) == (["chair", "table"], ["lamp"])
    assert "--max-credits 45" in summary["over_budget"][0]["reason"]

    again = cli(*batch, "--max-credits", "45", key=PAID_KEY)  # the 40 credits of the first run still count
    assert again.code == 8, again.stderr
    assert len(sandbox.creates()) == 2

    raised = cli(*batch, "--max-credits", "60", key=PAID_KEY)
    assert raised.code == 0, raised.stderr
    assert raised.event("summary")["over_budget"] == []
    assert Counter(request["path"] for request in sandbox.creates()) == {"/openapi/v2/text-to-3d": 3}
