"""Every way a request can fail, against the sandbox: the right error, retried only when safe."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from api_samples import quick_retry, sandbox_client
from sandbox_control import Sandbox

from meshy_blender.api import (
    AuthenticationError,
    BadRequestError,
    CancelledError,
    InsufficientCreditsError,
    MeshyClient,
    MeshyError,
    NetworkError,
    PoseEstimationError,
    QueueFullError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TaskKind,
    TaskNotFoundError,
    TaskStatus,
)
from meshy_blender.api.http import read_json

TASK_PATH = "/openapi/v2/text-to-3d/"
COLLECTION_PATH = "/openapi/v2/text-to-3d$"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(sandbox: Sandbox, paid_key: str, slept: list[float]) -> Iterator[MeshyClient]:
    sandbox.configure(task_seconds=0.3)
    with sandbox_client(sandbox.url, paid_key, retry=quick_retry(sleep=slept.append)) as result:
        yield result


@pytest.fixture
def task_id(client: MeshyClient) -> str:
    """The id of a task that exists."""
    return client.text_to_3d_preview("a chair")


def served(sandbox: Sandbox, method: str, path_part: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["method"] == method and path_part in r["path"]]


def posts(sandbox: Sandbox) -> list[dict[str, Any]]:
    return served(sandbox, "POST", "/openapi/")


def listen(client: MeshyClient) -> list[str]:
    """The methods of the requests ``client`` sends from now on (a hung request is logged by the
    sandbox only once it notices the client gave up, so the client's own count is the reliable one)."""
    sent: list[str] = []
    client.request_listeners.append(lambda method, url: sent.append(method))
    return sent


# -- refusals -------------------------------------------------------------------------


def test_wrong_key_is_401_with_a_plain_message(sandbox: Sandbox) -> None:
    wrong_key = "msy_wrong_key_0000000000"
    with sandbox_client(sandbox.url, wrong_key) as client, pytest.raises(AuthenticationError) as caught:
        client.balance()
    assert "Meshy rejected the API key" in str(caught.value)
    assert wrong_key not in str(caught.value)
    assert len(sandbox.requests()) == 1


def test_not_enough_credits_is_402(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.configure(balance=10)
    with pytest.raises(InsufficientCreditsError, match="Not enough Meshy credits"):
        client.text_to_3d_preview("a chair")
    assert sandbox.creates() == []


def test_unknown_task_is_404(client: MeshyClient) -> None:
    with pytest.raises(TaskNotFoundError):
        client.get_task(TaskKind.RIGGING, "no-such-task")
    with pytest.raises(TaskNotFoundError):
        client.delete_task(TaskKind.RIGGING, "no-such-task")


def test_pose_estimation_failure_is_422(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault("/rigging$", "status", method="POST", status=422, message="Pose estimation failed")
    with pytest.raises(PoseEstimationError, match="humanoid pose"):
        client.rigging(model="https://example.com/statue.glb")


def test_server_side_400_quotes_meshy(client: MeshyClient, task_id: str) -> None:
    # The preview is still running: Meshy refuses to refine it.
    with pytest.raises(BadRequestError, match="not SUCCEEDED"):
        client.text_to_3d_refine(task_id)


# -- rate limits and queue ------------------------------------------------------------


def test_rate_limited_get_is_retried_after_retry_after(
    client: MeshyClient, sandbox: Sandbox, task_id: str, slept: list[float]
) -> None:
    sandbox.fault(
        TASK_PATH,
        "status",
        method="GET",
        status=429,
        message="RateLimitExceeded",
        headers={"Retry-After": "1"},
        times=2,
    )
    assert client.get_task(TaskKind.TEXT_TO_3D, task_id).id == task_id
    assert [r["status"] for r in served(sandbox, "GET", task_id)] == [429, 429, 200]
    assert sum(slept) == pytest.approx(2.0)


def test_real_per_second_limit_is_ridden_out(sandbox: Sandbox, paid_key: str) -> None:
    sandbox.configure(rate_limit=3, retry_after=0.2)
    with sandbox_client(sandbox.url, paid_key, retry=quick_retry(attempts=10)) as client:
        balances = [client.balance() for _ in range(8)]
    assert balances == [1000] * 8
    statuses = [r["status"] for r in sandbox.requests()]
    assert statuses.count(200) == 8
    assert set(statuses) <= {200, 429}


def test_rate_limited_create_is_retried_once_accepted_once(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault(COLLECTION_PATH, "status", method="POST", status=429, message="RateLimitExceeded: slow down")
    assert client.text_to_3d_preview("a chair")
    assert [r["status"] for r in posts(sandbox)] == [429, 202]
    assert len(sandbox.creates()) == 1


def test_retry_after_beyond_the_budget_gives_up_at_once(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(
        TASK_PATH, "status", method="GET", status=429, message="RateLimitExceeded", headers={"Retry-After": "60"}
    )
    with pytest.raises(RateLimitError) as caught:
        client.get_task(TaskKind.TEXT_TO_3D, task_id)
    assert caught.value.retry_after == 60
    assert len(served(sandbox, "GET", task_id)) == 1


def test_full_queue_raises_at_once(client: MeshyClient, sandbox: Sandbox, slept: list[float]) -> None:
    sandbox.configure(queue_limit=1, task_seconds=30)
    client.text_to_3d_preview("first")
    with pytest.raises(QueueFullError):
        client.text_to_3d_preview("second")
    assert [r["status"] for r in posts(sandbox)] == [202, 429]
    assert slept == []


# -- server errors --------------------------------------------------------------------


def test_5xx_burst_on_get_is_retried(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    for status in (500, 502, 503):
        sandbox.fault(TASK_PATH, "status", method="GET", status=status, message="oops")
    assert client.get_task(TaskKind.TEXT_TO_3D, task_id).id == task_id
    assert [r["status"] for r in served(sandbox, "GET", task_id)] == [500, 502, 503, 200]


def test_persistent_5xx_gives_up_after_the_attempts(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "status", method="GET", status=503, message="maintenance", times=-1)
    with pytest.raises(ServerError, match="HTTP 503"):
        client.get_task(TaskKind.TEXT_TO_3D, task_id)
    assert len(served(sandbox, "GET", task_id)) == 4


def test_500_on_create_is_not_retried(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault(COLLECTION_PATH, "status", method="POST", status=500, message="Internal server error")
    with pytest.raises(ServerError):
        client.text_to_3d_preview("a chair")
    assert len(posts(sandbox)) == 1


# -- broken connections ---------------------------------------------------------------


def test_reset_on_get_is_retried(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "reset", method="GET")
    assert client.get_task(TaskKind.TEXT_TO_3D, task_id).id == task_id
    assert len(served(sandbox, "GET", task_id)) == 2


def test_reset_on_create_is_not_retried(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault(COLLECTION_PATH, "reset", method="POST")
    with pytest.raises(NetworkError) as caught:
        client.text_to_3d_preview("a chair")
    assert caught.value.maybe_sent
    assert len(posts(sandbox)) == 1


def test_connection_cut_during_json_is_retried(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "truncate", method="GET", bytes=20)
    assert client.get_task(TaskKind.TEXT_TO_3D, task_id).id == task_id
    assert len(served(sandbox, "GET", task_id)) == 2


def test_connection_always_cut_during_json_fails(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "truncate", method="GET", bytes=20, times=-1)
    with pytest.raises((NetworkError, ServerError)):
        client.get_task(TaskKind.TEXT_TO_3D, task_id)


def test_hanging_server_times_out(sandbox: Sandbox, paid_key: str, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "hang", method="GET", times=-1, seconds=10)
    client = sandbox_client(sandbox.url, paid_key, timeout=(2.0, 0.3), retry=quick_retry(attempts=2))
    sent = listen(client)
    with client, pytest.raises(RequestTimeoutError):
        client.get_task(TaskKind.TEXT_TO_3D, task_id)
    assert sent == ["GET", "GET"]


@pytest.mark.timeout(8)
def test_cancel_stops_a_watch_still_waiting_for_meshys_answer(sandbox: Sandbox, paid_key: str, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "hang", method="GET", times=-1, seconds=30)
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        client = sandbox_client(sandbox.url, paid_key, timeout=(2.0, 60.0))
        with client, pytest.raises(CancelledError):
            client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, cancel=cancel)
    finally:
        timer.cancel()


def test_a_creates_answer_is_waited_for_even_when_cancelled(sandbox: Sandbox, paid_key: str) -> None:
    """Its answer is the paid task's id: the job that was cancelled meanwhile still learns it."""
    sandbox.fault(COLLECTION_PATH, "delay", method="POST", seconds=1.0)
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    try:
        with sandbox_client(sandbox.url, paid_key) as client:
            answer = client._transport.call(
                "POST",
                f"{sandbox.url}{COLLECTION_PATH.rstrip('$')}",
                read=read_json,
                idempotent=False,
                cancel=cancel,
                json_body={"mode": "preview", "prompt": "a chair"},
            )
    finally:
        timer.cancel()
    assert cancel.is_set()
    assert answer["result"]
    assert len(posts(sandbox)) == 1


def test_timeout_on_create_is_not_retried(sandbox: Sandbox, paid_key: str) -> None:
    sandbox.fault(COLLECTION_PATH, "hang", method="POST", seconds=10)
    client = sandbox_client(sandbox.url, paid_key, timeout=(2.0, 0.3))
    sent = listen(client)
    with client, pytest.raises(RequestTimeoutError) as caught:
        client.text_to_3d_preview("a chair")
    assert caught.value.maybe_sent
    assert sent == ["POST"]


def test_refused_connection_is_retried_even_for_a_create(slept: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with sandbox_client(f"http://127.0.0.1:{port}", "msy_any_key_123", retry=quick_retry(sleep=slept.append)) as client:
        attempts = listen(client)
        with pytest.raises(NetworkError) as caught:
            client.text_to_3d_preview("a chair")
    assert not caught.value.maybe_sent
    assert attempts == ["POST"] * 4
    assert "Could not connect" in str(caught.value)


# -- odd answers ----------------------------------------------------------------------


def test_malformed_json_is_a_server_error(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    sandbox.fault(TASK_PATH, "malformed", method="GET", times=-1)
    with pytest.raises(ServerError, match="not valid JSON"):
        client.get_task(TaskKind.TEXT_TO_3D, task_id)


def test_malformed_create_answer_is_not_retried(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault(COLLECTION_PATH, "malformed", method="POST")
    with pytest.raises(ServerError):
        client.text_to_3d_preview("a chair")
    assert len(posts(sandbox)) == 1


def test_missing_fields_do_not_crash(client: MeshyClient, sandbox: Sandbox, task_id: str) -> None:
    fields = ["id", "status", "model_urls", "texture_urls", "task_error", "progress"]
    sandbox.fault(TASK_PATH, "drop_fields", method="GET", fields=fields)
    task = client.get_task(TaskKind.TEXT_TO_3D, task_id)
    assert task.id == task_id
    assert task.status is TaskStatus.UNKNOWN
    assert task.glb_url == ""
    sandbox.fault(COLLECTION_PATH, "drop_fields", method="GET", fields=fields)
    assert [t.status for t in client.list_tasks(TaskKind.TEXT_TO_3D)] == [TaskStatus.UNKNOWN]


def test_create_answer_without_an_id_is_a_server_error(client: MeshyClient, sandbox: Sandbox) -> None:
    sandbox.fault(COLLECTION_PATH, "drop_fields", method="POST", fields=["result"])
    with pytest.raises(ServerError, match="did not send its id"):
        client.text_to_3d_preview("a chair")


def test_the_key_never_reaches_logs_or_messages(
    sandbox: Sandbox, paid_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caught: list[str] = []
    with caplog.at_level(logging.DEBUG):
        sandbox.fault(COLLECTION_PATH, "status", method="POST", status=400, message=f"bad key {paid_key}")
        sandbox.fault(TASK_PATH, "status", method="GET", status=503, message=f"echo {paid_key}", times=-1)
        with sandbox_client(sandbox.url, paid_key) as client:
            for action in (
                lambda: client.text_to_3d_preview("a chair"),
                lambda: client.get_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("a chair")),
            ):
                with pytest.raises(MeshyError) as error:
                    action()
                caught.append(str(error.value))
                caught.append(repr(error.value))
            caught.append(repr(client))
    assert caplog.text
    assert all(paid_key not in text for text in [caplog.text, *caught])
    assert "***" in caught[0]
