"""How long listing the artist's library takes with thousands of entries (plain Python, no Blender).

    .venv/bin/python scripts/bench_library.py [--entries 2000] [--repeat 200]

Fills a library in a temporary folder with ``--entries`` entries through
``Library.add`` (a small model and thumbnail each, hard-linked as the job manager's
results are), then times ``entries()`` (the sidebar asks at every redraw):
- cold: a fresh ``Library`` (a new Blender, the command) reads every record;
- warm: nothing changed (the folder's time is past): one ``stat``;
- after one add by another process: the folder is scanned, only the new record read;
- ``find(search=…)`` over the warm listing.

Goal: a warm listing far under the sidebar's 2 ms budget, and a cold one well under a second.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import bench_common
from bench_common import median, ms

from meshy_blender.library import Entry, Library


def _timed(call: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    out = bench_common.report_stream()
    out.write(bench_common.machine_line() + "\n")
    with tempfile.TemporaryDirectory() as temp:
        model, thumbnail = Path(temp, "model.glb"), Path(temp, "thumbnail.png")
        model.write_bytes(b"glTF" + bytes(60_000))
        thumbnail.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20_000))
        folder = Path(temp, "library")
        library = Library(folder)
        start = time.perf_counter()
        for number in range(args.entries):
            prompt = f"a wooden chair number {number} with carved legs"
            library.add(Entry(id=f"task{number:06d}", kind="text-to-3d", name=f"Chair {number}", prompt=prompt),
                        {"model": model, "thumbnail": thumbnail})  # fmt: skip
        filled = time.perf_counter() - start
        out.write(f"filled {args.entries} entries in {filled:.2f} s ({ms(filled / args.entries)} each)\n")
        settled = time.time() - 60
        os.utime(folder, (settled, settled))

        cold = _timed(lambda: Library(folder).entries(), max(3, args.repeat // 20))
        reader = Library(folder)
        reader.entries()
        warm = _timed(reader.entries, args.repeat)

        changed = []
        for number in range(max(3, args.repeat // 20)):
            Library(folder).add(Entry(id=f"extra{number}", kind="rigging", name="x"), {"model": model})
            os.utime(folder, (settled + number + 1, settled + number + 1))  # past, so the reader trusts its scan
            start = time.perf_counter()
            reader.entries()
            changed.append(time.perf_counter() - start)
        search = _timed(lambda: reader.find(search="number 1999"), args.repeat)
        out.write(f"cold listing (a new reader): {ms(cold)}\n")
        out.write(f"warm listing (nothing changed): {ms(warm)}\n")
        out.write(f"listing after another process added one: {ms(median(changed))}\n")
        out.write(f"find(search=...) over the listing: {ms(search)}\n")
        out.write(bench_common.steal_line() + "\n")
        out.write(f"library listing: {ms(warm)} warm, {ms(cold)} cold for {args.entries} entries (goal warm < 2 ms)\n")


if __name__ == "__main__":
    main()
