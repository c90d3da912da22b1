"""Turn a user's request into a Job: its stages, validated before anything is sent.

Every builder validates each stage's request with the API layer's rules, so bad input
is refused with a specific message on the spot (nothing sent, nothing paid) and the
job that is returned can be submitted as is. Linked stages (refine after preview) are
validated with a placeholder for the task id they will receive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..api import images as concept
from ..api import validation
from ..api.costs import estimate_credits
from ..api.errors import ValidationError
from ..api.tasks import TaskKind
from .model import Job, Stage

MAX_NAME_CHARS = 48
#: The kind of a job that makes concept pictures (they are kept, never imported as a model).
CONCEPT_KIND = "concept"
_LINK_PLACEHOLDER = "pending-task-id"


def display_name(text: str, fallback: str) -> str:
    """A short, readable object name from a prompt or file name."""
    words = re.sub(r"[^\w\s-]", " ", text).split()
    name = " ".join(words)[:MAX_NAME_CHARS].strip()
    return name or fallback


def _stage(kind: TaskKind, body: dict[str, Any], link_field: str = "") -> Stage:
    checked = dict(body)
    if link_field:
        checked[link_field] = _LINK_PLACEHOLDER
    validation.validate(kind, checked, encode=False)  # local files: judged once per file, never encoded here
    return Stage(kind=kind, body=dict(body), link_field=link_field, estimated_credits=estimate_credits(kind, checked))


def text_job(
    prompt: str,
    *,
    refine: bool = False,
    preview: dict[str, Any] | None = None,
    refine_options: dict[str, Any] | None = None,
    name: str = "",
) -> Job:
    """Text to 3D: a preview mesh, then (with ``refine``) the textured model."""
    stages = [_stage(TaskKind.TEXT_TO_3D, {"mode": "preview", "prompt": prompt, **(preview or {})})]
    if refine:
        stages.append(_stage(TaskKind.TEXT_TO_3D, {"mode": "refine", **(refine_options or {})}, "preview_task_id"))
    return Job(name=name or display_name(prompt, "Meshy model"), kind="text", stages=stages)


def refine_job(preview_task_id: str, *, name: str, options: dict[str, Any] | None = None) -> Job:
    """Texture a finished preview (the "Refine" action on a preview job)."""
    if not preview_task_id:
        raise ValidationError("Refine needs a finished preview: generate a preview first.", field="preview_task_id")
    body = {"mode": "refine", "preview_task_id": preview_task_id, **(options or {})}
    return Job(name=name, kind="refine", stages=[_stage(TaskKind.TEXT_TO_3D, body)])


def image_job(images: Sequence[str | Path], *, options: dict[str, Any] | None = None, name: str = "") -> Job:
    """One image → Image to 3D; two to four views of one object → Multi-image to 3D."""
    paths = [str(image) for image in images]
    first = paths[0] if paths else ""
    fallback = "Meshy model" if first.startswith("data:") else display_name(Path(first).stem, "Meshy model")
    if len(paths) == 1:
        stage = _stage(TaskKind.IMAGE_TO_3D, {"image_url": paths[0], **(options or {})})
        return Job(name=name or fallback, kind="image", stages=[stage])
    stage = _stage(TaskKind.MULTI_IMAGE_TO_3D, {"image_urls": paths, **(options or {})})
    return Job(name=name or fallback, kind="multi-image", stages=[stage])


def concept_job(
    prompt: str, *, references: Sequence[str | Path] = (), options: dict[str, Any] | None = None, name: str = ""
) -> Job:
    """Concept pictures: Text to image, or Image to image with reference pictures; none is imported."""
    body: dict[str, Any] = {"prompt": prompt, "ai_model": concept.default_model(), **(options or {})}
    kind = TaskKind.TEXT_TO_IMAGE
    if references:
        kind = TaskKind.IMAGE_TO_IMAGE
        body["reference_image_urls"] = [str(reference) for reference in references]
    job = Job(name=name or display_name(prompt, "Concept"), kind=CONCEPT_KIND, stages=[_stage(kind, body)])
    job.import_result = False
    return job


def concept_3d_job(
    input_task_id: str, *, multi_view: bool, options: dict[str, Any] | None = None, name: str = ""
) -> Job:
    """A model from a finished concept task's pictures, chained by ``input_task_id`` (nothing uploaded).

    ``multi_view``: Multi-image to 3D from its set of views; else Image to 3D from its picture.
    """
    if not input_task_id:
        raise ValidationError("No concept task given: generate concept pictures first.", field="input_task_id")
    kind, job_kind = (TaskKind.MULTI_IMAGE_TO_3D, "multi-image") if multi_view else (TaskKind.IMAGE_TO_3D, "image")
    stage = _stage(kind, {"input_task_id": input_task_id, **(options or {})})
    return Job(name=name or "Model from concept", kind=job_kind, stages=[stage])


def _model_source(model: str | Path | None, input_task_id: str | None, action: str) -> dict[str, Any]:
    if bool(model) == bool(input_task_id):
        raise ValidationError(f"{action} needs exactly one model: a selected mesh / GLB file, or a finished task.")
    return {"model_url": str(model)} if model else {"input_task_id": input_task_id}


def rig_job(
    *,
    model: str | Path | None = None,
    input_task_id: str | None = None,
    height_meters: float = 1.7,
    options: dict[str, Any] | None = None,
    name: str = "Rigged character",
) -> Job:
    """Rig a humanoid; the result is imported with its walking and running clips."""
    body = {**_model_source(model, input_task_id, "Rigging"), "height_meters": height_meters, **(options or {})}
    return Job(name=name, kind="rig", stages=[_stage(TaskKind.RIGGING, body)])


def animate_job(
    rig_task_id: str,
    action_id: int | Sequence[int],
    *,
    options: dict[str, Any] | None = None,
    name: str = "Animated character",
) -> Job:
    """Apply one library action or several: several go in one request and come back as one file, a clip each."""
    body = {"rig_task_id": rig_task_id, **validation.action_fields(action_id), **(options or {})}
    return Job(name=name, kind="animate", stages=[_stage(TaskKind.ANIMATION, body)])


def retexture_job(
    *,
    model: str | Path | None = None,
    input_task_id: str | None = None,
    text_style_prompt: str = "",
    image_style: str = "",
    options: dict[str, Any] | None = None,
    name: str = "",
) -> Job:
    body = _model_source(model, input_task_id, "Retexture")
    if text_style_prompt:
        body["text_style_prompt"] = text_style_prompt
    if image_style:
        body["image_style_url"] = image_style
    body.update(options or {})
    fallback = display_name(text_style_prompt, "Retextured model")
    return Job(name=name or fallback, kind="retexture", stages=[_stage(TaskKind.RETEXTURE, body)])


#: What a model tool's result is called after the model's name, and its job's kind.
TOOL_NAMES = {TaskKind.UV_UNWRAP: ("unwrapped", "uv-unwrap"), TaskKind.RESIZE: ("resized", "resize")}


def tool_job(
    kind: TaskKind,
    *,
    model: str | Path | None = None,
    input_task_id: str | None = None,
    options: dict[str, Any] | None = None,
    name: str = "",
) -> Job:
    """UV unwrap or resize a model (a GLB file or a finished task): a new GLB, imported like any result."""
    suffix, job_kind = TOOL_NAMES[kind]
    body = {**_model_source(model, input_task_id, kind.label), **(options or {})}
    fallback = display_name(Path(str(model)).stem if model else "Meshy model", "Meshy model")
    return Job(name=name or f"{fallback} {suffix}", kind=job_kind, stages=[_stage(kind, body)])


def existing_task_job(kind: TaskKind, task_id: str, *, name: str) -> Job:
    """Download and import a task that already exists on Meshy (task browser, ``--task-id``)."""
    if not task_id:
        raise ValidationError("No task id given.", field="task_id")
    return Job(name=name, kind="import", stages=[Stage(kind=kind, body={}, task_id=task_id)])
