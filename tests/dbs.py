"""Fresh databases for tests: a SQLite file, or a PostgreSQL schema of its own on 127.0.0.1:5432."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BASE = os.environ.get("DLGRADER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> str | None:
    """Return None if the test server answers, else why not (for the skip message)."""
    try:
        import psycopg

        with psycopg.connect(PG_BASE.replace("+psycopg", ""), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure to reach it is a reason to skip, said plainly
        return f"PostgreSQL at {PG_BASE} does not answer ({type(exc).__name__}: {exc})"


@contextmanager
def sqlite_url(tmp: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp / f'dlg-{uuid.uuid4().hex[:8]}.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a brand-new schema, dropped afterwards: each test its own database."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_BASE.replace("+psycopg", "")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def in_every_time_zone(url: str, kind: str) -> list[str]:
    """The database as read by the service, and on PostgreSQL also by a session whose time zone is
    China's (a server set to Asia/Shanghai said +08:00 times): times must leave it in UTC either way."""
    if kind != "postgres":
        return [url]
    return [url, url.replace("options=", "options=-ctimezone%3DAsia/Shanghai%20", 1)]


@contextmanager
def database_url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        with sqlite_url(tmp) as url:
            yield url
    else:
        with postgres_url() as url:
            yield url
