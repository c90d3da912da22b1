"""Shared fixtures: one sandbox process per test session, reset before each test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from sandbox_control import PAID_KEY, TEST_KEY, Sandbox

_EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox("--task-seconds", "1") as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox with no tasks, faults or logged requests, tasks lasting 1 s."""
    sandbox_server.reset(task_seconds=1.0)
    return sandbox_server


@pytest.fixture(scope="module")
def secret_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox that also accepts the test module's ``SECRET`` as a paid key (for key-leak searches)."""
    with Sandbox("--task-seconds", "0.3", "--api-key", request.module.SECRET) as server:
        yield server


@pytest.fixture
def test_key() -> str:
    return TEST_KEY


@pytest.fixture
def paid_key() -> str:
    return PAID_KEY


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without Blender's own teardown once bpy was loaded.

    The bpy 4.2 module crashes while freeing its classes at interpreter exit after any
    glTF export (a Blender bug: it takes the GIL after Python has shut down). Every
    report is written by now, so exiting directly keeps the real result.
    """
    if "bpy" in sys.modules and _EXIT_STATUS in config.stash:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[_EXIT_STATUS])
