"""What the bridge accepts: which pages may talk to it, and which files it may fetch.

The bridge listens on this computer, so every web page the user opens can reach it.
Three checks keep it for Meshy's web app only:

* ``Host`` must name the bridge itself (``127.0.0.1:<port>`` or ``localhost:<port>``). A
  page on ``evil.com`` whose DNS later points at 127.0.0.1 (DNS rebinding) sends
  ``Host: evil.com`` and is refused, whatever its Origin.
* ``Origin`` is checked on every request, not only on the CORS preflight: a page can send
  a simple POST to localhost without any preflight. Only Meshy's web origins may import;
  a request without ``Origin`` (a local tool, not a browser page) may only ask for status.
* The file URL must be HTTPS on a Meshy asset host (see :data:`ASSET_DOMAIN`), so the
  bridge can't be used to fetch from the local network or any other site.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ..api.errors import EXIT_BAD_INPUT, MeshyError
from ..api.untrusted import loads_json
from ..api.urls import is_loopback_host

#: The Meshy web app's origins: the only pages that may send models to the bridge.
MESHY_WEB_ORIGINS: tuple[str, ...] = ("https://www.meshy.ai", "https://meshy.ai", "https://app.meshy.ai")

#: Files are fetched only from hosts *under* this domain: Meshy's documented asset host is
#: ``assets.meshy.ai``, and its signed links may come from other Meshy subdomains. Matching
#: is by whole DNS labels on the lower-case ASCII host, so ``evilmeshy.ai``,
#: ``assets.meshy.ai.evil.com``, the bare ``meshy.ai`` and look-alike Unicode hosts are refused.
ASSET_DOMAIN = "meshy.ai"

STATUS_PATHS = frozenset({"/status", "/ping"})
IMPORT_PATH = "/import"
MAX_URL_CHARS = 4096
MAX_NAME_CHARS = 64
DEFAULT_NAME = "Meshy model"
#: The ``format`` values the web app sends that the bridge imports ("" when it sends none).
FORMATS = ("glb", "fbx")
MAX_FRAME_RATE = 1000

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ASSET_HOST = re.compile(rf"(?:{_LABEL}\.)+{re.escape(ASSET_DOMAIN)}")


class PolicyError(MeshyError):
    """A request or URL the bridge refuses; ``status`` is the HTTP status to answer with."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message, status=status)


def check_host(host_header: str | None, port: int) -> None:
    """Refuse a request whose ``Host`` is not this bridge (DNS rebinding)."""
    names = ("127.0.0.1", "localhost")
    allowed = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())
    if (host_header or "").strip().lower() not in allowed:
        raise PolicyError("Requests must be addressed to 127.0.0.1 or localhost with the bridge's port.")


def check_origin(origin: str | None, method: str, path: str, allowed_origins: Collection[str]) -> None:
    """Refuse a request from a page that is not Meshy's web app.

    Without ``Origin`` (not sent by a browser page) only ``GET /status`` and ``/ping`` pass.
    """
    if origin is None:
        if method == "GET" and path in STATUS_PATHS:
            return
        raise PolicyError("Only Meshy's web app may use the bridge (the request has no Origin).")
    if origin not in allowed_origins:
        raise PolicyError("Only Meshy's web app may use the bridge; this page's origin is not allowed.")


def is_json_content_type(value: str | None) -> bool:
    return (value or "").split(";", 1)[0].strip().lower() == "application/json"


def check_download_url(url: str, *, allow_loopback: bool = False) -> str:
    """``url`` unchanged if the bridge may fetch it, else PolicyError (status 400).

    HTTPS on the default port under :data:`ASSET_DOMAIN`, with no user name or password in
    the address. ``allow_loopback`` (tests only) also admits http(s) to this computer.
    """
    if not url or len(url) > MAX_URL_CHARS or not all(33 <= ord(ch) < 127 for ch in url):
        raise PolicyError(
            "The model URL is empty, too long, or contains spaces, control or non-ASCII characters.", status=400
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise PolicyError("The model URL is not a valid web address.", status=400) from None
    if "@" in parts.netloc:
        raise PolicyError("The model URL must not contain a user name or password.", status=400)
    if allow_loopback and parts.scheme in ("http", "https") and is_loopback_host(host):
        return url
    if parts.scheme != "https":
        raise PolicyError("The model URL must use https://.", status=400)
    if port not in (None, 443):
        raise PolicyError("The model URL must use the standard HTTPS port.", status=400)
    if not _ASSET_HOST.fullmatch(host):
        raise PolicyError(f"The model URL is not on a Meshy asset host (*.{ASSET_DOMAIN}): {host!r}.", status=400)
    return url


def sanitize_name(name: object) -> str:
    """A short, single-line display name: no path separators, control or format characters."""
    text = unicodedata.normalize("NFC", name) if isinstance(name, str) else ""
    text = "".join("_" if ch in "/\\" else ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split()).lstrip(". ")[:MAX_NAME_CHARS].rstrip()
    return text or DEFAULT_NAME


class ImportFields(NamedTuple):
    """The fields of the web app's "Send to Blender" body ``{url, format, name, frameRate}``."""

    url: str
    name: str
    format: str = ""
    frame_rate: float = 0.0


def _format(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else str(value)
    if value is not None and text not in ("", *FORMATS):
        raise PolicyError(f"The bridge imports GLB and FBX models; 'format' was {str(value)[:16]!r}.", status=400)
    return "" if value is None else text


def _frame_rate(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_FRAME_RATE:
        raise PolicyError(f"'frameRate' must be a number of frames per second from 1 to {MAX_FRAME_RATE}.", status=400)
    return float(value)


def parse_import(body: bytes) -> ImportFields:
    """The fields of the JSON body of ``POST /import``; PolicyError (400) if malformed.

    The web app sends ``{url, format, name, frameRate}`` (Meshy's Unity and Godot bridges
    read the same); other fields are ignored. ``name`` is sanitised, ``url`` is not yet
    checked (see :func:`check_download_url`), ``format`` is "glb", "fbx" or "" (not sent:
    the file decides), ``frameRate`` 0 when not sent.
    """
    try:
        data: Any = loads_json(body)  # nesting deep enough to exhaust the stack is refused, not a crash
    except ValueError:
        raise PolicyError("The request body is not valid JSON.", status=400) from None
    if not isinstance(data, dict):
        raise PolicyError("The request body must be a JSON object with a 'url'.", status=400)
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise PolicyError("The request has no 'url' of the model to import.", status=400)
    return ImportFields(
        url.strip(), sanitize_name(data.get("name")), _format(data.get("format")), _frame_rate(data.get("frameRate"))
    )
