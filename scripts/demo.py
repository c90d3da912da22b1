"""The README's main job: a full batch through the `meshy` command, then a render.

Offline by default: it starts the bundled sandbox, writes input images and a character
model, and runs one batch that exercises text → preview → refine with PBR, image to 3D,
multi-image to 3D, rigging and animation through ``python -m meshy_blender batch``, the
same command pipelines use. Before it, ``meshy text-to-image --generate-multi-view`` draws four concept views of a
lantern, and the batch turns them into a model by their task id (``input_task_id``: nothing
is uploaded). It then lights and frames the resulting scene and renders it with Cycles on
the CPU:

    out/demo.blend     every asset in its own collection
    out/demo.png       a small render of it
    docs/library.png   the chair imported from the artist's library (no network), rendered,
                       beside the library's thumbnail of it (the README's picture)

The batch keeps every result in a library of its own, ``out/demo-library`` (``MESHY_LIBRARY_DIR``),
as the sidebar keeps them in the add-on's user folder.

Against the real service: ``--base-url https://api.meshy.ai`` with ``MESHY_API_KEY``
set (the test-mode key ``msy_dummy_api_key_for_test_mode_12345678`` costs nothing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import sandbox_assets
from sandbox_control import PAID_KEY, Sandbox

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # meshy_blender from the working tree, for the library picture
    sys.path.insert(0, str(ROOT))
SANDBOX_TASK_SECONDS = "2"
RENDER_SIZE = (640, 360)
RENDER_SAMPLES = 16
PICTURE_SIDE = 256
PICTURE_GAP = 16
PICTURE = ROOT / "docs" / "library.png"

MANIFEST = [
    {"name": "chair", "kind": "text-to-3d", "prompt": "a carved wooden armchair", "refine": True, "enable_pbr": True},
    {"name": "vase", "kind": "image-to-3d", "images": ["vase.png"], "enable_pbr": True},
    {"name": "statue", "kind": "multi-image-to-3d", "images": ["front.png", "side.png", "back.png"]},
    {"name": "knight", "kind": "rig", "model": "character.glb", "height_meters": 1.8},
    {"name": "knight-moves", "kind": "animate", "rig_of": "knight", "action_id": [1, 13]},
]
CONCEPT_PROMPT = "a stone garden lantern"


def concept_views(folder: Path, base_url: str, api_key: str) -> str:
    """Four concept views of a lantern in ``folder`` (``meshy text-to-image``); their task's id."""
    env = {**os.environ, "MESHY_BASE_URL": base_url, "MESHY_API_KEY": api_key}
    command = [sys.executable, "-m", "meshy_blender", "text-to-image", "--prompt", CONCEPT_PROMPT]
    command += ["--generate-multi-view", "-o", str(folder), "--json"]
    print("$ " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"text-to-image failed with exit code {result.returncode}: {result.stderr[-500:]}")
    done = [event for event in map(json.loads, result.stdout.splitlines()) if event.get("event") == "done"]
    print(f"  {len(done[-1]['files'])} views in {folder}", flush=True)
    return str(done[-1]["task_id"])


def write_inputs(folder: Path, concept_task_id: str) -> Path:
    """The pictures and the character the batch starts from, and its manifest (the concept views' model too)."""
    folder.mkdir(parents=True, exist_ok=True)
    stripes = [(200, 120, 60), (240, 220, 180), (90, 60, 40)]
    (folder / "vase.png").write_bytes(sandbox_assets.png_bytes(256, 256, lambda x, y: stripes[(y // 32) % 3]))
    for index, view in enumerate(("front", "side", "back")):
        shade = 120 + 50 * index
        (folder / f"{view}.png").write_bytes(sandbox_assets.png_bytes(192, 192, (shade, shade, 200)))
    (folder / "character.glb").write_bytes(sandbox_assets.rigged_character_glb())
    manifest = folder / "demo.jsonl"
    lantern = {"name": "lantern", "kind": "multi-image-to-3d", "input_task_id": concept_task_id}
    manifest.write_text("".join(json.dumps(row) + "\n" for row in [*MANIFEST, lantern]), encoding="utf-8")
    return manifest


def run_batch(manifest: Path, out_dir: Path, base_url: str, api_key: str, library: Path) -> None:
    env = {**os.environ, "MESHY_BASE_URL": base_url, "MESHY_API_KEY": api_key, "MESHY_LIBRARY_DIR": str(library)}
    command = [sys.executable, "-m", "meshy_blender", "batch", str(manifest), "--out-dir", str(out_dir)]
    print("$ " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"the batch failed with exit code {result.returncode}")


def render(batch_blend: Path, blend_out: Path, png_out: Path) -> None:
    """Open the batch scene, add a camera and lights that frame it, save and render."""
    import bpy

    bpy.ops.wm.open_mainfile(filepath=str(batch_blend))
    stage(RENDER_SIZE, png_out, distance=(0.9, -2.6, 1.9))
    bpy.ops.wm.save_as_mainfile(filepath=str(blend_out))
    bpy.ops.render.render(write_still=True)


def stage(size: tuple[int, int], png_out: Path, *, distance: tuple[float, float, float]) -> None:
    """A camera (``distance`` × the scene's radius away) and a sun that frame every mesh; Cycles on the CPU."""
    import bpy
    from mathutils import Vector

    scene = bpy.context.scene
    assert scene is not None, "there is no scene"
    corners = [obj.matrix_world @ Vector(c) for obj in scene.objects if obj.type == "MESH" for c in obj.bound_box]
    low = Vector((min(c.x for c in corners), min(c.y for c in corners), min(c.z for c in corners)))
    high = Vector((max(c.x for c in corners), max(c.y for c in corners), max(c.z for c in corners)))
    centre, radius = (low + high) / 2, (high - low).length / 2

    camera = bpy.data.objects.new("Demo camera", bpy.data.cameras.new("Demo camera"))
    scene.collection.objects.link(camera)
    camera.location = centre + radius * Vector(distance)
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
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.filepath = str(png_out)


def library_picture(library_dir: Path, picture: Path, work: Path) -> str:
    """Import the chair from the library's own copy into an empty scene, render it, and put the library's
    thumbnail of it beside the render in ``picture``; the entry's name.
    """
    import bpy
    import numpy

    from meshy_blender.blender.scene import importer
    from meshy_blender.library import Library

    found = Library(library_dir).find(kind="text-to-3d", search="chair")
    entry = found[0] if found else None
    model, thumbnail = (entry.model_path, entry.thumbnail_path) if entry is not None else (None, None)
    if entry is None or model is None or thumbnail is None:
        raise SystemExit(f"the library in {library_dir} has no chair with a model and a thumbnail")
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    tags: dict[str, str | int | float] = {"meshy_library_id": entry.id, "meshy_kind": entry.kind}
    importer.import_glb(model, job_id=f"library-{entry.id}", display_name=entry.name, tags=tags)
    rendered = work / "library-render.png"
    stage((PICTURE_SIDE, PICTURE_SIDE), rendered, distance=(1.2, -2.2, 1.2))
    bpy.ops.render.render(write_still=True)

    side = PICTURE_SIDE
    canvas = numpy.ones((side, 2 * side + PICTURE_GAP, 4), dtype=numpy.float32)
    for column, path in ((0, rendered), (side + PICTURE_GAP, thumbnail)):
        image = bpy.data.images.load(str(path))
        image.scale(side, side)
        pixels = numpy.empty(side * side * 4, dtype=numpy.float32)
        image.pixels.foreach_get(pixels)  # type: ignore[attr-defined]  # the stubs type pixels as a float
        canvas[:, column : column + side] = pixels.reshape(side, side, 4)
        bpy.data.images.remove(image)
    out = bpy.data.images.new("Library picture", canvas.shape[1], side, alpha=True)
    out.pixels.foreach_set(canvas.ravel())  # type: ignore[attr-defined]
    picture.parent.mkdir(parents=True, exist_ok=True)
    out.filepath_raw = str(picture)
    out.file_format = "PNG"
    out.save()
    return entry.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "out", help="where the results go (default out/)")
    parser.add_argument("--base-url", help="a real Meshy server instead of the offline sandbox")
    parser.add_argument("--picture", type=Path, default=PICTURE, help="the library picture (default docs/library.png)")
    args = parser.parse_args()
    out_dir = args.out_dir.resolve()
    library = out_dir / "demo-library"
    shutil.rmtree(library, ignore_errors=True)  # one entry per result of this run
    started = time.monotonic()
    inputs = out_dir / "demo-inputs"

    def concept_then_batch(base_url: str, api_key: str) -> None:
        manifest = write_inputs(inputs, concept_views(inputs / "concepts", base_url, api_key))
        run_batch(manifest, out_dir / "demo", base_url, api_key, library)

    if args.base_url:
        concept_then_batch(args.base_url, os.environ.get("MESHY_API_KEY", ""))
    else:
        # A new sandbox knows none of the last run's tasks: that run's outputs would send their ids.
        shutil.rmtree(out_dir / "demo", ignore_errors=True)
        with Sandbox("--task-seconds", SANDBOX_TASK_SECONDS) as sandbox:
            print(f"Offline Meshy sandbox at {sandbox.url}", flush=True)
            concept_then_batch(sandbox.url, PAID_KEY)
    render(out_dir / "demo" / "batch.blend", out_dir / "demo.blend", out_dir / "demo.png")
    name = library_picture(library, args.picture.resolve(), out_dir)
    print(f"Wrote {out_dir / 'demo.blend'} and {out_dir / 'demo.png'} in {time.monotonic() - started:.0f} s")
    print(f"Wrote {args.picture}: '{name}' imported from the library, beside its library thumbnail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
