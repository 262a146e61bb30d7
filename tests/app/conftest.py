"""Fixtures the page tests share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_app


@pytest.fixture
def web(sqlite_db_url):  # type: ignore[no-untyped-def]
    """A browser's view of the app through httpx (its cookies kept), on SQLite; `app_ref` is the app."""
    app = make_app(sqlite_db_url)
    with TestClient(app) as c:
        c.app_ref = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The service's clock, real until moved: move_clock(t) makes it t from then on. A real deadline a
    few seconds away passed before the first answer on a loaded machine, and waiting for one cost
    seconds. Every module that reads the time of an exam answer reads it through these."""
    from app.api import exams as api_exams
    from app.services import exams
    from app.web import homework

    moved: list[datetime] = []
    real_now = exams.utcnow
    for module in (exams, api_exams, homework):
        monkeypatch.setattr(module, "utcnow", lambda: moved[-1] if moved else real_now())
    return moved.append
