"""Meshy's asset catalogs and the catalog file Blender reads beside a .blend (plain Python, no bpy).

An asset stores only its catalog's UUID (and a "simple name"); the catalog's path, which
the Asset Browser shows as a tree, lives in ``blender_assets.cats.txt`` at the root of an
asset library (for the Current File library: beside the .blend). Its format, from
Blender's manual: UTF-8 lines, ``#`` comments, a ``VERSION 1`` line, then one
``UUID:catalog/path:simple name`` line per catalog.

Each Meshy catalog's UUID is derived from its path (UUID 5), so every file, batch folder
and library the add-on ever writes agrees on it: an asset made on a farm shows in the
same "Meshy/Text to 3D" as one made in the sidebar. Writing a catalog file merges into
the one already there (the user's own catalogs are kept as they are), under a lock so
two processes saving into one folder lose neither's catalogs, and replaces it whole.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from ...jobs.locks import FileLock
from ...library.kinds import KIND_LABELS, PICTURE_KINDS

CATALOG_FILE = "blender_assets.cats.txt"
ROOT = "Meshy"
#: The catalog of a result whose kind has no catalog of its own.
ROOT_OTHER = "Other"
#: How long a writer waits for another process writing the same catalog file.
LOCK_WAIT_S = 10.0
_NAMESPACE = uuid.UUID("5d3f7a52-8e0b-4f39-9a54-6d1b2c0e7f41")  # fixed forever: catalog UUIDs derive from it
_HEADER = (
    "# This is an Asset Catalog Definition file for Blender.\n"
    "#\n"
    "# Empty lines and lines starting with `#` will be ignored.\n"
    "# The first non-ignored line should be the version indicator.\n"
    '# Other lines are of the format "UUID:catalog/path/for/assets:simple catalog name"\n'
    "\n"
    "VERSION 1\n"
    "\n"
)


def catalog_path(kind: str) -> str:
    """The catalog of a result of ``kind`` (a library entry kind, "text-to-3d"…): "Meshy/Text to 3D"."""
    label = KIND_LABELS.get(kind) or ROOT_OTHER
    return f"{ROOT}/{label}"


def catalog_uuid(path: str) -> str:
    """The UUID of the catalog at ``path``: the same in every file and on every machine."""
    return str(uuid.uuid5(_NAMESPACE, path))


def simple_name(path: str) -> str:
    """What Blender stores with each asset beside the UUID (and shows when the catalog file is missing)."""
    return path.replace("/", "-")


def known_catalogs() -> dict[str, str]:
    """UUID → path of every catalog Meshy assets may be in (the parent "Meshy" included).

    Concept pictures are kept in the library but never become assets: no catalog of their own.
    """
    labels = [label for kind, label in KIND_LABELS.items() if kind not in PICTURE_KINDS]
    paths = [ROOT, f"{ROOT}/{ROOT_OTHER}", *(f"{ROOT}/{label}" for label in labels)]
    return {catalog_uuid(path): path for path in paths}


def read_catalogs(folder: Path) -> dict[str, str]:
    """UUID → path of the catalogs in ``folder``'s catalog file ({} when there is none)."""
    return _parse(_text(folder / CATALOG_FILE) or "")


def _text(target: Path) -> str | None:
    try:
        return target.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _parse(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) >= 2 and not line.startswith("#"):
            found[parts[0]] = parts[1]
    return found


def write_catalogs(folder: Path, paths: Iterable[str]) -> Path:
    """Make sure ``folder``'s catalog file defines the catalogs ``paths`` (and their parents); its path.

    Lines already there stay as they are (a catalog the user renamed keeps its new path:
    assets follow the UUID); missing ones are appended. The file is replaced whole, and
    not at all when nothing is missing. Raises OSError when the folder cannot be written.

    A folder without the file (each library entry's) gets it without the lock: it is only
    ever created whole where there is none (:func:`_create`), so a writer holding the lock
    replaces only a file it read under the lock.
    """
    wanted = sorted({parent for path in paths for parent in _with_parents(path)})
    target = folder / CATALOG_FILE
    text = _text(target)
    if text is not None and _defines(_parse(text), wanted):  # the usual case after the first result
        return target
    if text is None and _create(target, _HEADER + _lines(wanted)):
        return target
    with FileLock(folder / f".{CATALOG_FILE}.lock") as lock:
        if not lock.acquire(LOCK_WAIT_S):
            raise OSError(f"{target} stayed busy for {LOCK_WAIT_S:g} s (another Blender is writing it)")
        text = _text(target)
        if text is None:
            if _create(target, _HEADER + _lines(wanted)):
                return target
            text = _text(target) or _HEADER  # made meanwhile by a writer without the lock
        present = _parse(text)
        if _defines(present, wanted):
            return target
        if not text.endswith("\n"):
            text += "\n"
        _replace(target, text + _lines([path for path in wanted if catalog_uuid(path) not in present]))
    return target


def _lines(paths: Iterable[str]) -> str:
    return "".join(f"{catalog_uuid(path)}:{path}:{simple_name(path)}\n" for path in paths)


def _defines(present: dict[str, str], wanted: Iterable[str]) -> bool:
    """Whether catalogs ``present`` (UUID → path, as read) hold every path of ``wanted``, by UUID.

    The file is replaced whole by a rename, so a read without the lock sees it whole.
    """
    return all(catalog_uuid(path) in present for path in wanted)


def _with_parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]


def _replace(target: Path, text: str) -> None:
    temporary = _written(target, text)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create(target: Path, text: str) -> bool:
    """Write ``target`` whole unless a file is there (another process made it first); whether it was written.

    A hard link of a file written aside: it appears whole, and only where there was none. False
    too where the folder has no hard links (FAT, some network shares): the caller takes the lock.
    """
    temporary = _written(target, text)
    try:
        os.link(temporary, target)
    except OSError:  # FileExistsError, or no hard links here
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _written(target: Path, text: str) -> Path:
    """``text`` in a new temporary file beside ``target``."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)
