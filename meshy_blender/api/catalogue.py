"""Meshy's models as data: which models each endpoint offers, their lifecycle, what they support and cost.

The facts live in ``data/models.json`` (shipped in the package; the offline sandbox reads the
same file), so a model Meshy releases or retires is a data change, not a code change. This
module only reads it:

- :meth:`Catalogue.offered` lists what a model menu shows (active and deprecated, never retired);
- :meth:`Catalogue.refusal` says why a request must not be sent (a retired model or option,
  a value the chosen model cannot make), naming the replacement;
- :meth:`Catalogue.honours`, :meth:`Catalogue.choices` and :meth:`Catalogue.default` drive which
  options a panel shows and how;
- :meth:`Catalogue.cost` gives the credit estimate.

A model id the catalogue does not know is never refused: it is sent as given and Meshy decides,
so a new model works the day it ships. Status follows the calendar: a deprecated model counts
as retired from its ``retires_on`` day. Standard library only; never imports bpy.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "models.json"

ACTIVE = "active"
DEPRECATED = "deprecated"
RETIRED = "retired"
#: The model id that follows Meshy's newest standard model.
LATEST = "latest"


def today() -> datetime.date:
    """The current day in UTC, the calendar Meshy's retirement dates are in."""
    return datetime.datetime.now(datetime.UTC).date()


def _day(value: Any) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Model:
    """One model id as the catalogue describes it."""

    id: str
    label: str
    status: str
    description: str = ""
    #: For ``latest``: the model it stands for today.
    alias_of: str = ""
    deprecated_on: datetime.date | None = None
    retires_on: datetime.date | None = None
    replacement: str = ""
    #: Per-endpoint status that overrides ``status`` (Meshy-7 stays a texture model).
    endpoint_status: Mapping[str, str] = field(default_factory=dict)
    #: Request fields this model accepts but does not act on (e.g. ``art_style`` on Meshy-6+).
    ignores: frozenset[str] = frozenset()
    #: Meshy's default for a field when this model is used and the field is not sent.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Values a field may take with this model: a list, or ``{endpoint: list}``.
    choices: Mapping[str, Any] = field(default_factory=dict)
    #: Inclusive (low, high) bounds of a number field with this model.
    limits: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: Fields the model needs with these values (added when absent).
    sets: Mapping[str, Any] = field(default_factory=dict)
    smart_topology: bool = False
    texturing_only: bool = False
    costs: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def status_on(self, endpoint: str, day: datetime.date | None = None) -> str:
        """Active, deprecated or retired for ``endpoint`` on ``day`` (default today)."""
        status = self.endpoint_status.get(endpoint, self.status)
        if status == DEPRECATED and self.retires_on is not None and (day or today()) >= self.retires_on:
            return RETIRED
        return status

    def choices_for(self, name: str, endpoint: str) -> tuple[Any, ...] | None:
        """The values ``name`` may take with this model on ``endpoint``; None when not limited."""
        allowed = self.choices.get(name)
        if isinstance(allowed, Mapping):
            allowed = allowed.get(endpoint)
        return None if allowed is None else tuple(allowed)


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    models: tuple[str, ...] = ()
    default_model: str = ""
    costs: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RetiredOption:
    """A request field (or one value of it) Meshy no longer accepts."""

    field: str
    endpoints: frozenset[str]
    replacement: str
    value: Any = None
    retires_on: datetime.date | None = None

    def matches(self, endpoint: str, body: Mapping[str, Any]) -> bool:
        if endpoint not in self.endpoints or self.field not in body:
            return False
        return self.value is None or body[self.field] == self.value


@dataclass(frozen=True)
class Refusal:
    """Why a request must not be sent: a sentence and the field it is about."""

    message: str
    field: str


def _model(model_id: str, raw: Mapping[str, Any]) -> Model:
    return Model(
        id=model_id,
        label=str(raw.get("label", model_id)),
        status=str(raw.get("status", ACTIVE)),
        description=str(raw.get("description", "")),
        alias_of=str(raw.get("alias_of", "")),
        deprecated_on=_day(raw.get("deprecated_on")),
        retires_on=_day(raw.get("retires_on")),
        replacement=str(raw.get("replacement", "")),
        endpoint_status=dict(raw.get("endpoint_status", {})),
        ignores=frozenset(raw.get("ignores", ())),
        defaults=dict(raw.get("defaults", {})),
        choices=dict(raw.get("choices", {})),
        limits={name: (int(low), int(high)) for name, (low, high) in raw.get("limits", {}).items()},
        sets=dict(raw.get("sets", {})),
        smart_topology=bool(raw.get("smart_topology", False)),
        texturing_only=bool(raw.get("texturing_only", False)),
        costs={name: dict(table) for name, table in raw.get("costs", {}).items()},
    )


def _listed(values: Any) -> str:
    return ", ".join(repr(value) for value in values)


@dataclass(frozen=True)
class Catalogue:
    models: Mapping[str, Model]
    endpoints: Mapping[str, Endpoint]
    latest: str
    retired_options: tuple[RetiredOption, ...] = ()
    as_of: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalogue:
        endpoints = {
            name: Endpoint(
                name=name,
                label=str(raw.get("label", name)),
                models=tuple(raw.get("models", ())),
                default_model=str(raw.get("default_model", "")),
                costs=dict(raw.get("costs", {})),
            )
            for name, raw in data["endpoints"].items()
        }
        retired = tuple(
            RetiredOption(
                field=str(raw["field"]),
                endpoints=frozenset(raw.get("endpoints", ())),
                replacement=str(raw.get("replacement", "")),
                value=raw.get("value"),
                retires_on=_day(raw.get("retires_on")),
            )
            for raw in data.get("retired_options", ())
        )
        models = {model_id: _model(model_id, raw) for model_id, raw in data["models"].items()}
        return cls(models, endpoints, str(data["latest"]), retired, str(data.get("as_of", "")))

    # -- looking up

    def model(self, model_id: str) -> Model | None:
        """The model as listed (``latest`` is the alias itself), or None when unknown."""
        return self.models.get(model_id)

    def resolve(self, model_id: str) -> Model | None:
        """The model whose abilities apply: ``latest`` is the model it stands for today."""
        model = self.models.get(model_id)
        while model is not None and model.alias_of:
            model = self.models.get(model.alias_of)
        return model

    def endpoint(self, name: str) -> Endpoint:
        return self.endpoints.get(name) or Endpoint(name=name, label=name)

    def default_model(self, endpoint: str) -> str:
        return self.endpoint(endpoint).default_model

    def label(self, model_id: str) -> str:
        """How a menu names the model: "Latest — Meshy-7.1 today" for the alias; the id when unknown."""
        model = self.models.get(model_id)
        if model is None:
            return model_id
        target = self.resolve(model_id)
        if model.alias_of and target is not None:
            return f"{model.label} — {target.label} today"
        return model.label

    def describe(self, model_id: str, endpoint: str, day: datetime.date | None = None) -> str:
        """A tooltip: what the model is, and when it retires if it is deprecated."""
        model = self.models.get(model_id)
        if model is None:
            return "A model id the add-on does not know: sent to Meshy as given"
        text = model.description or model.label
        if model.status_on(endpoint, day) == DEPRECATED:
            text += f". {self.deprecation(model)}"
        return text

    @staticmethod
    def deprecation(model: Model) -> str:
        """ "Deprecated: retires 2026-12-31; use meshy-7.1" (or as much of it as is known)."""
        parts = [f"retires {model.retires_on.isoformat()}" if model.retires_on else "retirement date to be announced"]
        if model.replacement:
            parts.append(f"use {model.replacement}")
        return "Deprecated: " + "; ".join(parts)

    def offered(self, endpoint: str, day: datetime.date | None = None) -> list[Model]:
        """The models a menu offers for ``endpoint``, in Meshy's order: active and deprecated, never retired."""
        listed = (self.models.get(model_id) for model_id in self.endpoint(endpoint).models)
        return [model for model in listed if model is not None and model.status_on(endpoint, day) != RETIRED]

    # -- rules

    def honours(self, endpoint: str, model_id: str, name: str) -> bool:
        """Whether the model acts on field ``name`` (an unknown model is assumed to honour everything)."""
        model = self.resolve(model_id)
        if model is None:
            return True
        if name in model.ignores:
            return False
        allowed = model.choices_for(name, endpoint)
        return allowed is None or len(allowed) > 1

    def choices(self, endpoint: str, model_id: str, name: str, every: tuple[Any, ...]) -> tuple[Any, ...]:
        """The values of ``name`` the model can make, in the order of ``every`` (all of them when unknown)."""
        model = self.resolve(model_id)
        allowed = model.choices_for(name, endpoint) if model is not None else None
        return every if allowed is None else tuple(value for value in every if value in allowed)

    def default(self, model_id: str, name: str, fallback: Any = None) -> Any:
        """Meshy's default for field ``name`` with this model."""
        model = self.resolve(model_id)
        return model.defaults.get(name, fallback) if model is not None else fallback

    def completed(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` with the fields its model needs (Smart Topology sets ``model_type``) added when absent."""
        model = self.resolve(str(body.get("ai_model", ""))) if "ai_model" in body else None
        if model is None:
            return dict(body)
        return {**{name: value for name, value in model.sets.items() if name not in body}, **body}

    def refusal(self, endpoint: str, body: Mapping[str, Any], day: datetime.date | None = None) -> Refusal | None:
        """Why ``body`` must not be sent to ``endpoint``, or None. Unknown model ids are never refused."""
        for option in self.retired_options:
            if option.matches(endpoint, body):
                what = f"'{option.field}': {body[option.field]!r}" if option.value is not None else f"'{option.field}'"
                when = f" on {option.retires_on.isoformat()}" if option.retires_on else ""
                return Refusal(f"Meshy retired {what}{when}; use {option.replacement} instead.", option.field)
        model_id = body.get("ai_model")
        if not isinstance(model_id, str):
            return None
        listed = self.models.get(model_id)
        model = self.resolve(model_id)
        if listed is None or model is None:
            return None
        label = self.endpoint(endpoint).label
        if listed.status_on(endpoint, day) == RETIRED:
            return Refusal(self._retired(listed), "ai_model")
        if self.endpoint(endpoint).models and model_id not in self.endpoint(endpoint).models:
            offered = ", ".join(m.id for m in self.offered(endpoint, day))
            message = f"{listed.label} ('{model_id}') is not offered for {label}; choose one of: {offered}."
            return Refusal(message, "ai_model")
        for name, value in body.items():
            refusal = self._value_refusal(model, endpoint, name, value)
            if refusal is not None:
                return refusal
        for name, value in model.sets.items():
            if name in body and body[name] != value:
                return Refusal(f"{model.label} needs '{name}' {value!r} (got {body[name]!r}).", name)
        return None

    @staticmethod
    def _retired(model: Model) -> str:
        when = f" on {model.retires_on.isoformat()}" if model.retires_on else ""
        instead = f"; use '{model.replacement}' instead" if model.replacement else ""
        return f"Meshy retired {model.label} ('{model.id}'){when}: requests with it fail{instead}."

    @staticmethod
    def _value_refusal(model: Model, endpoint: str, name: str, value: Any) -> Refusal | None:
        allowed = model.choices_for(name, endpoint)
        if allowed is not None and value not in allowed:
            return Refusal(f"{model.label} cannot make '{name}' {value!r}; it takes {_listed(allowed)}.", name)
        bounds = model.limits.get(name)
        if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
            low, high = bounds
            return Refusal(f"With {model.label}, '{name}' must be from {low:,} to {high:,} (got {value:,}).", name)
        return None

    # -- costs

    def cost(self, endpoint: str, model_id: str, key: str) -> int:
        """Credits for one task: the model's own figure for ``key`` if it has one, else the endpoint's.

        ``model_id`` "" is the endpoint's default model. A model the catalogue does not know is
        priced like the dearest known one, so an estimate never comes out low.
        """
        table = self.endpoint(endpoint).costs
        base = int(table.get(key, table.get("task", 0)))
        model = self.resolve(model_id or self.default_model(endpoint))
        if model is None:
            known = (self.resolve(other) for other in self.endpoint(endpoint).models)
            return max([base, *(int(m.costs[endpoint][key]) for m in known if m and key in m.costs.get(endpoint, {}))])
        return int(model.costs.get(endpoint, {}).get(key, base))


@functools.cache
def load(path: Path = DATA_FILE) -> Catalogue:
    """The catalogue in ``path`` (the package's own by default), read once per process."""
    with path.open(encoding="utf-8") as file:
        return Catalogue.from_json(json.load(file))
