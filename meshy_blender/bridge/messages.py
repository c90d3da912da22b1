"""What the bridge's server hands to Blender's side, its port and the version it reports.

Kept apart from :mod:`.server` (``http.server``, ``socketserver``, ``html``…) so that
enabling the add-on, which shows the bridge's settings and status, does not load the
server: it is imported when the bridge starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import DEFAULT_PORT

__all__ = ["DEFAULT_PORT", "ImportRequest", "ReceivedModel", "addon_version"]


@dataclass(frozen=True)
class ImportRequest:
    """An import the web app asked for, accepted and waiting for its download."""

    id: str
    name: str
    url: str = field(repr=False)  # signed link: kept out of logs and reprs
    #: The web app's ``format``: "glb", "fbx" (animated models), or "" (judged by the file).
    format: str = ""
    #: The web app's ``frameRate``: the frame rate the model's animation was made at; 0 when not sent.
    frame_rate: float = 0.0


@dataclass(frozen=True)
class ReceivedModel:
    """A downloaded, verified model ready to be imported."""

    id: str
    name: str
    path: Path
    note: str = ""
    frame_rate: float = 0.0


def addon_version() -> str:
    """The add-on's version from ``blender_manifest.toml`` (in the extension, or beside the package in a
    checkout), else from the installed distribution's metadata (``pip install``; the versions agree)."""
    import tomllib  # not at enable: the version is asked for by the bridge's answers and a diagnostics report

    package = Path(__file__).resolve().parent.parent
    for folder in (package, package.parent):
        try:
            with (folder / "blender_manifest.toml").open("rb") as file:
                return str(tomllib.load(file).get("version", "unknown"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
    import importlib.metadata  # 8 ms, and only a pip install needs it: not at every Blender start

    try:
        return importlib.metadata.version("meshy-blender")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
