"""Build the add-on as a Blender extension, validate it, and write a static extension repository.

    python scripts/build_extension.py [--out-dir dist]

writes ``dist/<id>-<version>.zip`` (id and version from ``blender_manifest.toml``; earlier
builds are replaced) and ``dist/index.json`` listing the zips in ``dist/``: host that folder and add its
``index.json`` in Blender (Get Extensions > Repositories > Add Remote Repository) to get updates.

The work is done by Blender's own extension tool, ``blender_ext.py`` (what
``blender --command extension build|validate|server-generate`` runs), taken from the pip
``bpy`` wheel without importing bpy. The extension's source is staged first: the package's
contents at the zip's root with the manifest (the icons, ``meshy_blender/icons/``, are part of
the package), without caches or tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "meshy_blender"
MANIFEST = ROOT / "blender_manifest.toml"
DEFAULT_OUT_DIR = ROOT / "dist"
TOOL_IN_BPY = "*/scripts/addons_core/bl_pkg/cli/blender_ext.py"
TOOL_TIMEOUT_S = 120
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")


class BuildError(Exception):
    """The extension could not be built; the message says why."""


def manifest() -> dict[str, object]:
    with MANIFEST.open("rb") as file:
        return tomllib.load(file)


def archive_name() -> str:
    """``<id>-<version>.zip``, the name Blender's tool gives a build by default."""
    data = manifest()
    if not data.get("id") or not data.get("version"):
        raise BuildError(f"{MANIFEST.name} needs an id and a version.")
    return f"{data['id']}-{data['version']}.zip"


def stage_extension(dest: Path) -> Path:
    """Lay out the extension's source in ``dest`` (created) as Blender expects it; return ``dest``.

    The package's contents (its ``icons/`` included) go to the root beside
    ``blender_manifest.toml``; byte-code caches and tests stay out.
    """
    shutil.copytree(PACKAGE_DIR, dest, ignore=LEFT_OUT, dirs_exist_ok=True)
    shutil.copy2(MANIFEST, dest / MANIFEST.name)
    return dest


def find_tool() -> Path:
    """``blender_ext.py`` inside the installed ``bpy`` wheel (found without importing bpy)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise BuildError("The bpy module is not installed: run `make setup` (or pip install -r requirements/dev.txt).")
    bpy_dir = Path(spec.origin).parent
    found = next(bpy_dir.glob(TOOL_IN_BPY), None)
    if found is None:
        raise BuildError(f"Blender's extension tool (blender_ext.py) is missing from {bpy_dir}.")
    return found


def run_tool(*args: str | Path) -> str:
    """Run one command of Blender's extension tool; its output, or BuildError with that output."""
    command = [sys.executable, str(find_tool()), *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as error:
        raise BuildError(f"blender_ext {args[0]} did not finish within {TOOL_TIMEOUT_S} s.") from error
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise BuildError(f"blender_ext {args[0]} failed (exit {done.returncode}):\n{output}")
    return output


def build(out_dir: Path) -> Path:
    """Build, validate and list the extension in ``out_dir``; return the zip's path.

    The zip is built and validated aside first, so a failed build leaves ``out_dir`` as it
    was; a good one replaces earlier builds of this extension there, so the repository
    offers one version: the one Blender should update to.
    """
    name = archive_name()
    with tempfile.TemporaryDirectory(prefix="meshy_extension_") as staging:
        source = stage_extension(Path(staging) / "source")
        built = Path(staging) / name
        run_tool("build", "--source-dir", source, "--output-filepath", built)
        run_tool("validate", built)
        out_dir.mkdir(parents=True, exist_ok=True)
        for earlier in out_dir.glob(f"{manifest()['id']}-*.zip"):
            earlier.unlink()
        archive = Path(shutil.move(built, out_dir / name))
    run_tool("server-generate", "--repo-dir", out_dir)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where the zip and index.json go")
    options = parser.parse_args(argv)
    try:
        archive = build(options.out_dir)
    except (BuildError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"build_extension: {error}", file=sys.stderr)
        return 1
    print(f"built and validated {archive}")
    print(f"extension repository {archive.parent / 'index.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
