"""Check a request body before anything is sent, so bad input costs nothing.

``validate(kind, body)`` returns a cleaned copy of the body or raises ValidationError
with a sentence that names the field. Local files (paths or bytes) become data URIs:
images must be PNG or JPEG and models GLB, judged by their bytes, never by their name.
``http(s)`` URLs pass through; data URIs are decoded and checked like files.

``validate(kind, body, encode=False)`` is the check made when a job is planned: a
local file is judged by its size and first bytes, once per version of the file (a
1,000-row manifest naming one 19 MB image read and encoded it 1,000 times: 56 s), and
stays a path. The data URI is made when the request is sent, from bytes checked again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import catalogue, glb_faces, limits
from . import images as concept
from .costs import endpoint_of
from .errors import ValidationError
from .limits import DECIMATION_MODES, MAX_IMAGES, MAX_POLYCOUNT, MIN_POLYCOUNT, POST_PROCESS_FPS
from .tasks import IMAGE_KINDS, TaskKind

MAX_PROMPT_CHARS = 600
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_MODEL_BYTES = 100 * 1024 * 1024

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
GLB_MAGIC = b"glTF"
#: Every PNG starts with its signature, then the 13-byte IHDR chunk (length, type, data, CRC).
PNG_HEADER = PNG_MAGIC + b"\x00\x00\x00\x0dIHDR"
PNG_HEADER_BYTES = len(PNG_HEADER) + 13 + 4
#: The first bytes of a file that every content check looks at (PNG header; JPEG and GLB magic).
_HEAD_BYTES = max(PNG_HEADER_BYTES, 12)

TOPOLOGIES = ("quad", "triangle")
SYMMETRY_MODES = ("off", "auto", "on")
POSE_MODES = ("a-pose", "t-pose", "")
#: "smart-topology" goes with the meshy-t2 models; the retired "lowpoly" is refused by the catalogue, which names them.
MODEL_TYPES = ("standard", "smart-topology")
TEXTURE_RESOLUTIONS = ("2k", "4k", "8k")
GEOMETRY_RESOLUTIONS = ("standard", "2k", "4k")
ART_STYLES = ("realistic", "sculpture")
ORIGINS = ("bottom", "center")
FORMATS = ("glb", "obj", "fbx", "stl", "usdz", "3mf")
POST_PROCESS_OPERATIONS = ("change_fps", "fbx2usdz", "extract_armature")
#: What Convert makes (Remesh and Convert can also give a .blend).
CONVERT_FORMATS = ("glb", "fbx", "obj", "usdz", "blend", "stl", "3mf")
#: Resize's ways to size a model: exactly one is given.
RESIZE_MODES = ("resize_height", "resize_longest_side", "auto_size")

_IMAGE_MIMES = {"image/png": PNG_MAGIC, "image/jpeg": JPEG_MAGIC}
_MODEL_MIMES = ("application/octet-stream", "model/gltf-binary")
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)((?:;[\w.+-]+=[^;,]*)*);base64,(.*)", re.IGNORECASE | re.DOTALL)

Check = Callable[[str, Any], Any]


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(message, field=field)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# -- files and data URIs ------------------------------------------------------------


def _sniff_image(data: bytes) -> str:
    """The image's MIME type by its first bytes, or "" when it is not PNG or JPEG."""
    for mime, magic in _IMAGE_MIMES.items():
        if data.startswith(magic):
            return mime
    return ""


def _is_glb(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == GLB_MAGIC and struct.unpack_from("<I", data, 4)[0] == 2


def _too_big(name: str, size: int, limit: int, what: str, field: str) -> ValidationError:
    return _fail(f"'{name}' is {_megabytes(size)}; {what}s sent to Meshy may be at most {_megabytes(limit)}.", field)


def _local_size(path: Path, limit: int, what: str, field: str) -> int:
    """The size of the file at ``path``, or ValidationError when it is missing, a folder or too big."""
    if path.is_dir():
        raise _fail(f"{what.capitalize()} '{path}' is a folder, not a file.", field)
    if not path.is_file():
        raise _fail(f"{what.capitalize()} file not found: {path}", field)
    size = path.stat().st_size
    if size > limit:
        raise _too_big(path.name, size, limit, what, field)
    return size


def _read_local(path: Path, limit: int, what: str, field: str) -> bytes:
    _local_size(path, limit, what, field)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(f"Could not read '{path}': {exc.strerror or exc}.", field) from exc


@functools.lru_cache(maxsize=4096)
def _cached_head(path: Path, version: tuple[int, int, int, int]) -> bytes:
    """The first bytes of one version of a file (``version``: device, inode, size, mtime)."""
    with path.open("rb") as file:
        return file.read(_HEAD_BYTES)


def _local_head(path: Path, limit: int, what: str, field: str) -> tuple[bytes, int]:
    """The first bytes and the size of a local file, read once per version of it."""
    size = _local_size(path, limit, what, field)
    try:
        info = path.stat()
        return _cached_head(path, (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)), size
    except OSError as exc:
        raise _fail(f"Could not read '{path}': {exc.strerror or exc}.", field) from exc


def _image_mime(data: bytes, name: str, field: str, size: int | None = None) -> str:
    """The MIME type of an image after checking its size and kind (``data``: all of it, or its head and ``size``)."""
    size = len(data) if size is None else size
    if size > MAX_IMAGE_BYTES:
        raise _too_big(name, size, MAX_IMAGE_BYTES, "image", field)
    mime = _sniff_image(data)
    if not mime:
        raise _fail(f"'{name}' is not a PNG or JPEG image (judged by its contents); Meshy accepts only those.", field)
    if mime == "image/png" and not (len(data) >= PNG_HEADER_BYTES and data.startswith(PNG_HEADER)):
        raise _fail(f"'{name}' is a damaged PNG image: its header is missing or cut short.", field)
    return mime


def _check_model(data: bytes, name: str, field: str, action: str, size: int | None = None) -> None:
    size = len(data) if size is None else size
    if size > MAX_MODEL_BYTES:
        raise _too_big(name, size, MAX_MODEL_BYTES, "model", field)
    if not _is_glb(data):
        raise _fail(f"{action} needs a GLB model (binary glTF 2.0); '{name}' is not one.", field)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _decode_data_uri(uri: str, allowed: Sequence[str], limit: int, field: str) -> tuple[str, bytes]:
    match = _DATA_URI.fullmatch(uri)
    if not match:
        raise _fail(f"'{field}' is not a base64 data URI (data:<type>;base64,<data>).", field)
    mime, payload = match.group(1).lower(), match.group(3)
    if mime not in allowed:
        raise _fail(f"'{field}' is a data URI of type {mime!r}; allowed types: {', '.join(allowed)}.", field)
    if len(payload) * 3 // 4 > limit:
        raise _fail(f"'{field}' holds more than {_megabytes(limit)}, the most Meshy accepts.", field)
    try:
        return mime, base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"'{field}' is a data URI whose base64 data is damaged.", field) from None


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _reference(value: Any, field: str) -> str | Path | bytes:
    """A URL or data URI (str), a local file (Path) or raw bytes, or ValidationError."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"'{field}' must be a file, a URL or a data URI.", field)
    value = value.strip()
    if _is_url(value) or value[:5].lower() == "data:":
        return value
    if "://" in value:
        raise _fail(f"'{field}' must be an http(s) URL, a data URI or a local file; got {value!r}.", field)
    return Path(value).expanduser()


def image_to_data_uri(path: str | Path, field: str = "image_url") -> str:
    """A PNG or JPEG file as a ``data:image/…;base64,`` URI, checked by its bytes."""
    file = Path(path).expanduser()
    data = _read_local(file, MAX_IMAGE_BYTES, "image", field)
    return _data_uri(_image_mime(data, file.name, field), data)


@dataclass(frozen=True)
class _LocalFile:
    """A local file judged by its size and first bytes; :meth:`data_uri` reads and checks all of it."""

    path: Path
    field: str
    #: For a model: the action named in its errors ("Rigging"); "" for an image.
    model_for: str = ""

    def data_uri(self) -> str:
        if not self.model_for:
            return image_to_data_uri(self.path, self.field)
        data = _read_local(self.path, MAX_MODEL_BYTES, "model", self.field)
        _check_model(data, self.path.name, self.field, self.model_for)
        return _data_uri("application/octet-stream", data)


def _finish(value: Any, encode: bool) -> Any:
    """``value`` with each checked local file as a data URI (``encode``) or as its path."""
    if isinstance(value, _LocalFile):
        return value.data_uri() if encode else str(value.path)
    if isinstance(value, list):
        return [_finish(item, encode) for item in value]
    return value


def _image(field: str, value: Any) -> str | _LocalFile:
    ref = _reference(value, field)
    if isinstance(ref, Path):
        head, size = _local_head(ref, MAX_IMAGE_BYTES, "image", field)
        _image_mime(head, ref.name, field, size)
        return _LocalFile(ref, field)
    if isinstance(ref, bytes):
        return _data_uri(_image_mime(ref, "the image", field), ref)
    if _is_url(ref):
        return ref
    declared, data = _decode_data_uri(ref, tuple(_IMAGE_MIMES), MAX_IMAGE_BYTES, field)
    if _image_mime(data, field, field) != declared:
        raise _fail(f"'{field}' says it is {declared} but its data is a different kind of image.", field)
    return ref


def _model(action: str) -> Check:
    def check(field: str, value: Any) -> str | _LocalFile:
        ref = _reference(value, field)
        if isinstance(ref, str) and _is_url(ref):
            return ref
        if isinstance(ref, str):
            _, data = _decode_data_uri(ref, _MODEL_MIMES, MAX_MODEL_BYTES, field)
            _check_model(data, field, field, action)
            return ref
        if isinstance(ref, Path):
            head, size = _local_head(ref, MAX_MODEL_BYTES, "model", field)
            _check_model(head, ref.name, field, action, size)
            return _LocalFile(ref, field, model_for=action)
        _check_model(ref, "the model", field, action)
        return _data_uri("application/octet-stream", ref)

    return check


# -- field checks -------------------------------------------------------------------


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(f"'{field}' must be text.", field)
    if not value.strip():
        raise _fail(f"'{field}' is empty: write a short description (at most {MAX_PROMPT_CHARS} characters).", field)
    if len(value) > MAX_PROMPT_CHARS:
        raise _fail(f"'{field}' is {len(value)} characters long; Meshy accepts at most {MAX_PROMPT_CHARS}.", field)
    return value


def _choice(allowed: Sequence[Any]) -> Check:
    def check(field: str, value: Any) -> Any:
        if isinstance(value, bool) or value not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise _fail(f"'{field}' must be one of {listed} (got {value!r}).", field)
        return value

    return check


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(f"'{field}' must be true or false (got {value!r}).", field)
    return value


def _whole(field: str, value: Any, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low:,} to {high:,}" if high is not None else f"of at least {low}"
        raise _fail(f"'{field}' must be a whole number {span} (got {value!r}).", field)
    return value


def _polycount(field: str, value: Any) -> int:
    return _whole(field, value, MIN_POLYCOUNT, MAX_POLYCOUNT)


def _count(field: str, value: Any) -> int:
    return _whole(field, value, 0, None)


def _number(minimum: float, inclusive: bool) -> Check:
    def check(field: str, value: Any) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (value < minimum if inclusive else value <= minimum):
            bound = f"at least {minimum:g}" if inclusive else f"greater than {minimum:g}"
            raise _fail(f"'{field}' must be a number {bound} (got {value!r}).", field)
        return value

    return check


def _task_id(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"'{field}' must be the id of a Meshy task.", field)
    return value.strip()


def _format_list(allowed: Sequence[str], offered: str) -> Check:
    """A list of file formats from ``allowed`` (duplicates dropped); ``offered`` names them in the error."""

    def check(field: str, value: Any) -> list[str]:
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise _fail(f"'{field}' must be a list of formats chosen from {', '.join(allowed)}.", field)
        for item in value:
            if item not in allowed:
                raise _fail(f"'{field}' has unknown format {item!r}; {offered} {', '.join(allowed)}.", field)
        return list(dict.fromkeys(value))

    return check


_formats = _format_list(FORMATS, "allowed:")


def _image_list(most: int, action: str, what: str = "images") -> Check:
    def check(field: str, value: Any) -> list[str | _LocalFile]:
        if isinstance(value, (str, bytes, Path)) or not isinstance(value, Sequence):
            raise _fail(f"'{field}' must be a list of 1 to {most} images.", field)
        if not 1 <= len(value) <= most:
            raise _fail(f"{action} 1 to {most} {what}; got {len(value)}.", field)
        return [_image(field, item) for item in value]

    return check


_images = _image_list(MAX_IMAGES, "Multi-image to 3D needs", "images of the same object")


def _model_id(field: str, value: Any) -> str:
    """Any model id: one Meshy released after this add-on is sent as given, and Meshy decides.

    Retired models are refused by the catalogue (see :func:`_model_rules`), not here.
    """
    if not isinstance(value, str) or not value.strip() or not value.strip().isprintable():
        raise _fail(f"'{field}' must name a Meshy model, e.g. 'latest' or {concept.default_model()!r}.", field)
    return value.strip()


def _action_ids(field: str, value: Any) -> list[int]:
    """Several library actions (one clip each); an id the local library does not know goes to Meshy as given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise _fail(f"'{field}' must be a list of animation ids from Meshy's library, e.g. [1, 13].", field)
    return list(dict.fromkeys(_count(field, item) for item in value))


def action_fields(action_id: int | Sequence[int]) -> dict[str, Any]:
    """The request fields for one action (``action_id``) or several (``action_ids``), as Meshy documents them."""
    if isinstance(action_id, (str, bytes)) or not isinstance(action_id, Sequence):
        return {"action_id": action_id}
    ids = list(dict.fromkeys(action_id))
    return {"action_id": ids[0]} if len(ids) == 1 else {"action_ids": ids}


_POST_PROCESS: dict[str, Check] = {
    "operation_type": _choice(POST_PROCESS_OPERATIONS),
    "fps": _choice(POST_PROCESS_FPS),
}


def _post_process(field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"'{field}' must be an object with 'operation_type' and optionally 'fps'.", field)
    if "operation_type" not in value:
        raise _fail(f"'{field}' needs an 'operation_type' ({', '.join(POST_PROCESS_OPERATIONS)}).", field)
    return _check_fields(value, _POST_PROCESS, f"'{field}'")


_convert_formats = _format_list(CONVERT_FORMATS, "Convert makes")


def _model_description(ref: str | Path | bytes, field: str) -> dict[str, Any] | None:
    """The JSON description of a GLB given as a file, bytes or data URI; None for a URL (Meshy reads it)."""
    if isinstance(ref, Path):
        return glb_faces.read_description(ref)
    if isinstance(ref, bytes):
        return glb_faces.glb_description(ref)
    if _is_url(ref):
        return None
    return glb_faces.glb_description(_decode_data_uri(ref, _MODEL_MIMES, MAX_MODEL_BYTES, field)[1])


def _unwrappable_model(field: str, value: Any) -> str | _LocalFile:
    """A GLB for UV Unwrap, refused with its face count when over Meshy's limit (nothing is uploaded)."""
    checked = _model("UV unwrap")(field, value)
    ref = _reference(value, field)
    try:
        document = _model_description(ref, field)
    except (glb_faces.UnreadableModelError, OSError) as error:
        raise _fail(f"Cannot count the faces of the model: {error}.", field) from None
    if document is None:
        return checked
    faces = glb_faces.count_faces(document)
    if faces > glb_faces.MAX_UV_UNWRAP_FACES:
        raise _fail(
            f"The model has {faces:,} faces; Meshy's UV Unwrap takes at most {glb_faces.MAX_UV_UNWRAP_FACES:,}. "
            "Reduce it first (Remesh, or a Decimate modifier).",
            field,
        )
    return checked


# -- schemas ------------------------------------------------------------------------

_GENERATION: dict[str, Check] = {
    "ai_model": _model_id,
    "topology": _choice(TOPOLOGIES),
    "target_polycount": _polycount,
    "symmetry_mode": _choice(SYMMETRY_MODES),
    "should_remesh": _flag,
    "pose_mode": _choice(POSE_MODES),
    "model_type": _choice(MODEL_TYPES),
    "moderation": _flag,
    "target_formats": _formats,
    "auto_size": _flag,
    "origin_at": _choice(ORIGINS),
    "geometry_resolution": _choice(GEOMETRY_RESOLUTIONS),
    "decimation_mode": _choice(DECIMATION_MODES),
    "alpha_thumbnail": _flag,
    "multi_view_thumbnails": _flag,
}
_TEXTURING: dict[str, Check] = {
    "enable_pbr": _flag,
    "hd_texture": _flag,
    "texture_resolution": _choice(TEXTURE_RESOLUTIONS),
    "texture_prompt": _text,
    "texture_image_url": _image,
    "remove_lighting": _flag,
}
_IMAGE_OPTIONS: dict[str, Check] = {
    **_GENERATION,
    **_TEXTURING,
    "save_pre_remeshed_model": _flag,
    "should_texture": _flag,
    "image_enhancement": _flag,
}

PREVIEW_FIELDS: dict[str, Check] = {
    **_GENERATION,
    "prompt": _text,
    "art_style": _choice(ART_STYLES),
    "negative_prompt": _text,
    "seed": _count,
}
REFINE_FIELDS: dict[str, Check] = {
    **_TEXTURING,
    "preview_task_id": _task_id,
    "ai_model": _model_id,
    "moderation": _flag,
    "target_formats": _formats,
}
_CONCEPT: dict[str, Check] = {"ai_model": _model_id, "prompt": _text, "generate_multi_view": _flag}
_SCHEMAS: dict[TaskKind, dict[str, Check]] = {
    TaskKind.IMAGE_TO_3D: {**_IMAGE_OPTIONS, "image_url": _image, "input_task_id": _task_id},
    TaskKind.MULTI_IMAGE_TO_3D: {**_IMAGE_OPTIONS, "image_urls": _images, "input_task_id": _task_id},
    TaskKind.TEXT_TO_IMAGE: {
        **_CONCEPT,
        "aspect_ratio": _choice(limits.ASPECT_RATIOS + limits.GPT_IMAGE_RATIOS),
        "pose_mode": _choice(concept.IMAGE_POSE_MODES),
    },
    TaskKind.IMAGE_TO_IMAGE: {
        **_CONCEPT,
        "reference_image_urls": _image_list(limits.MAX_REFERENCE_IMAGES, "Image to image takes"),
    },
    TaskKind.RIGGING: {
        "input_task_id": _task_id,
        "model_url": _model("Rigging"),
        "height_meters": _number(0, inclusive=False),
        "texture_image_url": _image,
    },
    TaskKind.ANIMATION: {
        "rig_task_id": _task_id,
        "action_id": _count,
        "action_ids": _action_ids,
        "post_process": _post_process,
    },
    TaskKind.RETEXTURE: {
        "input_task_id": _task_id,
        "model_url": _model("Retexture"),
        "text_style_prompt": _text,
        "image_style_url": _image,
        "ai_model": _model_id,
        "enable_original_uv": _flag,
        "enable_pbr": _flag,
        "hd_texture": _flag,
        "texture_resolution": _choice(TEXTURE_RESOLUTIONS),
        "remove_lighting": _flag,
        "target_formats": _formats,
    },
    TaskKind.REMESH: {
        "input_task_id": _task_id,
        "model_url": _model("Remesh"),
        "target_formats": _formats,
        "topology": _choice(TOPOLOGIES),
        "target_polycount": _polycount,
        "resize_height": _number(0, inclusive=True),
        "origin_at": _choice(ORIGINS),
    },
    TaskKind.UV_UNWRAP: {"input_task_id": _task_id, "model_url": _unwrappable_model},
    TaskKind.RESIZE: {
        "input_task_id": _task_id,
        "model_url": _model("Resize"),
        "resize_height": _number(0, inclusive=False),
        "resize_longest_side": _number(0, inclusive=False),
        "auto_size": _flag,
        "origin_at": _choice(ORIGINS),
    },
    TaskKind.CONVERT: {"input_task_id": _task_id, "model_url": _model("Convert"), "target_formats": _convert_formats},
}


def _check_fields(body: Mapping[str, Any], schema: Mapping[str, Check], label: str) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in body.items():
        check = schema.get(name)
        if check is None:
            known = ", ".join(sorted(schema))
            raise _fail(f"unknown option '{name}' for {label} (known options: {known}).", str(name))
        cleaned[name] = check(name, value)
    return cleaned


def _require(body: Mapping[str, Any], field: str, message: str) -> None:
    if field not in body:
        raise _fail(message, field)


def _one_model_source(body: Mapping[str, Any], action: str) -> None:
    has_task, has_model = "input_task_id" in body, "model_url" in body
    if has_task == has_model:
        raise _fail(
            f"{action} needs exactly one model: 'input_task_id' (a finished Meshy task) or 'model_url' "
            "(a GLB file or URL).",
            "model_url",
        )


def _texturing_needs_texture(body: Mapping[str, Any]) -> None:
    if body.get("should_texture") is not False:
        return
    for field in ("enable_pbr", "texture_prompt", "texture_image_url"):
        if body.get(field) not in (None, False):
            raise _fail(f"'{field}' needs 'should_texture': it only applies when the model is textured.", field)


def _concept_rules(kind: TaskKind, body: Mapping[str, Any]) -> None:
    _require(body, "ai_model", f"{kind.label} needs 'ai_model', e.g. {concept.default_model()!r}.")
    _require(body, "prompt", f"{kind.label} needs a 'prompt' describing the picture.")
    if kind is TaskKind.IMAGE_TO_IMAGE:
        _require(
            body,
            "reference_image_urls",
            f"Image to image needs 'reference_image_urls': 1 to {limits.MAX_REFERENCE_IMAGES} images.",
        )
    ratio = body.get("aspect_ratio")
    if ratio is None:
        return
    if body.get("generate_multi_view"):
        raise _fail(
            "'aspect_ratio' cannot go with 'generate_multi_view': Meshy lays out the views itself.", "aspect_ratio"
        )
    if not concept.draws_ratio(body["ai_model"], ratio):
        raise _fail(
            f"'aspect_ratio' {ratio!r} is drawn only by the GPT Image models; {body['ai_model']!r} draws "
            f"{', '.join(limits.ASPECT_RATIOS)}.",
            "aspect_ratio",
        )


def _model_rules(endpoint: str, body: Mapping[str, Any]) -> None:
    """Refuse what the catalogue says Meshy would refuse: a retired model or option, a value the model cannot make."""
    refusal = catalogue.load().refusal(endpoint, body)
    if refusal is not None:
        raise _fail(refusal.message, refusal.field)


def _pre_remeshed_needs_remesh(endpoint: str, body: Mapping[str, Any]) -> None:
    """``save_pre_remeshed_model`` only acts when the model is remeshed, which Meshy-6+ does only when asked."""
    if not body.get("save_pre_remeshed_model"):
        return
    cat = catalogue.load()
    model = body.get("ai_model") or cat.default_model(endpoint)
    if not body.get("should_remesh", cat.default(model, "should_remesh", True)):
        known = cat.resolve(model)
        raise _fail(
            f"'save_pre_remeshed_model' keeps the model from before remeshing, but {known.label if known else model} "
            "does not "
            "remesh unless asked: set 'should_remesh' too.",
            "save_pre_remeshed_model",
        )


def _label(kind: TaskKind, body: Mapping[str, Any]) -> str:
    label = kind.label[0].lower() + kind.label[1:]
    return f"{label} {body['mode']}" if kind is TaskKind.TEXT_TO_3D else label


def validate(kind: TaskKind, body: Mapping[str, Any], *, encode: bool = True) -> dict[str, Any]:
    """The cleaned body for a create request of ``kind``, or ValidationError naming the field.

    Options set to None count as not given. With ``encode`` local files become data URIs
    (what is sent); without, they are checked by size and first bytes only, once per
    version of each file, and stay paths (what planning a job needs).
    """
    return {name: _finish(value, encode) for name, value in _validate(kind, body).items()}


def _checked(kind: TaskKind, given: Mapping[str, Any], schema: Mapping[str, Check], label: str) -> dict[str, Any]:
    """The fields checked one by one after the catalogue's model rules, with what the model needs added."""
    endpoint = endpoint_of(kind)
    _model_rules(endpoint, given)
    cleaned = _check_fields(given, schema, label)
    return catalogue.load().completed(endpoint, cleaned) if "model_type" in schema else cleaned


def _validate(kind: TaskKind, body: Mapping[str, Any]) -> dict[str, Any]:
    given = {name: value for name, value in body.items() if value is not None}
    if kind is TaskKind.TEXT_TO_3D:
        mode = given.pop("mode", None)
        if mode not in ("preview", "refine"):
            raise _fail(f"'mode' must be 'preview' or 'refine' (got {mode!r}).", "mode")
        schema = PREVIEW_FIELDS if mode == "preview" else REFINE_FIELDS
        cleaned = {"mode": mode, **_checked(kind, given, schema, _label(kind, body))}
        if mode == "preview":
            _require(cleaned, "prompt", "Text to 3D needs a 'prompt' describing the model.")
        else:
            _require(cleaned, "preview_task_id", "Refine needs 'preview_task_id', the id of a finished preview task.")
        return cleaned
    cleaned = _checked(kind, given, _SCHEMAS[kind], _label(kind, body))
    if kind in (TaskKind.IMAGE_TO_3D, TaskKind.MULTI_IMAGE_TO_3D):
        _pre_remeshed_needs_remesh(endpoint_of(kind), cleaned)
    if kind is TaskKind.IMAGE_TO_3D:
        if ("image_url" in cleaned) == ("input_task_id" in cleaned):
            raise _fail("Image to 3D needs exactly one input: 'image_url' (an image) or 'input_task_id'.", "image_url")
        _texturing_needs_texture(cleaned)
    elif kind is TaskKind.MULTI_IMAGE_TO_3D:
        if ("image_urls" in cleaned) == ("input_task_id" in cleaned):
            raise _fail(
                f"Multi-image to 3D needs exactly one input: 'image_urls' (1 to {MAX_IMAGES} images) or "
                "'input_task_id' (a finished text-to-image or image-to-image task).",
                "image_urls",
            )
        _texturing_needs_texture(cleaned)
    elif kind in IMAGE_KINDS:
        _concept_rules(kind, cleaned)
    elif kind is TaskKind.RIGGING:
        _one_model_source(cleaned, "Rigging")
    elif kind is TaskKind.ANIMATION:
        _require(cleaned, "rig_task_id", "Animation needs 'rig_task_id', the id of a finished rigging task.")
        if ("action_id" in cleaned) == ("action_ids" in cleaned):
            raise _fail(
                "Animation needs 'action_id' (one number from Meshy's animation library) or 'action_ids' "
                "(several), not both.",
                "action_id",
            )
    elif kind is TaskKind.RETEXTURE:
        _one_model_source(cleaned, "Retexture")
        if "text_style_prompt" not in cleaned and "image_style_url" not in cleaned:
            raise _fail("Retexture needs a style: 'text_style_prompt' or 'image_style_url'.", "text_style_prompt")
    elif kind is TaskKind.REMESH:
        _one_model_source(cleaned, "Remesh")
    elif kind in (TaskKind.UV_UNWRAP, TaskKind.RESIZE, TaskKind.CONVERT):
        _tool_rules(kind, cleaned)
    return cleaned


def _tool_rules(kind: TaskKind, body: Mapping[str, Any]) -> None:
    """UV Unwrap, Resize and Convert: one model; Resize one way to size it; Convert its formats."""
    _one_model_source(body, kind.label)
    if kind is TaskKind.RESIZE:
        modes = [mode for mode in RESIZE_MODES if body.get(mode) not in (None, False)]
        if len(modes) != 1:
            raise _fail(
                "Resize needs exactly one of 'resize_height' (metres), 'resize_longest_side' (metres) or "
                f"'auto_size' (got {', '.join(modes) or 'none'}).",
                modes[-1] if modes else "resize_height",
            )
    elif kind is TaskKind.CONVERT:
        _require(body, "target_formats", f"Convert needs 'target_formats', chosen from {', '.join(CONVERT_FORMATS)}.")
