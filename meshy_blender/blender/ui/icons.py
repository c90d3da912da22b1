"""The add-on's own icons and the library's thumbnails, as Blender previews for ``icon_value``.

Nothing is loaded when the add-on is enabled: the first panel that draws an icon creates
the preview collections (enable stays cheap), and :func:`free` releases them at disable.
The icons are PNGs in the package (``meshy_blender/icons/``, drawn by
``scripts/make_icons.py`` from the SVG geometry beside them), so they ship in the zip.
A thumbnail is keyed by its file's path and modification time: a changed file is read
again (within :data:`RECHECK_S`), an unchanged one never is; at most :data:`MAX_THUMBNAILS`
stay loaded.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from ...jobs.states import JobState

if TYPE_CHECKING:
    from bpy.utils.previews import ImagePreviewCollection

ICONS_DIR = Path(__file__).resolve().parents[2] / "icons"
MAX_THUMBNAILS = 200
#: How often a loaded thumbnail's file is looked at again for a change (seconds).
RECHECK_S = 1.0

#: The add-on's icon for each job state.
STATE_ICONS = {
    JobState.QUEUED: "queued",
    JobState.WAITING_FOR_SLOT: "queued",
    JobState.SUBMITTING: "running",
    JobState.RUNNING: "running",
    JobState.DOWNLOADING: "running",
    JobState.READY: "ready",
    JobState.IMPORTED: "done",
    JobState.DONE: "done",
    JobState.FAILED: "failed",
    JobState.CANCELED: "canceled",
}

_icons: ImagePreviewCollection | None = None
_thumbnails: ImagePreviewCollection | None = None
#: Loaded thumbnails, oldest use first: file path -> its key in ``_thumbnails`` (path and mtime), when last checked.
_thumbnail_keys: OrderedDict[str, tuple[str, float]] = OrderedDict()


def _new_collection() -> ImagePreviewCollection:
    import bpy.utils.previews  # not at enable: only once a panel draws

    return bpy.utils.previews.new()


def icon_files() -> dict[str, Path]:
    """The shipped icons by name ("logo", "placeholder", "running"…)."""
    return {path.stem: path for path in sorted(ICONS_DIR.glob("*.png"))}


def icons() -> ImagePreviewCollection:
    """Every shipped icon as a preview (loaded on first use)."""
    global _icons
    if _icons is None:
        collection = _new_collection()
        for name, path in icon_files().items():
            collection.load(name, str(path), "IMAGE")
        _icons = collection
    return _icons


def icon(name: str) -> int:
    """The ``icon_value`` of the add-on's icon ``name``."""
    return icons()[name].icon_id


def state_icon(state: JobState) -> int:
    return icon(STATE_ICONS[state])


def thumbnail(path: str | os.PathLike[str] | None) -> int:
    """The ``icon_value`` of the picture at ``path``; the placeholder icon when there is none.

    The file is looked at (``stat``) at most once per :data:`RECHECK_S` seconds: a sidebar
    redrawn 30 times a second with 40 thumbnails would otherwise stat 1,200 files a second.
    """
    global _thumbnails
    if not path:
        return icon("placeholder")
    file = os.fspath(path)
    now = time.monotonic()
    known = _thumbnail_keys.get(file)
    if known is not None and now - known[1] < RECHECK_S and _thumbnails is not None:
        _thumbnail_keys.move_to_end(file)
        return _thumbnails[known[0]].icon_id
    try:
        key = f"{file}|{os.stat(file).st_mtime_ns}"
    except OSError:
        return icon("placeholder")
    if _thumbnails is None:
        _thumbnails = _new_collection()
    _thumbnail_keys[file] = (key, now)
    _thumbnail_keys.move_to_end(file)
    if known is not None and known[0] == key:
        return _thumbnails[key].icon_id
    if known is not None:  # the file changed since: read it again
        del _thumbnails[known[0]]
    preview = _thumbnails.load(key, file, "IMAGE")
    while len(_thumbnail_keys) > MAX_THUMBNAILS:
        _, (oldest, _checked) = _thumbnail_keys.popitem(last=False)
        del _thumbnails[oldest]
    return preview.icon_id


def loaded_thumbnails() -> dict[str, str]:
    """The thumbnail files loaded now, with their keys (what the cache holds; for tests and benchmarks)."""
    return {file: key for file, (key, _checked) in _thumbnail_keys.items()}


def free() -> None:
    """Release every preview (add-on disabled)."""
    global _icons, _thumbnails
    for collection in (_icons, _thumbnails):
        if collection is not None:
            collection.close()  # what bpy.utils.previews.remove does
    _icons = _thumbnails = None
    _thumbnail_keys.clear()
