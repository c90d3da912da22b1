"""The library in Blender's Asset Browser: the button that registers it, and catalogs on save.

**Add to Asset Libraries** (Preferences › Add-ons › Meshy, and the Library panel) adds
the library's folder under Preferences › File Paths › Asset Libraries, named "Meshy"
(feature-detected: ``filepaths.asset_libraries.new``). Each result imported anywhere
has its .blend in that folder (see ``scene/library_blend.py``), so every result can be
dragged from the Asset Browser into any file. Registering writes the library's catalog
file first, so the "Meshy/…" catalogs are there from the first look.

When the artist saves a file that lies inside a registered asset library and holds
Meshy assets, that library's catalog file gets their catalogs (:func:`on_save_post`):
the assets then show under "Meshy/Text to 3D"… in it, as they do in the command's
output folders. Nothing is written beside files saved elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
from bpy.app.handlers import persistent

from ....logs import logger
from ... import paths

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

LIBRARY_NAME = "Meshy"


def asset_libraries(context: bpy.types.Context) -> Any:
    """The preferences' asset libraries, or None when this Blender cannot add one from Python."""
    preferences = context.preferences
    libraries = getattr(preferences.filepaths, "asset_libraries", None) if preferences is not None else None
    return libraries if libraries is not None and hasattr(libraries, "new") else None


def registered(context: bpy.types.Context, folder: Path) -> Any:
    """The asset library of ``folder`` in the preferences, or None."""
    libraries = asset_libraries(context)
    if libraries is None:
        return None
    wanted = os.path.realpath(folder)
    return next((item for item in libraries if os.path.realpath(bpy.path.abspath(item.path)) == wanted), None)


def register_library(context: bpy.types.Context, folder: Path) -> Any:
    """Register ``folder`` as an asset library (once), with its catalog file; the asset library.

    Raises OSError when the folder cannot be made or written, RuntimeError when this
    Blender cannot add asset libraries.
    """
    from ....library import Library  # loaded when asked, not when the add-on is enabled
    from ...scene import catalogs

    libraries = asset_libraries(context)
    if libraries is None:
        raise RuntimeError("This Blender cannot add asset libraries from an add-on; add the folder by hand.")
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {entry.kind for entry in Library(folder).entries()}
    catalogs.write_catalogs(folder, [catalogs.catalog_path(kind) for kind in kinds] or [catalogs.ROOT])
    existing = registered(context, folder)
    if existing is not None:
        return existing
    taken = {library.name for library in libraries}
    name = next(
        candidate
        for candidate in (LIBRARY_NAME, *(f"{LIBRARY_NAME} {number}" for number in range(2, 100)))
        if candidate not in taken
    )
    library = libraries.new(name=name, directory=str(folder))
    if context.preferences is not None:
        context.preferences.is_dirty = True  # saved with the preferences (auto-save, or Save Preferences)
    return library


class MESHY_OT_add_asset_library(bpy.types.Operator):
    """Add the Meshy library's folder to the asset libraries (Preferences › File Paths), for the Asset Browser"""

    bl_idname = "meshy.add_asset_library"
    bl_label = "Add to Asset Libraries"
    bl_options = {"REGISTER", "INTERNAL"}

    def execute(self, context: bpy.types.Context) -> set[OperatorReturnItems]:
        folder = paths.library_dir()
        try:
            library = register_library(context, folder)
        except (OSError, RuntimeError) as error:
            self.report({"ERROR"}, f"Could not add {folder} as an asset library: {error}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"The Meshy library is the asset library '{library.name}' ({folder})")
        return {"FINISHED"}


def draw_button(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    """The button, or the name the library is registered under."""
    library = registered(context, paths.library_dir())
    if library is None:
        layout.operator(MESHY_OT_add_asset_library.bl_idname, icon="ASSET_MANAGER")
    else:
        layout.label(text=f"In the Asset Browser as '{library.name}'", icon="ASSET_MANAGER")


@persistent
def on_save_post(*_args: Any) -> None:
    """A file saved inside a registered asset library: that library's catalog file gets its Meshy catalogs."""
    if not bpy.data.filepath:
        return
    saved = Path(bpy.data.filepath).resolve()
    for library in asset_libraries(bpy.context) or ():
        root = Path(bpy.path.abspath(library.path)).resolve()
        if library.path and root in saved.parents:
            from ...scene import assets  # loaded when asked, not when the add-on is enabled

            try:
                assets.write_catalog_file(root)
            except OSError as error:
                logger(__name__).warning("Meshy: the catalogs of %s could not be written (%s)", root, error)
            return


CLASSES = (MESHY_OT_add_asset_library,)
