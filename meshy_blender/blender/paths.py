"""Where the add-on keeps its files: never inside the add-on folder.

As an extension the add-on gets a user directory from Blender
(``bpy.utils.extension_path_user``); a legacy add-on install or a test importing the
package directly falls back to Blender's user data directory, or the temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy

#: The add-on's package: ``meshy_blender`` or, as an extension, ``bl_ext.<repo>.meshy_blender``.
PACKAGE = (__package__ or "meshy_blender").rsplit(".", 1)[0]

JOBS_DIR = "jobs"
LIBRARY_DIR = "library"
#: As ``library.store.LIBRARY_DIR_VARIABLE``; not imported from there, so enabling the add-on loads no library code.
LIBRARY_DIR_VARIABLE = "MESHY_LIBRARY_DIR"
LEGACY_LEDGER_NAME = "jobs.json"
CREDENTIALS_NAME = "credentials.json"


def is_extension() -> bool:
    return PACKAGE.startswith("bl_ext.")


def user_dir(sub: str = "", *, create: bool = True) -> Path:
    """The add-on's writable directory, or ``sub`` inside it; created unless ``create`` is False."""
    if is_extension():
        found = bpy.utils.extension_path_user(PACKAGE, path=sub, create=create)
        if found:
            return Path(found)
    base = bpy.utils.user_resource("DATAFILES", path="meshy_blender") or str(Path(_temporary_dir(), "meshy"))
    path = Path(base, sub) if sub else Path(base)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def default_download_dir(*, create: bool = True) -> Path:
    return user_dir("downloads", create=create)


def jobs_dir() -> Path:
    """The job store (:mod:`..jobs.store`): with the add-on's data, so it survives a change of downloads folder.

    Not created here: the store makes it on its first write, and says so when it cannot.
    """
    return user_dir(create=False) / JOBS_DIR


def library_dir() -> Path:
    """The artist's library (:mod:`..library`): beside the job store, so a job's removal leaves it.

    ``MESHY_LIBRARY_DIR`` overrides it. Not created here: the library makes it on its first entry.
    """
    chosen = os.environ.get(LIBRARY_DIR_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    installed = None if is_extension() else _installed_extension_dir()
    return (installed or user_dir(create=False)) / LIBRARY_DIR


def _installed_extension_dir() -> Path | None:
    """The user folder of the add-on installed as an extension, seen from ``python -m meshy_blender``.

    The command run with the pip ``bpy`` module is not the extension, but it shares the
    artist's library with the sidebar when the extension is installed for this user.
    """
    base = bpy.utils.user_resource("EXTENSIONS", path=".user")
    found = sorted(Path(base).glob(f"*/{PACKAGE}")) if base else []
    return next((path for path in found if path.is_dir()), None)


def legacy_ledger_path() -> Path:
    """Version 0.1's single-file ledger, split into the store's records on first use."""
    return user_dir(create=False) / LEGACY_LEDGER_NAME


def credentials_path() -> Path:
    """The file holding the API key (see :mod:`.credentials`); its folder is made when the key is saved."""
    return user_dir(create=False) / CREDENTIALS_NAME


def _temporary_dir() -> str:
    import tempfile  # only when Blender gives no user folder (rare): not at enable

    return tempfile.gettempdir()
