"""The "Copy diagnostics" text: every fact support needs, no key, no proxy password."""

from __future__ import annotations

from typing import Any

import pytest

from meshy_blender.api.tasks import TaskKind
from meshy_blender.jobs.diagnostics import (
    MAX_ERRORS,
    RecentError,
    build_report,
    proxy_settings,
    recent_errors,
    without_credentials,
)
from meshy_blender.jobs.model import Job, JobState, Stage


def facts(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "created": "2025-01-02 03:04:05 +0000",
        "blender": "4.5.15 LTS",
        "addon": "0.1.0",
        "python": "3.11.9",
        "os": "Linux-6.1-x86_64",
        "online_access": True,
        "proxies": {},
        "base_url": "https://api.meshy.ai",
        "key_source": "the add-on preferences",
        "key_length": 41,
        "download_dir": "/home/me/meshy",
        "concurrency": 10,
        "use_sse": True,
        "bridge": "running on http://127.0.0.1:5324",
        "bridge_failures": [],
        "errors": [],
    }
    return {**base, **changes}


def test_the_report_lists_every_fact() -> None:
    error = RecentError("a chair", "text", ("task-1", "task-2"), "Meshy could not finish: blocked", "moderation")
    report = build_report(facts(errors=[error], bridge_failures=["statue: the link expired"]))

    for expected in (
        "Blender:        4.5.15 LTS",
        "Add-on:         0.1.0",
        "Python:         3.11.9",
        "System:         Linux-6.1-x86_64",
        "Online access:  yes",
        "Proxy:          none",
        "Server:         https://api.meshy.ai",
        "API key:        set in the add-on preferences (41 characters)",
        "Downloads:      /home/me/meshy",
        "Parallel jobs:  10",
        "Streaming:      on",
        "Bridge:         running on http://127.0.0.1:5324",
        "  failed import: statue: the link expired",
        "Recent errors:  1",
        "- a chair (text; task-1, task-2) [moderation]: Meshy could not finish: blocked",
    ):
        assert expected in report.splitlines(), expected


def test_no_key_and_offline_are_said_plainly() -> None:
    report = build_report(facts(key_source="", key_length=0, online_access=False, use_sse=False))
    assert "API key:        not set" in report
    assert "Online access:  no" in report
    assert "Streaming:      off (polling)" in report
    assert "Recent errors:  none" in report


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("http://alice:s3cret@proxy.example:3128", "http://***@proxy.example:3128"),
        ("socks5h://bob:pa@ss@10.0.0.1:1080/", "socks5h://***@10.0.0.1:1080/"),  # an unescaped @ in the password
        ("carol:hunter2@proxy.example:8080", "***@proxy.example:8080"),  # no scheme
        ("http://dave@proxy.example", "http://***@proxy.example"),  # user name only
        ("http://proxy.example:3128", "http://proxy.example:3128"),
        ("localhost,127.0.0.1,.internal", "localhost,127.0.0.1,.internal"),
    ],
)
def test_credentials_in_addresses_are_hidden(address: str, shown: str) -> None:
    assert without_credentials(address) == shown


def test_proxy_settings_are_reported_without_passwords() -> None:
    environ = {
        "HTTPS_PROXY": "http://alice:s3cret@proxy.example:3128",
        "http_proxy": "carol:hunter2@proxy.example:8080",
        "NO_PROXY": "localhost,.internal",
        "HTTP_PROXY": "  ",
        "PATH": "/usr/bin",
    }
    proxies = proxy_settings(environ)
    assert set(proxies) == {"HTTPS_PROXY", "http_proxy", "NO_PROXY"}

    report = build_report(facts(proxies=proxies, base_url="https://user:token@meshy.example"))

    for secret in ("alice", "s3cret", "carol", "hunter2", "token"):
        assert secret not in report
    assert "HTTPS_PROXY=http://***@proxy.example:3128" in report
    assert "http_proxy=***@proxy.example:8080" in report
    assert "NO_PROXY=localhost,.internal" in report
    assert "Server:         https://***@meshy.example" in report


def job(name: str, state: JobState, created_ms: int, task_ids: list[str], error: str = "") -> Job:
    stages = [Stage(kind=TaskKind.TEXT_TO_3D, body={"prompt": name}, task_id=task_id) for task_id in task_ids]
    return Job(name=name, kind="text", stages=stages, state=state, created_ms=created_ms, error=error)


def test_recent_errors_are_the_newest_failed_jobs_with_their_task_ids() -> None:
    jobs = [
        job("old failure", JobState.FAILED, 1_000, ["t-old"], "Meshy could not finish"),
        job("done", JobState.IMPORTED, 3_000, ["t-done"]),
        job("new failure", JobState.FAILED, 2_000, ["t-preview", "t-refine"], "The download was cut off"),
        job("never sent", JobState.FAILED, 1_500, [""], "Could not connect"),
    ]
    errors = recent_errors(jobs)
    assert [(e.name, e.task_ids, e.error) for e in errors] == [
        ("new failure", ("t-preview", "t-refine"), "The download was cut off"),
        ("never sent", (), "Could not connect"),
        ("old failure", ("t-old",), "Meshy could not finish"),
    ]
    report = build_report(facts(errors=errors))
    assert "- never sent (text; no task): Could not connect" in report


def test_only_the_last_few_errors_are_listed() -> None:
    jobs = [job(f"failure {n}", JobState.FAILED, n, [f"t{n}"], "failed") for n in range(MAX_ERRORS + 5)]
    errors = recent_errors(jobs)
    assert len(errors) == MAX_ERRORS
    assert errors[0].name == f"failure {MAX_ERRORS + 4}"
