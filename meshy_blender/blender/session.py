"""The add-on's one live JobManager, built from a Config.

The GUI builds the Config from the add-on preferences, the headless command from its
options and the environment; both then use the same manager, pump and importer. The
manager is created on first use, not at register time, so enabling the add-on never
touches the network or the disk beyond reading the ledger. The client is built here
only (:func:`make_client`), and only here is its module (with requests and urllib3)
imported: enabling the add-on does not load the HTTP stack. Nor the job layer: the
preferences read this module at enable, so the manager, runner, store and library modules
are imported when the first manager is built.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import api
from ..api.limits import DEFAULT_BASE_URL
from ..lazy_names import first_use

if TYPE_CHECKING:
    from ..api.client import MeshyClient
    from ..jobs.manager import JobManager
    from ..library import Library
    from .config import Config


#: ``session.Config`` is loaded from :mod:`.config` on first use (its dataclass is not needed at enable).
__getattr__ = first_use(__package__ or "", globals(), {"Config": "config"})


def key_from_environment() -> str:
    return os.environ.get("MESHY_API_KEY", "").strip()


def base_url_from_environment() -> str:
    return os.environ.get("MESHY_BASE_URL", "").strip() or DEFAULT_BASE_URL


#: Called with every new client; tests use it to watch which thread talks to the network.
client_hooks: list[Callable[[MeshyClient], None]] = []

_manager: JobManager | None = None
_config: Config | None = None
#: The jobs' client and the key and server address it was made for (see :func:`jobs_client`).
_jobs_client: tuple[tuple[str, str], MeshyClient] | None = None
_jobs_client_lock = threading.Lock()


def make_client(config: Config) -> MeshyClient:
    if not config.api_key:
        raise api.AuthenticationError(
            "No Meshy API key: set it in Preferences › Add-ons › Meshy, or in the MESHY_API_KEY environment variable."
        )
    from ..api.client import MeshyClient

    client = MeshyClient(config.api_key, config.base_url)
    for hook in client_hooks:
        hook(client)
    return client


def jobs_client() -> MeshyClient:
    """The client the manager's jobs and the library's map fetcher share, for the current key and server.

    One client, so one pool of connections: a job's requests reuse those earlier jobs opened
    (a client per job opened two new connections per job: for Meshy, two TLS handshakes and
    certificate loads). A new key or server address gets a new client; jobs that hold the
    previous one finish with it, and it is closed when nothing holds it any more.
    """
    global _jobs_client
    config = _require_config()
    made_for = (config.api_key, config.base_url)
    with _jobs_client_lock:
        if _jobs_client is None or _jobs_client[0] != made_for:
            _jobs_client = (made_for, make_client(config))
        return _jobs_client[1]


def check_online_access() -> None:
    """Raise OfflineError unless Blender allows network access."""
    import bpy

    if not bpy.app.online_access:
        raise api.OfflineError(
            "Blender's online access is off. Enable Preferences › System › Network › Allow Online Access "
            "(or start Blender with --online-mode) to use Meshy."
        )


def configure(config: Config) -> JobManager:
    """Create the manager for ``config``, or point the live one at the new settings."""
    global _manager, _config
    _config = config
    if _manager is not None and _store_folder(_manager) != config.jobs_dir:
        _manager.shutdown()  # another store (a command's output folder): its own manager
        _manager = None
    if _manager is None:
        from ..jobs.manager import JobManager
        from ..jobs.store import JobStore

        store = JobStore(config.jobs_dir, legacy_ledger=config.legacy_ledger) if config.jobs_dir else None
        _manager = JobManager(
            jobs_client,
            download_dir=config.download_dir,
            store=store,
            concurrency=config.concurrency,
            settings=config.settings,
            keep_finished=config.keep_finished,
        )
    else:
        _manager.download_dir = config.download_dir
        _manager.concurrency = config.concurrency
        _manager.settings = config.settings
    if _library_folder(_manager) != config.library_dir:
        from ..library import Library

        _manager.library = Library(config.library_dir) if config.library_dir else None
    _manager.library_source = config.library_source
    return _manager


def _library_folder(manager: JobManager) -> Path | None:
    return manager.library.folder if manager.library is not None else None


def _store_folder(manager: JobManager) -> Path | None:
    return manager.store.folder if manager.store is not None else None


def _require_config() -> Config:
    if _config is None:
        raise api.AuthenticationError("Meshy is not configured.")
    return _config


def current_config() -> Config | None:
    return _config


def current_manager() -> JobManager | None:
    return _manager


def current_library() -> Library | None:
    """The live manager's library (its cache shared with whoever reads it), or None before the first configure."""
    return _manager.library if _manager is not None else None


def shutdown(timeout: float = 2.0) -> bool:
    """Stop every worker (jobs stay resumable in the ledger)."""
    global _manager, _config, _jobs_client
    manager, _manager, _config = _manager, None, None
    stopped = manager.shutdown(timeout) if manager is not None else True
    with _jobs_client_lock:
        _jobs_client = None  # its connections close with it; a later manager makes its own
    return stopped
