"""The offline sandbox's generated assets: valid GLB containers, imported by real Blender's glTF importer."""

from __future__ import annotations

import itertools
import json
import math
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import sandbox_assets

_FORMATS = {5121: "B", 5123: "H", 5125: "I", 5126: "f"}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- structural checks of the GLB container and document --------------------------------------------


def read_accessor(doc: dict[str, Any], binary: bytes, index: int) -> tuple[Any, ...]:
    accessor = doc["accessors"][index]
    view = doc["bufferViews"][accessor["bufferView"]]
    fmt = _FORMATS[accessor["componentType"]]
    offset = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    count = accessor["count"] * _WIDTHS[accessor["type"]]
    assert offset % struct.calcsize(fmt) == 0
    assert accessor.get("byteOffset", 0) + struct.calcsize(f"<{count}{fmt}") <= view["byteLength"]
    return struct.unpack_from(f"<{count}{fmt}", binary, offset)


def check_bounds(doc: dict[str, Any], binary: bytes, index: int) -> None:
    """min/max are present and exactly the data's (as glTF requires for POSITION and animation inputs)."""
    accessor, values = doc["accessors"][index], read_accessor(doc, binary, index)
    width = _WIDTHS[accessor["type"]]
    assert accessor["min"] == [min(values[i::width]) for i in range(width)]
    assert accessor["max"] == [max(values[i::width]) for i in range(width)]


def check_skin(doc: dict[str, Any], binary: bytes) -> None:
    (skin,) = doc["skins"]
    assert len(read_accessor(doc, binary, skin["inverseBindMatrices"])) == 16 * len(skin["joints"])
    attributes = doc["meshes"][0]["primitives"][0]["attributes"]
    joints, weights = (
        read_accessor(doc, binary, attributes["JOINTS_0"]),
        read_accessor(doc, binary, attributes["WEIGHTS_0"]),
    )
    assert len(joints) == len(weights) == 4 * doc["accessors"][attributes["POSITION"]]["count"]
    assert max(joints) < len(skin["joints"])
    for vertex in range(0, len(weights), 4):
        assert sum(weights[vertex : vertex + 4]) == pytest.approx(1.0, abs=1e-6)


def check_animations(doc: dict[str, Any], binary: bytes) -> None:
    for animation in doc.get("animations", []):
        for sampler in animation["samplers"]:
            check_bounds(doc, binary, sampler["input"])
            rotations = read_accessor(doc, binary, sampler["output"])
            for i in range(0, len(rotations), 4):
                assert math.hypot(*rotations[i : i + 4]) == pytest.approx(1.0, abs=1e-5)
            assert rotations[:4] == pytest.approx(rotations[-4:], abs=1e-5)  # the clip loops


def parse_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Check the GLB layout and the document's references into its binary chunk; return both."""
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON" and json_length % 4 == 0
    text = data[20 : 20 + json_length]
    assert text.rstrip(b" ").endswith(b"}") and len(text) - len(text.rstrip(b" ")) < 4
    doc = json.loads(text)
    bin_length, bin_type = struct.unpack_from("<I4s", data, 20 + json_length)
    assert bin_type == b"BIN\x00" and bin_length % 4 == 0 and 28 + json_length + bin_length == len(data)
    binary = data[28 + json_length :]
    assert doc["asset"]["version"] == "2.0"
    (buffer,) = doc["buffers"]
    assert "uri" not in buffer and bin_length - 3 <= buffer["byteLength"] <= bin_length
    unused = bytearray(binary)
    for view in doc["bufferViews"]:
        start, end = view["byteOffset"], view["byteOffset"] + view["byteLength"]
        assert start % 4 == 0 and end <= buffer["byteLength"]
        unused[start:end] = bytes(end - start)
    assert not any(unused), "padding and unused buffer space must be zeros"
    for image in doc.get("images", []):
        view = doc["bufferViews"][image["bufferView"]]
        assert image["mimeType"] == "image/png"
        assert binary[view["byteOffset"] : view["byteOffset"] + 8] == _PNG_SIGNATURE
    for mesh in doc["meshes"]:
        for primitive in mesh["primitives"]:
            check_bounds(doc, binary, primitive["attributes"]["POSITION"])
            vertex_count = doc["accessors"][primitive["attributes"]["POSITION"]]["count"]
            indices = read_accessor(doc, binary, primitive["indices"])
            assert len(indices) % 3 == 0 and max(indices) < vertex_count
    if "skins" in doc:
        check_skin(doc, binary)
    check_animations(doc, binary)
    return doc, binary


# --- Blender side -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def empty_scene() -> None:
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)


def import_glb(data: bytes, path: Path) -> None:
    parse_glb(data)
    path.write_bytes(data)
    assert bpy.ops.import_scene.gltf(filepath=str(path)) == {"FINISHED"}


def source(socket: bpy.types.NodeSocket) -> bpy.types.NodeSocket:
    """The output socket linked into `socket`."""
    assert socket.is_linked, f"{socket.name} is not linked"
    return socket.links[0].from_socket


def image_into(socket: bpy.types.NodeSocket) -> bpy.types.Image:
    """The image of the Image Texture node linked straight into `socket`."""
    node = source(socket).node
    assert node.type == "TEX_IMAGE"
    return node.image


def pixels(image: bpy.types.Image) -> list[tuple[int, int, int]]:
    values = [round(v * 255) for v in image.pixels[:]]
    return [(values[i], values[i + 1], values[i + 2]) for i in range(0, len(values), 4)]


def principled(obj: bpy.types.Object) -> bpy.types.Node:
    (slot,) = obj.material_slots
    return next(node for node in slot.material.node_tree.nodes if node.type == "BSDF_PRINCIPLED")


def assert_winding_matches_normals(mesh: bpy.types.Mesh) -> None:
    """Faces wind counter-clockwise around their stored normals, so nothing renders inside out."""
    corner_normals = mesh.corner_normals
    for polygon in mesh.polygons:
        for corner in polygon.loop_indices:
            assert polygon.normal.dot(corner_normals[corner].vector) > 0.0


def triangle_count(mesh: bpy.types.Mesh) -> int:
    return sum(len(polygon.vertices) - 2 for polygon in mesh.polygons)


def test_png_bytes_decodes_to_the_requested_pixels(tmp_path: Path) -> None:
    path = tmp_path / "gradient.png"
    path.write_bytes(sandbox_assets.png_bytes(3, 2, lambda x, y: (x * 100, y * 200, 7)))
    image = bpy.data.images.load(str(path))
    assert tuple(image.size) == (3, 2)
    # Blender stores the bottom row first.
    assert pixels(image) == [(0, 200, 7), (100, 200, 7), (200, 200, 7), (0, 0, 7), (100, 0, 7), (200, 0, 7)]

    path.write_bytes(sandbox_assets.png_bytes(4, 4, (10, 20, 30)))
    assert set(pixels(bpy.data.images.load(str(path)))) == {(10, 20, 30)}
    with pytest.raises(ValueError):
        sandbox_assets.png_bytes(0, 4, (0, 0, 0))


def test_pbr_vase_imports_with_all_textures_wired(tmp_path: Path) -> None:
    import_glb(sandbox_assets.textured_glb(pbr=True), tmp_path / "vase.glb")
    vase = bpy.data.objects["Vase"]
    assert vase.type == "MESH" and 300 <= triangle_count(vase.data) <= 2000
    assert len(vase.data.uv_layers) == 1
    assert_winding_matches_normals(vase.data)
    bsdf = principled(vase)

    base = image_into(bsdf.inputs["Base Color"])
    assert len(set(pixels(base))) > 3, "the base colour has a painted pattern"

    metallic, roughness = source(bsdf.inputs["Metallic"]), source(bsdf.inputs["Roughness"])
    assert metallic.node == roughness.node and metallic.node.type == "SEPARATE_COLOR"
    assert (metallic.name, roughness.name) == ("Blue", "Green")  # glTF packs metallic in B, roughness in G
    metal_rough = pixels(image_into(metallic.node.inputs["Color"]))
    assert {g for _, g, _ in metal_rough} > {190, 64} and {b for _, _, b in metal_rough} == {0, 255}

    normal_map = source(bsdf.inputs["Normal"]).node
    assert normal_map.type == "NORMAL_MAP"
    normals = pixels(image_into(normal_map.inputs["Color"]))
    assert normals.count((128, 128, 255)) > 0.7 * len(normals) and len(set(normals)) > 1


def test_vase_without_pbr_has_only_a_base_colour_texture(tmp_path: Path) -> None:
    import_glb(sandbox_assets.textured_glb(pbr=False), tmp_path / "vase.glb")
    bsdf = principled(bpy.data.objects["Vase"])
    image_into(bsdf.inputs["Base Color"])
    assert not any(bsdf.inputs[name].is_linked for name in ("Metallic", "Roughness", "Normal"))
    assert len(bpy.data.images) == 1


def test_rigged_character_imports_as_a_skinned_armature(tmp_path: Path) -> None:
    import_glb(sandbox_assets.rigged_character_glb(), tmp_path / "character.glb")
    (armature,) = [obj for obj in bpy.data.objects if obj.type == "ARMATURE"]
    bones = {bone.name for bone in armature.data.bones}
    assert len(bones) >= 10
    assert {"Hips", "Spine", "Head", "LeftUpperArm", "RightLowerArm", "LeftUpperLeg", "RightLowerLeg"} <= bones

    body = bpy.data.objects["Character"]
    assert body.parent == armature
    assert [(m.type, m.object) for m in body.modifiers] == [("ARMATURE", armature)]
    assert body.data.uv_layers and image_into(principled(body).inputs["Base Color"])
    assert_winding_matches_normals(body.data)

    names = {group.index: group.name for group in body.vertex_groups}
    assert set(names.values()) <= bones
    used = set()
    for vertex in body.data.vertices:
        assert sum(g.weight for g in vertex.groups) == pytest.approx(1.0, abs=1e-4)
        used |= {names[g.group] for g in vertex.groups if g.weight > 0}
    assert used == bones, "every bone moves part of the body"

    # Standing ~1.8 m tall in T-pose, arms along X; glTF's front (+Z) is Blender's -Y, where the toes point.
    width, depth, height = body.dimensions
    assert 1.6 < height < 2.0 and width > height * 0.8 and depth < 0.4
    ys = [vertex.co.y for vertex in body.data.vertices]
    assert -min(ys) > max(ys)


def fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """F-curves of a layered action (Blender 4.4+) or a legacy one."""
    if getattr(action, "layers", None):
        return [
            fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves
        ]
    return list(action.fcurves)


def evaluated_vertices(obj: bpy.types.Object, frame: float) -> list[Any]:
    bpy.context.scene.frame_set(int(frame), subframe=frame % 1)
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    coordinates = [evaluated.matrix_world @ vertex.co for vertex in mesh.vertices]
    evaluated.to_mesh_clear()
    return coordinates


@pytest.mark.parametrize("clip", ["walking", "running", "action_13"])
def test_animation_clip_moves_the_character_in_a_loop(tmp_path: Path, clip: str) -> None:
    import_glb(sandbox_assets.animation_glb(clip), tmp_path / f"{clip}.glb")
    (armature,) = [obj for obj in bpy.data.objects if obj.type == "ARMATURE"]
    action = armature.animation_data.action
    # The clip's name is carried by its NLA track (the action's own name differs across versions).
    assert [track.name for track in armature.animation_data.nla_tracks] == [clip]
    paths = {fc.data_path for fc in fcurves(action)}
    assert {f'pose.bones["{bone}"].rotation_quaternion' for bone in ("LeftUpperLeg", "RightUpperArm")} <= paths
    start, end = action.frame_range
    assert end - start > 1

    body = bpy.data.objects["Character"]
    first = evaluated_vertices(body, start)
    moved = max((a - b).length for a, b in zip(first, evaluated_vertices(body, start + (end - start) / 8), strict=True))
    back = max((a - b).length for a, b in zip(first, evaluated_vertices(body, end), strict=True))
    assert moved > 0.05 and back < 1e-3


def stride_count(clip: str) -> int:
    """How often the left thigh changes swing direction in the clip."""
    doc, binary = parse_glb(sandbox_assets.animation_glb(clip))
    (animation,) = doc["animations"]
    assert animation["name"] == clip
    thigh = next(i for i, node in enumerate(doc["nodes"]) if node["name"] == "LeftUpperLeg")
    channel = next(c for c in animation["channels"] if c["target"] == {"node": thigh, "path": "rotation"})
    swing = read_accessor(doc, binary, animation["samplers"][channel["sampler"]]["output"])[0::4]
    signs = [x > 0 for x in swing if abs(x) > 1e-6]
    return sum(a != b for a, b in itertools.pairwise(signs))


def test_running_strides_faster_than_walking() -> None:
    assert stride_count("running") > stride_count("walking") >= 1


def test_large_stream_matches_its_announced_size_and_imports(tmp_path: Path) -> None:
    target, chunk = 2 << 20, 256 << 10
    size = sandbox_assets.large_glb_size(target)
    pieces = list(sandbox_assets.large_glb_stream(target, chunk))
    assert all(len(piece) == chunk for piece in pieces[:-1]) and 0 < len(pieces[-1]) <= chunk
    data = b"".join(pieces)
    assert len(data) == size and abs(size - target) < 4096
    assert b"".join(sandbox_assets.large_glb_stream(target, chunk=1000)) == data

    doc, _ = parse_glb(data)
    import_glb(data, tmp_path / "large.glb")
    terrain = bpy.data.objects["LargeTerrain"]
    assert len(terrain.data.vertices) == doc["accessors"][0]["count"] > 10_000


def test_large_stream_reaches_hundreds_of_megabytes_in_fixed_size_pieces() -> None:
    target, chunk = 300 << 20, 1 << 20
    total = 0
    for piece in sandbox_assets.large_glb_stream(target, chunk):
        if total == 0:
            assert struct.unpack_from("<4sII", piece) == (b"glTF", 2, sandbox_assets.large_glb_size(target))
        assert len(piece) <= chunk
        total += len(piece)
    assert total == sandbox_assets.large_glb_size(target)


def test_dense_sphere_has_the_requested_triangles_and_texture_size(tmp_path: Path) -> None:
    import_glb(sandbox_assets.dense_glb(20_000, 256), tmp_path / "dense.glb")
    sphere = bpy.data.objects["Dense"]
    assert triangle_count(sphere.data) == pytest.approx(20_000, rel=0.02)
    assert {tuple(image.size) for image in bpy.data.images} == {(256, 256)} and len(bpy.data.images) == 3
    assert all(polygon.normal.dot(polygon.center) > 0 for polygon in sphere.data.polygons), "faces point outwards"
    assert_winding_matches_normals(sphere.data)
    bsdf = principled(sphere)
    assert all(bsdf.inputs[name].is_linked for name in ("Base Color", "Metallic", "Roughness", "Normal"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: sandbox_assets.textured_glb(True),
        sandbox_assets.rigged_character_glb,
        lambda: sandbox_assets.dense_glb(5_000, 64),
    ],
    ids=["textured", "rigged", "dense"],
)
def test_assets_are_deterministic(make: Callable[[], bytes]) -> None:
    first = make()
    sandbox_assets.textured_glb.cache_clear()
    sandbox_assets.rigged_character_glb.cache_clear()
    sandbox_assets.dense_glb.cache_clear()
    assert make() == first
