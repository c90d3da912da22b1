"""In real Blender: a result made in the sidebar is kept in the library, beyond its job and a restart."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import bpy

if TYPE_CHECKING:
    from addon_env import AddonEnv

pytest_plugins = ["addon_env"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_sidebar_result_is_kept_and_outlives_its_job_and_a_restart(meshy: AddonEnv, tmp_path: Path) -> None:
    meshy.props.prompt = "a copper kettle"
    meshy.props.refine = False
    assert bpy.ops.meshy.generate_text() == {"FINISHED"}
    job = meshy.run_job()

    library = meshy.module("blender.session").current_library()
    assert library is not None and library.folder == meshy.module("blender.paths").library_dir()
    (entry,) = library.entries()
    assert (entry.id, entry.source, entry.prompt, entry.kind) == (job.final_task_id, "sidebar", "a copper kettle",
                                                                 "text-to-3d")  # fmt: skip
    assert entry.thumbnail_path is not None and entry.thumbnail_path.read_bytes().startswith(PNG_MAGIC)

    meshy.manager().forget(job.id)  # the job leaves the list, its downloads leave the disk
    meshy.module("blender.session").shutdown(5.0)
    shutil.rmtree(tmp_path / "downloads")
    meshy.disable(keep_preferences=True)  # as quitting Blender does
    meshy.enable()

    fresh = meshy.module("library").Library(meshy.module("blender.paths").library_dir())
    (kept,) = fresh.entries()
    assert kept.id == job.final_task_id and kept.model_path is not None
    assert kept.model_path.read_bytes()[:4] == b"glTF"
    assert not [other for other in meshy.jobs() if other.id == job.id]
