"""One library entry: a finished result, what was asked for it, and where its local files are.

Plain data, written as JSON in the entry's record (see :mod:`.store`). File paths are
kept relative to the entry's own folder, so a library folder can be moved or shared
(a farm's network drive) without rewriting its records; :attr:`Entry.root` (the
library's folder) is set when an entry is read, and :attr:`Entry.folder` and the paths
are made from it when asked (not for each of 2,000 entries read).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .kinds import KIND_LABELS, PICTURE_KINDS

#: Roles of :attr:`Entry.files`: the model, a rig's clips (``walking``, ``running``), the thumbnail;
#: a picture entry has its pictures (:data:`PICTURE`) and the first again as thumbnail.
MODEL = "model"
THUMBNAIL = "thumbnail"
CLIP_ROLES = ("walking", "running")
#: A concept picture's role is this and its number in Meshy's order: ``picture-1`` (a multi-view set: to 4).
PICTURE = "picture-"


def picture_role(number: int) -> str:
    return f"{PICTURE}{number}"


@dataclass
class Entry:
    """A result kept in the library.

    ``id`` is the final task's id (a bridge model: the id the web app gave it);
    ``task_ids`` the whole chain, oldest first (preview → refine, rig → animate).
    ``files`` maps a role (:data:`MODEL`, ``walking``, :data:`THUMBNAIL`…) and
    ``textures`` a map name (``base_color``, ``normal``…) to a path inside the entry's
    folder; a role is absent when its file could not be fetched (a missing thumbnail:
    the panel shows a placeholder). ``consumed_credits`` is None when Meshy did not say.
    Times are milliseconds since 1970.
    """

    id: str
    kind: str
    name: str
    task_ids: list[str] = field(default_factory=list)
    job_kind: str = ""
    prompt: str = ""
    input_images: list[str] = field(default_factory=list)
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    consumed_credits: int | None = None
    created_ms: int = 0
    finished_ms: int = 0
    added_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    source: str = "sidebar"
    files: dict[str, str] = field(default_factory=dict)
    textures: dict[str, str] = field(default_factory=dict)
    #: Texture maps Meshy made that are still to be fetched into ``textures`` (after the import: see :mod:`.maps`).
    textures_pending: list[str] = field(default_factory=list)
    #: The library's folder; set when the entry is read from or added to a library, not saved.
    root: Path = field(default=Path(), compare=False, repr=False)

    @property
    def folder(self) -> Path:
        """The entry's own folder, holding its files."""
        return self.root / self.id

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("-", " ").capitalize())

    def path(self, role: str) -> Path | None:
        """The absolute path of the file of ``role``, or None when the entry has none."""
        name = self.files.get(role)
        return self.folder / name if name else None

    @property
    def model_path(self) -> Path | None:
        return self.path(MODEL)

    @property
    def thumbnail_path(self) -> Path | None:
        """The local copy of Meshy's thumbnail; None when it could not be fetched (show a placeholder)."""
        return self.path(THUMBNAIL)

    @property
    def is_pictures(self) -> bool:
        """Whether the entry is concept pictures (made 3D or loaded as images; nothing to import)."""
        return self.kind in PICTURE_KINDS

    @property
    def picture_paths(self) -> list[Path]:
        """A picture entry's pictures in Meshy's order (a multi-view set: front, right, back, left)."""
        numbered = sorted(
            (int(role.removeprefix(PICTURE)), role)
            for role in self.files
            if role.startswith(PICTURE) and role.removeprefix(PICTURE).isdigit()
        )
        return [self.folder / self.files[role] for _, role in numbered]

    @property
    def texture_paths(self) -> dict[str, Path]:
        return {name: self.folder / relative for name, relative in self.textures.items()}

    @property
    def clip_paths(self) -> list[Path]:
        """A rig's extra clips (walking, running) kept with it."""
        return [path for path in map(self.path, CLIP_ROLES) if path is not None]

    @property
    def import_tags(self) -> dict[str, str]:
        """The custom properties an import of this entry puts on its objects (as a job's import does)."""
        tags = {"meshy_task_id": self.id, "meshy_kind": self.kind, "meshy_name": self.name, "meshy_library_id": self.id}
        if self.prompt:
            tags["meshy_prompt"] = self.prompt
        return tags

    def matches(self, *, kind: str = "", search: str = "") -> bool:
        """Whether the entry is of ``kind`` (any when "") and ``search`` is in its name, prompt or id (any case)."""
        if kind and self.kind != kind:
            return False
        needle = search.strip().casefold()
        return not needle or needle in self._search_text

    @functools.cached_property
    def _search_text(self) -> str:
        """Name, prompt and id folded once: a search is typed into the sidebar, redrawn at every key."""
        return "\n".join((self.name, self.prompt, self.id)).casefold()

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "root"}

    @classmethod
    def from_dict(cls, data: dict[str, Any], root: Path = Path()) -> Entry:
        """An entry of the library in ``root`` from its record's data (keys from a newer version are ignored)."""
        try:
            entry = cls(**data, root=root)
        except TypeError:  # a key this version does not know
            entry = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "root"}, root=root)
        if (
            not isinstance(entry.id, str)
            or not isinstance(entry.files, dict)
            or not isinstance(entry.textures, dict)
            or not isinstance(entry.textures_pending, list)
        ):
            raise ValueError("library record has the wrong shape")
        return entry
