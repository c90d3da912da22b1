"""The generation commands: one asset (``text-to-3d`` … ``-o FILE``) or a whole ``batch``.

:func:`plan` checks everything the user gave (options, files, the manifest) before the
key, the network or the scene are touched; the plan's ``run`` then does the work with
:class:`.headless.HeadlessRun`. ``headless`` (and with it ``bpy``, 0.9 s to load) is
imported only then, so that a mistake in the input is reported at once.

The output is the identity of a run. Before anything is sent, its folder is made and
written to (:func:`..jobs.outputs.prepare_folder`, exit 2) and locked for the whole run
(``.<FILE>.meshy.lock`` beside ``-o``, ``DIR/.meshy-batch.lock``): a second run on the
same output stops at once (exit 7) or, with ``--wait-for-output``, waits for the first.
A single run that waited, and finds the output written meanwhile and no unfinished work
left beside it, ends with that result instead of paying for another.

Where the job store (:mod:`..jobs.store`) lives:
- a single command keeps its jobs and downloads in a hidden folder beside the output,
  ``.<FILE>.meshy/``. It is deleted when the command ends with a result or a definite
  failure, and kept after a timeout, a network failure, a result that could not be
  written (exit 6) or an interrupt: running the same command with the same ``-o``
  again then picks up the task already created instead of paying for a new one.
- a batch keeps ``DIR/.meshy-batch-jobs/`` and ``DIR/.meshy-downloads/`` for good,
  so that every later run with the same ``--out-dir`` carries on where it stopped.
  A shard (``--shard K/N``) is a batch of its rows with its own ``--out-dir``; its
  concurrency defaults to its share of the account's queue, and the same job store
  makes its ``--max-credits`` budget count every earlier run into that folder.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ... import cli_args
from ...api.errors import (
    EXIT_LOCAL_WRITE,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_OVER_BUDGET,
    EXIT_TASK_FAILED,
    ValidationError,
)
from ...jobs import manifest, outputs, specs
from ...jobs.cli_events import Reporter
from ...jobs.model import Job
from .. import session

if TYPE_CHECKING:
    from .headless import Target

OUTPUT_SUFFIXES = (".blend", ".glb")
BATCH_JOBS = ".meshy-batch-jobs"
#: Version 0.1's single-file ledger of a batch, taken over by the job store on the next run.
BATCH_LEDGER = ".meshy-batch-ledger.json"
BATCH_DOWNLOADS = ".meshy-downloads"
BATCH_BLEND = "batch.blend"
BATCH_LOCK = ".meshy-batch.lock"


@dataclass
class SinglePlan:
    job: Job
    output: Path
    timeout: float
    #: Seconds to wait for another run writing the same output (0: stop at once).
    wait: float = 0.0

    @property
    def work_dir(self) -> Path:
        return self.output.parent / f".{self.output.name}.meshy"

    def run(self, config: session.Config, reporter: Reporter) -> int:
        outputs.prepare_folder(self.output.parent, self.output.name)
        if self.output.is_dir():
            raise ValidationError(f"-o names a folder ({self.output}); name a .blend or .glb file.", field="output")
        lock_path = self.output.parent / f".{self.output.name}.meshy.lock"
        with outputs.OutputLock(lock_path, self.output, wait=self.wait) as lock:
            if lock.written_meanwhile and not self.work_dir.exists():
                reporter.emit("done", name=self.job.name, output=str(self.output), credits=0, note="another run")
                reporter.say(f"{self.output} was written by the run this one waited for; nothing sent.")
                return EXIT_OK
            return self._run(config, reporter)

    def _run(self, config: session.Config, reporter: Reporter) -> int:
        from .headless import HeadlessRun, Target, Workspace

        blend = self.output.suffix.lower() == ".blend"
        workspace = Workspace(
            jobs_dir=self.work_dir / "jobs",
            legacy_ledger=self.work_dir / "ledger.json",
            download_dir=self.work_dir / "downloads",
            blend_path=self.output if blend else None,
        )
        target = Target(name=self.job.name, make_job=lambda _task_id: self.job, glb_path=None if blend else self.output)
        if not HeadlessRun(config, workspace, reporter, concurrency=1, timeout=self.timeout).run([target]):
            reporter.error(
                f"Gave up after {self.timeout:g} s; the task goes on at Meshy. Run the same command "
                "again to pick it up.",
                exit_code=EXIT_NETWORK,
            )
            return EXIT_NETWORK
        if target.exit_code not in (EXIT_NETWORK, EXIT_LOCAL_WRITE):  # those are resumed by the next run
            shutil.rmtree(self.work_dir, ignore_errors=True)
        if target.outcome == "failed":
            reporter.error(target.reason, exit_code=target.exit_code, name=target.name)
            return target.exit_code
        credits = target.job.consumed_credits if target.job else 0
        pictures = target.job is not None and target.job.makes_images
        count = len(target.job.files) if target.job else 0
        saved = f"{count} picture{'s' if count != 1 else ''} in {self.output.parent}" if pictures else self.output
        reporter.say(f"Saved {saved} ({credits} credits)")
        return EXIT_OK


@dataclass
class BatchPlan:
    assets: list[manifest.Asset]
    out_dir: Path
    concurrency: int
    timeout: float
    wait: float = 0.0
    max_credits: int | None = None
    #: Results per part file (0: every result in batch.blend itself); see ``scene/result_parts.py``.
    part_size: int = 0

    def run(self, config: session.Config, reporter: Reporter) -> int:
        outputs.prepare_folder(self.out_dir, "the batch's results")
        with outputs.OutputLock(self.out_dir / BATCH_LOCK, self.out_dir, wait=self.wait):
            return self._run(config, reporter)  # a run that waited finds the other's work in the job store

    def _run(self, config: session.Config, reporter: Reporter) -> int:
        from .headless import HeadlessRun, Target, Workspace

        started = time.monotonic()
        workspace = Workspace(
            jobs_dir=self.out_dir / BATCH_JOBS,
            legacy_ledger=self.out_dir / BATCH_LEDGER,
            download_dir=self.out_dir / BATCH_DOWNLOADS,
            blend_path=self.out_dir / BATCH_BLEND,
            layout=True,
            trust_existing_glb=True,
            source="batch",
            part_size=self.part_size,
        )
        targets = [
            Target(name=asset.name, make_job=asset.job, after=asset.rig_of, glb_path=self.out_dir / f"{asset.name}.glb")
            for asset in self.assets
        ]
        engine = HeadlessRun(
            config,
            workspace,
            reporter,
            concurrency=self.concurrency,
            timeout=self.timeout,
            max_credits=self.max_credits,
        )
        finished = engine.run(targets)
        return self._summary(targets, finished, time.monotonic() - started, reporter)

    def _summary(self, targets: list[Target], finished: bool, seconds: float, reporter: Reporter) -> int:
        done = [target.name for target in targets if target.outcome == "done"]
        failed = [{"name": t.name, "reason": t.reason} for t in targets if t.outcome == "failed"]
        pending = [target.name for target in targets if not target.outcome]
        undone = [{"name": t.name, "reason": t.reason} for t in targets if t.outcome == "undone"]
        charged = {target.name: target.job.consumed_credits for target in targets if target.job is not None}
        credits = sum(charged.values())
        exit_code = EXIT_NETWORK if not finished else EXIT_TASK_FAILED if failed else EXIT_OK
        if finished and any(target.exit_code == EXIT_LOCAL_WRITE for target in targets):
            exit_code = EXIT_LOCAL_WRITE  # paid results are waiting for room: the same command writes them
        if exit_code == EXIT_OK and undone:
            exit_code = EXIT_OVER_BUDGET
        blend = self.out_dir / BATCH_BLEND
        reporter.emit(
            "summary",
            done=done,
            failed=failed,
            pending=pending,
            over_budget=undone,
            credits=credits,
            consumed_credits=charged,  # what Meshy charged for each asset (a failed task is refunded: 0)
            seconds=round(seconds, 1),
            blend=str(blend),
            exit_code=exit_code,
        )
        over = f"{len(undone)} left undone by --max-credits, " if undone else ""
        reporter.say(
            f"Batch: {len(done)} done, {len(failed)} failed, {over}{len(pending)} unfinished; "
            f"{credits} credits; {seconds:.0f} s. Scene: {blend}"
        )
        for failure in failed:
            reporter.say(f"  failed: {failure['name']}: {failure['reason']}")
        for left in undone:
            reporter.say(f"  left undone: {left['name']}: {left['reason']}")
        if pending:
            reporter.error(
                f"Gave up after {self.timeout:g} s with {len(pending)} asset(s) unfinished; run the same "
                "command again to carry on.",
                exit_code=exit_code,
            )
        return exit_code


def plan(args: argparse.Namespace) -> SinglePlan | BatchPlan:
    """Check the command's input; ValidationError (exit 2) when something is wrong."""
    if args.command == "batch":
        everything = manifest.load(Path(args.manifest))
        assets = manifest.shard(everything, *args.shard)
        if not assets:
            index, count = args.shard
            raise ValidationError(
                f"Shard {index}/{count} has no rows: the manifest has {len(everything)} (an animate row goes "
                "with its rig's shard). Use fewer shards.",
                field="shard",
            )
        return BatchPlan(
            assets=assets,
            out_dir=Path(args.out_dir).expanduser().resolve(),
            concurrency=cli_args.batch_concurrency(args),
            timeout=args.timeout,
            wait=args.wait_for_output,
            max_credits=args.max_credits,
            part_size=args.part_size,
        )
    output = Path(args.output).expanduser().resolve()
    if args.command in specs.IMAGE_KINDS:
        return _pictures_plan(args, output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValidationError(f"-o must name a .blend or .glb file (got {output.name}).", field="output")
    values = specs.resolve_files(cli_args.request_values(args), Path.cwd())
    job = specs.build_job(args.command, values)
    job.import_result = output.suffix.lower() == ".blend"
    return SinglePlan(job=job, output=output, timeout=args.timeout, wait=args.wait_for_output)


def _pictures_plan(args: argparse.Namespace, folder: Path) -> SinglePlan:
    """Concept pictures: ``-o`` is a folder, and they go into it as ``<name>-1.png`` …"""
    if folder.suffix.lower() in OUTPUT_SUFFIXES or folder.is_file():
        raise ValidationError(
            f"-o names the folder the pictures go into, not a file (got {folder.name}).", field="output"
        )
    values = specs.resolve_files(cli_args.request_values(args), Path.cwd())
    job = specs.build_job(args.command, values)
    stem = "-".join(job.name.lower().split()) or "concept"
    return SinglePlan(job=job, output=folder / f"{stem}.png", timeout=args.timeout, wait=args.wait_for_output)
