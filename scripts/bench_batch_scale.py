"""A large batch, many tasks at a time: do the imports keep up, and stay as cheap at the end?

The real ``meshy batch`` path, in this process (``cli.main`` as ``python -m meshy_blender
batch`` calls it, as ``bench_batch.py`` does): ``--rows`` assets (half text-to-3D
previews, half images to 3D with PBR), ``--concurrency 50`` against the offline sandbox
with Meshy's Enterprise limits (50 tasks in the queue, 100 requests per second) and tasks
of T = 2 s. Every import is timed (``pump.import_job`` wrapped, and the glTF importer
inside it, so that Blender's part and ours are told apart), and so is the moment each job
was offered for import (``JobManager._offer`` wrapped): the pump's lag is the time from
that moment until its import was done.

The tasks' ideal span: ceil(rows / 50) rounds of T, plus L, the first asset's latency
beyond its own task (start-up, create, notice, download, import: the time its import was
done minus T). Goal: the last import done within 1.15 × that ideal, measured from the
start of the batch. Goal: the median import of the last 100 at most 1.3 × that of the
first 100. Peak memory is the process's ``ru_maxrss``: run one size per process.

    .venv/bin/python scripts/bench_batch_scale.py --rows 300
    .venv/bin/python scripts/bench_batch_scale.py --rows 1000

``--without-library`` runs the batch with ``--no-library`` (a farm node's choice): nothing of
what the batch does for the artist's library (issue 13: each result's pictures fetched and its
asset written into the library, into a temporary folder here), the batch as the goals were set.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import bench_batch
import bench_common
from bench_common import median, ms
from sandbox_control import Sandbox

from meshy_blender.blender import pump
from meshy_blender.jobs.manager import JobManager
from meshy_blender.jobs.model import Job

CONCURRENCY = 50
QUEUE_LIMIT = 50
RATE_LIMIT = 100
TASK_SECONDS = 2.0
EDGE = 100
GOAL_SPAN = 1.15
GOAL_FLAT = 1.3


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed_hand_over(offered: dict[str, float], imported: dict[str, float]) -> None:
    """Record (``time.time()``) when each job is first offered for import, and when its import is done."""
    offer = JobManager._offer

    def timed_offer(manager: JobManager, job_id: str) -> None:
        offered.setdefault(job_id, time.time())
        offer(manager, job_id)

    def done(job: Job, _result: object) -> None:
        imported[job.id] = time.time()

    JobManager._offer = timed_offer  # type: ignore[method-assign,assignment]
    pump.import_listeners.append(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--without-library", action="store_true", help="results are not kept in the library")
    parser.add_argument("--part-size", type=int, default=None, help="meshy batch --part-size (default: its own)")
    options = parser.parse_args()
    rows = options.rows
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    gltf: list[float] = []
    bench_common.timed_gltf(gltf)
    offered: dict[str, float] = {}
    imported: dict[str, float] = {}
    timed_hand_over(offered, imported)
    with tempfile.TemporaryDirectory(prefix="bench-batch-scale-") as temp, Sandbox() as sandbox:
        sandbox.configure(
            task_seconds=TASK_SECONDS, queue_limit=QUEUE_LIMIT, rate_limit=RATE_LIMIT, balance=100_000_000
        )
        bench_common.empty_scene()
        rss_before = peak_rss_mb()
        extra = [] if options.part_size is None else ["--part-size", str(options.part_size)]
        extra += ["--no-library"] if options.without_library else []
        wall, imports, code, epoch = bench_batch.run_batch(sandbox, Path(temp), rows, CONCURRENCY, extra)
        log = sandbox.requests()
    rss_after = peak_rss_mb()
    creates = [entry["t"] - epoch for entry in log if entry["method"] == "POST" and entry["status"] < 300]
    refused = sum(entry["status"] == 429 for entry in log)
    ends = sorted(start + seconds for start, seconds in imports)
    first, last = ends[0], ends[-1]
    rounds = math.ceil(rows / QUEUE_LIMIT)
    latency = first - TASK_SECONDS
    ideal = rounds * TASK_SECONDS + latency
    span = last / ideal
    print(
        f"batch: {rows} assets (half text-to-3D previews, half images to 3D with PBR), concurrency {CONCURRENCY}, "
        f"queue limit {QUEUE_LIMIT}, rate limit {RATE_LIMIT}/s, T = {TASK_SECONDS:g} s; exit code {code}"
        + f"; --part-size {'default' if options.part_size is None else options.part_size}"
        + ("; library off" if options.without_library else ""),
        file=out,
    )
    print(
        f"  wall {wall:.1f} s; creates from {min(creates):.2f} s to {max(creates):.2f} s; first import done at "
        f"{first:.2f} s, last at {last:.2f} s; {len(log)} requests, {refused} refused with 429",
        file=out,
    )
    print(
        f"  ideal = ceil({rows}/{QUEUE_LIMIT})*{TASK_SECONDS:g} s + L = {rounds * TASK_SECONDS:g} s + {latency:.2f} s "
        f"= {ideal:.2f} s (L: the first asset's time beyond its task); last import / ideal = {span:.3f}; "
        f"first to last import {last - first:.2f} s where the tasks allowed {(rounds - 1) * TASK_SECONDS:g} s",
        file=out,
    )
    lags = [imported[job_id] - offered[job_id] for job_id in imported]
    print(
        f"  pump: last job offered for import at {max(offered.values()) - epoch:.2f} s, its import done "
        f"{last - (max(offered.values()) - epoch):.2f} s later; offered to imported per job: median "
        f"{ms(median(lags))}, p90 {ms(bench_common.percentile(lags, 0.9))}, max {ms(max(lags))}",
        file=out,
    )
    seconds = [duration for _, duration in sorted(imports)]
    ours = [whole - inner for whole, inner in zip(seconds, gltf, strict=True)]
    edge = min(EDGE, len(seconds) // 2)
    head, tail = slice(0, edge), slice(len(seconds) - edge, None)
    flat = median(seconds[tail]) / median(seconds[head])
    for label, part in (("first", head), ("last", tail)):
        print(
            f"  {label} {edge} imports: median {ms(median(seconds[part]))} (glTF importer {ms(median(gltf[part]))}, "
            f"the rest {ms(median(ours[part]))})",
            file=out,
        )
    print(
        f"  {len(seconds)} imports, {sum(seconds):.2f} s in all; last {edge} / first {edge}: {flat:.2f} "
        f"(glTF importer {median(gltf[tail]) / median(gltf[head]):.2f}, the rest "
        f"{median(ours[tail]) / median(ours[head]):.2f})",
        file=out,
    )
    print(f"  peak RSS (ru_maxrss): {rss_before:.0f} MB before the batch, {rss_after:.0f} MB at its end", file=out)
    print(bench_common.steal_line(), file=out)
    verdicts = ("met" if span <= GOAL_SPAN else "MISSED", "met" if flat <= GOAL_FLAT else "MISSED")
    print(f"goals: span {verdicts[0]}, flat imports {verdicts[1]}", file=out)
    print(
        f"batch_scale: {rows} rows, last import at {span:.3f} x the ideal {ideal:.1f} s, last/first {edge} imports "
        f"x{flat:.2f}, peak RSS {rss_after:.0f} MB (goal <={GOAL_SPAN}, <={GOAL_FLAT})",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
