"""Blender's glTF add-on's progress lines kept out of the console while we call it; its warnings pass.

Each glTF import prints three INFO lines ("Data are loaded, start creating Blender stuff",
"Blender create Mesh node …", "glTF import finished in 0.01s"): a batch of 1,000 assets put
3,000 of them in a farm job's log around its own progress lines, and in Blender they fill the
system console. Its warnings and errors (an animation target it does not support, an image it
could not find) still pass. The add-on chooses its level from Blender's debug value (Help › Debug
Value, ``--debug-value``): when that is set, someone asked to see more, and nothing is held back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import bpy

#: The logger the glTF add-on writes to, importing and exporting (its ``io/com/debug.py``, 4.2-5.0).
GLTF_LOGGER = "glTFImporter"


class _WarningsAndWorse(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def progress_held_back() -> Iterator[None]:
    """While inside, the glTF add-on's INFO lines are dropped (unless Blender's debug value is set)."""
    if bpy.app.debug_value != 0:
        yield
        return
    logger = logging.getLogger(GLTF_LOGGER)
    held_back = _WarningsAndWorse()
    logger.addFilter(held_back)
    try:
        yield
    finally:
        logger.removeFilter(held_back)
