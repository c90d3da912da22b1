"""The library as a Blender asset library: one .blend per result, with the catalog file.

The library's storage (:mod:`...library`) is plain Python and keeps GLBs; Blender's
Asset Browser reads .blend files. So when a result is imported anywhere (sidebar,
command, batch, bridge), the marked asset is also written to
``<library>/<entry id>/<name>.blend`` with :func:`bpy.data.libraries.write`, which
writes the given data-blocks and what they use (objects, meshes, materials, packed
textures, armatures, and the rig's clips, passed along) without touching the open
file. The library folder's ``blender_assets.cats.txt`` gets the catalog, so the folder
registered under Preferences › File Paths › Asset Libraries shows every result by
kind, and each entry's folder gets one too (copied elsewhere, it is a library on its
own). A result that is never imported has no .blend yet; its GLB stays in the library.

The pump does not write during an import: it marks the result and queues the write
for when it is idle (:mod:`.library_keep`, which calls :func:`keep`); a single import
on request (the library's Import, its command) marks and keeps at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import bpy

from ...api.errors import LocalWriteError
from ...library import Entry, Library
from . import scene_io
from .assets import mark_result, write_catalog_file
from .importer import ImportResult

log = logging.getLogger(__name__)

FALLBACK_STEM = "model"
MAX_STEM_CHARS = 80
_UNSAFE = re.compile(r"[^\w\- .()]+")


def blend_path(entry: Entry) -> Path:
    """Where ``entry``'s asset .blend is (or will be): ``<entry folder>/<name>.blend``."""
    stem = _UNSAFE.sub("_", entry.name).strip(" ._")[:MAX_STEM_CHARS].strip() or FALLBACK_STEM
    return entry.folder / f"{stem}.blend"


def mark_and_keep(result: ImportResult, entry: Entry, library: Library | None) -> bpy.types.ID:
    """After an import of ``entry``'s result: mark it as an asset, and write its .blend into ``library``; the asset.

    For one import asked for (the library's Import, its command); the pump queues the
    write instead (:func:`.library_keep.defer`).
    """
    asset = mark_result(result, entry)
    keep(library, entry, asset, result.actions)
    return asset


def keep(library: Library | None, entry: Entry, asset: bpy.types.ID, actions: Iterable[str] = ()) -> Path | None:
    """Write ``asset`` (marked) into ``entry``'s folder as its .blend, once; the path, or None.

    None when the entry is not in ``library`` (not kept there), already has its .blend, or
    the folder refuses it (logged: the import itself has succeeded). ``actions`` are the
    names of the rig's clips, kept by a fake user only, so written explicitly.
    """
    if library is None or entry.id not in library:
        return None
    target = blend_path(entry)
    if target.is_file():
        return None
    try:
        write_asset_blend(target, asset, [bpy.data.actions[name] for name in actions if name in bpy.data.actions])
        write_catalog_file(library.folder, [asset])
    except (OSError, LocalWriteError) as error:
        log.warning("Meshy: the asset of %s could not be written into the library (%s)", entry.name, error)
        return None
    return target


def write_asset_blend(target: Path, asset: bpy.types.ID, extra: Iterable[bpy.types.ID] = ()) -> Path:
    """Write ``asset`` and ``extra`` (with everything they use) as the .blend ``target``, whole or not at all.

    Its folder's catalog file defines the asset's catalog. Raises LocalWriteError or OSError.
    """
    scene_io.write_blocks(target, {asset, *extra})
    write_catalog_file(target.parent, [asset])
    return target
