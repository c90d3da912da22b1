"""Imported results as Blender assets: marked, with Meshy's thumbnail, tags and a catalog by kind.

Every import (sidebar, command, batch, bridge, task browser) marks the job's collection
as an asset, or the object itself when the result is one object (dragging it from the
Asset Browser then places that object, not an instance of a collection). What is known
about the result comes as a library :class:`~...library.Entry` (the one the library
kept, else one described from the job): its thumbnail becomes the asset's preview, its
kind, model and prompt words its tags, the prompt its description, and its kind picks
the catalog ("Meshy/Text to 3D", "Meshy/Rigged"…; see :mod:`.catalogs`).

The preview is loaded with Blender's own "Load Custom Preview" operator
(``ed.lib_id_load_custom_preview``, given the ID through a context override), which
reads and scales the picture in C and works headless on 4.2 to 5.0; it is called
without the scene update ``bpy.ops`` makes first (half its cost after an import; see
BENCHMARKS.md). Without a thumbnail the UI renders one (``asset_generate_preview``,
done in the background by Blender); headless, where that rendering needs a GPU and
takes a second per asset, the asset keeps Blender's type icon.

Catalogs live in a file beside the .blend, not in it: :func:`write_catalogs_beside` is
called whenever a command saves a .blend (``scene_io.save_scene``: ``-o``, ``batch.blend``,
``assemble``, the bridge's and the library's ``-o``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import bpy

from ...jobs import outputs
from ...jobs.model import Job
from ...library import Entry, Library
from ...library.recorder import describe
from . import catalogs
from .importer import ImportResult, _call_operator

log = logging.getLogger(__name__)

#: Asset tags made from a prompt: its first distinct words of 3 letters or more, not these.
MAX_PROMPT_TAGS = 12
_STOP_WORDS = frozenset(
    ("the", "and", "with", "for", "from", "into", "onto", "over", "under", "that", "this", "its", "very", "some")
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
MAX_TAG_CHARS = 63  # Blender caps a tag at 64 bytes with its terminator
TAG_MESHY = "Meshy"


def entry_for(job: Job, library: Library | None) -> Entry:
    """What is known of ``job``'s result: its library entry (with the thumbnail), else one described from the job."""
    entry_id = job.final_task_id or job.id
    kept = library.get(entry_id) if library is not None else None
    return kept if kept is not None else describe(job, None, entry_id=entry_id, source="")


def mark_result(result: ImportResult, entry: Entry) -> bpy.types.ID:
    """Mark an import as an asset (its one object, else its collection); the marked ID."""
    target: bpy.types.ID = result.objects[0] if len(result.objects) == 1 else result.collection
    mark(target, entry)
    return target


def mark(target: bpy.types.ID, entry: Entry) -> None:
    """Make ``target`` an asset described by ``entry``: catalog, tags, description, preview."""
    target.asset_mark()
    data = target.asset_data
    if data is None:  # a linked ID cannot be marked
        return
    data.catalog_id = catalogs.catalog_uuid(catalogs.catalog_path(entry.kind))
    if entry.prompt:
        data.description = entry.prompt
    for tag in tags(entry):
        data.tags.new(tag, skip_if_exists=True)
    thumbnail = entry.thumbnail_path
    if thumbnail is not None and thumbnail.is_file() and load_preview(target, thumbnail):
        return
    if not bpy.app.background:
        target.asset_generate_preview()


def tags(entry: Entry) -> list[str]:
    """The asset's tags: "Meshy", the kind ("Text to 3D"), the model ("meshy-6"), then the prompt's words."""
    found = [TAG_MESHY, entry.kind_label, entry.model, *prompt_words(entry.prompt)]
    unique = dict.fromkeys(tag.strip()[:MAX_TAG_CHARS] for tag in found)
    return [tag for tag in unique if tag]


def prompt_words(prompt: str) -> list[str]:
    """The distinct words of ``prompt`` worth searching by, lower case, in order (at most :data:`MAX_PROMPT_TAGS`)."""
    words = (word.casefold() for word in _WORD.findall(prompt))
    kept = dict.fromkeys(word for word in words if len(word) >= 3 and word not in _STOP_WORDS)
    return list(kept)[:MAX_PROMPT_TAGS]


def load_preview(target: bpy.types.ID, picture: Path) -> bool:
    """Make ``picture`` (PNG, JPEG…) the preview of ``target``; False when Blender could not read it."""
    try:
        with bpy.context.temp_override(id=target):
            done = _call_operator("ed.lib_id_load_custom_preview", filepath=str(picture))
    except RuntimeError as error:  # the operator reports an unreadable picture as an error
        log.info("Meshy: %s could not be the preview of %s (%s)", picture.name, target.name, error)
        return False
    preview = target.preview
    return done == {"FINISHED"} and preview is not None and preview.image_size[0] > 0


def marked_catalogs(ids: Iterable[bpy.types.ID] | None = None) -> set[str]:
    """The paths of the Meshy catalogs that assets among ``ids`` (default: the file's collections and objects) use."""
    known = catalogs.known_catalogs()
    if ids is None:
        ids = [*bpy.data.collections, *bpy.data.objects]
    used = {item.asset_data.catalog_id for item in ids if item.asset_data is not None}
    return {known[uuid] for uuid in used if uuid in known}


def write_catalog_file(folder: Path, ids: Iterable[bpy.types.ID] | None = None) -> Path | None:
    """Define the Meshy catalogs the assets use in ``folder``'s catalog file; its path (None: no Meshy asset).

    Raises OSError when the folder refuses the file.
    """
    used = marked_catalogs(ids)
    return catalogs.write_catalogs(folder, used) if used else None


def write_catalogs_beside(blend: Path) -> None:
    """After a command saved ``blend`` (``scene_io.save_scene``): its folder's catalog file, so the folder is an
    asset library as is.

    LocalWriteError (exit 6) naming the catalog file when it cannot be written.
    """
    try:
        write_catalog_file(blend.parent)
    except OSError as error:
        raise outputs.write_failed(blend.parent / catalogs.CATALOG_FILE, outputs.reason(error)) from error
