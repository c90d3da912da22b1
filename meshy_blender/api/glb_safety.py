"""Check a GLB before Blender's glTF importer reads it: embedded data only, sizes within the file.

A model comes from a server we don't control, and Blender's importer trusts it. It reads
the file named by every ``uri`` of a buffer or an image, relative to the model or absolute
(``../../.config/…``, ``/proc/self/environ``, ``/dev/zero``, a FIFO that never ends), and
with images packed that file is saved into the .blend. A ``data:`` URI without
``;base64,`` is read as a file name too. It also allocates what accessors declare
(count × element size) before it looks at the data, so a 1 KB file can ask for gigabytes.

So the file is read here first, with bounds, and refused unless every byte it asks for
lies inside it (the GLB's binary chunk or base64 ``data:`` URIs in its JSON) and its
counts stay within :class:`Limits`. Only the first two chunks are checked: Blender reads
no others. The header parsing of every GLB check in the add-on lives here.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import math
import os
import re
import stat
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .errors import EXIT_TASK_FAILED, DownloadError, MeshyError

HEADER = struct.Struct("<4sII")  # magic, version, total length
CHUNK = struct.Struct("<I4s")  # length, type
MAGIC = b"glTF"
JSON_CHUNK = b"JSON"
BIN_CHUNK = b"BIN\x00"
BASE64_MARK = ";base64,"  # where Blender's importer splits a data: URI (anything else is a path)

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
#: The largest result file downloaded unless a caller says otherwise.
DEFAULT_MAX_BYTES = GIB

#: Bytes of one component, by glTF componentType.
COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
#: Component types a sparse accessor's indices may have.
INDEX_BYTES = {5121: 1, 5123: 2, 5125: 4}
#: Components of one element, by glTF accessor type; matrices are (columns, rows).
COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
MATRICES = {"MAT2": 2, "MAT3": 3, "MAT4": 4}
MIN_STRIDE, MAX_STRIDE = 4, 252
SHOWN_CHARS = 80
#: Files this process found safe (see :func:`check_glb_safe`), the oldest forgotten first.
VERIFIED_MAX = 1024
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class Limits:
    """Bounds a model must stay within; each is far above what Meshy sends (see the defaults)."""

    #: Twice the download cap, so every complete download passes; Blender reads the whole file.
    max_file_bytes: int = 2 * DEFAULT_MAX_BYTES
    #: Meshy's descriptions are a few KB; 64 MB still holds any data: URI a GLB reasonably has.
    max_json_bytes: int = 64 * MIB
    #: glTF nests about 8 levels; the rest is room for extras.
    max_depth: int = 64
    #: Entries of any one JSON array (nodes, accessors, a node's children, …).
    max_items: int = 50_000
    #: JSON objects in the whole description (each node, accessor, primitive, channel, …).
    max_objects: int = 200_000
    #: Bytes the accessors declare (each counted once per use) per byte of file: data
    #: stored in the file counts about once; Draco-compressed meshes declare up to ~10×.
    max_declared_ratio: int = 16
    #: And in absolute terms: what Blender allocates is a few times this.
    max_declared_bytes: int = 4 * GIB


LIMITS = Limits()
_verified: dict[tuple[str, Limits], tuple[int, ...]] = {}
_verified_lock = threading.Lock()


class RefusedModelError(MeshyError):
    """The model file was not handed to Blender's importer: it would read outside it, or is damaged or too large."""

    exit_code = EXIT_TASK_FAILED


class _Refusal(Exception):
    """Why the model is refused, as the end of a sentence ("…: it is not a GLB model")."""


def _refuse(reason: str) -> NoReturn:
    raise _Refusal(reason)


def _show(text: str) -> str:
    """``text`` quoted, cut to a readable length, with control and invisible characters escaped."""
    cut = text[:SHOWN_CHARS]
    return repr(cut) + ("…" if len(text) > SHOWN_CHARS else "")


def _size(count: int) -> str:
    for unit, scale in (("GB", GIB), ("MB", MIB), ("KB", KIB)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def header_problem(head: bytes, size: int) -> str | None:
    """What is wrong with a GLB of ``size`` bytes whose first 20 bytes are ``head``, or None.

    The answer completes "the file is …".
    """
    if len(head) < HEADER.size or head[:4] != MAGIC:
        return "not a GLB model"
    _, version, length = HEADER.unpack_from(head)
    if version != 2:
        return f"glTF version {version}; only version 2 can be imported"
    if length != size:
        return f"damaged: its header says {length} bytes but the file has {size}"
    if head[HEADER.size + 4 : HEADER.size + CHUNK.size] != JSON_CHUNK:
        return "damaged: it does not start with its JSON chunk"
    return None


def check_glb(path: Path) -> None:
    """Raise DownloadError unless ``path`` is a complete binary glTF 2.0 file."""
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(HEADER.size + CHUNK.size)
    problem = header_problem(head, size)
    if problem:
        raise DownloadError(f"The downloaded file is {problem}. Try downloading again.")


def is_valid_glb(path: Path) -> bool:
    """Whether ``path`` is a complete GLB already (so it need not be downloaded again)."""
    try:
        check_glb(path)
    except (DownloadError, OSError):
        return False
    return True


def check_glb_safe(path: str | os.PathLike[str], limits: Limits = LIMITS) -> None:
    """Raise :class:`RefusedModelError`, saying why in words, unless Blender may import ``path``.

    Allowed: a glTF 2.0 binary whose buffers and images hold only the file's binary chunk
    and base64 ``data:`` URIs, whose declared sizes fit that data, and within ``limits``.
    A file this process found safe is not read again while it is the same file, unchanged:
    same device, inode, size, modification and change times (any write moves the change
    time, which no program can set back). The worker that downloads a result checks it
    (:func:`check_ahead`), so the import's check on Blender's main thread is one ``stat``.
    What this guards against is what the network sent; a local program able to rewrite the
    file could as well do it between the import's check and the importer's read.
    """
    name = Path(path).name
    key = (os.path.abspath(path), limits)
    try:
        if _verified.get(key) == _identity(os.stat(path)):
            return
        document, bin_length, info = _read(Path(path), limits)
        _walk(document, limits)
        _check_structure(document, bin_length, info.st_size, limits)
    except _Refusal as refusal:
        raise RefusedModelError(f"The model file {_show(name)} was not imported: {refusal}.") from None
    except OSError as error:
        raise RefusedModelError(f"Cannot read the model file {_show(name)}: {error.strerror}.") from error
    with _verified_lock:
        _verified[key] = _identity(info)
        while len(_verified) > VERIFIED_MAX:
            del _verified[next(iter(_verified))]


def check_ahead(path: str | os.PathLike[str]) -> None:
    """Check ``path`` now (a worker thread), so that its import finds it checked; a refusal is left to
    the import, which says it in the same words."""
    with contextlib.suppress(RefusedModelError):
        check_glb_safe(path)


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _read_at(fd: int, offset: int, count: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    parts = []
    while count > 0:
        part = os.read(fd, min(count, 16 * MIB))
        if not part:
            _refuse("it changed while it was being read")
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def _read(path: Path, limits: Limits) -> tuple[Any, int | None, os.stat_result]:
    """The parsed JSON chunk, the BIN chunk's length (None without one) and the file's ``stat`` as read."""
    # Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            _refuse("it is not a regular file")
        size = info.st_size
        if size > limits.max_file_bytes:
            _refuse(f"it is {_size(size)}, more than the limit of {_size(limits.max_file_bytes)}")
        head = _read_at(fd, 0, min(size, HEADER.size + CHUNK.size))
        problem = header_problem(head, size)
        if problem:
            _refuse(f"it is {problem}")
        json_length = CHUNK.unpack_from(head, HEADER.size)[0]
        json_end = HEADER.size + CHUNK.size + json_length
        if json_end > size:
            _refuse(f"it is damaged: its JSON chunk ({json_length} bytes) runs past the end of the file")
        if json_length > limits.max_json_bytes:
            _refuse(f"its description is {_size(json_length)}, more than the limit of {_size(limits.max_json_bytes)}")
        text = _read_at(fd, HEADER.size + CHUNK.size, json_length)
        bin_length = None
        if json_end < size:
            if json_end + CHUNK.size > size:
                _refuse("it is damaged: it ends inside a chunk header")
            length, kind = CHUNK.unpack(_read_at(fd, json_end, CHUNK.size))
            if json_end + CHUNK.size + length > size:
                _refuse(f"it is damaged: its second chunk ({length} bytes) runs past the end of the file")
            if kind == BIN_CHUNK:
                bin_length = length
    finally:
        os.close(fd)
    return _parse(text), bin_length, info


def _no_constant(name: str) -> NoReturn:
    _refuse(f"its description contains {name}, which JSON does not allow")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _refuse(f"its description contains a number too large ({_show(text)})")
    return value


def _parse(text: bytes) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        _refuse("its description is nested too deeply")
    except ValueError as error:  # also bad UTF-8, and integers of thousands of digits
        _refuse(f"its description is not valid JSON ({_show(str(error))})")


def _join(where: str, key: str) -> str:
    step = f".{key}" if _PLAIN_KEY.fullmatch(key) else f"[{_show(key)}]"
    return (where + step).lstrip(".")


def _walk(document: Any, limits: Limits) -> None:
    """Refuse any ``uri`` that is not a base64 data: URI (wherever it is: extensions too), and oversized JSON."""
    if not isinstance(document, dict):
        _refuse("its description is not a JSON object")
    objects = 0
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > limits.max_depth:
            _refuse(f"its description is nested more than {limits.max_depth} levels deep (at {where})")
        if isinstance(value, dict):
            objects += 1
            if objects > limits.max_objects:
                _refuse(f"its description has more than {limits.max_objects} objects")
            for key, item in value.items():
                place = _join(where, key)
                if key == "uri":
                    _data_uri_bytes(item, place)
                elif isinstance(item, dict | list):
                    stack.append((item, place, depth + 1))
        else:
            if len(value) > limits.max_items:
                _refuse(f"{where} has {len(value)} entries, more than the limit of {limits.max_items}")
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    stack.append((item, f"{where}[{index}]", depth + 1))


def _data_uri_bytes(uri: object, place: str) -> int:
    """The size of the data in a base64 ``data:`` URI; refused if it is anything else."""
    if not isinstance(uri, str) or not uri.startswith("data:") or BASE64_MARK not in uri:
        shown = _show(uri) if isinstance(uri, str) else "not a text"
        _refuse(f"it asks Blender to read a file outside it ({place} = {shown})")
    payload = uri[uri.find(BASE64_MARK) + len(BASE64_MARK) :]
    try:
        return len(binascii.a2b_base64(payload, strict_mode=True))
    except (binascii.Error, ValueError):
        _refuse(f"its data: URI at {place} is not valid base64")


def _objects(owner: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = owner.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        _refuse(f"its description is damaged ({_join(where, key)} is not a list of objects)")
    return items


def _refer(value: object, place: str, count: int | None = None) -> int:
    """``value`` as a whole number (an index below ``count`` when given); refused otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _refuse(f"its description is damaged ({place} is not a whole number)")
    if count is not None and value >= count:
        _refuse(f"its description is damaged ({place} = {value} refers to nothing)")
    return value


def _whole(owner: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    if key not in owner and default is not None:
        return default
    return _refer(owner.get(key), _join(where, key))


def _index(owner: dict[str, Any], key: str, where: str, count: int) -> int:
    return _refer(owner.get(key), _join(where, key), count)


def _optional_index(owner: dict[str, Any], key: str, where: str, count: int) -> int | None:
    return _index(owner, key, where, count) if key in owner else None


def _element_bytes(accessor: dict[str, Any], where: str) -> int:
    component = accessor.get("componentType")
    kind = accessor.get("type")
    if isinstance(component, bool) or component not in COMPONENT_BYTES:
        _refuse(f"its description is damaged ({where}.componentType is not a glTF component type)")
    size = COMPONENT_BYTES[component]
    if kind in COMPONENTS:
        return COMPONENTS[kind] * size
    if kind in MATRICES:  # each column starts on a 4-byte boundary (glTF 2.0, Data Alignment)
        columns = MATRICES[kind]
        return columns * (-(-columns * size // 4) * 4)
    _refuse(f"its description is damaged ({where}.type is not a glTF accessor type)")


def _fits(where: str, offset: int, count: int, element: int, *, view: int, views: list[tuple[int, int | None]]) -> None:
    length, stride = views[view]
    needed = offset + (stride or element) * (count - 1) + element if count else offset
    if needed > length:
        _refuse(f"{where} needs {needed} bytes of bufferViews[{view}], which has {length}")


def _check_structure(document: dict[str, Any], bin_length: int | None, file_size: int, limits: Limits) -> None:
    """Declared lengths against the data that is there: buffers, bufferViews, accessors, nodes."""
    buffers = []
    for number, buffer in enumerate(_objects(document, "buffers", "")):
        where = f"buffers[{number}]"
        length = _whole(buffer, "byteLength", where)
        if "uri" in buffer:
            held, source = _data_uri_bytes(buffer["uri"], f"{where}.uri"), "its data: URI"
        elif number == 0 and bin_length is not None:
            held, source = bin_length, "the file's binary chunk"
        else:
            _refuse(f"{where} has no data in the file")
        if length > held:
            _refuse(f"{where} declares {length} bytes but {source} holds {held}")
        buffers.append(length)

    views: list[tuple[int, int | None]] = []
    for number, view in enumerate(_objects(document, "bufferViews", "")):
        where = f"bufferViews[{number}]"
        held_by = _index(view, "buffer", where, len(buffers))
        offset, length = _whole(view, "byteOffset", where, 0), _whole(view, "byteLength", where)
        if offset + length > buffers[held_by]:
            _refuse(
                f"{where} (bytes {offset} to {offset + length}) runs past buffers[{held_by}] ({buffers[held_by]} bytes)"
            )
        stride = view.get("byteStride")
        if stride is not None and not MIN_STRIDE <= _whole(view, "byteStride", where) <= MAX_STRIDE:
            _refuse(f"its description is damaged ({where}.byteStride is {stride})")
        views.append((length, stride))

    declared = []
    accessors = _objects(document, "accessors", "")
    for number, accessor in enumerate(accessors):
        where = f"accessors[{number}]"
        element, count = _element_bytes(accessor, where), _whole(accessor, "count", where)
        in_view = _optional_index(accessor, "bufferView", where, len(views))
        if in_view is not None:
            _fits(where, _whole(accessor, "byteOffset", where, 0), count, element, view=in_view, views=views)
        if "sparse" in accessor:
            _check_sparse(accessor["sparse"], f"{where}.sparse", count, element, views)
        declared.append(count * element)

    uses = _accessor_uses(document, len(accessors))
    total = sum(size * max(1, used) for size, used in zip(declared, uses, strict=True))
    ratio, cap = limits.max_declared_ratio, limits.max_declared_bytes
    if total > min(cap, ratio * file_size):
        _refuse(
            f"it declares {_size(total)} of geometry and animation data, more than its {_size(file_size)} file "
            f"can hold (the limit is {ratio} times its size, at most {_size(cap)})"
        )

    for number, image in enumerate(_objects(document, "images", "")):
        _optional_index(image, "bufferView", f"images[{number}]", len(views))
    _check_node_tree(_objects(document, "nodes", ""))


def _check_sparse(sparse: object, where: str, count: int, element: int, views: list[tuple[int, int | None]]) -> None:
    if not isinstance(sparse, dict):
        _refuse(f"its description is damaged ({where} is not an object)")
    changed = _whole(sparse, "count", where)
    if changed > count:
        _refuse(f"{where}.count ({changed}) is more than the accessor's count ({count})")
    for part in ("indices", "values"):
        item = sparse.get(part)
        if not isinstance(item, dict):
            _refuse(f"its description is damaged ({where}.{part} is not an object)")
        size = element
        if part == "indices":
            component = item.get("componentType")
            if isinstance(component, bool) or component not in INDEX_BYTES:
                _refuse(f"its description is damaged ({where}.indices.componentType is not an index type)")
            size = INDEX_BYTES[component]
        in_view = _index(item, "bufferView", f"{where}.{part}", len(views))
        _fits(
            f"{where}.{part}",
            _whole(item, "byteOffset", f"{where}.{part}", 0),
            changed,
            size,
            view=in_view,
            views=views,
        )


def _accessor_uses(document: dict[str, Any], count: int) -> list[int]:
    """How often Blender decodes each accessor: once per mesh primitive, animation sampler or skin using it."""
    uses = [0] * count

    def use(owner: dict[str, Any], key: str, where: str) -> None:
        number = _optional_index(owner, key, where, count)
        if number is not None:
            uses[number] += 1

    def use_all(mapping: object, where: str) -> None:
        if not isinstance(mapping, dict):
            _refuse(f"its description is damaged ({where} is not an object)")
        for key in mapping:
            use(mapping, key, where)

    for m, mesh in enumerate(_objects(document, "meshes", "")):
        for p, primitive in enumerate(_objects(mesh, "primitives", f"meshes[{m}]")):
            where = f"meshes[{m}].primitives[{p}]"
            use_all(primitive.get("attributes", {}), f"{where}.attributes")
            use(primitive, "indices", where)
            for t, target in enumerate(_objects(primitive, "targets", where)):
                use_all(target, f"{where}.targets[{t}]")
    for a, animation in enumerate(_objects(document, "animations", "")):
        for s, sampler in enumerate(_objects(animation, "samplers", f"animations[{a}]")):
            use(sampler, "input", f"animations[{a}].samplers[{s}]")
            use(sampler, "output", f"animations[{a}].samplers[{s}]")
    for s, skin in enumerate(_objects(document, "skins", "")):
        use(skin, "inverseBindMatrices", f"skins[{s}]")
    return uses


def _check_node_tree(nodes: list[dict[str, Any]]) -> None:
    """Nodes form trees (one parent each, no loops): Blender walks up parents until a root."""
    parents = [-1] * len(nodes)
    for number, node in enumerate(nodes):
        children = node.get("children", [])
        if not isinstance(children, list):
            _refuse(f"its description is damaged (nodes[{number}].children is not a list)")
        for position, value in enumerate(children):
            child = _refer(value, f"nodes[{number}].children[{position}]", len(nodes))
            if child == number or parents[child] != -1:
                _refuse(f"its node hierarchy is damaged (nodes[{child}] has more than one parent)")
            parents[child] = number
    state = [0] * len(nodes)  # 0 not seen, 1 on the chain being followed, 2 leads to a root
    for start in range(len(nodes)):
        chain, at = [], start
        while at != -1 and state[at] == 0:
            state[at] = 1
            chain.append(at)
            at = parents[at]
        if at != -1 and state[at] == 1:
            _refuse(f"its node hierarchy has a loop (through nodes[{at}])")
        for link in chain:
            state[link] = 2
