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
"""

from .entry import KIND_LABELS, MODEL, SOURCES, THUMBNAIL, Entry
from .recorder import record_result
from .store import Library

__all__ = ["KIND_LABELS", "MODEL", "SOURCES", "THUMBNAIL", "Entry", "Library", "record_result"]
