"""A 40-asset batch with ten at a time, against the ideal and against the one-at-a-time loop.

The real ``meshy batch`` path, in this process (``cli.main`` as ``python -m meshy_blender
batch`` calls it, without the interpreter's start): a manifest of 20 text-to-3D previews
and 20 images to 3D with PBR, ``--concurrency 10``, against the offline sandbox with
tasks of T seconds and Meshy's Pro queue limit of 10 tasks at once. Every import is
timed (``pump.import_job`` is wrapped, not changed).

Ideal: ceil(40 / 10) · T (the queue allows no better) plus the measured import time
(the pump imports on the main thread, one at a time). Goal: wall time within 15 % of it.

Baseline: the loop simple scripts use — create, poll every second, download, import,
next — on 8 assets of the same mix, extrapolated to 40 (its time is linear in the
number of assets: nothing overlaps).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import bench_common
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.tasks import TaskKind
from meshy_blender.blender import pump
from meshy_blender.blender.cli import command as cli

ASSETS = 40
CONCURRENCY = 10
QUEUE_LIMIT = 10
#: Not a whole number of poll intervals: the baseline's polls land 0.5 s after the finish, their average for
#: tasks of random length, instead of always just after it.
TASK_SECONDS = 5.5
BASELINE_ASSETS = 8
BASELINE_POLL_S = 1.0
GOAL_RATIO = 1.15


def write_manifest(folder: Path, count: int) -> Path:
    import sandbox_assets

    (folder / "vase.png").write_bytes(sandbox_assets.png_bytes(256, 256, (200, 120, 60)))
    rows: list[dict[str, Any]] = []
    for index in range(count):
        if index % 2 == 0:
            rows.append({"name": f"prop-{index:02}", "kind": "text-to-3d", "prompt": f"a wooden crate number {index}"})
        else:
            rows.append({"name": f"vase-{index:02}", "kind": "image-to-3d", "images": ["vase.png"], "enable_pbr": True})
    manifest = folder / "assets.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return manifest


def timed_imports(record: list[tuple[float, float]]) -> Callable[[], None]:
    """Wrap pump.import_job to record (start, seconds) of each import; returns the undo."""
    original = pump.import_job

    @functools.wraps(original)
    def import_job(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            original(*args, **kwargs)
        finally:
            record.append((started, time.perf_counter() - started))

    pump.import_job = import_job

    def undo() -> None:
        pump.import_job = original

    return undo


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 (the batch's progress, Blender's and the glTF importer's logs) to ``path``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("wb") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_batch(
    sandbox: Sandbox, folder: Path, assets: int = ASSETS, concurrency: int = CONCURRENCY, extra: Sequence[str] = ()
) -> tuple[float, list[tuple[float, float]], int, float]:
    """(wall seconds, imports as (start, seconds) from the batch's start, exit code, start epoch).

    ``extra``: more options for ``meshy batch`` (e.g. ``--part-size 100``)."""
    manifest = write_manifest(folder, assets)
    out_dir = folder / "out"
    imports: list[tuple[float, float]] = []
    undo = timed_imports(imports)
    os.environ["MESHY_API_KEY"] = PAID_KEY
    os.environ["MESHY_LIBRARY_DIR"] = str(folder / "library")  # not the user's own library
    argv = ["batch", str(manifest), "--out-dir", str(out_dir), "--concurrency", str(concurrency), "--json", *extra]
    log = folder / "batch-stderr.log"
    try:
        with stderr_to(log):
            epoch = time.time()
            started = time.perf_counter()
            code = cli.main([*argv, "--base-url", sandbox.url], module_mode=True)
            wall = time.perf_counter() - started
    finally:
        undo()
        del os.environ["MESHY_API_KEY"], os.environ["MESHY_LIBRARY_DIR"]
    written = len(list(out_dir.glob("*.glb")))
    if written != assets or code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"the batch wrote {written} GLBs of {assets}, exit code {code}; its log ends:\n{tail}")
    return wall, [(start - started, seconds) for start, seconds in imports], code, epoch


def run_baseline(sandbox: Sandbox, folder: Path) -> list[float]:
    """Create → poll every second → download → import, one asset after the other; seconds per asset."""
    bench_common.empty_scene()
    image = folder / "vase.png"
    durations = []
    with MeshyClient(PAID_KEY, sandbox.url) as client:
        for index in range(BASELINE_ASSETS):
            started = time.perf_counter()
            if index % 2 == 0:
                kind, task_id = TaskKind.TEXT_TO_3D, client.text_to_3d_preview(f"a wooden crate number {index}")
            else:
                kind, task_id = TaskKind.IMAGE_TO_3D, client.image_to_3d(image, enable_pbr=True)
            task = client.get_task(kind, task_id)
            while not task.is_terminal:
                time.sleep(BASELINE_POLL_S)
                task = client.get_task(kind, task_id)
            path = client.download(task.glb_url, folder / "baseline" / f"{index}.glb")
            bench_common.bare_import(path)
            durations.append(time.perf_counter() - started)
    return durations


def main() -> int:
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temp, Sandbox() as sandbox:
        folder = Path(temp)
        sandbox.configure(task_seconds=TASK_SECONDS, queue_limit=QUEUE_LIMIT, balance=1_000_000)
        bench_common.empty_scene()
        wall, imports, code, epoch = run_batch(sandbox, folder)
        log = sandbox.requests()
        sandbox.reset(task_seconds=TASK_SECONDS, queue_limit=QUEUE_LIMIT, balance=1_000_000)
        baseline = run_baseline(sandbox, folder)
    creates = [entry["t"] - epoch for entry in log if entry["method"] == "POST" and entry["status"] < 300]
    refused = sum(entry["status"] == 429 for entry in log)
    import_total = sum(seconds for _, seconds in imports)
    ideal = math.ceil(ASSETS / CONCURRENCY) * TASK_SECONDS + import_total
    last_import_end = max(start + seconds for start, seconds in imports)
    print(
        f"batch: {ASSETS} assets (20 text-to-3D previews, 20 images to 3D with PBR), concurrency {CONCURRENCY}, "
        f"queue limit {QUEUE_LIMIT}, T = {TASK_SECONDS:g} s; exit code {code}",
        file=out,
    )
    print(
        f"  wall {wall:.1f} s; first create at {min(creates):.2f} s, last at {max(creates):.2f} s; "
        f"last import done at {last_import_end:.1f} s; then {wall - last_import_end:.2f} s to lay out, save and stop",
        file=out,
    )
    import_median = bench_common.median([seconds for _, seconds in imports])
    print(
        f"  {len(imports)} imports: {import_total:.2f} s in all, median {bench_common.ms(import_median)}; "
        f"{len(log)} requests, {refused} refused with 429 (rate or queue limit)",
        file=out,
    )
    print(
        f"  ideal = ceil({ASSETS}/{CONCURRENCY})*{TASK_SECONDS:g} s + {import_total:.2f} s = {ideal:.2f} s; "
        f"wall / ideal = {wall / ideal:.3f}; beyond the {math.ceil(ASSETS / CONCURRENCY) * TASK_SECONDS:g} s "
        f"of task time alone: {wall - math.ceil(ASSETS / CONCURRENCY) * TASK_SECONDS:.2f} s",
        file=out,
    )
    per_asset = sum(baseline) / len(baseline)
    extrapolated = per_asset * ASSETS
    print(
        f"baseline (create, poll every {BASELINE_POLL_S:g} s, download, import; one at a time): "
        f"{BASELINE_ASSETS} assets in {sum(baseline):.1f} s, {per_asset:.2f} s each "
        f"(median {bench_common.median(baseline):.2f} s); extrapolated to {ASSETS}: {extrapolated:.0f} s",
        file=out,
    )
    print(f"batch speed-up over the baseline: x{extrapolated / wall:.1f}", file=out)
    over = wall / ideal - 1
    print(bench_common.steal_line(), file=out)
    print(f"goal {'met' if wall <= GOAL_RATIO * ideal else 'MISSED'}", file=out)
    print(
        f"batch: {wall:.1f} s for {ASSETS} assets, {over * 100:+.1f} % over the ideal {ideal:.1f} s, "
        f"x{extrapolated / wall:.1f} faster than one at a time (goal <=+15 %)",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
