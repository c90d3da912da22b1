# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
"""The generation inputs, stored on the Scene as ``scene.meshy`` (nothing secret here).

Each group turns its fields into the options of a Meshy request with ``options()``, sending
only what applies: remesh settings only when remeshing, texture settings only when texturing.
"""

from __future__ import annotations

from typing import Any, cast

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ...api import validation
from ...api.tasks import TaskKind
from . import actions_library

AI_MODELS = [
    ("latest", "Latest", "Meshy's newest model (Meshy-6 today)"),
    ("meshy-6", "Meshy-6", "Best quality; costs more credits"),
    ("meshy-5", "Meshy-5", "The previous model; cheaper"),
]
TOPOLOGIES = [("triangle", "Triangles", "Triangulated mesh"), ("quad", "Quads", "Quad-dominant mesh")]
SYMMETRY = [
    ("auto", "Auto", "Symmetric when the object looks symmetric"),
    ("on", "On", "Force symmetry"),
    ("off", "Off", "No symmetry"),
]
POSES = [
    ("NONE", "Any pose", "Let Meshy choose the pose"),
    ("a-pose", "A-pose", "Characters in A-pose (good for rigging)"),
    ("t-pose", "T-pose", "Characters in T-pose (good for rigging)"),
]
MODEL_TYPES = [("standard", "Standard", "Detailed mesh"), ("lowpoly", "Low poly", "Clean low-poly mesh")]
BROWSE_KINDS = [(kind.name, kind.label, f"Your {kind.label} tasks on Meshy") for kind in TaskKind]


class MeshyImageInput(bpy.types.PropertyGroup):
    """One view of the object: an image file, or an image already in Blender."""

    filepath: StringProperty(name="File", subtype="FILE_PATH", description="A PNG or JPEG file")
    image: PointerProperty(name="Image", type=bpy.types.Image, description="An image loaded in Blender")

    @property
    def is_set(self) -> bool:
        return bool(self.image or self.filepath.strip())


ANIMATION_FPS = [("NONE", "As Meshy makes it", "No frame-rate change")] + [
    (str(fps), f"{fps} fps", f"Clips resampled to {fps} frames per second") for fps in validation.POST_PROCESS_FPS
]


class MeshyMeshOptions(bpy.types.PropertyGroup):
    ai_model: EnumProperty(name="AI model", items=AI_MODELS, default="latest")
    should_remesh: BoolProperty(name="Remesh", default=True, description="Rebuild the mesh with the topology below")
    topology: EnumProperty(name="Topology", items=TOPOLOGIES, default="triangle")
    target_polycount: IntProperty(
        name="Target polycount", default=30_000, min=validation.MIN_POLYCOUNT, max=validation.MAX_POLYCOUNT
    )
    symmetry_mode: EnumProperty(name="Symmetry", items=SYMMETRY, default="auto")
    pose_mode: EnumProperty(name="Pose", items=POSES, default="NONE")

    def options(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ai_model": self.ai_model,
            "symmetry_mode": self.symmetry_mode,
            "should_remesh": self.should_remesh,
        }
        if self.should_remesh:
            body.update(topology=self.topology, target_polycount=self.target_polycount)
        if self.pose_mode != "NONE":
            body["pose_mode"] = self.pose_mode
        return body


class MeshyTextureOptions(bpy.types.PropertyGroup):
    enable_pbr: BoolProperty(name="PBR maps", default=True, description="Metallic, roughness and normal maps too")
    hd_texture: BoolProperty(name="HD texture", default=False, description="Higher resolution base colour")
    texture_prompt: StringProperty(name="Texture prompt", description="Describe the texture (optional)")
    texture_image: StringProperty(name="Texture image", subtype="FILE_PATH", description="Reference image (optional)")

    def options(self) -> dict[str, Any]:
        body: dict[str, Any] = {"enable_pbr": self.enable_pbr, "hd_texture": self.hd_texture}
        if self.texture_prompt.strip():
            body["texture_prompt"] = self.texture_prompt.strip()
        if self.texture_image.strip():
            body["texture_image_url"] = bpy.path.abspath(self.texture_image.strip())
        return body


class MeshySceneProperties(bpy.types.PropertyGroup):
    # Text to 3D
    prompt: StringProperty(name="Prompt", description="Describe the object to generate")
    negative_prompt: StringProperty(name="Avoid", description="What the model should not look like (optional)")
    model_type: EnumProperty(name="Model type", items=MODEL_TYPES, default="standard")
    text_mesh: PointerProperty(type=MeshyMeshOptions)
    refine: BoolProperty(
        name="Refine automatically", default=True, description="Texture the preview as soon as it is ready"
    )
    text_texture: PointerProperty(type=MeshyTextureOptions)
    # Image / multi-image to 3D
    images: CollectionProperty(type=MeshyImageInput)
    image_mesh: PointerProperty(type=MeshyMeshOptions)
    should_texture: BoolProperty(name="Texture", default=True, description="Generate textures too")
    image_texture: PointerProperty(type=MeshyTextureOptions)
    # Rig and animate
    height_meters: FloatProperty(
        name="Height", default=1.7, min=0.1, max=20.0, unit="LENGTH", description="The character's height"
    )
    action_search: StringProperty(
        name="Search", description="Words of the action's name, e.g. 'walk back'", options={"TEXTEDIT_UPDATE"}
    )
    action_category: EnumProperty(name="Category", items=actions_library.category_items)
    action_ids: StringProperty(name="Selected actions", description="Library ids of the actions to apply, in order")
    action_rows: IntProperty(name="Rows", default=actions_library.PAGE, min=1)
    custom_action_id: IntProperty(
        name="Action id", default=0, min=0, description="Any id of Meshy's library, also one newer than this add-on"
    )
    animation_fps: EnumProperty(
        name="Frame rate",
        items=ANIMATION_FPS,
        default="NONE",
        description="Ask Meshy to resample the clips (its change_fps post-process)",
    )
    # Retexture
    style_prompt: StringProperty(name="Style", description="Describe the new look")
    style_image: StringProperty(name="Style image", subtype="FILE_PATH", description="Or an image of the new look")
    retexture_pbr: BoolProperty(name="PBR maps", default=True)
    enable_original_uv: BoolProperty(name="Keep UVs", default=True, description="Keep the mesh's own UV layout")
    # Task browser
    browse_kind: EnumProperty(name="Kind", items=BROWSE_KINDS, default=TaskKind.TEXT_TO_3D.name)
    browse_page: IntProperty(name="Page", default=1, min=1)

    def preview_options(self) -> dict[str, Any]:
        body = {**self.text_mesh.options(), "model_type": self.model_type}
        if self.negative_prompt.strip():
            body["negative_prompt"] = self.negative_prompt.strip()
        return body

    def refine_options(self) -> dict[str, Any]:
        return {"ai_model": self.text_mesh.ai_model, **self.text_texture.options()}

    def image_options(self) -> dict[str, Any]:
        body = {**self.image_mesh.options(), "should_texture": self.should_texture}
        if self.should_texture:
            body.update(self.image_texture.options())
        return body

    def rig_height(self) -> float:
        """The height in metres, without float32 noise (1.8, not 1.7999999523)."""
        return round(self.height_meters, 4)

    def animation_options(self) -> dict[str, Any]:
        if self.animation_fps == "NONE":
            return {}
        return {"post_process": {"operation_type": "change_fps", "fps": int(self.animation_fps)}}

    def retexture_style(self) -> dict[str, Any]:
        style: dict[str, Any] = {}
        if self.style_prompt.strip():
            style["text_style_prompt"] = self.style_prompt.strip()
        if self.style_image.strip():
            style["image_style"] = bpy.path.abspath(self.style_image.strip())
        return style

    def retexture_options(self) -> dict[str, Any]:
        return {"enable_pbr": self.retexture_pbr, "enable_original_uv": self.enable_original_uv}


CLASSES = (MeshyImageInput, MeshyMeshOptions, MeshyTextureOptions, MeshySceneProperties)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.meshy = PointerProperty(type=MeshySceneProperties)  # type: ignore[attr-defined,func-returns-value]


def unregister() -> None:
    del bpy.types.Scene.meshy  # type: ignore[attr-defined]
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)


def scene_props(context: bpy.types.Context) -> MeshySceneProperties:
    return cast(MeshySceneProperties, cast(Any, context.scene).meshy)
