"""The kinds of Meshy tasks and their statuses: two enums, nothing else.

Apart from :mod:`.tasks` (the task records, parsed from hostile JSON) because the sidebar
builds its menus and compares states with them when the add-on is enabled, and should not
load the parsing for that. :mod:`.tasks` re-exports both. Plain Python.
"""

from __future__ import annotations

import enum
from typing import Any


class TaskKind(enum.Enum):
    """A Meshy resource: its value is the path under the base URL."""

    TEXT_TO_3D = "openapi/v2/text-to-3d"
    IMAGE_TO_3D = "openapi/v1/image-to-3d"
    MULTI_IMAGE_TO_3D = "openapi/v1/multi-image-to-3d"
    RIGGING = "openapi/v1/rigging"
    ANIMATION = "openapi/v1/animations"
    RETEXTURE = "openapi/v1/retexture"
    REMESH = "openapi/v1/remesh"
    TEXT_TO_IMAGE = "openapi/v1/text-to-image"
    IMAGE_TO_IMAGE = "openapi/v1/image-to-image"
    UV_UNWRAP = "openapi/v1/uv-unwrap"
    RESIZE = "openapi/v1/resize"
    CONVERT = "openapi/v1/convert"

    @property
    def path(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def from_name(cls, name: str) -> TaskKind:
        """Accept ``text-to-3d``, ``TEXT_TO_3D`` or the API path."""
        key = name.strip().lower().replace("_", "-")
        for kind in cls:
            if key in (kind.value, kind.value.rsplit("/", 1)[1], kind.name.lower().replace("_", "-")):
                return kind
        raise ValueError(f"unknown task kind {name!r}")


_LABELS = {
    TaskKind.TEXT_TO_3D: "Text to 3D",
    TaskKind.IMAGE_TO_3D: "Image to 3D",
    TaskKind.MULTI_IMAGE_TO_3D: "Multi-image to 3D",
    TaskKind.RIGGING: "Rigging",
    TaskKind.ANIMATION: "Animation",
    TaskKind.RETEXTURE: "Retexture",
    TaskKind.REMESH: "Remesh",
    TaskKind.TEXT_TO_IMAGE: "Text to image",
    TaskKind.IMAGE_TO_IMAGE: "Image to image",
    TaskKind.UV_UNWRAP: "UV unwrap",
    TaskKind.RESIZE: "Resize",
    TaskKind.CONVERT: "Convert",
}
#: The kinds whose results are pictures, not models.
IMAGE_KINDS = (TaskKind.TEXT_TO_IMAGE, TaskKind.IMAGE_TO_IMAGE)


class TaskStatus(enum.Enum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    #: Meshy deleted the finished task's files (results are kept 3 days).
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.EXPIRED)

    @classmethod
    def parse(cls, value: Any) -> TaskStatus:
        try:
            return cls(str(value).upper())
        except ValueError:
            return cls.UNKNOWN
