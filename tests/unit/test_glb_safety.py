"""A GLB is checked before Blender's importer sees it: embedded data only, sizes within the file.

Each hostile file is built here in code; the sandbox's real models must pass.
"""

from __future__ import annotations

import base64
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sandbox_assets
from api_samples import glb_from, rewrite_glb

from meshy_blender.api.errors import EXIT_TASK_FAILED, MeshyError
from meshy_blender.api.glb_safety import Limits, RefusedModelError, check_glb_safe

FLOAT, UBYTE = 5126, 5121
TRIANGLE = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
OUTSIDE = "asks Blender to read a file outside it"


def triangle(**changes: Any) -> dict[str, Any]:
    """A valid one-triangle document whose positions are the file's 36-byte binary chunk."""
    document = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [
            {"bufferView": 0, "componentType": FLOAT, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    document.update(changes)
    return document


def write(tmp_path: Path, data: bytes, name: str = "model.glb") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, match: str, limits: Limits | None = None) -> str:
    """The refusal's message, after checking that it matches ``match`` and is printable."""
    with pytest.raises(RefusedModelError, match=match) as caught:
        if limits is None:
            check_glb_safe(path)
        else:
            check_glb_safe(path, limits)
    message = str(caught.value)
    assert message.isprintable() and len(message) < 400, message
    return message


def edited(document: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    edit(document)
    return document


@pytest.mark.parametrize(
    "make",
    [
        lambda: sandbox_assets.textured_glb(pbr=True),
        lambda: sandbox_assets.textured_glb(pbr=False),
        sandbox_assets.rigged_character_glb,
        lambda: sandbox_assets.animation_glb("walking"),
        lambda: sandbox_assets.dense_glb(20_000, 256),
    ],
    ids=["textured", "base-colour-only", "rigged", "animation", "dense"],
)
def test_the_sandboxs_real_models_pass(tmp_path: Path, make: Callable[[], bytes]) -> None:
    check_glb_safe(write(tmp_path, make()))


def test_embedded_data_uris_pass(tmp_path: Path) -> None:
    data_uri = "data:application/octet-stream;base64," + base64.b64encode(TRIANGLE).decode()
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG not really").decode()
    document = triangle(buffers=[{"byteLength": 36, "uri": data_uri}], images=[{"uri": image}])
    check_glb_safe(write(tmp_path, glb_from(document)))


def test_the_refusal_is_a_meshy_error_ending_the_task(tmp_path: Path) -> None:
    path = write(tmp_path, glb_from(triangle(images=[{"uri": "/etc/passwd"}]), TRIANGLE))
    with pytest.raises(MeshyError) as caught:
        check_glb_safe(path)
    assert caught.value.exit_code == EXIT_TASK_FAILED
    assert str(caught.value) == (
        "The model file 'model.glb' was not imported: "
        "it asks Blender to read a file outside it (images[0].uri = '/etc/passwd')."
    )


@pytest.mark.parametrize(
    ("key", "uri"),
    [
        ("images", "/etc/passwd"),
        ("images", "../../.config/blender/extensions/meshy/credentials.json"),
        ("images", "texture.png"),  # even beside the model: a downloaded GLB has nothing beside it
        ("images", "file:///etc/passwd"),
        ("images", "data:,/../../../etc/passwd"),  # Blender reads a data: URI without ;base64, as a path
        ("images", "DATA:image/png;base64,AAAA"),  # Blender's test is case-sensitive
        ("images", ""),
        ("buffers", "/proc/self/environ"),
        ("buffers", "/dev/zero"),
        ("buffers", "C:\\Users\\me\\secret.txt"),
    ],
)
def test_a_uri_naming_a_file_is_refused(tmp_path: Path, key: str, uri: str) -> None:
    item = {"uri": uri} if key == "images" else {"uri": uri, "byteLength": 4}
    document = triangle(**{key: [*triangle().get(key, []), item]})
    index = len(document[key]) - 1
    message = refused(write(tmp_path, glb_from(document, TRIANGLE)), OUTSIDE)
    assert f"{key}[{index}].uri = " in message


def test_a_fifo_named_by_an_image_is_refused_without_opening_it(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    path = write(tmp_path, glb_from(triangle(images=[{"uri": str(fifo)}]), TRIANGLE))
    started = time.monotonic()
    refused(path, OUTSIDE)
    assert time.monotonic() - started < 2


def test_a_model_file_that_is_a_fifo_or_device_is_refused_without_waiting(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "model.glb"
    os.mkfifo(fifo)
    started = time.monotonic()
    refused(fifo, "not a regular file")
    assert time.monotonic() - started < 2
    refused(Path("/dev/zero"), "not a regular file")


@pytest.mark.parametrize(
    "extensions",
    [
        {"EXT_meshopt_compression": {"buffers": [{"uri": "/etc/passwd", "byteLength": 4}]}},
        {"KHR_texture_basisu": {"source": 0, "images": [{"uri": "../secret.ktx2"}]}},
        {"VENDOR_x": {"nested": [{"deeper": {"uri": "/proc/self/environ"}}]}},
    ],
)
def test_a_uri_inside_an_extension_is_refused(tmp_path: Path, extensions: dict[str, Any]) -> None:
    document = triangle(textures=[{"extensions": extensions}])
    message = refused(write(tmp_path, glb_from(document, TRIANGLE)), OUTSIDE)
    assert "textures[0].extensions." in message


def test_an_unreadable_uri_is_shown_short_and_printable(tmp_path: Path) -> None:
    uri = "/etc/\x1b[31mpasswd\u202e" + "A" * 5000
    message = refused(write(tmp_path, glb_from(triangle(images=[{"uri": uri}]), TRIANGLE)), OUTSIDE)
    assert "\x1b" not in message and "\u202e" not in message and "AAAA'…" in message


def test_a_400_million_vertex_accessor_in_a_1_kb_file_is_refused(tmp_path: Path) -> None:
    def huge(document: dict[str, Any]) -> None:
        del document["accessors"][0]["bufferView"]  # zeros of the declared size, no data needed
        document["accessors"][0]["count"] = 400_000_000

    path = write(tmp_path, glb_from(edited(triangle(), huge), TRIANGLE))
    assert path.stat().st_size < 1024
    refused(path, r"declares 4\.5 GB of geometry and animation data, more than its \d+ bytes file can hold")


def test_an_accessor_larger_than_its_buffer_view_is_refused(tmp_path: Path) -> None:
    def huge(document: dict[str, Any]) -> None:
        document["accessors"][0]["count"] = 400_000_000

    refused(
        write(tmp_path, glb_from(edited(triangle(), huge), TRIANGLE)),
        r"accessors\[0\] needs 4800000000 bytes of bufferViews\[0\], which has 36",
    )


def test_one_accessor_used_by_many_primitives_counts_each_use(tmp_path: Path) -> None:
    """Blender joins a mesh's primitives: 1000 uses of 64 KB of positions make 64 MB."""
    count = 5461
    document = triangle(
        buffers=[{"byteLength": 12 * count}],
        bufferViews=[{"buffer": 0, "byteLength": 12 * count}],
        meshes=[{"primitives": [{"attributes": {"POSITION": 0}}] * 1000}],
    )
    document["accessors"][0]["count"] = count
    path = write(tmp_path, glb_from(document, bytes(12 * count)))
    refused(path, r"declares 62\.\d MB of geometry and animation data, more than its \d+\.\d KB file can hold")
    check_glb_safe(path, Limits(max_declared_ratio=1000))


def test_a_buffer_view_past_its_buffer_is_refused(tmp_path: Path) -> None:
    document = triangle(bufferViews=[{"buffer": 0, "byteOffset": 8, "byteLength": 36}])
    refused(
        write(tmp_path, glb_from(document, TRIANGLE)),
        r"bufferViews\[0\] \(bytes 8 to 44\) runs past buffers\[0\] \(36 bytes\)",
    )


def test_a_buffer_longer_than_the_binary_chunk_is_refused(tmp_path: Path) -> None:
    document = triangle(buffers=[{"byteLength": 1_000_000}])
    refused(
        write(tmp_path, glb_from(document, TRIANGLE)),
        r"buffers\[0\] declares 1000000 bytes but the file's binary chunk holds 36",
    )


def test_a_buffer_longer_than_its_data_uri_is_refused(tmp_path: Path) -> None:
    data_uri = "data:application/octet-stream;base64," + base64.b64encode(TRIANGLE).decode()
    document = triangle(buffers=[{"byteLength": 100, "uri": data_uri}])
    refused(write(tmp_path, glb_from(document)), r"buffers\[0\] declares 100 bytes but its data: URI holds 36")


def test_a_buffer_without_data_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, glb_from(triangle())), r"buffers\[0\] has no data in the file")
    document = triangle(buffers=[{"byteLength": 36}, {"byteLength": 36}])
    refused(write(tmp_path, glb_from(document, TRIANGLE)), r"buffers\[1\] has no data in the file")


def test_a_data_uri_that_is_not_base64_is_refused(tmp_path: Path) -> None:
    document = triangle(images=[{"uri": "data:image/png;base64,not base64!"}])
    refused(write(tmp_path, glb_from(document, TRIANGLE)), r"data: URI at images\[0\]\.uri is not valid base64")


def test_a_sparse_accessor_must_fit_its_views(tmp_path: Path) -> None:
    def sparse(document: dict[str, Any]) -> None:
        document["accessors"][0]["sparse"] = {
            "count": 3,
            "indices": {"bufferView": 0, "componentType": 5125, "byteOffset": 32},
            "values": {"bufferView": 0},
        }

    refused(
        write(tmp_path, glb_from(edited(triangle(), sparse), TRIANGLE)),
        r"accessors\[0\]\.sparse\.indices needs 44 bytes of bufferViews\[0\], which has 36",
    )


@pytest.mark.parametrize(("length", "fits"), [(11, False), (12, True)])
def test_matrix_columns_are_padded_to_four_bytes(tmp_path: Path, length: int, fits: bool) -> None:
    """glTF 2.0, Data Alignment: a MAT3 of bytes takes 12 bytes, not 9."""
    document = triangle(
        bufferViews=[{"buffer": 0, "byteLength": 36}, {"buffer": 0, "byteLength": length}],
        accessors=[*triangle()["accessors"], {"bufferView": 1, "componentType": UBYTE, "count": 1, "type": "MAT3"}],
    )
    path = write(tmp_path, glb_from(document, TRIANGLE))
    if fits:
        check_glb_safe(path)
    else:
        refused(path, r"accessors\[1\] needs 12 bytes")


def test_the_byte_stride_counts(tmp_path: Path) -> None:
    """Three VEC3 at a stride of 16 need 2 * 16 + 12 = 44 bytes: more than the 36 there are."""
    document = triangle(bufferViews=[{"buffer": 0, "byteLength": 36, "byteStride": 16}])
    refused(write(tmp_path, glb_from(document, TRIANGLE)), r"accessors\[0\] needs 44 bytes")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b'{"asset": {"version": "2.0"}, "x": NaN}', "contains NaN"),
        (b'{"asset": {"version": "2.0"}, "x": -Infinity}', "contains -Infinity"),
        (b'{"asset": {"version": "2.0"}, "x": 1e400}', "number too large"),
        (b'{"asset": {"version": "2.0"}, "x": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"asset": ', "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested too deeply"),
        (b'{"x": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}", "nested more than 64 levels deep"),
    ],
    ids=["nan", "infinity", "1e400", "huge-int", "cut", "not-utf8", "array", "10000-deep", "100-deep"],
)
def test_unusable_json_is_refused_in_words(tmp_path: Path, text: bytes, match: str) -> None:
    refused(write(tmp_path, glb_from(text)), match)


def test_a_node_loop_is_refused(tmp_path: Path) -> None:
    document = triangle(nodes=[{"mesh": 0}, {"children": [2]}, {"children": [1]}])
    refused(write(tmp_path, glb_from(document, TRIANGLE)), "node hierarchy has a loop")
    document = triangle(nodes=[{"mesh": 0, "children": [1]}, {}, {"children": [1]}])
    refused(write(tmp_path, glb_from(document, TRIANGLE)), r"nodes\[1\] has more than one parent")


def test_counts_beyond_the_limits_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, glb_from(triangle(nodes=[{"mesh": 0}] + [{}] * 20), TRIANGLE))
    refused(path, "nodes has 21 entries, more than the limit of 20", Limits(max_items=20))
    refused(path, "more than 10 objects", Limits(max_objects=10))


def test_a_description_or_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, sandbox_assets.textured_glb())
    refused(path, r"its description is 1\.\d KB, more than the limit of 1\.0 KB", Limits(max_json_bytes=1024))
    refused(path, r"it is 41\.\d KB, more than the limit of 40\.0 KB", Limits(max_file_bytes=40 * 1024))


def test_truncated_or_overlong_chunks_are_refused(tmp_path: Path) -> None:
    good = glb_from(triangle(), TRIANGLE)
    json_length = struct.unpack_from("<I", good, 12)[0]

    long_json = bytearray(good)
    struct.pack_into("<I", long_json, 12, len(good))
    refused(write(tmp_path, bytes(long_json)), r"its JSON chunk \(\d+ bytes\) runs past the end of the file")

    long_bin = bytearray(good)
    struct.pack_into("<I", long_bin, 20 + json_length, 1 << 30)
    refused(write(tmp_path, bytes(long_bin)), r"its second chunk \(1073741824 bytes\) runs past the end")

    cut = bytearray(good[: 20 + json_length + 4])
    struct.pack_into("<I", cut, 8, len(cut))
    refused(write(tmp_path, bytes(cut)), "ends inside a chunk header")

    refused(write(tmp_path, good[:-4]), "header says")
    refused(write(tmp_path, b"<html>Access denied</html>"), "not a GLB model")


def test_rewriting_a_real_model_keeps_it_valid(tmp_path: Path) -> None:
    """The helper the hostile cases are made with changes only what the edit changes."""
    check_glb_safe(write(tmp_path, rewrite_glb(sandbox_assets.rigged_character_glb(), lambda document: None)))


def test_a_model_changed_after_it_was_checked_is_checked_again(tmp_path: Path) -> None:
    """The import's check remembers a file found safe (the worker checks it after the download), not its name."""
    embedded = "data:image/png;base64," + base64.b64encode(b"\x89PNG not really").decode()
    outside = "/" * (len(embedded) - len("etc/passwd")) + "etc/passwd"  # as long: the files are the same size
    safe = glb_from(triangle(images=[{"uri": embedded}]), TRIANGLE)
    hostile = glb_from(triangle(images=[{"uri": outside}]), TRIANGLE)
    assert len(safe) == len(hostile)
    path = write(tmp_path, safe)
    check_glb_safe(path)

    os.replace(write(tmp_path, hostile, "incoming.glb"), path)  # another file under the same name
    refused(path, OUTSIDE)

    path.write_bytes(safe)
    check_glb_safe(path)
    checked = os.stat(path)
    deadline = time.monotonic() + 5
    while os.stat(path).st_ctime_ns == checked.st_ctime_ns and time.monotonic() < deadline:  # times move in ticks
        path.write_bytes(hostile)  # the same file (inode), rewritten in place, as long as it was
    assert os.stat(path).st_ino == checked.st_ino
    refused(path, OUTSIDE)
