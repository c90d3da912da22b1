"""Imported results as Blender assets: marked, with Meshy's thumbnail, tags and a catalog by kind.

Every import (sidebar, command, batch, bridge, task browser) marks the job's collection
as an asset, or the object itself when the result is one object (dragging it from the
Asset Browser then places that object, not an instance of a collection). What is known
about the result comes as a library :class:`~...library.Entry` (the one the library
kept, else one described from the job): its thumbnail becomes the asset's preview, its
kind, model and prompt words its tags, the prompt its description, and its kind picks
the catalog ("Meshy/Text to 3D", "Meshy/Rigged"…; see :mod:`.catalogs`).

The preview's pixels are the thumbnail's, scaled to at most 256 px and set on the
ID's preview directly (see :func:`load_preview` for why not Blender's "Load Custom
Preview" operator). Without a thumbnail the UI renders one (``asset_generate_preview``,
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
from typing import Any

import bpy
import numpy

from ...jobs import outputs
from ...jobs.model import Job
from ...library import Entry, Library
from ...library.recorder import describe, recorded
from . import catalogs
from .importer import ImportResult

log = logging.getLogger(__name__)

#: Asset tags made from a prompt: its first distinct words of 3 letters or more, not these.
MAX_PROMPT_TAGS = 12
_STOP_WORDS = frozenset(
    ("the", "and", "with", "for", "from", "into", "onto", "over", "under", "that", "this", "its", "very", "some")
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
#: The longest side of an asset's preview (Blender shows them at most this large).
PREVIEW_SIDE = 256
MAX_TAG_CHARS = 63  # Blender caps a tag at 64 bytes with its terminator
TAG_MESHY = "Meshy"


def entry_for(job: Job, library: Library | None) -> Entry:
    """What is known of ``job``'s result: its library entry (with the thumbnail), else one described from the job.

    The entry its worker just recorded, when there is one (no read of its record on the main thread).
    """
    entry_id = job.final_task_id or job.id
    kept = (recorded(library, entry_id) or library.get(entry_id)) if library is not None else None
    return kept if kept is not None else describe(job, None, entry_id=entry_id, source="")


def mark_result(result: ImportResult, entry: Entry, thumbnail: Path | None = None) -> bpy.types.ID:
    """Mark an import as an asset (its one object, else its collection); the marked ID."""
    target: bpy.types.ID = result.objects[0] if len(result.objects) == 1 else result.collection
    mark(target, entry, thumbnail)
    return target


def mark(target: bpy.types.ID, entry: Entry, thumbnail: Path | None = None) -> None:
    """Make ``target`` an asset described by ``entry``: catalog, tags, description, preview.

    The preview is the entry's thumbnail, else ``thumbnail`` (a result kept in no library).
    """
    target.asset_mark()
    data = target.asset_data
    if data is None:  # a linked ID cannot be marked
        return
    data.catalog_id = catalogs.catalog_uuid(catalogs.catalog_path(entry.kind))
    if entry.prompt:
        data.description = entry.prompt
    for tag in tags(entry):
        data.tags.new(tag, skip_if_exists=True)
    thumbnail = entry.thumbnail_path or thumbnail
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
    """Make ``picture`` (PNG, JPEG…) the preview of ``target``; False when Blender could not read it.

    The pixels are set on the preview directly (``preview_ensure``, ``image_pixels_float``)
    rather than through "Load Custom Preview" (``ed.lib_id_load_custom_preview``): that
    operator, called once per import while a batch's worker threads ran, crashed Blender
    after about a hundred imports (segmentation fault, bpy 4.5, reproduced three times with
    ``scripts/bench_batch_scale.py --rows 120`` and the sandbox's former flat 128 px
    thumbnails; the same run setting the pixels ends with exit 0).
    """
    try:
        image = bpy.data.images.load(str(picture), check_existing=False)
    except RuntimeError as error:  # Blender could not read the picture
        log.info("Meshy: %s could not be the preview of %s (%s)", picture.name, target.name, error)
        return False
    try:
        width, height = image.size
        pixels = numpy.empty(width * height * 4, dtype=numpy.float32)
        if pixels.size:
            source: Any = image.pixels  # the stubs type ``pixels`` as a float, not the array it is
            source.foreach_get(pixels)
    finally:
        bpy.data.images.remove(image)
    if not pixels.size:
        log.info("Meshy: %s has no pixels to be the preview of %s", picture.name, target.name)
        return False
    scaled = _fit(pixels.reshape(height, width, 4), PREVIEW_SIDE)
    preview: Any = target.preview_ensure()
    preview.image_size = (scaled.shape[1], scaled.shape[0])
    preview.image_pixels_float.foreach_set(scaled.ravel())
    return True


def _fit(pixels: Any, side: int) -> Any:
    """``pixels`` (rows × columns × RGBA) scaled down (nearest pixel) so that neither side exceeds ``side``."""
    height, width = pixels.shape[:2]
    scale = max(height, width) / side
    if scale <= 1:
        return pixels
    rows = (numpy.arange(max(1, round(height / scale))) * scale).astype(int)
    columns = (numpy.arange(max(1, round(width / scale))) * scale).astype(int)
    return numpy.ascontiguousarray(pixels[rows][:, columns])


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
