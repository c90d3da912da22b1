"""The shipped icons are what scripts/make_icons.py draws: SVG sources and PNGs from one geometry."""

from __future__ import annotations

import struct
import zlib

import make_icons
import pytest


def png_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG written with filter type 0."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert (depth, colour_type) == (8, 6)
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    assert all(raw[y * stride] == 0 for y in range(height))
    return width, height, [raw[y * stride + 1 : (y + 1) * stride] for y in range(height)]


@pytest.mark.parametrize("name", list(make_icons.ICONS))
def test_shipped_svg_and_png_match_the_geometry(name: str) -> None:
    shapes = make_icons.ICONS[name]()
    svg = (make_icons.OUT_DIR / f"{name}.svg").read_text(encoding="utf-8")
    assert svg == make_icons.svg(shapes), "run scripts/make_icons.py"
    width, height, rows = png_rows((make_icons.OUT_DIR / f"{name}.png").read_bytes())
    assert (width, height) == (make_icons.SIZE, make_icons.SIZE)
    assert rows == make_icons.pixels(shapes), "run scripts/make_icons.py"


def test_icons_have_transparent_corners_and_opaque_middles() -> None:
    """Drawn on a clear canvas: Blender shows them on any theme (the placeholder is a tile of its own)."""
    for name in make_icons.ICONS:
        _, _, rows = png_rows((make_icons.OUT_DIR / f"{name}.png").read_bytes())
        middle_alpha = max(rows[y][4 * x + 3] for y in range(40, 88) for x in range(40, 88))
        assert middle_alpha == 255, name
        assert rows[0][3] == 0, name
