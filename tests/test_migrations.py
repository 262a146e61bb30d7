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


def test_stepping_down_and_up_keeps_every_row(db_kind: str, tmp_path: Path) -> None:
    """Migrations run on live databases (`serve` migrates at start): a step down and up again keeps
    every exam, variant, question, assignment, submission and attempt. On SQLite a table rebuilt
    with foreign keys on deleted every child row through ON DELETE CASCADE (0003 on `exams`)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from tests.conftest import make_app

    with database_url(db_kind, tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        with TestClient(make_app(url)) as c:
            _staff_and_student_data(c, url)

        def counts() -> dict[str, int]:
            engine = create_engine(url)
            try:
                with engine.connect() as conn:
                    return {
                        t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                        for t in sorted(Base.metadata.tables)
                    }
            finally:
                engine.dispose()

        before = counts()
        assert all(before[t] > 0 for t in ("exams", "exam_variants", "exam_submissions", "attempts")), before
        revisions = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()]
        for rev in revisions[1:]:  # down to each earlier revision, then back to head
            command.downgrade(cfg, rev)
            if _tables(url) != set(Base.metadata.tables):
                break  # this step drops a table of ours: its rows go by design
            command.upgrade(cfg, "head")
            assert counts() == before, rev


def _staff_and_student_data(c, url: str) -> None:  # type: ignore[no-untyped-def]
    """An exam with a class's papers, an online answer, and a student's practice attempt."""
    from app.services import users

    session = c.app.state.session_factory()
    ta = users.create_user(session, name="ta", role="ta", password="password123")
    student = users.create_user(session, name="s1", role="student", password="password123")
    ta_token, st_token = users.create_token(session, user=ta), users.create_token(session, user=student)
    session.commit()
    session.close()
    ta_h, st_h = {"Authorization": f"Bearer {ta_token}"}, {"Authorization": f"Bearer {st_token}"}
    body = {
        "title": "t",
        "items": [{"problem": "loss.uniform_prediction"}],
        "variants": 2,
        "kind": "homework",
    }
    exam = c.post("/api/v1/exams", json=body, headers=ta_h).json()
    code = exam["variants"][0]["code"]
    sent = {"student": "2022001", "code": code, "answers": {"1": {"loss": "1"}}}
    assert c.post(f"/api/v1/exams/{exam['id']}/submissions", json=sent, headers=ta_h).status_code == 200
    assert c.get(f"/api/v1/exams/{exam['id']}/mine", headers=st_h).status_code == 200
    inst = c.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 1}).json()
    assert (
        c.post(
            f"/api/v1/instances/{inst['id']}/check", json={"answers": {"loss": "1"}}, headers=st_h
        ).status_code
        == 200
    )
