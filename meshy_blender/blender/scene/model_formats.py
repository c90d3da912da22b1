"""Model files that are not GLB, read by Blender's own importers: FBX, OBJ and STL.

The rule is the GLB one (:mod:`...api.glb_safety`): an import reads nothing but the
downloaded files. Each format names outside files its own way, so each is held to it
its own way:

- **FBX** can name textures by absolute path (``FileName``) or by a path relative to the
  file (``RelativeFilename``, which may climb out with ``..``). Blender's importer loads
  them through ``bpy_extras.image_utils.load_image``. For the length of the import that
  function is replaced by a guard that loads only files inside the model's own folder
  (the unpacked archive) and gives every other texture an empty placeholder image,
  without looking at the path (so nothing outside is opened, not even tested for
  existence); ``use_image_search`` is off, so no folder is walked. Afterwards every image
  the import made is checked once more: one that names a file outside the folder and is
  not packed from the FBX's own embedded data is removed. The count of textures left out
  is reported. Blender's importer also sets the scene's frame rate to the file's; the
  scene keeps its own (see :func:`_keep_scene_frame_rate`).
- **OBJ** names its materials' file with ``mtllib`` (any path), which names textures: the
  OBJ is imported from a copy without ``mtllib`` lines, so its geometry arrives and
  nothing else is read.
- **STL** is geometry only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

#: Suffixes of the model files Blender can import besides GLB.
IMPORTABLE = (".fbx", ".obj", ".stl")
#: Custom property on an imported action: the frame rate its clip was made at.
FRAME_RATE_PROP = "meshy_frame_rate"

_FBX_OPTIONS: dict[str, Any] = {
    # Never walk folders looking for a texture by name.
    "use_image_search": False,
    "use_anim": True,
    "use_custom_props": True,
}


@dataclass
class ForeignImport:
    """What an import of a non-GLB file left out or changed, to tell the user."""

    #: Textures that named files outside the model's folder: not read, removed.
    refused_textures: list[str] = field(default_factory=list)
    #: The frame rate the file's animation was made at (FBX), or 0.
    file_frame_rate: float = 0.0

    @property
    def note(self) -> str:
        if not self.refused_textures:
            return ""
        names = ", ".join(self.refused_textures[:3]) + ("…" if len(self.refused_textures) > 3 else "")
        return f"{len(self.refused_textures)} texture(s) named files outside the download and were not read ({names})"


def is_foreign(path: Path) -> bool:
    """Whether ``path`` is a model file read here rather than by the glTF importer."""
    return path.suffix.lower() in IMPORTABLE


def run_importer(path: Path, call: Callable[..., set[str]]) -> ForeignImport:
    """Import ``path`` (FBX, OBJ or STL) with Blender's importer through ``call(idname, **props)``.

    Raises RuntimeError (the operator's) or ValueError naming the problem.
    """
    suffix = path.suffix.lower()
    if suffix == ".fbx":
        return _import_fbx(path, call)
    if suffix == ".obj":
        with _without_material_library(path) as geometry:
            _finished(call("wm.obj_import", filepath=str(geometry)), path)
    elif suffix == ".stl":
        _finished(call("wm.stl_import", filepath=str(path)), path)
    else:
        raise ValueError(f"{path.name}: Blender cannot import {suffix or 'this'} files here")
    return ForeignImport()


def _finished(result: set[str], path: Path) -> None:
    if result != {"FINISHED"}:
        raise ValueError(f"Could not import {path.name}: the importer cancelled")


@contextlib.contextmanager
def _without_material_library(path: Path) -> Iterator[Path]:
    """A copy of the OBJ beside it with no ``mtllib`` line (so no material or texture file is read)."""
    copy = path.with_name(f".{path.stem}-geometry.obj")
    with path.open("rb") as source, copy.open("wb") as target:
        for line in source:
            if not line.lstrip().lower().startswith(b"mtllib"):
                target.write(line)
    try:
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def _inside(candidate: str, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(candidate)).is_relative_to(folder)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _guarded_texture_loading(folder: Path, refused: list[str], placeholders: set[int]) -> Iterator[None]:
    """While open: ``image_utils.load_image`` loads only files inside ``folder``; others get a placeholder.

    A texture named outside is looked for by its file name in ``folder`` itself (archives
    ship textures beside the FBX), never where it points.
    """
    from bpy_extras import image_utils

    original = image_utils.load_image

    def guarded(imagepath: str, dirname: str = "", *args: Any, **kwargs: Any) -> Any:
        kwargs["recursive"] = False
        candidate = os.path.join(dirname, imagepath) if dirname and not os.path.isabs(imagepath) else imagepath
        if _inside(candidate, folder):
            return original(candidate, "", *args, **kwargs)
        beside = folder / os.path.basename(str(imagepath).replace("\\", "/"))
        if beside.name and _inside(str(beside), folder) and beside.is_file():
            return original(str(beside), "", *args, **kwargs)
        refused.append(beside.name or "?")
        image = bpy.data.images.new("Meshy refused texture", 1, 1)
        placeholders.add(image.session_uid)
        return image

    image_utils.load_image = guarded
    try:
        yield
    finally:
        image_utils.load_image = original


def _newest_uid(collection: Any) -> int:
    return max((item.session_uid for item in collection), default=0)


def _import_fbx(path: Path, call: Callable[..., set[str]]) -> ForeignImport:
    from .importer import supported_options

    folder = Path(os.path.realpath(path.parent))
    refused: list[str] = []
    placeholders: set[int] = set()
    images_before = _newest_uid(bpy.data.images)
    try:
        options = supported_options(bpy.ops.import_scene.fbx, _FBX_OPTIONS)
    except KeyError as exc:
        raise ValueError("Blender's FBX importer is not available: enable the 'FBX format' add-on") from exc
    with _keep_scene_frame_rate() as file_rate, _guarded_texture_loading(folder, refused, placeholders):
        _finished(call("import_scene.fbx", filepath=str(path), **options), path)
    for image in [image for image in bpy.data.images if image.session_uid > images_before]:
        outside = image.source == "FILE" and image.filepath and not _inside(bpy.path.abspath(image.filepath), folder)
        if image.packed_file is None and (image.session_uid in placeholders or outside):
            bpy.data.images.remove(image)
    return ForeignImport(refused_textures=refused, file_frame_rate=file_rate[0])


@contextlib.contextmanager
def _keep_scene_frame_rate() -> Iterator[list[float]]:
    """Undo the FBX importer's change of the scene's frame rate, keeping each clip's timing in seconds.

    Blender's FBX importer sets the scene to the file's frame rate and places the keys at
    it. An artist's scene keeps its own rate: the imported actions' keys are moved to it
    (a clip lasts as many seconds as it did, the way Blender's glTF importer places
    keys), each action records its clip's rate as ``meshy_frame_rate``. Yields a
    one-item list filled with the file's rate after the import.
    """
    scene = bpy.context.scene
    if scene is None:  # nothing to keep: the importer fails on its own
        yield [0.0]
        return
    render = scene.render
    fps, fps_base = render.fps, render.fps_base
    actions_before = _newest_uid(bpy.data.actions)
    file_rate = [0.0]
    try:
        yield file_rate
    finally:
        file_rate[0] = render.fps / render.fps_base
        render.fps, render.fps_base = fps, fps_base
    factor = (fps / fps_base) / file_rate[0] if file_rate[0] else 1.0
    for action in [action for action in bpy.data.actions if action.session_uid > actions_before]:
        action[FRAME_RATE_PROP] = round(file_rate[0], 3)
        if abs(factor - 1.0) > 1e-6:
            retime(action, factor)


def fcurves(action: bpy.types.Action) -> list[Any]:
    """The action's F-curves: from its layers (Blender 4.4+, the only way in 5.0) or ``action.fcurves``."""
    layered = [
        curve
        for layer in getattr(action, "layers", ())
        for strip in layer.strips
        for bag in getattr(strip, "channelbags", ())
        for curve in bag.fcurves
    ]
    return layered or list(getattr(action, "fcurves", ()))


def retime(action: bpy.types.Action, factor: float) -> None:
    """Scale the times of every key of ``action`` (and its handles) by ``factor``."""
    for curve in fcurves(action):
        for key in curve.keyframe_points:
            key.co.x *= factor
            key.handle_left.x *= factor
            key.handle_right.x *= factor
        curve.update()
