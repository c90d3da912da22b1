"""A long list shown a page at a time in a panel, and the row of arrows that turns its pages.

The Library panel and the Jobs panel both page: drawing a page costs the same with ten
items or thousands, and Blender's sidebar stays quick to redraw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: tuple[Item, ...]
    number: int
    count: int  # pages
    total: int  # items in the whole list


def page(items: Sequence[Item], number: int, size: int) -> Page[Item]:
    """Page ``number`` (from 1) of ``items`` by ``size``; a page past the end is the last one."""
    count = max(1, -(-len(items) // size))
    number = min(max(1, number), count)
    start = (number - 1) * size
    return Page(tuple(items[start : start + size]), number, count, len(items))


def draw_pager(row: Any, page: Page[Any], operator: str, noun: str) -> None:
    """◀ "Page 2 of 7 (64 results)" ▶; each arrow runs ``operator`` with its ``page`` set."""
    back = row.row(align=True)
    back.enabled = page.number > 1
    back.operator(operator, text="", icon="TRIA_LEFT").page = max(1, page.number - 1)
    row.label(text=f"Page {page.number} of {page.count} ({page.total} {noun})")
    forward = row.row(align=True)
    forward.enabled = page.number < page.count
    forward.operator(operator, text="", icon="TRIA_RIGHT").page = min(page.count, page.number + 1)
