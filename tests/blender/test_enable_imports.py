"""Enabling the add-on costs Blender's start no HTTP library: the client is built on first use,
the bridge's HTTP server is imported when a bridge starts. Nor the add-on's own heavy modules
that only a run needs: the ``meshy`` command's parser and specs (registered, loaded when it
runs), the API client, its HTTP layer and the progress stream's parser, the job manager and
what the sidebar reads only when it draws or a button runs (see ``DEFERRED``).

Checked in a fresh Blender process (the pip ``bpy`` module), so that ``sys.modules`` holds
only what that start imported: the add-on is enabled as an extension exactly as
:mod:`addon_env` does it, then Test connection runs against the sandbox, which must load
the HTTP stack and answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox_control import PAID_KEY, Sandbox

ROOT = Path(__file__).resolve().parents[2]
HTTP_LIBRARIES = ("requests", "urllib3", "charset_normalizer", "certifi", "idna", "http.server")
#: Our modules a start must not load (matched at the end of the extension's module names): the
#: HTTP client and the command, and what only a job, a draw or a button needs (the job manager,
#: runner, store and plans, the checks, prices and model catalogue, the library's store, the
#: scene's importer and exporter, the bridge's server), nor the job model, the task records, the library's
#: entries, the bridge's messages and glue, the session's Config, the key's file or the pager (dataclasses
#: and their imports: what a job, a draw or a button needs): the sidebar imports them where it uses them.
#: Nor the helpers its packages offer on first use: the pump (its timer loads it once a job manager
#: exists), the session, the open file's identity, the background calls, the icons, the generation
#: panels' drawing, the concept gallery, the errors and the job states.
DEFERRED = (
    "api.client", "api.http", "api.sse", "blender.cli.command", "meshy_blender.cli_args", "jobs.specs",
    "jobs.manager", "jobs.runner", "jobs.store", "jobs.plans", "api.validation", "api.costs", "api.catalogue",
    "api.glb_safety", "api.animations", "library.store", "library.recorder", "scene.importer", "scene.exporter",
    "scene.scene_io", "bridge.server", "jobs.model", "api.tasks", "library.entry", "bridge.messages",
    "bridge.handover", "blender.bridge_glue", "blender.config", "blender.credentials", "blender.job_inputs",
    "ui.pager", "blender.pump", "blender.session", "scene.file_identity", "ui.calls", "ui.icons",
    "ui.generation_ui", "concept.gallery", "api.errors", "jobs.states",
)  # fmt: skip

_START = """
import json, os, sys
from pathlib import Path

import bpy
from addon_env import AddonEnv, stage_repository

HTTP = {http!r}
DEFERRED = {deferred!r}

def http_modules():
    return sorted(name for name in sys.modules if name in HTTP or name.split(".")[0] in HTTP)

def deferred_modules():
    return sorted(name for name in sys.modules if name.endswith(DEFERRED))

root = Path(sys.argv[1])
os.environ["BLENDER_USER_EXTENSIONS"] = str(root / "user_extensions")
before = http_modules()
env = AddonEnv(stage_repository(root))
env.enable()
after_enable = http_modules()
deferred_after_enable = deferred_modules()

bpy.context.preferences.system.use_online_access = True
env.prefs.api_key = {key!r}
env.prefs.base_url = sys.argv[2]
bpy.ops.meshy.test_connection()
call = env.wait_call("balance")
print("RESULT=" + json.dumps({{
    "before": before, "after_enable": after_enable, "after_use": http_modules(),
    "deferred_after_enable": deferred_after_enable, "deferred_after_use": deferred_modules(),
    "ok": call.ok, "balance": call.result,
}}), flush=True)
os._exit(0)
"""


def test_enabling_imports_no_http_library_and_test_connection_loads_it(sandbox: Sandbox, tmp_path: Path) -> None:
    script = _START.format(http=HTTP_LIBRARIES, deferred=DEFERRED, key=PAID_KEY)
    path = os.pathsep.join(str(ROOT / folder) for folder in ("", "scripts", "tests", "tests/blender"))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), sandbox.url],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    line = next((line for line in done.stdout.splitlines() if line.startswith("RESULT=")), None)
    assert line is not None, done.stderr[-3000:]
    result = json.loads(line.removeprefix("RESULT="))
    assert result["before"] == []
    assert result["after_enable"] == [], "enabling the add-on imported the HTTP stack"
    assert result["deferred_after_enable"] == [], "enabling the add-on imported what only a run needs"
    assert "requests" in result["after_use"]
    assert any(name.endswith("api.client") for name in result["deferred_after_use"])
    assert result["ok"] and result["balance"] == 1000
