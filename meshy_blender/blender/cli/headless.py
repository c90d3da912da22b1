"""Run generation requests headless, to the end: the engine of ``meshy`` single commands and batches.

One run: check the connection (one cheap GET, so a wrong key or an unreachable server
fails before anything is paid), open the output scene, match each request with the
ledger (:mod:`..jobs.reuse`: resume, retry or take as finished; never create a task
twice), submit the rest, and drive the pump until every request is settled or the
time is up. Finished jobs are imported by the pump as in the GUI; their GLBs are
copied to the requested paths and the scene is saved every :data:`SAVE_INTERVAL_S`
seconds and at the end. A failed job carries the exit code of its error.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bpy

from ...api import animations
from ...api.errors import EXIT_BAD_INPUT, EXIT_TASK_FAILED, LocalWriteError, MeshyError
from ...jobs import outputs, reuse
from ...jobs.budget import Budget
from ...jobs.cli_events import Reporter
from ...jobs.manager import JobManager
from ...jobs.model import FileRef, Job, JobState
from ...jobs.runner import RunSettings
from .. import pump, session
from ..scene import importer, scene_io
from ..scene.held_results import HeldResults
from ..scene.result_parts import ResultParts

SAVE_INTERVAL_S = 30.0
SHUTDOWN_TIMEOUT_S = 5.0
#: Longest the end of a run waits for the library's texture maps (what is left is fetched at the next start).
MAPS_WAIT_S = 300.0


@dataclass
class Target:
    """One requested asset and what became of it."""

    name: str
    #: Builds the job; gets the final task id of ``after`` ("" when there is none).
    make_job: Callable[[str], Job]
    #: Name of a target whose finished task this one needs (an animation after its rig).
    after: str = ""
    #: Where the model GLB is published (None: not published).
    glb_path: Path | None = None
    job: Job | None = None
    outcome: str = ""  # "" while running, then "done", "failed" or "undone" (past the credit budget)
    reason: str = ""
    exit_code: int = 0

    def fail(self, reason: str, exit_code: int) -> None:
        self.outcome, self.reason, self.exit_code = "failed", reason, exit_code


@dataclass(frozen=True)
class Workspace:
    #: The run's job store, and a version 0.1 ledger file whose jobs it takes over.
    jobs_dir: Path
    download_dir: Path
    #: The scene results are imported into and saved as (None: no import).
    blend_path: Path | None = None
    #: Lay the assets out in a grid before saving.
    layout: bool = False
    legacy_ledger: Path | None = None
    #: A target whose GLB exists while the store knows no job of that name is taken as done.
    #: (The manager forgets finished jobs beyond a few hundred; the GLB is only ever
    #: written once its job finished, so it proves the asset was made.)
    trust_existing_glb: bool = False
    #: What the results' library entries say they came from ("command", "batch").
    source: str = "command"
    #: Write every this many results to a part file the saved scene links (0: every result in the scene
    #: itself); see :mod:`..scene.result_parts`.
    part_size: int = 0


def exit_code_of(job: Job) -> int:
    """The command's exit code for a job that ended FAILED or CANCELED."""
    if job.state is JobState.CANCELED:
        return EXIT_TASK_FAILED
    return job.exit_code or EXIT_TASK_FAILED


def _settled(job: Job | None) -> bool:
    return job is None or job.state.is_final


def publish(job: Job, dest: Path) -> list[Path]:
    """Copy the job's model to ``dest`` and a rig's clips beside it (``<stem>-walking.glb``).

    Concept pictures go beside ``dest`` as ``<stem>-1.png`` … (``dest`` itself is not written).

    Each file appears whole or not at all (see :func:`..jobs.outputs.copy_file`); a file
    that cannot be written raises LocalWriteError, and the job stays in the ledger.
    """
    written = []
    for role, source in sorted(job.files.items()):
        label = role.removeprefix("image_")
        target = dest if role == "model" else dest.with_name(f"{dest.stem}-{label}{dest.suffix}")
        try:
            outputs.copy_file(Path(source), target)
        except OSError as error:
            raise outputs.write_failed(target, outputs.reason(error)) from error
        written.append(target)
    return written


class HeadlessRun:
    def __init__(
        self,
        config: session.Config,
        workspace: Workspace,
        reporter: Reporter,
        *,
        concurrency: int,
        timeout: float,
        max_credits: int | None = None,
    ) -> None:
        self.config = dataclasses.replace(
            config,
            download_dir=workspace.download_dir,
            jobs_dir=workspace.jobs_dir,
            legacy_ledger=workspace.legacy_ledger,
            library_source=workspace.source,
            concurrency=concurrency,
            keep_finished=None,  # a batch must remember every asset it made, however many
            settings=RunSettings(task_timeout=timeout),
        )
        self.workspace = workspace
        self.reporter = reporter
        self.timeout = timeout
        self.max_credits = max_credits
        self._budget: Budget | None = None
        self.targets: list[Target] = []
        self._manager: JobManager | None = None
        #: Where results go while the run lasts, out of the scene (see :mod:`..scene.held_results`).
        self._held: HeldResults | None = None
        #: Where results go every ``part_size`` imports (None: they stay in the scene).
        self._parts: ResultParts | None = None
        #: Earlier runs' jobs not settled yet: their results may be in a part written before the store
        #: heard of their import, so the parts stay linked (looked in) until these are settled.
        self._earlier: set[str] = set()
        self._check_import: set[str] = set()
        self._unsaved = False
        #: Whether the file on disk links every part (a checkpoint does not: see ``ResultParts.save``).
        self._saved_whole = True
        self._saved_at = time.monotonic()

    # -- the run -------------------------------------------------------------------
    def run(self, targets: Sequence[Target]) -> bool:
        """Settle every target; False when the time ran out first (jobs stay in the store)."""
        self.targets = list(targets)
        with session.make_client(self.config) as client:
            client.balance()  # fails fast on a wrong key or an unreachable server
        if self.workspace.blend_path is not None:
            scene_io.open_scene(self.workspace.blend_path)
        self._manager = manager = session.configure(self.config)
        pump.import_listeners.append(self._imported)
        self._held = HeldResults(bpy.context.scene) if bpy.context.scene is not None else None
        if self._held is not None and self.workspace.blend_path is not None and self.workspace.part_size > 0:
            self._parts = ResultParts(self.workspace.blend_path, self.workspace.part_size, self._held)
            self._parts.take_over_earlier()
        try:
            wanted, previous_ids = self._match_earlier(manager)
            self._earlier = set(previous_ids.values())
            manager.resume()
            for target in self.targets:
                previous_id = previous_ids.get(target.name, "")
                previous = manager.get(previous_id)
                if previous is not None and previous.state is JobState.IMPORTED:
                    self._check_import.add(previous.id)  # imported by an earlier process: is it in this scene?
                if target.name in wanted:
                    target.job = reuse.carry_on(manager, wanted[target.name], previous_id)
                    self._announce(target.job, resumed=target.job.id == previous_id)
            finished = pump.run_until(
                self._poll, timeout=self.timeout, into=self._held.root if self._held is not None else None
            )
            if self._parts is not None:
                self._parts.write_due()
            if self._unsaved or not self._saved_whole:
                self._save(last=True)
            if finished:  # out of time: the next run finds the maps pending, with the jobs left in the store
                self._finish_library_maps(manager)
            return finished
        finally:
            if self._held is not None:
                self._held.release()
                self._held = None
            self._parts = None
            pump.import_listeners.remove(self._imported)
            self._manager = None
            session.shutdown(SHUTDOWN_TIMEOUT_S)

    def _finish_library_maps(self, manager: JobManager) -> None:
        """Wait (bounded) for the texture maps the library fetches after the imports (see ``library/maps.py``)."""
        if manager.maps is None:
            return
        deadline = time.monotonic() + MAPS_WAIT_S
        while (left := manager.maps.pending()) and time.monotonic() < deadline:
            self.reporter.status(f"Fetching the texture maps of {left} result(s) into the library")
            manager.maps.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        if left:
            self.reporter.say(
                f"The texture maps of {left} result(s) are not in the library yet: the next run or Blender "
                "that uses this library fetches them."
            )
            self.reporter.emit("library_maps_pending", results=left)

    def _match_earlier(self, manager: JobManager) -> tuple[dict[str, Job], dict[str, str]]:
        """The job each target wants and the id of its earlier job in the store, if any."""
        earlier = manager.jobs()
        if self.max_credits is not None:
            self._budget = Budget(self.max_credits, earlier)
        known_names = {job.name for job in earlier}
        wanted: dict[str, Job] = {}
        previous: dict[str, Job] = {}
        for target in sorted(self.targets, key=lambda t: bool(t.after)):
            dependency = previous.get(target.after) if target.after else None
            if target.after and not (dependency and all(stage.succeeded for stage in dependency.stages)):
                continue  # started once the job it depends on has its task
            job = target.make_job(dependency.final_task_id if dependency else "")
            match = reuse.find_previous(earlier, job)
            if (
                match is None
                and self.workspace.trust_existing_glb
                and target.glb_path is not None
                and target.glb_path.is_file()
                and target.name not in known_names
            ):
                target.outcome = "done"
                self.reporter.emit(
                    "done", name=target.name, output=str(target.glb_path), credits=0, note="found from an earlier run"
                )
                continue
            # Refused before it is kept: set_aside then stops its earlier job, and resume leaves it alone.
            if not self._admit(target, job if match is None or reuse.failed_on_meshy(match) else match):
                continue
            if match is not None:
                previous[target.name] = match
            wanted[target.name] = job
        owned = [job for job in earlier if manager.try_claim(job)]
        reuse.set_aside(owned, keep={job.id for job in previous.values()})
        for job in owned:
            manager.persist(job)
        return wanted, {name: job.id for name, job in previous.items()}

    # -- each pump step ------------------------------------------------------------
    def _poll(self) -> bool:
        for target in self.targets:
            if target.outcome:
                continue
            if target.job is None:
                self._start_dependent(target)
                continue
            self.reporter.watch(target.job)
            if target.job.state.is_final:
                self._settle(target, target.job)
        self.reporter.status(self._status_line())
        if self._parts is not None and self._manager is not None:
            self._earlier = {job_id for job_id in self._earlier if not _settled(self._manager.get(job_id))}
            if not self._earlier:
                self._parts.unlink()  # no earlier job is left to look for its result in them: imports stay cheap
            self._parts.write_due()  # between pump steps, after every import ready at this one
        if self._unsaved and time.monotonic() - self._saved_at >= SAVE_INTERVAL_S:
            self._save()
        return all(target.outcome for target in self.targets)

    def _start_dependent(self, target: Target) -> None:
        dependency = next(t for t in self.targets if t.name == target.after)
        if dependency.outcome == "failed":
            target.fail(f"'{dependency.name}', the rig it animates, failed", EXIT_TASK_FAILED)
            self._report_failure(target)
            return
        if dependency.outcome == "undone":
            self._leave_undone(target, f"'{dependency.name}', the rig it animates, was left undone")
            return
        rig = dependency.job
        if rig is None or not all(stage.succeeded for stage in rig.stages):
            if dependency.outcome == "done":  # found as a file, without a task id to animate
                target.fail(f"the task id of '{dependency.name}' is unknown (its ledger entry is gone)", EXIT_BAD_INPUT)
                self._report_failure(target)
            return
        assert self._manager is not None
        job = target.make_job(rig.final_task_id)
        if not self._admit(target, job):
            return
        try:
            target.job = self._manager.submit(job)
        except MeshyError as error:
            target.fail(str(error), error.exit_code)
            self._report_failure(target)
            return
        self._announce(target.job, resumed=False)

    def _admit(self, target: Target, job: Job) -> bool:
        """Whether the credit budget lets ``job`` create its tasks; if not, ``target`` is left undone."""
        if self._budget is None or self._budget.admit(job):
            return True
        self._leave_undone(
            target,
            f"its {job.estimated_credits} estimated credits would pass --max-credits {self._budget.limit} "
            f"({self._budget.committed} already committed)",
        )
        return False

    def _leave_undone(self, target: Target, reason: str) -> None:
        target.outcome, target.reason = "undone", reason
        self.reporter.emit("undone", name=target.name, reason=reason)

    def _announce(self, job: Job, *, resumed: bool) -> None:
        self.reporter.emit(
            "resumed" if resumed else "submitted",
            name=job.name,
            job_id=job.id,
            task_id=job.current_stage.task_id,
            estimated_credits=job.estimated_credits,
        )

    def _settle(self, target: Target, job: Job) -> None:
        if job.id in self._check_import:
            self._check_import.discard(job.id)
            assert self._manager is not None
            if self._manager.try_claim(job):
                pump.import_job(self._manager, job)  # imports only what this scene lacks
        if job.state in (JobState.DONE, JobState.IMPORTED):
            try:
                written = publish(job, target.glb_path) if target.glb_path is not None else []
            except LocalWriteError as error:
                target.fail(str(error), error.exit_code)
                self._report_failure(target)
                return
            target.outcome = "done"
            output = written[0] if written else self.workspace.blend_path
            self.reporter.emit(
                "done",
                name=target.name,
                job_id=job.id,
                task_id=job.final_task_id,
                output=str(output),
                files=[str(path) for path in written],
                credits=job.consumed_credits,
            )
            return
        target.fail(job.error or job.message, exit_code_of(job))
        self._report_failure(target)

    def _imported(self, job: Job, result: importer.ImportResult) -> None:
        self._unsaved = True
        if self._parts is not None:
            self._parts.add(result.collection, result.actions)
        if job.kind == "animate" and bpy.context.scene is not None:
            render = bpy.context.scene.render
            notice = animations.fps_notice(job.stages[-1].body.get("post_process"), render.fps / render.fps_base)
            if notice:
                self.reporter.say(notice)
                self.reporter.emit("notice", job_id=job.id, message=notice)

    def _report_failure(self, target: Target) -> None:
        job = target.job
        self.reporter.emit(
            "failed",
            name=target.name,
            job_id=job.id if job else "",
            task_id=job.current_stage.task_id if job else "",
            message=target.reason,
            exit_code=target.exit_code,
        )

    def _status_line(self) -> str:
        if len(self.targets) == 1 and self.targets[0].job is not None:
            job = self.targets[0].job
            return f"{job.name}: {job.message} [{int(job.progress * 100)}%]"
        counts = collections.Counter(target.outcome for target in self.targets)
        line = f"{counts['done']}/{len(self.targets)} done, {counts['failed']} failed, {counts['']} in progress"
        return line + (f", {counts['undone']} left undone (credit budget)" if counts["undone"] else "")

    # -- the scene -----------------------------------------------------------------
    def _save(self, *, last: bool = False) -> None:
        """Save the batch's file: a checkpoint while the run goes on, with the parts linked only at its ``last``."""
        path = self.workspace.blend_path
        if path is None:
            return
        if self._parts is not None:
            self._parts.save(path, layout=self.workspace.layout, parts=last)
            self._saved_whole = last or not self._parts.paths
        else:
            with self._held.in_scene() if self._held is not None else contextlib.nullcontext():
                if self.workspace.layout:
                    scene_io.layout_grid([self._objects(target) for target in self.targets])
                scene_io.save_scene(path)
        if self._manager is not None:
            self._manager.file_saved(FileRef())  # the command's jobs are bound to no file: all of them
        self._unsaved = False
        self._saved_at = time.monotonic()

    @staticmethod
    def _objects(target: Target) -> list[bpy.types.Object]:
        if target.job is not None:
            return importer.find_imported(target.job.id)
        return scene_io.tagged("meshy_name", target.name)
