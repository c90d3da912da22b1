"""Taking the model out of a ZIP sent by the web app: only a clean archive gives a model."""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from meshy_blender.api.errors import DownloadError
from meshy_blender.bridge.archive import MAX_MEMBERS, MODEL_NAME, Limits, extract_glb, extract_model


def glb(padding: int = 0, fill: bytes = b" ", binary: bytes = b"") -> bytes:
    """A minimal valid GLB: its JSON chunk padded by ``padding`` bytes of ``fill``, then ``binary``."""
    text = b'{"asset":{"version":"2.0"}}' + fill * padding
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text
    if binary:
        binary += b"\x00" * (-len(binary) % 4)
        body += struct.pack("<I4s", len(binary), b"BIN\x00") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def make_zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def add_member(path: Path, info: zipfile.ZipInfo, data: bytes) -> None:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(info, data)


def patch_last_entry(path: Path, offset: int, value: int, fmt: str) -> None:
    """Overwrite a field of the archive's last central-directory entry (what readers trust)."""
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, data.rfind(b"PK\x01\x02") + offset, value)
    path.write_bytes(bytes(data))


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "import-1"


def test_the_glb_is_unpacked_as_the_model(tmp_path: Path, dest: Path) -> None:
    model = glb(100)
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": model, "README.txt": b"Made with Meshy"})

    result = extract_glb(archive, dest)

    assert result.path == dest / MODEL_NAME
    assert result.path.read_bytes() == model
    assert result.note == ""
    assert files_in(dest) == [MODEL_NAME], "only the model is written, nothing else from the archive"


def test_a_glb_in_nested_folders_is_found(tmp_path: Path, dest: Path) -> None:
    model = glb(10)
    archive = make_zip(tmp_path / "a.zip", {"export/Meshy/chair/Chair.GLB": model, "export/textures/c.png": b"png"})

    assert extract_glb(archive, dest).path.read_bytes() == model


def test_with_several_glbs_the_largest_is_taken_and_said(tmp_path: Path, dest: Path) -> None:
    big = glb(5000)
    archive = make_zip(tmp_path / "a.zip", {"lod1.glb": glb(10), "full/lod0.glb": big, "lod2.glb": glb(100)})

    result = extract_glb(archive, dest)

    assert result.path.read_bytes() == big
    assert "3 GLB files" in result.note
    assert "full/lod0.glb" in result.note


def test_macos_resource_forks_are_not_models(tmp_path: Path, dest: Path) -> None:
    model = glb()
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": model, "__MACOSX/._chair.glb": b"\x00\x05\x16\x07" * 9000})

    result = extract_glb(archive, dest)

    assert result.path.read_bytes() == model
    assert result.note == ""


def test_an_archive_without_a_glb_or_fbx_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.obj": b"v", "chair.gltf": b"{}", "glb/": b""})

    with pytest.raises(DownloadError, match=r"no \.glb or \.fbx model"):
        extract_glb(archive, dest)
    assert files_in(dest) == []


def test_an_fbx_archive_is_unpacked_whole_and_the_web_apps_format_chooses(tmp_path: Path, dest: Path) -> None:
    files = {"walker/walker.fbx": b"Kaydara FBX Binary", "walker/tex/skin.png": b"png", "preview.glb": b"x"}
    archive = make_zip(tmp_path / "a.zip", files)

    result = extract_model(archive, dest, preferred="fbx")

    assert result.path == dest / "archive" / "walker" / "walker.fbx"
    assert (dest / "archive" / "walker" / "tex" / "skin.png").read_bytes() == b"png"


@pytest.mark.parametrize("name", ["../x.glb", "a/../../x.glb", "..\\x.glb", "models/..\\..\\x.glb"])
def test_paths_leaving_the_folder_reject_the_archive(tmp_path: Path, dest: Path, name: str) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(), name: glb()})

    with pytest.raises(DownloadError, match="leaving its folder"):
        extract_glb(archive, dest)
    assert files_in(dest) == []
    assert not (tmp_path / "x.glb").exists()


@pytest.mark.parametrize("name", ["/tmp/x.glb", "\\x.glb", "C:/x.glb", "c:\\x.glb"])
def test_absolute_paths_reject_the_archive(tmp_path: Path, dest: Path, name: str) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(), name: glb()})

    with pytest.raises(DownloadError, match="absolute path"):
        extract_glb(archive, dest)
    assert files_in(dest) == []


def test_a_symlink_member_rejects_the_archive(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb()})
    link = zipfile.ZipInfo("model.glb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    add_member(archive, link, b"/home/user/.ssh/id_rsa")

    with pytest.raises(DownloadError, match="symbolic link"):
        extract_glb(archive, dest)
    assert files_in(dest) == []


def test_control_characters_in_names_reject_the_archive(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(), "bad\x1b[2Jname.txt": b"x"})

    with pytest.raises(DownloadError, match="control characters"):
        extract_glb(archive, dest)


def test_an_encrypted_member_rejects_the_archive(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"readme.txt": b"x", "chair.glb": glb()})
    patch_last_entry(archive, 8, 0x1, "<H")  # general purpose flags: bit 0 = encrypted

    with pytest.raises(DownloadError, match="encrypted"):
        extract_glb(archive, dest)


def test_too_many_members_reject_the_archive(tmp_path: Path, dest: Path) -> None:
    members = {f"textures/t{i}.png": b"" for i in range(MAX_MEMBERS)}
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(), **members})

    with pytest.raises(DownloadError, match=f"more than {MAX_MEMBERS} files"):
        extract_glb(archive, dest)


def test_an_archive_unpacking_beyond_the_size_limit_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(3000), "extra.bin": os.urandom(3000)})

    with pytest.raises(DownloadError, match="size limit"):
        extract_glb(archive, dest, Limits(max_total_bytes=5000))
    assert files_in(dest) == []


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path, dest: Path) -> None:
    bomb = glb(8 * 1024 * 1024, fill=b"\x00")  # 8 MiB of zeros deflate about 1000:1
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": bomb})
    assert archive.stat().st_size < 100_000

    with pytest.raises(DownloadError, match="zip bomb"):
        extract_glb(archive, dest)
    assert files_in(dest) == []


def test_a_large_model_that_compresses_normally_passes(tmp_path: Path, dest: Path) -> None:
    textured = glb(binary=os.urandom(2 * 1024 * 1024))  # textures are already compressed: they barely shrink
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": textured})

    assert extract_glb(archive, dest).path.read_bytes() == textured


def test_a_member_bigger_than_declared_is_refused(tmp_path: Path, dest: Path) -> None:
    model = glb(4000)
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": model}, compression=zipfile.ZIP_STORED)
    patch_last_entry(archive, 24, 100, "<I")  # declared uncompressed size: the stored data overruns it

    with pytest.raises(DownloadError):
        extract_glb(archive, dest)
    assert files_in(dest) == []


def test_a_glb_member_that_is_not_a_glb_leaves_nothing(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": b"<html>Access denied</html>"})

    with pytest.raises(DownloadError, match="not a GLB"):
        extract_glb(archive, dest)
    assert files_in(dest) == []


@pytest.mark.parametrize("content", [b"not a zip at all", b""])
def test_a_damaged_archive_is_refused(tmp_path: Path, dest: Path, content: bytes) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(content)

    with pytest.raises(DownloadError, match="damaged"):
        extract_glb(archive, dest)


def test_a_truncated_archive_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"chair.glb": glb(binary=os.urandom(5000))})
    archive.write_bytes(archive.read_bytes()[:2500])

    with pytest.raises(DownloadError, match="damaged"):
        extract_glb(archive, dest)
