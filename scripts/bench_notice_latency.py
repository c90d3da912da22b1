"""How soon a job learns that its Meshy task finished: SSE versus polling.

Against the offline sandbox on this machine (one clock): for each task, the latency is
the time from the task's ``finished_at`` (the epoch milliseconds at which the sandbox
marks it SUCCEEDED) to the moment ``wait_for_task`` hands the terminal state to its
``on_update`` callback (what the job runner listens to), read with ``time.time()``.

Rounds of ten text-to-3D preview tasks, five followed over SSE and five by polling
(RunSettings' default interval), each on its own thread and client as the job workers
do. Each task gets a different duration (2 s plus 0…1 poll interval), so that polls
meet the finish at every phase, as they do with real tasks. Requests per task are
counted in the sandbox's request log: the create, plus every request naming the task.

Goal: SSE median latency under 0.3 s.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass

import bench_common
from bench_common import median, percentile
from sandbox_control import PAID_KEY, Sandbox

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.tasks import Task, TaskKind
from meshy_blender.jobs.runner import RunSettings

TASKS_PER_MODE = 20
ROUND_SIZE = 10  # the add-on's default concurrency: half SSE, half polling
BASE_TASK_SECONDS = 2.0
WAIT_TIMEOUT_S = 60.0
GOAL_SSE_MEDIAN_S = 0.3


@dataclass
class Sample:
    use_sse: bool
    task_id: str = ""
    finished_ms: int = 0
    noticed: float = 0.0
    error: str = ""

    @property
    def latency(self) -> float:
        return self.noticed - self.finished_ms / 1000


def follow(base_url: str, sample: Sample, settings: RunSettings) -> None:
    """Wait for the task as a job runner does; note when the terminal state arrives."""

    def on_update(task: Task) -> None:
        if task.is_terminal and not sample.noticed:
            sample.noticed = time.time()
            sample.finished_ms = task.finished_at

    try:
        with MeshyClient(PAID_KEY, base_url) as client:
            client.wait_for_task(
                TaskKind.TEXT_TO_3D,
                sample.task_id,
                on_update=on_update,
                use_sse=sample.use_sse,
                poll_interval=settings.poll_interval,
                timeout=WAIT_TIMEOUT_S,
            )
    except Exception as error:  # reported with the results, never hidden
        sample.error = f"{type(error).__name__}: {error}"


def run_round(sandbox: Sandbox, client: MeshyClient, samples: list[Sample], rng: random.Random) -> None:
    settings = RunSettings()
    for sample in samples:
        sandbox.configure(task_seconds=BASE_TASK_SECONDS + rng.uniform(0, settings.poll_interval))
        sample.task_id = client.text_to_3d_preview("a small clay teapot")
    threads = [threading.Thread(target=follow, args=(sandbox.url, sample, settings)) for sample in samples]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_TIMEOUT_S + 10)


def requests_per_task(sandbox: Sandbox, samples: list[Sample]) -> dict[str, tuple[int, int]]:
    """Per task: (requests, of which refused with 429): its one create plus every request naming it."""
    log = sandbox.requests()
    creates = sum(1 for entry in log if entry["method"] == "POST" and entry["status"] < 300)
    if creates != len(samples):
        raise RuntimeError(f"expected {len(samples)} creates, the sandbox accepted {creates}")
    counts = {}
    for sample in samples:
        mine = [entry for entry in log if sample.task_id in entry["path"]]
        counts[sample.task_id] = (1 + len(mine), sum(entry["status"] == 429 for entry in mine))
    return counts


def main() -> int:
    out = bench_common.report_stream()
    print(bench_common.machine_line(), file=out)
    settings = RunSettings()
    print(f"SSE: RunSettings.use_sse={settings.use_sse}; polling every {settings.poll_interval:g} s", file=out)
    rng = random.Random(20261121)
    samples = [Sample(use_sse=index % 2 == 0) for index in range(2 * TASKS_PER_MODE)]
    with Sandbox() as sandbox, MeshyClient(PAID_KEY, sandbox.url) as client:
        sandbox.configure(balance=1_000_000, queue_limit=ROUND_SIZE)
        started = time.monotonic()
        for first in range(0, len(samples), ROUND_SIZE):
            run_round(sandbox, client, samples[first : first + ROUND_SIZE], rng)
        seconds = time.monotonic() - started
        counts = requests_per_task(sandbox, samples)
    failed = [sample.error for sample in samples if sample.error or not sample.noticed]
    if failed:
        print(f"{len(failed)} task(s) were not followed to the end: {failed[:3]}", file=out)
        return 1
    print(f"{len(samples)} tasks in {seconds:.1f} s", file=out)
    medians = {}
    for use_sse, label in ((True, "SSE"), (False, "polling")):
        mine = [sample for sample in samples if sample.use_sse is use_sse]
        latencies = [sample.latency for sample in mine]
        requests = [counts[sample.task_id][0] for sample in mine]
        refused = sum(counts[sample.task_id][1] for sample in mine)
        medians[label] = (median(latencies), sum(requests) / len(requests))
        print(
            f"{label} ({len(mine)} tasks): latency median {median(latencies):.3f} s, "
            f"p90 {percentile(latencies, 0.9):.3f} s, min {min(latencies):.3f} s, max {max(latencies):.3f} s; "
            f"requests per task mean {sum(requests) / len(requests):.2f} (min {min(requests)}, max {max(requests)}; "
            f"{refused} refused by the rate limit and retried)",
            file=out,
        )
    sse, poll = medians["SSE"], medians["polling"]
    print(f"polling / SSE: latency x{poll[0] / sse[0]:.0f}, requests x{poll[1] / sse[1]:.2f}", file=out)
    print(bench_common.steal_line(), file=out)
    print(f"goal {'met' if sse[0] < GOAL_SSE_MEDIAN_S else 'MISSED'}", file=out)
    print(
        f"notice_latency: SSE median {sse[0]:.3f} s, polling median {poll[0]:.3f} s, "
        f"requests per task {sse[1]:.1f} vs {poll[1]:.1f} (goal SSE median <0.3 s)",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
