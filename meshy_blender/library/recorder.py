"""Keep a finished job's result in the library: called once its files are downloaded.

A result is a model (with its thumbnail, maps and a rig's clips fetched here) or a
concept job's pictures (already downloaded and checked; the first is the thumbnail).

The job manager calls :func:`record_result` on the worker thread that downloaded the
result, before the job is offered for import, for every source (sidebar, command,
batch rows, task browser, the Meshy Bridge): one place, so every result is kept once
(the library ignores a result it already holds, e.g. one re-imported or downloaded
again). The thumbnail is fetched here with the verified download code, bounded in size
and time; the texture maps are named in the entry as pending and fetched after the
import is offered, on a thread of their own (see :mod:`.maps`). Nothing here may fail
the job: a thumbnail or map that cannot be fetched is simply missing from the entry (the
panel shows a placeholder), and a library that cannot be written is logged.

The entry recorded is also handed to the pump's import of the job (:func:`recorded`),
which would otherwise read its record back from disk on the main thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..api.errors import MeshyError
from ..api.glb_safety import check_glb
from ..api.images import check_png
from ..api.tasks import Task, TaskKind
from ..jobs.model import Job
from ..jobs.store import PLAIN_ID
from .entry import MODEL, THUMBNAIL, Entry, picture_role
from .store import Library

log = logging.getLogger(__name__)

#: A thumbnail is a small picture; a texture map at most an 8K PNG.
THUMBNAIL_MAX_BYTES = 16 * 1024 * 1024
TEXTURE_MAX_BYTES = 256 * 1024 * 1024
#: Longest a thumbnail or map may send nothing before it is given up.
STALL_TIMEOUT_S = 20.0
#: Job kind of a model received from the web app (see ``bridge/handover.py``).
BRIDGE_KIND = "bridge"
#: Job kind of an existing task downloaded again (task browser, ``--task-id``).
IMPORT_KIND = "import"
#: How pictures start: PNG, JPEG, WebP (RIFF).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
#: How a concept job names its downloaded pictures: ``image_1``… (see ``jobs/runner.py``).
JOB_PICTURE = "image_"
#: Body fields that name input pictures, and those that only link to an earlier task.
IMAGE_FIELDS = ("image_url", "image_urls", "texture_image_url", "image_style_url", "reference_image_urls")
PROMPT_FIELDS = ("prompt", "texture_prompt", "text_style_prompt")
#: Entries recorded and not yet taken by an import (results never imported fall out, oldest first).
RECENT_MAX = 256

_recent: OrderedDict[tuple[Path, str], Entry] = OrderedDict()
_recent_lock = threading.Lock()


class Downloader(Protocol):
    """What the recorder needs of :class:`~..api.client.MeshyClient`."""

    def download(
        self,
        url: str,
        dest: Path,
        *,
        cancel: threading.Event | None = ...,
        max_bytes: int = ...,
        expect_glb: bool = ...,
        stall_timeout: float | None = ...,
    ) -> Path: ...


def record_result(
    library: Library,
    job: Job,
    task: Task | None,
    *,
    source: str,
    client: Downloader | None = None,
    cancel: threading.Event | None = None,
) -> Entry | None:
    """Add ``job``'s downloaded result to ``library`` (once); the entry, or None when it could not be kept.

    ``task`` is the final task as Meshy last described it (None for a bridge model):
    its thumbnail, texture maps, credits and dates. ``client`` downloads the thumbnail
    (None: the entry has no pictures; with one, the task's maps are left pending, for
    :class:`.maps.MapFetcher`). Never raises for a download or disk problem.
    """
    model = job.files.get(MODEL)
    entry_id = (task.id if task is not None else "") or job.final_task_id or job.id
    if not model and not job.makes_images:
        return None
    try:
        kept = library.get(entry_id) or _add(library, job, task, entry_id, source=source, client=client, cancel=cancel)
    except (MeshyError, OSError, ValueError) as error:
        log.warning("Meshy job %s: its result could not be kept in the library (%s)", job.id, error)
        return None
    with _recent_lock:
        _recent[(library.folder, kept.id)] = kept
        while len(_recent) > RECENT_MAX:
            _recent.popitem(last=False)
    return kept


def recorded(library: Library, entry_id: str) -> Entry | None:
    """The entry this process just recorded (or found) in ``library`` as ``entry_id``, once; else None.

    For the import of its job: reading the record back costs 1.4 ms of the main thread (3-4 ms
    while a batch's workers download: BENCHMARKS.md section 6). The record only changes if the
    user removes the entry meanwhile, which the import's write of its .blend checks on disk.
    """
    with _recent_lock:
        return _recent.pop((library.folder, entry_id), None)


def _add(
    library: Library,
    job: Job,
    task: Task | None,
    entry_id: str,
    *,
    source: str,
    client: Downloader | None,
    cancel: threading.Event | None,
) -> Entry:
    """Keep ``job``'s result as a new entry (its pictures fetched); the entry as kept."""
    entry = describe(job, task, entry_id=entry_id, source=source)
    model = job.files.get(MODEL)
    if job.makes_images or not model:
        return library.add(entry, _concept_pictures(job))
    if Path(model).suffix.lower() == ".glb":
        check_glb(Path(model))
    with library.staging() as staging:
        files = {**_companions(Path(model)), **{role: Path(path) for role, path in job.files.items()}}
        if task is not None and client is not None:
            thumbnail = fetch_thumbnail(client, task, staging, cancel)
            if thumbnail is not None:
                files[THUMBNAIL] = thumbnail
            entry.textures_pending = sorted(task.texture_urls)
        return library.add(entry, files)


def _concept_pictures(job: Job) -> dict[str, Path]:
    """A concept job's downloaded pictures by entry role (``picture-1``…), checked again, the first as thumbnail.

    The job's roles are ``image_1``…; none downloaded (or one not a whole PNG) raises ValueError / DownloadError.
    """
    numbered = sorted(
        (int(role.removeprefix(JOB_PICTURE)), Path(path))
        for role, path in job.files.items()
        if role.startswith(JOB_PICTURE) and role.removeprefix(JOB_PICTURE).isdigit()
    )
    if not numbered:
        raise ValueError("the concept job has no downloaded pictures")
    pictures = {picture_role(number): path for number, path in numbered}
    for path in pictures.values():
        check_png(path)
    return {**pictures, THUMBNAIL: numbered[0][1]}


def _companions(model: Path) -> dict[str, Path]:
    """The pictures beside a model in another format than GLB (an FBX from the web app and its textures).

    Kept beside it in the entry under their own names, since an FBX names its textures
    and the importer looks for them by name beside the file (``scene/model_formats.py``).
    A GLB carries its textures inside; its folder is not looked at.
    """
    if model.suffix.lower() == ".glb":
        return {}
    return {
        path.stem: path
        for path in model.parent.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES and PLAIN_ID.fullmatch(path.stem) and path.is_file()
    }


def describe(job: Job, task: Task | None, *, entry_id: str, source: str) -> Entry:
    """The library entry of ``job`` (files not yet placed): what was asked, what it cost, when."""
    bodies = [stage.body for stage in job.stages]
    options: dict[str, Any] = {}
    for body in bodies:
        options.update({key: value for key, value in body.items() if _keepable(key, value)})
    task_ids = [value for body in bodies for key, value in body.items() if key.endswith("_task_id") and value]
    task_ids += [stage.task_id for stage in job.stages if stage.task_id]
    credits = [stage.consumed_credits for stage in job.stages if stage.consumed_credits is not None]
    created = task.created_at if task is not None and job.kind == IMPORT_KIND and task.created_at else job.created_ms
    finished = (task.finished_at if task is not None else 0) or int(time.time() * 1000)
    return Entry(
        id=entry_id,
        kind=BRIDGE_KIND if job.kind == BRIDGE_KIND else kind_name(job.stages[-1].kind),
        name=job.name,
        task_ids=list(dict.fromkeys(str(task_id) for task_id in task_ids)),
        job_kind=job.kind,
        prompt=_prompt(bodies, task),
        input_images=[name for body in bodies for name in _image_names(body)],
        model=str(options.get("ai_model", "")),
        options=options,
        consumed_credits=sum(credits) if credits else None,
        created_ms=created,
        finished_ms=finished,
        source=source_of(job, source),
    )


def kind_name(kind: TaskKind) -> str:
    """A task kind as entries and the command spell it: ``text-to-3d``, ``rigging``, ``animation``…"""
    return kind.name.lower().replace("_", "-")


def source_of(job: Job, source: str) -> str:
    """Where ``job`` came from, given its manager's ``source``: a bridge model, or the sidebar's task browser."""
    if job.kind == BRIDGE_KIND:
        return "bridge"
    if job.kind == IMPORT_KIND and source == "sidebar":
        return "task-browser"
    return source


def _keepable(key: str, value: Any) -> bool:
    """Options worth keeping to re-run a result: not the links to other tasks, not the input pictures."""
    return not key.endswith("_task_id") and key not in IMAGE_FIELDS and key not in PROMPT_FIELDS[:1]


def _prompt(bodies: list[dict[str, Any]], task: Task | None) -> str:
    for body in bodies:
        for field in PROMPT_FIELDS:
            if isinstance(body.get(field), str) and body[field]:
                return str(body[field])
    return task.prompt if task is not None else ""


def _image_names(body: dict[str, Any]) -> list[str]:
    """The file names of a body's input pictures (a local path or a link; never a data URI's content)."""
    names = []
    for field in IMAGE_FIELDS:
        value = body.get(field)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item and not item.startswith("data:"):
                names.append(Path(urlsplit(item).path).name or item)
    return names


def thumbnail_url(task: Task) -> str:
    """Meshy's picture of the result: the thumbnail, else the one on a clear background, else the first view."""
    views = task.multi_view_thumbnail_urls
    return task.thumbnail_url or task.alpha_thumbnail_url or (views[0] if views else "")


def fetch_thumbnail(client: Downloader, task: Task, folder: Path, cancel: threading.Event | None = None) -> Path | None:
    """Meshy's thumbnail of ``task`` fetched into ``folder`` as ``thumbnail.<suffix>`` (a library entry's, or the
    preview of a result kept in no library: ``--no-library``); None when there is none or it could not be fetched."""
    return _fetch(client, _thumbnail_wanted(task), task.id, folder, cancel).get(THUMBNAIL)


def fetch_maps(
    client: Downloader, urls: dict[str, str], task_id: str, folder: Path, cancel: threading.Event | None = None
) -> dict[str, Path]:
    """The texture maps of ``urls`` (name → link) that could be fetched into ``folder``, by name."""
    return _fetch(client, {name: (url, TEXTURE_MAX_BYTES) for name, url in urls.items()}, task_id, folder, cancel)


def _thumbnail_wanted(task: Task) -> dict[str, tuple[str, int]]:
    return {THUMBNAIL: (thumbnail_url(task), THUMBNAIL_MAX_BYTES)}


def _fetch(
    client: Downloader,
    wanted: dict[str, tuple[str, int]],
    task_id: str,
    folder: Path,
    cancel: threading.Event | None,
) -> dict[str, Path]:
    """The pictures of ``wanted`` (role → link and size limit) that could be fetched into ``folder``, by role."""
    fetched = {}
    for role, (url, limit) in wanted.items():
        if cancel is not None and cancel.is_set():
            break  # stopping: not one more request
        if not url:
            continue
        dest = folder / f"{role}{_suffix(url)}"
        try:
            client.download(url, dest, cancel=cancel, max_bytes=limit, expect_glb=False, stall_timeout=STALL_TIMEOUT_S)
            _check_picture(dest)
        except (MeshyError, OSError, ValueError) as error:
            log.info("Task %s: its %s could not be fetched for the library (%s)", task_id, role, error)
            dest.unlink(missing_ok=True)
            continue
        fetched[role] = dest
    return fetched


def _suffix(url: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if suffix in IMAGE_SUFFIXES else ".png"


def _check_picture(path: Path) -> None:
    """ValueError unless ``path`` starts like a PNG, JPEG or WebP picture (not an error page)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith(IMAGE_MAGIC):
        raise ValueError(f"{path.name} is not a picture")
