"""Find a task that a create request may have made although we never got its id.

A create POST that timed out, was reset or crashed the process may still have reached
Meshy and been charged. Before creating again we look at the newest tasks of that kind
and adopt one that matches: same kind and mode, created around when we sent ours, the
same prompt when there is one, and not already claimed by another job. The time window
is wide because Meshy's clock and ours may disagree by a minute or two.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from ..api.tasks import Task, TaskKind
from .model import Stage

CLOCK_SKEW_MS = 120_000
LOOKUP_PAGE_SIZE = 50


class TaskLister(Protocol):
    def list_tasks(
        self, kind: TaskKind, *, page_num: int = 1, page_size: int = 10, sort_by: str = "-created_at"
    ) -> list[Task]: ...


def _matches(task: Task, stage: Stage) -> bool:
    mode = stage.body.get("mode")
    if mode and task.type and not task.type.endswith(str(mode)):
        return False
    prompt = stage.body.get("prompt")
    return not (prompt and task.prompt and task.prompt != prompt)


def find_created_task(client: TaskLister, stage: Stage, claimed: Collection[str]) -> str:
    """The id of the task our earlier create made, or "" when Meshy has none."""
    earliest = stage.create_sent_ms - CLOCK_SKEW_MS
    candidates = [
        task
        for task in client.list_tasks(stage.kind, page_size=LOOKUP_PAGE_SIZE, sort_by="-created_at")
        if task.id and task.id not in claimed and task.created_at >= earliest and _matches(task, stage)
    ]
    if not candidates:
        return ""
    # The oldest candidate after our send time is the one our request made.
    return min(candidates, key=lambda task: task.created_at).id
