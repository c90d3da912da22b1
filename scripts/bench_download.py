"""Downloading a 300 MB GLB: our ``download()`` against ``curl -o``, speed and memory.

Both fetch the same sandbox URL (``/_sandbox/large.glb?mb=300``, a valid GLB streamed
with its Content-Length) five times each, in alternating order. Ours runs in a child
process (``MeshyClient.download``, i.e. ``api/download.py``: streamed 1 MiB pieces to a
temporary file, fsync, GLB check, rename) and reports its own time and the growth of
its peak resident memory (VmHWM) across the download; the time the final fsync takes
is reported too (``os.fsync`` is wrapped in the child, not changed), and its CPU time.
curl reports its own ``time_total``; its CPU time comes from the parent's usage of its
children; an fsync of its file afterwards is timed too, for a comparison at equal
durability. Each file is deleted right after its run and the disks synced, so no run
pays for the previous one's writeback.

Goals: our throughput at least 80 % of curl's (medians), peak memory growth under 32 MB.
MB here is 2^20 bytes.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import bench_common
from bench_common import median
from sandbox_control import PAID_KEY, Sandbox

SIZE_MB = 300
RUNS = 5
MB = 2**20
CURL_TIMEOUT_S = 60
GOAL_RATIO = 0.8
GOAL_MEMORY_MB = 32


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child(url: str, dest: str) -> None:
    """Run one download here and print its figures as JSON (the parent's measurement)."""
    from meshy_blender.api.client import MeshyClient

    fsync_seconds: list[float] = []
    real_fsync = os.fsync

    @functools.wraps(real_fsync)
    def timed_fsync(fd: Any) -> None:
        started = time.perf_counter()
        real_fsync(fd)
        fsync_seconds.append(time.perf_counter() - started)

    os.fsync = timed_fsync
    with MeshyClient(PAID_KEY, url.split("/_sandbox/", maxsplit=1)[0]) as client:
        before_hwm, before_rss = _vm_kib("VmHWM"), _vm_kib("VmRSS")
        cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
        started = time.perf_counter()
        path = client.download(url, Path(dest))
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu_before
        after_hwm = _vm_kib("VmHWM")
    figures = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": path.stat().st_size,
        "fsync_seconds": sum(fsync_seconds),
        "hwm_growth_kib": after_hwm - before_hwm,
        "rss_before_kib": before_rss,
    }
    print(json.dumps(figures))


def ours(url: str, dest: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", url, str(dest)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CURL_TIMEOUT_S, check=True)
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def curl(url: str, dest: Path) -> dict[str, Any]:
    command = ["curl", "-sSf", "-o", str(dest), "-w", "%{time_total} %{size_download}", url]
    cpu_before = _cpu_seconds(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, text=True, timeout=CURL_TIMEOUT_S, check=True)
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before
    seconds, size = result.stdout.split()
    return {"seconds": float(seconds), "cpu_seconds": cpu, "bytes": int(float(size)), "fsync_seconds": fsync(dest)}


def fsync(path: Path) -> float:
    """Seconds to fsync curl's file: what curl would pay to leave it on disk as our download does."""
    fd = os.open(path, os.O_RDONLY)
    try:
        started = time.perf_counter()
        os.fsync(fd)
        return time.perf_counter() - started
    finally:
        os.close(fd)


def settle(dest: Path) -> None:
    dest.unlink(missing_ok=True)
    os.sync()


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    if shutil.which("curl") is None:
        print("curl is not installed (apt-get install curl)", file=out)
        return 1
    version = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    results: dict[str, list[dict[str, Any]]] = {"ours": [], "curl": []}
    with tempfile.TemporaryDirectory(prefix="bench-download-") as temp, Sandbox() as sandbox:
        url = f"{sandbox.url}/_sandbox/large.glb?mb={SIZE_MB}"
        with urllib.request.urlopen(url, timeout=30) as response:  # the sandbox lays the file out once
            response.read(1)
        dest = Path(temp) / "large.glb"
        os.sync()  # no run pays for what was written before the benchmark
        for run in range(RUNS):
            order = ("curl", "ours") if run % 2 == 0 else ("ours", "curl")
            for name in order:
                figures = curl(url, dest) if name == "curl" else ours(url, dest)
                results[name].append(figures)
                settle(dest)
    size = results["curl"][0]["bytes"]
    if any(figures["bytes"] != size for runs in results.values() for figures in runs):
        print(f"the downloads differ in size: {results}", file=out)
        return 1
    print(f"file: {size / MB:.1f} MB ({size} bytes), {RUNS} runs each, alternating; curl {version}", file=out)
    speeds = {name: [size / MB / figures["seconds"] for figures in runs] for name, runs in results.items()}
    for name in ("curl", "ours"):
        cpu = median([figures["cpu_seconds"] for figures in results[name]])
        listed = ", ".join(f"{speed:.0f}" for speed in speeds[name])
        print(f"{name}: {listed} MB/s, median {median(speeds[name]):.0f} MB/s; CPU time median {cpu:.2f} s", file=out)
    curl_durable = median([size / MB / (f["seconds"] + f["fsync_seconds"]) for f in results["curl"]])
    print(f"curl followed by an fsync of its file (as durable as ours): median {curl_durable:.0f} MB/s", file=out)
    fsyncs = [figures["fsync_seconds"] for figures in results["ours"]]
    seconds = [figures["seconds"] for figures in results["ours"]]
    without_fsync = median([total - fsync for total, fsync in zip(seconds, fsyncs, strict=True)])
    print(
        f"ours: {median(seconds):.2f} s median, of which the final fsync {median(fsyncs):.2f} s "
        f"(curl does not fsync); without it {size / MB / without_fsync:.0f} MB/s",
        file=out,
    )
    growth = [figures["hwm_growth_kib"] / 1024 for figures in results["ours"]]
    print(
        f"ours: peak RSS growth during the download {', '.join(f'{g:.1f}' for g in growth)} MB "
        f"(RSS before {results['ours'][0]['rss_before_kib'] / 1024:.0f} MB)",
        file=out,
    )
    ratio = median(speeds["ours"]) / median(speeds["curl"])
    met = ratio >= GOAL_RATIO and max(growth) < GOAL_MEMORY_MB
    print(bench_common.steal_line(), file=out)
    print(f"goals {'met' if met else 'MISSED'}", file=out)
    print(
        f"download: {median(speeds['ours']):.0f} MB/s, {ratio * 100:.0f} % of curl's "
        f"{median(speeds['curl']):.0f} MB/s, peak RSS growth {max(growth):.1f} MB (goal >=80 % of curl, <32 MB)",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
