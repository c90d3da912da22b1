"""Fixtures of the end-to-end tests; the helpers they use live in :mod:`cli_harness`."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import TASK_SECONDS, Cli
from sandbox_control import Sandbox


@pytest.fixture
def cli(sandbox: Sandbox, tmp_path: Path) -> Cli:
    sandbox.configure(task_seconds=TASK_SECONDS)
    return Cli(sandbox.url, tmp_path)
