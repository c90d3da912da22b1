"""Counting a GLB's faces from its description, as Meshy counts them for UV Unwrap's 40,000 limit."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from meshy_blender.api.glb_faces import UnreadableModelError, count_faces, glb_description, read_description


def _glb(document: dict) -> bytes:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    return struct.pack("<4sII", b"glTF", 2, 20 + len(text)) + struct.pack("<I4s", len(text), b"JSON") + text


def _document(primitives: list[dict], nodes: list[dict] | None = None) -> dict:
    accessors = [{"count": 30}, {"count": 12}]  # 0: positions, 1: indices
    return {"accessors": accessors, "meshes": [{"primitives": primitives}], "nodes": nodes or []}


@pytest.mark.parametrize(
    ("primitive", "faces"),
    [
        ({"attributes": {"POSITION": 0}, "indices": 1}, 4),  # indexed triangles: 12 / 3
        ({"attributes": {"POSITION": 0}}, 10),  # unindexed: 30 corners / 3
        ({"attributes": {"POSITION": 0}, "indices": 1, "mode": 5}, 10),  # a strip: 12 - 2
        ({"attributes": {"POSITION": 0}, "mode": 6}, 28),  # a fan: 30 - 2
        ({"attributes": {"POSITION": 0}, "mode": 1}, 0),  # lines have no faces
        ({"attributes": {"POSITION": 7}}, 0),  # an accessor that is not there counts nothing
    ],
)
def test_faces_by_primitive_mode(primitive: dict, faces: int) -> None:
    assert count_faces(_document([primitive])) == faces


def test_a_mesh_drawn_by_two_nodes_counts_twice() -> None:
    document = _document([{"attributes": {"POSITION": 0}, "indices": 1}], nodes=[{"mesh": 0}, {"mesh": 0}, {}])
    assert count_faces(document) == 8


def test_the_description_is_read_without_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.glb"
    path.write_bytes(_glb(_document([{"attributes": {"POSITION": 0}}])) + b"\x00" * 64)
    assert count_faces(read_description(path)) == 10


@pytest.mark.parametrize("data", [b"", b"glTF", b"PK\x03\x04" + bytes(40), _glb({})[:-4] + b"{{{{"])
def test_what_is_not_a_readable_glb_says_so(data: bytes) -> None:
    with pytest.raises(UnreadableModelError):
        glb_description(data)
