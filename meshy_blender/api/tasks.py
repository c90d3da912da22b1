"""Meshy task objects, parsed tolerantly.

The real service adds undocumented fields, sends ``task_error: null``, ``{"glb": ""}``
while pending and ``texture_urls: null``; none of that may crash a user's Blender, so
parsing never raises on an unexpected shape: it keeps what it understands and the raw
JSON beside it. Every field has its type whatever the server sent (a hostile value
becomes the field's "unknown": 0 or ""), progress is 0–100 and times are dates Python
can show, so no later step (a worker thread, ``datetime``) meets a surprise. The
failure message is cleaned of terminal escapes here, where it enters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .task_kinds import IMAGE_KINDS, TaskKind, TaskStatus
from .untrusted import MAX_QUOTED_CHARS, clean_text

__all__ = ["IMAGE_KINDS", "MAX_TIME_MS", "Task", "TaskError", "TaskKind", "TaskStatus", "expired_message", "parse_task"]

#: 9999-12-31 in milliseconds: the last time ``datetime`` can show.
MAX_TIME_MS = 253_402_300_799_999


@dataclass(frozen=True)
class TaskError:
    message: str
    type: str = ""
    code: str = ""


@dataclass(frozen=True)
class Task:
    """One Meshy task as last seen; ``raw`` keeps the JSON it came from."""

    id: str
    kind: TaskKind
    status: TaskStatus
    progress: int = 0
    preceding_tasks: int = 0
    type: str = ""
    model_urls: dict[str, str] = field(default_factory=dict)
    texture_urls: dict[str, str] = field(default_factory=dict)
    thumbnail_url: str = ""
    #: The thumbnail on a transparent background; and a multi-image task's picture of each view.
    alpha_thumbnail_url: str = ""
    multi_view_thumbnail_urls: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    task_error: TaskError | None = None
    consumed_credits: int | None = None
    created_at: int = 0
    started_at: int = 0
    finished_at: int = 0
    expires_at: int = 0
    prompt: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def succeeded(self) -> bool:
        return self.status is TaskStatus.SUCCEEDED

    @property
    def glb_url(self) -> str:
        """The URL of the task's main GLB, or "" while there is none."""
        if self.kind is TaskKind.RIGGING:
            return _str(self.result.get("rigged_character_glb_url"))
        if self.kind is TaskKind.ANIMATION:
            return _str(self.result.get("animation_glb_url"))
        return self.model_urls.get("glb", "")

    @property
    def pre_remeshed_glb_url(self) -> str:
        """The model from before remeshing (asked for with ``save_pre_remeshed_model``), or ""."""
        return self.model_urls.get("pre_remeshed_glb", "")

    @property
    def animation_glb_urls(self) -> dict[str, str]:
        """For a rig task: the basic walking/running clips, by name."""
        basic = self.result.get("basic_animations")
        if not isinstance(basic, dict):
            return {}
        clips = {name: _str(basic.get(f"{name}_glb_url")) for name in ("walking", "running")}
        return {name: url for name, url in clips.items() if url}

    @property
    def image_urls(self) -> list[str]:
        """For a text-to-image or image-to-image task: its pictures (four for a multi-view set)."""
        return _url_list(self.raw.get("image_urls"))

    def expired(self, now_ms: int) -> bool:
        return bool(self.expires_at) and now_ms >= self.expires_at

    def merged(self, update: Task) -> Task:
        """This task with the fields an SSE progress frame carries replaced.

        Progress frames hold only ``id``, ``status`` and ``progress``; the full object
        arrives with the terminal frame. Merging keeps what we already knew.
        """
        raw = {**self.raw, **update.raw}
        return parse_task(self.kind, raw)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    """A whole number from a number or numeric text; 0 for anything else (booleans, NaN, infinity)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value) if math.isfinite(value) else 0


def _time_ms(value: Any) -> int:
    """A time in milliseconds since 1970, or 0 (unknown) when it is outside what ``datetime`` can show."""
    ms = _int(value)
    return ms if 0 <= ms <= MAX_TIME_MS else 0


def _url_map(value: Any) -> dict[str, str]:
    """Keep only non-empty string URLs: ``{"glb": ""}`` means "not yet"."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str) and v}


def _url_list(value: Any) -> list[str]:
    """The non-empty string URLs of a list; [] for anything else."""
    return [url for url in value if isinstance(url, str) and url] if isinstance(value, list) else []


def _texture_urls(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        merged: dict[str, str] = {}
        for entry in value:
            merged.update(_url_map(entry))
        return merged
    return _url_map(value)


def _task_error(value: Any) -> TaskError | None:
    if not isinstance(value, dict):
        return None
    message = clean_text(_str(value.get("message")), MAX_QUOTED_CHARS).strip()
    code = clean_text(_str(value.get("code")), MAX_QUOTED_CHARS)
    if not message and not code:
        return None
    return TaskError(message=message, type=clean_text(_str(value.get("type")), MAX_QUOTED_CHARS), code=code)


def expired_message(task: Task) -> str:
    """An EXPIRED task in words: what happened and what can be done."""
    return (
        f"Meshy deleted this result after 3 days (task {task.id} has expired): only generating it again, which "
        "costs credits, can bring it back."
    )


def parse_task(kind: TaskKind, data: Any) -> Task:
    """Build a :class:`Task` from the server's JSON, whatever shape it has."""
    raw = data if isinstance(data, dict) else {}
    result = raw.get("result")
    credits = raw.get("consumed_credits")
    return Task(
        id=_str(raw.get("id")),
        kind=kind,
        status=TaskStatus.parse(raw.get("status")),
        progress=max(0, min(100, _int(raw.get("progress")))),
        preceding_tasks=max(0, _int(raw.get("preceding_tasks"))),
        type=_str(raw.get("type")),
        model_urls=_url_map(raw.get("model_urls")),
        texture_urls=_texture_urls(raw.get("texture_urls")),
        thumbnail_url=_str(raw.get("thumbnail_url")),
        alpha_thumbnail_url=_str(raw.get("alpha_thumbnail_url")),
        multi_view_thumbnail_urls=_url_list(raw.get("multi_view_thumbnail_urls")),
        result=result if isinstance(result, dict) else {},
        task_error=_task_error(raw.get("task_error")),
        consumed_credits=_int(credits) if credits is not None else None,
        created_at=_time_ms(raw.get("created_at")),
        started_at=_time_ms(raw.get("started_at")),
        finished_at=_time_ms(raw.get("finished_at")),
        expires_at=_time_ms(raw.get("expires_at")),
        prompt=_str(raw.get("prompt")),
        raw=dict(raw),
    )
