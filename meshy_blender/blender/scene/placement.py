"""Where an imported result goes: at the point, on the ground there, or in place of a proxy object.

The artist picks one in the add-on's preferences (remembered there):

- ``CURSOR``: the model's origin at the point (the 3D cursor, or the world origin), as
  Meshy made it.
- ``GROUND``: the same, then lifted or lowered so that its lowest point is at the point's
  height: a chair stands on the floor the cursor was put on.
- ``PROXY``: in place of a stand-in object (a block-out cube): the result takes its
  location, rotation and collection, and is scaled uniformly (never stretched) to the
  largest size that fits inside the proxy's box, centred on it and standing on its
  bottom face. The proxy is the object that was selected and active when the job was
  asked for (tagged then, see :func:`remember_proxy`), else the one selected and active
  when the result arrives. The proxy is **hidden**, in the viewport and in renders, not
  deleted: it may carry work (modifiers, materials, constraints or drivers pointing at
  it), deleting is not undoable headless, and a hidden proxy can be shown again to
  compare or to try another result. Without a proxy the result lands at the point.

A real-world ``height`` (metres, 0: keep Meshy's size) scales the result uniformly to
that height; with a proxy it replaces fitting to its box. Bounds are the meshes' boxes
(a rig's in its rest pose), as in the batch grid.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import bpy
from mathutils import Matrix, Vector

from .scene_io import world_bounds

CURSOR = "CURSOR"
GROUND = "GROUND"
PROXY = "PROXY"
MODES = (CURSOR, GROUND, PROXY)
#: Custom property put on a proxy when its job is asked for: the job's id.
PROXY_FOR_PROP = "meshy_proxy_for"
#: Custom property put on a proxy once replaced: the id of the job that replaced it.
REPLACED_BY_PROP = "meshy_replaced_by"
#: Sizes below this (metres) count as flat: no scale is derived from them.
EPSILON = 1e-6


@dataclass(frozen=True)
class Placement:
    mode: str = CURSOR
    #: The result's height in metres; 0 keeps the size Meshy made it.
    height: float = 0.0

    @property
    def moves(self) -> bool:
        """Whether anything beyond putting the origin at the point is asked (it needs world bounds)."""
        return self.mode != CURSOR or self.height > 0


#: The default: at the point, as Meshy made it.
AS_MADE = Placement()


def remember_proxy(context: bpy.types.Context, job_id: str) -> bpy.types.Object | None:
    """Tag the selected, active object as the proxy ``job_id``'s result will replace; that object, if any."""
    proxy = context.active_object
    if proxy is None or not proxy.select_get():
        return None
    proxy[PROXY_FOR_PROP] = job_id
    return proxy


def find_proxy(placement: Placement, job_id: str) -> bpy.types.Object | None:
    """The proxy ``job_id``'s result replaces: the object tagged for it, else the selected, active one; or None.

    Asked before the import, which changes the selection in some Blender versions.
    """
    if placement.mode != PROXY:
        return None
    for obj in bpy.data.objects:
        if obj.get(PROXY_FOR_PROP) == job_id:
            return obj
    view_layer = bpy.context.view_layer
    active = view_layer.objects.active if view_layer is not None else None
    return active if active is not None and active.select_get() else None


def apply(
    placement: Placement,
    objects: Sequence[bpy.types.Object],
    collection: bpy.types.Collection,
    parent: bpy.types.Collection,
    point: Vector,
    *,
    proxy: bpy.types.Object | None,
    job_id: str,
) -> bpy.types.Object | None:
    """Move ``objects`` (already at ``point``) as ``placement`` says; the proxy replaced, if any.

    ``proxy`` is :func:`find_proxy`'s answer. ``collection`` is the result's own, a child
    of ``parent``: with a proxy it is moved into the proxy's collection.
    """
    if not placement.moves:
        return None
    view_layer = bpy.context.view_layer
    if view_layer is not None:
        view_layer.update()  # world matrices of the objects just imported and moved
    low, high = world_bounds(objects)
    if proxy is not None:
        transform = _into_proxy(proxy, low, high, placement.height)
    else:
        transform = _at_point(placement, point, low, high)
    members = set(objects)
    for obj in objects:
        if obj.parent not in members:
            obj.matrix_world = transform @ obj.matrix_world
    if proxy is not None:
        _take_place_of(proxy, collection, parent, job_id)
    return proxy


def _height_scale(height: float, low: Vector, high: Vector) -> float:
    extent = high.z - low.z
    return height / extent if height > 0 and extent > EPSILON else 1.0


def _at_point(placement: Placement, point: Vector, low: Vector, high: Vector) -> Matrix:
    """Scale about ``point`` to the height asked, then (ground) bring the lowest point to its height."""
    scale = _height_scale(placement.height, low, high)
    lift = scale * (point.z - low.z) if placement.mode == GROUND else 0.0  # the scaled lowest point to point.z
    return Matrix.Translation(point + Vector((0.0, 0.0, lift))) @ Matrix.Scale(scale, 4) @ Matrix.Translation(-point)


def _into_proxy(proxy: bpy.types.Object, low: Vector, high: Vector, height: float) -> Matrix:
    """The transform that stands the result (world box ``low``–``high``) in the proxy's box, turned as the proxy."""
    _, rotation, scale = proxy.matrix_world.decompose()
    corners = [Vector(corner) for corner in proxy.bound_box]
    box_low = Vector(tuple(min(corner[axis] for corner in corners) for axis in range(3)))
    box_high = Vector(tuple(max(corner[axis] for corner in corners) for axis in range(3)))
    box = Vector(tuple(abs(scale[axis]) * (box_high[axis] - box_low[axis]) for axis in range(3)))
    size = high - low
    if height > 0:
        factor = _height_scale(height, low, high)
    else:
        fits = [box[axis] / size[axis] for axis in range(3) if box[axis] > EPSILON and size[axis] > EPSILON]
        factor = min(fits) if fits else 1.0
    floor_centre = Vector(((box_low.x + box_high.x) / 2, (box_low.y + box_high.y) / 2, box_low.z))
    anchor = proxy.matrix_world @ floor_centre
    bottom_centre = Vector(((low.x + high.x) / 2, (low.y + high.y) / 2, low.z))
    turn = rotation.to_matrix().to_4x4()
    return Matrix.Translation(anchor) @ turn @ Matrix.Scale(factor, 4) @ Matrix.Translation(-bottom_centre)


def _take_place_of(
    proxy: bpy.types.Object, collection: bpy.types.Collection, parent: bpy.types.Collection, job_id: str
) -> None:
    """Move the result's collection from ``parent`` into the proxy's, and hide the proxy (viewport and render)."""
    owners = proxy.users_collection
    home = owners[0] if owners else parent
    if home != parent:
        home.children.link(collection)
        parent.children.unlink(collection)
    with contextlib.suppress(RuntimeError):  # not in the view layer (its collection is excluded): hidden already
        proxy.hide_set(True)
    proxy.hide_render = True
    proxy[REPLACED_BY_PROP] = job_id
    if proxy.get(PROXY_FOR_PROP) is not None:
        del proxy[PROXY_FOR_PROP]
