"""What the client refuses before sending anything, and how it keeps the key out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshy_blender.api import MeshyClient, TaskKind
from meshy_blender.api.errors import ValidationError

KEY = "msy_unit_test_secret_key_0123"


@pytest.fixture
def sent() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(sent: list[tuple[str, str]]) -> MeshyClient:
    result = MeshyClient(KEY, "https://api.meshy.invalid")
    result.request_listeners.append(lambda method, url: sent.append((method, url)))
    return result


def test_repr_does_not_show_the_key(client: MeshyClient) -> None:
    assert KEY not in repr(client)
    assert KEY not in repr(client._transport)
    assert "api.meshy.invalid" in repr(client)


@pytest.mark.parametrize("key", ["", "   ", "msy key with spaces", "msy_key\nX-Evil: 1", "msy_ключ"])
def test_missing_or_unsendable_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MeshyClient(key)
    assert caught.value.field == "api_key"


def test_plain_http_base_url_is_refused_except_to_this_machine() -> None:
    with pytest.raises(ValidationError) as caught:
        MeshyClient(KEY, "http://api.meshy.ai")
    assert "HTTPS" in str(caught.value)
    assert MeshyClient(KEY, "http://127.0.0.1:8000/").base_url == "http://127.0.0.1:8000"
    assert MeshyClient(KEY, "http://localhost:8000").base_url == "http://localhost:8000"


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ValidationError):
        MeshyClient(KEY, timeout=(0.0, 10.0))


def test_invalid_create_sends_nothing(client: MeshyClient, sent: list[tuple[str, str]], tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("text")
    attempts = [
        lambda: client.text_to_3d_preview(""),
        lambda: client.text_to_3d_preview("chair", target_polycount=50),
        lambda: client.text_to_3d_refine("", enable_pbr=True),
        lambda: client.image_to_3d(notes),
        lambda: client.multi_image_to_3d([]),
        lambda: client.rigging(model=b"not a glb"),
        lambda: client.animation("rig", -1),
        lambda: client.retexture(input_task_id="t"),
        lambda: client.remesh(model=None),
        lambda: client.create_task(TaskKind.IMAGE_TO_3D, {"image_url": "https://x/a.png", "foo": 1}),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert sent == []


def test_an_option_given_twice_is_refused(client: MeshyClient) -> None:
    with pytest.raises(ValidationError, match="'mode' is given twice"):
        client.text_to_3d_preview("chair", mode="refine")


@pytest.mark.parametrize(
    "params", [{"page_num": 0}, {"page_size": 51}, {"page_size": 0}, {"sort_by": "created_at"}, {"page_num": True}]
)
def test_bad_list_parameters_send_nothing(client: MeshyClient, sent: list[tuple[str, str]], params: dict) -> None:
    with pytest.raises(ValidationError):
        client.list_tasks(TaskKind.TEXT_TO_3D, **params)
    assert sent == []


def test_empty_task_id_sends_nothing(client: MeshyClient, sent: list[tuple[str, str]]) -> None:
    with pytest.raises(ValidationError):
        client.get_task(TaskKind.TEXT_TO_3D, "")
    with pytest.raises(ValidationError):
        client.delete_task(TaskKind.TEXT_TO_3D, " ")
    assert sent == []
