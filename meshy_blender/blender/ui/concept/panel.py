"""The "Concept Images" panel: prompt (and reference images) → pictures → pick → Make 3D.

Like every panel it only reads state and places buttons. The gallery shows the picked (or
newest) concept job: its progress while Meshy draws, then its pictures as large previews
with a button under each to pick it; a multi-view set can be picked whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import bpy

from ....jobs import states
from ... import session
from .. import icons, model_menu
from ..panels import MeshySubPanel, draw_image_inputs, layout_of, progress_bar, wrapped
from . import gallery as concept_gallery
from .operators import make_3d_cost, picked_picture
from .properties import MeshyConceptProperties, concept_props

if TYPE_CHECKING:
    from ....jobs.model import Job

PREVIEW_SCALE = 6.0


class MESHY_PT_concept(MeshySubPanel):
    bl_idname = "MESHY_PT_concept"
    bl_label = "Concept Images"

    def draw(self, context: bpy.types.Context) -> None:
        from ....api.costs import estimate_credits  # the catalogue's prices load at the first draw

        props = concept_props(context)
        layout = layout_of(self)
        layout.row().prop(props, "source", expand=True)
        layout.prop(props, "prompt", text="")
        if props.source == "IMAGES":
            draw_image_inputs(layout, props.references, "meshy.concept_reference_add", "meshy.concept_reference_remove")
        col = layout.column()
        col.prop(props, "ai_model")
        if props.ai_model == model_menu.CUSTOM:
            col.prop(props, "custom_model")
        col.prop(props, "multi_view")
        if props.source == "TEXT":
            ratio = col.row()
            ratio.active = not props.multi_view  # Meshy lays out a set of views itself
            ratio.prop(props, "aspect_ratio")
            col.prop(props, "pose_mode")
        cost = estimate_credits(props.kind, props.image_options())
        layout.operator("meshy.concept_generate", text=f"Generate pictures (~{cost} credits)", icon="IMAGE_DATA")
        live = session.current_manager()
        job = concept_gallery.shown_job(live, props.job_id)
        if job is None:
            layout.label(text="The pictures appear here", icon="INFO")
            return
        draw_gallery(layout.box(), context, props, job)
        earlier = [other for other in concept_gallery.concept_jobs(live) if other.id != job.id]
        if earlier:
            col = layout.column(align=True)
            col.label(text="Earlier pictures:")
            for other in earlier[: concept_gallery.MAX_EARLIER_SHOWN]:
                show = col.operator("meshy.concept_pick", text=other.name, icon="IMAGE_DATA")
                show.job_id, show.picture = other.id, 0


def draw_gallery(box: Any, context: bpy.types.Context, props: MeshyConceptProperties, job: Job) -> None:
    box.label(text=job.name, icon="IMAGE_DATA")
    if not job.state.is_final:
        progress_bar(box, job.progress, job.message or job.state.label)
        return
    if job.state is not states.JobState.DONE:
        col = box.column()
        col.alert = job.state is states.JobState.FAILED
        wrapped(col, job.error or job.message or job.state.label, icon="ERROR")
        return
    files = concept_gallery.pictures(job)
    if not files:
        wrapped(box, "The pictures are no longer on this computer: generate them again.", icon="ERROR")
        return
    picked = picked_picture(props, job)
    grid = box.grid_flow(columns=2 if len(files) > 1 else 1, even_columns=True, even_rows=True, align=True)
    for number, path in enumerate(files, 1):
        cell = grid.column(align=True)
        cell.template_icon(icon_value=icons.thumbnail(path), scale=PREVIEW_SCALE)
        pick = cell.operator("meshy.concept_pick", text=f"View {number}", depress=picked == number)
        pick.job_id, pick.picture = job.id, number
    if len(files) > 1:
        whole = box.operator("meshy.concept_pick", text=f"All {len(files)} views", depress=picked == 0)
        whole.job_id, whole.picture = job.id, 0
    col = box.column()
    col.prop(props, "should_texture")
    sub = col.row()
    sub.active = props.should_texture
    sub.prop(props, "enable_pbr")
    box.operator("meshy.concept_make_3d", text=f"Make 3D (~{make_3d_cost(context, job)} credits)", icon="MESH_MONKEY")
    box.operator("meshy.concept_load_images", icon="FILE_IMAGE").job_id = job.id


CLASSES = (MESHY_PT_concept,)
