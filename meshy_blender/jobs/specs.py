"""The generation requests of the headless command, described once.

A request is a *kind* (``text-to-3d``, ``rig``…) and flat *values*: its inputs (prompt,
images, model…) and the Meshy API fields it sets, named exactly as in the API. The
command-line options, the batch manifest's columns and the job built from either all
come from the tables here, so the two front ends cannot drift apart. Choices are the
API layer's own constants; everything else is checked by ``api.validation`` when the
job is planned (nothing is sent before that passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import catalogue, limits
from ..api import images as concept
from ..api import validation as v
from ..api.errors import ValidationError
from ..api.tasks import TaskKind
from . import plans
from .model import Job

KINDS = ("text-to-3d", "image-to-3d", "multi-image-to-3d", "rig", "animate", "retexture", "uv-unwrap", "resize")
#: The model tools that make a new GLB from a model (a file or a finished task), by their API task kind.
TOOL_KINDS = {"uv-unwrap": TaskKind.UV_UNWRAP, "resize": TaskKind.RESIZE}
#: Concept images: commands of their own that write PNGs (``-o DIR``), not batch rows.
IMAGE_KINDS = ("text-to-image", "image-to-image")


def _model_help() -> str:
    cat = catalogue.load()
    offered = ", ".join(model.id for model in cat.offered("text-to-3d"))
    return (
        f"Meshy model id; today {offered} ('latest' is {cat.label(cat.latest)} today); any other id is sent as given, "
        "a retired one is refused naming its replacement"
    )


@dataclass(frozen=True)
class Field:
    name: str
    type: type  # str, int, float, bool or list (of str)
    help: str
    choices: tuple[Any, ...] = ()  # for a list: the allowed items
    #: A local file (relative paths are resolved), an http(s) URL or a data URI.
    is_file: bool = False
    #: Given once or several times (``--action-id 1 --action-id 13``; a list in a manifest, ``1;13`` in CSV).
    repeatable: bool = False


_FIELDS = (
    # inputs
    Field("prompt", str, "what to generate (at most 600 characters)"),
    Field("refine", bool, "also texture the preview (a second, refine task)"),
    Field("images", list, "image files (PNG/JPEG) or URLs of the object", is_file=True),
    Field("model", str, "a GLB file or URL of the model", is_file=True),
    Field("task_id", str, "the id of a finished Meshy task to use as the model (input_task_id)"),
    Field(
        "input_task_id",
        str,
        "a finished text-to-image or image-to-image task: its pictures are used, nothing is uploaded "
        "(instead of IMAGE files)",
    ),
    Field("rig_task_id", str, "the id of a finished rigging task"),
    Field(
        "action_id",
        int,
        "an animation's number in Meshy's animation library (e.g. 0 Idle); repeat it for several actions, "
        "which come back as one file with a clip each",
        repeatable=True,
    ),
    Field("text_style_prompt", str, "the new texture, described in words"),
    Field("image_style_url", str, "an image (file or URL) whose style the new texture copies", is_file=True),
    # API options
    Field("ai_model", str, _model_help()),
    Field("model_type", str, "standard mesh or Smart Topology (set by the meshy-t2 models)", v.MODEL_TYPES),
    Field("topology", str, "mesh faces", v.TOPOLOGIES),
    Field("target_polycount", int, f"target number of faces ({v.MIN_POLYCOUNT}-{v.MAX_POLYCOUNT})"),
    Field("should_remesh", bool, "remesh to the target topology and polycount"),
    Field("save_pre_remeshed_model", bool, "also keep the model before remeshing"),
    Field("symmetry_mode", str, "symmetry of the generated shape", v.SYMMETRY_MODES),
    Field("pose_mode", str, "pose of a character ('' for none)", v.POSE_MODES),
    Field("art_style", str, "art style (deprecated by Meshy)", v.ART_STYLES),
    Field("negative_prompt", str, "what to avoid (older models)"),
    Field("seed", int, "random seed (older models)"),
    Field("moderation", bool, "screen the input for harmful content"),
    Field("target_formats", list, "formats Meshy should produce (must include glb)", v.FORMATS),
    Field("auto_size", bool, "scale the model to a real-world size"),
    Field("origin_at", str, "where the model's origin lies", v.ORIGINS),
    Field("resize_height", float, "resize: the model's height in metres"),
    Field("resize_longest_side", float, "resize: the model's longest side in metres"),
    Field("alpha_thumbnail", bool, "thumbnail with a transparent background"),
    Field("multi_view_thumbnails", bool, "four thumbnails, one per side"),
    Field("geometry_resolution", str, "mesh detail (2k and 4k: Meshy-7.1)", v.GEOMETRY_RESOLUTIONS),
    Field("decimation_mode", int, "how Meshy reduces the mesh", v.DECIMATION_MODES),
    Field("texture_resolution", str, "texture size (Meshy-6 Lite: 2k only)", v.TEXTURE_RESOLUTIONS),
    Field("should_texture", bool, "texture the model (needed for PBR and texture prompts)"),
    Field("enable_pbr", bool, "PBR maps: metallic, roughness, normal"),
    Field("hd_texture", bool, "high-resolution base colour texture"),
    Field("texture_prompt", str, "describe the texture in words (at most 600 characters)"),
    Field("texture_image_url", str, "an image (file or URL) guiding the texture", is_file=True),
    Field("remove_lighting", bool, "remove baked-in highlights and shadows"),
    Field("image_enhancement", bool, "let Meshy enhance the input image"),
    Field("height_meters", float, "the character's height in metres (default 1.7)"),
    Field("enable_original_uv", bool, "keep the model's own UV layout"),
    Field("operation_type", str, "post-process the animation (post_process.operation_type)", v.POST_PROCESS_OPERATIONS),
    Field("fps", int, "frame rate of the animation (post_process.fps; implies change_fps)", v.POST_PROCESS_FPS),
    Field("generate_multi_view", bool, "four views of the subject (for multi-image to 3D) instead of one picture"),
    Field(
        "aspect_ratio",
        str,
        "shape of the pictures (3:2 and 2:3: GPT Image models only)",
        limits.ASPECT_RATIOS + limits.GPT_IMAGE_RATIOS,
    ),
)
FIELDS: dict[str, Field] = {field.name: field for field in _FIELDS}
#: ``ai_model`` of the image kinds: an image model, any id (one Meshy adds later is sent as given).
IMAGE_MODEL = Field(
    "ai_model",
    str,
    f"image model: {', '.join(concept.model_ids())} (default {concept.default_model()}); another id is sent as given",
)

_PREVIEW = (
    "ai_model",
    "model_type",
    "topology",
    "target_polycount",
    "should_remesh",
    "symmetry_mode",
    "pose_mode",
    "art_style",
    "negative_prompt",
    "seed",
    "moderation",
    "target_formats",
    "auto_size",
    "origin_at",
    "alpha_thumbnail",
    "multi_view_thumbnails",
    "geometry_resolution",
    "decimation_mode",
)
_REFINE = (
    "ai_model",
    "moderation",
    "target_formats",
    "enable_pbr",
    "hd_texture",
    "texture_resolution",
    "texture_prompt",
    "texture_image_url",
    "remove_lighting",
)
#: Options of the refine task only: they need ``refine``.
REFINE_ONLY = tuple(name for name in _REFINE if name not in _PREVIEW)
_IMAGE = (
    "ai_model",
    "model_type",
    "topology",
    "target_polycount",
    "should_remesh",
    "save_pre_remeshed_model",
    "symmetry_mode",
    "pose_mode",
    "moderation",
    "target_formats",
    "auto_size",
    "origin_at",
    "alpha_thumbnail",
    "multi_view_thumbnails",
    "geometry_resolution",
    "decimation_mode",
    "should_texture",
    "enable_pbr",
    "hd_texture",
    "texture_resolution",
    "texture_prompt",
    "texture_image_url",
    "remove_lighting",
    "image_enhancement",
)
_RETEXTURE = (
    "ai_model",
    "enable_original_uv",
    "enable_pbr",
    "hd_texture",
    "texture_resolution",
    "remove_lighting",
    "target_formats",
)

#: Inputs of each kind (how the model or subject is given).
INPUTS: dict[str, tuple[str, ...]] = {
    "text-to-3d": ("prompt", "refine"),
    "image-to-3d": ("images", "input_task_id"),
    "multi-image-to-3d": ("images", "input_task_id"),
    "rig": ("model", "task_id"),
    "animate": ("rig_task_id", "action_id"),
    "retexture": ("model", "task_id", "text_style_prompt", "image_style_url"),
    "uv-unwrap": ("model", "task_id"),
    "resize": ("model", "task_id"),
    "text-to-image": ("prompt",),
    "image-to-image": ("images", "prompt"),
}
#: API options of each kind.
OPTIONS: dict[str, tuple[str, ...]] = {
    "text-to-3d": tuple(dict.fromkeys(_PREVIEW + _REFINE)),
    "image-to-3d": _IMAGE,
    "multi-image-to-3d": _IMAGE,
    "rig": ("height_meters", "texture_image_url"),
    "animate": ("operation_type", "fps"),
    "retexture": _RETEXTURE,
    "uv-unwrap": (),
    "resize": ("resize_height", "resize_longest_side", "auto_size", "origin_at"),
    "text-to-image": ("ai_model", "generate_multi_view", "aspect_ratio", "pose_mode"),
    "image-to-image": ("ai_model", "generate_multi_view"),
}


def field_of(kind: str, name: str) -> Field:
    """The field ``name`` as ``kind`` takes it: the image kinds' ``ai_model`` names an image model."""
    return IMAGE_MODEL if name == "ai_model" and kind in IMAGE_KINDS else FIELDS[name]


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://", "data:"))


def resolve_files(values: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """``values`` with every local file made absolute against ``base``.

    Absolute paths keep a job's request the same wherever the command runs from, which
    is what lets a later run recognise (and resume) it.
    """

    def absolute(item: Any) -> Any:
        # Any other scheme (ftp://…) stays as given, for validation to refuse by name, not as a missing file.
        if not isinstance(item, str) or not item or is_url(item) or "://" in item:
            return item
        return str((base / Path(item).expanduser()).resolve())

    resolved = dict(values)
    for name, value in values.items():
        field = FIELDS.get(name)
        if field is not None and field.is_file:
            resolved[name] = [absolute(item) for item in value] if isinstance(value, list) else absolute(value)
    return resolved


def _pick(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[name] for name in names if name in values}


def _post_process(values: Mapping[str, Any]) -> dict[str, Any]:
    if "operation_type" not in values and "fps" not in values:
        return {}
    post = {"operation_type": values.get("operation_type", "change_fps")}
    if "fps" in values:
        post["fps"] = values["fps"]
    return {"post_process": post}


def build_job(kind: str, values: Mapping[str, Any], *, name: str = "") -> Job:
    """The job for one request; ValidationError names the problem (nothing is sent).

    ``values`` maps field names to values; None means "not given". File paths should
    already be absolute (see :func:`resolve_files`).
    """
    if kind not in KINDS + IMAGE_KINDS:
        raise ValidationError(f"Unknown kind {kind!r}; choose one of {', '.join(KINDS)}.", field="kind")
    given = {key: value for key, value in values.items() if value is not None}
    allowed = INPUTS[kind] + OPTIONS[kind]
    for key in given:
        if key not in allowed:
            raise ValidationError(f"'{key}' does not apply to {kind} (it takes: {', '.join(allowed)}).", field=key)
    if "glb" not in given.get("target_formats", ["glb"]):
        raise ValidationError(
            "'target_formats' must include glb: the result is downloaded as GLB.", field="target_formats"
        )
    options = _pick(given, OPTIONS[kind])
    if kind in IMAGE_KINDS:
        prompt = str(given.get("prompt", ""))
        return plans.concept_job(prompt, references=given.get("images", []), options=options, name=name)
    if kind == "text-to-3d":
        refine = bool(given.get("refine"))
        needs_refine = [key for key in REFINE_ONLY if key in given]
        if needs_refine and not refine:
            raise ValidationError(
                f"'{needs_refine[0]}' applies to the refine task: ask for refine too.", field=needs_refine[0]
            )
        return plans.text_job(
            str(given.get("prompt", "")),
            refine=refine,
            preview=_pick(options, _PREVIEW),
            refine_options=_pick(options, _REFINE),
            name=name,
        )
    if kind in ("image-to-3d", "multi-image-to-3d"):
        images = list(given.get("images", []))
        if "input_task_id" in given:
            if images:
                raise ValidationError(
                    "Give the image files or --input-task-id (the pictures of a concept task), not both.",
                    field="input_task_id",
                )
            multi = kind == "multi-image-to-3d"
            return plans.concept_3d_job(given["input_task_id"], multi_view=multi, options=options, name=name)
        if kind == "multi-image-to-3d" and not images:
            raise ValidationError(
                f"Multi-image to 3D needs 1 to {v.MAX_IMAGES} images (IMAGE …) or --input-task-id.", field="images"
            )
        if kind == "image-to-3d" and len(images) != 1:
            raise ValidationError(
                f"Image to 3D takes one image ({len(images)} given); use multi-image-to-3d for 2 to 4 views.",
                field="images",
            )
        return plans.image_job(images, options=options, name=name)
    named: dict[str, Any] = {"name": name} if name else {}  # else the plan's own default name
    if kind == "rig":
        return plans.rig_job(model=given.get("model"), input_task_id=given.get("task_id"), options=options, **named)
    if kind == "animate":
        if "rig_task_id" not in given or "action_id" not in given:
            raise ValidationError("Animate needs the rig's task id and an action id.", field="rig_task_id")
        return plans.animate_job(given["rig_task_id"], given["action_id"], options=_post_process(options), **named)
    if kind in TOOL_KINDS:
        return plans.tool_job(
            TOOL_KINDS[kind], model=given.get("model"), input_task_id=given.get("task_id"), options=options, name=name
        )
    return plans.retexture_job(
        model=given.get("model"),
        input_task_id=given.get("task_id"),
        text_style_prompt=given.get("text_style_prompt", ""),
        image_style=given.get("image_style_url", ""),
        options=options,
        name=name,
    )
