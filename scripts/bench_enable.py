"""What enabling the add-on costs a Blender start, next to Blender's own glTF add-on.

    python scripts/bench_enable.py [--runs 11]

Each run is a fresh process (pip ``bpy``), because what a start pays is the cold import
of the add-on's modules plus its ``register()``; a disable/enable in one process would
find the modules already imported. In each run the add-on is enabled the way Blender
enables an extension (a user repository holding the staged zip layout, see
``build_extension.stage_extension``), and ``io_scene_gltf2`` is enabled cold too: it is
on by default, so it is disabled and its modules dropped from ``sys.modules`` first. The
two are measured in alternating order, so neither always pays for modules both import.
Before each enable the garbage collector runs (``gc.collect()``): Blender's start leaves the
collector's counters near a full collection (60,000 objects, 20-60 ms here), which otherwise
lands in whichever enable allocates first; the time collections take inside each enable is
reported beside it.
The extension is staged once: the first start compiles its byte code into the
extension's folder (reported apart), every later start, as in Blender, reads it (so
``PYTHONDONTWRITEBYTECODE`` is dropped from the children's environment).
Printed: the median, minimum and maximum of each over the runs, the modules each enable
imported, and whether any HTTP library was loaded by the enable (it should not be: the
client is built on first use).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPO_MODULE = "meshy_bench"
MESHY = f"bl_ext.{REPO_MODULE}.meshy_blender"
GLTF = "io_scene_gltf2"
HTTP_LIBRARIES = ("requests", "urllib3", "charset_normalizer", "certifi", "idna")
RUN_TIMEOUT_S = 120

sys.path.insert(0, str(ROOT / "scripts"))
from build_extension import stage_extension  # noqa: E402


def _raise(error: Exception) -> None:
    raise error


class CollectorClock:
    """Time Python's garbage collector spends, through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.spent_ms = 0.0
        self._started = 0.0

    def reset(self) -> None:
        self.spent_ms = 0.0

    def on_collection(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.spent_ms += (time.perf_counter() - self._started) * 1000


def child(root: Path, gltf_first: bool) -> None:
    """One fresh Blender: time both enables, print one JSON line."""
    os.environ["BLENDER_USER_EXTENSIONS"] = str(root / "user")
    import bpy

    preferences = bpy.context.preferences
    assert preferences is not None
    import addon_utils  # on the path once bpy is imported

    preferences.extensions.repos.new(
        name="bench", module=REPO_MODULE, custom_directory=str(root / "repo"), source="USER"
    )
    addon_utils.disable(GLTF, default_set=True, handle_error=_raise)
    for name in [name for name in sys.modules if name == GLTF or name.startswith(GLTF + ".")]:
        del sys.modules[name]

    result: dict[str, Any] = {}
    collector = CollectorClock()
    gc.callbacks.append(collector.on_collection)
    for label, module in (("gltf", GLTF), ("meshy", MESHY)) if gltf_first else (("meshy", MESHY), ("gltf", GLTF)):
        before = set(sys.modules)
        gc.collect()  # the garbage of Blender's own start is collected here, not in whichever enable comes first
        collector.reset()
        start = time.perf_counter()
        addon_utils.enable(module, default_set=True, handle_error=_raise)
        result[f"{label}_ms"] = (time.perf_counter() - start) * 1000
        result[f"{label}_modules"] = len(set(sys.modules) - before)
        result[f"{label}_gc_ms"] = collector.spent_ms
    result["http"] = sorted(name for name in sys.modules if name.split(".")[0] in HTTP_LIBRARIES)
    print("BENCH=" + json.dumps(result), flush=True)
    os._exit(0)  # Blender's teardown is not part of the measurement


def run_once(root: Path, gltf_first: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(root), "--gltf-first" if gltf_first else "--meshy-first"],
        env={name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH="))
    return dict(json.loads(line.removeprefix("BENCH=")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh processes (default 11)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--gltf-first", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--meshy-first", dest="gltf_first", action="store_false", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(options.child, options.gltf_first)
    with tempfile.TemporaryDirectory(prefix="meshy-bench-enable-") as folder:
        root = Path(folder)
        stage_extension(root / "repo" / "meshy_blender")
        first = run_once(root, gltf_first=False)
        runs = [run_once(root, gltf_first=i % 2 == 1) for i in range(options.runs)]
    print(f"first start after installing (byte code compiled): {first['meshy_ms']:.1f} ms")
    medians = {}
    for label, name in (("meshy", "Meshy for Blender"), ("gltf", "glTF (io_scene_gltf2)")):
        samples = [float(run[f"{label}_ms"]) for run in runs]
        medians[label] = statistics.median(samples)
        print(
            f"{name:<22} enable: median {medians[label]:6.1f} ms   min {min(samples):6.1f}   max {max(samples):6.1f}"
            f"   modules imported {statistics.median(run[f'{label}_modules'] for run in runs):.0f}"
            f"   of which garbage collection: median {statistics.median(run[f'{label}_gc_ms'] for run in runs):.1f} ms"
        )
    http = sorted({name for run in runs for name in run["http"]})
    ratio = medians["meshy"] / medians["gltf"]
    print(f"Meshy / glTF (medians): {ratio:.2f}; {options.runs} fresh processes, bpy {_bpy_version()}")
    print(f"HTTP modules loaded by the enables: {len(http)}" + (f" ({', '.join(http[:5])}, …)" if http else ""))
    return 0


def _bpy_version() -> str:
    from importlib.metadata import version

    return version("bpy")


if __name__ == "__main__":
    sys.exit(main())
