"""The library's map fetcher takes every entry queued, however its threads come and go, and makes no
client (no request) for entries with nothing to fetch."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from meshy_blender.library import Library
from meshy_blender.library.maps import MapFetcher


def _fetcher(tmp_path: Path, stopping: threading.Event | None = None) -> MapFetcher:
    def no_client() -> None:
        pytest.fail("nothing here has maps to fetch")

    stopping = stopping or threading.Event()
    return MapFetcher(Library(tmp_path / "library"), no_client, stopping, imports_waiting=lambda: False)  # type: ignore[arg-type]


def test_entries_queued_one_after_another_are_all_taken_without_a_request(tmp_path: Path) -> None:
    fetcher = _fetcher(tmp_path)
    for number in range(300):  # entries the library does not hold (removed): each done at once, threads end often
        fetcher.add(f"entry{number}", {"base_color": "https://assets.example/base_color.png"})
        if number % 3 == 0:
            assert fetcher.wait(5), f"entry{number} was left in the queue"
    assert fetcher.wait(5) and fetcher.pending() == 0
    assert fetcher.stop(5)


def test_once_the_manager_stops_nothing_more_is_taken(tmp_path: Path) -> None:
    stopping = threading.Event()
    fetcher = _fetcher(tmp_path, stopping)
    stopping.set()
    fetcher.add("entry1", {"normal": "https://assets.example/normal.png"})
    assert fetcher.pending() == 0 and fetcher.wait(0)
    assert fetcher.stop(1)
