"""The sandbox's model tools: UV unwrap, resize and convert as Meshy serves them (Nov. 2026).

Requests are checked as Meshy checks them: one model (``input_task_id`` or ``model_url``);
UV unwrap takes GLB only and refuses more than 40,000 faces (counted from the uploaded
GLB's accessors); resize takes exactly one of ``resize_height``, ``resize_longest_side``
and ``auto_size``, with ``origin_at`` ``bottom`` (default) or ``center``; convert needs
``target_formats``. Every file the sandbox names is real — the rule for its generation
tasks too: a GLB, a binary FBX 7.4 (a static mesh Blender's FBX importer reads), a
Wavefront OBJ (text) or a binary STL, written here from the sandbox's vase. Formats it
cannot write (USDZ, 3MF, .blend; a rigged or animated FBX) are never advertised: a convert
asking for one is refused (400), and a task's ``model_urls`` or result leaves them out, as
Meshy leaves out formats it did not produce.

- UV unwrap: the vase with new UVs and a 2 × 2 grey placeholder material (untextured).
- Resize: the vase scaled to the asked height or longest side (``auto_size``: 0.6 m,
  the sandbox's "estimate"), its origin at the bottom centre or the centre of its box.

Standard library only (and ``sandbox_assets`` for the mesh and the GLB writer).
"""

from __future__ import annotations

import functools
import struct
import sys
from array import array
from collections.abc import Callable
from typing import Any, NoReturn

import sandbox_assets
from sandbox_assets import _Glb, _Mesh

Fail = Callable[[str], NoReturn]
CheckModel = Callable[[Any, str, bool], None]
DecodeDataUri = Callable[[str, str], tuple[str, bytes]]

UV_UNWRAP, RESIZE, CONVERT = "uv-unwrap", "resize", "convert"
TOOLS = (UV_UNWRAP, RESIZE, CONVERT)
TASK_TYPES = frozenset(TOOLS)
COSTS = {UV_UNWRAP: 5, RESIZE: 1, CONVERT: 1}
MAX_UV_FACES = 40_000
CONVERT_FORMATS = frozenset({"glb", "fbx", "obj", "usdz", "blend", "stl", "3mf"})
#: The formats the sandbox writes for real; it advertises no other.
WRITTEN_FORMATS = ("glb", "fbx", "obj", "stl")
RESIZE_MODES = ("resize_height", "resize_longest_side", "auto_size")
AUTO_HEIGHT_M = 0.6
ORIGINS = frozenset({"bottom", "center"})
GREY = (128, 128, 128)
CONTENT_TYPES = {
    "glb": "model/gltf-binary",
    "fbx": "application/octet-stream",
    "obj": "text/plain",
    "stl": "model/stl",
}

_TRIANGLES, _STRIP, _FAN = 4, 5, 6


# --------------------------------------------------------------------------- requests


def glb_faces(data: bytes) -> int:
    """Triangles in a GLB, from its accessors' counts (a mesh counts once per node drawing it)."""
    if len(data) < 20 or data[:4] != b"glTF":
        return 0
    import json

    length = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20 : 20 + length])
    counts = [accessor.get("count", 0) for accessor in doc.get("accessors", [])]

    def mesh_faces(mesh: dict[str, Any]) -> int:
        total = 0
        for primitive in mesh.get("primitives", []):
            index = primitive.get("indices", primitive.get("attributes", {}).get("POSITION"))
            corners = counts[index] if isinstance(index, int) and 0 <= index < len(counts) else 0
            mode = primitive.get("mode", _TRIANGLES)
            total += corners // 3 if mode == _TRIANGLES else max(0, corners - 2) if mode in (_STRIP, _FAN) else 0
        return total

    meshes = [mesh_faces(mesh) for mesh in doc.get("meshes", [])]
    drawn = [node["mesh"] for node in doc.get("nodes", []) if isinstance(node.get("mesh"), int)]
    return sum(meshes[i] for i in drawn if 0 <= i < len(meshes)) if drawn else sum(meshes)


def _one_model(body: dict[str, Any], fail: Fail) -> None:
    if not any(body.get(name) for name in ("input_task_id", "model_url")):
        fail("input_task_id or model_url is required")


def validator(task_type: str, fail: Fail, check_model: CheckModel, decode: DecodeDataUri) -> Callable[[Any], None]:
    """The request check of ``task_type`` with the sandbox's own helpers (400 through ``fail``)."""
    if task_type == UV_UNWRAP:
        return lambda body: validate_uv_unwrap(body, fail, check_model, decode)
    check = validate_resize if task_type == RESIZE else validate_convert
    return lambda body: check(body, fail, check_model)


def validate_uv_unwrap(body: dict[str, Any], fail: Fail, check_model: CheckModel, decode: DecodeDataUri) -> None:
    _one_model(body, fail)
    model = body.get("model_url")
    if not model:
        return
    check_model(model, "model_url", True)
    if str(model).startswith("data:"):
        faces = glb_faces(decode(model, "model_url")[1])
        if faces > MAX_UV_FACES:
            fail(f"The model has {faces} faces; UV unwrap supports at most {MAX_UV_FACES}. Remesh it first.")


def validate_resize(body: dict[str, Any], fail: Fail, check_model: CheckModel) -> None:
    _one_model(body, fail)
    if body.get("model_url"):
        check_model(body["model_url"], "model_url", False)
    given = [mode for mode in RESIZE_MODES if body.get(mode) not in (None, False)]
    if len(given) != 1:
        fail("Provide exactly one of resize_height, resize_longest_side or auto_size")
    for name in RESIZE_MODES[:2]:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            fail(f"{name} must be a number greater than 0")
    if body.get("origin_at", "bottom") not in ORIGINS:
        fail(f"Invalid origin_at {body['origin_at']!r}: expected 'bottom' or 'center'")


def validate_convert(body: dict[str, Any], fail: Fail, check_model: CheckModel) -> None:
    _one_model(body, fail)
    if body.get("model_url"):
        check_model(body["model_url"], "model_url", False)
    formats = body.get("target_formats")
    if not isinstance(formats, list) or not formats or not all(fmt in CONVERT_FORMATS for fmt in formats):
        fail(f"target_formats must be a non-empty list of: {', '.join(sorted(CONVERT_FORMATS))}")
    unwritten = sorted(set(formats) - set(WRITTEN_FORMATS))
    if unwritten:
        fail(f"The offline sandbox writes only {', '.join(WRITTEN_FORMATS)}; it cannot produce {', '.join(unwritten)}")


def cost(task_type: str) -> Callable[[dict[str, Any]], int]:
    return lambda body: COSTS[task_type]


# --------------------------------------------------------------------------- results


def formats_of(task_type: str, body: dict[str, Any]) -> list[str]:
    """The files a finished task offers: convert's asked formats, else one GLB."""
    return list(dict.fromkeys(body["target_formats"])) if task_type == CONVERT else ["glb"]


def fields(task_type: str, body: dict[str, Any], done: bool, link: Callable[[str], str]) -> dict[str, Any]:
    """What a uv-unwrap / resize / convert task object adds to the common fields."""
    urls = {fmt: link(f"model.{fmt}") for fmt in formats_of(task_type, body)} if done else {"glb": ""}
    return {"model_urls": urls}


def files(task_type: str, body: dict[str, Any]) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Every file a SUCCEEDED task offers, by file name: (content type, maker)."""
    if task_type == UV_UNWRAP:
        return {"model.glb": (CONTENT_TYPES["glb"], unwrapped_glb)}
    if task_type == RESIZE:
        origin = body.get("origin_at", "bottom")
        height, longest = body.get("resize_height"), body.get("resize_longest_side")
        maker = functools.partial(resized_glb, height or (None if longest else AUTO_HEIGHT_M), longest, origin)
        return {"model.glb": (CONTENT_TYPES["glb"], maker)}
    return {f"model.{fmt}": (CONTENT_TYPES[fmt], functools.partial(vase_file, fmt)) for fmt in body["target_formats"]}


def _untextured_glb(mesh: _Mesh, name: str) -> bytes:
    glb = _Glb()
    material = glb.material(name, sandbox_assets.png_bytes(2, 2, GREY), None, None)
    glb.node({"name": name, "mesh": glb.mesh(name, mesh, material)})
    return glb.pack()


@functools.cache
def unwrapped_glb() -> bytes:
    """The vase with its UVs and a grey 2 × 2 placeholder material, as UV unwrap returns a model."""
    return _untextured_glb(sandbox_assets.vase_mesh(), "Unwrapped")


def _bounds(positions: array[float]) -> tuple[list[float], list[float]]:
    return [min(positions[axis::3]) for axis in range(3)], [max(positions[axis::3]) for axis in range(3)]


@functools.lru_cache(maxsize=32)
def resized_glb(height: float | None, longest: float | None, origin: str) -> bytes:
    """The vase scaled to ``height`` (glTF's Y) or its ``longest`` side, origin at its bottom centre or centre."""
    source = sandbox_assets.vase_mesh()
    low, high = _bounds(source.positions)
    sizes = [high[axis] - low[axis] for axis in range(3)]
    scale = (height / sizes[1]) if height else (longest or 1.0) / max(sizes)
    pivot = [(low[0] + high[0]) / 2, low[1] if origin == "bottom" else (low[1] + high[1]) / 2, (low[2] + high[2]) / 2]
    mesh = _Mesh(normals=source.normals, uvs=source.uvs, indices=source.indices)
    mesh.positions = array("f", ((value - pivot[i % 3]) * scale for i, value in enumerate(source.positions)))
    return _untextured_glb(mesh, "Resized")


@functools.cache
def vase_file(fmt: str) -> bytes:
    """The vase in ``fmt``: GLB (textured, with PBR maps), binary FBX, OBJ text or binary STL."""
    writers = {"fbx": fbx_binary, "obj": obj_text, "stl": stl_binary}
    return sandbox_assets.textured_glb(pbr=True) if fmt == "glb" else writers[fmt](sandbox_assets.vase_mesh())


def obj_text(mesh: _Mesh) -> bytes:
    """A Wavefront OBJ: positions, UVs, normals and triangles (1-based, v/vt/vn)."""
    p, t, n = mesh.positions, mesh.uvs, mesh.normals
    lines = ["# Meshy sandbox", "o Vase"]
    lines += [f"v {p[i]:.6f} {p[i + 1]:.6f} {p[i + 2]:.6f}" for i in range(0, len(p), 3)]
    lines += [f"vt {t[i]:.6f} {1.0 - t[i + 1]:.6f}" for i in range(0, len(t), 2)]  # glTF's V runs down
    lines += [f"vn {n[i]:.6f} {n[i + 1]:.6f} {n[i + 2]:.6f}" for i in range(0, len(n), 3)]
    ix = mesh.indices
    for i in range(0, len(ix), 3):
        a, b, c = (ix[i + k] + 1 for k in range(3))
        lines.append(f"f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c}")
    return ("\n".join(lines) + "\n").encode("ascii")


def stl_binary(mesh: _Mesh) -> bytes:
    """A binary STL: an 80-byte header, the triangle count, then per triangle its normal and corners."""
    p, ix = mesh.positions, mesh.indices
    parts = [b"Meshy sandbox binary STL".ljust(80, b" "), struct.pack("<I", len(ix) // 3)]
    for i in range(0, len(ix), 3):
        corners = [p[3 * ix[i + k] : 3 * ix[i + k] + 3] for k in range(3)]
        u = [corners[1][a] - corners[0][a] for a in range(3)]
        v = [corners[2][a] - corners[0][a] for a in range(3)]
        normal = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        length = sum(c * c for c in normal) ** 0.5 or 1.0
        parts.append(struct.pack("<3f", *(c / length for c in normal)))
        parts.extend(struct.pack("<3f", *corner) for corner in corners)
        parts.append(b"\x00\x00")
    return b"".join(parts)


# --------------------------------------------------------------------------- FBX

FBX_VERSION = 7400
_FBX_MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
_NULL_RECORD = bytes(13)


class _Long(int):
    """An FBX 64-bit integer (object ids and their connections); other ints are 32-bit."""


def _fbx_property(value: Any) -> bytes:
    """One FBX property: a type code, then its value (arrays uncompressed)."""
    if isinstance(value, bytes):
        return b"S" + struct.pack("<I", len(value)) + value
    if isinstance(value, str):
        return _fbx_property(value.encode())
    if isinstance(value, float):
        return b"D" + struct.pack("<d", value)
    if isinstance(value, _Long):
        return b"L" + struct.pack("<q", value)
    if isinstance(value, int):
        return b"I" + struct.pack("<i", value)
    code, item = {"d": (b"d", "d"), "i": (b"i", "i")}[value.typecode]
    data = array(item, value).tobytes() if sys.byteorder == "little" else _swapped(array(item, value))
    return code + struct.pack("<III", len(value), 0, len(data)) + data


def _swapped(values: array[Any]) -> bytes:
    values.byteswap()
    return values.tobytes()


def _fbx_node(name: str, props: tuple[Any, ...], children: list[Any], offset: int) -> bytes:
    """A node record (FBX 7.4: 32-bit offsets) starting at file ``offset``; children end with a null record."""
    encoded = b"".join(_fbx_property(prop) for prop in props)
    head_size = 13 + len(name) + len(encoded)
    body = b""
    for child_name, child_props, grandchildren in children:
        body += _fbx_node(child_name, child_props, grandchildren, offset + head_size + len(body))
    if children:
        body += _NULL_RECORD
    end = offset + head_size + len(body)
    return struct.pack("<IIIB", end, len(props), len(encoded), len(name)) + name.encode() + encoded + body


def _p(name: str, kind: str, value: Any) -> tuple[str, tuple[Any, ...], list[Any]]:
    """A ``P`` entry of a ``Properties70`` block."""
    label = {"int": "Integer", "double": "Number", "enum": ""}[kind]
    return ("P", (name, kind, label, "", value), [])


def fbx_binary(mesh: _Mesh, name: str = "Vase") -> bytes:
    """A binary FBX 7.4 of ``mesh``: Y up, metres, its triangles, normals and UVs (one object, no material).

    The least Blender's importer (and the FBX SDK's layout) needs: GlobalSettings, one
    Geometry and its Model under Objects, and their Connections.
    """
    p, n, t, ix = mesh.positions, mesh.normals, mesh.uvs, mesh.indices
    polygon = array("i", (-(index + 1) if k % 3 == 2 else index for k, index in enumerate(ix)))
    corner_normals = array("d", (n[3 * index + axis] for index in ix for axis in range(3)))
    geometry_id, model_id, scene_root = _Long(1_000_001), _Long(1_000_002), _Long(0)
    settings = [
        _p("UpAxis", "int", 1),
        _p("UpAxisSign", "int", 1),
        _p("FrontAxis", "int", 2),
        _p("FrontAxisSign", "int", 1),
        _p("CoordAxis", "int", 0),
        _p("CoordAxisSign", "int", 1),
        _p("UnitScaleFactor", "double", 100.0),  # 1 unit = 100 cm: metres
        _p("TimeMode", "enum", 6),  # 30 fps
    ]
    geometry = [
        ("Vertices", (array("d", p),), []),
        ("PolygonVertexIndex", (polygon,), []),
        ("GeometryVersion", (124,), []),
        (
            "LayerElementNormal",
            (0,),
            [
                ("Version", (101,), []),
                ("Name", ("",), []),
                ("MappingInformationType", ("ByPolygonVertex",), []),
                ("ReferenceInformationType", ("Direct",), []),
                ("Normals", (corner_normals,), []),
            ],
        ),
        (
            "LayerElementUV",
            (0,),
            [
                ("Version", (101,), []),
                ("Name", ("UVMap",), []),
                ("MappingInformationType", ("ByPolygonVertex",), []),
                ("ReferenceInformationType", ("IndexToDirect",), []),
                ("UV", (array("d", (t[i] if i % 2 == 0 else 1.0 - t[i] for i in range(len(t)))),), []),
                ("UVIndex", (array("i", ix),), []),
            ],
        ),
        (
            "Layer",
            (0,),
            [
                ("Version", (100,), []),
                ("LayerElement", (), [("Type", ("LayerElementNormal",), []), ("TypedIndex", (0,), [])]),
                ("LayerElement", (), [("Type", ("LayerElementUV",), []), ("TypedIndex", (0,), [])]),
            ],
        ),
    ]
    roots: list[tuple[str, tuple[Any, ...], list[Any]]] = [
        ("GlobalSettings", (), [("Version", (1000,), []), ("Properties70", (), settings)]),
        (
            "Objects",
            (),
            [
                ("Geometry", (geometry_id, f"{name}\x00\x01Geometry", "Mesh"), geometry),
                ("Model", (model_id, f"{name}\x00\x01Model", "Mesh"), [("Version", (232,), [])]),
            ],
        ),
        ("Connections", (), [("C", ("OO", geometry_id, model_id), []), ("C", ("OO", model_id, scene_root), [])]),
    ]
    out = _FBX_MAGIC + struct.pack("<I", FBX_VERSION)
    for root_name, props, children in roots:
        out += _fbx_node(root_name, props, children, len(out))
    return out + _NULL_RECORD
