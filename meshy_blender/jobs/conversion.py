"""Convert a model to another file format with Meshy, and download the file (plain Python, blocking).

Convert costs one credit and ends with a file, not a model to import: the command and
the sidebar call :func:`convert_model` on a worker thread (the command waits for it) and
then write or import the file themselves. Everything is checked before anything is
sent (:func:`check_request`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api import validation
from ..api.errors import DownloadError, ValidationError
from ..api.tasks import Task, TaskKind

if TYPE_CHECKING:
    from ..api.client import MeshyClient  # requests loads with the first client, not at enable

#: Converted formats Blender imports (``-o FILE.blend``, "Import" in the sidebar).
IMPORTABLE = ("glb", "fbx", "obj", "stl")


def check_request(fmt: str, *, model: str | Path | None = None, input_task_id: str | None = None) -> dict[str, Any]:
    """The Convert request's body (local files as paths), or ValidationError naming the problem."""
    if bool(model) == bool(input_task_id):
        raise ValidationError("Convert needs exactly one model: a GLB file (--model) or a finished task (--task-id).")
    source = {"model_url": str(model)} if model else {"input_task_id": input_task_id}
    return validation.validate(TaskKind.CONVERT, {**source, "target_formats": [fmt]}, encode=False)


def convert_model(
    client: MeshyClient,
    body: dict[str, Any],
    dest: Path,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    on_update: Callable[[Task], None] | None = None,
) -> tuple[Task, Path]:
    """Create the Convert task of ``body`` (see :func:`check_request`), wait for it, download its file to ``dest``."""
    fmt = body["target_formats"][0]
    task_id = client.convert([fmt], input_task_id=body.get("input_task_id"), model=body.get("model_url"))
    task = client.wait_for_task(TaskKind.CONVERT, task_id, cancel=cancel, on_update=on_update, timeout=timeout)
    url = task.model_urls.get(fmt, "")
    if not url:
        raise DownloadError(f"Meshy finished converting (task {task.id}) but gave no {fmt.upper()} file.")
    return task, client.download(url, dest, cancel=cancel, expect_glb=fmt == "glb")
