"""Batch manifests: one asset per row, JSON Lines or CSV, all checked before anything is sent.

JSON Lines: one object per line (blank lines and lines starting with ``#`` are skipped).
CSV: a header row naming the same columns; an empty cell means "not given", lists are
separated by ``;`` and booleans are ``true``/``false``. Each row has a unique ``name``
(it names the output file ``<name>.glb``), a ``kind`` (see :data:`specs.KINDS`), the
kind's inputs and any API fields. An ``animate`` row may name a ``rig`` row of the same
manifest with ``rig_of`` instead of giving ``rig_task_id``: it starts when that rig is
done. File paths are relative to the manifest.

Every problem of every row is reported at once (``line N: …``), so a manifest is fixed
in one go and nothing is paid for until all of it is valid.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api.errors import ValidationError
from . import specs
from .model import Job

MAX_NAME_CHARS = 64
_NAME = re.compile(r"[\w][\w .()+-]*")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
#: Stands in for the rig's task id while an ``animate … rig_of`` row is checked.
_PENDING_RIG = "pending-rig-task"


class ManifestError(ValidationError):
    """The manifest has problems; ``problems`` lists each as ``line N: …``."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{path.name}: {len(problems)} problem(s), nothing was sent:\n{listed}", field="manifest")
        self.problems = problems


@dataclass(frozen=True)
class Asset:
    """One row of the manifest, checked."""

    line: int
    name: str
    kind: str
    values: dict[str, Any]
    #: For ``animate``: the name of the rig row whose task it animates.
    rig_of: str = ""

    def job(self, rig_task_id: str = "") -> Job:
        """The job for this asset (``rig_task_id``: the task of the ``rig_of`` row)."""
        values = {**self.values, "rig_task_id": rig_task_id or _PENDING_RIG} if self.rig_of else self.values
        return specs.build_job(self.kind, values, name=self.name)


def shard(assets: list[Asset], index: int, count: int) -> list[Asset]:
    """Shard ``index`` of ``count`` (from 1): rows index, index+count… in file order.

    An ``animate … rig_of`` row goes with its rig's row, wherever it stands: it needs
    the rig's task id, which only the shard that made the rig knows.
    """
    position = {asset.name: number for number, asset in enumerate(assets)}
    return [
        asset
        for number, asset in enumerate(assets)
        if (position[asset.rig_of] if asset.rig_of else number) % count == index - 1
    ]


def load(path: Path) -> list[Asset]:
    """The manifest's assets in file order, or ManifestError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(f"Cannot read the manifest {path}: {error}", field="manifest") from error
    found: list[tuple[int, str]] = []
    assets: list[Asset] = []
    kinds: dict[str, Any] = {}  # the kind each row names, valid or not (for rig_of)
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _json_rows(text)
    for line, row in rows:
        if isinstance(row, dict) and isinstance(row.get("name"), str):
            kinds.setdefault(row["name"].strip(), row.get("kind"))
        try:
            assets.append(_asset(line, row, path.parent))
        except ValidationError as error:
            found.append((line, str(error)))
    found += _cross_row_problems(assets, kinds)
    problems = [f"line {line}: {text}" for line, text in sorted(found)]
    if not assets and not problems:
        problems.append("no assets: the manifest is empty")
    if problems:
        raise ManifestError(path, problems)
    return assets


# -- reading rows ------------------------------------------------------------------


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | ValidationError]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            yield number, ValidationError(f"not valid JSON ({error.args[0].split(':')[0]})")
            continue
        yield number, row if isinstance(row, dict) else ValidationError("each line must be a JSON object {...}")


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | ValidationError]]:
    reader = csv.DictReader(text.splitlines(), restkey="\0extra")
    for row in reader:
        line = reader.line_num
        if "\0extra" in row:
            yield line, ValidationError("more cells than columns in the header")
            continue
        cells = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        if not any(cells.values()):
            continue
        values: dict[str, Any] = {}
        try:
            for key, cell in cells.items():
                if cell:
                    values[key] = _from_text(key, cell)
        except ValidationError as error:
            yield line, error
            continue
        yield line, values


def _from_text(key: str, cell: str) -> Any:
    """A CSV cell as the type its column has."""
    field = specs.FIELDS.get(key)
    kind = field.type if field is not None else str
    if kind is bool:
        if cell.lower() in _TRUE:
            return True
        if cell.lower() in _FALSE:
            return False
        raise ValidationError(f"'{key}' must be true or false (got {cell!r})")
    if kind in (int, float):
        try:
            if field is not None and field.repeatable and ";" in cell:
                return [kind(item) for item in cell.split(";") if item.strip()]
            return kind(cell)
        except ValueError:
            raise ValidationError(f"'{key}' must be a {'whole ' if kind is int else ''}number (got {cell!r})") from None
    if kind is list:
        return [item.strip() for item in cell.split(";") if item.strip()]
    return cell


# -- checking a row ----------------------------------------------------------------


def _check_type(key: str, value: Any) -> None:
    field = specs.FIELDS.get(key)
    if field is None:
        return  # build_job names unknown fields with the kind's list
    expected = field.type
    if field.repeatable and isinstance(value, list) and value:
        for item in value:
            _check_type(key, item)
        return
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif expected is list:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    else:
        ok = isinstance(value, str)
    if not ok:
        wanted = {bool: "true or false", int: "a whole number", float: "a number", list: "a list of strings"}
        raise ValidationError(f"'{key}' must be {wanted.get(expected, 'text')} (got {value!r})")
    if field.choices:
        for item in value if isinstance(value, list) else [value]:
            if item not in field.choices:
                listed = ", ".join(repr(choice) for choice in field.choices)
                raise ValidationError(f"'{key}' must be one of {listed} (got {item!r})")


def _asset(line: int, row: dict[str, Any] | ValidationError, base: Path) -> Asset:
    if isinstance(row, ValidationError):
        raise row
    values = dict(row)
    name = values.pop("name", None)
    kind = values.pop("kind", None)
    rig_of = values.pop("rig_of", "")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("every row needs a 'name' (it names the output file <name>.glb)")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS or not _NAME.fullmatch(name) or name.endswith((".", " ")):
        raise ValidationError(
            f"'name' {name!r} must be at most {MAX_NAME_CHARS} letters, digits, spaces or "
            "._-()+ and start with a letter or digit (it becomes a file name)"
        )
    if kind not in specs.KINDS:
        raise ValidationError(f"'kind' must be one of {', '.join(specs.KINDS)} (got {kind!r})")
    if rig_of:
        if kind != "animate" or not isinstance(rig_of, str):
            raise ValidationError("'rig_of' names a rig row and applies to animate rows only")
        if "rig_task_id" in values:
            raise ValidationError("give either 'rig_task_id' or 'rig_of', not both")
    for key, value in values.items():
        _check_type(key, value)
    asset = Asset(line=line, name=name, kind=kind, values=specs.resolve_files(values, base), rig_of=rig_of)
    asset.job()  # checks everything else with the API's rules
    return asset


def _cross_row_problems(assets: list[Asset], kinds: dict[str, Any]) -> list[tuple[int, str]]:
    problems = []
    seen: dict[str, Asset] = {}
    for asset in assets:
        key = asset.name.casefold()  # file names clash case-insensitively on macOS and Windows
        if key in seen:
            problems.append((asset.line, f"name {asset.name!r} is already used on line {seen[key].line}"))
        seen.setdefault(key, asset)
        if asset.rig_of and kinds.get(asset.rig_of) != "rig":
            problems.append(
                (asset.line, f"'rig_of' must name a rig row of this manifest ({asset.rig_of!r} is not one)")
            )
    return problems
