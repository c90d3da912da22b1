"""Does an import cost more when the file already holds many results, and would parts fix it?

    python scripts/bench_import_growth.py [--imports 1000] [--mode scene|parts|parts-linked-each]

One process imports the sandbox's textured vase (``sandbox_assets.textured_glb``) N times
with ``importer.import_glb`` exactly as a headless batch does (into a "Meshy" collection held
out of the view layer, no depsgraph update per import: :mod:`held_results`), no network,
no worker threads: only the import's own cost, per block of 100. Modes:

- ``scene``: every result stays in the file (what ``meshy batch`` does today).
- ``parts``: every 100 results are written to a part file (``bpy.data.libraries.write``) and
  removed from the file (``bpy.data.batch_remove``); at the end every part's collections are
  linked back under "Meshy" and the file is saved: the file the batch would save, holding
  links to its parts.
- ``parts-linked-each``: as ``parts``, but each part is linked back right after it is written.

Printed: the median import of each block of 100, the last 100 against the first 100, the
imports' total, the part writes, the final linking and save, and the saved file's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_common
import bpy
import sandbox_assets

from meshy_blender.blender.scene import importer
from meshy_blender.blender.scene.held_results import HeldResults

PART_SIZE = 100
BLOCK = 100
#: The data-blocks an import makes (a part is those made since the part began).
KINDS = ("objects", "meshes", "materials", "images", "collections", "actions", "armatures", "node_groups")


def newest_uid() -> int:
    return max((item.session_uid for kind in KINDS for item in getattr(bpy.data, kind)), default=0)


def made_since(uid: int) -> list[bpy.types.ID]:
    return [item for kind in KINDS for item in getattr(bpy.data, kind) if item.session_uid > uid]


def link_parts(paths: list[Path], under: bpy.types.Collection) -> None:
    libraries: Any = bpy.data.libraries  # fake-bpy-module types load() as returning None, not a context manager
    for path in paths:
        with libraries.load(str(path), link=True) as (source, linked):
            linked.collections = [name for name in source.collections if name.startswith("asset ")]
        for collection in linked.collections:
            under.children.link(collection)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--imports", type=int, default=1000)
    parser.add_argument("--mode", choices=("scene", "parts", "parts-linked-each"), default="scene")
    options = parser.parse_args(argv)
    out = bench_common.report_stream()
    folder = Path(tempfile.mkdtemp(prefix="meshy-bench-growth-"))
    model = folder / "vase.glb"
    model.write_bytes(sandbox_assets.textured_glb(pbr=True))
    bench_common.empty_scene()
    scene = bpy.context.scene
    assert scene is not None
    held = HeldResults(scene)
    times: list[float] = []
    part_seconds: list[float] = []
    parts: list[Path] = []
    in_part: list[bpy.types.Collection] = []
    part_start = newest_uid()
    for index in range(options.imports):
        started = time.perf_counter()
        result = importer.import_glb(
            model, job_id=f"job{index}", display_name=f"asset {index}", tags={}, evaluate=False,
            parent=held.root, collection_path=(),
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        in_part.append(result.collection)
        if options.mode != "scene" and len(in_part) == PART_SIZE:
            started = time.perf_counter()
            path = folder / f"part-{len(parts) + 1:03d}.blend"
            bpy.data.libraries.write(str(path), set(in_part), path_remap="NONE", fake_user=True, compress=False)
            bpy.data.batch_remove(made_since(part_start))
            parts.append(path)
            if options.mode == "parts-linked-each":
                link_parts([path], held.root)
            part_start = newest_uid()
            part_seconds.append(time.perf_counter() - started)
            in_part = []
    started = time.perf_counter()
    if options.mode == "parts":
        link_parts(parts, held.root)
    link_s = time.perf_counter() - started
    held.release()
    saved = folder / "batch.blend"
    started = time.perf_counter()
    bpy.ops.wm.save_as_mainfile(filepath=str(saved))
    save_s = time.perf_counter() - started

    blocks = [statistics.median(times[at : at + BLOCK]) for at in range(0, len(times), BLOCK)]
    ratio = blocks[-1] / blocks[0]
    print(bench_common.machine_line(), file=out)
    print(f"mode {options.mode}: {options.imports} imports of the sandbox's textured vase in one file", file=out)
    print("  median import per block of 100: " + ", ".join(f"{block * 1000:.1f}" for block in blocks) + " ms", file=out)
    print(f"  imports {sum(times):.1f} s in all; last 100 / first 100: {ratio:.2f}", file=out)
    if part_seconds:
        each = statistics.median(part_seconds) * 1000
        print(f"  {len(part_seconds)} parts written and removed: median {each:.0f} ms each", file=out)
    print(f"  linking the parts at the end {link_s:.2f} s; saving {save_s:.2f} s", file=out)
    print(
        f"  saved file {saved.stat().st_size / 1e6:.1f} MB, parts {sum(p.stat().st_size for p in parts) / 1e6:.0f} MB",
        file=out,
    )
    print(bench_common.steal_line(), file=out)
    print(f"import_growth: {options.mode}, last/first 100 imports x{ratio:.2f} (goal <=1.3)", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
