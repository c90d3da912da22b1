"""The API key's own file: owner-only, replaced atomically, cheap to read, honest about failures."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from meshy_blender.blender.credentials import CredentialStore

KEY = "msy_unit_credentials_key_3141592653"


def test_saved_key_is_read_back_from_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "user" / "credentials.json"
    previous = os.umask(0)  # even when new files would be world-readable
    try:
        CredentialStore(path).save(f"  {KEY}\n")
    finally:
        os.umask(previous)

    assert CredentialStore(path).load() == KEY  # a new store: read from the file, not from memory
    assert json.loads(path.read_text()) == {"api_key": KEY}
    if sys.platform != "win32":  # (Windows has no owner-only mode bits)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["credentials.json"]  # no temporary file left


def test_an_empty_key_removes_the_file(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.json")
    store.save(KEY)
    store.save("   ")
    assert store.load() == ""
    assert not (tmp_path / "credentials.json").exists()


def test_a_change_made_by_another_store_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    reader = CredentialStore(path)
    CredentialStore(path).save(KEY)
    assert reader.load() == KEY
    CredentialStore(path).save("msy_another_key_2718281828")  # e.g. a second Blender
    assert reader.load() == "msy_another_key_2718281828"


@pytest.mark.parametrize("content", ["not json", '["msy_in_a_list"]', '{"api_key": 42}', ""])
def test_an_unreadable_file_means_no_key(tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(content)
    assert CredentialStore(path).load() == ""
    assert "msy_in_a_list" not in caplog.text


def test_a_key_that_cannot_be_written_is_kept_for_the_session_and_the_reason_given(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    store = CredentialStore(blocker / "credentials.json")

    store.save(KEY)

    assert store.load() == KEY
    assert str(blocker) in store.error
    assert KEY not in store.error and KEY not in caplog.text
    blocker.unlink()
    store.save(KEY)  # the folder can be made now
    assert store.error == ""
    assert CredentialStore(blocker / "credentials.json").load() == KEY
