"""Meshy's REST API in plain Python (requests + stdlib); never imports bpy.

Every name here is loaded from its module on first use (PEP 562 ``__getattr__``), so that
importing one module of the package (``api.tasks`` for the add-on's enums) does not import
them all: :mod:`.client` and :mod:`.http` bring in requests and urllib3, and enabling the
add-on pays for no module it does not use. Everything but those two is the standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import first_use

if TYPE_CHECKING:
    from .client import MeshyClient
    from .costs import estimate_credits
    from .errors import (
        AssetExpiredError,
        AuthenticationError,
        BadRequestError,
        CancelledError,
        DownloadError,
        ForbiddenError,
        InsufficientCreditsError,
        MeshyError,
        NetworkError,
        OfflineError,
        PoseEstimationError,
        QueueFullError,
        RateLimitError,
        RequestTimeoutError,
        ResultExpiredError,
        ServerError,
        TaskFailedError,
        TaskNotFoundError,
        ValidationError,
    )
    from .glb_safety import check_glb, is_valid_glb
    from .http import RetryPolicy, should_retry
    from .limits import DEFAULT_BASE_URL
    from .sse import SSEEvent, SSEParser
    from .task_kinds import TaskKind, TaskStatus
    from .tasks import Task, TaskError, parse_task
    from .validation import image_to_data_uri, validate

#: Each name and the module it is loaded from, on first use.
_ON_FIRST_USE = {
    "DEFAULT_BASE_URL": "limits",
    "MeshyClient": "client",
    "RetryPolicy": "http",
    "should_retry": "http",
    "estimate_credits": "costs",
    "check_glb": "glb_safety",
    "is_valid_glb": "glb_safety",
    "SSEEvent": "sse",
    "SSEParser": "sse",
    "Task": "tasks",
    "TaskError": "tasks",
    "TaskKind": "task_kinds",
    "TaskStatus": "task_kinds",
    "parse_task": "tasks",
    "image_to_data_uri": "validation",
    "validate": "validation",
    **dict.fromkeys(
        (
            "AssetExpiredError",
            "AuthenticationError",
            "BadRequestError",
            "CancelledError",
            "DownloadError",
            "ForbiddenError",
            "InsufficientCreditsError",
            "MeshyError",
            "NetworkError",
            "OfflineError",
            "PoseEstimationError",
            "QueueFullError",
            "RateLimitError",
            "RequestTimeoutError",
            "ResultExpiredError",
            "ServerError",
            "TaskFailedError",
            "TaskNotFoundError",
            "ValidationError",
        ),
        "errors",
    ),
}

__all__ = [
    "DEFAULT_BASE_URL",
    "AssetExpiredError",
    "AuthenticationError",
    "BadRequestError",
    "CancelledError",
    "DownloadError",
    "ForbiddenError",
    "InsufficientCreditsError",
    "MeshyClient",
    "MeshyError",
    "NetworkError",
    "OfflineError",
    "PoseEstimationError",
    "QueueFullError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResultExpiredError",
    "RetryPolicy",
    "SSEEvent",
    "SSEParser",
    "ServerError",
    "Task",
    "TaskError",
    "TaskFailedError",
    "TaskKind",
    "TaskNotFoundError",
    "TaskStatus",
    "ValidationError",
    "check_glb",
    "estimate_credits",
    "image_to_data_uri",
    "is_valid_glb",
    "parse_task",
    "should_retry",
    "validate",
]


__getattr__ = first_use(__name__, globals(), _ON_FIRST_USE)
