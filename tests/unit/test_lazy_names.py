"""Submodules offered on first use: naming one loads nothing, reading one of its names loads it.

Checked in a fresh interpreter, so that ``sys.modules`` shows what each step imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_STEPS = """
import json, sys
WATCHED = ("meshy_blender.jobs.states", "meshy_blender.jobs.manager")
loaded = lambda: sorted(name for name in WATCHED if name in sys.modules)
steps = {}
from meshy_blender.jobs import states
steps["named"] = loaded()
steps["stand_in_name"] = states.__name__
failed = states.JobState.FAILED
steps["read"] = loaded()
import meshy_blender.jobs.states as real
steps["same_member"] = failed is real.JobState.FAILED
real.EXTRA = "seen"
steps["seen_through"] = states.EXTRA
states.SET_THROUGH = "set"
steps["set_through"] = getattr(real, "SET_THROUGH", None)
del states.SET_THROUGH
steps["deleted_through"] = hasattr(real, "SET_THROUGH")
from meshy_blender.jobs import states as again
steps["package_gives_the_module_now"] = again is real
from meshy_blender.jobs import manager
steps["others_import_as_before"] = loaded()
print(json.dumps(steps))
"""


def test_a_submodule_offered_on_first_use_loads_when_a_name_is_read() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _STEPS], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    steps = json.loads(done.stdout.splitlines()[-1])
    assert steps["named"] == []
    assert steps["stand_in_name"] == "meshy_blender.jobs.states"
    assert steps["read"] == ["meshy_blender.jobs.states"]
    assert steps["same_member"] is True
    assert steps["seen_through"] == "seen"  # a change to the module (a test's monkeypatch) is what the stand-in reads
    assert steps["set_through"] == "set"  # and a change made through the stand-in is the module's
    assert steps["deleted_through"] is False
    assert steps["package_gives_the_module_now"] is True
    assert steps["others_import_as_before"] == ["meshy_blender.jobs.manager", "meshy_blender.jobs.states"]
