"""The library's .blend files, written when the pump is idle rather than during an import.

Writing a result's asset into the library (``<library>/<entry>/<name>.blend`` with
``bpy.data.libraries.write``, and the catalog files beside it and at the library's root:
:func:`.library_blend.keep`) took 10-16 ms of each import on the main thread. A batch
of 50 tasks at a time receives 50 results per round, and its pump fell behind by that
much (BENCHMARKS.md section 6). So the pump marks the asset at import (the open file
and ``batch.blend`` need the mark and the preview at once) and :func:`defer` queues
the write; :func:`write_next` does one when the pump finds no job waiting for import
(``pump.tick``: headless before ``run_until`` waits for news, in the GUI within the
timer's frame budget). What is still queued is written by :func:`flush` before it
could be lost: when a headless run ends (``pump.run_until`` returns; the bridge
command ends), before another file is loaded (the ``load_pre`` handler), at unregister.

A queued asset is found again by its name and ``session_uid`` (the fallback when it was
renamed), never through a Python reference held meanwhile: the user may delete the
result, undo its import or load another file before its turn. A result gone by then is
skipped (it gets its .blend when it is imported again, like a result never imported);
one queued again (imported twice) is written once, from its latest import.

Cheap to import (bpy and the standard library): the handlers that flush load it at
enable; :mod:`.library_blend` is imported only when something is queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import bpy

if TYPE_CHECKING:
    from ...library import Entry, Library


@dataclass(frozen=True)
class _Pending:
    library: Library
    entry: Entry
    #: Which ``bpy.data`` collection holds the asset: "objects" or "collections".
    data: str
    name: str
    session_uid: int
    #: The names of the rig's clips, written with it (see :func:`.library_blend.keep`).
    actions: tuple[str, ...]


#: The queued writes by the entry's folder in its library, oldest first.
_pending: dict[Path, _Pending] = {}


def defer(library: Library | None, entry: Entry, asset: bpy.types.ID, actions: Iterable[str] = ()) -> None:
    """Queue writing ``asset`` (marked, an object or a collection) as ``entry``'s .blend in ``library``.

    Nothing is queued without a library. Whether the entry is kept there and lacks its
    .blend is asked when it is written (two file checks an import need not wait for).
    """
    if library is None:
        return
    data = "collections" if isinstance(asset, bpy.types.Collection) else "objects"
    key = library.folder / entry.id
    _pending.pop(key, None)  # queued again: written once, from this import, in this turn
    _pending[key] = _Pending(library, entry, data, asset.name, asset.session_uid, tuple(actions))


def pending() -> int:
    """How many writes are queued."""
    return len(_pending)


def write_next() -> None:
    """Write the oldest queued asset's .blend (skipped when its data is gone); nothing when none is queued."""
    if not _pending:
        return
    from . import library_blend

    item = _pending.pop(next(iter(_pending)))
    asset = _find(item)
    if asset is not None:
        library_blend.keep(item.library, item.entry, asset, item.actions)


def flush() -> None:
    """Write every queued .blend now."""
    while _pending:
        write_next()


def _find(item: _Pending) -> bpy.types.ID | None:
    """The queued asset if it still exists: by name, else (renamed) by its ``session_uid``."""
    items = getattr(bpy.data, item.data)
    named = items.get(item.name)
    if named is not None and named.session_uid == item.session_uid:
        return named
    return next((candidate for candidate in items if candidate.session_uid == item.session_uid), None)
