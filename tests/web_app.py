"""Playing the Meshy web app in bridge tests: a signed model link, and "Send to Blender".

The link is a real signed asset URL of the sandbox (on 127.0.0.1), so the bridge under
test must allow loopback downloads; everything else is the web app's real request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from typing import Any

from meshy_blender.api.client import MeshyClient
from meshy_blender.api.tasks import TaskKind

ORIGIN = "https://www.meshy.ai"
WAIT_S = 30.0


def sandbox_glb_url(base_url: str, key: str) -> str:
    """The GLB link of a finished text-to-3d preview made on the sandbox."""
    with MeshyClient(key, base_url) as client:
        task_id = client.text_to_3d_preview("a wooden robot")
        task = client.wait_for_task(TaskKind.TEXT_TO_3D, task_id, poll_interval=0.1, timeout=WAIT_S)
    assert task.glb_url
    return task.glb_url


def post_import(port: int, url: str, name: str) -> tuple[int, dict[str, Any]]:
    """The web app's request: a JSON POST to the bridge with Meshy's Origin; the status and JSON reply."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_S)
    try:
        body = json.dumps({"url": url, "name": name})
        connection.request("POST", "/import", body, {"Origin": ORIGIN, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(json.loads(response.read()))
    finally:
        connection.close()


def send_to_blender(port: int, url: str, name: str) -> dict[str, Any]:
    """The web app's "Send to Blender", which the bridge must accept; its reply (with the import's ``id``)."""
    status, reply = post_import(port, url, name)
    assert status == 200, reply
    return reply


def free_port() -> int:
    """A port nothing listens on right now (the system's pick, released again)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def is_listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with contextlib.suppress(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=WAIT_S):
        return True
    return False
