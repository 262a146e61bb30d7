"""Fixtures the page tests share."""

from __future__ import annotations

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
