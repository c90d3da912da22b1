"""A large headless batch's results written to part files of N results, linked by the batch's file.

Every import costs more when the file already holds many results: Blender's glTF importer
makes and deletes a temporary object per mesh, and deleting a data-block walks every other
one in the file (BENCHMARKS.md, section 6). 1,000 imports of one model into one file: the
last 100 took 2.8 times as long as the first 100, 29 s in all. So ``meshy batch --part-size N``
writes every N results to ``parts/<batch>-part-001.blend`` … (``bpy.data.libraries.write``: the
run's "Meshy" collection with those results and what they use, packed textures included)
and removes them from the open file (between pump steps, after the imports of each: a part
of 100 takes 0.15-0.35 s, which inside the import that completed it held up every result ready
meanwhile; waiting for a moment with no import ready let a batch at full speed grow its file
to 1,000 results), which then holds little more than N results: the same
1,000 imports stay flat (×0.8) and take 10.5 s. The batch's file links every part's results
under its "Meshy" collection when it is saved, and only then: linked data-blocks are walked
by each delete too (×3.1 when the parts stayed linked). It shows every asset, in a few MB;
linked results are read-only there (Object › Relations › Make Local to edit one), and each
part is a .blend of its own inside the batch's folder, which is an asset library as is.

Each part's results are laid out as their own block of the grid, blocks side by side along
X, before the part is written (a linked object cannot be moved afterwards).

A later run of the same batch links the parts first (:meth:`ResultParts.take_over_earlier`),
so the results they hold count as imported and are never imported twice, and drops the
copies of them that its last save may still hold (a run stopped after writing a part and
before its next save).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import bpy

from . import scene_io
from .held_results import HeldResults
from .importer import JOB_ID_PROP, PATH_PROP, ROOT_COLLECTION

PART_FOLDER = "parts"


def part_paths(blend: Path) -> list[Path]:
    """The part files written for the batch saved as ``blend``, in order."""
    return sorted((blend.parent / PART_FOLDER).glob(f"{blend.stem}-part-[0-9][0-9][0-9]*.blend"))


class ResultParts:
    """The results a run holds (``held``), written out every ``size`` into parts of the batch ``blend``."""

    def __init__(self, blend: Path, size: int, held: HeldResults) -> None:
        self.blend = blend
        self.size = size
        self.held = held
        self.paths = part_paths(blend)
        #: Where the next block of the grid starts on X.
        self.next_x = 0.0
        #: The clips of each result imported by this run and not yet in a part, by the result's collection.
        self._actions: dict[str, list[str]] = {}

    @property
    def root(self) -> bpy.types.Collection:
        return self.held.root

    def local_results(self) -> list[bpy.types.Collection]:
        """The results in the file itself, not yet in a part."""
        return [child for child in self.root.children if child.library is None]

    # -- the run's start ------------------------------------------------------------------
    def take_over_earlier(self) -> None:
        """Link the parts earlier runs wrote, drop this file's copies of their results, place the next
        block after them. Call :meth:`unlink` once the earlier results were looked for."""
        if not self.paths:
            return
        linked = [obj for child in self._link() for obj in child.all_objects]
        in_parts = {obj.get(JOB_ID_PROP) for obj in linked}
        self._remove([child for child in self.local_results() if _job_ids(child) & in_parts])
        if linked:
            with self.held.in_scene():
                view_layer = bpy.context.view_layer
                if view_layer is not None:
                    view_layer.update()  # world matrices as laid out (a part is written before they are evaluated)
                self.next_x = scene_io.world_bounds(linked)[1].x + scene_io.GRID_MARGIN

    # -- each import ----------------------------------------------------------------------
    def add(self, result: bpy.types.Collection, actions: Iterable[str]) -> None:
        """``result`` was imported under the root (``actions``: its clips, kept only by a fake user).

        Its part is written by :meth:`write_due`, which the run calls between pump steps.
        """
        self._actions[result.name_full] = list(actions)

    def due(self) -> bool:
        """Whether the file holds a part's worth of results."""
        return len(self.local_results()) >= self.size

    def write_due(self) -> None:
        """Write the file's oldest results as parts of :attr:`size` while it holds that many (LocalWriteError
        when the disk refuses). Never inside an import: the jobs ready at that step are imported first."""
        while self.due():
            self.write_part(self.local_results()[: self.size])

    def write_part(self, results: Sequence[bpy.types.Collection]) -> None:
        """Lay out, write and remove ``results`` (LocalWriteError when the disk refuses)."""
        from . import library_keep

        library_keep.flush()  # the library's queued .blend files read this data: written first
        with self.held.in_scene():  # world matrices are evaluated for the scene's objects only
            self.layout(results, advance=True)
        path = self.blend.parent / PART_FOLDER / f"{self.blend.stem}-part-{len(self.paths) + 1:03d}.blend"
        clips = [name for result in results for name in self._actions.pop(result.name_full, ())]
        actions = [bpy.data.actions[name] for name in clips if name in bpy.data.actions]
        self.root[PATH_PROP] = ROOT_COLLECTION  # how a later link finds it in the part, whatever its name
        others = [child for child in self.root.children if child not in results]
        for child in others:  # earlier parts still linked, and the results of the next part
            self.root.children.unlink(child)
        try:
            scene_io.write_blocks(path, {self.root, *actions})
        finally:
            for child in others:
                self.root.children.link(child)
        self.paths.append(path)
        self._remove(results, actions)

    def _remove(self, results: Sequence[bpy.types.Collection], actions: Sequence[bpy.types.ID] = ()) -> None:
        """Take ``results`` out of the file with everything only they used (meshes, materials, textures, clips).

        Whatever the file held before this run (a resumed run's results) goes too, unlike data
        found by the order it was made in.
        """
        if not results:
            return
        collections = [nested for result in results for nested in (result, *result.children_recursive)]
        bpy.data.batch_remove([*{obj for result in results for obj in result.all_objects}, *collections, *actions])
        with self.held.in_scene():  # held out of the scene, the root itself has no user
            data: Any = bpy.data  # fake-bpy-module's orphans_purge() takes no arguments
            data.orphans_purge(do_local_ids=True, do_linked_ids=False, do_recursive=True)

    def layout(self, results: Sequence[bpy.types.Collection], *, advance: bool = False) -> None:
        """The results as one block of the grid at :attr:`next_x`; ``advance``: the next block goes after it."""
        right = scene_io.layout_grid([list(collection.all_objects) for collection in results], left=self.next_x)
        if advance:
            self.next_x = right + scene_io.GRID_MARGIN

    # -- saving ---------------------------------------------------------------------------
    def save(self, path: Path, *, layout: bool, parts: bool = True) -> None:
        """Save the scene as ``path`` with every part linked; ``layout``: the results still in the file
        laid out first, as the next block (where their part will put them). LocalWriteError as ``save_scene``.

        ``parts=False`` (a checkpoint while the run goes on) saves without linking the parts: linking
        reads every part written so far (a save with nine linked took 4-5 s of the main thread, and
        left the next imports slower). A run that stops before its last save leaves a file without
        them; the next run links them first (:meth:`take_over_earlier`) and its last save holds them.
        """
        with self.held.in_scene():
            if layout:
                self.layout(self.local_results())
            with self.linked() if parts else nullcontext():
                scene_io.save_scene(path)

    @contextmanager
    def linked(self) -> Iterator[None]:
        """Every part's results linked under the root while the block runs (the batch's file is saved then),
        by paths relative to the batch's file, so that its folder can move."""
        self._link()
        for library in self._libraries():
            library.filepath = f"//{PART_FOLDER}/{Path(library.filepath).name}"
        try:
            yield
        finally:
            self.unlink()

    def unlink(self) -> None:
        """Take the parts out of the file again: the next imports cost what they cost in a small file."""
        for library in self._libraries():
            bpy.data.libraries.remove(library)

    def _libraries(self) -> list[bpy.types.Library]:
        names = {path.name for path in self.paths}
        return [library for library in bpy.data.libraries if Path(library.filepath).name in names]

    def _link(self) -> list[bpy.types.Collection]:
        """Link each part's results under the root; the results of the parts linked already (a file saved
        with its parts and opened again) are not linked twice."""
        libraries: Any = bpy.data.libraries  # fake-bpy-module types load() as returning None, not a context manager
        results: list[bpy.types.Collection] = []
        for path in self.paths:
            present = [child for child in self.root.children if _library_file(child) == path.resolve()]
            if present:  # Blender 4.2 would link it again as a second library, from its absolute path
                results.extend(present)
                continue
            with libraries.load(str(path), link=True) as (source, linked):
                linked.collections = list(source.collections)
            for holder in [c for c in linked.collections if c.get(PATH_PROP) == ROOT_COLLECTION]:
                for collection in holder.children:
                    self.root.children.link(collection)
                    results.append(collection)
        return results


def _library_file(item: bpy.types.ID) -> Path | None:
    """The file ``item`` is linked from (None: it is the open file's own)."""
    library = item.library
    return None if library is None else Path(bpy.path.abspath(library.filepath)).resolve()


def _job_ids(collection: bpy.types.Collection) -> set[Any]:
    return {obj.get(JOB_ID_PROP) for obj in collection.all_objects}
