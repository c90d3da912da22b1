"""The add-on's loggers, made when something is first logged.

The modules that load when the add-on is enabled log only when something goes wrong;
``logging`` (with ``traceback`` and ``string``: ~4 ms) is imported for the first message,
not at every Blender start. Plain Python (no bpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


def logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, importing ``logging`` on first use."""
    import logging

    return logging.getLogger(name)
