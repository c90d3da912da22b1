"""Edit a GLB's JSON description for a test: a variant of a sandbox model without writing a new generator."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any


def rewrite_glb(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Copy a GLB with its JSON chunk changed by ``edit`` (binary chunk kept as is)."""
    data = source.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_length])
    edit(document)
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    rest = data[20 + json_length :]
    body = struct.pack("<I4s", len(text), b"JSON") + text + rest
    target.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return target
