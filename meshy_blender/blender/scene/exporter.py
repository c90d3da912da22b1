"""Export mesh objects as GLB bytes, the model input of Meshy's rigging and retexturing.

The objects are validated first (meshes with faces only), exported with Blender's glTF
exporter into a temporary directory, and the user's selection is restored afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import bpy

from ...api.errors import EXIT_BAD_INPUT, MeshyError, ValidationError
from .gltf_log import progress_held_back
from .importer import ensure_object_mode, operator_message, select_only, supported_options

# Each passed only when this Blender's exporter has it. Materials, UVs and normals match
# today's defaults but are pinned: Meshy needs them whatever a version's default.
_EXPORT_OPTIONS: dict[str, Any] = {
    "export_format": "GLB",
    "use_selection": True,
    # Modifiers applied: Meshy receives what the viewport shows, and what count_faces counts.
    "export_apply": True,
    # The input is a static mesh; baking the scene's animation would only add size.
    "export_animations": False,
    # The pose shown now; otherwise the exporter jumps the scene to frame 0 and back.
    "export_current_frame": True,
    "export_materials": "EXPORT",
    "export_texcoords": True,
    "export_normals": True,
}


class ExportFailedError(MeshyError):
    """Blender could not write the GLB; nothing was sent."""

    exit_code = EXIT_BAD_INPUT


def count_faces(objects: Iterable[bpy.types.Object]) -> int:
    """Triangles the export of ``objects`` will hold (modifiers applied), as Meshy counts faces.

    Non-mesh objects count zero.
    """
    depsgraph = bpy.context.evaluated_depsgraph_get()
    total = 0
    for obj in objects:
        if obj.type != "MESH":
            continue
        evaluated = obj.evaluated_get(depsgraph)
        # to_mesh(), not .data: in Edit Mode the evaluated .data is an empty wrapper.
        mesh = evaluated.to_mesh()
        # An n-gon becomes n - 2 triangles, so the total is loops - 2 * polygons.
        total += len(mesh.loops) - 2 * len(mesh.polygons)
        evaluated.to_mesh_clear()
    return total


def validate_meshes(objects: Sequence[bpy.types.Object], purpose: str = "rig") -> None:
    """Raise :class:`ValidationError` unless ``objects`` are meshes with faces in the view layer."""
    if not objects:
        raise ValidationError(f"Nothing is selected: select a mesh to {purpose}")
    view_layer_objects = set(_view_layer().objects)
    for obj in objects:
        if obj.type != "MESH":
            kind = obj.type.lower().replace("_", " ")
            article = "an" if kind[0] in "aeiou" else "a"
            raise ValidationError(f"'{obj.name}' is {article} {kind}, not a mesh: select a mesh to {purpose}")
        if count_faces([obj]) == 0:
            raise ValidationError(f"'{obj.name}' has no faces: select a mesh with faces to {purpose}")
        if obj not in view_layer_objects:
            raise ValidationError(f"'{obj.name}' is not in the current view layer: select a visible mesh to {purpose}")


def export_selection_glb(objects: Iterable[bpy.types.Object], *, purpose: str = "rig") -> bytes:
    """The GLB (bytes) of ``objects`` with their materials and UVs.

    ``purpose`` completes the validation messages ("select a mesh to rig"). Edit Mode is
    left first, so unsaved edits are included (Blender's exporter would leave it anyway);
    the previous selection and active object are restored, the temporary file removed.
    """
    meshes = list(objects)
    validate_meshes(meshes, purpose)
    ensure_object_mode()
    try:
        options = supported_options(bpy.ops.export_scene.gltf, _EXPORT_OPTIONS)
    except KeyError as exc:
        raise ExportFailedError(
            "Blender's glTF exporter is not available: enable the 'glTF 2.0 format' add-on in Preferences > Add-ons"
        ) from exc
    view_layer = _view_layer()
    previous = list(view_layer.objects.selected)
    previous_active = view_layer.objects.active
    with tempfile.TemporaryDirectory(prefix="meshy-export-") as directory:
        target = Path(directory) / "selection.glb"
        try:
            select_only(meshes, meshes[0])
            with progress_held_back():
                result = bpy.ops.export_scene.gltf(filepath=str(target), **options)
        except RuntimeError as exc:
            raise ExportFailedError(f"Blender could not export the selection as GLB: {operator_message(exc)}") from exc
        finally:
            select_only(previous, previous_active)
        if result != {"FINISHED"} or not target.is_file():
            raise ExportFailedError("Blender could not export the selection as GLB")
        return target.read_bytes()


def _view_layer() -> bpy.types.ViewLayer:
    view_layer = bpy.context.view_layer
    if view_layer is None:
        raise ValidationError("There is no view layer to export from")
    return view_layer
