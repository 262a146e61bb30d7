"""Settings: the secret key kept on disk is created once, even by workers starting together."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.settings import Settings


def test_a_configured_key_wins(tmp_path: Path) -> None:
    s = Settings(secret_key="from-env", secret_key_file=str(tmp_path / "key"))
    assert s.resolved_secret_key() == "from-env"
    assert not (tmp_path / "key").exists()


def test_the_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    s = Settings(secret_key="", secret_key_file=str(tmp_path / "key"))
    first = s.resolved_secret_key()
    assert len(first) >= 48 and s.resolved_secret_key() == first
    assert stat.S_IMODE(os.stat(tmp_path / "key").st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"], "no temporary file is left behind"


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    for round_ in range(30):
        path = tmp_path / f"key{round_}"
        s = Settings(secret_key="", secret_key_file=str(path))
        with ThreadPoolExecutor(16) as pool:
            keys = set(pool.map(lambda _, s=s: s.resolved_secret_key(), range(16)))
        assert keys == {path.read_text()}, f"round {round_}: {len(keys)} different keys"


def test_an_empty_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        Settings(secret_key="", secret_key_file=str(tmp_path / "key")).resolved_secret_key()
