# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""The Concept Images operators: generate pictures, pick one (or the set of views), make it 3D.

Generate and Make 3D are jobs like every other (:func:`.operators.submit`): checked on the
main thread, sent and downloaded by worker threads, so the sidebar never waits. Make 3D
chains the picked pictures by ``input_task_id`` (nothing uploaded): the whole set of a
multi-view task goes to Multi-image to 3D, a single picture to Image to 3D. One view out of
a set has no task of its own, so it alone is sent as an image.
"""

from typing import TYPE_CHECKING, Any

import bpy
from bpy.props import IntProperty, StringProperty

from ....api import limits
from ....api.task_kinds import TaskKind
from ... import session
from ..operators import (
    AddImageOperator,
    RemoveImageOperator,
    image_sources,
    job_inputs,
    model_usable,
    ready,
    submit,
)
from . import gallery as concept_gallery
from .properties import MeshyConceptProperties, concept_props

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ....jobs.model import Job


def _picked_job(context: bpy.types.Context) -> "Job | None":
    return concept_gallery.shown_job(session.current_manager(), concept_props(context).job_id)


def make_3d_plan(job: "Job", picture: int) -> tuple[TaskKind, str]:
    """What Make 3D sends for ``picture`` of ``job`` (0: all): the kind, and "task" (chained) or the file."""
    files = concept_gallery.pictures(job)
    if len(files) == 1 or picture == 0:
        return (TaskKind.MULTI_IMAGE_TO_3D if len(files) > 1 else TaskKind.IMAGE_TO_3D), "task"
    return TaskKind.IMAGE_TO_3D, str(files[min(picture, len(files)) - 1])


def picked_picture(props: MeshyConceptProperties, job: "Job") -> int:
    """The picture of ``job`` that is picked (0: the whole set); a pick of another job does not count."""
    return props.picture if props.job_id == job.id else 0


def make_3d_cost(context: bpy.types.Context, job: "Job") -> int:
    from ....api.costs import estimate_credits  # the catalogue's prices load at the first draw

    props = concept_props(context)
    kind, _ = make_3d_plan(job, picked_picture(props, job))
    return estimate_credits(kind, props.model_options())


class MESHY_OT_concept_generate(bpy.types.Operator):
    """Generate concept pictures from the prompt (and the reference images): cheap, to choose before paying for 3D"""

    bl_idname = "meshy.concept_generate"
    bl_label = "Generate pictures"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        props = concept_props(context)
        if not props.prompt.strip():
            cls.poll_message_set("Describe the picture first")
            return False
        if props.source == "IMAGES" and not any(item.is_set for item in props.references):
            cls.poll_message_set("Add a reference image (a file, or an image loaded in Blender)")
            return False
        if not props.model_id():
            cls.poll_message_set("Type the model id")
            return False
        return model_usable(cls, props.endpoint, props.model_id())

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = concept_props(context)
        built: list[Job] = []

        def build() -> "Job":
            from ....jobs import plans

            with job_inputs(context) as inputs:
                items = [item for item in props.references if item.is_set] if props.source == "IMAGES" else []
                references = image_sources(items, inputs) if items else []
                job = plans.concept_job(props.prompt.strip(), references=references, options=props.image_options())
                built.append(inputs.claim(job))
                return job

        result = submit(self, context, build)
        if result == {"FINISHED"}:
            props.job_id, props.picture = built[0].id, 0
        return result


class MESHY_OT_concept_pick(bpy.types.Operator):
    """Use this picture (or the whole set of views) for Make 3D"""

    bl_idname = "meshy.concept_pick"
    bl_label = "Pick picture"
    bl_options = {"INTERNAL"}

    job_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})
    picture: IntProperty(min=0, options={"SKIP_SAVE", "HIDDEN"})

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = concept_props(context)
        props.job_id, props.picture = self.job_id, self.picture
        return {"FINISHED"}


class MESHY_OT_concept_make_3d(bpy.types.Operator):
    """Make a 3D model from the picked picture, or from the whole set of views (no upload: chained on Meshy)"""

    bl_idname = "meshy.concept_make_3d"
    bl_label = "Make 3D"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        job = _picked_job(context)
        if job is None or not concept_gallery.pictures(job):
            cls.poll_message_set("Generate concept pictures first, and wait until they are shown")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ....jobs import plans

        props = concept_props(context)
        job = _picked_job(context)
        if job is None:
            self.report({"ERROR"}, "That concept job is no longer in the list")
            return {"CANCELLED"}
        picture = picked_picture(props, job)
        kind, source = make_3d_plan(job, picture)
        options = props.model_options()
        if source == "task":
            multi = kind is TaskKind.MULTI_IMAGE_TO_3D
            return submit(
                self,
                context,
                lambda: plans.concept_3d_job(job.final_task_id, multi_view=multi, options=options, name=job.name),
            )
        name = f"{job.name} view {picture}"
        return submit(self, context, lambda: plans.image_job([source], options=options, name=name))


class MESHY_OT_concept_load_images(bpy.types.Operator):
    """Load the concept pictures as Blender images (for reference planes, texturing, the Image Editor)"""

    bl_idname = "meshy.concept_load_images"
    bl_label = "Load as Blender images"
    bl_options = {"INTERNAL", "UNDO"}

    job_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        job = concept_gallery.shown_job(session.current_manager(), self.job_id)
        files = concept_gallery.pictures(job) if job is not None and job.id == self.job_id else []
        if not files:
            self.report({"ERROR"}, "The pictures are not on this computer (any more)")
            return {"CANCELLED"}
        images = concept_gallery.load_images(files)
        self.report({"INFO"}, f"Loaded {', '.join(image.name for image in images)}")
        return {"FINISHED"}


class ReferencesList:
    """The Concept Images panel's reference images, for the shared add/remove buttons."""

    what = "reference images"

    @staticmethod
    def limit() -> int:
        return limits.MAX_REFERENCE_IMAGES

    @staticmethod
    def image_list(context: bpy.types.Context) -> Any:
        return concept_props(context).references


class MESHY_OT_concept_reference_add(ReferencesList, AddImageOperator):
    """Add a reference image (up to five)"""

    bl_idname = "meshy.concept_reference_add"
    bl_label = "Add reference image"


class MESHY_OT_concept_reference_remove(ReferencesList, RemoveImageOperator):
    """Remove this reference image"""

    bl_idname = "meshy.concept_reference_remove"
    bl_label = "Remove reference image"


CLASSES = (
    MESHY_OT_concept_generate,
    MESHY_OT_concept_pick,
    MESHY_OT_concept_make_3d,
    MESHY_OT_concept_load_images,
    MESHY_OT_concept_reference_add,
    MESHY_OT_concept_reference_remove,
)
