"""Where the add-on keeps its files: never inside the add-on folder.

As an extension the add-on gets a user directory from Blender
(``bpy.utils.extension_path_user``); a legacy add-on install or a test importing the
package directly falls back to Blender's user data directory, or the temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import bpy

from ..jobs.model import Job

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
    base = bpy.utils.user_resource("DATAFILES", path="meshy_blender") or str(Path(tempfile.gettempdir(), "meshy"))
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


class JobInputs:
    """A job's folder for inputs made in Blender (exported selection, saved images), created on first use.

    The manager downloads a job's results into ``download_dir / job.id``: inputs written
    here end up next to the results they produced once :meth:`claim` gives the job this
    folder's id. :meth:`discard` removes the folder when the request was refused.
    """

    def __init__(self, download_dir: Path) -> None:
        self.job_id = uuid.uuid4().hex[:12]
        self.folder = download_dir / self.job_id
        self.used = False

    def path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.used = True
        return self.folder / name

    def write(self, name: str, data: bytes) -> Path:
        target = self.path(name)
        target.write_bytes(data)
        return target

    def claim(self, job: Job) -> Job:
        if self.used:
            job.id = self.job_id
        return job

    def discard(self) -> None:
        if self.used:
            shutil.rmtree(self.folder, ignore_errors=True)
