"""How many faces a GLB holds, read from its description alone (no Blender, no geometry).

UV Unwrap refuses models of more than :data:`MAX_UV_UNWRAP_FACES` faces; counting them
here lets the add-on say so, with the count, before a model is uploaded and paid for.
Faces are triangles, as Meshy counts them: each primitive's index (or vertex) count
divided by three, strips and fans two fewer; points and lines have none. A mesh used by
several nodes counts once per node, as it is drawn (and exported) once per node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .glb_safety import CHUNK, HEADER, JSON_CHUNK, MAGIC

#: Meshy's UV Unwrap refuses meshes with more faces than this (run Remesh first).
MAX_UV_UNWRAP_FACES = 40_000

_TRIANGLES, _STRIP, _FAN = 4, 5, 6


class UnreadableModelError(ValueError):
    """The bytes are not a GLB whose description can be read."""


def glb_description(data: bytes) -> dict[str, Any]:
    """The JSON chunk of a GLB given whole or as its first bytes (at least up to the chunk's end)."""
    if len(data) < HEADER.size + CHUNK.size:
        raise UnreadableModelError("it is not a GLB model")
    magic, version, _ = HEADER.unpack_from(data)
    length, kind = CHUNK.unpack_from(data, HEADER.size)
    if magic != MAGIC or version != 2 or kind != JSON_CHUNK:
        raise UnreadableModelError("it is not a glTF 2.0 binary (GLB) model")
    start = HEADER.size + CHUNK.size
    if start + length > len(data):
        raise UnreadableModelError("it ends inside its description")
    try:
        document = json.loads(data[start : start + length])
    except (ValueError, RecursionError) as error:
        raise UnreadableModelError(f"its description is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise UnreadableModelError("its description is not a JSON object")
    return document


def read_description(path: Path) -> dict[str, Any]:
    """The JSON chunk of the GLB file at ``path`` (only the header and that chunk are read)."""
    with path.open("rb") as file:
        head = file.read(HEADER.size + CHUNK.size)
        if len(head) < HEADER.size + CHUNK.size:
            raise UnreadableModelError("it is not a GLB model")
        return glb_description(head + file.read(CHUNK.unpack_from(head, HEADER.size)[0]))


def _count(accessors: list[Any], index: Any) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(accessors):
        return 0
    accessor = accessors[index]
    count = accessor.get("count", 0) if isinstance(accessor, dict) else 0
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def _primitive_faces(primitive: Any, accessors: list[Any]) -> int:
    if not isinstance(primitive, dict):
        return 0
    attributes = primitive.get("attributes")
    position = attributes.get("POSITION") if isinstance(attributes, dict) else None
    corners = _count(accessors, primitive.get("indices", position))
    mode = primitive.get("mode", _TRIANGLES)
    if mode == _TRIANGLES:
        return corners // 3
    if mode in (_STRIP, _FAN):
        return max(0, corners - 2)
    return 0


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    return value if isinstance(value, list) else []


def count_faces(document: dict[str, Any]) -> int:
    """The triangles of every mesh the GLB's nodes draw (every mesh when no node draws one)."""
    accessors = _list(document, "accessors")
    per_mesh: list[int] = []
    for mesh in _list(document, "meshes"):
        primitives = _list(mesh, "primitives") if isinstance(mesh, dict) else []
        per_mesh.append(sum(_primitive_faces(primitive, accessors) for primitive in primitives))
    drawn = [node.get("mesh") for node in _list(document, "nodes") if isinstance(node, dict)]
    used = [index for index in drawn if isinstance(index, int) and 0 <= index < len(per_mesh)]
    return sum(per_mesh[index] for index in used) if used else sum(per_mesh)
