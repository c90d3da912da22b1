# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""The Concept Images inputs, stored on the Scene as ``scene.meshy_concept`` (nothing secret here).

The image models come from the model catalogue, labelled as in the other model menus, with
"Custom…" for an id the catalogue does not know (sent as given). The menu's items are built
once per add-on session and kept referenced (Blender shows garbage for items Python let go of).
"""

from typing import Any, cast

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, PointerProperty, StringProperty

from ....api import limits
from ....api.task_kinds import TaskKind
from .. import model_menu
from ..properties import POSES, MeshyImageInput

SOURCES = [
    ("TEXT", "Text", "Pictures from the prompt alone (Text to image)"),
    ("IMAGES", "Text + images", "Pictures from your reference images and the prompt (Image to image)"),
]
_RATIO_NAMES = {"1:1": "Square", "16:9": "Wide", "9:16": "Tall", "4:3": "Landscape", "3:4": "Portrait"}
ASPECT_RATIOS = [
    *((ratio, ratio, f"{_RATIO_NAMES[ratio]} pictures") for ratio in limits.ASPECT_RATIOS),
    *((ratio, ratio, "GPT Image models only") for ratio in limits.GPT_IMAGE_RATIOS),
]
_model_items: list[tuple[str, str, str]] = []


def model_items(_self: Any, _context: Any) -> list[tuple[str, str, str]]:
    """The image models the catalogue offers, with their prices in the tooltip, then "Custom…"."""
    from ....api import catalogue

    if not _model_items:
        cat, endpoint = catalogue.load(), limits.MODELS_ENDPOINT
        for model in cat.offered(endpoint):
            about = f"{cat.describe(model.id, endpoint)}; {cat.cost(endpoint, model.id, 'task')} credits"
            _model_items.append((model.id, model_menu.label(model, endpoint), about))
        _model_items.append((model_menu.CUSTOM, "Custom…", "Type any model id: it is sent to Meshy as given"))
    return _model_items


class MeshyConceptProperties(bpy.types.PropertyGroup):
    source: EnumProperty(name="From", items=SOURCES, default="TEXT")
    prompt: StringProperty(name="Prompt", description="Describe the picture: the object or character and its look")
    references: CollectionProperty(type=MeshyImageInput)
    ai_model: EnumProperty(name="Model", items=model_items, description="The image model")
    custom_model: StringProperty(name="Model id", description="Any image model id: it is sent to Meshy as given")
    multi_view: BoolProperty(
        name="Four views",
        default=False,
        description="Front, right, back and left views of one subject: Make 3D then uses them all (Multi-image to 3D)",
    )
    aspect_ratio: EnumProperty(name="Aspect ratio", items=ASPECT_RATIOS, default="1:1")
    pose_mode: EnumProperty(name="Pose", items=POSES, default="NONE")
    # Make 3D
    should_texture: BoolProperty(name="Texture", default=True, description="Texture the model like the pictures")
    enable_pbr: BoolProperty(name="PBR maps", default=True, description="Metallic, roughness and normal maps too")
    # What the gallery shows and what Make 3D uses
    job_id: StringProperty(name="Concept job", options={"HIDDEN"})
    picture: IntProperty(name="Picture", default=0, min=0, options={"HIDDEN"}, description="0: the whole set of views")

    @property
    def kind(self) -> TaskKind:
        return TaskKind.IMAGE_TO_IMAGE if self.source == "IMAGES" else TaskKind.TEXT_TO_IMAGE

    @property
    def endpoint(self) -> str:
        return self.kind.path.rsplit("/", 1)[1]

    def model_id(self) -> str:
        return self.custom_model.strip() if self.ai_model == model_menu.CUSTOM else self.ai_model

    def image_options(self) -> dict[str, Any]:
        """The request's options; aspect ratio and pose only where Meshy takes them (text, single picture)."""
        body: dict[str, Any] = {"ai_model": self.model_id()}
        if self.multi_view:
            body["generate_multi_view"] = True
        if self.kind is TaskKind.TEXT_TO_IMAGE:
            if not self.multi_view:
                body["aspect_ratio"] = self.aspect_ratio
            if self.pose_mode != "NONE":
                body["pose_mode"] = self.pose_mode
        return body

    def model_options(self) -> dict[str, Any]:
        body: dict[str, Any] = {"should_texture": self.should_texture}
        if self.should_texture:
            body["enable_pbr"] = self.enable_pbr
        return body


def register() -> None:
    bpy.utils.register_class(MeshyConceptProperties)
    bpy.types.Scene.meshy_concept = PointerProperty(type=MeshyConceptProperties)  # type: ignore[attr-defined,func-returns-value]


def unregister() -> None:
    del bpy.types.Scene.meshy_concept  # type: ignore[attr-defined]
    bpy.utils.unregister_class(MeshyConceptProperties)


def concept_props(context: bpy.types.Context) -> MeshyConceptProperties:
    return cast(MeshyConceptProperties, cast(Any, context.scene).meshy_concept)
