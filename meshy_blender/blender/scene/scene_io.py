"""The headless command's .blend files: open or start a scene, lay assets out, save.

Runs on the main thread only, before and after the pump's imports.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import bpy
from mathutils import Vector

from ...jobs import outputs

#: Space left between two assets of a grid, in metres.
GRID_MARGIN = 0.5


def open_scene(path: Path) -> None:
    """Open ``path`` to add to it, or start from an empty scene when it does not exist yet."""
    if path.is_file():
        bpy.ops.wm.open_mainfile(filepath=str(path))
    else:
        bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)


def save_scene(path: Path) -> None:
    """Save the scene as ``path``, whole or not at all; LocalWriteError (exit 6) naming it when that fails.

    ``copy=True`` keeps the open file's own path; ``relative_remap=False`` keeps relative
    paths as written, which stay right because callers save to the file they opened (or to
    a new one, whose paths are absolute).

    The Meshy assets' catalogs are then defined in the folder's catalog file, so every
    .blend a command writes (``-o``, ``batch.blend``, ``assemble``…) is an asset library
    as is (see :mod:`.assets`).
    """
    with written_aside(path) as saved:
        bpy.ops.wm.save_as_mainfile(filepath=str(saved), check_existing=False, copy=True, relative_remap=False)
    from .assets import write_catalogs_beside  # here: assets imports what imports this module

    write_catalogs_beside(path)


def write_blocks(path: Path, ids: set[bpy.types.ID]) -> None:
    """``ids`` and everything they use (meshes, materials, packed textures; a rig's clips passed along) as the
    .blend ``path``, leaving the open file as it is; whole or not at all, LocalWriteError naming it otherwise."""
    with written_aside(path) as written:
        bpy.data.libraries.write(str(written), ids, path_remap="NONE", fake_user=True, compress=False)


@contextmanager
def written_aside(path: Path) -> Iterator[Path]:
    """Where to write ``path``: a file in a fresh private folder beside it, renamed to ``path`` after the block.

    Blender writes ``file@`` and renames it, opening ``@`` without ``O_EXCL``: a symlink
    planted beside ``path`` would be followed. Nothing can be planted in a folder made by
    ``mkdtemp`` (mode 0700). Anything failing (the folder, Blender's write, the rename) is
    LocalWriteError (exit 6) naming ``path``; nothing is left behind. Written uncompressed:
    2 ms where compressing took 20 (textures are packed PNG/JPEG already).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        raise outputs.write_failed(path, outputs.reason(error)) from error
    try:
        written = folder / path.name
        try:
            yield written
        except RuntimeError as error:  # "Error: Cannot open file …@ for writing: No space left on device"
            raise outputs.write_failed(path, str(error).strip().rsplit(": ", 1)[-1]) from error
        os.replace(written, path)
    except OSError as error:
        raise outputs.write_failed(path, outputs.reason(error)) from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tagged(key: str, value: str) -> list[bpy.types.Object]:
    """The objects whose custom property ``key`` equals ``value``."""
    return [obj for obj in bpy.data.objects if obj.get(key) == value]


def world_bounds(objects: Iterable[bpy.types.Object]) -> tuple[Vector, Vector]:
    """World-space (min, max) corners of the meshes, or of the origins when there is no mesh."""
    objects = list(objects)
    points = [obj.matrix_world @ Vector(corner) for obj in objects if obj.type == "MESH" for corner in obj.bound_box]
    if not points:
        points = [obj.matrix_world.translation.copy() for obj in objects]
    low = Vector(tuple(min(point[axis] for point in points) for axis in range(3)))
    high = Vector(tuple(max(point[axis] for point in points) for axis in range(3)))
    return low, high


def layout_grid(groups: Sequence[Sequence[bpy.types.Object]], *, left: float | None = None) -> float:
    """Place each group (one asset's objects) in its own cell of a square grid on the XY plane; its right edge.

    Cells are as wide as the largest asset's footprint plus :data:`GRID_MARGIN`, so no two
    assets overlap; each asset is centred in its cell and keeps its height. Only root
    objects move (children follow). Laying out the same groups again changes nothing.
    The first cell is centred on the origin, or starts at X = ``left`` (a block of a grid
    laid out in blocks, see :mod:`.result_parts`).
    """
    groups = [list(group) for group in groups if group]
    if not groups:
        return left or 0.0
    view_layer = bpy.context.view_layer
    if view_layer is not None:
        view_layer.update()  # world matrices of objects imported or moved since the last update
    boxes = [world_bounds(group) for group in groups]
    cell = max(max(high.x - low.x, high.y - low.y) for low, high in boxes) + GRID_MARGIN
    columns = math.ceil(math.sqrt(len(groups)))
    first = 0.0 if left is None else left + cell / 2
    for index, (group, (low, high)) in enumerate(zip(groups, boxes, strict=True)):
        row, column = divmod(index, columns)
        centre = (low + high) / 2
        offset = Vector((first + column * cell - centre.x, -row * cell - centre.y, 0.0))
        members = set(group)
        for obj in group:
            if obj.parent not in members:
                obj.location = obj.location + offset
    return first + (columns - 1) * cell + cell / 2
