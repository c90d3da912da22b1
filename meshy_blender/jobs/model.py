"""What a job is: one user request, made of one or more Meshy tasks (stages).

A job is plain data so that it can be written to the ledger and read back after a
restart. Stage bodies hold what the user asked for with *local paths*, never data URIs
(they are converted when the request is sent) and never the API key.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api.task_kinds import IMAGE_KINDS, TaskKind
from .states import JobState

__all__ = ["FileRef", "Job", "JobState", "Stage"]


@dataclass
class Stage:
    """One Meshy task of a job."""

    kind: TaskKind
    body: dict[str, Any]
    #: Field of ``body`` that receives the previous stage's task id (e.g. ``preview_task_id``).
    link_field: str = ""
    task_id: str = ""
    #: Epoch ms when the create request was sent. Set with no ``task_id`` after a crash,
    #: it means the create may have reached Meshy: look for the task before creating again.
    create_sent_ms: int = 0
    status: str = ""
    progress: int = 0
    preceding_tasks: int = 0
    estimated_credits: int = 0
    consumed_credits: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data sharing the stage's containers (see :meth:`Job.to_dict`)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["kind"] = self.kind.name
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stage:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["kind"] = TaskKind[data["kind"]]
        return cls(**fields)


@dataclass(frozen=True)
class FileRef:
    """Which .blend file: its path ("" while unsaved) and the id the add-on keeps inside it.

    The id survives Save As and unsaved files; the path finds a file saved before the
    id was put into it.
    """

    path: str = ""
    file_id: str = ""

    @property
    def label(self) -> str:
        return Path(self.path).name if self.path else "an unsaved file"


@dataclass
class Job:
    """A user request and everything known about its progress."""

    name: str
    kind: str  # "text", "image", "multi-image", "rig", "animate", "retexture", "refine", "import"
    stages: list[Stage]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: JobState = JobState.QUEUED
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    #: Import into the scene when finished (False for headless `-o model.glb`).
    import_result: bool = True
    message: str = ""
    error: str = ""
    error_code: str = ""
    #: The headless command's exit code for this job's error (see api.errors), 0 while none.
    exit_code: int = 0
    download_fraction: float = 0.0
    #: Downloaded files by role: "model", and for a rig "walking", "running"; concept pictures "image_1"….
    files: dict[str, str] = field(default_factory=dict)
    imported_objects: list[str] = field(default_factory=list)
    #: The .blend the job was asked from; its result is imported only there (see :meth:`belongs_to`).
    file_path: str = ""
    file_id: str = ""
    #: Imported into a file that has not been saved since: closing that file unsaved loses the result.
    import_unsaved: bool = False

    @property
    def makes_images(self) -> bool:
        """Whether the job's result is concept pictures (PNGs kept in its folder), not a model to import."""
        return bool(self.stages) and self.stages[-1].kind in IMAGE_KINDS

    @property
    def files_on_disk(self) -> bool:
        """Whether the model or pictures (and every other downloaded file) are still where they were downloaded."""
        main = bool(self.files) if self.makes_images else "model" in self.files
        return main and all(Path(path).is_file() for path in self.files.values())

    @property
    def file(self) -> FileRef:
        return FileRef(self.file_path, self.file_id)

    def bind(self, file: FileRef) -> None:
        """Import the result into ``file`` (the file it is asked from, or "Import here")."""
        self.file_path, self.file_id = file.path, file.file_id

    def belongs_to(self, file: FileRef) -> bool:
        """Whether the result may be imported into ``file``: a job bound to no file goes anywhere."""
        if not self.file_path and not self.file_id:
            return True
        same_id = bool(self.file_id) and self.file_id == file.file_id
        same_path = bool(self.file_path) and self.file_path == file.path
        return same_id or same_path

    @property
    def current_stage(self) -> Stage:
        for stage in self.stages:
            if not stage.succeeded:
                return stage
        return self.stages[-1]

    @property
    def final_task_id(self) -> str:
        return self.stages[-1].task_id

    @property
    def progress(self) -> float:
        """Overall progress 0–1 across stages and the download."""
        if self.state in (JobState.READY, JobState.IMPORTED, JobState.DONE):
            return 1.0
        done = sum(1.0 if s.succeeded else s.progress / 100.0 for s in self.stages)
        if self.state is JobState.DOWNLOADING:
            done = len(self.stages) * (0.95 + 0.05 * self.download_fraction)
        return min(1.0, done / max(1, len(self.stages)))

    @property
    def expects_pbr(self) -> bool:
        """Whether the model it imports was asked for with PBR maps (metallic, roughness, normal)."""
        return bool(self.stages) and bool(self.stages[-1].body.get("enable_pbr"))

    @property
    def estimated_credits(self) -> int:
        return sum(s.estimated_credits for s in self.stages)

    @property
    def consumed_credits(self) -> int:
        return sum(s.consumed_credits or 0 for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, to be serialized at once: it shares the job's dicts and lists.

        Not ``dataclasses.asdict``: its deep copy made saving 200 jobs take 23 ms of the
        interpreter's lock, which Blender's main thread then waited for.
        """
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["state"] = self.state.value
        data["stages"] = [stage.to_dict() for stage in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["stages"] = [Stage.from_dict(s) for s in data["stages"]]
        fields["state"] = JobState(data["state"])
        return cls(**fields)
