"""The "Copy diagnostics" button: a report for a support request, on the clipboard.

:func:`collect` gathers the facts from Blender, the preferences, the bridge and the
jobs; :func:`..jobs.diagnostics.build_report` turns them into text. The key itself is
never collected: only where it comes from and how long it is.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from .. import paths, session
from . import bridge_ui, preferences

if TYPE_CHECKING:  # the job layer loads when the report is asked for, not at enable
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ...jobs.model import Job


def key_source(context: bpy.types.Context) -> tuple[str, int]:
    """Where the key in use comes from ("" when there is none) and its length."""
    stored = preferences.get(context).api_key.strip()
    if stored:
        return "the add-on preferences (kept in credentials.json)", len(stored)
    from_environment = session.key_from_environment()
    if from_environment:
        return "the MESHY_API_KEY environment variable", len(from_environment)
    return "", 0


def bridge_state(prefs: preferences.MeshyPreferences) -> str:
    server = bridge_ui.running()
    if server is not None:
        return f"running on {server.url}"
    autostart = "on" if prefs.bridge_autostart else "off"
    return f"stopped (port {prefs.bridge_port}, start with Blender: {autostart})"


def known_jobs() -> list[Job]:
    """The live manager's jobs, or the store's before the first job of this session."""
    manager = session.current_manager()
    if manager is not None:
        return manager.jobs()
    from ...jobs.store import JobStore

    return JobStore(paths.jobs_dir()).load()


def collect(context: bpy.types.Context) -> dict[str, Any]:
    """The facts for :func:`diagnostics.build_report` (see there for the keys)."""
    from ...bridge import messages
    from ...jobs import diagnostics

    prefs = preferences.get(context)
    source, length = key_source(context)
    chosen = prefs.download_dir.strip()
    download_dir = Path(bpy.path.abspath(chosen)) if chosen else paths.default_download_dir(create=False)
    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "blender": bpy.app.version_string,
        "addon": messages.addon_version(),
        "python": sys.version.split()[0],
        "os": platform.platform(),
        "online_access": bpy.app.online_access,
        "proxies": diagnostics.proxy_settings(os.environ),
        "base_url": preferences.base_url(prefs),
        "key_source": source,
        "key_length": length,
        "download_dir": str(download_dir),
        "concurrency": prefs.concurrency,
        "use_sse": prefs.use_sse,
        "bridge": bridge_state(prefs),
        "bridge_failures": bridge_ui.failures(),
        "errors": diagnostics.recent_errors(known_jobs()),
    }


class MESHY_OT_copy_diagnostics(bpy.types.Operator):
    """Copy a report for Meshy support to the clipboard: versions, settings, recent errors (never your API key)"""

    bl_idname = "meshy.copy_diagnostics"
    bl_label = "Copy diagnostics"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[OperatorReturnItems]:
        from ...jobs import diagnostics

        text = diagnostics.build_report(collect(context))
        window_manager = context.window_manager
        if window_manager is not None:
            window_manager.clipboard = text
        if bpy.app.background:  # no clipboard without a window: the console gets the report
            print(text, flush=True)
        self.report({"INFO"}, f"Meshy diagnostics copied to the clipboard ({text.count(chr(10))} lines)")
        return {"FINISHED"}


CLASSES = (MESHY_OT_copy_diagnostics,)
