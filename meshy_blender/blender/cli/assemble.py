"""``meshy assemble DIR… -o FILE.blend``: one scene from the outputs of batch shards.

Each shard's ``DIR/batch.blend`` is appended (and the part files a ``--part-size`` batch
wrote in ``DIR/parts``, whose results its batch.blend only links), not its GLBs imported again: appending
copies the data-blocks as the batch made them (meshes, packed textures, materials,
armatures, the rig's clips kept by a fake user, the ``meshy_*`` tags) and takes a
fraction of a glTF import. Every asset keeps its own collection, moved under one
``Meshy`` collection and laid out in one grid. FILE.blend is built from an empty scene
each time, so running it again after a shard was re-run gives the same file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import bpy

from ...api.errors import EXIT_OK, ValidationError
from ...jobs import outputs
from ...jobs.cli_events import Reporter
from ..scene import scene_io
from ..scene.importer import ROOT_COLLECTION
from ..scene.result_parts import part_paths
from .generate import BATCH_BLEND


def _shard_blends(dirs: list[str]) -> list[Path]:
    """Each DIR's batch.blend; ValidationError (exit 2) for a DIR that is missing, repeated or has none."""
    blends: list[Path] = []
    for given in dirs:
        folder = Path(given).expanduser().resolve()
        if not folder.is_dir():
            raise ValidationError(f"{given}: no such folder (give the --out-dir of a batch).", field="dirs")
        blend = folder / BATCH_BLEND
        if not blend.is_file():
            raise ValidationError(
                f"{given} holds no {BATCH_BLEND}: run 'meshy batch … --out-dir {given}' first.", field="dirs"
            )
        if blend in blends:
            raise ValidationError(f"{given} is given twice.", field="dirs")
        blends.append(blend)
    return blends


def _append_assets(blend: Path) -> list[bpy.types.Collection]:
    """Append ``blend``'s asset collections (the children of its Meshy collection) and every action."""
    libraries: Any = bpy.data.libraries  # fake-bpy-module types load() as returning None, not a context manager
    with libraries.load(str(blend), link=False) as (source, loaded):
        if ROOT_COLLECTION not in source.collections:
            raise ValidationError(f"{blend} holds no Meshy assets.", field="dirs")
        loaded.collections = [ROOT_COLLECTION]
        loaded.actions = list(source.actions)  # clips not in use are kept only by their fake user
    for action in loaded.actions:
        action.use_fake_user = True  # appending drops the flag; without it a clip not in use is not saved
    parent = loaded.collections[0]
    assets = [child for child in parent.children if child.library is None]  # a part's results come from the part
    bpy.data.collections.remove(parent)
    return assets


def _shard_assets(blend: Path) -> list[bpy.types.Collection]:
    """A shard's assets: its parts' (``batch --part-size``), then its batch.blend's own ones.

    A result its batch.blend still holds though a part has it (a run stopped between writing
    the part and its next save) is taken from the part only.
    """
    assets: list[bpy.types.Collection] = []
    for source in (*part_paths(blend), blend):
        seen = {name for collection in assets for name in _asset_names(collection)}
        for collection in _append_assets(source):
            if _asset_names(collection) & seen:
                bpy.data.batch_remove([*collection.all_objects, collection])
            else:
                assets.append(collection)
    if not assets:
        raise ValidationError(f"{blend} holds no Meshy assets.", field="dirs")
    return assets


def _asset_names(collection: bpy.types.Collection) -> set[str]:
    return {str(obj.get("meshy_name")) for obj in collection.all_objects if obj.get("meshy_name")}


def assemble(args: argparse.Namespace, reporter: Reporter) -> int:
    output = Path(args.output).expanduser().resolve()
    if output.suffix.lower() != ".blend":
        raise ValidationError(f"-o must name a .blend file (got {output.name}).", field="output")
    blends = _shard_blends(args.dirs)
    outputs.prepare_folder(output.parent, output.name)
    with outputs.OutputLock(output.parent / f".{output.name}.meshy.lock", output, wait=args.wait_for_output):
        bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
        scene = bpy.context.scene
        assert scene is not None
        root = bpy.data.collections.new(ROOT_COLLECTION)
        scene.collection.children.link(root)
        owner: dict[str, Path] = {}
        folders = []
        for blend in blends:
            assets = _shard_assets(blend)
            for collection in assets:
                for name in _asset_names(collection):
                    if name in owner:
                        raise ValidationError(
                            f"Asset {name!r} is in both {owner[name].parent} and {blend.parent}: give each "
                            "shard's folder once.",
                            field="dirs",
                        )
                    owner[name] = blend
                root.children.link(collection)
            folders.append({"dir": str(blend.parent), "assets": [collection.name for collection in assets]})
        for library in list(bpy.data.libraries):  # the parts batch.blend linked: their results were appended
            bpy.data.libraries.remove(library)
        scene_io.layout_grid([list(collection.all_objects) for collection in root.children])
        scene_io.save_scene(output)
    count = len(root.children)
    reporter.emit("assembled", output=str(output), assets=count, folders=folders)
    reporter.say(f"Assembled {count} assets from {len(blends)} folder(s) into {output}")
    return EXIT_OK
