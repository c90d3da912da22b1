"""Helpers for the API tests: small real sample files made in code, and a sandbox client."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from meshy_blender.api import MeshyClient, RetryPolicy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# SOI, a JFIF APP0 segment, EOI: what a JPEG's bytes begin and end with.
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of a red rectangle."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


#: Over the 20 MB cap on an input image.
HUGE_IMAGE_BYTES = 25 * 1024 * 1024


def write_bad_images(folder: Path) -> None:
    """Image inputs, good and bad, in ``folder``: good, not an image, cut short, too big, a folder."""
    (folder / "good.png").write_bytes(png_bytes())
    (folder / "notes.png").write_text("not an image, whatever the name says")
    (folder / "cut.png").write_bytes(png_bytes()[:20])  # the signature and half a header
    with (folder / "huge.png").open("wb") as huge:  # sparse: quick to make, over the cap
        huge.write(png_bytes())
        huge.truncate(HUGE_IMAGE_BYTES)
    (folder / "folder.png").mkdir()


def glb_bytes() -> bytes:
    """A minimal valid binary glTF 2.0 file (one JSON chunk)."""
    document = json.dumps({"asset": {"version": "2.0"}}).encode()
    document += b" " * (-len(document) % 4)
    body = struct.pack("<I4s", len(document), b"JSON") + document
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def quick_retry(**changes: Any) -> RetryPolicy:
    """A retry policy for tests: the same decisions, delays of milliseconds."""
    settings: dict[str, Any] = {"attempts": 4, "base_delay": 0.01, "max_delay": 0.05, "max_total_delay": 5.0}
    return RetryPolicy(**{**settings, **changes})


def sandbox_client(base_url: str, key: str, **changes: Any) -> MeshyClient:
    """A client for the sandbox with short timeouts and quick retries."""
    settings: dict[str, Any] = {"timeout": (2.0, 5.0), "retry": quick_retry()}
    return MeshyClient(key, base_url, **{**settings, **changes})
