"""The states a job goes through, with their words for the sidebar: an enum, nothing else.

Apart from :mod:`.model` (the job's data, its dataclasses) because the sidebar compares
states and picks icons when the add-on is enabled and draws, and should not load the job
model for that. :mod:`.model` re-exports it. Plain Python.
"""

from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker thread
    WAITING_FOR_SLOT = "waiting_for_slot"  # the Meshy account's task queue is full
    SUBMITTING = "submitting"
    RUNNING = "running"  # a Meshy task is pending or in progress
    DOWNLOADING = "downloading"
    READY = "ready"  # files downloaded, waiting for the main thread to import them
    IMPORTED = "imported"
    DONE = "done"  # finished without import (headless `-o file.glb`)
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES  # a set: the sidebar asks for every job at every draw

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_FINAL_STATES = frozenset((JobState.IMPORTED, JobState.DONE, JobState.FAILED, JobState.CANCELED))
_STATE_LABELS = {
    JobState.QUEUED: "Queued",
    JobState.WAITING_FOR_SLOT: "Waiting for a free Meshy slot",
    JobState.SUBMITTING: "Submitting",
    JobState.RUNNING: "Generating",
    JobState.DOWNLOADING: "Downloading",
    JobState.READY: "Importing",
    JobState.IMPORTED: "Imported",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELED: "Canceled",
}
