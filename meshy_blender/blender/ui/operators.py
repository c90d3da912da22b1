# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""Operators that start a Meshy job: text, images, rig, animate, retexture.

Every operator checks its input on the main thread (``poll`` says why it is disabled,
``execute`` reports validation errors before anything is sent), builds a Job with
``jobs.plans`` and hands it to the manager: the network work happens on worker threads,
so ``execute`` returns at once.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import numpy

from ... import api
from ...api.task_kinds import TaskKind
from .. import session
from ..scene import file_identity
from . import calls, model_menu, preferences
from .animate import actions as actions_library
from .properties import TEXT_ENDPOINT, MeshyImageInput, scene_props

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ...api.client import MeshyClient
    from ...jobs.manager import JobManager  # loads with the first manager, not at enable
    from ...jobs.model import Job
    from ..job_inputs import JobInputs

#: Meshy refuses rigging models with more faces than this (remesh first).
MAX_RIG_FACES = 300_000
#: Longest side of an image made in Blender that is saved and sent (Meshy works from about 1024 pixels).
MAX_INPUT_IMAGE_SIDE = 4096
_DIRECT_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


# -- shared helpers ---------------------------------------------------------------------


def ready(cls: type[bpy.types.Operator], context: bpy.types.Context) -> bool:
    """Poll part shared by every operator that sends something: online access and a key."""
    reason = preferences.not_ready_reason(context)
    if reason:
        cls.poll_message_set(reason)
    return not reason


def manager(context: bpy.types.Context) -> "JobManager":
    """The live manager, (re)configured from the current preferences."""
    return session.configure(preferences.config(context))


def submit(
    operator: bpy.types.Operator, context: bpy.types.Context, build: "Callable[[], Job]"
) -> "set[OperatorReturnItems]":
    """Build the job (validation, exports) and queue it; refusals are reported, nothing is sent."""
    try:
        # A bad key or server address is refused now, not on a worker, and before build() writes input files.
        preferences.client(context).close()
        job = build()
        job.bind(file_identity.ensure())  # the result lands in this file, wherever the artist goes meanwhile
        manager(context).submit(job)
        if preferences.get(context).placement == "PROXY":
            from ..scene import placement  # loaded when asked, not when the add-on is enabled

            placement.remember_proxy(context, job.id)  # the object selected now is the one the result replaces
    except (api.MeshyError, OSError) as error:
        operator.report({"ERROR"}, str(error))
        return {"CANCELLED"}
    operator.report({"INFO"}, f"Meshy: '{job.name}' queued (about {job.estimated_credits} credits)")
    return {"FINISHED"}


def start_call(
    operator: bpy.types.Operator,
    context: bpy.types.Context,
    name: str,
    work: "Callable[[MeshyClient], Any]",
    *,
    request: Any = None,
) -> "set[OperatorReturnItems]":
    """Run ``work(client)`` on a background thread (see :mod:`calls`); refusals are reported at once."""
    reason = preferences.not_ready_reason(context)
    client: MeshyClient | None = None
    if not reason:
        try:
            client = preferences.client(context)
        except api.MeshyError as error:
            reason = str(error)
    if client is None:
        calls.fail(name, reason, request=request)
        operator.report({"ERROR"}, reason)
        return {"CANCELLED"}
    if not calls.start(name, lambda: work(client), request=request):
        operator.report({"WARNING"}, "Still waiting for Meshy's answer to the previous request")
        return {"CANCELLED"}
    return {"FINISHED"}


@contextmanager
def job_inputs(context: bpy.types.Context) -> "Iterator[JobInputs]":
    """A folder for the inputs a job needs written, removed again when the request is refused."""
    from ..job_inputs import JobInputs

    inputs = JobInputs(preferences.download_dir(context))
    try:
        yield inputs
    except BaseException:
        inputs.discard()
        raise


def selected_meshes(context: bpy.types.Context) -> list[bpy.types.Object]:
    return [obj for obj in context.selected_objects if obj.type == "MESH"]


def meshes_poll(cls: type[bpy.types.Operator], context: bpy.types.Context, purpose: str) -> bool:
    if not ready(cls, context):
        return False
    if not selected_meshes(context):
        cls.poll_message_set(f"Select the mesh to {purpose}")
        return False
    return True


def export_selection(context: bpy.types.Context, inputs: "JobInputs", purpose: str) -> Path:
    """The selected meshes as ``selection.glb`` in the job's inputs; refused first over ``purpose``'s face limit."""
    from ...api.glb_faces import MAX_UV_UNWRAP_FACES  # these load when a mesh is sent, not at enable
    from ..scene import exporter

    limits = {
        "rig": (MAX_RIG_FACES, "Meshy rigs models of at most", "Decimate or remesh it first."),
        "unwrap": (
            MAX_UV_UNWRAP_FACES,
            "Meshy's UV Unwrap takes at most",
            "Reduce it first (Decimate modifier, or Remesh).",
        ),
    }
    meshes = selected_meshes(context)
    if purpose in limits:
        most, what, remedy = limits[purpose]
        faces = exporter.count_faces(meshes)
        if faces > most:
            raise api.ValidationError(f"The selection has {faces:,} faces; {what} {most:,}. {remedy}")
    return inputs.write("selection.glb", exporter.export_selection_glb(meshes, purpose=purpose))


def check_input_image(image: bpy.types.Image) -> None:
    """Refuse an image with no pixels, or too large to send, from its size alone (no pixel is read).

    Saving an 8000 × 8000 image as PNG held Blender's main thread for seconds and took
    almost 2 GB on the way, for detail Meshy does not use.
    """
    width, height = image.size
    if not width or not height:
        raise api.ValidationError(f"Image '{image.name}' has no pixels (is its file missing?)")
    if max(width, height) > MAX_INPUT_IMAGE_SIDE:
        raise api.ValidationError(
            f"Image '{image.name}' is {width} × {height} pixels; Meshy needs at most {MAX_INPUT_IMAGE_SIDE} on the "
            "longer side (about 1024 is plenty). Scale it down (Image › Resize) or save a smaller copy and use that."
        )


def save_png(image: bpy.types.Image, target: Path) -> Path:
    """Write ``image``'s pixels (packed, generated or painted) as a PNG file."""
    check_input_image(image)
    width, height = image.size
    pixels = numpy.empty(width * height * 4, dtype=numpy.float32)
    source: Any = image  # the stubs type ``pixels`` as a float, not the array it is
    source.pixels.foreach_get(pixels)
    copy: Any = bpy.data.images.new("meshy-input", width, height, alpha=True, float_buffer=image.is_float)
    try:
        copy.colorspace_settings.name = source.colorspace_settings.name
        copy.pixels.foreach_set(pixels)
        copy.filepath_raw = str(target)
        copy.file_format = "PNG"
        copy.save()
    finally:
        bpy.data.images.remove(copy)
    return target


def file_of(image: bpy.types.Image) -> Path | None:
    """The PNG/JPEG file ``image`` shows unchanged, to send as it is; None when it must be saved first."""
    on_disk = Path(bpy.path.abspath(image.filepath)) if image.filepath else None
    if (
        on_disk is not None
        and image.source == "FILE"
        and image.packed_file is None
        and not image.is_dirty
        and on_disk.suffix.lower() in _DIRECT_IMAGE_SUFFIXES
        and on_disk.is_file()
    ):
        return on_disk
    return None


def image_sources(items: list[MeshyImageInput], inputs: "JobInputs") -> list[str]:
    """A local PNG/JPEG path per image input; Blender images not on disk as such are saved first.

    Every image to save is checked before the first is: a refusal costs no encoding.
    """
    found = [(item, file_of(item.image) if item.image is not None else None) for item in items]
    for item, on_disk in found:
        if item.image is not None and on_disk is None:
            check_input_image(item.image)
    sources = []
    for index, (item, on_disk) in enumerate(found):
        if item.image is None:
            sources.append(bpy.path.abspath(item.filepath.strip()))
        else:
            sources.append(str(on_disk or save_png(item.image, inputs.path(f"image-{index + 1}.png"))))
    return sources


def rig_task_of(obj: bpy.types.Object | None) -> str:
    """The rigging task behind ``obj`` (a rigged character Meshy made, or a part of one), or ""."""
    while obj is not None:
        task_id = str(obj.get("meshy_task_id", ""))
        if task_id and obj.get("meshy_kind") == "rig":
            return task_id
        live = session.current_manager()
        job = live.get(str(obj.get("meshy_job_id", ""))) if live is not None else None
        if job is not None and job.stages[-1].kind is TaskKind.RIGGING and job.stages[-1].succeeded:
            return job.final_task_id
        obj = obj.parent
    return ""


# -- generation -------------------------------------------------------------------------


def model_usable(cls: Any, endpoint: str, model_id: str) -> bool:
    """False (the button greyed, the reason in its tooltip) for a retired model: it never leaves the machine."""
    refused = model_menu.retired_note(endpoint, model_id)
    if refused:
        cls.poll_message_set(refused)
    return not refused


class MESHY_OT_generate_text(bpy.types.Operator):
    """Generate a 3D model from the prompt (a preview mesh, then textures when "Refine automatically" is on)"""

    bl_idname = "meshy.generate_text"
    bl_label = "Generate"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        props = scene_props(context)
        if not props.prompt.strip():
            cls.poll_message_set("Write a prompt describing the object first")
            return False
        return model_usable(cls, TEXT_ENDPOINT, props.text_mesh.model_id())

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ...jobs import plans

        props = scene_props(context)
        return submit(
            self,
            context,
            lambda: plans.text_job(
                props.prompt.strip(),
                refine=props.refine,
                preview=props.preview_options(),
                refine_options=props.refine_options(),
            ),
        )


class MESHY_OT_generate_image(bpy.types.Operator):
    """Generate a 3D model from the images (one image, or 2 to 4 views of the same object)"""

    bl_idname = "meshy.generate_image"
    bl_label = "Generate from images"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        props = scene_props(context)
        if not any(item.is_set for item in props.images):
            cls.poll_message_set("Add an image of the object first (a file, or an image loaded in Blender)")
            return False
        return model_usable(cls, props.image_endpoint(), props.image_mesh.model_id())

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = scene_props(context)
        items = [item for item in props.images if item.is_set]

        def build() -> "Job":
            from ...jobs import plans

            with job_inputs(context) as inputs:
                sources = image_sources(items, inputs)
                return inputs.claim(plans.image_job(sources, options=props.image_options()))

        return submit(self, context, build)


class ImageListOperator(bpy.types.Operator):
    """Base of the add and remove buttons of a list of input images (this one: Image to 3D's views)."""

    bl_options = {"INTERNAL", "UNDO"}
    #: What the images are called in the poll message (the most the list takes: :meth:`limit`).
    what = "views of one object"

    @staticmethod
    def limit() -> int:
        from ...api import validation  # read when the button is drawn, not at enable

        return validation.MAX_IMAGES

    @staticmethod
    def image_list(context: bpy.types.Context) -> Any:
        return scene_props(context).images


class AddImageOperator(ImageListOperator):
    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if len(cls.image_list(context)) >= cls.limit():
            cls.poll_message_set(f"Meshy takes at most {cls.limit()} {cls.what}")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        self.image_list(context).add()
        return {"FINISHED"}


class RemoveImageOperator(ImageListOperator):
    index: bpy.props.IntProperty(options={"SKIP_SAVE", "HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not cls.image_list(context):
            cls.poll_message_set("There is no image to remove")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        images = self.image_list(context)
        if not 0 <= self.index < len(images):
            self.report({"ERROR"}, "No such image")
            return {"CANCELLED"}
        images.remove(self.index)
        return {"FINISHED"}


class MESHY_OT_image_add(AddImageOperator):
    """Add a view of the object (up to four)"""

    bl_idname = "meshy.image_add"
    bl_label = "Add image"


class MESHY_OT_image_remove(RemoveImageOperator):
    """Remove this image"""

    bl_idname = "meshy.image_remove"
    bl_label = "Remove image"


class MESHY_OT_rig_selected(bpy.types.Operator):
    """Rig the selected humanoid mesh with Meshy (it comes back with walking and running clips)"""

    bl_idname = "meshy.rig_selected"
    bl_label = "Rig selected mesh"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return meshes_poll(cls, context, "rig")

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = scene_props(context)
        name = f"{selected_meshes(context)[0].name} rigged"

        def build() -> "Job":
            from ...jobs import plans

            with job_inputs(context) as inputs:
                model = export_selection(context, inputs, "rig")
                return inputs.claim(plans.rig_job(model=model, height_meters=props.rig_height(), name=name))

        return submit(self, context, build)


class MESHY_OT_animate_selected(bpy.types.Operator):
    """Animate the selected character rigged by Meshy with the ticked actions (one request, a clip each)"""

    bl_idname = "meshy.animate_selected"
    bl_label = "Animate selected character"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        if not rig_task_of(context.active_object):
            cls.poll_message_set("Select a character rigged by Meshy (or use Animate on a finished rig job)")
            return False
        if not actions_library.selected_ids(scene_props(context)):
            cls.poll_message_set("Tick one or more actions of the library")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        obj = context.active_object
        character = str(obj.get("meshy_name", obj.name)) if obj is not None else "Character"
        return animate_and_tell(self, context, lambda: animate_job(context, rig_task_of(obj), character))


def animate_and_tell(
    operator: bpy.types.Operator, context: bpy.types.Context, build: "Callable[[], Job]"
) -> "set[OperatorReturnItems]":
    """Submit the animate job; warn when the asked frame rate is not the scene's."""
    result = submit(operator, context, build)
    notice = actions_library.fps_notice(scene_props(context), actions_library.scene_fps(context.scene))
    if notice and result == {"FINISHED"}:
        operator.report({"WARNING"}, notice)
    return result


def animate_job(context: bpy.types.Context, rig_task_id: str, character: str) -> "Job":
    """One request for every selected action: one file back, one clip (and Blender action) per action."""
    from ...jobs import plans

    props = scene_props(context)
    ids = actions_library.selected_ids(props)
    if not ids:
        raise api.ValidationError("Tick one or more actions of the animation library first.", field="action_ids")
    names = [actions_library.action_name(action_id) for action_id in ids]
    what = names[0] if len(names) == 1 else f"{len(names)} actions"
    return plans.animate_job(rig_task_id, ids, options=props.animation_options(), name=f"{character} {what}")


class MESHY_OT_retexture_selected(bpy.types.Operator):
    """Give the selected mesh a new texture in the described (or pictured) style"""

    bl_idname = "meshy.retexture_selected"
    bl_label = "Retexture selected mesh"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not meshes_poll(cls, context, "retexture"):
            return False
        if not scene_props(context).retexture_style():
            cls.poll_message_set("Describe the new style, or choose a style image")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = scene_props(context)
        # Named after the style prompt (by plans.retexture_job), or else after the mesh.
        name = "" if props.style_prompt.strip() else f"{selected_meshes(context)[0].name} retextured"

        def build() -> "Job":
            from ...jobs import plans

            with job_inputs(context) as inputs:
                model = export_selection(context, inputs, "retexture")
                style, options = props.retexture_style(), props.retexture_options()
                return inputs.claim(plans.retexture_job(model=model, **style, options=options, name=name))

        return submit(self, context, build)


CLASSES = (
    MESHY_OT_generate_text,
    MESHY_OT_generate_image,
    MESHY_OT_image_add,
    MESHY_OT_image_remove,
    MESHY_OT_rig_selected,
    MESHY_OT_animate_selected,
    MESHY_OT_retexture_selected,
)
