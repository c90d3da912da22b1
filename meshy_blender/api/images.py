"""Concept images: Meshy's text-to-image and image-to-image, the cheap step before paying for 3D.

What the two endpoints take (Meshy's docs, ``api/text-to-image`` and ``api/image-to-image``):
``ai_model`` (required), ``prompt`` (required), ``generate_multi_view`` (four views of one
subject, for Multi-image to 3D), ``aspect_ratio`` and ``pose_mode`` (text-to-image only;
Meshy refuses ``aspect_ratio`` with ``generate_multi_view``), ``reference_image_urls``
(image-to-image: 1 to :data:`MAX_REFERENCE_IMAGES`). The result's pictures are the task's
``image_urls``; a finished task chains into Image or Multi-image to 3D by ``input_task_id``.

The image models, their default and their prices are the model catalogue's
(``data/models.json``, endpoints ``text-to-image`` and ``image-to-image``); a model id it
does not know is sent as given (Meshy decides).

Downloaded pictures are untrusted bytes: :func:`check_png` reads a PNG's signature, its
header and its chunk layout up to ``IEND`` (no pixel is decoded) before anything shows it.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from .errors import DownloadError
from .limits import ASPECT_RATIOS, GPT_IMAGE_RATIOS, MODELS_ENDPOINT

GPT_IMAGE_PREFIX = "gpt-image"
IMAGE_POSE_MODES = ("a-pose", "t-pose", "")
MULTI_VIEW_COUNT = 4

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A concept picture is about 1–2K pixels a side; these bound what a hostile server can make us keep or show.
MAX_PNG_BYTES = 64 * 1024 * 1024
MAX_PNG_SIDE = 8192


def default_model() -> str:
    """The image model used when none is chosen."""
    from . import catalogue  # read when asked: the sidebar's properties import this module at enable

    return catalogue.load().default_model(MODELS_ENDPOINT)


def model_ids() -> list[str]:
    """The image models a menu offers, in Meshy's order (retired ones left out)."""
    from . import catalogue  # read when asked: the sidebar's properties import this module at enable

    return [model.id for model in catalogue.load().offered(MODELS_ENDPOINT)]


def draws_ratio(model: str, ratio: str) -> bool:
    """Whether ``model`` draws pictures of ``ratio`` (the GPT Image ratios need a GPT Image model)."""
    return ratio in ASPECT_RATIOS or (ratio in GPT_IMAGE_RATIOS and model.startswith(GPT_IMAGE_PREFIX))


def _bad(path: Path, why: str) -> DownloadError:
    return DownloadError(f"The picture Meshy sent ({path.name}) is not a usable PNG: {why}.")


def check_png(path: Path, *, max_bytes: int = MAX_PNG_BYTES) -> tuple[int, int]:
    """The width and height of the PNG at ``path``, or DownloadError saying what is wrong.

    Checks the size on disk, the signature, the ``IHDR`` header (first, 13 bytes, valid
    CRC, sides from 1 to :data:`MAX_PNG_SIDE`) and that the chunks run whole to ``IEND``.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise _bad(path, f"it is {size / 1024**2:.1f} MB, more than the {max_bytes / 1024**2:.0f} MB allowed")
    with path.open("rb") as file:
        if file.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise _bad(path, "it does not start with the PNG signature")
        width = height = 0
        first = True
        while True:
            head = file.read(8)
            if len(head) < 8:
                raise _bad(path, "it ends before its IEND chunk (cut short?)")
            length, kind = struct.unpack(">I4s", head)
            if length > size:
                raise _bad(path, f"a {kind!r} chunk claims {length} bytes, more than the file holds")
            if first:
                if kind != b"IHDR" or length != 13:
                    raise _bad(path, "its first chunk is not a 13-byte IHDR header")
                data = file.read(13)
                crc = file.read(4)
                if len(crc) < 4 or zlib.crc32(head[4:] + data) != struct.unpack(">I", crc)[0]:
                    raise _bad(path, "its header is damaged (CRC mismatch)")
                width, height = struct.unpack(">II", data[:8])
                if not (1 <= width <= MAX_PNG_SIDE and 1 <= height <= MAX_PNG_SIDE):
                    raise _bad(path, f"it claims {width} × {height} pixels (at most {MAX_PNG_SIDE} a side)")
                first = False
                continue
            if kind == b"IEND":
                return width, height
            file.seek(length + 4, 1)


def is_valid_png(path: Path) -> bool:
    """Whether ``path`` is a whole, plausible PNG (a file kept from an earlier download)."""
    try:
        check_png(path)
    except (DownloadError, OSError):
        return False
    return True
