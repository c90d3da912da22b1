"""What making a result an asset adds to its import: the mark with Meshy's thumbnail, and the library's .blend.

Every import (the pump, the library's Import) now also marks the result as an asset and
loads the thumbnail as its preview (``assets.mark_result``), then writes the asset as
``<library>/<id>/<name>.blend`` (``library_blend.keep``). Both run on the main thread.
Measured here on two models, each imported :data:`RUNS` times into an empty scene as the
headless pump does it (``evaluate=False``): the sandbox's textured vase and a
100 000-triangle model with three 2048² PBR textures (``sandbox_assets.dense_glb``), with
a 512² and a 1024² thumbnail. Goal: on the 100 000-triangle model (still smaller than
most Meshy results), the two together under half the import's own time. The vase shows
the fixed cost, which a tiny model does not hide.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import bench_common
import sandbox_assets
from bench_common import median, ms

from meshy_blender.blender.scene import importer, library_blend
from meshy_blender.blender.scene.assets import mark_result
from meshy_blender.library import Entry, Library

RUNS = 5
GOAL_SHARE = 0.5


def measure(library: Library, model: Path, thumbnail: Path, label: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"import": [], "mark": [], "keep": []}
    for run in range(RUNS + 1):  # the first is a warm-up
        bench_common.empty_scene()
        entry = library.add(Entry(id=f"{label}-{run}", kind="text-to-3d", name=f"{label} {run}", prompt="a vase"),
                            {"model": model, "thumbnail": thumbnail})  # fmt: skip
        started = time.perf_counter()
        result = importer.import_glb(model, job_id=entry.id, display_name=entry.name, tags={}, evaluate=False)
        imported = time.perf_counter()
        asset = mark_result(result, entry)
        marked = time.perf_counter()
        library_blend.keep(library, entry, asset, result.actions)
        kept = time.perf_counter()
        if run:
            times["import"].append(imported - started)
            times["mark"].append(marked - imported)
            times["keep"].append(kept - marked)
    return times


def main() -> int:
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-assets-") as temp:
        folder = Path(temp)
        models = {
            "vase": sandbox_assets.textured_glb(pbr=True),
            "dense": sandbox_assets.dense_glb(100_000, 2048),
        }
        for name, data in models.items():
            (folder / f"{name}.glb").write_bytes(data)
        for side in (512, 1024):
            (folder / f"thumb{side}.png").write_bytes(sandbox_assets.png_bytes(side, side, (176, 118, 72)))
        library = Library(folder / "library")
        for name in models:
            for side in (512, 1024):
                label = f"{name}-{side}"
                times = measure(library, folder / f"{name}.glb", folder / f"thumb{side}.png", label)
                entry = library.get(f"{label}-1")
                size = library_blend.blend_path(entry).stat().st_size if entry is not None else 0
                share = (median(times["mark"]) + median(times["keep"])) / median(times["import"])
                if name == "dense":
                    worst = max(worst, share)
                print(
                    f"{name} ({(folder / f'{name}.glb').stat().st_size / 2**20:.1f} MB GLB), {side}² thumbnail: "
                    f"import {ms(median(times['import']))}, mark with preview {ms(median(times['mark']))}, "
                    f".blend written {ms(median(times['keep']))} ({size / 2**20:.1f} MB); "
                    f"marks + .blend = {share:.0%} of the import",
                    file=out,
                )
    print(f"asset marks: {worst:.0%} of a 100k-triangle import at most (goal < {GOAL_SHARE:.0%})", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
