"""What the benchmarks (``scripts/bench_*.py``) share: machine line, statistics, quiet output, empty scenes.

Each benchmark prints its report on the real stdout and ends with one headline line,
``<name>: <value> <unit> (goal <goal>)``. Blender and its glTF importer print progress
on stdout too; :func:`report_stream` sends that chatter to /dev/null so that the
report stays readable and the headline stays last. Importing this module puts the
repository on ``sys.path`` so that ``meshy_blender`` imports from the working tree.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def report_stream() -> TextIO:
    """A stream on the real stdout for the report; file descriptor 1 then goes to /dev/null."""
    sys.stdout.flush()
    stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return stream


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")


def _ram_gib() -> float:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return pages * page_size / 2**30


def _bpy_version() -> str:
    try:
        return importlib.metadata.version("bpy")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_ticks() -> tuple[int, int]:
    """(all, stolen) CPU time of the machine since boot, in clock ticks (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[7]


_started_ticks = _cpu_ticks()


def steal_line() -> str:
    """How much CPU time the virtual machine's host took away since this module was imported.

    Stolen time is time our processes were runnable but another guest had the physical
    CPU: it slows everything by chance, so read the timings with it in mind.
    """
    total, stolen = (now - then for now, then in zip(_cpu_ticks(), _started_ticks, strict=True))
    return f"CPU time stolen by the VM host during the run: {100 * stolen / max(1, total):.1f} %"


def machine_line() -> str:
    """The machine, and how busy it was when the benchmark started (other processes skew timings)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: nproc {os.cpu_count()}, {_cpu_model()}, {_ram_gib():.1f} GiB RAM, "
        f"Python {platform.python_version()}, bpy {_bpy_version()}; load average {load}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 1.0 is the maximum)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# -- Blender (bpy is imported only by the benchmarks that use these) ----------------------


def empty_scene() -> None:
    """A fresh, empty file, keeping the add-ons enabled (the glTF importer among them)."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)


def timed_gltf(record: list[float]) -> None:
    """Wrap the glTF importer call inside ``import_glb`` to record its seconds (Blender's part) in ``record``."""
    from meshy_blender.blender.scene import importer

    original = importer._run_gltf_importer

    def run(path: Path) -> None:
        started = time.perf_counter()
        try:
            original(path)
        finally:
            record.append(time.perf_counter() - started)

    importer._run_gltf_importer = run


def bare_import(path: Path) -> float:
    """Seconds ``bpy.ops.import_scene.gltf`` takes on ``path`` with the options our importer passes."""
    import bpy

    from meshy_blender.blender.scene import importer

    # The same options as importer.import_glb, so that only our own work differs.
    options = importer.supported_options(bpy.ops.import_scene.gltf, importer._IMPORT_OPTIONS)
    started = time.perf_counter()
    result = bpy.ops.import_scene.gltf(filepath=str(path), **options)
    elapsed = time.perf_counter() - started
    if result != {"FINISHED"}:
        raise RuntimeError(f"the glTF importer did not finish on {path}")
    return elapsed
