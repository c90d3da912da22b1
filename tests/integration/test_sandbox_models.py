"""The sandbox follows Meshy in November 2026: catalogue model rules, CANCELED and EXPIRED, pre-remeshed GLBs."""

from __future__ import annotations

import pytest
from sandbox_control import Sandbox
from test_sandbox import IMAGE, PNG_URI, PREVIEW, TEXT, Api


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    sandbox.configure(task_seconds=0.3, rate_limit=1000)
    return Api(sandbox)


def test_a_model_the_catalogue_does_not_know_is_accepted_and_logged_as_sent(api: Api) -> None:
    task_id = api.create(TEXT, {**PREVIEW, "ai_model": "meshy-8-preview"})
    assert api.wait(TEXT, task_id)["status"] == "SUCCEEDED"
    (created,) = api.sandbox.creates()
    assert created["ai_model"] == "meshy-8-preview"


def test_a_running_task_can_be_canceled_and_is_refunded(api: Api) -> None:
    api.sandbox.configure(task_seconds=30)
    task_id = api.create(TEXT, PREVIEW)
    assert api.balance() == 980
    api.sandbox.control("POST", "cancel", {"task_id": task_id})
    task = api.task(TEXT, task_id)
    assert task["status"] == "CANCELED"
    assert task["consumed_credits"] == 0 and task["expires_at"] > 0
    assert api.balance() == 1000
    stream = api.stream(TEXT, task_id)
    assert stream.frames[-1][1]["status"] == "CANCELED"


def test_a_finished_task_can_expire_and_its_files_go(api: Api) -> None:
    task = api.wait(TEXT, api.create(TEXT, PREVIEW))
    glb = task["model_urls"]["glb"]
    assert api.fetch(glb).status == 200
    api.sandbox.control("POST", "expire", {"task_id": task["id"]})
    expired = api.task(TEXT, task["id"])
    assert expired["status"] == "EXPIRED"
    assert expired["consumed_credits"] == 20
    assert api.fetch(glb).status == 403
    with pytest.raises(Exception, match="400"):
        api.sandbox.control("POST", "cancel", {"task_id": task["id"]})  # ended tasks cannot be canceled


def test_save_pre_remeshed_model_offers_a_real_glb_when_the_model_is_remeshed(api: Api) -> None:
    plain = api.wait(IMAGE, api.create(IMAGE, {"image_url": PNG_URI, "save_pre_remeshed_model": True}))
    assert "pre_remeshed_glb" not in plain["model_urls"]  # Meshy-7.1 does not remesh unless asked
    body = {"image_url": PNG_URI, "save_pre_remeshed_model": True, "should_remesh": True}
    task = api.wait(IMAGE, api.create(IMAGE, body))
    reply = api.fetch(task["model_urls"]["pre_remeshed_glb"])
    assert reply.status == 200 and reply.body[:4] == b"glTF"
