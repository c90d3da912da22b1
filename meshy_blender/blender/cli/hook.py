"""``blender -c meshy …``: registered when the add-on is enabled, loaded when it runs.

Registering the command at enable must not import it: :mod:`.command` brings in the
argument parser, the job specs and, through them, most of the job layer. Blender calls
:func:`_execute` only when someone runs the command, and only then is it imported.
"""

from __future__ import annotations

from typing import Any, cast

COMMAND_ID = "meshy"

_handle: Any = None


def _execute(argv: list[str]) -> int:
    from .command import main

    return main(argv)


def register_command() -> None:
    """Make ``blender -c meshy …`` available (called by the add-on's register)."""
    global _handle
    import bpy

    if _handle is None:
        _handle = cast(Any, bpy.utils).register_cli_command(COMMAND_ID, _execute)


def unregister_command() -> None:
    global _handle
    import bpy

    if _handle is not None:
        bpy.utils.unregister_cli_command(_handle)
        _handle = None
