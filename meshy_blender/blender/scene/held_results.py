"""A headless run's results held outside the view layer until the run ends.

Blender re-syncs a view layer after each change to its scene's collections, in time that
grows with the square of the collections side by side (BENCHMARKS.md, section 6): with
every result under "Meshy" in the scene, the 1,000th import of a batch took four times as
long as the first. Nothing is drawn headless, so a run imports each result under a "Meshy"
collection that is not linked to the scene while the run lasts — the view layer never sees
the results, and each import's objects land in the scene's own collection and are moved to
theirs — and links it to the scene once, when the run ends, before the layout and the
save. The saved file is the same: ``Meshy/<name>`` per result, in the order imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import bpy

from .importer import PATH_PROP, ROOT_COLLECTION, find_child


class HeldResults:
    """The scene's "Meshy" collection (made if missing), taken out of the scene until :meth:`release`."""

    def __init__(self, scene: bpy.types.Scene) -> None:
        self.scene = scene
        root = find_child(scene.collection, ROOT_COLLECTION)
        self._had_root = root is not None
        if root is None:
            root = bpy.data.collections.new(ROOT_COLLECTION)
            root[PATH_PROP] = ROOT_COLLECTION
        else:
            scene.collection.children.unlink(root)
        self.root = root

    @contextmanager
    def in_scene(self) -> Iterator[None]:
        """Linked to the scene while the block runs (a save keeps only what the scene uses)."""
        self.scene.collection.children.link(self.root)
        try:
            yield
        finally:
            self.scene.collection.children.unlink(self.root)

    def release(self) -> None:
        """Back in the scene for good: a "Meshy" the scene had, or one that received results; else removed."""
        if self._had_root or self.root.children:
            self.scene.collection.children.link(self.root)
        else:
            bpy.data.collections.remove(self.root)
