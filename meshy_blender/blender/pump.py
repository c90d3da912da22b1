"""The pump: the only place where job results reach Blender's data, on the main thread.

A timer tick imports finished jobs for at most :data:`FRAME_BUDGET_S` (at least one, so a
burst of results lands several per tick yet never freezes the UI for more than about one
import; while more are ready the timer comes back at once) and asks the sidebar to redraw
when something changed. A result is imported only into the file its job was asked from,
and only in Object Mode: otherwise the job is parked and says why, until the open file or
the mode changes (an import never takes the artist out of Edit or Sculpt Mode, nor lands
in another file). The GUI drives it with a persistent ``bpy.app.timers`` timer; headless
Blender never fires timers, so ``run_until`` drives the very same tick in a loop, without
a budget (nothing is drawn: every job ready when the tick starts is imported, then the
run takes its own step) and sleeping until the manager
has news (a job offered for import, a state saved) rather than for a fixed interval. One
code path, two drivers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import bpy

from .. import api
from ..logs import logger
from . import session
from .scene import file_identity

if TYPE_CHECKING:  # the job layer and the importer load with the first manager, not at enable
    from ..jobs.manager import JobManager
    from ..jobs.model import FileRef, Job
    from .scene import importer, placement

ACTIVE_INTERVAL = 0.1
IDLE_INTERVAL = 0.5
#: While ready jobs wait after a tick spent its budget: the next turn of the event loop (Blender
#: redraws and handles input in between).
BACKLOG_INTERVAL = 0.0
#: How long a timer tick may import for: half a frame at 60 Hz.
FRAME_BUDGET_S = 0.008
#: Longest headless wait without news: progress events and the status line move this often (no
#: news is made for them, and a task may take less than a second).
NEWS_WAIT_S = 0.05

#: Called after each import with (job, result); the headless command uses it.
import_listeners: list[Callable[[Job, importer.ImportResult], None]] = []

_last_version = -1
#: Where the last tick was (open file, Object Mode): parked jobs are offered again when it changes.
_last_place: tuple[FileRef, bool] | None = None


def import_job(
    manager: JobManager,
    job: Job,
    *,
    evaluate: bool = True,
    into: bpy.types.Collection | None = None,
    imported: Mapping[str, list[bpy.types.Object]] | None = None,
) -> None:
    """Import a downloaded job once: a whole result already in the file is not imported again.

    Its objects carry its id. When the file holds only part of it (the user deleted the
    rig's armature), the result is imported again, whole. ``evaluate``: see
    :func:`importer.import_glb`; ``into``: the collection that holds the result's own (by
    default the scene's "Meshy"); ``imported``: the file's imported objects by job id, when
    the caller read them once for several jobs (:func:`importer.imported_by_job`).
    """
    from .scene import assets, importer, library_keep

    existing = importer.find_imported(job.id) if imported is None else imported.get(job.id, [])
    if existing and len(existing) >= len(job.imported_objects):
        manager.mark_imported(job, [obj.name for obj in existing], unsaved=bpy.data.is_dirty)
        return
    clips = [Path(job.files[role]) for role in ("walking", "running") if role in job.files]
    tags: dict[str, str | int | float] = {
        "meshy_task_id": job.final_task_id,
        "meshy_kind": job.kind,
        "meshy_name": job.name,
    }
    prompt = job.stages[0].body.get("prompt") or job.stages[-1].body.get("text_style_prompt")
    if prompt:
        tags["meshy_prompt"] = str(prompt)
    try:
        result = importer.import_glb(
            Path(job.files["model"]),
            job_id=job.id,
            display_name=job.name,
            tags=tags,
            location=_import_location(),
            extra_actions_from=clips,
            evaluate=evaluate,
            parent=into,
            collection_path=(importer.ROOT_COLLECTION,) if into is None else (),
            placement=_placement(),
        )
    except (api.MeshyError, RuntimeError, OSError, KeyError) as error:
        manager.mark_import_failed(job, f"Import failed: {error}")
        return
    entry = assets.entry_for(job, manager.library)
    # Marked now (the open file and a batch's .blend need it); its library .blend is written when the pump idles.
    asset = assets.mark_result(result, entry, None if manager.library is not None else manager.thumbnail_of(job))
    library_keep.defer(manager.library, entry, asset, result.actions)
    manager.mark_imported(job, [obj.name for obj in result.objects], warning=_missing_maps(job, result))
    for listener in import_listeners:
        listener(job, result)


def _missing_maps(job: Job, result: importer.ImportResult) -> str:
    """Say so when PBR maps were paid for but the model's material lacks some ("" when all arrived)."""
    if not job.expects_pbr:
        return ""
    missing = result.materials.missing(pbr=True)
    if not missing:
        return ""
    logger(__name__).warning("Meshy job %s: PBR maps missing from the imported model: %s", job.name, ", ".join(missing))
    return f"PBR maps missing: {', '.join(missing)}"


def _import_location() -> tuple[float, float, float] | None:
    """None places at the 3D cursor (the importer's default); else the world origin."""
    config = session.current_config()
    return None if config is None or config.place_at_cursor else (0.0, 0.0, 0.0)


def _placement() -> placement.Placement:
    from .scene import placement

    config = session.current_config()
    return placement.AS_MADE if config is None else placement.Placement(config.placement, config.target_height)


def tick(
    budget_s: float | None = FRAME_BUDGET_S, *, evaluate: bool = True, into: bpy.types.Collection | None = None
) -> bool:
    """One pump step; True when there is still work in flight.

    Imports ready jobs until ``budget_s`` seconds are spent, measured after each import (so
    at least one); None imports every job ready when the tick starts, not those that become
    ready meanwhile: while a batch's results arrive faster than they import, a tick that took
    them too would never end, and the headless run's own step between ticks (its parts,
    checkpoints, progress, the rows that wait for a rig) would wait for the whole batch. Then,
    while no job is ready and time is left, it writes queued library .blend files (see
    :mod:`.scene.library_keep`): idle time, so a burst of results is imported first.
    ``evaluate`` and ``into``: see :func:`import_job`.
    """
    global _last_version, _last_place
    manager = session.current_manager()
    if manager is None:
        return False
    here = file_identity.current()
    object_mode = bpy.context.mode == "OBJECT"
    if manager.has_parked() and _last_place != (here, object_mode):
        manager.unpark()
    _last_place = (here, object_mode)
    manager.here = here
    started = time.perf_counter()
    left = manager.ready_count() if budget_s is None else math.inf
    imported: dict[str, list[bpy.types.Object]] | None = None  # read at the tick's first import, for all
    while left > 0 and (job := manager.take_ready()) is not None:
        left -= 1
        if not job.belongs_to(here):
            manager.park(job, f"Finishes in {job.file.label}: open it, or Import here", hand_over=True)
        elif not object_mode:
            manager.park(job, "Ready: switch to Object Mode to import it")
        else:
            if imported is None:
                from .scene import importer

                imported = importer.imported_by_job()  # each import adds only its own job's objects
            import_job(manager, job, evaluate=evaluate, into=into, imported=imported)
            if budget_s is not None and time.perf_counter() - started >= budget_s:
                break
    _keep_while_idle(manager, None if budget_s is None else started + budget_s)
    if manager.version != _last_version:
        _last_version = manager.version
        _redraw_sidebars()
    return not manager.all_final()  # lock-free; active() would wait while a worker serializes the ledger


def _keep_while_idle(manager: JobManager, until: float | None) -> None:
    """Write queued library .blend files while no job waits for import, until ``until`` (perf_counter; None: all).

    Checked before each write (about 10 ms), so a job that becomes ready waits for one at most.
    """
    from .scene import library_keep  # cheap; not at the top: its import lines are the enable's concern

    while library_keep.pending() and not manager.has_ready():
        if until is not None and time.perf_counter() >= until:
            return
        library_keep.write_next()


def _redraw_sidebars() -> None:
    window_manager = bpy.context.window_manager
    if window_manager is None:
        return
    for window in window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()


def timer() -> float:
    """One turn of the GUI's timer (registered by :mod:`.registration`): the seconds until the next."""
    try:
        from .scene import library_keep

        busy = tick(FRAME_BUDGET_S)
        manager = session.current_manager()
        backlog = manager is not None and (manager.has_ready() or library_keep.pending() > 0)
    except Exception:  # the pump must survive anything, or results stop arriving
        logger(__name__).exception("Meshy pump tick failed")
        busy, backlog = True, False
    if backlog:
        return BACKLOG_INTERVAL
    return ACTIVE_INTERVAL if busy else IDLE_INTERVAL


def run_until(
    done: Callable[[], bool],
    *,
    timeout: float,
    interval: float = NEWS_WAIT_S,
    into: bpy.types.Collection | None = None,
) -> bool:
    """Headless driver: tick until ``done()`` or ``timeout`` seconds; True when done.

    Each tick imports every job ready when it starts, without evaluating the scene after each: nothing is
    drawn, laying out updates first, and a saved file is evaluated when it is opened.
    Then, until a job is ready, it writes queued library .blend files; between ticks it
    waits for the manager's news, at most ``interval`` seconds. Whatever is still queued
    is written when it returns (or raises): nothing drives the pump after it.
    """
    from .scene import library_keep

    deadline = time.monotonic() + timeout
    try:
        while True:
            manager = session.current_manager()
            seen = manager.news if manager is not None else 0  # read before the tick: news during it wakes the wait
            tick(None, evaluate=False, into=into)
            if done():
                tick(None, evaluate=False, into=into)  # one more pass so a job that just became ready is imported
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if manager is None:
                time.sleep(min(interval, remaining))
            else:
                manager.wait_for_news(seen, min(interval, remaining))
    finally:
        library_keep.flush()
