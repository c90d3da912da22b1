"""Download what the web app sent: a GLB or an FBX as it is, or the model inside a ZIP.

The download itself is the API layer's (streamed to a temporary file, size-capped,
moved into place when complete). The session here applies the bridge's URL policy to
every request it sends, redirects included, so a Meshy link that redirects elsewhere is
refused rather than followed.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import requests

from ..api.download import download_file
from ..api.errors import DownloadError
from ..api.glb_safety import DEFAULT_MAX_BYTES, check_glb, check_glb_safe
from ..api.http import RetryPolicy, Transport
from .archive import MODEL_NAME, ExtractedModel, Limits, extract_model
from .policy import check_download_url

GLB_MAGIC = b"glTF"
ZIP_MAGIC = b"PK\x03\x04"
#: A binary FBX starts with this; an ASCII one with a ``;`` comment line.
FBX_MAGIC = b"Kaydara FBX Binary"
FBX_NAME = "model.fbx"
DOWNLOAD_NAME = "download.bin"
TIMEOUT: tuple[float, float] = (10.0, 30.0)


class PolicySession(requests.Session):
    """A session that sends nothing the bridge's URL policy refuses (checked per redirect hop)."""

    def __init__(self, *, allow_loopback: bool) -> None:
        super().__init__()
        self.allow_loopback = allow_loopback

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        check_download_url(request.url or "", allow_loopback=self.allow_loopback)
        return super().send(request, **kwargs)


def make_transport(*, allow_loopback: bool) -> Transport:
    """A transport for unauthenticated downloads of signed asset links (no API key needed)."""
    return Transport(
        PolicySession(allow_loopback=allow_loopback), api_key="", timeout=TIMEOUT, retry=RetryPolicy(), listeners=[]
    )


def _is_fbx(head: bytes) -> bool:
    return head.startswith(FBX_MAGIC) or head.lstrip().startswith(b"; FBX")


def fetch_model(
    transport: Transport,
    url: str,
    dest_dir: Path,
    model_format: str = "",
    *,
    cancel: threading.Event | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
) -> ExtractedModel:
    """Download ``url`` into ``dest_dir`` and leave a verified model there: ``model.glb``, ``model.fbx``,
    or an FBX with its textures under ``archive/`` (from a ZIP).

    Verified: a GLB must be complete and one Blender may import (``api.glb_safety``); an
    FBX is judged by its first bytes, and what it may read is bounded at import. The
    web app's ``model_format`` ("glb", "fbx" or "") chooses in a ZIP holding both. On
    any failure ``dest_dir`` is removed and the error (a MeshyError) raised.
    """
    try:
        download = download_file(
            transport, url, dest_dir / DOWNLOAD_NAME, cancel=cancel, max_bytes=max_bytes, expect_glb=False
        )
        with download.open("rb") as file:
            head = file.read(len(FBX_MAGIC))
        if head.startswith(GLB_MAGIC):
            check_glb(download)
            model = ExtractedModel(download.replace(dest_dir / MODEL_NAME))
        elif head.startswith(ZIP_MAGIC):
            model = extract_model(download, dest_dir, limits, model_format or "glb")
            download.unlink()
        elif _is_fbx(head):
            return ExtractedModel(download.replace(dest_dir / FBX_NAME))
        else:
            raise DownloadError("The file sent by Meshy is not a GLB or FBX model, nor a ZIP archive of one.")
        if model.path.suffix.lower() == ".glb":
            check_glb_safe(model.path)  # refused here, with its reason, before it becomes a job
        return model
    except OSError as error:
        shutil.rmtree(dest_dir, ignore_errors=True)
        raise DownloadError(f"Could not save the model: {error}") from error
    except BaseException:
        shutil.rmtree(dest_dir, ignore_errors=True)
        raise
