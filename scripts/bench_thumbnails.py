"""How long the sandbox takes to draw its thumbnails, and to serve them once drawn (plain Python, no Blender).

    .venv/bin/python scripts/bench_thumbnails.py [--repeat 5]

Each of the four views (and the transparent front) is drawn ``--repeat`` times from nothing
(``sandbox_thumbnails``' caches cleared; the vase's geometry and texels, shared with its GLB,
kept), then asked 10,000 times as a benchmark's thousands of tasks ask it: from the cache.

Goal: under 200 ms a picture the first time; then a cache hit.
"""

from __future__ import annotations

import argparse
import time

import bench_common
import sandbox_assets
import sandbox_thumbnails
from bench_common import median, ms

CACHED_ASKS = 10_000


def _first_draw(view: str, alpha: bool, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        sandbox_thumbnails._png.cache_clear()
        sandbox_thumbnails._shaded.cache_clear()
        started = time.perf_counter()
        sandbox_thumbnails.thumbnail(view, alpha)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="draws from nothing per picture (default 5)")
    args = parser.parse_args()
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    started = time.perf_counter()
    sandbox_assets.vase_mesh()
    sandbox_assets.vase_base_color_texels()
    print(
        f"the vase's geometry and texels (once per process, shared with its GLB): {ms(time.perf_counter() - started)}",
        file=out,
    )
    worst = 0.0
    for view, alpha in [*((view, False) for view in sandbox_thumbnails.VIEWS), ("front", True)]:
        times = _first_draw(view, alpha, args.repeat)
        worst = max(worst, median(times))
        label = f"{view}{' (transparent)' if alpha else ''}"
        print(f"{label}: first draw median {ms(median(times))}, best {ms(min(times))} of {args.repeat}", file=out)
    started = time.perf_counter()
    for _ in range(CACHED_ASKS):
        sandbox_thumbnails.thumbnail("front")
    each = (time.perf_counter() - started) / CACHED_ASKS
    print(f"cached: {each * 1e6:.2f} µs an ask ({CACHED_ASKS} asks)", file=out)
    print(bench_common.steal_line(), file=out)
    print(f"sandbox thumbnail: {ms(worst)} first draw, slowest view's median (goal < 200 ms)", file=out)


if __name__ == "__main__":
    main()
