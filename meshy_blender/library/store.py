"""The library's folder: one record and one folder per entry, shared by every Blender and command.

Layout of ``FOLDER`` (the add-on's user folder, ``library/``; see ``blender/paths.py``)::

    <id>.json        the entry's record, replaced whole (temporary file, fsync, rename)
    <id>/            its files: model.glb, walking.glb…, thumbnail.png, textures/*.png
    .locks/<id>.lock held while the entry is added or removed (see ``jobs/locks.py``)
    .staging/        files being gathered, renamed into ``<id>/`` once complete
    .index.json      a cache of the records for a reader starting cold (see below)

An entry exists once its record does: files are gathered in ``.staging`` and renamed
into place first, so a reader never sees a record whose files are half there. Adding
and removing take the entry's lock, so two processes adding the same result keep one
entry, and a process adding while another removes never leaves a record without its
folder. Different entries never wait for each other: two processes each adding 50
entries at once end with 100.

Reading takes no lock. :meth:`Library.entries` keeps every record it read with the
record's stamp (mtime and size) and re-reads only the ones that changed; while the
folder itself has not changed (its mtime, which every add, remove or rewrite moves) it
does not even look at the records, so the sidebar can ask at every redraw. A folder
changed less than ``SETTLE_NS`` ago may change again unseen (within its mtime's
resolution): its names are listed again, but at most every ``RESCAN_GAP_S`` while its
mtime shows nothing new (listing 2,000 records costs milliseconds, and the sidebar asks
several times per draw), and the reader's own index write is not taken for a change.

A reader starting cold (a new Blender, the command) would open every record: 0.15 s for
2,000 on a warm disk cache, much more on a cold one. ``.index.json`` holds each record's
data with its stamp as last read: the reader takes an entry from it when the record's
stamp still matches, and reads the record otherwise. A reader that had to read many
records writes it anew (replaced whole; the last writer wins). Nothing depends on it
being current: a stale or missing index only means more records are read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..api.errors import LocalWriteError
from ..jobs import outputs
from ..jobs.locks import FileLock
from ..jobs.store import PLAIN_ID, RecordStamp, _no_follow
from .entry import Entry

log = logging.getLogger(__name__)

#: Puts the library elsewhere (a farm's shared drive), for the sidebar and the command alike.
LIBRARY_DIR_VARIABLE = "MESHY_LIBRARY_DIR"
RECORD_VERSION = 1
RECORD_SUFFIX = ".json"
LOCKS = ".locks"
STAGING = ".staging"
#: An entry's texture maps, inside its folder.
TEXTURES = "textures"
#: Longest an add or remove waits for another process working on the same entry.
LOCK_WAIT_S = 30.0
#: A folder changed this recently may change again within its mtime's resolution: look at the records.
SETTLE_NS = 2_000_000_000
#: Inside that window, how often the folder is listed again while its mtime shows no new change.
RESCAN_GAP_S = 0.5
INDEX = ".index.json"
#: A scan that read at least this many records writes the index anew (fewer: not worth a rewrite per add).
INDEX_REWRITE_READS = 50


class Library:
    """The entries in ``folder`` (created on the first add)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        #: Moves whenever :meth:`entries` found a change (the sidebar redraws then).
        self.version = 0
        self._guard = threading.Lock()
        self._read: dict[str, tuple[RecordStamp, Entry | None]] = {}
        self._listing: tuple[Entry, ...] = ()
        self._folder_mtime: int | None = None
        #: The folder's mtime as the last listing saw it, and when (monotonic seconds); None: list at the next read.
        self._scanned: tuple[int | None, float] | None = None

    # -- reading -------------------------------------------------------------------
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, newest first. Cheap while nothing changed (one ``stat``)."""
        with self._guard:
            mtime = _mtime(self.folder)
            if (mtime is None or mtime != self._folder_mtime) and not self._listed_lately(mtime):
                seen = self._rescan(mtime)
                settled = seen is not None and time.time_ns() - seen > SETTLE_NS
                # A scan made while the folder's time was recent may have missed a change stamped with
                # the same time: trusted only once that time is past (until then, scans every RESCAN_GAP_S).
                self._folder_mtime = seen if settled else None
                self._scanned = (seen, time.monotonic())
            return self._listing

    def _listed_lately(self, mtime: int | None) -> bool:
        """Whether the last listing, less than ``RESCAN_GAP_S`` ago, saw the folder's mtime as it is now."""
        scanned = self._scanned
        return scanned is not None and scanned[0] == mtime and time.monotonic() - scanned[1] < RESCAN_GAP_S

    def find(self, *, kind: str = "", search: str = "") -> list[Entry]:
        """The entries of ``kind`` whose name, prompt or id contains ``search`` (see :meth:`Entry.matches`)."""
        return [entry for entry in self.entries() if entry.matches(kind=kind, search=search)]

    def get(self, entry_id: str) -> Entry | None:
        """The entry ``entry_id`` as on disk now, or None."""
        if not PLAIN_ID.fullmatch(entry_id):
            return None
        return self._read_record(entry_id)

    def __contains__(self, entry_id: str) -> bool:
        return PLAIN_ID.fullmatch(entry_id) is not None and self.record_path(entry_id).is_file()

    def record_path(self, entry_id: str) -> Path:
        return self.folder / f"{entry_id}{RECORD_SUFFIX}"

    def entry_folder(self, entry_id: str) -> Path:
        return self.folder / entry_id

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder beside the entries (same disk, so files are linked, not copied), removed after."""
        staging = self.folder / STAGING
        try:
            staging.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(dir=staging))
        except OSError as error:
            raise self._write_error(error) from error
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def add(self, entry: Entry, files: Mapping[str, Path], textures: Mapping[str, Path] | None = None) -> Entry:
        """Keep ``entry`` with a copy of ``files`` (by role) and ``textures`` (by map name); the entry as kept.

        An entry with that id already there is returned as it is: every result is kept
        once, however many times (and by however many processes) it is added. Sources
        are hard-linked when they are on the same disk, else copied; they stay where
        they are. LocalWriteError when the library's folder refuses the files.
        """
        if not PLAIN_ID.fullmatch(entry.id):
            raise ValueError(f"library entry id {entry.id!r} is not a plain name")
        with self._entry_lock(entry.id):
            existing = self._read_record(entry.id)
            if existing is not None:
                return existing
            with self.staging() as staging:
                try:
                    entry.files = _gather(files, staging, "")
                    entry.textures = _gather(textures or {}, staging, TEXTURES)
                    target = self.entry_folder(entry.id)
                    _discard(target, self.folder)  # left by an add that stopped before its record
                    os.replace(staging, target)
                except OSError as error:
                    raise self._write_error(error) from error
            self._write_record(entry)
        self._scanned = None  # seen at the next read, whatever the folder's mtime resolution
        entry.root = self.folder
        return entry

    def add_textures(self, entry_id: str, textures: Mapping[str, Path], settled: Iterable[str]) -> Entry | None:
        """Place texture maps fetched after ``entry_id`` was kept, and settle the pending maps ``settled``.

        Only maps still pending are placed (another process may have fetched them first);
        ``settled`` are those tried, fetched or not (a map that could not be fetched is
        missing, as it would have been when fetched before the entry was kept). The entry as
        kept, None when it was removed meanwhile. LocalWriteError when the disk refuses.
        """
        with self._entry_lock(entry_id):
            entry = self._read_record(entry_id)
            if entry is None:
                return None
            wanted = {name: path for name, path in textures.items() if name in entry.textures_pending}
            with self.staging() as staging:
                try:
                    placed = _gather(wanted, staging, TEXTURES)
                    (self.entry_folder(entry_id) / TEXTURES).mkdir(parents=True, exist_ok=True)
                    for relative in placed.values():
                        os.replace(staging / relative, self.entry_folder(entry_id) / relative)
                except OSError as error:
                    raise self._write_error(error) from error
            entry.textures.update(placed)
            done = set(settled)
            entry.textures_pending = [name for name in entry.textures_pending if name not in done]
            self._write_record(entry)
        self._scanned = None
        return entry

    def remove(self, entry_id: str) -> bool:
        """Delete the entry and its files; False when there is no such entry.

        LocalWriteError when the disk refuses (read-only folder, a file held open on Windows).
        """
        if not PLAIN_ID.fullmatch(entry_id):
            return False
        with self._entry_lock(entry_id):
            record = self.record_path(entry_id)
            known = record.is_file()
            try:
                record.unlink(missing_ok=True)
                _discard(self.entry_folder(entry_id), self.folder)
            except OSError as error:
                raise LocalWriteError(
                    f"Cannot remove {entry_id} from the Meshy library in {self.folder}: {outputs.reason(error)}"
                ) from error
        self._scanned = None
        return known

    # -- inside --------------------------------------------------------------------
    @contextlib.contextmanager
    def _entry_lock(self, entry_id: str) -> Iterator[None]:
        locks = self.folder / LOCKS
        try:
            locks.mkdir(parents=True, exist_ok=True)
            lock = FileLock(locks / f"{entry_id}.lock")
            taken = lock.acquire(LOCK_WAIT_S)
        except OSError as error:
            raise self._write_error(error) from error
        if not taken:
            raise LocalWriteError(
                f"The Meshy library entry {entry_id} stayed busy for {LOCK_WAIT_S:g} s (another Blender or "
                "command is adding or removing it); try again."
            )
        with lock:
            yield

    def _write_record(self, entry: Entry) -> None:
        text = json.dumps({"version": RECORD_VERSION, "entry": entry.to_dict()})
        try:
            _replace_whole(self.record_path(entry.id), text, durable=True)
        except OSError as error:
            raise self._write_error(error) from error

    def _write_error(self, error: OSError) -> LocalWriteError:
        return LocalWriteError(f"Cannot save to the Meshy library in {self.folder}: {outputs.reason(error)}")

    def _read_record(self, entry_id: str) -> Entry | None:
        path = self.record_path(entry_id)
        try:
            with open(path, encoding="utf-8", opener=_no_follow) as handle:
                data = json.load(handle)
            entry = Entry.from_dict(data["entry"], self.folder)
            if entry.id != entry_id:
                raise ValueError(f"record {path.name} holds entry {entry.id!r}")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("Cannot read the Meshy library record %s: %s", path.name, error)
            return None
        return entry

    def _rescan(self, mtime: int | None) -> int | None:
        """Bring the listing up to date with the folder (its mtime ``mtime`` before), opening few records.

        Returns the folder's mtime this listing stands for: ``mtime``, or the time of the
        index this reader wrote when nobody else changed the folder meanwhile.

        A record is written once and never changed, so a reader that already holds an
        entry keeps it while its record is there and only looks at new names (an entry
        removed and added again between two looks keeps its first reading). A cold
        reader checks every record's stamp against the index.
        """
        if self._read:
            names = _record_names(self.folder)
            read = {entry_id: known for entry_id, known in self._read.items() if entry_id in names}
            changed = len(read) != len(self._read)
            stamps, known_before = _record_stamps(self.folder, names - read.keys()), {}
        else:
            read, changed = {}, True
            stamps, known_before = _record_stamps(self.folder), self._load_index()
        opened = 0
        for entry_id, stamp in stamps.items():
            known = known_before.get(entry_id)
            if known is not None and known[0] == stamp:
                read[entry_id] = known
            else:
                read[entry_id] = (stamp, self._read_record(entry_id))
                opened += 1
        changed = changed or bool(stamps)
        self._read = read
        if changed:
            found = [entry for _, entry in read.values() if entry is not None]
            self._listing = tuple(sorted(found, key=lambda entry: (entry.added_ms, entry.id), reverse=True))
            self.version += 1
        if opened >= INDEX_REWRITE_READS:
            return self._save_index(read, mtime)
        return mtime

    def _load_index(self) -> dict[str, tuple[RecordStamp, Entry | None]]:
        try:
            with open(self.folder / INDEX, encoding="utf-8", opener=_no_follow) as handle:
                records = json.load(handle)["records"]
            return {
                entry_id: (RecordStamp(mtime, size), Entry.from_dict(data, self.folder))
                for entry_id, (mtime, size, data) in records.items()
                if PLAIN_ID.fullmatch(entry_id) and data.get("id") == entry_id
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.info("The Meshy library's index was not usable (%s); reading the records", error)
            return {}

    def _save_index(self, read: dict[str, tuple[RecordStamp, Entry | None]], mtime: int | None) -> int | None:
        """Write the index; the folder's mtime after it when it was still ``mtime`` just before, else ``mtime``."""
        records = {
            entry_id: [stamp.mtime_ns, stamp.size, entry.to_dict()]
            for entry_id, (stamp, entry) in read.items()
            if entry is not None
        }
        text = json.dumps({"version": RECORD_VERSION, "records": records})
        unchanged = _mtime(self.folder) == mtime
        try:  # a cache: not durable, a crash only costs a slower start
            _replace_whole(self.folder / INDEX, text, durable=False)
        except OSError as error:  # a read-only library is still listed
            log.info("Cannot write the Meshy library's index: %s", error)
            return mtime
        return _mtime(self.folder) if unchanged else mtime


def _replace_whole(path: Path, text: str, *, durable: bool) -> None:
    """Write ``path`` through a temporary file renamed over it (``durable``: fsync'd first); OSError on failure."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _mtime(folder: Path) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _record_names(folder: Path) -> set[str]:
    """The ids of the records in ``folder`` (no ``stat``: the names alone)."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return set()
    ids = (name.removesuffix(RECORD_SUFFIX) for name in names if name.endswith(RECORD_SUFFIX))
    return {entry_id for entry_id in ids if PLAIN_ID.fullmatch(entry_id)}


def _record_stamps(folder: Path, only: set[str] | None = None) -> dict[str, RecordStamp]:
    """The stamp of every record in ``folder`` (or of the ``only`` ones still there)."""
    found: dict[str, RecordStamp] = {}
    base = os.fspath(folder)
    for entry_id in _record_names(folder) if only is None else only:
        try:
            stat = os.stat(os.path.join(base, entry_id + RECORD_SUFFIX), follow_symlinks=False)
        except FileNotFoundError:  # removed meanwhile
            continue
        found[entry_id] = RecordStamp(stat.st_mtime_ns, stat.st_size)
    return found


def _gather(sources: Mapping[str, Path], staging: Path, under: str) -> dict[str, str]:
    """Link (or copy) each source into ``staging/under`` as ``<role><suffix>``; role → path in the entry's folder."""
    placed: dict[str, str] = {}
    for role, source in sources.items():
        if not PLAIN_ID.fullmatch(role):
            raise ValueError(f"library file role {role!r} is not a plain name")
        relative = Path(under, f"{role}{Path(source).suffix.lower()}")
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # another disk, or a file system without hard links
            outputs.copy_file(Path(source), target)
        placed[role] = relative.as_posix()
    return placed


def _discard(path: Path, library: Path) -> None:
    """Remove an entry's folder: renamed away first, so nobody sees it half deleted."""
    if not path.exists():
        return
    trash = Path(tempfile.mkdtemp(prefix=".removed-", dir=library))
    try:
        os.replace(path, trash / path.name)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
