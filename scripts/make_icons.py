"""Draw the add-on's icons: one geometry, written both as SVG (the source) and as PNG (what Blender loads).

    python scripts/make_icons.py [--out-dir meshy_blender/icons]

Each icon is a list of filled paths on a 128 × 128 canvas. The SVG gets them as ``<path>``
elements (non-zero fill rule); the PNG is rasterised here from the very same coordinates,
in pure Python (exact horizontal coverage, 8 sub-rows per pixel, straight alpha), so the
two never disagree and no drawing program or dependency is needed. The icons live inside
the package (``meshy_blender/icons/``) because the package is what becomes the extension zip.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sandbox_assets

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "meshy_blender" / "icons"
SIZE = 128
SUB_ROWS = 8
CIRCLE_SEGMENTS = 96

Point = tuple[float, float]
Subpath = list[Point]


@dataclass(frozen=True)
class Shape:
    """Filled paths in one colour; a hole is a subpath wound the other way (clockwise on screen)."""

    colour: str  # "#rrggbb"
    subpaths: tuple[Subpath, ...]
    opacity: float = 1.0


# -- geometry ---------------------------------------------------------------------------------


def _area(points: Sequence[Point]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)) / 2


def solid(points: Sequence[Point]) -> Subpath:
    """``points`` wound as a filled area (counter-clockwise on screen, y down: positive area)."""
    rounded = [(round(x, 2), round(y, 2)) for x, y in points]
    return rounded if _area(rounded) >= 0 else rounded[::-1]


def hole(points: Sequence[Point]) -> Subpath:
    return solid(points)[::-1]


def circle(cx: float, cy: float, r: float) -> list[Point]:
    return [
        (cx + r * math.cos(2 * math.pi * i / CIRCLE_SEGMENTS), cy + r * math.sin(2 * math.pi * i / CIRCLE_SEGMENTS))
        for i in range(CIRCLE_SEGMENTS)
    ]


def rounded_rect(x: float, y: float, w: float, h: float, r: float) -> list[Point]:
    points: list[Point] = []
    corners = ((x + w - r, y + r, -90), (x + w - r, y + h - r, 0), (x + r, y + h - r, 90), (x + r, y + r, 180))
    for cx, cy, start in corners:
        for step in range(7):
            angle = math.radians(start + 15 * step)
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def stroke(points: Sequence[Point], width: float) -> list[Subpath]:
    """A polyline of ``width`` with round joints and caps, as filled subpaths (they union)."""
    half = width / 2
    parts = [solid(circle(x, y, half)) for x, y in points]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        nx, ny = -(y1 - y0) / length * half, (x1 - x0) / length * half
        parts.append(solid([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]))
    return parts


def arc(centre: Point, r: float, span_deg: tuple[float, float], steps: int = 48) -> list[Point]:
    cx, cy = centre
    start_deg, end_deg = span_deg
    return [
        (cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)))
        for a in (start_deg + (end_deg - start_deg) * i / steps for i in range(steps + 1))
    ]


def arc_band(centre: Point, r: float, width: float, span_deg: tuple[float, float]) -> list[Subpath]:
    """A thick arc with round caps (one outline, not a circle per step as ``stroke`` would make)."""
    outer, inner = arc(centre, r + width / 2, span_deg), arc(centre, r - width / 2, span_deg)
    ends = arc(centre, r, span_deg, steps=1)
    return [solid(outer + inner[::-1]), *(solid(circle(x, y, width / 2)) for x, y in ends)]


def ring(cx: float, cy: float, r: float, width: float) -> tuple[Subpath, Subpath]:
    return solid(circle(cx, cy, r + width / 2)), hole(circle(cx, cy, r - width / 2))


# -- the icons --------------------------------------------------------------------------------

CUBE_TOP, CUBE_LEFT, CUBE_RIGHT = "#c8f26a", "#5fcf8f", "#2e8f7a"
WHITE = "#ffffff"


def cube(cx: float, cy: float, s: float) -> list[Shape]:
    """An isometric cube of half-width ``s`` centred at (cx, cy): the add-on's mark."""
    h = s * 0.58
    top = [(cx, cy - 2 * h), (cx + s, cy - h), (cx, cy), (cx - s, cy - h)]
    left = [(cx - s, cy - h), (cx, cy), (cx, cy + 2 * h), (cx - s, cy + h)]
    right = [(cx, cy), (cx + s, cy - h), (cx + s, cy + h), (cx, cy + 2 * h)]
    return [Shape(CUBE_TOP, (solid(top),)), Shape(CUBE_LEFT, (solid(left),)), Shape(CUBE_RIGHT, (solid(right),))]


def logo() -> list[Shape]:
    """The sidebar tab's mark: a three-tone cube with a generation spark."""
    spark = [(100, 14), (104, 26), (116, 30), (104, 34), (100, 46), (96, 34), (84, 30), (96, 26)]
    return [*cube(60, 72, 46), Shape(CUBE_TOP, (solid(spark),))]


def placeholder() -> list[Shape]:
    """A library entry without a thumbnail: a wireframe cube on a dark tile."""
    cx, cy, s = 64, 68, 36
    h = s * 0.58
    outline = [
        (cx, cy - 2 * h),
        (cx + s, cy - h),
        (cx + s, cy + h),
        (cx, cy + 2 * h),
        (cx - s, cy + h),
        (cx - s, cy - h),
    ]
    inner = [(cx - s, cy - h), (cx, cy), (cx + s, cy - h)]
    return [
        Shape("#30343d", (solid(rounded_rect(4, 4, 120, 120, 18)),)),
        Shape(
            "#8a909c", (*stroke([*outline, outline[0]], 7), *stroke(inner, 7), *stroke([(cx, cy), (cx, cy + 2 * h)], 7))
        ),
    ]


def queued() -> list[Shape]:
    """Waiting its turn: a clock."""
    return [
        Shape("#a4adbf", ring(64, 64, 46, 14)),
        Shape("#a4adbf", tuple(stroke([(64, 34), (64, 64), (86, 76)], 12))),
    ]


def running() -> list[Shape]:
    """Being made on Meshy: an open circle turning, with a dot."""
    return [
        Shape("#4aa3ff", tuple(arc_band((64, 64), 44, 16, (-60, 210)))),
        Shape("#4aa3ff", (solid(circle(64, 64, 14)),)),
    ]


def ready() -> list[Shape]:
    """Downloaded, waiting to be imported: an arrow into a tray."""
    return [
        Shape("#f2b63c", tuple(stroke([(20, 84), (20, 108), (108, 108), (108, 84)], 14))),
        Shape("#f2b63c", (*stroke([(64, 18), (64, 84)], 14), *stroke([(38, 60), (64, 86), (90, 60)], 14))),
    ]


def done() -> list[Shape]:
    """Finished and in the scene: a tick on a green disc."""
    return [
        Shape("#3fb96b", (solid(circle(64, 64, 58)),)),
        Shape(WHITE, tuple(stroke([(36, 66), (56, 86), (94, 44)], 14))),
    ]


def failed() -> list[Shape]:
    """Failed or canceled: an exclamation mark on a red disc."""
    return [
        Shape("#e0524a", (solid(circle(64, 64, 58)),)),
        Shape(WHITE, (*stroke([(64, 30), (64, 72)], 14), solid(circle(64, 94, 9)))),
    ]


def canceled() -> list[Shape]:
    """Stopped by the artist: a cross on a grey disc."""
    return [
        Shape("#8a909c", (solid(circle(64, 64, 58)),)),
        Shape(WHITE, (*stroke([(42, 42), (86, 86)], 14), *stroke([(86, 42), (42, 86)], 14))),
    ]


ICONS = {
    "logo": logo,
    "placeholder": placeholder,
    "queued": queued,
    "running": running,
    "ready": ready,
    "done": done,
    "failed": failed,
    "canceled": canceled,
}


# -- output -----------------------------------------------------------------------------------


def svg(shapes: Iterable[Shape]) -> str:
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">']
    for shape in shapes:
        data = " ".join("M" + " L".join(f"{x:g} {y:g}" for x, y in sub) + " Z" for sub in shape.subpaths)
        opacity = f' fill-opacity="{shape.opacity:g}"' if shape.opacity < 1 else ""
        lines.append(f'  <path fill="{shape.colour}"{opacity} fill-rule="nonzero" d="{data}"/>')
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def coverage(shape: Shape) -> list[float]:
    """The fraction of each pixel the shape covers (non-zero winding), row by row."""
    cover = [0.0] * (SIZE * SIZE)
    edges = [
        (x0, y0, x1, y1)
        for sub in shape.subpaths
        for (x0, y0), (x1, y1) in zip(sub, [*sub[1:], sub[0]], strict=True)
        if y0 != y1
    ]
    top = max(0, int(min(min(e[1], e[3]) for e in edges)))
    bottom = min(SIZE, int(max(max(e[1], e[3]) for e in edges)) + 1)
    weight = 1.0 / SUB_ROWS
    for py in range(top, bottom):
        for sub_row in range(SUB_ROWS):
            y = py + (sub_row + 0.5) / SUB_ROWS
            crossings = sorted(
                (x0 + (y - y0) * (x1 - x0) / (y1 - y0), 1 if y1 > y0 else -1)
                for x0, y0, x1, y1 in edges
                if min(y0, y1) <= y < max(y0, y1)
            )
            winding = 0
            for (x, direction), (x_next, _) in itertools.pairwise(crossings):
                winding += direction
                if winding:
                    _add_span(cover, py * SIZE, max(0.0, x), min(float(SIZE), x_next), weight)
    return cover


def _add_span(cover: list[float], row: int, left: float, right: float, weight: float) -> None:
    for px in range(int(left), min(SIZE, math.ceil(right))):
        overlap = min(right, px + 1) - max(left, px)
        if overlap > 0:
            cover[row + px] += weight * overlap


def pixels(shapes: Iterable[Shape]) -> list[bytes]:
    """RGBA8 rows: the shapes composited in order ("over"), on a transparent canvas."""
    canvas = [(0.0, 0.0, 0.0, 0.0)] * (SIZE * SIZE)  # premultiplied
    for shape in shapes:
        r, g, b = (int(shape.colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        for index, amount in enumerate(coverage(shape)):
            alpha = min(1.0, amount) * shape.opacity
            if alpha > 0:
                cr, cg, cb, ca = canvas[index]
                keep = 1 - alpha
                canvas[index] = (r * alpha + cr * keep, g * alpha + cg * keep, b * alpha + cb * keep, alpha + ca * keep)
    rows = []
    for y in range(SIZE):
        row = bytearray()
        for cr, cg, cb, ca in canvas[y * SIZE : (y + 1) * SIZE]:
            straight = (cr / ca, cg / ca, cb / ca) if ca else (0.0, 0.0, 0.0)
            row += bytes(round(channel * 255) for channel in (*straight, ca))
        rows.append(bytes(row))
    return rows


def write_icons(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in ICONS.items():
        shapes = draw()
        (out_dir / f"{name}.svg").write_text(svg(shapes), encoding="utf-8")
        (out_dir / f"{name}.png").write_bytes(sandbox_assets.rgba_png_bytes(SIZE, SIZE, pixels(shapes)))
        written += [out_dir / f"{name}.svg", out_dir / f"{name}.png"]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="where the SVG and PNG files go")
    options = parser.parse_args(argv)
    for path in write_icons(options.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
