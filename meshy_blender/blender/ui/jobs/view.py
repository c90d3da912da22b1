# No `from __future__ import annotations` here (see the package's docstring).
"""Which jobs the Jobs panel shows: the unfinished ones first, then the finished, a page at a time.

An artist looks for what is still running or about to be imported; finished jobs follow,
newest first. A page holds :data:`PAGE_SIZE` jobs, so the panel draws the same few boxes
with 10 jobs or 500. The page number lives on the window manager
(``window_manager.meshy_jobs_page``): the sidebar's state, never saved in a .blend.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import IntProperty

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ....jobs.model import Job
    from .. import pager

PAGE_SIZE = 10


def in_order(jobs: "Iterable[Job]") -> "list[Job]":
    """Unfinished jobs before finished ones, each group in the order given (the manager's: newest first)."""
    return sorted(jobs, key=_finished)  # a stable sort; each job's state looked at once (a worker may move it)


def _finished(job: "Job") -> bool:
    return job.state.is_final


def page_of(context: bpy.types.Context, jobs: "Iterable[Job]") -> "pager.Page[Job]":
    """The jobs on the page the panel shows (a page past the end shows the last one)."""
    from .. import pager  # with its dataclass: at the first draw, not at enable

    return pager.page(in_order(jobs), cast(Any, context.window_manager).meshy_jobs_page, PAGE_SIZE)


class MESHY_OT_jobs_page(bpy.types.Operator):
    """Show another page of jobs"""

    bl_idname = "meshy.jobs_page"
    bl_label = "Jobs page"
    bl_options = {"INTERNAL"}

    page: IntProperty(name="Page", default=1, min=1, options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        cast(Any, context.window_manager).meshy_jobs_page = self.page
        return {"FINISHED"}


CLASSES = (MESHY_OT_jobs_page,)


def register() -> None:
    bpy.types.WindowManager.meshy_jobs_page = IntProperty(name="Jobs page", default=1, min=1)  # type: ignore[attr-defined,func-returns-value]


def unregister() -> None:
    del bpy.types.WindowManager.meshy_jobs_page  # type: ignore[attr-defined]
