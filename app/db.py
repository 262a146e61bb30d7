"""Database engine, session factory and the declarative base (with a constraint naming convention)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DataError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names make Alembic migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        # PostgreSQL hands a timestamptz back in the session's time zone (a server set to
        # Asia/Shanghai says +08:00): every time leaves the database in UTC, as the API says them.
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, connections: int = 8) -> Engine:
    """Create the engine: SQLite with WAL and foreign keys, PostgreSQL with pre-ping to survive restarts.

    `connections` is the number of request threads: each holds at most one connection, and only
    while it runs (app/deps.py), so a pool of that size never makes a thread wait; as many again
    may overflow for sessions being closed after their response."""
    # pool_timeout: when every connection is busy, a request waits 5 s and then gets a clear 503,
    # not a 30 s hang past the client's own timeout (measured in bench.load --kill-worker).
    pool = {"pool_size": connections, "max_overflow": connections, "pool_timeout": 5}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse_nul(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            # PostgreSQL refuses to store text holding NUL; SQLite stored it, and a backup of such a
            # database could not be restored on PostgreSQL. Refused the same way on both (a 422,
            # errors.py). Only writes: a lookup of such a name simply finds nothing, as before.
            if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE"):
                refuse_nul(statement, parameters)

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def refuse_nul(statement: str, parameters: object) -> None:
    """Raise what PostgreSQL would (as a DataError) for a write of text holding NUL on SQLite."""
    if _holds_nul(parameters):
        raise DataError(statement, parameters, ValueError("NUL character in text"))


def _holds_nul(parameters: object) -> bool:
    """Any text with NUL among a statement's parameters (a row, rows, or rows of named values)."""
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_holds_nul(v) for v in parameters.values())
    if isinstance(parameters, (list, tuple)):
        return any(_holds_nul(v) for v in parameters)
    return False


def release_connection(session: Session) -> None:
    """End the read transaction so its pooled connection goes back before a wait.

    A request that holds a connection while it waits (for a thread, or for the grading pool) can
    deadlock the worker: every thread waiting for a connection, every connection held by a
    request waiting for a thread (app/routing.py). Call it only with nothing pending: it commits,
    and the objects read stay loaded (no expiry on commit)."""
    if session.in_transaction():
        session.commit()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
