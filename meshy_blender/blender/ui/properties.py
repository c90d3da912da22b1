# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""The generation inputs, stored on the Scene as ``scene.meshy`` (nothing secret here).

Each group turns its fields into the options of a Meshy request with ``options()``, sending
only what applies: remesh settings only when remeshing, texture settings only when texturing,
and only options the chosen model acts on (Meshy's model catalogue says which: Meshy-6+
ignores symmetry and art style). The model menu is the catalogue's (see ``model_menu``).
"""

import functools
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

from ...api import limits
from ...api.task_kinds import TaskKind
from . import model_menu
from .animate import actions as actions_library

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
ORIGINS = [("bottom", "Bottom", "Origin at the bottom of the model"), ("center", "Center", "Origin at its centre")]
GEOMETRY_RESOLUTIONS = [
    ("standard", "Standard", "Meshy's usual mesh detail"),
    ("2k", "2K", "Finer surface detail (Meshy-7.1)"),
    ("4k", "4K", "Finest surface detail (Meshy-7.1, not with several images)"),
]
TEXTURE_RESOLUTIONS = [
    ("2k", "2K", "Meshy's usual texture size"),
    ("4k", "4K", "Larger textures"),
    ("8k", "8K", "Largest textures"),
]
DECIMATION_MODES = [("NONE", "Meshy's default", "Not sent")] + [
    (str(mode), f"Mode {mode}", f"Meshy's decimation mode {mode}") for mode in limits.DECIMATION_MODES
]
TEXT_ENDPOINT = "text-to-3d"
BROWSE_KINDS = [(kind.name, kind.label, f"Your {kind.label} tasks on Meshy") for kind in TaskKind]
ANIMATION_FPS = [("NONE", "As Meshy makes it", "No frame-rate change")] + [
    (str(fps), f"{fps} fps", f"Clips resampled to {fps} frames per second") for fps in limits.POST_PROCESS_FPS
]


class MeshyImageInput(bpy.types.PropertyGroup):
    """One view of the object: an image file, or an image already in Blender."""

    filepath: StringProperty(name="File", subtype="FILE_PATH", description="A PNG or JPEG file")
    image: PointerProperty(name="Image", type=bpy.types.Image, description="An image loaded in Blender")

    @property
    def is_set(self) -> bool:
        return bool(self.image or self.filepath.strip())


@functools.lru_cache(maxsize=512)  # the catalogue never changes in a process; the panels ask dozens of times a draw
def honours(endpoint: str, model_id: str, name: str) -> bool:
    """Whether the model acts on option ``name``: a panel shows and sends only those."""
    from ...api import catalogue  # read at the first draw, not at enable

    return catalogue.load().honours(endpoint, model_id, name)


def _remember_model(group: Any, context: bpy.types.Context) -> None:
    group.chosen_model = group.ai_model


class MeshyMeshOptions(bpy.types.PropertyGroup):
    ai_model: EnumProperty(
        name="Model",
        items=model_menu.items,
        update=_remember_model,
        description="Meshy's model; Custom… sends any id as given",
    )
    #: The id last picked in the menu: a saved file keeps naming it after Meshy retires it (the menu no longer can).
    chosen_model: StringProperty(options={"HIDDEN"})
    custom_model: StringProperty(name="Custom model id", description="Any model id Meshy offers, sent as given")
    auto_size: BoolProperty(
        name="Real-world size", default=False, description="Meshy estimates the object's real height and scales it"
    )
    origin_at: EnumProperty(name="Origin", items=ORIGINS, default="bottom")
    should_remesh: BoolProperty(
        name="Remesh", default=False, description="Rebuild the mesh with the topology below (off: Meshy's own mesh)"
    )
    topology: EnumProperty(name="Topology", items=TOPOLOGIES, default="triangle")
    target_polycount: IntProperty(
        name="Target polycount", default=30_000, min=limits.MIN_POLYCOUNT, max=limits.MAX_POLYCOUNT
    )
    symmetry_mode: EnumProperty(name="Symmetry", items=SYMMETRY, default="auto")
    pose_mode: EnumProperty(name="Pose", items=POSES, default="NONE")
    geometry_resolution: EnumProperty(name="Geometry", items=GEOMETRY_RESOLUTIONS, default="standard")
    decimation_mode: EnumProperty(name="Decimation", items=DECIMATION_MODES, default="NONE")
    image_enhancement: BoolProperty(
        name="Enhance the image", default=True, description="Let Meshy clean up the input image first"
    )
    save_pre_remeshed_model: BoolProperty(
        name="Keep the model before remeshing", default=False, description="Also download Meshy's unremeshed GLB"
    )
    alpha_thumbnail: BoolProperty(name="Transparent thumbnail", default=False)
    multi_view_thumbnails: BoolProperty(name="Thumbnails from four sides", default=False)

    def model_id(self) -> str:
        """The chosen model: the menu's, the typed id for Custom…, or the one picked before it left the menu
        (retired since: refused, never replaced in silence); the endpoint's default when there is none."""
        from ...api import catalogue

        menu = self.ai_model  # "" when the saved choice is no longer offered
        chosen = self.custom_model.strip() if menu == model_menu.CUSTOM else menu or self.chosen_model
        return chosen or catalogue.load().default_model(model_menu.endpoint_of(self)) or catalogue.LATEST

    def remeshes(self, endpoint: str) -> bool:
        """Whether remeshing is asked for (Smart Topology models always make their own topology)."""
        return self.should_remesh and honours(endpoint, self.model_id(), "should_remesh")

    def options(self, endpoint: str) -> dict[str, Any]:
        model = self.model_id()
        body: dict[str, Any] = {"ai_model": model}
        if honours(endpoint, model, "should_remesh"):
            body["should_remesh"] = self.should_remesh
        if self.remeshes(endpoint) or not honours(endpoint, model, "should_remesh"):
            body["target_polycount"] = self.target_polycount
            if honours(endpoint, model, "topology"):
                body["topology"] = self.topology
        if self.pose_mode != "NONE":
            body["pose_mode"] = self.pose_mode
        if self.auto_size:
            body.update(auto_size=True, origin_at=self.origin_at)
        chosen = {
            "symmetry_mode": self.symmetry_mode,
            "geometry_resolution": None if self.geometry_resolution == "standard" else self.geometry_resolution,
            "decimation_mode": None if self.decimation_mode == "NONE" else int(self.decimation_mode),
            "alpha_thumbnail": self.alpha_thumbnail or None,
            "multi_view_thumbnails": self.multi_view_thumbnails or None,
        }
        if endpoint != "text-to-3d":
            chosen["image_enhancement"] = self.image_enhancement
            chosen["save_pre_remeshed_model"] = (self.save_pre_remeshed_model and self.remeshes(endpoint)) or None
        body.update(
            {name: value for name, value in chosen.items() if value is not None and honours(endpoint, model, name)}
        )
        return body


class MeshyTextureOptions(bpy.types.PropertyGroup):
    enable_pbr: BoolProperty(name="PBR maps", default=True, description="Metallic, roughness and normal maps too")
    texture_resolution: EnumProperty(name="Texture size", items=TEXTURE_RESOLUTIONS, default="2k")
    remove_lighting: BoolProperty(
        name="Remove baked lighting", default=True, description="Take highlights and shadows out of the base colour"
    )
    texture_prompt: StringProperty(name="Texture prompt", description="Describe the texture (optional)")
    texture_image: StringProperty(name="Texture image", subtype="FILE_PATH", description="Reference image (optional)")

    def options(self, endpoint: str, model_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"enable_pbr": self.enable_pbr}
        if self.texture_resolution != "2k" and honours(endpoint, model_id, "texture_resolution"):
            body["texture_resolution"] = self.texture_resolution
        if honours(endpoint, model_id, "remove_lighting"):
            body["remove_lighting"] = self.remove_lighting
        if self.texture_prompt.strip():
            body["texture_prompt"] = self.texture_prompt.strip()
        if self.texture_image.strip():
            body["texture_image_url"] = bpy.path.abspath(self.texture_image.strip())
        return body


class MeshySceneProperties(bpy.types.PropertyGroup):
    # Text to 3D
    prompt: StringProperty(name="Prompt", description="Describe the object to generate")
    negative_prompt: StringProperty(name="Avoid", description="What the model should not look like (optional)")
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
        body = self.text_mesh.options(TEXT_ENDPOINT)
        if self.negative_prompt.strip() and honours(TEXT_ENDPOINT, body["ai_model"], "negative_prompt"):
            body["negative_prompt"] = self.negative_prompt.strip()
        return body

    def refine_options(self) -> dict[str, Any]:
        model = self.text_mesh.model_id()
        return {"ai_model": model, **self.text_texture.options(TEXT_ENDPOINT, model)}

    def image_endpoint(self) -> str:
        """Image to 3D for one view, Multi-image to 3D for two to four."""
        views = sum(1 for item in self.images if item.is_set)
        return "multi-image-to-3d" if views > 1 else "image-to-3d"

    def image_options(self) -> dict[str, Any]:
        endpoint = self.image_endpoint()
        body = {**self.image_mesh.options(endpoint), "should_texture": self.should_texture}
        if self.should_texture:
            body.update(self.image_texture.options(endpoint, body["ai_model"]))
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
