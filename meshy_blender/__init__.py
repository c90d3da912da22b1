"""Meshy for Blender: generate 3D assets with Meshy from inside Blender.

Only ``register``/``unregister`` live here. The bpy side is imported lazily so that the
plain-Python layers (``meshy_blender.api``, ``meshy_blender.jobs``) import without
Blender, e.g. in unit tests or pipeline tools.
"""

from __future__ import annotations


def register() -> None:
    from .blender import registration

    registration.register()


def unregister() -> None:
    from .blender import registration

    registration.unregister()
