"""Meshy's animation library as data: the actions a rig can be given, by id, name and category.

The add-on ships the library (``data/animations.json``, built from Meshy's published
table by ``scripts/build_animation_catalogue.py``) and can refresh it from Meshy's
``GET /openapi/v1/animations/library``. A refreshed copy lives in the add-on's user
folder and is preferred while it is newer than the shipped one. The catalogue only
names and groups actions: an id it does not know is still sent as given, and Meshy
decides (a new action works the day Meshy adds it).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ServerError
from .untrusted import clean_text

LIBRARY_PATH = "openapi/v1/animations/library"
#: The file a refreshed library is kept in (in the add-on's user folder).
REFRESHED_FILE = "animations.json"
_BUNDLED = Path(__file__).resolve().parent / "data" / "animations.json"
#: Far more actions than Meshy's library holds (678 in November 2026); a longer answer is not a library.
MAX_ACTIONS = 10_000
_MAX_NAME_CHARS = 120
_MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class Action:
    id: int
    name: str
    category: str
    sub_category: str
    preview_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "sub_category": self.sub_category,
            "preview_url": self.preview_url,
        }


class Library:
    """The actions, in id order, with look-ups by id and a search over names and categories."""

    def __init__(self, actions: Iterable[Action], *, updated: str = "") -> None:
        self.by_id = {action.id: action for action in actions}
        self.actions = tuple(self.by_id[key] for key in sorted(self.by_id))
        #: When this copy of the library was made (ISO date or date-time; "" if unknown).
        self.updated = updated

    def __len__(self) -> int:
        return len(self.actions)

    def categories(self) -> list[str]:
        return sorted({action.category for action in self.actions if action.category})

    def name_of(self, action_id: int) -> str:
        """The action's library name, or "Action <id>" for an id this copy does not know."""
        action = self.by_id.get(action_id)
        return action.name if action is not None else f"Action {action_id}"

    def search(self, text: str = "", category: str = "") -> list[Action]:
        """Actions whose name, sub-category or id contains every word of ``text``, in ``category`` if given."""
        words = [word.casefold() for word in text.replace("_", " ").split()]
        found = []
        for action in self.actions:
            if category and action.category != category:
                continue
            haystack = f"{action.name.replace('_', ' ')} {action.sub_category} {action.id}".casefold()
            if all(word in haystack for word in words):
                found.append(action)
        return found


def _text(value: Any, limit: int) -> str:
    return clean_text(value, limit).strip() if isinstance(value, str) else ""


def _action(entry: Any) -> Action | None:
    """One library entry from the server, or None if it is not usable (no id or no name)."""
    if not isinstance(entry, dict):
        return None
    action_id = entry.get("action_id", entry.get("id"))
    if isinstance(action_id, bool) or not isinstance(action_id, int) or action_id < 0:
        return None
    name = _text(entry.get("name"), _MAX_NAME_CHARS)
    if not name:
        return None
    preview = _text(entry.get("preview_url"), _MAX_URL_CHARS)
    return Action(
        id=action_id,
        name=name,
        category=_text(entry.get("category"), _MAX_NAME_CHARS),
        sub_category=_text(entry.get("sub_category"), _MAX_NAME_CHARS),
        preview_url=preview if preview.startswith("https://") else "",
    )


def parse_library(data: Any) -> list[Action]:
    """The actions of a library answer (a list, or ``{"result": list}``); unusable entries are skipped.

    ServerError when the answer holds no usable action or is far longer than any library.
    """
    entries = data.get("result") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ServerError("Meshy's animation library was not a list of actions. Try again later.")
    if len(entries) > MAX_ACTIONS:
        raise ServerError(f"Meshy's animation library answer lists {len(entries)} actions, more than any library.")
    actions = [action for action in map(_action, entries) if action is not None]
    if not actions:
        raise ServerError("Meshy's animation library answer held no usable action.")
    return actions


def _read(path: Path) -> Library:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Library(parse_library(data.get("actions")), updated=str(data.get("updated", "")))


@cache
def bundled() -> Library:
    """The library shipped with the add-on (our own file: read as it is, without the server's checks)."""
    data = json.loads(_BUNDLED.read_text(encoding="utf-8"))
    return Library((Action(**entry) for entry in data["actions"]), updated=data["updated"])


def _moment(updated: str) -> datetime:
    try:
        moment = datetime.fromisoformat(updated)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(user_dir: Path | None = None) -> Library:
    """The refreshed copy in ``user_dir`` when it is newer than the shipped library, else the shipped one.

    A refreshed copy that cannot be read (damaged, half-written by an older version) is
    ignored: the shipped library always works.
    """
    shipped = bundled()
    if user_dir is None:
        return shipped
    try:
        refreshed = _read(Path(user_dir) / REFRESHED_FILE)
    except (OSError, ValueError, AttributeError, ServerError):
        return shipped
    return refreshed if _moment(refreshed.updated) > _moment(shipped.updated) else shipped


def save(actions: Sequence[Action], user_dir: Path, *, now: float | None = None) -> Library:
    """Keep ``actions`` (a refreshed library) in ``user_dir``, written whole or not at all."""
    stamp = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC).isoformat(timespec="seconds")
    data = {"source": LIBRARY_PATH, "updated": stamp, "actions": [action.as_dict() for action in actions]}
    folder = Path(user_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".animations-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
        os.replace(temporary, folder / REFRESHED_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Library(actions, updated=stamp)


def fps_notice(post_process: Mapping[str, Any] | None, scene_fps: float) -> str:
    """What to tell the user when the clips were asked at another frame rate than the scene's ("" if not)."""
    if not post_process or post_process.get("operation_type") != "change_fps":
        return ""
    fps = post_process.get("fps", 30)  # Meshy's default for change_fps
    if not isinstance(fps, (int, float)) or abs(fps - scene_fps) < 0.01:
        return ""
    return (
        f"The clips are resampled to {fps} fps but the scene plays at {scene_fps:g} fps: "
        "set Output Properties > Frame Rate to match, or the clips play at another speed"
    )
