"""The README's main job: a full batch through the `meshy` command, then a render.

Offline by default: it starts the bundled sandbox, writes input images and a character
model, and runs one batch that exercises text → preview → refine with PBR, image to 3D,
multi-image to 3D, rigging and animation through ``python -m meshy_blender batch``, the
same command pipelines use. It then lights and frames the resulting scene and renders
it with Cycles on the CPU:

    out/demo.blend   every asset in its own collection
    out/demo.png     a small render of it

Against the real service: ``--base-url https://api.meshy.ai`` with ``MESHY_API_KEY``
set (the test-mode key ``msy_dummy_api_key_for_test_mode_12345678`` costs nothing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import sandbox_assets
from sandbox_control import PAID_KEY, Sandbox

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TASK_SECONDS = "2"
RENDER_SIZE = (640, 360)
RENDER_SAMPLES = 16

MANIFEST = [
    {"name": "chair", "kind": "text-to-3d", "prompt": "a carved wooden armchair", "refine": True, "enable_pbr": True},
    {"name": "vase", "kind": "image-to-3d", "images": ["vase.png"], "enable_pbr": True},
    {"name": "statue", "kind": "multi-image-to-3d", "images": ["front.png", "side.png", "back.png"]},
    {"name": "knight", "kind": "rig", "model": "character.glb", "height_meters": 1.8},
    {"name": "knight-moves", "kind": "animate", "rig_of": "knight", "action_id": [1, 13]},
]


def write_inputs(folder: Path) -> Path:
    """The pictures and the character the batch starts from, and its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    stripes = [(200, 120, 60), (240, 220, 180), (90, 60, 40)]
    (folder / "vase.png").write_bytes(sandbox_assets.png_bytes(256, 256, lambda x, y: stripes[(y // 32) % 3]))
    for index, view in enumerate(("front", "side", "back")):
        shade = 120 + 50 * index
        (folder / f"{view}.png").write_bytes(sandbox_assets.png_bytes(192, 192, (shade, shade, 200)))
    (folder / "character.glb").write_bytes(sandbox_assets.rigged_character_glb())
    manifest = folder / "demo.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in MANIFEST), encoding="utf-8")
    return manifest


def run_batch(manifest: Path, out_dir: Path, base_url: str, api_key: str) -> None:
    env = {**os.environ, "MESHY_BASE_URL": base_url, "MESHY_API_KEY": api_key}
    command = [sys.executable, "-m", "meshy_blender", "batch", str(manifest), "--out-dir", str(out_dir)]
    print("$ " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"the batch failed with exit code {result.returncode}")


def render(batch_blend: Path, blend_out: Path, png_out: Path) -> None:
    """Open the batch scene, add a camera and lights that frame it, save and render."""
    import bpy
    from mathutils import Vector

    bpy.ops.wm.open_mainfile(filepath=str(batch_blend))
    scene = bpy.context.scene
    assert scene is not None, "the batch scene has no scene"
    corners = [obj.matrix_world @ Vector(c) for obj in scene.objects if obj.type == "MESH" for c in obj.bound_box]
    low = Vector((min(c.x for c in corners), min(c.y for c in corners), min(c.z for c in corners)))
    high = Vector((max(c.x for c in corners), max(c.y for c in corners), max(c.z for c in corners)))
    centre, radius = (low + high) / 2, (high - low).length / 2

    camera = bpy.data.objects.new("Demo camera", bpy.data.cameras.new("Demo camera"))
    scene.collection.objects.link(camera)
    camera.location = centre + Vector((0.9 * radius, -2.6 * radius, 1.9 * radius))
    camera.rotation_euler = (centre - camera.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = camera
    light = cast(bpy.types.SunLight, bpy.data.lights.new("Demo sun", type="SUN"))
    light.energy = 3.0
    sun = bpy.data.objects.new("Demo sun", light)
    sun.rotation_euler = (math.radians(50), 0.0, math.radians(30))
    scene.collection.objects.link(sun)
    if scene.world is None:
        scene.world = bpy.data.worlds.new("Demo world")
    scene.world.color = (0.35, 0.38, 0.42)

    scene.render.engine = "CYCLES"  # type: ignore[assignment]  # the stubs list only built-in engines
    cycles: Any = scene.cycles  # registered by the Cycles add-on, unknown to the type stubs
    cycles.device = "CPU"
    cycles.samples = RENDER_SAMPLES
    scene.render.resolution_x, scene.render.resolution_y = RENDER_SIZE
    scene.render.resolution_percentage = 100
    scene.render.filepath = str(png_out)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend_out))
    bpy.ops.render.render(write_still=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "out", help="where the results go (default out/)")
    parser.add_argument("--base-url", help="a real Meshy server instead of the offline sandbox")
    args = parser.parse_args()
    out_dir = args.out_dir.resolve()
    started = time.monotonic()
    manifest = write_inputs(out_dir / "demo-inputs")
    if args.base_url:
        run_batch(manifest, out_dir / "demo", args.base_url, os.environ.get("MESHY_API_KEY", ""))
    else:
        with Sandbox("--task-seconds", SANDBOX_TASK_SECONDS) as sandbox:
            print(f"Offline Meshy sandbox at {sandbox.url}", flush=True)
            run_batch(manifest, out_dir / "demo", sandbox.url, PAID_KEY)
    render(out_dir / "demo" / "batch.blend", out_dir / "demo.blend", out_dir / "demo.png")
    print(f"Wrote {out_dir / 'demo.blend'} and {out_dir / 'demo.png'} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
