"""FBX files made by Blender's own FBX exporter, for the import tests (real bpy)."""

from __future__ import annotations

from pathlib import Path

import bpy
import sandbox_assets

CLIP_FRAMES = 31  # frames 1..31 at 30 fps: one second


def _export(path: Path) -> None:
    bpy.ops.export_scene.fbx(filepath=str(path), path_mode="RELATIVE", embed_textures=False, bake_anim=True)


def animated_rig_fbx(folder: Path) -> Path:
    """An armature with one bone swinging for one second at 30 fps."""
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_start, scene.frame_end = 1, CLIP_FRAMES
    armature = bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig"))
    scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    bone = armature.data.edit_bones.new("Bone")
    bone.head, bone.tail = (0, 0, 0), (0, 0, 1)
    bpy.ops.object.mode_set(mode="OBJECT")
    pose_bone = armature.pose.bones["Bone"]
    for frame, angle in ((1, 0.0), (16, 0.8), (CLIP_FRAMES, 0.0)):
        pose_bone.rotation_mode = "XYZ"
        pose_bone.rotation_euler = (angle, 0, 0)
        pose_bone.keyframe_insert("rotation_euler", frame=frame)
    path = folder / "walker.fbx"
    _export(path)
    return path


def textured_fbx(folder: Path, texture: Path) -> Path:
    """A plane whose material's base colour is the image file ``texture`` (named relative to the FBX)."""
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    texture.write_bytes(sandbox_assets.png_bytes(4, 4, (200, 10, 10)))
    bpy.ops.mesh.primitive_plane_add()
    material = bpy.data.materials.new("Painted")
    if material.node_tree is None:  # Blender 5.0 gives every material its nodes (use_nodes is deprecated)
        material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.load(str(texture))
    shader = material.node_tree.nodes["Principled BSDF"]
    material.node_tree.links.new(node.outputs["Color"], shader.inputs["Base Color"])
    bpy.context.active_object.data.materials.append(material)
    path = folder / "painted.fbx"
    _export(path)
    return path
