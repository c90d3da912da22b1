"""Shared fixtures: one sandbox process per test session, reset before each test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox import PAID_KEY, TEST_KEY, Sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox("--task-seconds", "1") as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox with no tasks, faults or logged requests, tasks lasting 1 s."""
    sandbox_server.reset(task_seconds=1.0)
    return sandbox_server


@pytest.fixture
def test_key() -> str:
    return TEST_KEY


@pytest.fixture
def paid_key() -> str:
    return PAID_KEY
