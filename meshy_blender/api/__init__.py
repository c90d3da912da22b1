"""Meshy's REST API in plain Python (requests + stdlib); never imports bpy."""

from __future__ import annotations

from .client import DEFAULT_BASE_URL, MeshyClient
from .costs import estimate_credits
from .download import check_glb, is_valid_glb
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
from .http import RetryPolicy, should_retry
from .sse import SSEEvent, SSEParser
from .tasks import Task, TaskError, TaskKind, TaskStatus, parse_task
from .validation import image_to_data_uri, validate

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
