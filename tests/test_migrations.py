"""Every schema change is a migration: upgrade to head, an empty autogenerate diff, and downgrade to base."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

import app.models  # noqa: F401
from app.cli import alembic_config
from app.db import Base
from tests.dbs import database_url


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(db_kind: str, tmp_path: Path) -> None:
    with database_url(db_kind, tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        assert _tables(url) == set(Base.metadata.tables)
        engine = create_engine(url)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        engine.dispose()
        assert diff == [], f"models and migrations differ: {diff}"
        command.downgrade(cfg, "base")
        assert _tables(url) == set()
        command.upgrade(cfg, "head")  # and back up again: downgrades leave nothing behind
        assert _tables(url) == set(Base.metadata.tables)


def test_each_revision_steps_down_and_up(tmp_path: Path) -> None:
    with database_url("sqlite", tmp_path) as url:
        cfg = alembic_config(url)
        revisions = list(ScriptDirectory.from_config(cfg).walk_revisions())
        for rev in reversed(revisions):
            command.upgrade(cfg, rev.revision)
        for rev in revisions:
            command.downgrade(cfg, rev.down_revision or "base")
        assert _tables(url) == set()


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).parent.parent / "migrations/versions").glob("*.py"))
)
def test_migrations_are_static(name: str) -> None:
    """A migration must not import the app: it has to keep working as the models change."""
    text = (Path(__file__).parent.parent / "migrations/versions" / name).read_text()
    assert "import app" not in text and "from app" not in text


@pytest.mark.postgres
def test_servers_starting_together_migrate_once(tmp_path: Path) -> None:
    """Each `dlgrader serve` runs upgrade head at start: on PostgreSQL an advisory lock serialises them."""
    import os
    import subprocess
    import sys

    from tests.dbs import postgres_available

    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    exe = str(Path(sys.executable).parent / "dlgrader")
    with database_url("postgres", tmp_path) as url:
        env = {**os.environ, "DLGRADER_DATABASE_URL": url}
        # Processes, not threads: Alembic's context is one per process.
        procs = [
            subprocess.Popen(
                [exe, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        assert [rc for rc, _ in outcomes] == [0] * 4, outcomes
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        engine = create_engine(url)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head,)
        engine.dispose()
