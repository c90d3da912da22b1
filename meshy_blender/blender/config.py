"""The settings a job manager is built from (:func:`.session.configure`).

Apart from :mod:`.session` (and loaded as ``session.Config`` on first use) because the
preferences and the pump read the session when the add-on is enabled, and this frozen
dataclass is only needed once a job or a request is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..api.limits import DEFAULT_BASE_URL

if TYPE_CHECKING:
    from ..jobs.runner import RunSettings


def _default_keep_finished() -> int | None:
    from ..jobs.manager import MAX_FINISHED_KEPT

    return MAX_FINISHED_KEPT


def _default_settings() -> RunSettings:
    from ..jobs.runner import RunSettings

    return RunSettings()


@dataclass(frozen=True)
class Config:
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    download_dir: Path = Path()
    #: The job store's folder (None: jobs are kept in memory only), and a 0.1 ledger file to take jobs from.
    jobs_dir: Path | None = None
    legacy_ledger: Path | None = None
    #: The artist's library every finished result is kept in (None: not kept), and what to call their source.
    library_dir: Path | None = None
    library_source: str = "sidebar"
    concurrency: int = 10
    #: Place imported models at the 3D cursor (else at the world origin).
    place_at_cursor: bool = True
    #: How an import is placed there ("CURSOR", "GROUND", "PROXY") and its height in metres (0: as made); see
    #: ``scene/placement.py``.
    placement: str = "CURSOR"
    target_height: float = 0.0
    #: Finished jobs the ledger keeps (None: every one).
    keep_finished: int | None = field(default_factory=_default_keep_finished)
    settings: RunSettings = field(default_factory=_default_settings)
