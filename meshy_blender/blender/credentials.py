"""Where the API key is kept: a small file of its own, never a .blend.

Blender saves add-on preferences into ``userpref.blend``, and a copied or shared
``userpref.blend`` would carry the key along. So the "API key" preference stores
nothing itself (see :mod:`.preferences`): it reads and writes this file in the
add-on's user folder instead. The file holds ``{"api_key": "…"}``, readable by its
owner only (mode 0600), and is replaced atomically (temporary file, fsync,
``os.replace``), so it is never half written. Errors name the file, never its content.

Plain Python (no bpy): Blender may read properties from other threads, so every access
takes a lock, and a read costs one ``stat`` while the file is unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
_FIELD = "api_key"

#: What identifies one version of the file: (inode, size, modification time in ns).
_Signature = tuple[int, int, int]


class CredentialStore:
    """The key in one file; ``load`` is cheap while the file is unchanged."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        #: Why the last save failed ("" after a successful one); the key then lives in memory only.
        self.error = ""
        self._lock = threading.Lock()
        self._cached: tuple[_Signature, str] | None = None
        self._unsaved: str | None = None

    def load(self) -> str:
        """The stored key, or "" when there is none (a missing or unreadable file)."""
        with self._lock:
            if self._unsaved is not None:
                return self._unsaved
            try:
                info = self.path.stat()
            except OSError:
                return ""
            signature = (info.st_ino, info.st_size, info.st_mtime_ns)
            if self._cached is None or self._cached[0] != signature:
                self._cached = (signature, self._read())
            return self._cached[1]

    def save(self, key: str) -> None:
        """Store ``key`` (stripped); an empty key removes the file.

        When the file cannot be written the key is kept in memory for this session and
        :attr:`error` says why; the next successful save clears it.
        """
        key = key.strip()
        with self._lock:
            self._cached = None
            try:
                if key:
                    self._write(key)
                else:
                    self.path.unlink(missing_ok=True)
            except OSError as error:
                self.error = f"Could not save the API key in {self.path}: {error.strerror or type(error).__name__}"
                log.error("%s", self.error)
                self._unsaved = key
                return
            self.error = ""
            self._unsaved = None

    def _read(self) -> str:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            log.warning("Ignoring the unreadable Meshy credentials file %s", self.path)
            return ""
        key = data.get(_FIELD) if isinstance(data, dict) else None
        return key.strip() if isinstance(key, str) else ""

    def _write(self, key: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".credentials-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                os.chmod(temporary, FILE_MODE)  # mkstemp's default too; said explicitly as the promise
                json.dump({_FIELD: key}, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


@functools.lru_cache(maxsize=4)
def store_at(path: Path) -> CredentialStore:
    """The one store of the file ``path`` (so its cache and its last error are shared)."""
    return CredentialStore(path)
