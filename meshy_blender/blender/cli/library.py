"""``meshy library list | import | remove``: the artist's library from the command line.

The command and the sidebar share one library (see :func:`library_dir`): the add-on's
user folder as Blender gives it to the extension, or ``$MESHY_LIBRARY_DIR``, or
``--library-dir`` (a farm's shared drive). Nothing here needs a key or the network:
``import`` reads the library's own copy of the model (concept pictures have none: refused,
exit 2). ``list`` and ``remove`` need no Blender either; ``import`` does (it saves a .blend).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...api.errors import EXIT_OK, ValidationError
from ...jobs import outputs
from ...jobs.cli_events import Reporter
from ...library import Entry, Library
from ...library.store import LIBRARY_DIR_VARIABLE
from .command import _when


def run(args: argparse.Namespace, reporter: Reporter, *, require_blender: Callable[[str], None]) -> int:
    library = Library(library_dir(args))
    if args.action == "list":
        return _list(library, args, reporter)
    entry = library.get(args.entry_id)
    if entry is None:
        raise ValidationError(
            f"No result {args.entry_id!r} in the library ({library.folder}); 'meshy library list' shows them.",
            field="entry_id",
        )
    if args.action == "remove":
        library.remove(entry.id)
        reporter.emit("removed", task_id=entry.id, name=entry.name)
        reporter.say(f"Removed '{entry.name}' ({entry.id}) and its files from the library.")
        return EXIT_OK
    if entry.is_pictures:
        raise ValidationError(
            f"'{entry.name}' ({entry.id}) holds concept pictures, not a model: there is nothing to import. Use the "
            f"pictures in {entry.folder}, or make a model from them (image-to-3d / multi-image-to-3d "
            f"--input-task-id {entry.id} while Meshy keeps the task, else from the pictures).",
            field="entry_id",
        )
    output = Path(args.output).expanduser().resolve()
    if output.suffix.lower() != ".blend":
        raise ValidationError(f"-o must name a .blend file (got {output.name}).", field="output")
    model = entry.model_path
    if model is None or not model.is_file():
        raise ValidationError(f"The library holds no model file for {entry.id} ({entry.folder}).", field="entry_id")
    require_blender("library import")
    return _import(library, entry, model, output, reporter)


def library_dir(args: argparse.Namespace) -> Path:
    """``--library-dir``, else ``$MESHY_LIBRARY_DIR``, else the add-on's (ValidationError without Blender)."""
    chosen = (getattr(args, "library_dir", None) or os.environ.get(LIBRARY_DIR_VARIABLE, "")).strip()
    if chosen:
        return Path(chosen).expanduser().resolve()
    if importlib.util.find_spec("bpy") is None:
        raise ValidationError(
            "Without Blender the command cannot tell where the add-on keeps its library: pass --library-dir DIR "
            f"or set {LIBRARY_DIR_VARIABLE}.",
            field="library_dir",
        )
    from .. import paths

    return paths.library_dir()


def _list(library: Library, args: argparse.Namespace, reporter: Reporter) -> int:
    entries = library.find(kind=args.kind or "", search=args.search)
    for entry in entries:
        reporter.emit("entry", **row(entry))
        credits = "?" if entry.consumed_credits is None else entry.consumed_credits
        about = f" — {entry.prompt}" if entry.prompt and entry.prompt != entry.name else ""
        reporter.say(f"{entry.id}  {entry.kind:<17} {_when(entry.created_ms)}  {credits:>4} cr  {entry.name}{about}")
    if not entries:
        reporter.say(f"No results in the library ({library.folder}) match.")
    reporter.emit("library", folder=str(library.folder), count=len(entries))
    return EXIT_OK


def row(entry: Entry) -> dict[str, Any]:
    """What ``list --json`` says of an entry (paths absolute; None for a file the library lacks).

    ``pictures``: a concept entry's pictures in Meshy's order (none for a model).
    """
    model, thumbnail = entry.model_path, entry.thumbnail_path
    return {
        "task_id": entry.id,
        "task_ids": entry.task_ids,
        "name": entry.name,
        "kind": entry.kind,
        "prompt": entry.prompt,
        "ai_model": entry.model,
        "consumed_credits": entry.consumed_credits,
        "created": _iso(entry.created_ms),
        "finished": _iso(entry.finished_ms),
        "source": entry.source,
        "model": str(model) if model is not None and model.is_file() else None,
        "thumbnail": str(thumbnail) if thumbnail is not None and thumbnail.is_file() else None,
        "textures": {name: str(path) for name, path in entry.texture_paths.items()},
        "textures_pending": entry.textures_pending,
        "pictures": [str(path) for path in entry.picture_paths if path.is_file()],
    }


def _iso(ms: int) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else None


def _import(library: Library, entry: Entry, model: Path, output: Path, reporter: Reporter) -> int:
    from ..scene import importer, library_blend, scene_io

    outputs.prepare_folder(output.parent, output.name)
    with outputs.OutputLock(output.parent / f".{output.name}.meshy.lock", output, wait=0.0):
        scene_io.open_scene(output)
        result = importer.import_glb(
            model,
            job_id=f"library-{entry.id}",
            display_name=entry.name,
            tags=entry.import_tags,
            location=(0.0, 0.0, 0.0),
            extra_actions_from=[path for path in entry.clip_paths if path.is_file()],
        )
        library_blend.mark_and_keep(result, entry, library)
        scene_io.save_scene(output)
    names = [obj.name for obj in result.objects]
    reporter.emit("imported", task_id=entry.id, name=entry.name, objects=names, output=str(output))
    reporter.say(f"Imported '{entry.name}' ({len(names)} objects) from the library into {output}")
    return EXIT_OK
