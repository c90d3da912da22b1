"""``meshy library`` end to end: what a command and a batch made is listed, imported from disk, removed."""

from __future__ import annotations

import json
from pathlib import Path

from cli_harness import LIBRARY_DIR, Cli, assets_in, describe_blend, is_glb
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.blender.scene.catalogs import read_catalogs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def listed(cli: Cli, *args: str) -> dict[str, dict]:
    result = cli("library", "list", "--json", *args, key=None)
    assert result.code == 0, result.stderr
    return {event["task_id"]: event for event in result.events if event["event"] == "entry"}


def test_a_command_result_is_listed_with_its_local_model_and_thumbnail(cli: Cli, tmp_path: Path) -> None:
    made = cli("text-to-3d", "--prompt", "an oak barrel", "-o", "barrel.glb", "--json", key=PAID_KEY)
    assert made.code == 0, made.stderr
    task_id = made.event("done")["task_id"]
    row = listed(cli, "--search", "OAK BARREL")[task_id]  # the shared library, found through $MESHY_LIBRARY_DIR
    assert (row["kind"], row["prompt"], row["source"]) == ("text-to-3d", "an oak barrel", "command")
    assert row["consumed_credits"] == made.event("done")["credits"] > 0
    assert row["created"] and Path(row["model"]).is_absolute() and is_glb(Path(row["model"]))
    assert Path(row["model"]).is_relative_to(LIBRARY_DIR)
    assert Path(row["thumbnail"]).read_bytes().startswith(PNG_MAGIC)
    assert task_id not in listed(cli, "--kind", "rigging")


def test_batch_rows_are_kept_imported_from_the_library_and_removed(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    manifest = tmp_path / "assets.jsonl"
    rows = [{"name": "stool", "kind": "text-to-3d", "prompt": "a stool"}, {"name": "bench", "kind": "text-to-3d",
            "prompt": "a bench"}]  # fmt: skip
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    batch = cli("batch", str(manifest), "--out-dir", "out", "--json")
    assert batch.code == 0, batch.stderr
    made = {event["name"]: event["task_id"] for event in batch.events if event["event"] == "done"}
    rows_now = listed(cli)
    assert {rows_now[made[name]]["source"] for name in made} == {"batch"}
    stool = rows_now[made["stool"]]

    creates = len(sandbox.creates())
    imported = cli("library", "import", made["stool"], "-o", "scene.blend", "--json", key=None)
    assert imported.code == 0, imported.stderr
    assert len(sandbox.creates()) == creates  # from the library's copy: nothing asked of Meshy
    blend = describe_blend(tmp_path / "scene.blend")
    stool_objects = assets_in(blend)["stool"]
    assert {obj["task_id"] for obj in stool_objects} == {made["stool"]}
    assert any(obj["type"] == "MESH" for obj in stool_objects)
    (marked,) = blend["assets"].values()  # an asset, in its catalog defined beside scene.blend
    assert read_catalogs(tmp_path)[marked["catalog_id"]] == "Meshy/Text to 3D"

    removed = cli("library", "remove", made["stool"], key=None)
    assert removed.code == 0, removed.stderr
    assert not Path(stool["model"]).parent.exists()  # its folder and files are gone
    again = cli("library", "remove", made["stool"], key=None)
    assert again.code == 2 and "No result" in again.stderr
    left = listed(cli)
    assert made["stool"] not in left and made["bench"] in left


def test_a_batch_ends_once_the_maps_of_its_results_are_in_the_library(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.fault(
        r"/(base_color|metallic|roughness|normal)\.png", "delay", seconds=0.5, times=-1
    )  # slower than the rest
    manifest = tmp_path / "assets.jsonl"
    rows = [{"name": name, "kind": "text-to-3d", "prompt": f"a {name}", "refine": True, "enable_pbr": True}
            for name in ("helmet", "shield")]  # fmt: skip
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    batch = cli("batch", str(manifest), "--out-dir", "out", "--json")
    assert batch.code == 0, batch.stderr
    assert not [event for event in batch.events if event["event"] == "library_maps_pending"]
    made = [event["task_id"] for event in batch.events if event["event"] == "done"]
    kept = listed(cli)
    for task_id in made:  # fetched after the imports, before the command ended
        assert sorted(kept[task_id]["textures"]) == ["base_color", "metallic", "normal", "roughness"]
        assert kept[task_id]["textures_pending"] == []
        assert all(Path(path).read_bytes().startswith(PNG_MAGIC) for path in kept[task_id]["textures"].values())
    assert len(made) == 2
