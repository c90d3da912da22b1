"""The sandbox's model rules and prices, from the add-on's own catalogue file.

``meshy_blender/api/data/models.json`` holds Meshy's models as data; the add-on refuses a
retired model before sending, and the sandbox refuses it the way Meshy does (400), so a
test can tell which side stopped it. The rules are read here independently of the
add-on's code (standard library only: the sandbox also runs in Blender's Python), from
the same facts, so the two cannot drift apart. A model id the file does not know stands
for one Meshy released after it: the sandbox accepts it, as Meshy would its own new model.
"""

from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parent.parent / "meshy_blender" / "api" / "data" / "models.json"
DEPRECATIONS_URL = "https://docs.meshy.ai/api/deprecations"
RETIRED = "retired"
DEPRECATED = "deprecated"


@functools.cache
def catalogue() -> dict[str, Any]:
    with CATALOGUE.open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def _today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _target(model_id: str) -> dict[str, Any] | None:
    """The listed model whose abilities apply (``latest`` stands for another), or None."""
    models = catalogue()["models"]
    model = models.get(model_id)
    while model is not None and model.get("alias_of"):
        model = models.get(model["alias_of"])
    return model


def _status(model: dict[str, Any], endpoint: str) -> str:
    status = str(model.get("endpoint_status", {}).get(endpoint, model.get("status", "active")))
    if status == DEPRECATED and model.get("retires_on") and _today() >= model["retires_on"]:
        return RETIRED
    return status


def _allowed(model: dict[str, Any], name: str, endpoint: str) -> list[Any] | None:
    allowed = model.get("choices", {}).get(name)
    return allowed.get(endpoint) if isinstance(allowed, dict) else allowed


def _retired_option(endpoint: str, body: dict[str, Any]) -> str | None:
    for option in catalogue().get("retired_options", ()):
        name = option["field"]
        if endpoint in option["endpoints"] and name in body and option.get("value", body[name]) == body[name]:
            return f"{name} {body[name]!r} is no longer supported. Use {option['replacement']} instead."
    return None


def problem(endpoint: str, body: dict[str, Any]) -> str | None:
    """Why Meshy would refuse ``body`` on ``endpoint`` because of its model or a retired option, or None."""
    retired = _retired_option(endpoint, body)
    if retired:
        return retired
    model_id = body.get("ai_model")
    if model_id is None:
        return None
    if not isinstance(model_id, str) or not model_id:
        return "ai_model must be a non-empty string"
    listed = catalogue()["models"].get(model_id)
    model = _target(model_id)
    if listed is None or model is None:
        return None
    if _status(listed, endpoint) == RETIRED:
        instead = f" Please use {listed['replacement']} instead." if listed.get("replacement") else ""
        return (
            f"Invalid ai_model {model_id!r}: the model has been retired and is no longer available.{instead} "
            f"See {DEPRECATIONS_URL}"
        )
    offered = catalogue()["endpoints"].get(endpoint, {}).get("models", [])
    if model_id not in offered:
        return f"Invalid ai_model {model_id!r} for {endpoint}: expected one of {', '.join(offered)}"
    for name, value in body.items():
        allowed = _allowed(model, name, endpoint)
        if allowed is not None and value not in allowed:
            return f"{name} {value!r} is not supported by {model_id}: expected one of {', '.join(map(str, allowed))}"
        low, high = model.get("limits", {}).get(name, (None, None))
        if low is not None and isinstance(value, int) and not low <= value <= high:
            return f"{name} must be between {low} and {high} for {model_id}"
    for name, value in model.get("sets", {}).items():
        if body.get(name, value) != value:
            return f"{model_id} requires {name} {value!r}"
    return None


def cost(endpoint: str, body: dict[str, Any], key: str) -> int:
    """What Meshy charges: the model's own price for ``key``, else the endpoint's (an unknown model: the dearest)."""
    table = catalogue()["endpoints"][endpoint]
    base = int(table["costs"].get(key, table["costs"].get("task", 0)))
    model_id = body.get("ai_model") or table.get("default_model", "")
    model = _target(model_id) if isinstance(model_id, str) else None
    if model is None:
        known = [_target(other) or {} for other in table.get("models", ())]
        return max(
            [base, *(int(m["costs"][endpoint][key]) for m in known if key in m.get("costs", {}).get(endpoint, {}))]
        )
    return int(model.get("costs", {}).get(endpoint, {}).get(key, base))


def _default(body: dict[str, Any], endpoint: str, name: str, fallback: Any) -> Any:
    model_id = body.get("ai_model") or catalogue()["endpoints"][endpoint].get("default_model", "")
    model = _target(model_id) if isinstance(model_id, str) else None
    return model.get("defaults", {}).get(name, fallback) if model is not None else fallback


def keeps_pre_remeshed(endpoint: str, body: dict[str, Any]) -> bool:
    """Whether the task also offers ``model_urls.pre_remeshed_glb``: asked for, and the model was remeshed."""
    if not body.get("save_pre_remeshed_model"):
        return False
    return bool(body.get("should_remesh", _default(body, endpoint, "should_remesh", True)))
