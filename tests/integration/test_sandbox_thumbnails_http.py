"""Over HTTP: a model task's thumbnails as Meshy lists them, the transparent one and four sides when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_thumbnails
from api_samples import sandbox_client
from sandbox_control import Sandbox

from meshy_blender.api import MeshyClient, TaskKind
from meshy_blender.api.images import check_png


@pytest.fixture
def client(sandbox: Sandbox, paid_key: str) -> Iterator[MeshyClient]:
    sandbox.configure(task_seconds=0.2)
    with sandbox_client(sandbox.url, paid_key) as result:
        yield result


def fetched(client: MeshyClient, url: str, path: Path) -> bytes:
    client.download(url, path, expect_glb=False)
    assert check_png(path) == (sandbox_thumbnails.SIDE, sandbox_thumbnails.SIDE)
    return path.read_bytes()


def test_asked_thumbnails_are_listed_and_served_as_pictures_of_the_model(client: MeshyClient, tmp_path: Path) -> None:
    task_id = client.text_to_3d_preview("a vase", alpha_thumbnail=True, multi_view_thumbnails=True)
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.05)

    front = fetched(client, task.thumbnail_url, tmp_path / "thumbnail.png")
    alpha = fetched(client, task.alpha_thumbnail_url, tmp_path / "alpha.png")
    sides = [fetched(client, url, tmp_path / f"side-{n}.png") for n, url in enumerate(task.multi_view_thumbnail_urls)]
    assert len(sides) == 4 and len(set(sides)) == 4, "front, right, back and left: four different pictures"
    assert sides[0] == front != alpha
    assert front == sandbox_thumbnails.thumbnail("front") and alpha == sandbox_thumbnails.thumbnail("front", True)


def test_without_asking_only_the_thumbnail_is_listed(client: MeshyClient, tmp_path: Path) -> None:
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, client.text_to_3d_preview("a vase"), poll_interval=0.05)
    assert (task.alpha_thumbnail_url, task.multi_view_thumbnail_urls) == ("", [])
    fetched(client, task.thumbnail_url, tmp_path / "thumbnail.png")
