"""Run ``python -m meshy_blender`` against the sandbox, and look inside the .blend files it saves.

Every run is a real subprocess with the venv's Python and the pip ``bpy`` module. Each
run also checks two promises the command makes to every caller: the API key never
appears in its output, and with ``--json`` every stdout line is a JSON object.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox_control import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

RUN_TIMEOUT_S = 120
#: The artist's library of every command run here (never the user's own): a test's output folder stays its own.
LIBRARY_DIR = tempfile.mkdtemp(prefix="meshy-e2e-library-")
atexit.register(shutil.rmtree, LIBRARY_DIR, ignore_errors=True)
#: Sandbox task duration for these tests: long enough to see progress, short enough to be quick.
TASK_SECONDS = 0.3


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    def event(self, name: str) -> dict[str, Any]:
        """The last event called ``name``."""
        matching = [event for event in self.events if event["event"] == name]
        assert matching, f"no {name!r} event in {self.stdout!r} (stderr: {self.stderr[-2000:]!r})"
        return matching[-1]


def cli_env(base_url: str, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHY_")}
    env["PYTHONPATH"] = str(ROOT)
    env["MESHY_BASE_URL"] = base_url
    env["MESHY_LIBRARY_DIR"] = LIBRARY_DIR
    if key is not None:
        env["MESHY_API_KEY"] = key
    return env


class Cli:
    """``python -m meshy_blender …`` in ``cwd``, with the sandbox's URL and a key in the environment."""

    def __init__(self, base_url: str, cwd: Path) -> None:
        self.base_url = base_url
        self.cwd = cwd

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "meshy_blender", *args]

    def start(self, *args: str, key: str = TEST_KEY) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args), cwd=self.cwd, env=cli_env(self.base_url, key), text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def __call__(self, *args: str, key: str | None = TEST_KEY, base_url: str | None = None) -> CliResult:
        completed = subprocess.run(
            self.command(*args), cwd=self.cwd, env=cli_env(base_url or self.base_url, key), text=True,
            capture_output=True, timeout=RUN_TIMEOUT_S, check=False,
        )  # fmt: skip
        result = CliResult(completed.returncode, completed.stdout, completed.stderr)
        if key:
            assert key not in result.stdout + result.stderr
        if "--json" in args:
            assert all(isinstance(event, dict) and "event" in event for event in result.events)
        return result


_DESCRIBE = """
import json, sys
import bpy
from meshy_blender.blender.scene.materials import material_report

bpy.ops.wm.open_mainfile(filepath=sys.argv[1])

def bounds(obj):
    corners = [obj.matrix_world @ __import__("mathutils").Vector(c) for c in obj.bound_box]
    return [[min(c[i] for c in corners) for i in range(3)], [max(c[i] for c in corners) for i in range(3)]]

objects = {}
for obj in bpy.data.objects:
    animation = obj.animation_data
    report = material_report([obj]) if obj.type == "MESH" else None
    objects[obj.name_full] = {  # linked from a part file, a name may repeat: "Character [batch-part-001.blend]"
        "type": obj.type,
        "job_id": obj.get("meshy_job_id"),
        "asset": obj.get("meshy_name"),
        "task_id": obj.get("meshy_task_id"),
        "collections": [c.name for c in obj.users_collection],
        "bounds": bounds(obj) if obj.type == "MESH" else None,
        "textured": sorted({ch for m in report.materials for ch in m.textured}) if report else [],
        "action": animation.action.name if animation and animation.action else None,
    }
print("BLEND=" + json.dumps({
    "objects": objects,
    "collections": {c.name_full: sorted(ch.name for ch in c.children) for c in bpy.data.collections},
    "actions": sorted(a.name for a in bpy.data.actions),
    "unpacked_images": [i.name for i in bpy.data.images if i.source == "FILE" and not i.packed_file],
    "assets": {
        item.name: {
            "type": type(item).__name__,
            "catalog_id": item.asset_data.catalog_id,
            "tags": [tag.name for tag in item.asset_data.tags],
            "preview_size": list(item.preview.image_size) if item.preview else [0, 0],
        }
        for item in [*bpy.data.objects, *bpy.data.collections] if item.asset_data
    },
}))
"""


def describe_blend(path: Path) -> dict[str, Any]:
    """What a saved .blend holds, read by a fresh Blender (the pip bpy module) in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", _DESCRIBE, str(path)], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("BLEND="))
    return json.loads(line.removeprefix("BLEND="))


def assets_in(blend: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The blend's Meshy objects grouped by asset name."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for obj in blend["objects"].values():
        if obj["job_id"]:
            grouped.setdefault(obj["asset"], []).append(obj)
    return grouped


def is_glb(path: Path) -> bool:
    data = path.read_bytes()
    return data[:4] == b"glTF" and int.from_bytes(data[8:12], "little") == len(data)
