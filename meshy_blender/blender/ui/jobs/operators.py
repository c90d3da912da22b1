# mypy: disable-error-code="valid-type"
# (Blender declares properties as annotations whose value is a call, which mypy cannot read.)
# No `from __future__ import annotations` here (see the package's docstring).
"""Operators on existing jobs (the Jobs panel's buttons), the balance and the task browser.

Job buttons carry the job's id; what only the job can tell (finished? a preview?) is
checked in ``execute`` and reported, since ``poll`` cannot see operator properties.
Network calls that are not jobs (balance, task list, delete) run on background threads
through :mod:`calls`; ``execute`` returns at once.
"""

import time
from typing import TYPE_CHECKING, Any, cast

import bpy
from bpy.props import IntProperty, StringProperty

from .... import api
from ....api.task_kinds import TaskKind, TaskStatus
from ....bridge import JOB_KIND as BRIDGE_JOB_KIND
from ....jobs import states
from ... import session
from ...scene import file_identity
from .. import calls, preferences
from ..operators import animate_and_tell, animate_job, manager, ready, start_call, submit
from ..properties import scene_props

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    from ....api.client import MeshyClient
    from ....api.tasks import Task
    from ....jobs.model import Job

BROWSE_CALL = "browse"
BROWSE_PAGE_SIZE = 10
#: Job kinds whose result is a model that can be refined/rigged further.
GENERATED_KINDS = ("text", "refine", "image", "multi-image", "retexture", "import")


def delete_call(job_id: str) -> str:
    return f"delete-{job_id}"


# -- what a job allows ------------------------------------------------------------------


def finished_ok(job: "Job") -> bool:
    return (
        job.state in (states.JobState.IMPORTED, states.JobState.DONE, states.JobState.READY)
        and job.stages[-1].succeeded
    )


def can_refine(job: "Job") -> bool:
    """A text preview whose textures have not been made yet."""
    return job.kind == "text" and len(job.stages) == 1 and finished_ok(job)


def can_rig(job: "Job") -> bool:
    last = job.stages[-1].kind
    return job.kind in GENERATED_KINDS and last not in (TaskKind.RIGGING, TaskKind.ANIMATION) and finished_ok(job)


def can_animate(job: "Job") -> bool:
    return job.stages[-1].kind is TaskKind.RIGGING and finished_ok(job)


def can_retry(job: "Job") -> bool:
    """Stopped by a connection problem or a cancel; a task that Meshy itself failed would fail again.

    A model received by the Meshy Bridge has no task to run again: re-import it, or send it again.
    """
    from ....jobs.reuse import failed_on_meshy  # the sidebar asks while drawing; not loaded at enable

    stopped = job.state in (states.JobState.FAILED, states.JobState.CANCELED)
    return stopped and job.kind != BRIDGE_JOB_KIND and not failed_on_meshy(job)


def can_reimport(job: "Job") -> bool:
    """Finished, with its files, or with a finished task to download them from again (nothing is paid).

    Concept pictures are never imported as a model (the Concept Images panel shows them).
    """
    if job.makes_images:
        return False
    return job.state.is_final and (job.files_on_disk or (job.stages[-1].succeeded and bool(job.final_task_id)))


def can_import_here(job: "Job") -> bool:
    """Downloaded and waiting: for its file to be opened, or for Object Mode."""
    return job.state is states.JobState.READY


def task_ids(job: "Job") -> list[tuple[TaskKind, str]]:
    return [(stage.kind, stage.task_id) for stage in job.stages if stage.task_id]


class JobOperator(bpy.types.Operator):
    """Base of the buttons of one job row."""

    bl_options = {"INTERNAL"}

    job_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if session.current_manager() is None:
            cls.poll_message_set("No Meshy jobs yet")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        job = self.job()
        if job is None:
            return {"CANCELLED"}
        try:
            return self.act(context, job)
        except api.MeshyError as error:  # another Blender window owns the job, or its record cannot be written
            return self.refuse(str(error))

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        """The button's work on its (still listed) job."""
        raise NotImplementedError

    def job(self) -> "Job | None":
        live = session.current_manager()
        job = live.get(self.job_id) if live is not None else None
        if job is None:
            self.report({"ERROR"}, "That job is no longer in the list")
        return job

    def refuse(self, message: str) -> "set[OperatorReturnItems]":
        self.report({"ERROR"}, message)
        return {"CANCELLED"}


class SendingJobOperator(JobOperator):
    """A job button that sends something: it also needs online access and a key."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return super().poll(context) and ready(cls, context)


# -- job rows ---------------------------------------------------------------------------


class MESHY_OT_job_cancel(JobOperator):
    """Stop this job (a task already created on Meshy still finishes there)"""

    bl_idname = "meshy.job_cancel"
    bl_label = "Cancel"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if job.state.is_final:
            return self.refuse(f"'{job.name}' has already finished")
        manager(context).cancel(job.id)
        self.report({"INFO"}, f"Canceling '{job.name}'")
        return {"FINISHED"}


class MESHY_OT_cancel_all(bpy.types.Operator):
    """Stop every running Meshy job"""

    bl_idname = "meshy.cancel_all"
    bl_label = "Cancel all"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        live = session.current_manager()
        if live is None or not live.active():
            cls.poll_message_set("No Meshy job is running")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        count = len(manager(context).active())
        manager(context).cancel_all()
        self.report({"INFO"}, f"Canceling {count} job(s)")
        return {"FINISHED"}


class MESHY_OT_job_retry(SendingJobOperator):
    """Run this job again from where it stopped (no finished task is paid for twice)"""

    bl_idname = "meshy.job_retry"
    bl_label = "Retry"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if not can_retry(job):
            return self.refuse(f"'{job.name}' cannot be retried: generate it again instead")
        manager(context).retry(job.id)
        self.report({"INFO"}, f"Retrying '{job.name}'")
        return {"FINISHED"}


class MESHY_OT_job_reimport(JobOperator):
    """Import this job's model into the open file (again, e.g. after deleting part of it); \
downloads it again from Meshy, at no cost, when its files are gone"""

    bl_idname = "meshy.job_reimport"
    bl_label = "Import here"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if not (can_reimport(job) or can_import_here(job)):
            return self.refuse(f"'{job.name}' has no model to import yet")
        downloading = job.state.is_final and not job.files_on_disk
        manager(context).reimport(job.id, here=file_identity.ensure())
        if downloading:
            self.report({"INFO"}, f"Downloading '{job.name}' again from Meshy (no credits), then importing it here")
        else:
            self.report({"INFO"}, f"Importing '{job.name}' here")
        return {"FINISHED"}


class MESHY_OT_job_forget(JobOperator):
    """Remove this finished job from the list (the model stays in the scene and on Meshy)"""

    bl_idname = "meshy.job_forget"
    bl_label = "Forget"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if not job.state.is_final:
            return self.refuse(f"'{job.name}' is still running: cancel it first")
        manager(context).forget(job.id)
        return {"FINISHED"}


class MESHY_OT_job_refine(SendingJobOperator):
    """Texture this preview (uses the texture settings of the Text panel)"""

    bl_idname = "meshy.job_refine"
    bl_label = "Refine"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        from ....jobs import plans

        if not can_refine(job):
            return self.refuse(f"'{job.name}' is not a finished preview")
        options = scene_props(context).refine_options()
        return submit(
            self, context, lambda: plans.refine_job(job.final_task_id, name=f"{job.name} refined", options=options)
        )


class MESHY_OT_job_rig(SendingJobOperator):
    """Rig this job's model with Meshy (no upload: Meshy uses its own copy)"""

    bl_idname = "meshy.job_rig"
    bl_label = "Rig"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        from ....jobs import plans

        if not can_rig(job):
            return self.refuse(f"'{job.name}' is not a finished model that can be rigged")
        height = scene_props(context).rig_height()
        return submit(
            self,
            context,
            lambda: plans.rig_job(input_task_id=job.final_task_id, height_meters=height, name=f"{job.name} rigged"),
        )


class MESHY_OT_job_animate(SendingJobOperator):
    """Animate this rigged character with the actions ticked in the Rig & Animate panel"""

    bl_idname = "meshy.job_animate"
    bl_label = "Animate"

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if not can_animate(job):
            return self.refuse(f"'{job.name}' is not a finished rig")
        return animate_and_tell(self, context, lambda: animate_job(context, job.final_task_id, job.name))


class MESHY_OT_job_delete_remote(SendingJobOperator):
    """Delete this job's tasks on Meshy for good (the model in the scene stays)"""

    bl_idname = "meshy.job_delete_remote"
    bl_label = "Delete on Meshy"

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> "set[OperatorReturnItems]":
        return cast(Any, context.window_manager).invoke_confirm(self, event)

    def act(self, context: bpy.types.Context, job: "Job") -> "set[OperatorReturnItems]":
        if not job.state.is_final:
            return self.refuse(f"'{job.name}' is still running: cancel it first")
        targets = task_ids(job)
        if not targets:
            return self.refuse(f"'{job.name}' has no task on Meshy")
        result = start_call(self, context, delete_call(job.id), lambda client: delete_tasks(client, targets))
        if result == {"FINISHED"}:
            self.report({"INFO"}, f"Deleting {len(targets)} task(s) of '{job.name}' on Meshy…")
        return result


def delete_tasks(client: "MeshyClient", targets: list[tuple[TaskKind, str]]) -> int:
    """Delete the tasks, newest first; one already gone counts as deleted."""
    for kind, task_id in reversed(targets):
        try:
            client.delete_task(kind, task_id)
        except api.TaskNotFoundError:
            continue
    return len(targets)


# -- account ----------------------------------------------------------------------------


class MESHY_OT_test_connection(bpy.types.Operator):
    """Check the key and the connection by asking Meshy for your credit balance"""

    bl_idname = "meshy.test_connection"
    bl_label = "Test connection"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        # No poll: when offline or without a key, the button says why instead of being greyed out.
        return start_call(self, context, preferences.BALANCE_CALL, lambda client: client.balance())


class MESHY_OT_refresh_balance(bpy.types.Operator):
    """Ask Meshy for your credit balance"""

    bl_idname = "meshy.refresh_balance"
    bl_label = "Refresh balance"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return ready(cls, context)

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        return start_call(self, context, preferences.BALANCE_CALL, lambda client: client.balance())


# -- task browser -----------------------------------------------------------------------


def importable(task: "Task", now_ms: int) -> bool:
    return task.status is TaskStatus.SUCCEEDED and not task.expired(now_ms)


class MESHY_OT_browse_tasks(bpy.types.Operator):
    """Load one page of your tasks of the chosen kind from Meshy"""

    bl_idname = "meshy.browse_tasks"
    bl_label = "Load tasks"
    bl_options = {"INTERNAL"}

    page: IntProperty(
        name="Page", default=0, min=0, options={"SKIP_SAVE"}, description="Page to load; 0 loads the page shown"
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not ready(cls, context):
            return False
        if calls.is_running(BROWSE_CALL):
            cls.poll_message_set("Loading…")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        props = scene_props(context)
        if self.page:
            props.browse_page = self.page
        kind, page = TaskKind[props.browse_kind], props.browse_page
        return start_call(
            self,
            context,
            BROWSE_CALL,
            lambda client: client.list_tasks(kind, page_num=page, page_size=BROWSE_PAGE_SIZE),
            request=(kind, page),
        )


def browsed_task(task_id: str) -> "Task | None":
    call = calls.get(BROWSE_CALL)
    if call is None or not call.ok:
        return None
    return next((task for task in call.result if task.id == task_id), None)


def task_title(task: "Task") -> str:
    from ....jobs import plans

    return plans.display_name(task.prompt, "") or f"{task.kind.label} {task.id[:8]}"


class MESHY_OT_browse_import(bpy.types.Operator):
    """Download this task's model and import it"""

    bl_idname = "meshy.browse_import"
    bl_label = "Import"
    bl_options = {"INTERNAL"}

    task_id: StringProperty(options={"SKIP_SAVE", "HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return ready(cls, context)

    def execute(self, context: bpy.types.Context) -> "set[OperatorReturnItems]":
        from ....jobs import plans

        task = browsed_task(self.task_id)
        if task is None:
            self.report({"ERROR"}, "That task is not on the loaded page any more: load the page again")
            return {"CANCELLED"}
        if not importable(task, int(time.time() * 1000)):
            self.report({"ERROR"}, f"Task {task.id} has no result to import (not finished, or expired)")
            return {"CANCELLED"}
        return submit(self, context, lambda: plans.existing_task_job(task.kind, task.id, name=task_title(task)))


CLASSES = (
    MESHY_OT_test_connection,
    MESHY_OT_job_cancel,
    MESHY_OT_cancel_all,
    MESHY_OT_job_retry,
    MESHY_OT_job_reimport,
    MESHY_OT_job_forget,
    MESHY_OT_job_refine,
    MESHY_OT_job_rig,
    MESHY_OT_job_animate,
    MESHY_OT_job_delete_remote,
    MESHY_OT_refresh_balance,
    MESHY_OT_browse_tasks,
    MESHY_OT_browse_import,
)
