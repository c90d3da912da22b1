"""The shipped extension: built and validated by Blender's own tool, installed from its zip, working.

The built zip is installed into a fresh user repository of the running Blender the way a
user's "Install from Disk" does, enabled, and used through the installed copy's modules
(``bl_ext.<repo>.meshy_blender``) to generate a model against the sandbox.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import addon_utils
import bpy
import build_extension
import make_icons
import pytest

if TYPE_CHECKING:
    from sandbox_control import Sandbox

REPO_MODULE = "meshy_build_test"
EXTENSION = f"bl_ext.{REPO_MODULE}.meshy_blender"
RUN_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_extension.build(tmp_path_factory.mktemp("dist"))


def _preferences() -> bpy.types.Preferences:
    preferences = bpy.context.preferences
    assert preferences is not None
    return preferences


def _other_copies() -> list[str]:
    """Enabled add-ons that are this project too (another repository, or the package itself)."""
    return [addon.module for addon in _preferences().addons if addon.module.rsplit(".", 1)[-1] == "meshy_blender"]


def _raise(error: Exception) -> None:
    raise error


@pytest.fixture
def installed(built: Path, tmp_path: Path) -> Iterator[Path]:
    """The built zip installed and enabled in a new user repository; everything undone afterwards.

    The add-on's user data (ledger, downloads) goes to a temporary directory. Other enabled
    copies of the add-on are disabled meanwhile (two copies would register the same classes
    and scene properties) and enabled again at the end.
    """
    others = _other_copies()
    for name in others:
        addon_utils.disable(name, default_set=True)
    repo_dir = tmp_path / "repo"
    repos = _preferences().extensions.repos
    repo = repos.new(name="Meshy build test", module=REPO_MODULE, custom_directory=str(repo_dir), source="USER")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BLENDER_USER_EXTENSIONS", str(tmp_path / "user_extensions"))
            result = bpy.ops.extensions.package_install_files(
                filepath=str(built), repo=REPO_MODULE, enable_on_install=False
            )
            assert result == {"FINISHED"}
            try:
                addon_utils.enable(EXTENSION, default_set=True, handle_error=_raise)
                yield repo_dir
            finally:
                addon_utils.disable(EXTENSION, default_set=True)
    finally:
        repos.remove(repo)
        for name in [name for name in sys.modules if name.startswith(f"bl_ext.{REPO_MODULE}")]:
            del sys.modules[name]
        for name in others:
            addon_utils.enable(name, default_set=True, handle_error=_raise)


def _installed_module(name: str) -> ModuleType:
    return importlib.import_module(f"{EXTENSION}.{name}")


def test_build_writes_a_valid_extension_zip_with_the_package_at_its_root(built: Path) -> None:
    manifest = build_extension.manifest()
    assert built.name == f"meshy_blender-{manifest['version']}.zip"
    assert "Success" in build_extension.run_tool("validate", built)
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
    assert {"blender_manifest.toml", "__init__.py", "api/client.py", "blender/registration.py"} <= set(names)
    # The package's files (sources, data, icons) and the manifest only: no caches, tests or packaging metadata.
    package = build_extension.PACKAGE_DIR
    files = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert {name for name in names if not name.endswith("/")} == files | {"blender_manifest.toml"}


def test_the_zip_carries_every_icon_as_svg_source_and_png(built: Path) -> None:
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
        for name in make_icons.ICONS:
            assert {f"icons/{name}.svg", f"icons/{name}.png"} <= names
            assert archive.read(f"icons/{name}.png").startswith(b"\x89PNG")


def test_build_lists_the_zip_in_a_static_extension_repository(built: Path) -> None:
    manifest = build_extension.manifest()
    index = json.loads((built.parent / "index.json").read_text())
    [entry] = [item for item in index["data"] if item["id"] == manifest["id"]]
    assert entry["version"] == manifest["version"]
    assert entry["archive_url"] == f"./{built.name}"
    assert entry["archive_size"] == built.stat().st_size
    assert entry["archive_hash"] == "sha256:" + hashlib.sha256(built.read_bytes()).hexdigest()
    assert set(entry["permissions"]) == {"network", "files"}


def test_rebuild_replaces_earlier_builds_so_the_repository_offers_one_version(built: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(built, dist / "meshy_blender-0.0.1.zip")

    archive = build_extension.build(dist)

    assert [path.name for path in dist.glob("*.zip")] == [archive.name]
    index = json.loads((dist / "index.json").read_text())
    assert [(item["id"], item["archive_url"]) for item in index["data"]] == [("meshy_blender", f"./{archive.name}")]


def test_failed_build_says_why_and_leaves_the_repository_as_it_was(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = shutil.copytree(built.parent, tmp_path / "dist")
    before = {path.name: path.read_bytes() for path in dist.iterdir()}
    broken = tmp_path / "blender_manifest.toml"
    broken.write_text(build_extension.MANIFEST.read_text().replace('type = "add-on"', 'type = "plugin"'))
    monkeypatch.setattr(build_extension, "MANIFEST", broken)

    assert build_extension.main(["--out-dir", str(dist)]) == 1

    assert "blender_ext build failed" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in dist.iterdir()} == before


def test_installed_extension_generates_a_model_into_the_scene(
    installed: Path, sandbox: Sandbox, test_key: str, tmp_path: Path, empty_scene: bpy.types.Scene
) -> None:
    session = _installed_module("blender.session")
    plans = _installed_module("jobs.plans")
    pump = _installed_module("blender.pump")
    assert Path(str(session.__file__)).is_relative_to(installed)

    manager = session.configure(session.Config(api_key=test_key, base_url=sandbox.url, download_dir=tmp_path / "dl"))
    job = manager.submit(plans.text_job("a wooden chair"))
    assert pump.run_until(lambda: manager.all_final([job.id]), timeout=RUN_TIMEOUT_S)

    assert manager.get(job.id).state.value == "imported", manager.get(job.id).message
    meshes = [obj for obj in empty_scene.objects if obj.type == "MESH"]
    assert meshes
    assert all(obj.get("meshy_job_id") == job.id for obj in meshes)
