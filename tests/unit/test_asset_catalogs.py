"""The catalog file beside a .blend (``blender_assets.cats.txt``): Meshy's catalogs merged into the artist's."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from meshy_blender.blender.scene.catalogs import (
    CATALOG_FILE,
    catalog_path,
    catalog_uuid,
    known_catalogs,
    read_catalogs,
    write_catalogs,
)

USERS_FILE = """# This is an Asset Catalog Definition file for Blender.
VERSION 1

0b4e6e3c-92f3-4a54-9a1e-8d0c8c1c2a11:Props/Furniture:Props-Furniture
"""


def test_catalogs_by_kind_have_the_same_uuid_everywhere() -> None:
    assert catalog_path("text-to-3d") == "Meshy/Text to 3D"
    assert catalog_path("rigging") == "Meshy/Rigged"
    assert catalog_path("animation") == "Meshy/Animated"
    assert catalog_path("retexture") == "Meshy/Retextured"
    assert catalog_path("something-new") == "Meshy/Other"
    assert catalog_uuid("Meshy/Rigged") == "054c2611-bc83-526d-9dbc-21655bb9420d"  # fixed forever: files rely on it
    assert catalog_uuid("Meshy/Rigged") != catalog_uuid("Meshy/Animated")


def test_concept_pictures_have_no_catalog_since_they_never_become_assets() -> None:
    paths = set(known_catalogs().values())
    assert {"Meshy", "Meshy/Text to 3D", "Meshy/Image to 3D", "Meshy/Rigged", "Meshy/Other"} <= paths
    assert not [path for path in paths if "image" in path.lower() and "to 3d" not in path.lower()], paths


def test_a_new_file_defines_the_catalogs_and_their_parent(tmp_path: Path) -> None:
    write_catalogs(tmp_path, ["Meshy/Text to 3D"])

    text = (tmp_path / CATALOG_FILE).read_text(encoding="utf-8")
    assert "\nVERSION 1\n" in text
    assert f"{catalog_uuid('Meshy/Text to 3D')}:Meshy/Text to 3D:Meshy-Text to 3D\n" in text
    assert read_catalogs(tmp_path) == {
        catalog_uuid("Meshy"): "Meshy",
        catalog_uuid("Meshy/Text to 3D"): "Meshy/Text to 3D",
    }


def test_the_artists_catalogs_and_renames_are_kept(tmp_path: Path) -> None:
    renamed = f"{catalog_uuid('Meshy/Rigged')}:Characters/Rigs:Characters-Rigs\n"
    (tmp_path / CATALOG_FILE).write_text(USERS_FILE + renamed, encoding="utf-8")

    write_catalogs(tmp_path, ["Meshy/Rigged", "Meshy/Animated"])

    text = (tmp_path / CATALOG_FILE).read_text(encoding="utf-8")
    assert text.startswith(USERS_FILE + renamed)  # untouched, in place
    assert read_catalogs(tmp_path)[catalog_uuid("Meshy/Rigged")] == "Characters/Rigs"  # not redefined
    assert read_catalogs(tmp_path)[catalog_uuid("Meshy/Animated")] == "Meshy/Animated"
    before = (tmp_path / CATALOG_FILE).stat()
    write_catalogs(tmp_path, ["Meshy/Animated"])  # nothing missing: the file is not rewritten
    assert (tmp_path / CATALOG_FILE).stat().st_ino == before.st_ino


def test_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    kinds = ["text-to-3d", "image-to-3d", "multi-image-to-3d", "rigging", "animation", "retexture", "remesh", "bridge"]
    threads = [threading.Thread(target=write_catalogs, args=(tmp_path, [catalog_path(kind)])) for kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert set(read_catalogs(tmp_path).values()) == {"Meshy", *(catalog_path(kind) for kind in kinds)}


def test_a_folder_without_hard_links_still_gets_its_catalog_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAT drives and some network shares refuse ``os.link``: the file is then written under the lock."""

    def no_hard_links(source: object, target: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    write_catalogs(tmp_path, ["Meshy/Rigged"])
    assert set(read_catalogs(tmp_path).values()) == {"Meshy", "Meshy/Rigged"}
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []
