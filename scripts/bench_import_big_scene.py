"""An import into an artist's large file: does our part of it grow with the objects already there?

    python scripts/bench_import_big_scene.py [--objects 20000] [--imports 15] [--with-update]

The sandbox's textured vase is imported with ``importer.import_glb`` ``--imports`` times into
an empty file, then as many times again after ``--objects`` objects (sharing one mesh, linked
into a collection of the scene) were added. Each import is timed, and so is the glTF
importer's call inside it (wrapped), so that Blender's part and ours are told apart; medians
are printed for both files. The imports skip their closing depsgraph update (``evaluate=False``,
as a headless run's do): in a file of 20,000 objects that update rebuilds the relations of the
whole scene, which Blender's own File › Import pays as well and would otherwise hide our
part; ``--with-update`` then times three imports with it (the sidebar's) next to three bare
``bpy.ops.import_scene.gltf`` calls in the large file. Goal: our part stays a small share of
the import in the large file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_common
import bpy
import sandbox_assets
from bench_common import ms

from meshy_blender.blender.scene import importer


class TimedImports:
    """``import_glb`` of one model, each call's seconds and the glTF importer's seconds inside it."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.count = 0
        self._gltf: list[float] = []
        bench_common.timed_gltf(self._gltf)

    def medians(self, imports: int) -> tuple[float, float]:
        """(our part, the glTF importer's) median seconds over ``imports`` imports."""
        ours, gltf = [], []
        for _ in range(imports):
            total = self.one(evaluate=False)
            gltf.append(self._gltf[-1])
            ours.append(total - gltf[-1])
        return statistics.median(ours), statistics.median(gltf)

    def one(self, *, evaluate: bool) -> float:
        """Seconds of one ``import_glb``."""
        self.count += 1
        started = time.perf_counter()
        importer.import_glb(
            self.model, job_id=f"job{self.count}", display_name=f"asset {self.count}", tags={}, evaluate=evaluate
        )
        return time.perf_counter() - started


def add_objects(count: int) -> None:
    collection = bpy.data.collections.new("Set dressing")
    scene = bpy.context.scene
    assert scene is not None
    scene.collection.children.link(collection)
    mesh = bpy.data.meshes.new("shared")
    for index in range(count):
        collection.objects.link(bpy.data.objects.new(f"prop {index}", mesh))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--imports", type=int, default=15)
    parser.add_argument("--with-update", action="store_true", help="also imports with the depsgraph update")
    options = parser.parse_args(argv)
    out = bench_common.report_stream()
    model = Path(tempfile.mkdtemp(prefix="meshy-bench-big-scene-")) / "vase.glb"
    model.write_bytes(sandbox_assets.textured_glb(pbr=True))
    bench_common.empty_scene()
    imports = TimedImports(model)
    imports.medians(1)  # first-use costs (the glTF add-on's modules) are no one's part
    empty = imports.medians(options.imports)
    add_objects(options.objects)
    large = imports.medians(options.imports)
    print(bench_common.machine_line(), file=out)
    for label, (ours, gltf) in (("empty file", empty), (f"{options.objects} objects", large)):
        share = ours / (ours + gltf)
        print(f"  {label:>16}: our part {ms(ours)}, the glTF importer {ms(gltf)} ({share:.0%} ours)", file=out)
    if options.with_update:
        updated = [imports.one(evaluate=True) for _ in range(3)]
        bare = [bench_common.bare_import(model) for _ in range(3)]  # File › Import, with its updates
        print(
            f"  with the update: import_glb {ms(statistics.median(updated))}, "
            f"bare bpy.ops.import_scene.gltf {ms(statistics.median(bare))} (medians of 3)",
            file=out,
        )
    print(bench_common.steal_line(), file=out)
    ratio = large[0] / empty[0]
    print(f"import_big_scene: our part x{ratio:.1f} at {options.objects} objects ({ms(large[0])})", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
