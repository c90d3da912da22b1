"""Thumbnails of the sandbox's model: its vase drawn by a small software rasteriser, as PNGs.

Meshy's ``thumbnail_url`` (and ``alpha_thumbnail_url``, ``multi_view_thumbnail_urls``) show the
generated model; so do the sandbox's, so the library's grid and the README's picture show what was
imported. The vase's own geometry and base colour texture (``sandbox_assets``) are projected
orthographically from a camera a little above it, hidden surfaces removed by a z-buffer, and lit by
Lambert's law: a lamp fixed in the scene (so the four views differ) plus a dim one at the camera.

Standard library only, like the sandbox (it also runs in Blender's Python). Each picture is drawn
once, then kept in memory: the sandbox serves thousands of tasks in benchmarks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sandbox_assets

#: The four sides of ``multi_view_thumbnails``, in Meshy's order, by the camera's angle around +Y
#: (the model faces +Z, its right side is -X).
VIEWS = {"front": 0.0, "right": -90.0, "back": 180.0, "left": 90.0}
SIDE = 256
ELEVATION = math.radians(20.0)
FILL = 0.8  # the share of the picture the model's larger side spans
BACKGROUND = (236, 232, 224, 255)
CLEAR = (0, 0, 0, 0)
AMBIENT, LAMP, HEADLIGHT = 0.15, 0.85, 0.3
GAMMA = 2.2
LAMP_DIRECTION = (-0.45, 0.75, 0.5)  # towards the lamp: above, in front of the model, on its right


def _unit(vector: Sequence[float]) -> tuple[float, float, float]:
    length = math.sqrt(sum(c * c for c in vector))
    return vector[0] / length, vector[1] / length, vector[2] / length


def _camera(yaw_degrees: float) -> tuple[tuple[float, float, float], ...]:
    """The rows of the rotation taking world space to the camera's (it looks down its -Z)."""
    yaw = math.radians(yaw_degrees)
    sy, cy, se, ce = math.sin(yaw), math.cos(yaw), math.sin(ELEVATION), math.cos(ELEVATION)
    return (cy, 0.0, -sy), (-se * sy, ce, -se * cy), (ce * sy, se, ce * cy)


def thumbnail(view: str = "front", alpha: bool = False) -> bytes:
    """The vase seen from ``view`` as a SIDE x SIDE RGBA PNG; on a transparent background if ``alpha``."""
    return _png(view, alpha)


@functools.cache
def _png(view: str, alpha: bool) -> bytes:
    picture = bytearray(bytes(CLEAR if alpha else BACKGROUND) * (SIDE * SIDE))
    for pixel, colour in _shaded(view):
        picture[4 * pixel : 4 * pixel + 4] = colour
    stride = 4 * SIDE
    return sandbox_assets.rgba_png_bytes(
        SIDE, SIDE, (bytes(picture[at : at + stride]) for at in range(0, len(picture), stride))
    )


Plane = tuple[float, float, float]  # value = base + dx * x + dy * y on the screen


def _plane(values: Sequence[float], x: Sequence[float], y: Sequence[float], area: float) -> Plane:
    """The screen-linear plane through a triangle's three corner values (linear: the camera is orthographic)."""
    (v0, v1, v2), (x0, x1, x2), (y0, y1, y2) = values, x, y
    dx = ((v1 - v0) * (y2 - y0) - (v2 - v0) * (y1 - y0)) / area
    dy = ((v2 - v0) * (x1 - x0) - (v1 - v0) * (x2 - x0)) / area
    return v0 - dx * x0 - dy * y0, dx, dy


@functools.cache
def _shaded(view: str) -> tuple[tuple[int, bytes], ...]:
    """Every pixel the vase covers seen from ``view``, with its RGBA colour (the same for both backgrounds)."""
    rx, ry, rz = _camera(VIEWS[view])
    mesh = sandbox_assets.vase_mesh()
    p, n, uv, ix = mesh.positions, mesh.normals, mesh.uvs, mesh.indices
    count = len(p) // 3
    xs = [rx[0] * p[3 * i] + rx[1] * p[3 * i + 1] + rx[2] * p[3 * i + 2] for i in range(count)]
    ys = [ry[0] * p[3 * i] + ry[1] * p[3 * i + 1] + ry[2] * p[3 * i + 2] for i in range(count)]
    zs = [rz[0] * p[3 * i] + rz[1] * p[3 * i + 1] + rz[2] * p[3 * i + 2] for i in range(count)]
    scale = FILL * SIDE / max(max(xs) - min(xs), max(ys) - min(ys))
    left, top = SIDE / 2 - scale * (max(xs) + min(xs)) / 2, SIDE / 2 + scale * (max(ys) + min(ys)) / 2
    sx = [left + scale * x for x in xs]
    sy = [top - scale * y for y in ys]  # pixel rows grow downwards
    lamp = _unit(LAMP_DIRECTION)
    ceiling = 255 / max(max(texel) for row in sandbox_assets.vase_base_color_texels() for texel in row)  # no overflow
    light = []
    for i in range(count):
        normal = n[3 * i], n[3 * i + 1], n[3 * i + 2]
        towards_camera = sum(a * b for a, b in zip(normal, rz, strict=True))
        towards_lamp = sum(a * b for a, b in zip(normal, lamp, strict=True))
        linear = AMBIENT + LAMP * max(towards_lamp, 0.0) + HEADLIGHT * max(towards_camera, 0.0)
        light.append(min(linear ** (1 / GAMMA), ceiling))  # sRGB texels: scaled by light^(1/2.2), lit in linear
    depth = [-math.inf] * (SIDE * SIDE)
    owner = [-1] * (SIDE * SIDE)
    planes: list[tuple[Plane, Plane, Plane]] = []  # u, v and light of each drawn triangle
    for t in range(0, len(ix), 3):
        corners = ix[t : t + 3]
        x, y = [sx[k] for k in corners], [sy[k] for k in corners]
        area = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0])
        if area > -1e-9:  # facing away (glTF's front faces turn counter-clockwise; the rows run down), or edge-on
            continue
        if _fill(depth, owner, len(planes), x, y, z=_plane([zs[k] for k in corners], x, y, area)):
            u, v, lit = ([values[k] for k in corners] for values in (uv[0::2], uv[1::2], light))
            planes.append((_plane(u, x, y, area), _plane(v, x, y, area), _plane(lit, x, y, area)))
    return tuple(_colours(owner, planes))


def _fill(
    depth: list[float], owner: list[int], index: int, x: Sequence[float], y: Sequence[float], *, z: Plane
) -> bool:
    """Z-buffer one front-facing triangle's pixels (centres inside it) as ``index``; whether it covers any."""
    edges = [(x[k], y[k], x[k - 2] - x[k], y[k - 2] - y[k]) for k in range(3)]  # clockwise on the screen
    zb, zdx, zdy = z
    drawn = False
    for row in range(max(0, math.ceil(min(y) - 0.5)), min(SIDE - 1, math.floor(max(y) - 0.5)) + 1):
        centre = row + 0.5
        low, high = 0.5, SIDE - 0.5
        for xa, ya, ex, ey in edges:  # inside: ey * (px - xa) - ex * (centre - ya) >= 0
            rest = ex * (centre - ya)
            if ey > 0:
                low = max(low, xa + rest / ey)
            elif ey < 0:
                high = min(high, xa + rest / ey)
            elif rest > 0:
                high = -1.0
        first, last = math.ceil(low - 0.5), math.floor(high - 0.5)
        if first > last:
            continue
        drawn = True
        nearest = zb + zdx * (first + 0.5) + zdy * centre
        start = row * SIDE
        for pixel in range(start + first, start + last + 1):
            if nearest > depth[pixel]:
                depth[pixel], owner[pixel] = nearest, index
            nearest += zdx
    return drawn


def _colours(owner: list[int], planes: list[tuple[Plane, Plane, Plane]]) -> Iterator[tuple[int, bytes]]:
    """Each covered pixel's texel of the base colour times its light, opaque."""
    texels = sandbox_assets.vase_base_color_texels()
    size = len(texels)
    padded = [row + row[-1:] for row in texels]  # u or v of exactly 1 reads the last texel
    table = [texel for row in (*padded, padded[-1]) for texel in row]
    for pixel, index in enumerate(owner):
        if index < 0:
            continue
        (ub, udx, udy), (vb, vdx, vdy), (lb, ldx, ldy) = planes[index]
        x, y = pixel % SIDE + 0.5, pixel // SIDE + 0.5
        u, v, lit = ub + udx * x + udy * y, vb + vdx * x + vdy * y, lb + ldx * x + ldy * y
        red, green, blue = table[int(max(v, 0.0) * size) * (size + 1) + int(max(u, 0.0) * size)]
        yield pixel, bytes((int(red * lit), int(green * lit), int(blue * lit), 255))


def _file_names(body: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Each thumbnail a task offers by file name: the front, plus the transparent one and four sides if asked."""
    names = {"thumbnail.png": ("front", False)}
    if body.get("alpha_thumbnail"):
        names["alpha_thumbnail.png"] = ("front", True)
    if body.get("multi_view_thumbnails"):
        names.update({f"thumbnail_{view}.png": (view, False) for view in VIEWS})
    return names


def pictures(body: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    """Every thumbnail PNG a SUCCEEDED model task offers, by file name; drawn when first fetched."""
    return {name: functools.partial(thumbnail, *made) for name, made in _file_names(body).items()}


def fields(body: dict[str, Any], done: bool, link: Callable[[str], str]) -> dict[str, Any]:
    """The thumbnail fields of a model task object: ``thumbnail_url``, and the asked-for ones."""
    found: dict[str, Any] = {"thumbnail_url": link("thumbnail.png") if done else ""}
    if body.get("alpha_thumbnail"):
        found["alpha_thumbnail_url"] = link("alpha_thumbnail.png") if done else ""
    if body.get("multi_view_thumbnails"):
        found["multi_view_thumbnail_urls"] = [link(f"thumbnail_{view}.png") for view in VIEWS] if done else []
    return found
