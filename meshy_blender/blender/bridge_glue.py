"""The Meshy Bridge inside Blender: start and stop it, and turn received models into jobs.

The bridge's worker thread downloads and verifies a model, then adds it to the live job
manager as a READY job (:mod:`..bridge.handover`); the pump imports it on the main thread
like every other job, so it shows in the job list and lands in ``Meshy/<name>``. The
manager is looked up at hand-over time, so a manager rebuilt after a settings change
still receives. Nothing here touches bpy from the bridge's threads.

Frame rate: the web app sends ``frameRate``, the rate the model's animation was made at.
The scene keeps its own rate (an import never changes a project setting): the clips'
keys are placed at the scene's rate so each plays as long as it did in the web app (the
glTF importer does so; :mod:`.scene.model_formats` undoes the FBX importer's change of
the scene's rate). Each imported action records ``meshy_frame_rate``, and when the scene
runs at another rate the job says so; the Tools panel's "Use N fps" then sets the scene to
the clip's rate and moves its keys back (one key per frame), only when the artist asks.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from ..api.errors import EXIT_NETWORK, EXIT_OK, EXIT_TASK_FAILED, MeshyError
from ..bridge.handover import FRAME_RATE_FIELD, JOB_KIND, bridge_job
from ..bridge.messages import DEFAULT_PORT, ImportRequest, ReceivedModel
from . import paths, pump, session

if TYPE_CHECKING:  # the headless loop's reporter, queue and scene I/O load when it runs, not at enable
    import queue

    from ..bridge.server import BridgeServer
    from ..jobs.cli_events import Reporter
    from ..jobs.model import Job
    from .scene import importer  # loads with the first import, not when the add-on is enabled

MAX_FAILURES_KEPT = 5
SERVE_INTERVAL_S = 0.05

_server: BridgeServer | None = None
#: The latest failures, newest last, for the sidebar ("name: reason").
_failures: collections.deque[str] = collections.deque(maxlen=MAX_FAILURES_KEPT)


def after_import(job: Job, result: importer.ImportResult) -> None:
    """Pump listener, main thread: a received model's frame rate and what its import left out, told on its job."""
    if job.kind != JOB_KIND:
        return
    notes = [result.note] if result.note else []
    rate = float(job.stages[0].body.get(FRAME_RATE_FIELD) or 0)
    actions = [bpy.data.actions[name] for name in result.actions if name in bpy.data.actions]
    scene = bpy.context.scene
    if rate and actions and scene is not None:
        from .scene import model_formats

        for action in actions:
            action[model_formats.FRAME_RATE_PROP] = rate
        render = scene.render
        scene_rate = render.fps / render.fps_base
        if abs(scene_rate - rate) > 0.01:
            notes.append(
                f"animation made at {rate:g} fps, this scene runs at {scene_rate:g} fps: keys placed to keep its "
                f"timing (Tools > Use {rate:g} fps: one key per frame)"
            )
    manager = session.current_manager()
    if notes and manager is not None:
        job.message = "; ".join([job.message, *notes])
        manager.persist(job)


def hand_over(received: ReceivedModel) -> None:
    """Bridge worker thread: list the received model as a READY job of the live manager."""
    if after_import not in pump.import_listeners:
        pump.import_listeners.append(after_import)
    manager = session.current_manager()
    if manager is None:
        _failures.append(f"{received.name}: Meshy is not set up, so the model could not be imported.")
        return
    try:
        manager.add_ready(bridge_job(received))
    except MeshyError as error:  # its record cannot be saved: say so rather than lose it silently
        _failures.append(f"{received.name}: {error}")


def record_failure(request: ImportRequest, error: MeshyError) -> None:
    _failures.append(f"{request.name}: {error}")


def start(port: int = DEFAULT_PORT, **options: Any) -> BridgeServer:
    """Start the bridge on 127.0.0.1:``port`` (a running one is stopped first).

    Raises OfflineError when Blender's online access is off, BridgeError when the port is
    taken. Received models go to the manager of :func:`session.current_manager`, and
    are downloaded to its folder unless ``download_dir`` is given. Other ``options`` are
    :class:`BridgeServer`'s (tests: ``extra_origins``, ``allow_loopback_downloads``).
    """
    global _server
    session.check_online_access()
    stop()
    if "download_dir" not in options:
        manager = session.current_manager()
        options["download_dir"] = manager.download_dir if manager is not None else paths.default_download_dir()
    options.setdefault("on_error", record_failure)
    options.setdefault("on_import", hand_over)
    from ..bridge.server import start_bridge  # the HTTP server's modules load when a bridge starts, not with Blender

    _server = start_bridge(port, **options)
    _failures.clear()
    return _server


def stop(timeout: float = 1.0) -> bool:
    """Stop the bridge if it runs; True when every thread ended within ``timeout``."""
    global _server
    server, _server = _server, None
    return server.stop(timeout) if server is not None else True


def running() -> BridgeServer | None:
    """The running bridge, or None."""
    return _server


def failures() -> list[str]:
    """The latest failed imports ("name: reason"), newest last."""
    return list(_failures)


def serve_bridge(
    port: int = DEFAULT_PORT,
    once: bool = False,
    out_blend: Path | None = None,
    *,
    reporter: Reporter | None = None,
    timeout: float | None = None,
    **options: Any,
) -> int:
    """Headless ``meshy bridge [--port N] [--once] [-o FILE.blend]``; returns the exit code.

    Serves until Ctrl+C, ``timeout`` seconds, or with ``once`` the first received model
    (imported: 0; download refused or failed: that error's exit code; import failed: 4;
    nothing received in time: 5). ``out_blend`` is opened (or started empty) and saved
    after every import. Uses the live job manager, or makes one from the environment (no
    API key needed) and shuts it down at the end. ``options`` go to :func:`start`.
    Events: ``listening`` {url, port}, ``imported`` {name, id, objects, output, notes}, ``error``.
    """
    from ..jobs.cli_events import Reporter

    reporter = reporter or Reporter(json_mode=False)
    own_session = session.current_manager() is None
    try:
        return _HeadlessBridge(reporter, once, out_blend).serve(port, timeout, options)
    except MeshyError as error:  # offline, or the port is taken
        reporter.error(str(error), exit_code=error.exit_code)
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        stop()
        if own_session:
            session.shutdown()


class _HeadlessBridge:
    """The loop of :func:`serve_bridge`: drive the pump, report each received model once settled."""

    def __init__(self, reporter: Reporter, once: bool, out_blend: Path | None) -> None:
        import queue

        self.reporter = reporter
        self.once = once
        self.out_blend = out_blend
        self.outcomes: queue.Queue[str | MeshyError] = queue.Queue()
        self.pending: set[str] = set()

    def received(self, model: ReceivedModel) -> None:
        hand_over(model)
        self.outcomes.put(model.id)

    def failed(self, request: ImportRequest, error: MeshyError) -> None:
        record_failure(request, error)
        self.outcomes.put(error)

    def serve(self, port: int, timeout: float | None, options: dict[str, Any]) -> int:
        manager = session.current_manager() or session.configure(
            session.Config(
                api_key=session.key_from_environment(),
                base_url=session.base_url_from_environment(),
                download_dir=paths.default_download_dir(),
                library_dir=paths.library_dir(),
            )
        )
        from .scene import scene_io

        if self.out_blend is not None:
            scene_io.open_scene(self.out_blend)
        server = start(port, on_import=self.received, on_error=self.failed, **options)
        self.reporter.say(f"Meshy Bridge listening on {server.url}: use Send to Blender in the Meshy web app.")
        self.reporter.emit("listening", url=server.url, port=server.port)
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            pump.tick()
            codes = self._take_outcomes() + [self._settle(manager.get(job_id)) for job_id in sorted(self.pending)]
            settled = [code for code in codes if code is not None]
            if self.once and settled:
                return settled[0]
            time.sleep(SERVE_INTERVAL_S)
        self.reporter.say("Meshy Bridge: time is up; stopping.")
        return EXIT_NETWORK if self.once else EXIT_OK

    def _take_outcomes(self) -> list[int | None]:
        """Exit codes of failed receptions; received ids join :attr:`pending`."""
        codes: list[int | None] = []
        while not self.outcomes.empty():
            outcome = self.outcomes.get()
            if isinstance(outcome, MeshyError):
                self.reporter.error(f"Could not receive a model: {outcome}", exit_code=outcome.exit_code)
                codes.append(outcome.exit_code)
            else:
                self.pending.add(outcome)
        return codes

    def _settle(self, job: Job | None) -> int | None:
        """Report a received job once the pump has imported it (or failed to); its exit code."""
        from ..jobs.model import JobState
        from .scene import scene_io

        if job is None or not job.state.is_final:
            return None
        self.pending.discard(job.id)
        if job.state is not JobState.IMPORTED:
            self.reporter.error(f"{job.name!r}: {job.error or job.message}", exit_code=EXIT_TASK_FAILED)
            return EXIT_TASK_FAILED
        if self.out_blend is not None:
            scene_io.save_scene(self.out_blend)
        self.reporter.say(f"Imported {job.name!r} ({len(job.imported_objects)} objects)")
        notes = job.message.split("; ", 1)[1] if "; " in job.message else ""  # see after_import
        if notes:
            self.reporter.say(f"Note: {notes}")
        output = str(self.out_blend) if self.out_blend else None
        self.reporter.emit(
            "imported", name=job.name, id=job.id, objects=job.imported_objects, output=output, notes=notes
        )
        return EXIT_OK
