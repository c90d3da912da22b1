"""Import a Meshy GLB into the current scene: its own collection, placed, tagged, selected.

Blender's glTF importer does the reading; this module makes the result predictable across
Blender versions and scenes: it runs in Object Mode, passes only the importer options this
Blender has (feature detection, not version checks), finds the new data by set difference
(never by selection), puts the objects in the collection ``Meshy/<name>``, places them at the 3D
cursor, tags them with the job id, and on any failure removes everything it created.

What it costs beyond Blender's importer is kept to one thing: each structural change to
the scene (a collection, linked objects) makes the next depsgraph update rebuild the
scene's relations, which costs in proportion to the whole scene (about 0.2 ms per result
already there). The bare importer pays one rebuild; so does this module, by making all
its changes fall into one update: the importer links what it creates into the active
collection, so ours is made active for the import (4.5+; 4.2 links to the scene's root and
the objects are moved), and the importer is called without the update ``bpy.ops`` runs
before each operator (:func:`_call_operator`), which would rebuild for the new collection
on its own. Clip files are imported together and their leftovers removed in one go. When
the collection cannot be active (excluded or hidden by the user, no view layer) the
objects are imported and moved. Headless, where nothing is drawn, the caller can skip
that one update (``evaluate=False``).

Nothing of ours reads the whole file per import: new data-blocks are told by their
``session_uid`` (Blender numbers them in order), and ``users_collection`` (which reads
every collection) is asked only of objects the importer did not put in ours. What still
grows with the file is Blender's own: the glTF importer deletes a temporary object per
mesh (removing a data-block scans every other one for references to it) and material
updates walk every node tree; the view layer's collections are re-synced after each
change, in time growing with the square of the number of collections side by side under
"Meshy". BENCHMARKS.md measures both.
"""

from __future__ import annotations

import array
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
from mathutils import Vector

try:
    from _bpy import ops as _operators  # what bpy.ops calls after its view-layer update
except ImportError:  # private: every Blender 4.2-5.0 has it, a later one might not
    _operators = None

from ...api.errors import EXIT_TASK_FAILED, MeshyError
from ...api.glb_safety import RefusedModelError, check_glb_safe
from . import model_formats
from . import placement as placements
from .gltf_log import progress_held_back
from .materials import MaterialReport, material_report

JOB_ID_PROP = "meshy_job_id"
PATH_PROP = "meshy_collection"
ROOT_COLLECTION = "Meshy"
#: Blender 4.x caps ID names at 63 bytes (5.0 allows more); stay within the smaller.
MAX_NAME_BYTES = 63
FALLBACK_NAME = "Meshy model"

# The importer options we depend on; each is passed only when this Blender's importer has it,
# and pinned even where it is today's default, since defaults change (bone_heuristic did).
_IMPORT_OPTIONS: dict[str, Any] = {
    # GLB textures are embedded: packing keeps them after the downloaded file is deleted.
    "import_pack_images": True,
    # Keep the normals in the file (Meshy bakes its own) rather than flat/smooth shading.
    "import_shading": "NORMALS",
    # The default changed across versions; BLENDER round-trips bones for re-export and
    # gives the rig and its separately imported clips the same bone orientations.
    "bone_heuristic": "BLENDER",
    # Otherwise a bone-shape mesh object is added in an extra "glTF_not_exported" collection.
    "disable_bone_shape": True,
    # 4.5+: True links a one-scene file's objects into the active collection (ours, see
    # _importing_into); False would put them in the scene's root collection, to be moved.
    "import_scene_as_collection": True,
    # Scene extras would overwrite the user's scene custom properties.
    "import_scene_extras": False,
    # We select the result ourselves; this skips the importer's pass over all objects.
    "import_select_created_objects": False,
}

# Data a glTF import can create: what a failed or temporary import leaves is removed.
_DATA_KINDS = (
    "objects",
    "meshes",
    "materials",
    "images",
    "textures",
    "node_groups",
    "armatures",
    "actions",
    "collections",
    "cameras",
    "lights",
)

TagValue = str | int | float


class ImportFailedError(MeshyError):
    """The model file could not be imported; nothing of it was left in the scene."""

    exit_code = EXIT_TASK_FAILED


@dataclass
class ImportResult:
    objects: list[bpy.types.Object]
    root: bpy.types.Object
    collection: bpy.types.Collection
    armature: bpy.types.Object | None
    #: Names of the actions the import added (the file's own clips, then the extra ones).
    actions: list[str]
    #: What the import left out, in words ("" when nothing): see :mod:`.model_formats`.
    note: str = ""
    #: The proxy object the result took the place of (hidden), if any (see :mod:`.placement`).
    replaced: bpy.types.Object | None = None

    @property
    def materials(self) -> MaterialReport:
        """Which PBR maps drive the imported materials (inspected when asked: imports stay lean)."""
        return material_report(obj for obj in self.objects if obj.type == "MESH")


def import_glb(
    filepath: str | os.PathLike[str],
    *,
    job_id: str,
    display_name: str,
    tags: Mapping[str, TagValue],
    location: Sequence[float] | None = None,
    collection_path: Sequence[str] = (ROOT_COLLECTION,),
    parent: bpy.types.Collection | None = None,
    extra_actions_from: Iterable[str | os.PathLike[str]] = (),
    evaluate: bool = True,
    placement: placements.Placement = placements.AS_MADE,
) -> ImportResult:
    """Import ``filepath`` as one Meshy result and return what was created.

    ``location`` defaults to the 3D cursor: the file's origin lands there, root objects
    keep their offsets. The objects go into a new collection named after
    ``display_name`` under ``collection_path`` (created and linked once, if missing), a path
    that starts at ``parent``: the scene's collection, or one a headless run holds outside the
    scene until it ends (:mod:`.held_results`). Every new object gets the custom properties
    ``meshy_job_id`` and ``tags``.

    ``extra_actions_from`` are animation GLBs of the same rig (e.g. walking, running):
    only their armature actions are kept, each named after its clip and given a fake
    user so it survives saving; everything else those files create is deleted. When the
    rig has no active action, the first extra clip becomes its active action.

    ``evaluate`` ends with the import's one depsgraph update, so world matrices show the
    placement. That update rebuilds the relations of the whole scene (Blender's own cost,
    the bare importer's too); a caller importing many results where nothing is drawn (the
    headless pump) passes False and leaves it to the next one who needs them.

    ``placement`` then puts the result on the ground, in place of a proxy object or at a
    given height (see :mod:`.placement`; each but the default costs one more update).

    Raises :class:`ImportFailedError` when a file is not a valid GLB or the importer
    fails; whatever was created until then is removed.
    """
    path = Path(filepath)
    extras = [Path(extra) for extra in extra_actions_from]
    for glb in (*extras,) if model_formats.is_foreign(path) else (path, *extras):
        _check_glb(glb)
    name = object_name(display_name)
    scene = bpy.context.scene
    if scene is None:
        raise ImportFailedError("There is no scene to import into")
    ensure_object_mode()
    proxy = placements.find_proxy(placement, job_id)
    collection = bpy.data.collections.new(name)
    snapshot = _DataSnapshot(since=collection)  # the import's first data-block: all it makes comes after
    try:
        chain = _new_collection(scene.collection if parent is None else parent, collection_path, collection)
        with _importing_into(chain):
            note = _import_file(path)
            objects = snapshot.new("objects")
            if not objects:
                raise ImportFailedError(f"{path.name} contains no objects to import")
            armature = next((obj for obj in objects if obj.type == "ARMATURE"), None)
            _name_clips(objects)
            actions = snapshot.new("actions")
            if extras:
                if armature is None:
                    raise ImportFailedError(f"{path.name} has no armature to receive the animations")
                clips = _import_clips(extras)
                _activate_first(armature, clips)
                actions += clips
        for action in actions:
            action.use_fake_user = True
        target = scene.cursor.location.copy() if location is None else Vector(location)
        root = _place(objects, collection, name, target)
        holder = chain[-2] if len(chain) > 1 else (scene.collection if parent is None else parent)
        replaced = placements.apply(placement, objects, collection, holder, target, proxy=proxy, job_id=job_id)
        _tag(objects, job_id, tags)
    except BaseException:
        snapshot.remove_new()
        raise
    if parent is None:  # a result held outside the scene (headless) has nothing to select
        select_only(objects, root)
    if evaluate and bpy.context.view_layer is not None:
        bpy.context.view_layer.update()  # the one update of the import; matrix_world shows the placement
    _push_undo(f"Import Meshy {name}")
    return ImportResult(
        objects=objects,
        root=root,
        collection=collection,
        armature=armature,
        actions=[action.name for action in actions],
        note=note,
        replaced=replaced,
    )


def find_imported(job_id: str) -> list[bpy.types.Object]:
    """The objects an earlier :func:`import_glb` of ``job_id`` created (still in the file)."""
    return imported_by_job().get(job_id, [])


def imported_by_job() -> dict[str, list[bpy.types.Object]]:
    """The objects earlier imports created, by job id: one pass over the file's objects for many look-ups.

    Reading every object's tag costs ~1-2 ms per thousand objects: once per import, a batch's
    imports grew slower as its file filled, and a big scene's every import paid for it.
    """
    found: dict[str, list[bpy.types.Object]] = {}
    for obj in bpy.data.objects:
        job_id = obj.get(JOB_ID_PROP)
        if isinstance(job_id, str):
            found.setdefault(job_id, []).append(obj)
    return found


def object_name(display_name: str) -> str:
    """``display_name`` as a short, single-line Blender name (at most 63 UTF-8 bytes)."""
    text = "".join(ch for ch in " ".join(display_name.split()) if ch.isprintable())
    text = text.encode()[:MAX_NAME_BYTES].decode("utf-8", "ignore").strip()
    return text or FALLBACK_NAME


def ensure_object_mode() -> None:
    """Leave Edit/Pose/Paint mode of the active object, as importers and exporters expect."""
    if bpy.context.mode != "OBJECT" and _can_run(bpy.ops.object.mode_set):
        bpy.ops.object.mode_set(mode="OBJECT")


def supported_options(operator: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The items of ``wanted`` that ``operator`` (e.g. ``bpy.ops.import_scene.gltf``) has.

    Raises ``KeyError`` when the operator is not registered (its add-on is disabled).
    """
    available = {prop.identifier for prop in operator.get_rna_type().properties}
    return {key: value for key, value in wanted.items() if key in available}


class _DataSnapshot:
    """The data-blocks that existed at construction, to find (and remove) what came since.

    Blender numbers data-blocks in the order they are made (``session_uid``), so the
    snapshot is one number, and finding the new ones one C-level read per kind: no Python
    set of every data-block in the file, which cost each import in proportion to the file.
    """

    def __init__(self, since: bpy.types.ID | None = None) -> None:
        """``since``: the first data-block of the new ones (else every kind is read once)."""
        if since is not None:
            self._last = since.session_uid - 1
        else:
            self._last = max((max(_uids(kind), default=0) for kind in _DATA_KINDS), default=0)

    def new(self, kind: str) -> list[Any]:
        items = getattr(bpy.data, kind)
        return [items[index] for index, uid in enumerate(_uids(kind)) if uid > self._last]

    def remove_new(self, keep: Iterable[bpy.types.ID] = ()) -> None:
        kept = set(keep)
        doomed = [item for kind in _DATA_KINDS for item in self.new(kind) if item not in kept]
        bpy.data.batch_remove(doomed)
        if bpy.context.view_layer is not None:
            bpy.context.view_layer.update()  # else removed objects linger as None in its selection


def _uids(kind: str) -> array.array[int]:
    """The ``session_uid`` of every data-block of ``kind`` ("objects"…), in ``bpy.data``'s order."""
    items = getattr(bpy.data, kind)
    uids = array.array("i", bytes(4 * len(items)))
    items.foreach_get("session_uid", uids)
    return uids


def _check_glb(path: Path) -> None:
    """Refuse, before the importer touches the scene, a file it must not read (see ``api.glb_safety``).

    Blender's importer would read the files a model's ``uri`` entries name and allocate
    whatever sizes it declares; every import (pump, task browser, bridge, command) passes here.
    """
    try:
        check_glb_safe(path)
    except RefusedModelError as error:
        raise ImportFailedError(str(error)) from error


def _import_file(path: Path) -> str:
    """Run the importer of ``path``'s format: GLB here, FBX, OBJ and STL by :mod:`.model_formats`.

    Returns what the import left out, in words ("" for nothing).
    """
    if not model_formats.is_foreign(path):
        _run_gltf_importer(path)
        return ""
    try:
        return model_formats.run_importer(path, _call_operator).note
    except (RuntimeError, ValueError) as exc:
        raise ImportFailedError(f"Could not import {path.name}: {exc}") from exc


def _run_gltf_importer(path: Path) -> None:
    try:
        options = supported_options(bpy.ops.import_scene.gltf, _IMPORT_OPTIONS)
    except KeyError as exc:
        raise ImportFailedError(
            "Blender's glTF importer is not available: enable the 'glTF 2.0 format' add-on in Preferences > Add-ons"
        ) from exc
    try:
        with progress_held_back():
            result = _call_operator("import_scene.gltf", filepath=str(path), **options)
    except RuntimeError as exc:
        raise ImportFailedError(f"Could not import {path.name}: {operator_message(exc)}") from exc
    if result != {"FINISHED"}:
        raise ImportFailedError(f"Could not import {path.name}: the glTF importer cancelled")


def _call_operator(idname: str, **properties: Any) -> set[str]:
    """Run the operator ``idname`` ("module.name") with no depsgraph update before or after it.

    ``bpy.ops`` updates the view layer around every call so that a script's changes are
    seen; the import's caller updates once itself, after all its changes. Without
    ``_bpy.ops`` (not expected) the ``bpy.ops`` wrapper is used.
    """
    if _operators is None:
        module, name = idname.split(".")
        return set(getattr(getattr(bpy.ops, module), name)(**properties))
    return set(_operators.call(idname, properties))


def operator_message(exc: RuntimeError) -> str:
    """An operator's error as one line: its report, or the exception at the end of a traceback."""
    lines = [line.strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Location:")]
    message = lines[-1] if lines else "unknown error"
    return message.removeprefix("Error: ")[:200]


def _name_clips(objects: Iterable[bpy.types.Object]) -> dict[bpy.types.Action, str]:
    """Name each armature action of ``objects`` after its clip, and keep it when saving.

    The importer pushes each glTF animation onto an NLA track named after the clip, but
    names the action itself differently across versions ("walking_Armature" in 4.2,
    "walking" in 4.4+): the track's name is the stable one.
    """
    clips: dict[bpy.types.Action, str] = {}
    for obj in objects:
        animation = obj.animation_data
        if obj.type != "ARMATURE" or animation is None:
            continue
        for track in animation.nla_tracks:
            for strip in track.strips:
                if strip.action is not None:
                    clips.setdefault(strip.action, track.name)
        if animation.action is not None:
            clips.setdefault(animation.action, animation.action.name)
    for action, clip in clips.items():
        action.name = clip
        action.use_fake_user = True
    return clips


def _import_clips(paths: Sequence[Path]) -> list[bpy.types.Action]:
    """Import the armature animations of ``paths``, then delete everything else they created, in one go."""
    snapshot = _DataSnapshot()
    clips: list[bpy.types.Action] = []
    seen: set[bpy.types.Object] = set()
    for path in paths:
        _run_gltf_importer(path)
        objects = [obj for obj in snapshot.new("objects") if obj not in seen]
        seen.update(objects)
        named = _name_clips(objects)
        if not named:
            raise ImportFailedError(f"{path.name} has no armature animation")
        clips += named
    snapshot.remove_new(keep=clips)
    return clips


def _activate_first(armature: bpy.types.Object, clips: Sequence[bpy.types.Action]) -> None:
    animation = armature.animation_data or armature.animation_data_create()
    if animation.action is not None or not clips:
        return
    animation.action = clips[0]
    # Slotted actions (4.4+): a slot made for another object is not picked automatically.
    if hasattr(animation, "action_slot") and animation.action_slot is None and clips[0].slots:
        animation.action_slot = clips[0].slots[0]


def find_child(parent: bpy.types.Collection, part: str) -> bpy.types.Collection | None:
    """``parent``'s child collection made for the path part ``part`` (by name, or by :data:`PATH_PROP`)."""
    return next((c for c in parent.children if c.name == part or c.get(PATH_PROP) == part), None)


def _new_collection(
    parent: bpy.types.Collection, path: Sequence[str], collection: bpy.types.Collection
) -> list[bpy.types.Collection]:
    """Link the new ``collection`` under ``parent``/``path`` (path parts reused, or created and linked once).

    Returns the path's collections, then ``collection``. A path part created while its name
    was taken elsewhere (another scene's "Meshy") is called "Meshy.001"; the custom
    property :data:`PATH_PROP` finds it again next time.
    """
    chain = []
    for part in path:
        child = find_child(parent, part)
        if child is None:
            child = bpy.data.collections.new(part)
            child[PATH_PROP] = part
            parent.children.link(child)
        chain.append(child)
        parent = child
    parent.children.link(collection)
    return [*chain, collection]


@contextmanager
def _importing_into(chain: Sequence[bpy.types.Collection]) -> Iterator[None]:
    """Make the last of ``chain`` (collections from the scene's down) active while the importer runs."""
    view_layer = bpy.context.view_layer
    layer = _visible_layer(view_layer.layer_collection, chain) if view_layer is not None else None
    if view_layer is None or layer is None:
        yield  # the importer uses the active collection; _place moves the objects
        return
    previous = view_layer.active_layer_collection
    view_layer.active_layer_collection = layer
    try:
        yield
    finally:
        view_layer.active_layer_collection = previous


def _visible_layer(
    layer: bpy.types.LayerCollection, chain: Sequence[bpy.types.Collection]
) -> bpy.types.LayerCollection | None:
    """The layer collection of the last of ``chain``, or None when it or one above it is excluded or hidden.

    The importer selects and edits what it creates (armatures in Edit Mode), which an
    excluded or hidden collection would refuse.
    """
    for collection in chain:
        child = layer.children.get(collection.name)
        if child is None or child.exclude or child.hide_viewport or collection.hide_viewport:
            return None
        layer = child
    return layer


def _place(
    objects: list[bpy.types.Object],
    collection: bpy.types.Collection,
    name: str,
    location: Vector,
) -> bpy.types.Object:
    """Put ``objects`` in ``collection`` only, shift the roots by ``location``, name the main root.

    An object already in ``collection`` was imported straight into it, and the importer
    links what it makes once: the others are in the active collection (where the importer
    puts them when ours cannot be active, e.g. held outside the scene by a headless run),
    and ``users_collection``, which reads every collection of the file, is asked only of
    an object found elsewhere.
    """
    inside = set(collection.objects)
    view_layer = bpy.context.view_layer
    active = view_layer.active_layer_collection if view_layer is not None else None
    landed = active.collection if active is not None else None
    for obj in objects:
        if obj in inside:
            continue
        owners = (landed,) if landed is not None and landed.objects.get(obj.name) == obj else obj.users_collection
        for owner in owners:
            owner.objects.unlink(obj)
        collection.objects.link(obj)
    new = set(objects)
    roots = [obj for obj in objects if obj.parent not in new]
    for root in roots:
        root.location = root.location + location
    # children_recursive reads every object of the file: asked only when there is a choice.
    main = roots[0] if len(roots) == 1 else max(roots, key=_main_root_rank)
    main.name = name
    return main


def _main_root_rank(obj: bpy.types.Object) -> tuple[bool, int, bool]:
    return (obj.type == "ARMATURE", len(obj.children_recursive), obj.type == "MESH")


def _tag(objects: Iterable[bpy.types.Object], job_id: str, tags: Mapping[str, TagValue]) -> None:
    for obj in objects:
        obj[JOB_ID_PROP] = job_id
        for key, value in tags.items():
            obj[key] = value


def select_only(objects: Iterable[bpy.types.Object], active: bpy.types.Object | None) -> None:
    """Select exactly ``objects`` and make ``active`` active (objects outside the view layer are skipped)."""
    view_layer = bpy.context.view_layer
    if view_layer is None:
        return
    for obj in list(view_layer.objects.selected):
        if obj is not None:  # Blender 4.2 can list removed objects as None until an update
            obj.select_set(False)
    selected = []
    for obj in objects:
        try:
            obj.select_set(True)
        except RuntimeError:  # not in this view layer (its collection is excluded); its base list may say otherwise
            continue
        selected.append(obj)
    if active is None or active in selected:
        view_layer.objects.active = active


def _push_undo(message: str) -> None:
    # Python operator calls push no undo steps themselves; one step covers the whole import.
    # Background sessions (``blender -b``, the bpy module) keep no undo history.
    if not bpy.app.background and _can_run(bpy.ops.ed.undo_push):
        bpy.ops.ed.undo_push(message=message)


def _can_run(operator: Any) -> bool:
    # ``Any``: the type stubs declare ``poll`` as an unbound method of the operator wrapper.
    return bool(operator.poll())
