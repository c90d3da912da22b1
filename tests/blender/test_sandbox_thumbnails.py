"""The sandbox's thumbnails are pictures of its vase: decoded by real Blender, looked at pixel by pixel."""

from __future__ import annotations

from pathlib import Path

import bpy
import sandbox_thumbnails

SIDE = sandbox_thumbnails.SIDE
Pixel = tuple[int, int, int, int]


def decoded(png: bytes, path: Path) -> list[list[Pixel]]:
    """The PNG as Blender reads it: rows of RGBA bytes, top row first."""
    path.write_bytes(png)
    image = bpy.data.images.load(str(path))
    try:
        assert tuple(image.size) == (SIDE, SIDE)
        values = [round(value * 255) for value in image.pixels[:]]
    finally:
        bpy.data.images.remove(image)
    pixels = [tuple(values[at : at + 4]) for at in range(0, len(values), 4)]
    return [pixels[row * SIDE : (row + 1) * SIDE] for row in reversed(range(SIDE))]  # Blender: bottom row first


def covered(rows: list[list[Pixel]], ground: Pixel) -> list[int]:
    """How many pixels of each row are the model, not its ground."""
    return [sum(pixel != ground for pixel in row) for row in rows]


def test_the_thumbnail_is_the_vase_painted_and_shaded_on_its_ground(tmp_path: Path) -> None:
    rows = decoded(sandbox_thumbnails.thumbnail("front"), tmp_path / "thumbnail.png")
    ground = sandbox_thumbnails.BACKGROUND
    assert {rows[0][0], rows[0][-1], rows[-1][0], rows[-1][-1]} == {ground}
    assert rows[SIDE // 2][SIDE // 2] != ground
    assert len({pixel for row in rows for pixel in row}) > 50, "painted bands and Lambert shading, not a flat fill"
    assert all(pixel[3] == 255 for row in rows for pixel in row)

    widths = covered(rows, ground)
    drawn = [row for row, width in enumerate(widths) if width]
    top, bottom = drawn[0], drawn[-1]
    assert 0.7 * SIDE <= bottom - top <= 0.9 * SIDE, "the vase fills the picture's height, with a margin"
    lip = max(range(top, top + (bottom - top) // 4), key=lambda row: widths[row])
    belly = max(range(lip, bottom), key=lambda row: widths[row])
    neck = min(range(lip, belly), key=lambda row: widths[row])
    assert lip < neck < belly < bottom, "a flared lip, a neck, then the belly, from the top down"
    assert widths[neck] < widths[lip] < 0.7 * widths[belly]


def test_the_alpha_thumbnail_is_the_same_vase_on_nothing(tmp_path: Path) -> None:
    opaque = decoded(sandbox_thumbnails.thumbnail("front"), tmp_path / "thumbnail.png")
    clear = decoded(sandbox_thumbnails.thumbnail("front", alpha=True), tmp_path / "alpha_thumbnail.png")
    assert {clear[0][0], clear[0][-1], clear[-1][0], clear[-1][-1]} == {(0, 0, 0, 0)}
    assert clear[SIDE // 2][SIDE // 2][3] == 255
    assert {pixel[3] for row in clear for pixel in row} == {0, 255}
    for opaque_row, clear_row in zip(opaque, clear, strict=True):
        for shown, cut_out in zip(opaque_row, clear_row, strict=True):
            assert cut_out == (shown if cut_out[3] else (0, 0, 0, 0))
    assert covered(opaque, sandbox_thumbnails.BACKGROUND) == covered(clear, (0, 0, 0, 0))


def test_the_four_views_show_the_vase_from_four_sides_under_one_lamp(tmp_path: Path) -> None:
    views = {
        view: decoded(sandbox_thumbnails.thumbnail(view), tmp_path / f"{view}.png") for view in sandbox_thumbnails.VIEWS
    }
    assert list(views) == ["front", "right", "back", "left"]
    pictures = [tuple(pixel for row in rows for pixel in row) for rows in views.values()]
    assert len(set(pictures)) == 4
    ground = sandbox_thumbnails.BACKGROUND
    outlines = {view: covered(rows, ground) for view, rows in views.items()}
    for outline in outlines.values():  # a turned vase looks the same from every side, give or take a pixel
        assert all(abs(width - front) <= 2 for width, front in zip(outline, outlines["front"], strict=True))

    def brightness(rows: list[list[Pixel]]) -> float:
        model = [pixel for row in rows for pixel in row if pixel != ground]
        return sum(sum(pixel[:3]) for pixel in model) / len(model)

    # The lamp stands in front of the vase, on its right: the front is lit best, the back least.
    front, right, back, left = (brightness(rows) for rows in views.values())
    assert front > right > back and front > left > back
