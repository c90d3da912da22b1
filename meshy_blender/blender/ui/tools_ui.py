# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""The Tools panel: UV Unwrap, Resize and Convert on the selected mesh or a Meshy task.

The model is the selected mesh (exported as GLB, what the viewport shows) or, with
"Meshy task", the task behind the active object (its ``meshy_task_id`` tag, or an id
typed in): nothing is uploaded then. UV Unwrap and Resize are jobs like the others: their
result lands in the scene through the pump (new UVs; the asked size and origin). UV
Unwrap counts the selection's faces first and refuses more than Meshy's 40,000, with the
count. Convert ends with a file, not a model: it runs as a background call and saves
``<name>.<format>`` beside the saved .blend (else in the add-on's download folder); the
panel says where, and imports it on request when Blender reads the format.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import EnumProperty, FloatProperty, PointerProperty, StringProperty

from ... import api
from ...api.task_kinds import TaskKind
from . import calls, operators, preferences
from .panels import MeshySubPanel, layout_of, wrapped

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ...api.client import MeshyClient
    from ...api.tasks import Task
    from ...jobs.model import Job

CONVERT_CALL = "convert"
CONVERT_TIMEOUT_S = 600.0
_FORMAT_ITEMS = [
    ("fbx", "FBX", "Autodesk FBX"),
    ("obj", "OBJ", "Wavefront OBJ"),
    ("stl", "STL", "STL, for 3D printing"),
    ("glb", "GLB", "Binary glTF"),
    ("usdz", "USDZ", "USDZ, for AR"),
    ("3mf", "3MF", "3MF, for 3D printing"),
    ("blend", "Blend", "A Blender file"),
]


class MeshyToolsProperties(bpy.types.PropertyGroup):
    source: EnumProperty(
        name="Model",
        items=[
            ("SELECTION", "Selected mesh", "Send the selected mesh (as the viewport shows it)"),
            ("TASK", "Meshy task", "Use the Meshy task behind the active object, or the task id below: no upload"),
        ],
        default="SELECTION",
    )
    task_id: StringProperty(name="Task id", description="A finished Meshy task (empty: the active object's task)")
    resize_mode: EnumProperty(
        name="Size",
        items=[
            ("HEIGHT", "Height", "Scale to this height"),
            ("LONGEST", "Longest side", "Scale so the longest side has this length"),
            ("AUTO", "Real-world size", "Meshy estimates the object's real size"),
        ],
        default="HEIGHT",
    )
    size: FloatProperty(name="Length", default=1.8, min=0.001, soft_max=100.0, unit="LENGTH", subtype="DISTANCE")
    origin_at: EnumProperty(
        name="Origin",
        items=[("bottom", "Bottom", "Origin at the bottom centre"), ("center", "Centre", "Origin at the centre")],
        default="bottom",
    )
    convert_format: EnumProperty(name="Format", items=_FORMAT_ITEMS, default="fbx")


def tools_props(context: bpy.types.Context) -> MeshyToolsProperties:
    return cast(MeshyToolsProperties, cast(Any, context.scene).meshy_tools)


def task_of_selection(context: bpy.types.Context) -> str:
    """The task id the tools use with "Meshy task": the typed one, else the active object's (or its parent's)."""
    typed = tools_props(context).task_id.strip()
    if typed:
        return typed
    obj = context.active_object
    while obj is not None:
        if obj.get("meshy_task_id") and obj.get("meshy_kind") != "bridge":
            return str(obj["meshy_task_id"])
        obj = obj.parent
    return ""


def _source_poll(cls: type[bpy.types.Operator], context: bpy.types.Context, purpose: str) -> bool:
    if tools_props(context).source == "SELECTION":
        return operators.meshes_poll(cls, context, purpose)
    if not operators.ready(cls, context):
        return False
    if not task_of_selection(context):
        cls.poll_message_set("Select an object Meshy made, or type a task id")
        return False
    return True


def _model(context: bpy.types.Context, inputs: Any, purpose: str) -> dict[str, Any]:
    """``{"model": exported GLB}`` or ``{"input_task_id": …}``, by the panel's source."""
    if tools_props(context).source == "TASK":
        return {"input_task_id": task_of_selection(context)}
    return {"model": operators.export_selection(context, inputs, purpose)}


def _name(context: bpy.types.Context, suffix: str) -> str:
    obj = context.active_object
    base = str(obj.get("meshy_name", obj.name)) if obj is not None else "Meshy model"
    return f"{base} {suffix}"


def _tool_job(context: bpy.types.Context, kind: TaskKind, purpose: str, options: dict[str, Any]) -> "Job":
    from ...jobs import plans

    suffix = plans.TOOL_NAMES[kind][0]
    with operators.job_inputs(context) as inputs:
        source = _model(context, inputs, purpose)
        job = plans.tool_job(kind, options=options, name=_name(context, suffix), **source)
        return inputs.claim(job)


class MESHY_OT_tool_uv_unwrap(bpy.types.Operator):
    """Give the model a new UV layout with Meshy (at most 40,000 faces; the result is untextured)"""

    bl_idname = "meshy.tool_uv_unwrap"
    bl_label = "UV Unwrap"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _source_poll(cls, context, "unwrap")

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        return operators.submit(self, context, lambda: _tool_job(context, TaskKind.UV_UNWRAP, "unwrap", {}))


def resize_options(props: MeshyToolsProperties) -> dict[str, Any]:
    """The Resize request's sizing fields from the panel."""
    metres = round(props.size, 6)  # what was typed (1.8), not its single-precision neighbour
    size: dict[str, Any] = {"HEIGHT": {"resize_height": metres}, "LONGEST": {"resize_longest_side": metres}}
    return {**size.get(props.resize_mode, {"auto_size": True}), "origin_at": props.origin_at}


class MESHY_OT_tool_resize(bpy.types.Operator):
    """Scale the model to a real-world size with Meshy, its origin at the bottom or the centre"""

    bl_idname = "meshy.tool_resize"
    bl_label = "Resize"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _source_poll(cls, context, "resize")

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        options = resize_options(tools_props(context))
        return operators.submit(self, context, lambda: _tool_job(context, TaskKind.RESIZE, "resize", options))


def convert_folder(context: bpy.types.Context) -> Path:
    """Where converted files go: beside the saved .blend, else the add-on's download folder."""
    return Path(bpy.data.filepath).parent if bpy.data.filepath else preferences.download_dir(context) / "converted"


def _free_path(folder: Path, stem: str, fmt: str) -> Path:
    target = folder / f"{stem}.{fmt}"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem} {number}.{fmt}"
    return target


class MESHY_OT_tool_convert(bpy.types.Operator):
    """Convert the model to the chosen file format with Meshy and save the file (1 credit)"""

    bl_idname = "meshy.tool_convert"
    bl_label = "Convert"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if calls.is_running(CONVERT_CALL):
            cls.poll_message_set("A conversion is running")
            return False
        return _source_poll(cls, context, "convert")

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ...jobs import conversion
        from ..scene import importer

        fmt = tools_props(context).convert_format
        try:
            with operators.job_inputs(context) as inputs:
                source = _model(context, inputs, "convert")
                body = conversion.check_request(fmt, **source)
            folder = convert_folder(context)
            folder.mkdir(parents=True, exist_ok=True)
            target = _free_path(folder, importer.object_name(_name(context, "")).strip(), fmt)
        except (api.MeshyError, OSError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}

        def work(client: "MeshyClient") -> "tuple[Task, Path]":
            from ...jobs import conversion

            return conversion.convert_model(client, body, target, timeout=CONVERT_TIMEOUT_S)

        self.report({"INFO"}, f"Meshy: converting to {fmt.upper()} (1 credit)")
        return operators.start_call(self, context, CONVERT_CALL, work, request=str(target))


class MESHY_OT_tool_import_converted(bpy.types.Operator):
    """Import the converted file into the scene"""

    bl_idname = "meshy.tool_import_converted"
    bl_label = "Import converted file"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        from ...jobs import conversion

        call = calls.get(CONVERT_CALL)
        if call is None or not call.ok or Path(call.result[1]).suffix.lstrip(".") not in conversion.IMPORTABLE:
            cls.poll_message_set("Blender imports converted GLB, FBX, OBJ and STL files")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ..scene import importer

        call = calls.get(CONVERT_CALL)
        assert call is not None
        task, path = call.result
        try:
            result = importer.import_glb(
                path, job_id=task.id, display_name=path.stem, tags={"meshy_task_id": task.id, "meshy_kind": "convert"}
            )
        except (api.MeshyError, OSError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Imported {path.name}" + (f"; {result.note}" if result.note else ""))
        return {"FINISHED"}


def _scene_rate(scene: bpy.types.Scene) -> float:
    return float(scene.render.fps / scene.render.fps_base)


def clip_rate_offer(context: bpy.types.Context) -> tuple[float, list[bpy.types.Action]]:
    """The frame rate the active object's imported clips were made at, and those clips, when it is not the scene's.

    ``(0.0, [])`` when there is nothing to offer. The clips are the actions of the active
    object (or its armature) that record ``meshy_frame_rate`` (see :mod:`..scene.model_formats`).
    """
    from ..scene import model_formats

    obj = context.active_object
    scene = context.scene
    while obj is not None and obj.type != "ARMATURE" and obj.parent is not None:
        obj = obj.parent
    data = obj.animation_data if obj is not None else None
    action = data.action if data is not None else None
    rate = float(action.get(model_formats.FRAME_RATE_PROP, 0.0)) if action is not None else 0.0
    if scene is None or not rate or abs(rate - _scene_rate(scene)) < 0.01:
        return 0.0, []
    clips = [action for action in bpy.data.actions if action.get(model_formats.FRAME_RATE_PROP) == rate]
    return rate, clips


class MESHY_OT_use_clip_frame_rate(bpy.types.Operator):
    """Set the scene to the frame rate the selected character's clips were made at (one key per frame).

    The clips' keys were placed at the scene's rate when they were imported, to keep their
    timing; they are moved back so they keep it at the new rate. Other animation in the
    file stays on its frames, as whenever the frame rate changes.
    """

    bl_idname = "meshy.use_clip_frame_rate"
    bl_label = "Use the clip's frame rate"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not clip_rate_offer(context)[1]:
            cls.poll_message_set("Select a character whose Meshy clip was made at another frame rate")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ..scene import model_formats

        rate, clips = clip_rate_offer(context)
        scene = cast(bpy.types.Scene, context.scene)
        factor = rate / _scene_rate(scene)
        scene.render.fps = round(rate)
        scene.render.fps_base = round(rate) / rate
        for clip in clips:
            model_formats.retime(clip, factor)
        self.report({"INFO"}, f"Scene set to {rate:g} fps; {len(clips)} clip(s) kept their timing")
        return {"FINISHED"}


class MESHY_PT_tools(MeshySubPanel):
    """UV Unwrap, Resize and Convert a model with Meshy."""

    bl_idname = "MESHY_PT_tools"
    bl_label = "Tools"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        props = tools_props(context)
        layout = layout_of(self)
        layout.prop(props, "source", expand=True)
        if props.source == "TASK":
            layout.prop(props, "task_id")
            task_id = task_of_selection(context)
            layout.label(text=f"Task: {task_id}" if task_id else "Select an object Meshy made", icon="INFO")
        box = layout.box()
        box.operator("meshy.tool_uv_unwrap", text="UV Unwrap (5 credits)", icon="UV")
        box = layout.box()
        box.prop(props, "resize_mode")
        if props.resize_mode != "AUTO":
            box.prop(props, "size")
        box.prop(props, "origin_at", expand=True)
        box.operator("meshy.tool_resize", text="Resize (1 credit)", icon="FULLSCREEN_ENTER")
        box = layout.box()
        row = box.row(align=True)
        row.prop(props, "convert_format", text="")
        row.operator("meshy.tool_convert", text="Convert (1 credit)", icon="EXPORT")
        _draw_convert_call(box)
        rate, _ = clip_rate_offer(context)
        if rate:
            box = layout.box()
            scene_rate = _scene_rate(cast(bpy.types.Scene, context.scene))
            box.label(text=f"Clip made at {rate:g} fps; the scene runs at {scene_rate:g}", icon="TIME")
            box.operator("meshy.use_clip_frame_rate", text=f"Use {rate:g} fps")


def _draw_convert_call(layout: Any) -> None:
    from ...jobs import conversion

    call = calls.get(CONVERT_CALL)
    if call is None:
        return
    if call.running:
        layout.label(text=f"Converting… (to {Path(str(call.request)).name})", icon="SORTTIME")
    elif call.error:
        col = layout.column()
        col.alert = True
        wrapped(col, call.error, icon="ERROR")
    else:
        wrapped(layout, f"Saved {call.result[1]}", icon="CHECKMARK")
        if call.result[1].suffix.lstrip(".") in conversion.IMPORTABLE:
            layout.operator("meshy.tool_import_converted", icon="IMPORT")


CLASSES = (
    MESHY_OT_tool_uv_unwrap,
    MESHY_OT_tool_resize,
    MESHY_OT_tool_convert,
    MESHY_OT_tool_import_converted,
    MESHY_OT_use_clip_frame_rate,
    MESHY_PT_tools,
)


def register() -> None:
    """The scene's ``meshy_tools`` settings (the operators and panel are in :data:`CLASSES`)."""
    bpy.utils.register_class(MeshyToolsProperties)
    bpy.types.Scene.meshy_tools = PointerProperty(type=MeshyToolsProperties)  # type: ignore[attr-defined,func-returns-value]


def unregister() -> None:
    del bpy.types.Scene.meshy_tools  # type: ignore[attr-defined]
    bpy.utils.unregister_class(MeshyToolsProperties)
