"""On CI a missing dependency fails the run: without this, PostgreSQL down would skip its tests and pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/app/test_settings.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_strict_ci_fails_when_postgres_does_not_answer() -> None:
    nowhere = {"DLGRADER_TEST_PG": "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    strict = _pytest({**nowhere, "DLGRADER_STRICT_CI": "1"})
    assert strict.returncode == 3, strict.stdout[-500:]
    assert "PostgreSQL at" in strict.stdout + strict.stderr
    relaxed = _pytest({**nowhere, "DLGRADER_STRICT_CI": "0"})
    assert relaxed.returncode == 0, relaxed.stdout[-500:]
