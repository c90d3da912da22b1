"""Which .blend file is open: its path, and an id the add-on keeps inside the file.

A job remembers the file it was asked from (:class:`..jobs.model.FileRef`) so that its
result lands there and nowhere else. The path alone is not enough: an unsaved file has
none, and Save As changes it. So when a job is asked for, the file gets an id, kept as a
custom property of its scenes, that goes wherever the file goes. A new file made from
the startup file must not inherit an id saved into that startup file: :func:`forget_in_new_file`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

if TYPE_CHECKING:  # the job model loads with the first job, not at enable (the pump imports this module)
    from ...jobs.model import FileRef

FILE_ID_PROP = "meshy_file_id"


def current() -> FileRef:
    """The open file (cheap: the pump asks on every tick)."""
    from ...jobs.model import FileRef

    return FileRef(bpy.data.filepath, _stored_id())


def ensure() -> FileRef:
    """The open file, given an id first if it has none (main thread, when a job is asked for)."""
    if not _stored_id():
        import uuid

        file_id = uuid.uuid4().hex[:12]
        for scene in bpy.data.scenes:
            scene[FILE_ID_PROP] = file_id
    return current()


def forget_in_new_file() -> None:
    """Drop an id a new, unsaved file got from the startup file it was made from."""
    if bpy.data.filepath:
        return
    for scene in bpy.data.scenes:
        if scene.get(FILE_ID_PROP) is not None:
            del scene[FILE_ID_PROP]


def _stored_id() -> str:
    for scene in bpy.data.scenes:
        value = scene.get(FILE_ID_PROP)
        if isinstance(value, str) and value:
            return value
    return ""
