# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""What the Library panel shows: the search, kind filter, page and selection, and the page's entries.

The view's settings live on the window manager (``window_manager.meshy_library``): they
are the sidebar's state, not the file's, so they are never saved in a .blend. The library
itself is read through :class:`...library.store.Library`, which costs one ``stat`` per
redraw while nothing changed; the filtered list is kept until the library, the search or
the kind changes, so a redraw with thousands of entries slices a list and no more.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import EnumProperty, IntProperty, PointerProperty, StringProperty

from ....library.kinds import KIND_LABELS
from ... import paths, session

if TYPE_CHECKING:
    from ....jobs.model import Job
    from ....library.entry import Entry
    from ....library.store import Library
    from .. import pager

PAGE_SIZE = 12
ANY_KIND = "ALL"
KIND_ITEMS = [(ANY_KIND, "All kinds", "Every result"), *((kind, label, label) for kind, label in KIND_LABELS.items())]


def _back_to_first_page(view: Any, _context: bpy.types.Context) -> None:
    view.page = 1


class MeshyLibraryView(bpy.types.PropertyGroup):
    search: StringProperty(
        name="Search",
        description="Show the results whose name, prompt or task id contains this",
        options={"TEXTEDIT_UPDATE"},
        update=_back_to_first_page,
    )
    kind: EnumProperty(name="Kind", items=KIND_ITEMS, default=ANY_KIND, update=_back_to_first_page)
    page: IntProperty(name="Page", default=1, min=1)
    selected: StringProperty(name="Selected", description="The library entry whose details are shown")


def view_of(context: bpy.types.Context) -> MeshyLibraryView:
    return cast(MeshyLibraryView, cast(Any, context.window_manager).meshy_library)


# -- the library and what the view shows of it ----------------------------------------


_own: "dict[Path, Library]" = {}


def library() -> "Library":
    """The library the job manager keeps results in; before there is a manager, a reader of the same folder.

    One reader per folder, so its cache serves every redraw.
    """
    live = session.current_library()
    if live is not None:
        return live
    folder = paths.library_dir()
    found = _own.get(folder)
    if found is None:
        from ....library.store import Library  # read at the first draw, not at enable

        found = _own[folder] = Library(folder)
    return found


def job_thumbnail(job: "Job", kept: "Mapping[str, Entry]") -> Path | None:
    """A job's thumbnail once known: the one it downloaded, else its entry's among ``kept`` (:func:`entries_by_id`)."""
    own = job.files.get("thumbnail")
    if own:
        return Path(own)
    entry = kept.get(job.final_task_id)
    return thumbnail_of(entry) if entry is not None else None


def thumbnail_of(entry: "Entry") -> Path | None:
    """``entry.thumbnail_path``, built once per listing: building paths cost the panels more than the rest."""
    key = (entry.id, entry.root)
    try:
        return _thumbnail_paths[key]
    except KeyError:
        found = _thumbnail_paths[key] = entry.thumbnail_path
        return found


_filtered: "dict[tuple[Library, int, str, str], tuple[Entry, ...]]" = {}
_by_id: "dict[tuple[Library, int], dict[str, Entry]]" = {}
_thumbnail_paths: dict[tuple[str, Path], Path | None] = {}  # emptied with _by_id


def matching(kind: str, search: str) -> "tuple[Entry, ...]":
    """The entries of ``kind`` (ANY_KIND: all) matching ``search``, newest first; computed once per change."""
    shelf = library()
    entries = shelf.entries()
    key = (shelf, shelf.version, kind, search)  # the library itself: an id() is reused once it is freed
    found = _filtered.get(key)
    if found is None:
        wanted = "" if kind == ANY_KIND else kind
        found = tuple(entry for entry in entries if entry.matches(kind=wanted, search=search))
        _filtered.clear()
        _filtered[key] = found
    return found


def page_of(view: MeshyLibraryView) -> "pager.Page[Entry]":
    """The entries on the view's page (a page past the end shows the last one)."""
    from .. import pager  # with its dataclass: at the first draw, not at enable

    return pager.page(matching(view.kind, view.search), view.page, PAGE_SIZE)


def entries_by_id() -> "Mapping[str, Entry]":
    """Every entry by id, as the library listed it last (no disk read while nothing changed)."""
    shelf = library()
    entries = shelf.entries()
    key = (shelf, shelf.version)
    index = _by_id.get(key)
    if index is None:
        index = {item.id: item for item in entries}
        _by_id.clear()
        _thumbnail_paths.clear()
        _by_id[key] = index
    return index


def entry(entry_id: str) -> "Entry | None":
    return entries_by_id().get(entry_id) if entry_id else None


def register() -> None:
    bpy.utils.register_class(MeshyLibraryView)
    bpy.types.WindowManager.meshy_library = PointerProperty(type=MeshyLibraryView)  # type: ignore[attr-defined,func-returns-value]


def unregister() -> None:
    del bpy.types.WindowManager.meshy_library  # type: ignore[attr-defined]
    bpy.utils.unregister_class(MeshyLibraryView)
    _own.clear()
    _filtered.clear()
    _by_id.clear()
    _thumbnail_paths.clear()
