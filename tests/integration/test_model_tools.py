"""UV unwrap, resize and convert: the client against the sandbox over real HTTP, and the sandbox's real files."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_assets
from api_samples import sandbox_client
from sandbox_control import Sandbox

from meshy_blender.api import MeshyClient, TaskKind, ValidationError, estimate_credits
from meshy_blender.api.glb_faces import count_faces, glb_description, read_description

TASK_SECONDS = 0.2


@pytest.fixture
def client(sandbox: Sandbox, paid_key: str) -> Iterator[MeshyClient]:
    sandbox.configure(task_seconds=TASK_SECONDS)
    with sandbox_client(sandbox.url, paid_key) as result:
        yield result


def _finished_model(client: MeshyClient) -> str:
    preview = client.text_to_3d_preview("a vase")
    client.wait_for_task(TaskKind.TEXT_TO_3D, preview, poll_interval=0.05)
    return preview


def _bounds(document: dict, kind: str = "POSITION") -> tuple[list[float], list[float]]:
    primitive = document["meshes"][0]["primitives"][0]
    accessor = document["accessors"][primitive["attributes"][kind]]
    return accessor["min"], accessor["max"]


def test_uv_unwrap_of_a_task_gives_an_untextured_glb_with_uvs(client: MeshyClient, tmp_path: Path) -> None:
    before = client.balance()
    task_id = client.uv_unwrap(input_task_id=_finished_model(client))
    task = client.wait_for_task(TaskKind.UV_UNWRAP, task_id, poll_interval=0.05)
    glb = client.download(task.glb_url, tmp_path / "unwrapped.glb")
    document = read_description(glb)
    primitive = document["meshes"][0]["primitives"][0]
    assert "TEXCOORD_0" in primitive["attributes"]
    material = document["materials"][primitive["material"]]
    assert "normalTexture" not in material and "metallicRoughnessTexture" not in material
    preview_cost = estimate_credits(TaskKind.TEXT_TO_3D, {"mode": "preview"})
    assert before - client.balance() == preview_cost + estimate_credits(TaskKind.UV_UNWRAP, {}) == preview_cost + 5


def test_uv_unwrap_over_the_limit_is_refused_with_the_count_before_sending(
    client: MeshyClient, sandbox: Sandbox
) -> None:
    dense = sandbox_assets.dense_glb(50_000, 16)
    faces = count_faces(glb_description(dense))
    assert faces > 40_000
    with pytest.raises(ValidationError, match=f"{faces:,} faces"):
        client.uv_unwrap(model=dense)
    assert sandbox.creates() == []


def test_the_sandbox_counts_faces_of_an_uploaded_glb_as_meshy_does(sandbox: Sandbox, paid_key: str) -> None:
    import base64
    import urllib.request

    dense = sandbox_assets.dense_glb(50_000, 16)
    body = json.dumps({"model_url": "data:application/octet-stream;base64," + base64.b64encode(dense).decode()})
    request = urllib.request.Request(
        f"{sandbox.url}/openapi/v1/uv-unwrap",
        data=body.encode(),
        headers={"Authorization": f"Bearer {paid_key}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert "50176 faces" in json.loads(refused.value.read())["message"]


@pytest.mark.parametrize(
    ("options", "measure", "size"),
    [
        ({"resize_height": 1.8, "origin_at": "bottom"}, "height", 1.8),
        ({"resize_longest_side": 0.25, "origin_at": "center"}, "longest", 0.25),
    ],
)
def test_resize_scales_the_model_and_places_its_origin(
    client: MeshyClient, tmp_path: Path, options: dict, measure: str, size: float
) -> None:
    task_id = client.resize(input_task_id=_finished_model(client), **options)
    task = client.wait_for_task(TaskKind.RESIZE, task_id, poll_interval=0.05)
    low, high = _bounds(read_description(client.download(task.glb_url, tmp_path / "resized.glb")))
    sides = [high[axis] - low[axis] for axis in range(3)]
    assert (sides[1] if measure == "height" else max(sides)) == pytest.approx(size, rel=1e-4)
    if options["origin_at"] == "bottom":
        assert low[1] == pytest.approx(0.0, abs=1e-6)
    else:
        assert low[1] == pytest.approx(-high[1], abs=1e-6)


def test_resize_needs_exactly_one_way_to_size(client: MeshyClient, sandbox: Sandbox) -> None:
    with pytest.raises(ValidationError, match="exactly one of"):
        client.resize(input_task_id="abc", resize_height=1.0, auto_size=True)
    with pytest.raises(ValidationError, match="exactly one of"):
        client.resize(input_task_id="abc")
    assert sandbox.creates() == []


def test_convert_gives_real_obj_and_stl_files(client: MeshyClient, tmp_path: Path) -> None:
    task_id = client.convert(["obj", "stl"], input_task_id=_finished_model(client))
    task = client.wait_for_task(TaskKind.CONVERT, task_id, poll_interval=0.05)
    assert set(task.model_urls) == {"obj", "stl"}
    obj = client.download(task.model_urls["obj"], tmp_path / "m.obj", expect_glb=False).read_text()
    faces = [line for line in obj.splitlines() if line.startswith("f ")]
    assert faces and sum(line.startswith("v ") for line in obj.splitlines()) > 100
    stl = client.download(task.model_urls["stl"], tmp_path / "m.stl", expect_glb=False).read_bytes()
    (triangles,) = struct.unpack_from("<I", stl, 80)
    assert triangles == len(faces) and len(stl) == 84 + 50 * triangles


def test_the_sandbox_advertises_only_files_it_writes(client: MeshyClient, sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot produce usdz"):
        client.convert(["usdz"], input_task_id=_finished_model(client))
    preview = client.text_to_3d_preview("a vase", target_formats=["glb", "fbx", "usdz", "obj"])
    task = client.wait_for_task(TaskKind.TEXT_TO_3D, preview, poll_interval=0.05)
    assert set(task.model_urls) == {"glb", "fbx", "obj"}
    obj = client.download(task.model_urls["obj"], tmp_path / "m.obj", expect_glb=False).read_bytes()
    assert obj.startswith(b"# Meshy sandbox") and b"\nf " in obj
    fbx = client.download(task.model_urls["fbx"], tmp_path / "m.fbx", expect_glb=False).read_bytes()
    assert fbx.startswith(b"Kaydara FBX Binary  \x00") and struct.unpack_from("<I", fbx, 23)[0] == 7400
