"""Headless commands leave every result in the library as a Blender asset: its .blend, written once the pump idles.

The pump writes the library's .blend files when no job waits for import, and whatever
is still queued when the run ends; a command that exits must have written them all,
the bridge's ``--once`` too, which ends right after its one import.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_harness import LIBRARY_DIR, Cli, describe_blend
from sandbox_control import TEST_KEY, Sandbox
from test_cli_bridge import BridgeProcess
from web_app import sandbox_glb_url, send_to_blender

from meshy_blender.blender.scene.catalogs import catalog_uuid, read_catalogs


def library_asset(task_id: str) -> dict:
    """The one asset of the library entry ``task_id``'s .blend (there must be exactly one .blend)."""
    (blend,) = (Path(LIBRARY_DIR) / task_id).glob("*.blend")
    (asset,) = describe_blend(blend)["assets"].items()
    return {"file": blend.name, "name": asset[0], **asset[1]}


def test_every_row_of_a_batch_has_its_library_blend_when_the_command_ends(cli: Cli, tmp_path: Path) -> None:
    names = ["stool", "bench", "crate"]
    manifest = tmp_path / "assets.jsonl"
    rows = [{"name": name, "kind": "text-to-3d", "prompt": f"an oak {name}"} for name in names]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    batch = cli("batch", str(manifest), "--out-dir", "out", "--json")

    assert batch.code == 0, batch.stderr
    made = {event["name"]: event["task_id"] for event in batch.events if event["event"] == "done"}
    assert sorted(made) == sorted(names)
    for name, task_id in made.items():
        asset = library_asset(task_id)
        assert (asset["file"], asset["name"]) == (f"{name}.blend", name)
        assert asset["catalog_id"] == catalog_uuid("Meshy/Text to 3D") and asset["preview_size"][0] > 0
    assert read_catalogs(Path(LIBRARY_DIR))[catalog_uuid("Meshy/Text to 3D")] == "Meshy/Text to 3D"


def test_a_single_command_result_imported_into_a_blend_has_its_library_blend(cli: Cli) -> None:
    made = cli("text-to-3d", "--prompt", "a pine shelf", "-o", "shelf.blend", "--json")

    assert made.code == 0, made.stderr
    asset = library_asset(made.event("done")["task_id"])
    assert asset["catalog_id"] == catalog_uuid("Meshy/Text to 3D") and asset["type"] == "Object"


def test_a_model_received_by_the_bridge_once_has_its_library_blend(cli: Cli, sandbox: Sandbox) -> None:
    url = sandbox_glb_url(sandbox.url, TEST_KEY)
    bridge = BridgeProcess(cli, "--port", "0", "--once", "--timeout", "60", "--allow-loopback-downloads")
    try:
        send_to_blender(bridge.next_event()["port"], url, name="Sent lantern")
        code, events = bridge.finish()
    finally:
        if bridge.process.poll() is None:
            bridge.stderr()  # kills it

    assert code == 0, events
    (blend,) = Path(LIBRARY_DIR).glob("*/Sent lantern.blend")
    (name,) = describe_blend(blend)["assets"]
    assert name == "Sent lantern"


def test_a_batch_kept_in_no_library_still_marks_its_assets_with_meshys_thumbnail(cli: Cli, tmp_path: Path) -> None:
    """A farm node's choice: nothing into the library, the batch folder an asset library of its own."""
    manifest = tmp_path / "assets.jsonl"
    manifest.write_text(json.dumps({"name": "stool", "kind": "text-to-3d", "prompt": "an oak stool"}) + "\n")
    before = sorted(Path(LIBRARY_DIR).iterdir()) if Path(LIBRARY_DIR).is_dir() else []

    batch = cli("batch", str(manifest), "--out-dir", "out", "--no-library", "--json")

    assert batch.code == 0, batch.stderr
    assert (sorted(Path(LIBRARY_DIR).iterdir()) if Path(LIBRARY_DIR).is_dir() else []) == before
    (asset,) = describe_blend(tmp_path / "out" / "batch.blend")["assets"].values()
    assert asset["catalog_id"] == catalog_uuid("Meshy/Text to 3D") and asset["preview_size"][0] > 0


def test_a_command_keeps_its_result_in_the_library_it_is_given(cli: Cli, tmp_path: Path) -> None:
    made = cli("text-to-3d", "--prompt", "a pine shelf", "-o", "shelf.glb", "--library-dir", "studio-lib", "--json")

    assert made.code == 0, made.stderr
    assert (tmp_path / "studio-lib" / made.event("done")["task_id"]).is_dir()
    both = cli("text-to-3d", "--prompt", "a pine shelf", "-o", "shelf.glb", "--library-dir", "x", "--no-library")
    assert both.code == 2 and "not allowed with argument" in both.stderr
