# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""The Library panel's buttons: browse, import the local copy, re-run, rig/animate/retexture, open, remove.

Every button carries its entry's id and reads the entry from disk when pressed (another
Blender may have removed it meanwhile). Import uses the library's own copy of the model:
nothing is downloaded. Rig and Retexture send Meshy the entry's task while Meshy still
keeps it (no upload), and the local model after that; Animate needs the rig on Meshy.
Concept pictures have no model: Make 3D sends their task the same way (else uploads the
kept pictures), Load as images opens them in Blender.
Re-run fills the generation panel's fields by name, skipping any field this version
of the panel does not have, so the artist can tweak them and generate.
"""

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import IntProperty, StringProperty

from .... import api
from .. import model_menu, preferences
from ..concept import gallery as concept_gallery
from ..concept.properties import concept_props
from ..operators import animate_job, ready, submit
from ..properties import scene_props
from . import view as library_view

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ....jobs.model import Job
    from ....library.entry import Entry

#: How long Meshy keeps a result (its task can be used instead of uploading the model); an hour's margin.
MESHY_KEEPS_MS = (3 * 24 - 1) * 3600 * 1000
MODEL_KINDS = ("text-to-3d", "image-to-3d", "multi-image-to-3d", "retexture", "remesh", "bridge")
RIG_KINDS = ("rigging", "animation")
CLIP_ROLES = ("walking", "running")
#: Where Re-run puts the settings of each kind, and which panel that is.
RERUN_PANELS = {
    "text-to-3d": "Text to 3D",
    "image-to-3d": "Image to 3D",
    "multi-image-to-3d": "Image to 3D",
    "retexture": "Retexture",
    "rigging": "Rig & Animate",
    "animation": "Rig & Animate",
}
#: Request fields whose panel property has another name.
FIELD_ALIASES = {
    "texture_image_url": "texture_image",
    "text_style_prompt": "style_prompt",
    "image_style_url": "style_image",
}


def on_meshy(entry: "Entry", now_ms: int | None = None) -> bool:
    """Whether Meshy still keeps the entry's task (so it can be rigged or retextured without an upload)."""
    finished = entry.finished_ms or entry.created_ms or entry.added_ms
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return bool(entry.id) and entry.source != "bridge" and now - finished < MESHY_KEEPS_MS


def can_rig(entry: "Entry") -> bool:
    return entry.kind in MODEL_KINDS and entry.model_path is not None


def rig_task_id(entry: "Entry") -> str:
    """The rigging task an animation can be made from ("" when the entry is no rig)."""
    if entry.kind == "rigging":
        return entry.id
    if entry.kind == "animation":
        return str(entry.options.get("rig_task_id", ""))
    return ""


def can_animate(entry: "Entry") -> bool:
    return bool(rig_task_id(entry))


def can_retexture(entry: "Entry") -> bool:
    return entry.kind in MODEL_KINDS and entry.model_path is not None


def task_or_files(entry: "Entry", paths: Sequence[Path | None], what: str) -> str | list[Path]:
    """The entry's task id while Meshy keeps it (nothing uploaded), else its local ``paths``.

    MeshyError, naming ``what``, when it is no longer on Meshy and a file is missing.
    """
    if on_meshy(entry):
        return entry.id
    if not paths or any(path is None or not path.is_file() for path in paths):
        raise api.MeshyError(f"'{entry.name}' has no {what} in the library any more")
    return [path for path in paths if path is not None]


def model_source(entry: "Entry") -> dict[str, Any]:
    """What to send Meshy for the entry's model: its task while kept there, else the local file."""
    source = task_or_files(entry, [entry.model_path], "model file")
    return {"input_task_id": source} if isinstance(source, str) else {"model": source[0]}


def make_3d_job(entry: "Entry", options: dict[str, Any]) -> "Job":
    """A model from a picture entry: Image to 3D from one picture, Multi-image to 3D from a set of views."""
    from ....jobs import plans

    source = task_or_files(entry, entry.picture_paths, "pictures")
    if isinstance(source, str):
        multi_view = len(entry.picture_paths) > 1
        return plans.concept_3d_job(source, multi_view=multi_view, options=options, name=entry.name)
    return plans.image_job(source, options=options, name=entry.name)


# -- Re-run: the entry's settings into the panel ------------------------------------------


def fill(group: Any, values: Mapping[str, Any]) -> list[str]:
    """Set each of ``values`` that ``group`` has a property for (by name); the names set.

    A value the property refuses (an option this version of the panel does not offer) is skipped.
    """
    done = []
    properties = group.bl_rna.properties
    for field, value in values.items():
        name = FIELD_ALIASES.get(field, field)
        if name not in properties or properties[name].is_readonly or isinstance(value, (dict, list)):
            continue
        try:
            setattr(group, name, value)
        except (TypeError, ValueError, AttributeError):
            continue
        done.append(name)
    return done


def rerun_values(entry: "Entry") -> dict[str, Any]:
    """The entry's request settings as the panel names them."""
    values = dict(entry.options)
    if entry.prompt:
        values.setdefault("style_prompt" if entry.kind == "retexture" else "prompt", entry.prompt)
    if entry.kind == "retexture" and "enable_pbr" in values:
        values["retexture_pbr"] = values["enable_pbr"]
    if entry.kind == "text-to-3d":
        values["refine"] = len(entry.task_ids) > 1
    if "pose_mode" in values and not values["pose_mode"]:
        values["pose_mode"] = "NONE"
    actions = values.get("action_ids") or ([values["action_id"]] if "action_id" in values else [])
    if actions:  # the Animate panel keeps its ticked actions as "1,13"
        values["action_ids"] = ",".join(str(action_id) for action_id in actions)
    return values


def fill_panel(context: bpy.types.Context, entry: "Entry") -> str:
    """Put the entry's settings in its generation panel; that panel's name."""
    props: Any = scene_props(context)
    values = rerun_values(entry)
    if entry.kind == "text-to-3d":
        groups = [props, props.text_mesh, props.text_texture]
    elif entry.kind in ("image-to-3d", "multi-image-to-3d"):
        groups = [props, props.image_mesh, props.image_texture]
        images = [image for image in entry.input_images if Path(image).is_file()]
        if images and len(images) == len(entry.input_images):  # the library keeps names; only files still there
            props.images.clear()
            for image in images:
                props.images.add().filepath = image
    else:
        groups = [props]
    for group in groups:
        fill(group, values)
    if len(groups) > 1:
        _choose_model(groups[1], entry.model)
    return RERUN_PANELS[entry.kind]


def _choose_model(mesh: Any, model_id: str) -> None:
    """Pick the entry's model in the menu, or as Custom… when the menu no longer offers it.

    A model retired since is kept as the Custom… id rather than swapped for another in
    silence: Generate then says it is retired and names its replacement.
    """
    if model_id and mesh.model_id() != model_id:
        mesh.ai_model = model_menu.CUSTOM
        mesh.custom_model = model_id


# -- operators ------------------------------------------------------------------------------


class LibraryOperator(bpy.types.Operator):
    """Base of the buttons of one library entry."""

    bl_options = {"INTERNAL"}

    entry_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        entry = library_view.library().get(self.entry_id)
        if entry is None:
            return self.refuse("That result is no longer in the library")
        try:
            return self.act(context, entry)
        except api.MeshyError as error:
            return self.refuse(str(error))

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        """The button's work on its entry (still in the library)."""
        raise NotImplementedError

    def refuse(self, message: str) -> "set[OperatorReturnItems]":
        self.report({"ERROR"}, message)
        return {"CANCELLED"}


class SendingLibraryOperator(LibraryOperator):
    """A library button that sends something to Meshy: it needs online access and a key."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return ready(cls, context)


class MESHY_OT_library_select(bpy.types.Operator):
    """Show this result's details and buttons"""

    bl_idname = "meshy.library_select"
    bl_label = "Select library result"
    bl_options = {"INTERNAL"}

    entry_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        view = library_view.view_of(context)
        view.selected = "" if view.selected == self.entry_id else self.entry_id
        return {"FINISHED"}


class MESHY_OT_library_page(bpy.types.Operator):
    """Show another page of the library"""

    bl_idname = "meshy.library_page"
    bl_label = "Library page"
    bl_options = {"INTERNAL"}

    page: IntProperty(name="Page", default=1, min=1, options={"SKIP_SAVE"})

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        library_view.view_of(context).page = self.page
        return {"FINISHED"}


class MESHY_OT_library_import(LibraryOperator):
    """Import this result from the library's own copy (nothing is downloaded, nothing is paid)"""

    bl_idname = "meshy.library_import"
    bl_label = "Import"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        from ...scene import importer, library_blend, placement  # not at enable: the importer loads when used

        model = entry.model_path
        if entry.is_pictures:
            return self.refuse(f"'{entry.name}' holds concept pictures, not a model: use Make 3D or Load as images")
        if model is None or not model.is_file():
            return self.refuse(f"'{entry.name}' has no model file in the library")
        clips = [path for path in map(entry.path, CLIP_ROLES) if path is not None and path.is_file()]
        tags: dict[str, str | int | float] = {
            "meshy_task_id": entry.id,
            "meshy_kind": entry.kind,
            "meshy_name": entry.name,
            "meshy_library_id": entry.id,
        }
        if entry.prompt:
            tags["meshy_prompt"] = entry.prompt
        prefs = preferences.get(context)
        try:
            result = importer.import_glb(
                model,
                job_id=f"library-{entry.id}",
                display_name=entry.name,
                tags=tags,
                extra_actions_from=clips,
                placement=placement.Placement(prefs.placement, prefs.target_height),
            )
        except (api.MeshyError, RuntimeError, OSError) as error:
            return self.refuse(f"Import of '{entry.name}' failed: {error}")
        library_blend.mark_and_keep(result, entry, library_view.library())
        self.report({"INFO"}, f"Imported '{entry.name}' from the library")
        return {"FINISHED"}


class MESHY_OT_library_rerun(LibraryOperator):
    """Put this result's prompt and settings in its generation panel, to change them and generate again"""

    bl_idname = "meshy.library_rerun"
    bl_label = "Re-run with tweaks"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        if entry.kind not in RERUN_PANELS:
            return self.refuse(f"'{entry.name}' ({entry.kind_label}) has no generation panel to fill")
        panel = fill_panel(context, entry)
        self.report({"INFO"}, f"The settings of '{entry.name}' are in the {panel} panel: tweak them, then generate")
        return {"FINISHED"}


class MESHY_OT_library_rig(SendingLibraryOperator):
    """Rig this result with Meshy (uses the height of the Rig & Animate panel)"""

    bl_idname = "meshy.library_rig"
    bl_label = "Rig"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        from ....jobs import plans

        if not can_rig(entry):
            return self.refuse(f"'{entry.name}' is not a model that can be rigged")
        height = scene_props(context).rig_height()
        source = model_source(entry)
        return submit(self, context, lambda: plans.rig_job(**source, height_meters=height, name=f"{entry.name} rigged"))


class MESHY_OT_library_animate(SendingLibraryOperator):
    """Animate this rigged character with the action chosen in the Rig & Animate panel"""

    bl_idname = "meshy.library_animate"
    bl_label = "Animate"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        rig = rig_task_id(entry)
        if not rig:
            return self.refuse(f"'{entry.name}' is not a rigged character")
        if not on_meshy(entry):
            return self.refuse(f"Meshy no longer keeps the rig of '{entry.name}' (3 days): rig it again first")
        return submit(self, context, lambda: animate_job(context, rig, entry.name))


class MESHY_OT_library_retexture(SendingLibraryOperator):
    """Give this result a new texture in the style of the Retexture panel"""

    bl_idname = "meshy.library_retexture"
    bl_label = "Retexture"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        from ....jobs import plans

        if not can_retexture(entry):
            return self.refuse(f"'{entry.name}' is not a model that can be retextured")
        props = scene_props(context)
        style = props.retexture_style()
        if not style:
            return self.refuse("Describe the new style in the Retexture panel (or choose a style image) first")
        options, source = props.retexture_options(), model_source(entry)
        name = "" if props.style_prompt.strip() else f"{entry.name} retextured"
        return submit(self, context, lambda: plans.retexture_job(**source, **style, options=options, name=name))


class MESHY_OT_library_make_3d(SendingLibraryOperator):
    """Make a 3D model from these concept pictures (texture settings of the Concept Images panel)"""

    bl_idname = "meshy.library_make_3d"
    bl_label = "Make 3D"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        if not entry.is_pictures:
            return self.refuse(f"'{entry.name}' is a model, not concept pictures")
        options = concept_props(context).model_options()
        return submit(self, context, lambda: make_3d_job(entry, options))


class MESHY_OT_library_load_images(LibraryOperator):
    """Load these concept pictures as Blender images (for reference planes, texturing, the Image Editor)"""

    bl_idname = "meshy.library_load_images"
    bl_label = "Load as images"
    bl_options = {"INTERNAL", "UNDO"}

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        files = [path for path in entry.picture_paths if path.is_file()]
        if not files:
            return self.refuse(f"'{entry.name}' has no pictures in the library")
        images = concept_gallery.load_images(files)
        self.report({"INFO"}, f"Loaded {', '.join(image.name for image in images)}")
        return {"FINISHED"}


class MESHY_OT_library_open_folder(LibraryOperator):
    """Open this result's folder (model, textures, thumbnail) in the file browser"""

    bl_idname = "meshy.library_open_folder"
    bl_label = "Open folder"

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        if not Path(entry.folder).is_dir():
            return self.refuse(f"The folder of '{entry.name}' is gone")
        bpy.ops.wm.path_open(filepath=str(entry.folder))
        return {"FINISHED"}


class MESHY_OT_library_remove(LibraryOperator):
    """Remove this result from the library and delete its files (objects already imported stay)"""

    bl_idname = "meshy.library_remove"
    bl_label = "Remove from library"

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> "set[OperatorReturnItems]":
        return cast(Any, context.window_manager).invoke_confirm(self, event)

    def act(self, context: bpy.types.Context, entry: "Entry") -> "set[OperatorReturnItems]":
        try:
            library_view.library().remove(entry.id)
        except OSError as error:
            return self.refuse(f"Could not remove '{entry.name}': {error}")
        view = library_view.view_of(context)
        if view.selected == entry.id:
            view.selected = ""
        self.report({"INFO"}, f"Removed '{entry.name}' from the library")
        return {"FINISHED"}


CLASSES = (
    MESHY_OT_library_select,
    MESHY_OT_library_page,
    MESHY_OT_library_import,
    MESHY_OT_library_rerun,
    MESHY_OT_library_rig,
    MESHY_OT_library_animate,
    MESHY_OT_library_retexture,
    MESHY_OT_library_make_3d,
    MESHY_OT_library_load_images,
    MESHY_OT_library_open_folder,
    MESHY_OT_library_remove,
)
