"""Real 3D assets for the offline Meshy sandbox, generated with the standard library only.

Runs in plain Python and in Blender's Python (no numpy, no bpy). Every result is deterministic.
The GLBs follow glTF 2.0: +Y up, the front faces +Z, metres, counter-clockwise front faces,
little-endian data, chunks and buffer views aligned to 4 bytes, images embedded as PNG.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

RGB = tuple[int, int, int]
Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

_FLOAT, _UNSIGNED_BYTE, _UNSIGNED_SHORT, _UNSIGNED_INT = 5126, 5121, 5123, 5125
_COMPONENT_TYPES = {"f": _FLOAT, "B": _UNSIGNED_BYTE, "H": _UNSIGNED_SHORT, "I": _UNSIGNED_INT}
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLAT_NORMAL: RGB = (128, 128, 255)


# --- PNG -------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_from_rows(width: int, height: int, rows: Iterable[bytes], level: int, *, alpha: bool = False) -> bytes:
    """An RGB8 (or RGBA8) PNG from `height` rows of 3*width (4*width) bytes each (filter type 0 on every row)."""
    compressor = zlib.compressobj(level)
    parts = [compressor.compress(b"\x00" + row) for row in rows]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def png_bytes(width: int, height: int, rgb: RGB | Callable[[int, int], RGB]) -> bytes:
    """A valid RGB8 PNG filled with one colour, or coloured by rgb(x, y) (y = 0 is the top row)."""
    if width < 1 or height < 1:
        raise ValueError(f"PNG size must be positive, got {width}x{height}")
    if callable(rgb):
        pixel = rgb
        rows: Iterable[bytes] = (bytes(channel for x in range(width) for channel in pixel(x, y)) for y in range(height))
    else:
        row = bytes(rgb) * width
        rows = (row for _ in range(height))
    return _png_from_rows(width, height, rows, level=6)


def rgba_png_bytes(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """A valid RGBA8 PNG from `height` rows of 4*width bytes each (y = 0 is the top row)."""
    return _png_from_rows(width, height, rows, level=9, alpha=True)


def _periodic_png(size: int, period: int, pixel: Callable[[int, int], RGB]) -> bytes:
    """A size x size PNG of a pattern repeating every `period` pixels both ways.

    Only period² pixels are computed and rows are built by bytes multiplication, so a 4096² texture
    costs little more than its zlib pass (level 1).
    """
    period = min(period, size)
    repeats, rest = divmod(size, period)
    distinct = []
    for y in range(period):
        unit = bytes(channel for x in range(period) for channel in pixel(x, y))
        distinct.append(unit * repeats + unit[: 3 * rest])
    return _png_from_rows(size, size, (distinct[y % period] for y in range(size)), level=1)


# --- glTF binary container -------------------------------------------------------------------------


def _le_bytes(values: array[Any]) -> bytes:
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _glb_prefix(doc: dict[str, Any], bin_length: int) -> bytes:
    """GLB header, JSON chunk (space padded) and the header of a BIN chunk of bin_length bytes."""
    text = json.dumps(doc, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + bin_length
    return (
        struct.pack("<4sII", b"glTF", 2, total)
        + struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", bin_length, b"BIN\x00")
    )


def _new_doc() -> dict[str, Any]:
    return {
        "asset": {"version": "2.0", "generator": "Meshy sandbox"},
        "scene": 0,
        "scenes": [{"nodes": []}],
        "nodes": [],
        "meshes": [],
        "buffers": [],
        "bufferViews": [],
        "accessors": [],
    }


@dataclass
class _Glb:
    """A glTF document with one binary buffer, packed as GLB by `pack`."""

    doc: dict[str, Any] = field(default_factory=_new_doc)
    data: bytearray = field(default_factory=bytearray)

    def _add(self, key: str, item: dict[str, Any]) -> int:
        items = self.doc.setdefault(key, [])
        items.append(item)
        return len(items) - 1

    def view(self, payload: bytes, target: int | None = None) -> int:
        self.data.extend(bytes(-len(self.data) % 4))
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(payload)}
        if target is not None:
            view["target"] = target
        self.data.extend(payload)
        return self._add("bufferViews", view)

    def accessor(self, values: array[Any], kind: str, target: int | None = None, bounds: bool = False) -> int:
        width = _COMPONENTS[kind]
        accessor: dict[str, Any] = {
            "bufferView": self.view(_le_bytes(values), target),
            "componentType": _COMPONENT_TYPES[values.typecode],
            "count": len(values) // width,
            "type": kind,
        }
        if bounds:
            accessor["min"] = [min(values[i::width]) for i in range(width)]
            accessor["max"] = [max(values[i::width]) for i in range(width)]
        return self._add("accessors", accessor)

    def texture(self, png: bytes, name: str) -> int:
        if "samplers" not in self.doc:
            self.doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 10497}]
        image = self._add("images", {"name": name, "mimeType": "image/png", "bufferView": self.view(png)})
        return self._add("textures", {"sampler": 0, "source": image})

    def material(self, name: str, base: bytes, metal_rough: bytes | None, normal: bytes | None) -> int:
        """A material with a base colour texture and, when given, metallic-roughness and normal maps."""
        pbr: dict[str, Any] = {"baseColorTexture": {"index": self.texture(base, f"{name}_basecolor")}}
        material: dict[str, Any] = {"name": name, "pbrMetallicRoughness": pbr}
        if metal_rough is None:
            pbr.update(metallicFactor=0.0, roughnessFactor=0.6)
        else:
            pbr["metallicRoughnessTexture"] = {"index": self.texture(metal_rough, f"{name}_metallic_roughness")}
        if normal is not None:
            material["normalTexture"] = {"index": self.texture(normal, f"{name}_normal")}
        return self._add("materials", material)

    def mesh(self, name: str, mesh: _Mesh, material: int) -> int:
        attributes = {
            "POSITION": self.accessor(mesh.positions, "VEC3", _ARRAY_BUFFER, bounds=True),
            "NORMAL": self.accessor(mesh.normals, "VEC3", _ARRAY_BUFFER),
            "TEXCOORD_0": self.accessor(mesh.uvs, "VEC2", _ARRAY_BUFFER),
        }
        if mesh.joints:
            attributes["JOINTS_0"] = self.accessor(mesh.joints, "VEC4", _ARRAY_BUFFER)
            attributes["WEIGHTS_0"] = self.accessor(mesh.weights, "VEC4", _ARRAY_BUFFER)
        indices = array("H" if mesh.vertex_count <= 0xFFFF else "I", mesh.indices)
        primitive = {
            "attributes": attributes,
            "indices": self.accessor(indices, "SCALAR", _ELEMENT_ARRAY_BUFFER),
            "material": material,
            "mode": 4,
        }
        return self._add("meshes", {"name": name, "primitives": [primitive]})

    def node(self, node: dict[str, Any], root: bool = True) -> int:
        index = self._add("nodes", node)
        if root:
            self.doc["scenes"][0]["nodes"].append(index)
        return index

    def pack(self) -> bytes:
        self.data.extend(bytes(-len(self.data) % 4))
        self.doc["buffers"] = [{"byteLength": len(self.data)}]
        return _glb_prefix(self.doc, len(self.data)) + bytes(self.data)


# --- meshes ----------------------------------------------------------------------------------------


@dataclass
class _Mesh:
    """Triangle mesh data; joints/weights stay empty for unskinned meshes."""

    positions: array[float] = field(default_factory=lambda: array("f"))
    normals: array[float] = field(default_factory=lambda: array("f"))
    uvs: array[float] = field(default_factory=lambda: array("f"))
    joints: array[int] = field(default_factory=lambda: array("B"))
    weights: array[float] = field(default_factory=lambda: array("f"))
    indices: array[int] = field(default_factory=lambda: array("I"))

    @property
    def vertex_count(self) -> int:
        return len(self.positions) // 3

    def vertex(self, position: Sequence[float], normal: Sequence[float], uv: tuple[float, float]) -> int:
        self.positions.extend(position)
        self.normals.extend(normal)
        self.uvs.extend(uv)
        return self.vertex_count - 1

    def triangle(self, a: int, b: int, c: int) -> None:
        self.indices.extend((a, b, c))


def _lathe(mesh: _Mesh, profile: Sequence[tuple[float, float]], segments: int) -> None:
    """Revolve (radius, height) points around +Y; ends at radius 0 become poles.

    The surface faces the side to the right of the profile's direction in the (radius, height) plane,
    so a profile going up the outside of a vase and back down its inside gives a closed, outward skin.
    U goes around from the front (+Z) towards +X; V runs down the profile (V = 0 at its end).
    """
    last = len(profile) - 1
    starts = []
    for i, (radius, height) in enumerate(profile):
        r0, y0 = profile[max(i - 1, 0)]
        r1, y1 = profile[min(i + 1, last)]
        length = math.hypot(r1 - r0, y1 - y0)
        normal_r, normal_y = (y1 - y0) / length, (r0 - r1) / length
        pole = radius == 0.0 and i in (0, last)
        starts.append(mesh.vertex_count)
        for j in range(segments if pole else segments + 1):
            u = (j + 0.5 if pole else j) / segments
            s, c = math.sin(2 * math.pi * u), math.cos(2 * math.pi * u)
            mesh.vertex((radius * s, height, radius * c), (normal_r * s, normal_y, normal_r * c), (u, 1 - i / last))
    for i in range(last):
        low, high = starts[i], starts[i + 1]
        for j in range(segments):
            a, b, c, d = low + j, low + j + 1, high + j + 1, high + j
            if i == 0 and profile[0][0] == 0.0:
                mesh.triangle(a, c, d)
            elif i + 1 == last and profile[last][0] == 0.0:
                mesh.triangle(a, b, d)
            else:
                mesh.triangle(a, b, c)
                mesh.triangle(a, c, d)


# --- textured object: a glazed vase -------------------------------------------------------------------

_VASE_SEGMENTS = 32
_TEXTURE_PX = 128


def _vase_radius(height: float) -> float:
    """Outer radius of the vase: a round belly narrowing to a neck, flaring at the lip."""
    belly = 0.17 * math.sin(math.pi * min(height / 0.8, 1.0)) ** 2
    return 0.1 + belly + 0.05 * max(0.0, height - 0.82) / 0.18


def _vase_profile() -> list[tuple[float, float]]:
    outside = [(_vase_radius(k / 16), k / 16) for k in range(17)]
    inside = [(_vase_radius(k / 8) - 0.02, k / 8) for k in range(8, 0, -1)]
    return [(0.0, 0.0), (0.06, 0.0), *outside, *inside, (0.0, 0.04)]


def _vase_band(x: int, y: int) -> tuple[str, float]:
    """Which decoration a texel belongs to: its name, and a 0..1 position across that band."""
    s = 1 - (y + 0.5) / _TEXTURE_PX  # profile position, 0 at the outer bottom
    zigzag = 0.44 + 0.04 * abs((x * 8 / _TEXTURE_PX) % 2 - 1)
    bands = (("lines", 0.33, 0.36), ("lines", 0.55, 0.58), ("gold", 0.62, 0.64))
    for name, low, high in bands:
        if low <= s < high:
            return name, (s - low) / (high - low)
    if 0.36 <= s < 0.55 and abs(s - zigzag) < 0.02:
        return "zigzag", 0.5
    return ("inside", 0.5) if s > 0.72 else ("clay", 0.5)


def _vase_color(x: int, y: int) -> RGB:
    colors = {
        "lines": (30, 24, 20),
        "gold": (212, 175, 55),
        "zigzag": (236, 220, 190),
        "inside": (120, 60, 35),
        "clay": (184, 94, 52),
    }
    return colors[_vase_band(x, y)[0]]


def _vase_metal_rough(x: int, y: int) -> RGB:
    band = _vase_band(x, y)[0]
    roughness = {"gold": 64, "lines": 90, "zigzag": 110}.get(band, 190)
    return (255, roughness, 255 if band == "gold" else 0)


def _vase_normal(x: int, y: int) -> RGB:
    """Shallow grooves across the painted lines and the gold band; flat elsewhere."""
    band, across = _vase_band(x, y)
    if band not in ("lines", "gold"):
        return _FLAT_NORMAL
    tilt = round(40 * math.cos(math.pi * across))
    return (128, 128 + tilt, round(math.sqrt(max(0, 127**2 - tilt**2))) + 128)


@functools.cache
def vase_mesh() -> _Mesh:
    """The vase's geometry (shared, read only): every file format and the thumbnails are made from it."""
    mesh = _Mesh()
    _lathe(mesh, _vase_profile(), _VASE_SEGMENTS)
    return mesh


@functools.cache
def vase_base_color_texels() -> tuple[tuple[RGB, ...], ...]:
    """The vase's base colour texture as rows of texels, top row first (as in its PNG and glTF's UVs)."""
    return tuple(tuple(_vase_color(x, y) for x in range(_TEXTURE_PX)) for y in range(_TEXTURE_PX))


@functools.cache
def textured_glb(pbr: bool = True) -> bytes:
    """A glazed vase (~1.7k triangles) with a base colour texture, plus metallic-roughness and normal maps if pbr."""
    mesh = vase_mesh()
    glb = _Glb()
    size = _TEXTURE_PX
    material = glb.material(
        "Vase",
        png_bytes(size, size, _vase_color),
        png_bytes(size, size, _vase_metal_rough) if pbr else None,
        png_bytes(size, size, _vase_normal) if pbr else None,
    )
    glb.node({"name": "Vase", "mesh": glb.mesh("Vase", mesh, material)})
    return glb.pack()


# --- rigged character -------------------------------------------------------------------------------

# (joint, parent, rest position in metres); the character's left side is +X since it faces +Z.
_LEFT_JOINTS: tuple[tuple[str, str, Vec3], ...] = (
    ("LeftUpperArm", "Chest", (0.18, 1.40, 0.0)),
    ("LeftLowerArm", "LeftUpperArm", (0.44, 1.40, 0.0)),
    ("LeftHand", "LeftLowerArm", (0.68, 1.40, 0.0)),
    ("LeftUpperLeg", "Hips", (0.10, 0.90, 0.0)),
    ("LeftLowerLeg", "LeftUpperLeg", (0.10, 0.50, 0.0)),
    ("LeftFoot", "LeftLowerLeg", (0.10, 0.09, 0.0)),
)
_CENTRE_JOINTS: tuple[tuple[str, str | None, Vec3], ...] = (
    ("Hips", None, (0.0, 0.95, 0.0)),
    ("Spine", "Hips", (0.0, 1.07, 0.0)),
    ("Chest", "Spine", (0.0, 1.25, 0.0)),
    ("Neck", "Chest", (0.0, 1.45, 0.0)),
    ("Head", "Neck", (0.0, 1.55, 0.0)),
)


def _mirror_name(name: str) -> str:
    return "Right" + name[4:] if name.startswith("Left") else name


def _joints() -> list[tuple[str, str | None, Vec3]]:
    right = [(_mirror_name(name), _mirror_name(parent), (-x, y, z)) for name, parent, (x, y, z) in _LEFT_JOINTS]
    return [*_CENTRE_JOINTS, *_LEFT_JOINTS, *right]


# Texture bands (top, bottom) in V of the character's base colour atlas.
_BANDS = {
    "head": (0.0, 0.25),
    "skin": (0.25, 0.5),
    "shirt": (0.5, 0.75),
    "trousers": (0.75, 0.875),
    "shoes": (0.875, 1.0),
}
_BAND_MARGIN = 2 / _TEXTURE_PX


@dataclass(frozen=True)
class _Part:
    """A box along `axis` (0 x, 1 y, 2 z), cut into rings; `keys` are (coordinate on the axis, joint)
    in increasing order, and skin weights blend linearly between neighbouring keys."""

    band: str
    axis: int
    centre: Vec3
    half: Vec3
    rings: int
    keys: tuple[tuple[float, str], ...]

    def mirrored(self) -> _Part:
        (x, y, z), flip = self.centre, self.axis == 0
        keys = tuple((-c if flip else c, _mirror_name(j)) for c, j in self.keys)
        return _Part(self.band, self.axis, (-x, y, z), self.half, self.rings, tuple(sorted(keys)))


_CENTRE_PARTS = (
    _Part("trousers", 1, (0.0, 0.92, 0.0), (0.16, 0.08, 0.095), 1, ((0.95, "Hips"),)),
    _Part("shirt", 1, (0.0, 1.235, 0.0), (0.17, 0.235, 0.10), 5, ((1.0, "Hips"), (1.12, "Spine"), (1.32, "Chest"))),
    _Part("skin", 1, (0.0, 1.50, 0.0), (0.05, 0.03, 0.05), 1, ((1.47, "Chest"), (1.53, "Neck"))),
    _Part("head", 1, (0.0, 1.65, 0.01), (0.10, 0.12, 0.11), 2, ((1.6, "Head"),)),
)
_LEFT_PARTS = (
    _Part(
        "shirt",
        0,
        (0.42, 1.40, 0.0),
        (0.26, 0.05, 0.05),
        8,
        ((0.17, "Chest"), (0.24, "LeftUpperArm"), (0.40, "LeftUpperArm"), (0.48, "LeftLowerArm")),
    ),
    _Part("skin", 0, (0.75, 1.40, 0.0), (0.07, 0.03, 0.045), 2, ((0.68, "LeftLowerArm"), (0.72, "LeftHand"))),
    _Part(
        "trousers",
        1,
        (0.10, 0.515, 0.0),
        (0.07, 0.415, 0.075),
        8,
        ((0.44, "LeftLowerLeg"), (0.56, "LeftUpperLeg"), (0.86, "LeftUpperLeg"), (0.95, "Hips")),
    ),
    _Part("shoes", 2, (0.10, 0.05, 0.04), (0.06, 0.05, 0.12), 2, ((0.0, "LeftFoot"),)),
)


def _blend(keys: Sequence[tuple[float, str]], t: float) -> list[tuple[str, float]]:
    """Joint weights at coordinate t: the two nearest keys, linearly blended, summing to 1."""
    if t <= keys[0][0]:
        return [(keys[0][1], 1.0)]
    for (c0, j0), (c1, j1) in itertools.pairwise(keys):
        if t <= c1:
            w = (t - c0) / (c1 - c0)
            return [(j0, 1.0)] if j0 == j1 else [(j0, 1.0 - w), (j1, w)]
    return [(keys[-1][1], 1.0)]


def _add_part(mesh: _Mesh, part: _Part, joint_index: dict[str, int]) -> None:
    """Four side faces cut into rings plus two caps, each side with its own normals; U across the
    sides (0..0.8, the first side faces +b) and caps (0.8..1), V inside the part's texture band."""
    a, b, c = part.axis, (part.axis + 1) % 3, (part.axis + 2) % 3
    top, bottom = _BANDS[part.band]
    v_top, v_span = top + _BAND_MARGIN, bottom - top - 2 * _BAND_MARGIN
    low, high = part.centre[a] - part.half[a], part.centre[a] + part.half[a]
    corners = [(1, -1), (1, 1), (-1, 1), (-1, -1)]  # counter-clockwise around +a in the (b, c) plane

    def point(t: float, corner: tuple[int, int]) -> list[float]:
        p = [0.0, 0.0, 0.0]
        p[a], p[b], p[c] = t, part.centre[b] + corner[0] * part.half[b], part.centre[c] + corner[1] * part.half[c]
        return p

    def skin(t: float) -> None:
        blend = _blend(part.keys, t) + [("", 0.0)] * 2
        mesh.joints.extend(joint_index.get(name, 0) for name, _ in blend[:2])
        mesh.joints.extend((0, 0))
        mesh.weights.extend([weight for _, weight in blend[:2]] + [0.0, 0.0])

    for side in range(4):
        corner0, corner1 = corners[side], corners[(side + 1) % 4]
        normal = [0.0, 0.0, 0.0]
        normal[b if side % 2 == 0 else c] = 1.0 if side < 2 else -1.0
        first = mesh.vertex_count
        for ring in range(part.rings + 1):
            t = low + (high - low) * ring / part.rings
            v = v_top + v_span * (1 - ring / part.rings)
            for corner, u in ((corner0, side * 0.2), (corner1, side * 0.2 + 0.2)):
                mesh.vertex(point(t, corner), normal, (u, v))
                skin(t)
        for ring in range(part.rings):
            p = first + 2 * ring
            mesh.triangle(p, p + 1, p + 3)
            mesh.triangle(p, p + 3, p + 2)
    for t, sign, u0 in ((high, 1.0, 0.8), (low, -1.0, 0.9)):
        normal = [0.0, 0.0, 0.0]
        normal[a] = sign
        order = corners if sign > 0 else corners[::-1]
        first = mesh.vertex_count
        for corner in order:
            uv = (u0 + 0.05 + 0.04 * corner[0], v_top + v_span * (0.5 + 0.4 * corner[1]))
            mesh.vertex(point(t, corner), normal, uv)
            skin(t)
        mesh.triangle(first, first + 1, first + 2)
        mesh.triangle(first, first + 2, first + 3)


def _character_color(x: int, y: int) -> RGB:
    """The character atlas: a face (eyes, mouth, hair) in the head band, then plain clothes bands."""
    u, v = (x + 0.5) / _TEXTURE_PX, (y + 0.5) / _TEXTURE_PX
    band = next(name for name, (top, bottom) in _BANDS.items() if top <= v < bottom)
    colors = {
        "skin": (224, 172, 140),
        "shirt": (46, 98, 172),
        "trousers": (52, 54, 74),
        "shoes": (92, 52, 30),
    }
    if band != "head":
        return colors[band]
    top, bottom = _BANDS["head"]
    h = 1 - (v - top - _BAND_MARGIN) / (bottom - top - 2 * _BAND_MARGIN)  # 0 chin .. 1 crown
    hairline = 0.85 if u < 0.2 else 0.35 if 0.4 <= u < 0.6 else 0.75  # front, back, sides
    if 0.8 <= u < 0.9 or (u < 0.8 and h > hairline):  # the crown cap, or above the hairline
        return (70, 45, 28)
    if u < 0.2 and 0.52 < h < 0.64 and (abs(u - 0.06) < 0.012 or abs(u - 0.14) < 0.012):
        return (30, 30, 40)
    if u < 0.2 and 0.22 < h < 0.28 and 0.07 < u < 0.13:
        return (150, 60, 60)
    return colors["skin"]


def _inverse_bind(position: Vec3) -> list[float]:
    x, y, z = position
    return [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, -x, -y, -z, 1.0]


def _character_glb() -> _Glb:
    """The rigged character in T-pose, as a builder (animations may still be added)."""
    joints = _joints()
    joint_index = {name: i for i, (name, _, _) in enumerate(joints)}
    mesh = _Mesh()
    for part in _CENTRE_PARTS + _LEFT_PARTS + tuple(p.mirrored() for p in _LEFT_PARTS):
        _add_part(mesh, part, joint_index)
    glb = _Glb()
    material = glb.material("Character", png_bytes(_TEXTURE_PX, _TEXTURE_PX, _character_color), None, None)
    mesh_index = glb.mesh("Character", mesh, material)
    glb.node({"name": "Character", "mesh": mesh_index, "skin": 0})
    nodes = {}
    for name, parent, position in joints:
        offset = (
            [p - q for p, q in zip(position, joints[joint_index[parent]][2], strict=True)] if parent else list(position)
        )
        nodes[name] = glb.node({"name": name, "translation": offset}, root=parent is None)
        if parent:
            glb.doc["nodes"][nodes[parent]].setdefault("children", []).append(nodes[name])
    matrices = array("f", [value for _, _, position in joints for value in _inverse_bind(position)])
    glb.doc["skins"] = [
        {
            "name": "Armature",
            "joints": [nodes[name] for name, _, _ in joints],
            "skeleton": nodes["Hips"],
            "inverseBindMatrices": glb.accessor(matrices, "MAT4"),
        }
    ]
    return glb


@functools.lru_cache(maxsize=1)
def rigged_character_glb() -> bytes:
    """A skinned humanoid (17 joints, one textured mesh) in T-pose, facing +Z, 1.77 m tall."""
    return _character_glb().pack()


# --- animation --------------------------------------------------------------------------------------

_FPS = 30
_GAITS = {"walking": (1, 0.45), "running": (2, 0.8)}


def _gait(name: str) -> tuple[int, float]:
    """(strides per 1 s loop, swing in radians); unknown names get a deterministic variation."""
    if name in _GAITS:
        return _GAITS[name]
    digest = zlib.crc32(name.encode("utf-8"))
    return 1 + digest % 3, 0.3 + (digest >> 8) % 50 / 100


def _axis_angle(axis: int, angle: float) -> Quat:
    q = [0.0, 0.0, 0.0, math.cos(angle / 2)]
    q[axis] = math.sin(angle / 2)
    return q[0], q[1], q[2], q[3]


def _mul(p: Quat, q: Quat) -> Quat:
    """Quaternion product p*q (x, y, z, w): rotate by q, then by p."""
    px, py, pz, pw = p
    qx, qy, qz, qw = q
    return (
        pw * qx + px * qw + py * qz - pz * qy,
        pw * qy - px * qz + py * qw + pz * qx,
        pw * qz + px * qy - py * qx + pz * qw,
        pw * qw - px * qx - py * qy - pz * qz,
    )


def _pose(phase: float, swing: float) -> dict[str, Quat]:
    """Joint rotations at a gait phase: legs swing about X (forward = +Z), arms hang and swing opposite."""
    x, y, z = 0, 1, 2
    stride = math.sin(phase)
    pose = {"Spine": _axis_angle(y, 0.15 * swing * stride)}
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        leg_phase = phase if side == "Left" else phase + math.pi
        pose[f"{side}UpperLeg"] = _axis_angle(x, -swing * math.sin(leg_phase))
        pose[f"{side}LowerLeg"] = _axis_angle(x, 0.6 * swing * (1 - math.cos(leg_phase)))
        hang = _axis_angle(z, -sign * 1.2)
        pose[f"{side}UpperArm"] = _mul(_axis_angle(x, 0.6 * swing * math.sin(leg_phase)), hang)
        pose[f"{side}LowerArm"] = _axis_angle(y, -sign * (0.3 + 0.2 * swing * (1 + math.sin(leg_phase))))
    return pose


@functools.lru_cache(maxsize=32)
def animation_glb(*names: str) -> bytes:
    """The rigged character with one looping 1 s clip per name, called by it (rotation channels, LINEAR, 30 fps).

    Several names make one file with several clips, as Meshy's ``action_ids`` does.
    """
    glb = _character_glb()
    node_index = {node["name"]: i for i, node in enumerate(glb.doc["nodes"])}
    frames = [i / _FPS for i in range(_FPS + 1)]
    times = glb.accessor(array("f", frames), "SCALAR", bounds=True)
    animations = []
    for name in names:
        strides, swing = _gait(name)
        poses = [_pose(2 * math.pi * strides * t, swing) for t in frames]
        samplers: list[dict[str, Any]] = []
        channels: list[dict[str, Any]] = []
        for joint in poses[0]:
            rotations = glb.accessor(array("f", [c for pose in poses for c in pose[joint]]), "VEC4")
            channels.append({"sampler": len(samplers), "target": {"node": node_index[joint], "path": "rotation"}})
            samplers.append({"input": times, "output": rotations, "interpolation": "LINEAR"})
        animations.append({"name": name, "samplers": samplers, "channels": channels})
    glb.doc["animations"] = animations
    return glb.pack()


# --- dense benchmark mesh ------------------------------------------------------------------------------


def _checker(tile: int, a: RGB, b: RGB) -> Callable[[int, int], RGB]:
    return lambda x, y: a if (x // tile + y // tile) % 2 == 0 else b


def _groove_normal(tile: int) -> Callable[[int, int], RGB]:
    """Flat normals with bevelled grooves along tile borders."""

    def pixel(x: int, y: int) -> RGB:
        tx, ty = x % tile, y % tile
        dx = -40 if tx < 2 else 40 if tx >= tile - 2 else 0
        dy = -40 if ty < 2 else 40 if ty >= tile - 2 else 0
        return (128 + dx, 128 + dy, 128 + round(math.sqrt(127**2 - dx * dx - dy * dy)))

    return pixel


@functools.lru_cache(maxsize=2)
def dense_glb(triangles: int, texture_px: int) -> bytes:
    """A UV sphere of about `triangles` triangles with texture_px² PBR textures (checker pattern)."""
    if triangles < 1 or texture_px < 1:
        raise ValueError("triangles and texture_px must be positive")
    k = max(1, round(math.sqrt(triangles / 4)))  # k + 1 bands of 2k segments: 4k² triangles
    profile = [(math.sin(math.pi * i / (k + 1)), -math.cos(math.pi * i / (k + 1))) for i in range(k + 2)]
    profile[0], profile[-1] = (0.0, -1.0), (0.0, 1.0)
    mesh = _Mesh()
    _lathe(mesh, profile, 2 * k)
    tile = max(1, texture_px // 16)
    glb = _Glb()
    material = glb.material(
        "Dense",
        _periodic_png(texture_px, 2 * tile, _checker(tile, (200, 200, 205), (60, 120, 190))),
        _periodic_png(texture_px, 2 * tile, _checker(tile, (255, 80, 255), (255, 200, 0))),
        _periodic_png(texture_px, tile, _groove_normal(tile)),
    )
    glb.node({"name": "Dense", "mesh": glb.mesh("Dense", mesh, material)})
    return glb.pack()


# --- large streamed GLB ---------------------------------------------------------------------------------

_LARGE_GEOMETRY_CAP = 8 << 20  # geometry beyond this would only slow imports; the rest is unused buffer space
_GRID_STEP = 1 / 64  # powers of two keep grid coordinates exact in float32
_HEIGHT_STEP = 1 / 256


@dataclass(frozen=True)
class _LargeLayout:
    side: int  # vertices per grid side
    heights_x: tuple[float, ...]
    heights_z: tuple[float, ...]
    prefix: bytes  # GLB header, JSON chunk, BIN chunk header
    geometry_bytes: int
    bin_bytes: int

    @property
    def total(self) -> int:
        return len(self.prefix) + self.bin_bytes


def _heights(side: int, frequency: float) -> tuple[float, ...]:
    return tuple(round(0.3 * math.sin(i * frequency) / _HEIGHT_STEP) * _HEIGHT_STEP for i in range(side))


def _large_doc(layout_side: int, hx: Sequence[float], hz: Sequence[float], bin_bytes: int) -> dict[str, Any]:
    n = layout_side
    half = (n - 1) * _GRID_STEP / 2
    position_bytes, index_count = 12 * n * n, 6 * (n - 1) ** 2
    doc = _new_doc()
    doc.update(
        nodes=[{"name": "LargeTerrain", "mesh": 0}],
        scenes=[{"nodes": [0]}],
        materials=[{"name": "Terrain", "pbrMetallicRoughness": {"baseColorFactor": [0.35, 0.55, 0.3, 1.0]}}],
        meshes=[{"name": "LargeTerrain", "primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        buffers=[{"byteLength": bin_bytes}],
        bufferViews=[
            {"buffer": 0, "byteOffset": 0, "byteLength": position_bytes, "target": _ARRAY_BUFFER},
            {"buffer": 0, "byteOffset": position_bytes, "byteLength": 4 * index_count, "target": _ELEMENT_ARRAY_BUFFER},
        ],
        accessors=[
            {
                "bufferView": 0,
                "componentType": _FLOAT,
                "count": n * n,
                "type": "VEC3",
                "min": [-half, min(hx) + min(hz), -half],
                "max": [half, max(hx) + max(hz), half],
            },
            {"bufferView": 1, "componentType": _UNSIGNED_INT, "count": index_count, "type": "SCALAR"},
        ],
    )
    return doc


@functools.lru_cache(maxsize=16)
def _large_layout(target_bytes: int) -> _LargeLayout:
    """A height-field grid of at most _LARGE_GEOMETRY_CAP bytes, its buffer extended with zeros to the target."""
    if target_bytes < 1:
        raise ValueError(f"target size must be positive, got {target_bytes}")
    budget = min(target_bytes - 4096, _LARGE_GEOMETRY_CAP)
    n = max(2, math.isqrt(max(budget, 0) // 36))  # 12 bytes per vertex + 24 per grid square
    hx, hz = _heights(n, 0.07), _heights(n, 0.045)
    geometry = 12 * n * n + 24 * (n - 1) ** 2
    bin_bytes = geometry
    for _ in range(3):  # the JSON states the buffer length, so settle the length's digits
        json_bytes = len(_glb_prefix(_large_doc(n, hx, hz, bin_bytes), 0)) - 28
        wanted = target_bytes - 28 - json_bytes
        bin_bytes = max(geometry, wanted + (-wanted % 4))
    prefix = _glb_prefix(_large_doc(n, hx, hz, bin_bytes), bin_bytes)
    return _LargeLayout(n, hx, hz, prefix, geometry, bin_bytes)


def _large_pieces(layout: _LargeLayout, chunk: int) -> Iterator[bytes]:
    """The GLB in pieces of at most ~one grid row or `chunk` bytes."""
    n = layout.side
    yield layout.prefix
    half = (n - 1) * _GRID_STEP / 2
    xs = [i * _GRID_STEP - half for i in range(n)]
    for j in range(n):
        z, hz = j * _GRID_STEP - half, layout.heights_z[j]
        yield _le_bytes(array("f", [c for x, hx in zip(xs, layout.heights_x, strict=True) for c in (x, hx + hz, z)]))
    for j in range(n - 1):
        row: list[int] = []
        for i in range(j * n, j * n + n - 1):
            row += (i, i + n, i + 1, i + 1, i + n, i + n + 1)
        yield _le_bytes(array("I", row))
    padding = layout.bin_bytes - layout.geometry_bytes
    zeros = bytes(min(chunk, padding))
    while padding > 0:
        yield zeros[: min(padding, len(zeros))]
        padding -= len(zeros)


def large_glb_size(target_bytes: int) -> int:
    """The exact length of what large_glb_stream(target_bytes) produces (for Content-Length)."""
    return _large_layout(target_bytes).total


def large_glb_stream(target_bytes: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A valid GLB of about target_bytes (a terrain grid plus unused buffer space), in pieces of exactly
    `chunk` bytes but the last, using O(chunk) memory."""
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    pending = bytearray()
    for piece in _large_pieces(_large_layout(target_bytes), chunk):
        pending += piece
        while len(pending) >= chunk:
            yield bytes(pending[:chunk])
            del pending[:chunk]
    if pending:
        yield bytes(pending)
