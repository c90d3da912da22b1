"""Take the model out of a downloaded ZIP, safely: a GLB, or an FBX with its textures.

The whole archive is checked before anything is written: a member with an absolute
path, a ``..`` step, a symbolic link or encryption, too many members, too many bytes
once unpacked, or a suspicious compression ratio (a zip bomb) rejects the archive.

- A GLB holds everything: only it is unpacked, to a path chosen here
  (``dest_dir / "model.glb"``), never one taken from the archive, and checked to be a
  complete GLB.
- An FBX (the web app sends animated models so) names its textures as files beside it:
  every member is unpacked under ``dest_dir / "archive"``, each to its checked relative
  path, and the FBX is imported from there. What the FBX may read is bounded by that
  folder (see ``blender.scene.model_formats``).

The web app's ``format`` says which to prefer when the archive holds both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..api.errors import DownloadError
from ..api.glb_safety import check_glb

MAX_MEMBERS = 256
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: Uncompressed/compressed size above which a member counts as a zip bomb. Textures are
#: already compressed and geometry compresses a few times; bombs reach 1000:1.
MAX_RATIO = 100
#: Members smaller than this are not held to the ratio (a short text file of spaces is fine).
RATIO_EXEMPT_BYTES = 1024 * 1024
COPY_CHUNK = 1024 * 1024
MODEL_NAME = "model.glb"
#: The folder an FBX archive is unpacked into, under the download's folder.
ARCHIVE_DIR = "archive"
MODEL_SUFFIXES = (".glb", ".fbx")


@dataclass(frozen=True)
class Limits:
    max_members: int = MAX_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: float = MAX_RATIO


@dataclass(frozen=True)
class ExtractedModel:
    path: Path
    #: Set when the choice was not obvious, e.g. the archive held several GLB files.
    note: str = ""


def _check_member(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.filename
    if any(ord(ch) < 32 for ch in name):
        raise DownloadError("The ZIP archive has a file name with control characters; refused.")
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(parts[0]) >= 2 and parts[0][1] == ":"):
        raise DownloadError(f"The ZIP archive has an absolute path ({name!r}); refused.")
    if ".." in parts:
        raise DownloadError(f"The ZIP archive has a path leaving its folder ({name!r}); refused.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DownloadError(f"The ZIP archive holds a symbolic link ({name!r}); refused.")
    if info.flag_bits & 0x1:
        raise DownloadError("The ZIP archive is encrypted; refused.")
    if info.file_size > RATIO_EXEMPT_BYTES and info.file_size > limits.max_ratio * max(1, info.compress_size):
        raise DownloadError(f"The ZIP archive looks like a zip bomb ({name!r} expands too much); refused.")


def _relative(info: zipfile.ZipInfo) -> PurePosixPath:
    return PurePosixPath(info.filename.replace("\\", "/"))


def _is_model(info: zipfile.ZipInfo, suffix: str) -> bool:
    path = _relative(info)
    hidden = path.name.startswith("._") or "__MACOSX" in path.parts  # macOS resource forks
    return not info.is_dir() and path.suffix.lower() == suffix and not hidden


def _choose(members: list[zipfile.ZipInfo], preferred: str) -> tuple[zipfile.ZipInfo, str]:
    """The model to import: of the preferred kind ("glb"/"fbx") when the archive has one, else the other."""
    order = sorted(MODEL_SUFFIXES, key=lambda suffix: suffix != f".{preferred}")  # stable: the rest keep their order
    for suffix in order:
        models = [info for info in members if _is_model(info, suffix)]
        if models:
            chosen = max(models, key=lambda info: info.file_size)
            if len(models) == 1:
                return chosen, ""
            kind = suffix[1:].upper()
            return chosen, f"The archive held {len(models)} {kind} files; imported the largest, {chosen.filename!r}."
    raise DownloadError("The ZIP archive holds no .glb or .fbx model.")


def _unpack_all(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path) -> None:
    """Every member to its own (checked) relative path under ``folder``."""
    for info in members:
        if info.is_dir():
            continue
        target = folder.joinpath(*_relative(info).parts)
        if not target.resolve().is_relative_to(folder.resolve()):
            raise DownloadError(f"The ZIP archive has a path leaving its folder ({info.filename!r}); refused.")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("xb") as out, archive.open(info) as source:
            shutil.copyfileobj(source, out, COPY_CHUNK)


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    try:
        # zipfile yields at most the declared size and then checks the CRC, so a member
        # whose data overruns its declared (and checked) size fails here as damaged.
        with os.fdopen(handle, "wb") as out, archive.open(info) as source:
            shutil.copyfileobj(source, out, COPY_CHUNK)
        check_glb(temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def extract_glb(archive_path: Path, dest_dir: Path, limits: Limits | None = None) -> ExtractedModel:
    """:func:`extract_model` preferring a GLB (the archive of a web app that sends no ``format``)."""
    return extract_model(archive_path, dest_dir, limits)


def extract_model(
    archive_path: Path, dest_dir: Path, limits: Limits | None = None, preferred: str = "glb"
) -> ExtractedModel:
    """Check the ZIP at ``archive_path`` and unpack its model: a GLB to ``dest_dir / "model.glb"``, an FBX
    with everything beside it under ``dest_dir / "archive"``.

    Raises DownloadError naming the problem. With several models of a kind the largest is
    taken and :attr:`ExtractedModel.note` says so.
    """
    limits = limits or Limits()
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            if len(members) > limits.max_members:
                raise DownloadError(f"The ZIP archive has more than {limits.max_members} files; refused.")
            for info in members:
                _check_member(info, limits)
            if sum(info.file_size for info in members) > limits.max_total_bytes:
                raise DownloadError("The ZIP archive unpacks to more than the size limit; refused.")
            chosen, note = _choose(members, preferred)
            dest_dir.mkdir(parents=True, exist_ok=True)
            if _relative(chosen).suffix.lower() == ".fbx":
                folder = dest_dir / ARCHIVE_DIR
                _unpack_all(archive, members, folder)
                target = folder.joinpath(*_relative(chosen).parts)
            else:
                target = dest_dir / MODEL_NAME
                _copy(archive, chosen, target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError) as error:
        raise DownloadError(f"The ZIP archive is damaged or unsupported ({error}).") from error
    return ExtractedModel(target, note)
