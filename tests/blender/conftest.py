"""Fixtures for tests that run inside real Blender (the pip ``bpy`` module)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import bpy
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The repository (for ``meshy_blender``) and scripts/ (for ``sandbox_assets``).
for entry in (ROOT, ROOT / "scripts"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import sandbox_assets  # noqa: E402


@dataclass(frozen=True)
class GlbAssets:
    """The sandbox's generated models, written once per session as ``.glb`` files."""

    textured: Path  # mesh, UVs, base colour + metallic-roughness + normal textures
    base_color_only: Path  # the same mesh with a base colour texture only
    rig: Path  # armature + skinned mesh
    walking: Path  # the rig with one clip named "walking"
    running: Path  # the rig with one clip named "running"
    dense: Path  # a denser textured mesh


@pytest.fixture(scope="session")
def glb_assets(tmp_path_factory: pytest.TempPathFactory) -> GlbAssets:
    directory = tmp_path_factory.mktemp("glb_assets")
    contents = {
        "textured": sandbox_assets.textured_glb(pbr=True),
        "base_color_only": sandbox_assets.textured_glb(pbr=False),
        "rig": sandbox_assets.rigged_character_glb(),
        "walking": sandbox_assets.animation_glb("walking"),
        "running": sandbox_assets.animation_glb("running"),
        "dense": sandbox_assets.dense_glb(2000, 64),
    }
    paths = {}
    for name, data in contents.items():
        paths[name] = directory / f"{name}.glb"
        paths[name].write_bytes(data)
    return GlbAssets(**paths)


@pytest.fixture
def empty_scene() -> bpy.types.Scene:
    """A fresh, empty file (factory startup: no cube, camera or light); add-ons stay enabled."""
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    scene = bpy.context.scene
    assert scene is not None
    return scene
