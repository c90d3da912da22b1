"""How long the pump holds Blender's main thread while real jobs run.

Real Blender (the pip ``bpy`` module), the real session, JobManager and worker threads,
against the offline sandbox: rounds of three jobs (text preview → refine with PBR,
image to 3D, rig with its walking and running clips) are submitted one second apart,
and ``pump.tick()`` is driven as ``pump.run_until`` drives it (every 50 ms), each call
timed (wall clock, and the main thread's CPU time). A tick that imported a job is an
import tick; every other tick is what Blender pays at each timer call while jobs run.

The import ticks are compared with the bare glTF importer: the same downloaded files
of each job (model and clips), imported with the same options into a fresh empty scene,
once per import tick. Two more measurements tell the causes apart: the bare importer on
the same files in the run's order into one scene that grows as the run's scene did
(Blender's importer slows down as a scene fills), and each job's import replayed through
the same ``pump.tick()`` with no job running (a fresh manager, the job handed over as
ready, a fresh empty scene), paired with its bare import in alternating order.

Goals: every non-import tick under 5 ms and their median under 0.5 ms; the median
import tick at most 10 % above the median bare import.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import bench_common
import bpy
from bench_common import median, ms, percentile
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.blender import pump, session
from meshy_blender.jobs import plans
from meshy_blender.jobs.model import Job, JobState

TASK_SECONDS = 2.0
ROUNDS = 6
JOBS_PER_ROUND = 3
ROUND_GAP_S = 1.0
TICK_INTERVAL_S = 0.05  # pump.run_until's default
RUN_TIMEOUT_S = 60.0
GOAL_MAX_S = 0.005
GOAL_MEDIAN_S = 0.0005
GOAL_IMPORT_OVERHEAD = 0.10
ROLES = ("model", "walking", "running")


@dataclass
class Run:
    other: list[float] = field(default_factory=list)
    #: Main-thread CPU seconds of each non-import tick (what the tick itself ran, without waits).
    other_cpu: list[float] = field(default_factory=list)
    #: (wall seconds, main-thread CPU seconds, job) of each import tick.
    imports: list[tuple[float, float, Job]] = field(default_factory=list)
    seconds: float = 0.0
    worker_cpu: float = 0.0
    sandbox_cpu: float = 0.0


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """A picture for image to 3D and a character GLB for rigging."""
    import sandbox_assets

    image = folder / "vase.png"
    image.write_bytes(sandbox_assets.png_bytes(256, 256, (200, 120, 60)))
    model = folder / "character.glb"
    model.write_bytes(sandbox_assets.rigged_character_glb())
    return image, model


def warm_up(folder: Path) -> None:
    """Import one file of each kind the sandbox serves, so that no measurement pays first-use costs."""
    import sandbox_assets

    samples = {
        "textured.glb": sandbox_assets.textured_glb(pbr=True),
        "rigged.glb": sandbox_assets.rigged_character_glb(),
        "clip.glb": sandbox_assets.animation_glb("walking"),
    }
    for name, data in samples.items():
        path = folder / name
        path.write_bytes(data)
        bench_common.empty_scene()
        bench_common.bare_import(path)
    bench_common.empty_scene()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_tick() -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    pump.tick()
    return time.perf_counter() - wall, time.thread_time() - cpu


def drive(config: session.Config, image: Path, model: Path, sandbox_pid: int) -> tuple[Run, list[Job]]:
    """Submit the rounds and tick the pump until every job is final."""
    manager = session.configure(config)
    run = Run()
    jobs: list[Job] = []
    imported: list[Job] = []

    def listener(job: Job, _result: object) -> None:
        imported.append(job)

    pump.import_listeners.append(listener)
    started, cpu_started, main_cpu_started = time.monotonic(), time.process_time(), time.thread_time()
    sandbox_started = process_cpu(sandbox_pid)
    try:
        while True:
            due = min(ROUNDS, int((time.monotonic() - started) / ROUND_GAP_S) + 1)
            while len(jobs) < JOBS_PER_ROUND * due:
                jobs += [
                    manager.submit(
                        plans.text_job("a carved wooden armchair", refine=True, refine_options={"enable_pbr": True})
                    ),
                    manager.submit(plans.image_job([image])),
                    manager.submit(plans.rig_job(model=model, height_meters=1.8)),
                ]
            before = len(imported)
            wall, cpu = timed_tick()
            if len(imported) > before:
                run.imports.append((wall, cpu, imported[-1]))
            else:
                run.other.append(wall)
                run.other_cpu.append(cpu)
            if len(jobs) == JOBS_PER_ROUND * ROUNDS and manager.all_final(job.id for job in jobs):
                break
            if time.monotonic() - started > RUN_TIMEOUT_S:
                raise TimeoutError(f"the jobs did not finish within {RUN_TIMEOUT_S:g} s")
            time.sleep(TICK_INTERVAL_S)
        run.seconds = time.monotonic() - started
        run.worker_cpu = (time.process_time() - cpu_started) - (time.thread_time() - main_cpu_started)
        run.sandbox_cpu = process_cpu(sandbox_pid) - sandbox_started
    finally:
        pump.import_listeners.remove(listener)
        session.shutdown(5.0)
    return run, jobs


def bare_growing(jobs: list[Job]) -> list[float]:
    """The bare importer on each job's files in the run's order, all into one scene, as in the run.

    As in the run, the objects a clip file brings are removed afterwards (untimed): only its action stays.
    """
    bench_common.empty_scene()
    times = []
    for job in jobs:
        model, *clips = job_files(job)
        elapsed = bench_common.bare_import(model)
        for clip in clips:
            before = set(bpy.data.objects)
            elapsed += bench_common.bare_import(clip)
            bpy.data.batch_remove([obj for obj in bpy.data.objects if obj not in before])
        times.append(elapsed)
    return times


def job_files(job: Job) -> list[Path]:
    return [Path(job.files[role]) for role in ROLES if role in job.files]


def replay(config: session.Config, jobs: list[Job]) -> tuple[list[float], list[float]]:
    """Each job's files: (bare importer, pump.tick import with nothing else running), paired, order alternating."""
    manager = session.configure(config)
    bare, ticks = [], []
    try:
        for index, job in enumerate(jobs):
            files = job_files(job)
            again = Job.from_dict(job.to_dict())
            again.state = JobState.READY
            for step in ("bare", "tick") if index % 2 == 0 else ("tick", "bare"):
                bench_common.empty_scene()
                if step == "bare":
                    bare.append(sum(bench_common.bare_import(path) for path in files))
                else:
                    manager.add_ready(again)
                    ticks.append(timed_tick()[0])
                    if again.state is not JobState.IMPORTED:
                        raise RuntimeError(f"the replay of {job.name} was not imported: {again.message}")
    finally:
        session.shutdown(5.0)
    return bare, ticks


def report(out: TextIO, run: Run, bare: list[float], growing: list[float], replayed: list[float]) -> None:
    other, import_walls = run.other, [wall for wall, _, _ in run.imports]
    print(
        f"run: {len(run.imports)} jobs imported in {run.seconds:.1f} s, {len(other) + len(run.imports)} ticks; "
        f"CPU meanwhile: worker threads {run.worker_cpu:.1f} s, sandbox {run.sandbox_cpu:.1f} s",
        file=out,
    )
    print(
        f"non-import ticks ({len(other)}): median {ms(median(other))}, p90 {ms(percentile(other, 0.9))}, "
        f"p99 {ms(percentile(other, 0.99))}, p100 {ms(max(other))}; {sum(t >= GOAL_MAX_S for t in other)} "
        f"at or over {ms(GOAL_MAX_S)}; slowest: {', '.join(ms(t) for t in sorted(other)[-5:])}; "
        f"main-thread CPU median {ms(median(run.other_cpu))}",
        file=out,
    )
    by_kind: dict[str, list[list[float]]] = defaultdict(lambda: [[], [], [], []])
    for (wall, _, job), *others in zip(run.imports, bare, growing, replayed, strict=True):
        for column, value in enumerate((wall, *others)):
            by_kind[job.kind][column].append(value)
    print(
        "medians by kind: import tick during the run / bare importer, fresh empty scene / "
        "bare importer, growing scene / tick replayed with nothing running",
        file=out,
    )
    for kind, columns in sorted(by_kind.items()):
        print(f"  {kind} ({len(columns[0])}): {' / '.join(ms(median(column)) for column in columns)}", file=out)
    overhead = median(import_walls) / median(bare) - 1
    quiet = median(replayed) / median(bare) - 1
    cpu = median([cpu for _, cpu, _ in run.imports])
    print(
        f"import ticks ({len(import_walls)}): median {ms(median(import_walls))} (main-thread CPU {ms(cpu)}); "
        f"bare importer on the same files in fresh empty scenes: median {ms(median(bare))}; "
        f"overhead {overhead:+.1%}",
        file=out,
    )
    growing_overhead = median(import_walls) / median(growing) - 1
    print(
        f"bare importer into one growing scene, as in the run: median {ms(median(growing))}; "
        f"import ticks {growing_overhead:+.1%} over it",
        file=out,
    )
    print(
        f"the same imports replayed through pump.tick with no job running, fresh empty scenes: "
        f"median {ms(median(replayed))}, {quiet:+.1%} over bare",
        file=out,
    )
    met = max(other) < GOAL_MAX_S and median(other) < GOAL_MEDIAN_S and overhead <= GOAL_IMPORT_OVERHEAD
    print(bench_common.steal_line(), file=out)
    print(f"goals {'met' if met else 'MISSED'}", file=out)
    print(
        f"main_thread: p100 non-import tick {max(other) * 1000:.2f} ms, median {median(other) * 1000:.3f} ms, "
        f"import overhead {overhead * 100:+.1f} % ({growing_overhead * 100:+.1f} % against the same growing scene) "
        "(goal <5 ms, <0.5 ms, <=10 %)",
        file=out,
    )


def main() -> int:
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    with tempfile.TemporaryDirectory(prefix="bench-main-thread-") as temp, Sandbox() as sandbox:
        folder = Path(temp)
        sandbox.configure(task_seconds=TASK_SECONDS, balance=1_000_000)
        image, model = write_inputs(folder)
        warm_up(folder)
        config = session.Config(
            api_key=PAID_KEY,
            base_url=sandbox.url,
            download_dir=folder / "downloads",
            ledger_path=folder / "ledger.json",
        )
        run, jobs = drive(config, image, model, sandbox.process.pid)
        failed = [f"{job.name}: {job.state} {job.error}" for job in jobs if job.state is not JobState.IMPORTED]
        if failed:
            print(f"not every job was imported: {failed}", file=out)
            return 1
        replay_config = session.Config(
            api_key=PAID_KEY, base_url=sandbox.url, download_dir=folder / "replay", ledger_path=folder / "replay.json"
        )
        imported = [job for _, _, job in run.imports]
        growing = bare_growing(imported)
        bare, replayed = replay(replay_config, imported)
    report(out, run, bare, growing, replayed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
