"""The artist's library: every finished result kept on this computer, outside any .blend.

Plain Python (no bpy): :class:`Library` is the folder of entries shared by every Blender
process and command (the add-on's user folder, ``library/``); :class:`Entry` one kept
result with its local model, textures and thumbnail; :func:`record_result` keeps a
finished job's result, and is called by the job manager for every source.

Reading, for a panel::

    library = Library(folder)
    for entry in library.find(kind="text-to-3d", search="chair"):   # newest first, cached
        entry.name, entry.prompt, entry.kind_label, entry.consumed_credits
        entry.model_path, entry.thumbnail_path   # absolute; thumbnail None → placeholder
        entry.picture_paths   # concept pictures (entry.is_pictures: no model; the first is the thumbnail)
    library.version      # moves when entries() saw a change: redraw then
    library.remove(entry.id)

Each name is loaded from its module on first use (PEP 562 ``__getattr__``, as in
:mod:`..api`): the sidebar imports :mod:`.entry` for its labels at enable, and that must not
import the store and the recorder (and through it the job store) before a panel asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import first_use

if TYPE_CHECKING:
    from .entry import MODEL, THUMBNAIL, Entry
    from .kinds import KIND_LABELS, SOURCES
    from .recorder import record_result
    from .store import Library

#: Each name and the module it is loaded from, on first use.
_ON_FIRST_USE = {
    **dict.fromkeys(("MODEL", "THUMBNAIL", "Entry"), "entry"),
    **dict.fromkeys(("KIND_LABELS", "SOURCES"), "kinds"),
    "record_result": "recorder",
    "Library": "store",
}

__all__ = ["KIND_LABELS", "MODEL", "SOURCES", "THUMBNAIL", "Entry", "Library", "record_result"]


__getattr__ = first_use(__name__, globals(), _ON_FIRST_USE)
