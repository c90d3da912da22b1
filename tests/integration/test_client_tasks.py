"""The client against the sandbox over real HTTP: every endpoint, and following tasks to the end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_samples import JPEG_BYTES, glb_bytes, png_bytes, sandbox_client
from sandbox_control import Sandbox

from meshy_blender.api import (
    CancelledError,
    MeshyClient,
    RequestTimeoutError,
    Task,
    TaskFailedError,
    TaskKind,
    TaskNotFoundError,
    TaskStatus,
    estimate_credits,
)

TASK_SECONDS = 0.3


@pytest.fixture
def fast(sandbox: Sandbox) -> Sandbox:
    sandbox.configure(task_seconds=TASK_SECONDS)
    return sandbox


@pytest.fixture(params=["test", "paid"])
def any_key(request: pytest.FixtureRequest, test_key: str, paid_key: str) -> str:
    return test_key if request.param == "test" else paid_key


@pytest.fixture
def client(fast: Sandbox, paid_key: str) -> Iterator[MeshyClient]:
    with sandbox_client(fast.url, paid_key) as result:
        yield result


def api_calls(sandbox: Sandbox, method: str, suffix: str = "") -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == method and r["path"].endswith(suffix)]


def test_text_to_3d_preview_then_refine_with_pbr(client: MeshyClient) -> None:
    before = client.balance()
    preview_id = client.text_to_3d_preview("a wooden chair", target_polycount=5000, topology="quad")
    preview = client.wait_for_task(TaskKind.TEXT_TO_3D, preview_id, poll_interval=0.05)
    assert preview.succeeded
    assert preview.type == "text-to-3d-preview"
    assert preview.glb_url
    refine_id = client.text_to_3d_refine(preview_id, enable_pbr=True)
    refined = client.wait_for_task(TaskKind.TEXT_TO_3D, refine_id, poll_interval=0.05)
    assert refined.type == "text-to-3d-refine"
    assert {"base_color", "metallic", "normal", "roughness"} <= refined.texture_urls.keys()
    charged = estimate_credits(TaskKind.TEXT_TO_3D, {"mode": "preview"}) + estimate_credits(
        TaskKind.TEXT_TO_3D, {"mode": "refine"}
    )
    assert before - client.balance() == charged


def test_every_generation_endpoint_round_trips(fast: Sandbox, any_key: str, tmp_path: Path) -> None:
    png, jpeg, glb = tmp_path / "front.png", tmp_path / "side.jpg", tmp_path / "body.glb"
    png.write_bytes(png_bytes())
    jpeg.write_bytes(JPEG_BYTES)
    glb.write_bytes(glb_bytes())
    with sandbox_client(fast.url, any_key) as client:

        def finish(kind: TaskKind, task_id: str) -> Task:
            task = client.wait_for_task(kind, task_id, poll_interval=0.05, timeout=30)
            assert task.succeeded
            assert task.id == task_id
            assert task.glb_url
            return task

        image = finish(TaskKind.IMAGE_TO_3D, client.image_to_3d(png, should_texture=True, enable_pbr=True))
        assert image.type == "image-to-3d"
        multi = finish(TaskKind.MULTI_IMAGE_TO_3D, client.multi_image_to_3d([png, jpeg], should_texture=False))
        assert multi.type == "multi-image-to-3d"
        rig = finish(TaskKind.RIGGING, client.rigging(input_task_id=image.id, height_meters=1.8))
        assert set(rig.animation_glb_urls) == {"walking", "running"}
        finish(TaskKind.RIGGING, client.rigging(model=glb))
        finish(
            TaskKind.ANIMATION, client.animation(rig.id, 1, post_process={"operation_type": "change_fps", "fps": 30})
        )
        finish(TaskKind.RETEXTURE, client.retexture(input_task_id=multi.id, text_style_prompt="rusty metal"))
        finish(TaskKind.RETEXTURE, client.retexture(model=glb_bytes(), image_style=jpeg))
        finish(TaskKind.REMESH, client.remesh(model=glb, target_polycount=1000, target_formats=["glb", "fbx"]))
        finish(TaskKind.REMESH, client.remesh(input_task_id=image.id, topology="triangle"))


def test_paid_tasks_cost_what_was_estimated(client: MeshyClient, tmp_path: Path) -> None:
    image = tmp_path / "vase.png"
    image.write_bytes(png_bytes())
    body = {"image_url": str(image), "should_texture": False}
    before = client.balance()
    client.wait_for_task(TaskKind.IMAGE_TO_3D, client.image_to_3d(image, should_texture=False), poll_interval=0.05)
    assert before - client.balance() == estimate_credits(TaskKind.IMAGE_TO_3D, body)


def test_balance_with_each_key(fast: Sandbox, test_key: str, paid_key: str) -> None:
    with sandbox_client(fast.url, paid_key) as paid, sandbox_client(fast.url, test_key) as free:
        assert paid.balance() == 1000
        assert free.balance() == 1_000_000


def test_list_pages_sorts_and_delete(client: MeshyClient) -> None:
    ids = [client.text_to_3d_preview(f"chair {n}") for n in range(3)]
    newest = client.list_tasks(TaskKind.TEXT_TO_3D, page_size=2)
    assert [t.id for t in newest] == [ids[2], ids[1]]
    assert [t.id for t in client.list_tasks(TaskKind.TEXT_TO_3D, page_num=2, page_size=2)] == [ids[0]]
    oldest = client.list_tasks(TaskKind.TEXT_TO_3D, page_size=50, sort_by="+created_at")
    assert [t.id for t in oldest] == ids
    assert client.list_tasks(TaskKind.IMAGE_TO_3D) == []
    client.delete_task(TaskKind.TEXT_TO_3D, ids[1])
    with pytest.raises(TaskNotFoundError):
        client.get_task(TaskKind.TEXT_TO_3D, ids[1])
    assert [t.id for t in client.list_tasks(TaskKind.TEXT_TO_3D, page_size=50)] == [ids[2], ids[0]]


def test_get_task_reads_a_running_task(client: MeshyClient) -> None:
    task = client.get_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("lamp"))
    assert task.status in (TaskStatus.PENDING, TaskStatus.IN_PROGRESS)
    assert task.prompt == "lamp"


def test_wait_by_sse_uses_only_the_stream(client: MeshyClient, fast: Sandbox) -> None:
    task_id = client.text_to_3d_preview("a teapot")
    updates: list[Task] = []
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, on_update=updates.append)
    assert task.succeeded
    assert task.glb_url
    assert updates[-1] == task
    assert updates[0].status is TaskStatus.PENDING
    progress = [u.progress for u in updates]
    assert progress == sorted(progress)
    assert len(api_calls(fast, "GET", "/stream")) == 1
    assert api_calls(fast, "GET", task_id) == []


def test_wait_by_polling_never_opens_a_stream(client: MeshyClient, fast: Sandbox) -> None:
    task_id = client.text_to_3d_preview("a teapot")
    updates: list[Task] = []
    task = client.wait_for_task(
        TaskKind.TEXT_TO_3D, task_id, use_sse=False, poll_interval=0.05, on_update=updates.append
    )
    assert task.succeeded
    assert updates[-1].status is TaskStatus.SUCCEEDED
    assert api_calls(fast, "GET", "/stream") == []
    assert len(api_calls(fast, "GET", task_id)) >= 2


def test_stream_merges_progress_frames_into_the_full_task(client: MeshyClient) -> None:
    task_id = client.text_to_3d_preview("a robot")
    states = list(client.stream_task(TaskKind.TEXT_TO_3D, task_id))
    assert states[0].status is TaskStatus.PENDING
    assert states[0].glb_url == ""
    assert all(s.id == task_id for s in states)
    assert states[-1].succeeded
    assert states[-1].glb_url


def test_stream_error_frame_for_an_unknown_task_is_not_found(client: MeshyClient) -> None:
    with pytest.raises(TaskNotFoundError):
        list(client.stream_task(TaskKind.TEXT_TO_3D, "no-such-task"))


def test_wait_for_an_unknown_task_is_not_found(client: MeshyClient) -> None:
    with pytest.raises(TaskNotFoundError):
        client.wait_for_task(TaskKind.IMAGE_TO_3D, "no-such-task", poll_interval=0.05)


def test_stream_dropped_mid_way_falls_back_to_polling(client: MeshyClient, fast: Sandbox) -> None:
    fast.fault("/stream$", "sse_drop", events=2)
    task_id = client.text_to_3d_preview("a boat")
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05)
    assert task.succeeded
    assert task.glb_url
    assert len(api_calls(fast, "GET", "/stream")) == 1
    assert api_calls(fast, "GET", task_id)


def test_stream_error_frame_falls_back_to_polling(client: MeshyClient, fast: Sandbox) -> None:
    fast.fault("/stream$", "sse_error", status_code=500, message="stream backend down", events=1)
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("a tree"), poll_interval=0.05)
    assert task.succeeded


def test_unavailable_stream_falls_back_to_polling(client: MeshyClient, fast: Sandbox) -> None:
    fast.fault("/stream$", "status", method="GET", status=404, message="Not Found", times=-1)
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("a cup"), poll_interval=0.05)
    assert task.succeeded


@pytest.mark.parametrize("use_sse", [True, False])
def test_failed_task_raises_task_failed_error(client: MeshyClient, fast: Sandbox, use_sse: bool) -> None:
    fast.fail_next("image-to-3d", "Image too complex", "image_too_complex")
    task_id = client.image_to_3d("https://example.com/statue.png")
    with pytest.raises(TaskFailedError) as caught:
        client.wait_for_task(TaskKind.IMAGE_TO_3D, task_id, use_sse=use_sse, poll_interval=0.05)
    assert caught.value.code == "image_too_complex"
    assert caught.value.task_id == task_id
    assert "Image too complex" in str(caught.value)
    if use_sse:
        assert api_calls(fast, "GET", task_id) == []  # the stream's last frame was enough


@pytest.mark.parametrize("use_sse", [True, False])
def test_wait_gives_up_after_its_timeout(client: MeshyClient, fast: Sandbox, use_sse: bool) -> None:
    fast.configure(task_seconds=60)
    task_id = client.text_to_3d_preview("a slow castle")
    with pytest.raises(RequestTimeoutError, match="not finished"):
        client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, use_sse=use_sse, poll_interval=0.05, timeout=0.5)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("use_sse", [True, False])
def test_wait_stops_when_cancelled(client: MeshyClient, fast: Sandbox, use_sse: bool) -> None:
    fast.configure(task_seconds=60)
    task_id = client.text_to_3d_preview("a slow castle")
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        with pytest.raises(CancelledError):
            client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, cancel=cancel, use_sse=use_sse, poll_interval=5.0)
    finally:
        timer.cancel()


def test_listeners_see_every_request(client: MeshyClient, fast: Sandbox) -> None:
    seen: list[tuple[str, str]] = []
    client.request_listeners.append(lambda method, url: seen.append((method, url)))
    task_id = client.text_to_3d_preview("a bench")
    client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05)
    client.list_tasks(TaskKind.TEXT_TO_3D)
    client.delete_task(TaskKind.TEXT_TO_3D, task_id)
    served = fast.requests()
    assert [(m, u.split("?")[0].removeprefix(fast.url)) for m, u in seen] == [(r["method"], r["path"]) for r in served]
