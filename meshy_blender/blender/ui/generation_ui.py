"""What the Text to 3D and Image to 3D panels draw: the few fields most generations need, and the rest.

The panel itself shows the prompt or images, the model, texturing with PBR, real-world size
and the Generate button; everything else is drawn by :func:`draw_advanced_mesh` and
:func:`draw_advanced_texture` in a closed "Advanced" sub-panel. A field the chosen model
does not act on (Meshy's catalogue says which) is not drawn at all.
"""

from __future__ import annotations

import textwrap
from typing import Any

from . import model_menu
from .properties import MeshyMeshOptions, MeshyTextureOptions, honours

WRAP_CHARS = 42


def _note(layout: Any, text: str, *, icon: str, alert: bool = False) -> None:
    """A sentence over several labels (Blender labels do not wrap)."""
    col = layout.column(align=True)
    col.alert = alert
    for index, line in enumerate(textwrap.wrap(text, WRAP_CHARS)):
        col.label(text=line, icon=icon if index == 0 else "BLANK1")


def draw_model(layout: Any, options: MeshyMeshOptions, endpoint: str) -> None:
    """The model menu, the custom id field for Custom…, and what to know about the choice."""
    from ...api import catalogue

    layout.prop(options, "ai_model")
    if options.ai_model == model_menu.CUSTOM:
        layout.prop(options, "custom_model")
    model_id = options.model_id()
    refused = model_menu.retired_note(endpoint, model_id)
    if refused:
        _note(layout, refused, icon="ERROR", alert=True)
        return
    cat = catalogue.load()
    model = cat.model(model_id)
    if model is None:
        _note(layout, f"'{model_id}' is sent to Meshy as given.", icon="INFO")
    elif model.status_on(endpoint) == catalogue.DEPRECATED:
        _note(layout, cat.deprecation(model), icon="ERROR")


def draw_size(layout: Any, options: MeshyMeshOptions) -> None:
    """Real-world size: Meshy estimates the object's height; the origin goes at its bottom or centre."""
    row = layout.row(align=True)
    row.prop(options, "auto_size")
    sub = row.row(align=True)
    sub.active = options.auto_size
    sub.prop(options, "origin_at", text="")


def draw_advanced_mesh(layout: Any, options: MeshyMeshOptions, endpoint: str) -> None:
    model = options.model_id()

    def offer(name: str, target: Any = layout) -> None:
        if honours(endpoint, model, name):
            target.prop(options, name)

    layout.prop(options, "pose_mode")
    offer("symmetry_mode")
    if honours(endpoint, model, "should_remesh"):
        layout.prop(options, "should_remesh")
        sub = layout.column()
        sub.active = options.should_remesh
        offer("topology", sub)
        sub.prop(options, "target_polycount")
    else:  # Smart Topology: the model makes its own clean mesh to this budget
        offer("topology")
        layout.prop(options, "target_polycount")
    offer("geometry_resolution")
    offer("decimation_mode")
    if endpoint != model_menu.DEFAULT_ENDPOINT:
        offer("image_enhancement")
        if options.remeshes(endpoint):
            offer("save_pre_remeshed_model")
    offer("alpha_thumbnail")
    offer("multi_view_thumbnails")


def draw_advanced_texture(layout: Any, options: MeshyTextureOptions, endpoint: str, model: str) -> None:
    for name in ("texture_resolution", "remove_lighting"):
        if honours(endpoint, model, name):
            layout.prop(options, name)
    layout.prop(options, "texture_prompt")
    layout.prop(options, "texture_image")
