"""The "Meshy" tab of the 3D View sidebar.

Panels only read state (scene properties, the job manager, finished background calls)
and place buttons; they never start work, never touch the network, and draw every job
state, including failures in words.
"""

from __future__ import annotations

import functools
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy

from ...api.task_kinds import TaskKind, TaskStatus
from ...bridge import JOB_KIND as BRIDGE_JOB_KIND
from ...jobs import states
from .. import session
from ..scene import file_identity
from . import calls, generation_ui, icons, preferences
from .animate import actions as actions_library
from .jobs import view as jobs_view
from .jobs.operators import (
    BROWSE_CALL,
    can_animate,
    can_import_here,
    can_refine,
    can_reimport,
    can_retry,
    can_rig,
    delete_call,
    importable,
    task_ids,
    task_title,
)
from .library import view as library_view
from .properties import TEXT_ENDPOINT, honours, scene_props

JOB_THUMBNAIL_SCALE = 3.0
WRAP_CHARS = 42
HAS_PROGRESS = "progress" in cast(Any, bpy.types.UILayout.bl_rna).functions  # Blender 4.0+


def layout_of(panel: bpy.types.Panel) -> bpy.types.UILayout:
    """The panel's layout (Blender sets it before calling ``draw``; the stubs allow None)."""
    return cast(bpy.types.UILayout, panel.layout)


def wrapped(layout: Any, text: str, *, icon: str = "NONE") -> None:
    """A long message as several labels (Blender labels do not wrap)."""
    for index, line in enumerate(textwrap.wrap(text, WRAP_CHARS) or [""]):
        layout.label(text=line, icon=icon if index == 0 else "BLANK1")


def progress_bar(layout: Any, factor: float, text: str) -> None:
    if HAS_PROGRESS:
        layout.progress(factor=factor, type="BAR", text=text)
    else:
        layout.label(text=f"{text} ({factor:.0%})")


class MeshyPanel(bpy.types.Panel):
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Meshy"


class MESHY_PT_main(MeshyPanel):
    bl_idname = "MESHY_PT_main"
    bl_label = "Meshy"

    def draw_header(self, context: bpy.types.Context) -> None:
        layout_of(self).label(text="", icon_value=icons.icon("logo"))

    def draw(self, context: bpy.types.Context) -> None:
        layout = layout_of(self)
        if not bpy.app.online_access:
            preferences.draw_offline_hint(layout)
        elif not preferences.api_key(context):
            box = layout.box()
            box.label(text="Add your Meshy API key in", icon="ERROR")
            box.label(text="Preferences > Add-ons > Meshy for Blender")
        else:
            row = layout.row()
            preferences.draw_balance(row)


class MeshySubPanel(MeshyPanel):
    bl_parent_id = "MESHY_PT_main"


class MESHY_PT_text(MeshySubPanel):
    bl_idname = "MESHY_PT_text"
    bl_label = "Text to 3D"

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        layout.prop(props, "prompt", text="")
        generation_ui.draw_model(layout, props.text_mesh, TEXT_ENDPOINT)
        row = layout.row()
        row.prop(props, "refine")
        sub = row.row()
        sub.active = props.refine
        sub.prop(props.text_texture, "enable_pbr")
        generation_ui.draw_size(layout, props.text_mesh)
        label = "Generate" if props.refine else "Generate preview"
        layout.operator("meshy.generate_text", text=f"{label} (~{text_cost(context)} credits)", icon="PLAY")


class MESHY_PT_text_advanced(MeshyPanel):
    bl_idname = "MESHY_PT_text_advanced"
    bl_parent_id = "MESHY_PT_text"
    bl_label = "Advanced"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        model = props.text_mesh.model_id()
        if honours(TEXT_ENDPOINT, model, "negative_prompt"):
            layout.prop(props, "negative_prompt")
        generation_ui.draw_advanced_mesh(layout, props.text_mesh, TEXT_ENDPOINT)
        sub = layout.column()
        sub.active = props.refine
        generation_ui.draw_advanced_texture(sub, props.text_texture, TEXT_ENDPOINT, model)


class MESHY_PT_image(MeshySubPanel):
    bl_idname = "MESHY_PT_image"
    bl_label = "Image to 3D"

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        draw_image_inputs(layout, props.images, "meshy.image_add", "meshy.image_remove")
        generation_ui.draw_model(layout, props.image_mesh, props.image_endpoint())
        row = layout.row()
        row.prop(props, "should_texture")
        sub = row.row()
        sub.active = props.should_texture
        sub.prop(props.image_texture, "enable_pbr")
        generation_ui.draw_size(layout, props.image_mesh)
        count = sum(1 for item in props.images if item.is_set)
        text = "Generate from image" if count <= 1 else f"Generate from {count} views"
        layout.operator("meshy.generate_image", text=f"{text} (~{image_cost(context)} credits)", icon="PLAY")


class MESHY_PT_image_advanced(MeshyPanel):
    bl_idname = "MESHY_PT_image_advanced"
    bl_parent_id = "MESHY_PT_image"
    bl_label = "Advanced"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        endpoint = props.image_endpoint()
        generation_ui.draw_advanced_mesh(layout, props.image_mesh, endpoint)
        sub = layout.column()
        sub.active = props.should_texture
        generation_ui.draw_advanced_texture(sub, props.image_texture, endpoint, props.image_mesh.model_id())


def draw_image_inputs(layout: Any, items: Any, add: str, remove: str) -> None:
    """A list of input images (a file, or an image loaded in Blender) with its add and remove buttons."""
    for index, item in enumerate(items):
        box = layout.box()
        row = box.row()
        row.template_ID(item, "image", open="image.open")
        row.operator(remove, text="", icon="X").index = index
        if item.image is None:
            box.prop(item, "filepath", text="")
    layout.operator(add, icon="ADD")


class MESHY_PT_rig(MeshySubPanel):
    bl_idname = "MESHY_PT_rig"
    bl_label = "Rig & Animate"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        layout.prop(props, "height_meters")
        layout.operator(
            "meshy.rig_selected",
            text=f"Rig selected mesh (~{fixed_cost(TaskKind.RIGGING)} credits)",
            icon="ARMATURE_DATA",
        )
        layout.separator()
        actions_library.draw_library_header(layout)
        actions_library.draw_picker(layout, props)
        layout.prop(props, "animation_fps")
        ids = actions_library.selected_ids(props)
        what = "1 action" if len(ids) == 1 else f"{len(ids)} actions"
        layout.operator(
            "meshy.animate_selected",
            text=f"Animate with {what} (~{actions_library.cost(ids)} credits)",
            icon="PLAY",
        )


class MESHY_PT_retexture(MeshySubPanel):
    bl_idname = "MESHY_PT_retexture"
    bl_label = "Retexture"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        layout.prop(props, "style_prompt")
        layout.prop(props, "style_image")
        layout.prop(props, "retexture_pbr")
        layout.prop(props, "enable_original_uv")
        layout.operator(
            "meshy.retexture_selected",
            text=f"Retexture selected (~{fixed_cost(TaskKind.RETEXTURE)} credits)",
            icon="TEXTURE",
        )


class MESHY_PT_jobs(MeshySubPanel):
    bl_idname = "MESHY_PT_jobs"
    bl_label = "Jobs"

    def draw_header_preset(self, context: bpy.types.Context) -> None:
        layout_of(self).operator("meshy.cancel_all", text="", icon="CANCEL")

    def draw(self, context: bpy.types.Context) -> None:
        layout = layout_of(self)
        live = session.current_manager()
        jobs = live.jobs() if live is not None else []
        if not jobs:
            layout.label(text="No jobs yet")
            return
        here = file_identity.current()
        kept = library_view.entries_by_id()
        page = jobs_view.page_of(context, jobs)
        for job in page.items:
            elsewhere = live is not None and live.elsewhere(job)
            thumbnail = library_view.job_thumbnail(job, kept)
            draw_job(layout.box(), job, elsewhere=elsewhere, here=here, thumbnail=thumbnail)
        if page.count > 1:
            from .pager import draw_pager  # a draw helper: loaded with the first page drawn

            draw_pager(layout.row(align=True), page, "meshy.jobs_page", "jobs")


def draw_job(
    layout: Any, job: Job, *, elsewhere: bool = False, here: FileRef | None = None, thumbnail: Path | None = None
) -> None:
    """One job: its thumbnail once known, name and state, progress, queue position, credits, error, and its buttons.

    A job another Blender window or command runs (``elsewhere``) is shown without buttons;
    one running for another file than the open one (``here``) says where it will land.
    """
    if thumbnail is not None:
        layout.template_icon(icon_value=icons.thumbnail(thumbnail), scale=JOB_THUMBNAIL_SCALE)
    row = layout.row()
    row.label(text=job.name, icon_value=icons.state_icon(job.state))
    row.label(text=job.state.label)
    stage = job.current_stage
    if not job.state.is_final:
        progress_bar(layout, job.progress, job.message or job.state.label)
        if stage.status == TaskStatus.PENDING.value and stage.preceding_tasks:
            layout.label(text=f"{stage.preceding_tasks} tasks ahead in Meshy's queue", icon="SORTTIME")
        if here is not None and not job.belongs_to(here):
            layout.label(text=f"Lands in {job.file.label}", icon="FILE_BLEND")
    elif job.state is states.JobState.FAILED:
        col = layout.column()
        col.alert = True
        wrapped(col, job.error or job.message or "Failed", icon="ERROR")
    elif job.message:
        layout.label(text=job.message)
    if job.kind == BRIDGE_JOB_KIND:
        layout.label(text="From Meshy web app", icon="WORLD")
    else:
        consumed = job.consumed_credits
        used = f", {consumed} used" if consumed else ""
        layout.label(text=f"Credits: ~{job.estimated_credits} estimated{used}", icon="FUND")
    deleting = calls.get(delete_call(job.id))
    if deleting is not None:
        if deleting.running:
            layout.label(text="Deleting on Meshy…", icon="SORTTIME")
        elif deleting.error:
            wrapped(layout, f"Delete failed: {deleting.error}", icon="ERROR")
        else:
            layout.label(text="Deleted on Meshy", icon="TRASH")
    if elsewhere:
        layout.label(text="Running in another Blender window or command", icon="LOCKED")
        return
    draw_job_buttons(layout.row(align=True), job)


def draw_job_buttons(row: Any, job: Job) -> None:
    buttons: list[tuple[str, str, str, Callable[[Job], bool]]] = [
        ("meshy.job_cancel", "Cancel", "CANCEL", lambda j: not j.state.is_final),
        ("meshy.job_retry", "Retry", "FILE_REFRESH", can_retry),
        ("meshy.job_reimport", "Import here", "IMPORT", can_import_here),
        ("meshy.job_reimport", "Re-import", "IMPORT", can_reimport),
        ("meshy.job_refine", "Refine", "SHADING_TEXTURE", can_refine),
        ("meshy.job_rig", "Rig", "ARMATURE_DATA", can_rig),
        ("meshy.job_animate", "Animate", "ACTION", can_animate),
        ("meshy.job_delete_remote", "", "TRASH", lambda j: j.state.is_final and bool(task_ids(j))),
        ("meshy.job_forget", "", "X", lambda j: j.state.is_final),
    ]
    for idname, text, icon, applies in buttons:
        if applies(job):
            row.operator(idname, text=text, icon=icon).job_id = job.id


class MESHY_PT_browser(MeshySubPanel):
    bl_idname = "MESHY_PT_browser"
    bl_label = "Task browser"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = scene_props(context)
        layout = layout_of(self)
        layout.prop(props, "browse_kind")
        row = layout.row(align=True)
        back = row.row(align=True)
        back.enabled = props.browse_page > 1
        back.operator("meshy.browse_tasks", text="", icon="TRIA_LEFT").page = max(1, props.browse_page - 1)
        row.operator("meshy.browse_tasks", text=f"Load page {props.browse_page}", icon="FILE_REFRESH")
        row.operator("meshy.browse_tasks", text="", icon="TRIA_RIGHT").page = props.browse_page + 1
        call = calls.get(BROWSE_CALL)
        if call is None:
            return
        if call.running:
            layout.label(text="Loading…", icon="SORTTIME")
        elif call.error:
            wrapped(layout, call.error, icon="ERROR")
        elif not call.result:
            layout.label(text="No tasks on this page")
        else:
            kind, page = call.request
            layout.label(text=f"{kind.label}, page {page}:")
            now_ms = int(time.time() * 1000)
            for task in call.result:
                row = layout.row()
                row.label(text=task_title(task), icon="CHECKMARK" if task.succeeded else "SORTTIME")
                if importable(task, now_ms):
                    row.operator("meshy.browse_import", text="Import", icon="IMPORT").task_id = task.id
                else:
                    row.label(text="Expired" if task.succeeded else task.status.value.replace("_", " ").title())


class MESHY_PT_account(MeshySubPanel):
    bl_idname = "MESHY_PT_account"
    bl_label = "Account"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = layout_of(self)
        row = layout.row()
        preferences.draw_balance(row)
        row.operator("meshy.refresh_balance", text="", icon="FILE_REFRESH")
        col = layout.column(align=True)
        col.label(text="Cost of the current inputs (credits):")
        col.label(text=f"Text to 3D: {text_cost(context)}")
        col.label(text=f"Image to 3D: {image_cost(context)}")
        col.label(text=f"Rig: {fixed_cost(TaskKind.RIGGING)}, animate: {fixed_cost(TaskKind.ANIMATION)}")
        col.label(text=f"Retexture: {fixed_cost(TaskKind.RETEXTURE)}")
        layout.operator("meshy.copy_diagnostics", icon="COPYDOWN")


def text_cost(context: bpy.types.Context) -> int:
    from ...api.costs import estimate_credits  # the catalogue's prices load at the first draw

    props = scene_props(context)
    total = estimate_credits(TaskKind.TEXT_TO_3D, {"mode": "preview", **props.preview_options()})
    if props.refine:
        total += estimate_credits(TaskKind.TEXT_TO_3D, {"mode": "refine", **props.refine_options()})
    return total


def image_cost(context: bpy.types.Context) -> int:
    from ...api.costs import estimate_credits  # the catalogue's prices load at the first draw

    props = scene_props(context)
    views = sum(1 for item in props.images if item.is_set)
    kind = TaskKind.MULTI_IMAGE_TO_3D if views > 1 else TaskKind.IMAGE_TO_3D
    return estimate_credits(kind, props.image_options())


@functools.cache  # the catalogue's prices never change in a process; the panels show them at every draw
def fixed_cost(kind: TaskKind) -> int:
    from ...api.costs import estimate_credits  # the catalogue's prices load at the first draw

    return estimate_credits(kind, {})


CLASSES = (
    MESHY_PT_main,
    MESHY_PT_text,
    MESHY_PT_text_advanced,
    MESHY_PT_image,
    MESHY_PT_image_advanced,
    MESHY_PT_rig,
    MESHY_PT_retexture,
    MESHY_PT_jobs,
    MESHY_PT_browser,
    MESHY_PT_account,
)

if TYPE_CHECKING:
    from ...jobs.model import FileRef, Job
