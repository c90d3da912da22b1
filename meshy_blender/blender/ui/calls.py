"""One-off network calls of the UI (balance, task list, delete) on background threads.

The main thread starts a call and returns at once; the call's outcome is kept by name for
the panels to draw. A short timer redraws the UI when a call ends (GUI only: headless,
callers wait with :func:`wait`). Jobs go through the JobManager; this is for the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import bpy

from ... import api
from ...logs import logger

WATCH_INTERVAL = 0.2


class Call:
    """One call's outcome (a plain class: a dataclass costs ~0.4 ms of every enable to build)."""

    __slots__ = ("error", "name", "request", "result", "running")

    def __init__(self, name: str, *, running: bool = True, error: str = "", request: Any = None) -> None:
        self.name = name
        self.running = running
        self.result: Any = None
        self.error = error
        #: What was asked, for the panel (e.g. the task browser's kind and page).
        self.request = request

    @property
    def ok(self) -> bool:
        return not self.running and not self.error


_calls: dict[str, Call] = {}
_threads: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def get(name: str) -> Call | None:
    return _calls.get(name)


def is_running(name: str) -> bool:
    call = _calls.get(name)
    return call is not None and call.running


def start(name: str, work: Callable[[], Any], *, request: Any = None) -> bool:
    """Run ``work`` on a thread named ``meshy-call-<name>``; False when that call is still running."""
    with _lock:
        if is_running(name):
            return False
        call = _calls[name] = Call(name, request=request)
        thread = threading.Thread(target=_run, args=(call, work), name=f"meshy-call-{name}", daemon=True)
        _threads[name] = thread
    thread.start()
    if not bpy.app.timers.is_registered(_watch):
        bpy.app.timers.register(_watch, first_interval=WATCH_INTERVAL)
    return True


def fail(name: str, message: str, *, request: Any = None) -> None:
    """Record a call that was refused before it started (offline, no key)."""
    with _lock:
        _calls[name] = Call(name, running=False, error=message, request=request)


def _run(call: Call, work: Callable[[], Any]) -> None:
    try:
        call.result = work()
    except api.MeshyError as error:
        call.error = str(error)
    except Exception as error:  # a bug must not vanish on a thread nobody watches
        logger(__name__).exception("Meshy call %s failed unexpectedly", call.name)
        call.error = f"Unexpected error: {type(error).__name__}: {error}"
    finally:
        call.running = False


def wait(name: str, timeout: float) -> bool:
    """Block until the call ``name`` ended (headless use and tests); True when it did."""
    thread = _threads.get(name)
    if thread is not None:
        thread.join(timeout)
    return not is_running(name)


def _watch() -> float | None:
    """Wait for the running calls, then redraw the UI once and stop."""
    if any(call.running for call in list(_calls.values())):
        return WATCH_INTERVAL
    redraw_all()
    return None


def redraw_all() -> None:
    window_manager = bpy.context.window_manager
    if window_manager is None:
        return
    for window in window_manager.windows:
        for area in window.screen.areas:
            area.tag_redraw()


def shutdown(timeout: float) -> bool:
    """Stop the redraw timer, wait (bounded) for running calls and forget every outcome."""
    if bpy.app.timers.is_registered(_watch):
        bpy.app.timers.unregister(_watch)
    threads = list(_threads.values())
    for thread in threads:
        thread.join(timeout / max(1, len(threads)))
    with _lock:
        _calls.clear()
        _threads.clear()
    return not any(thread.is_alive() for thread in threads)
