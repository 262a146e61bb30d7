"""What is stored and how: SQLite pragmas, foreign keys, hashed tokens and passwords, cookie flags,
instances that reproduce exactly (regrading), their creator, and 410 for an instance the bank changed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.models import ApiToken, Attempt, InstanceRecord, User
from app.services.instances import RecordCache
from problems.base import grade_answers

FAMILY = "loss.uniform_prediction"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    from app.db import make_engine

    engine = make_engine(sqlite_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_an_attempt_of_a_missing_instance_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import add_account

    add_account(app, "alice", "student")
    with app.state.session_factory() as s:
        uid = s.scalar(select(User.id).where(User.name == "alice"))
        s.add(
            Attempt(
                user_id=uid, instance_id="no-such-instance", problem=FAMILY, answers={}, parts={}, score=0
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()


def test_tokens_are_stored_only_as_sha256(app, accounts) -> None:  # type: ignore[no-untyped-def]
    token = accounts["student"].token
    with app.state.session_factory() as s:
        stored = list(s.scalars(select(ApiToken.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert all(token not in h for h in stored)


def test_passwords_are_argon2id_hashes(app, accounts) -> None:  # type: ignore[no-untyped-def]
    from app.services import users

    with app.state.session_factory() as s:
        alice = s.scalar(select(User).where(User.name == "alice"))
        assert alice is not None and alice.password_hash is not None
        assert alice.password_hash.startswith("$argon2id$")
        assert accounts["student"].password not in alice.password_hash
        assert users.authenticate(s, name="alice", password=accounts["student"].password) is not None
        assert users.authenticate(s, name="alice", password="not it") is None


def test_production_hashing_cost(_fast_password_hashing) -> None:  # type: ignore[no-untyped-def]
    # The suite swaps in a cheap hasher (conftest) and hands back the module's own: argon2id at
    # no less than the library's recommended cost.
    import argon2

    production = _fast_password_hashing
    assert production.type is argon2.Type.ID
    assert production.time_cost >= argon2.DEFAULT_TIME_COST
    assert production.memory_cost >= argon2.DEFAULT_MEMORY_COST


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(sqlite_db_url, secure) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.app.test_pages import _csrf
    from tests.conftest import add_account, make_app

    app = make_app(sqlite_db_url, secure_cookies=secure)
    with TestClient(app, base_url="https://testserver" if secure else "http://testserver") as c:
        add_account(app, "alice", "student")
        token = _csrf(c.get("/login").text)
        data = {"name": "alice", "password": "correct horse battery", "csrf_token": token}
        r = c.post("/login", data=data, follow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert ("secure" in cookie.replace("samesite", "")) is secure


def test_an_instance_stores_its_creator_and_reproduces_exactly(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta, alice = accounts["ta"].headers, accounts["student"].headers
    posed = client.post(
        "/api/v1/instances", json={"problem": FAMILY, "params": {"num_classes": 7}}, headers=ta
    )
    anon = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 42}).json()
    check = client.post(
        f"/api/v1/instances/{posed.json()['id']}/check", json={"answers": {"loss": "ln 7"}}, headers=alice
    )
    assert check.json()["score"] == 1.0
    from app.services import instances

    with app.state.session_factory() as s:
        record = s.get(InstanceRecord, posed.json()["id"])
        tina = s.scalar(select(User.id).where(User.name == "tina"))
        assert record is not None and record.created_by == tina and record.version >= 1
        assert s.get(InstanceRecord, anon["id"]).created_by is None  # type: ignore[union-attr]
        attempt = s.get(Attempt, check.json()["attempt_id"])
        assert attempt is not None
        # Regrading: the rebuilt instance grades the stored answers to the stored verdicts.
        instances._build.cache_clear()  # rebuilt from the stored record, not served from the cache
        again = grade_answers(instances.build(record), attempt.answers, attempt.lang)
        assert again.score == attempt.score
        assert {k: (p.correct, p.score) for k, p in again.parts.items()} == {
            k: (p["correct"], p["score"]) for k, p in attempt.parts.items()
        }
    seeded = client.get(f"/api/v1/instances/{anon['id']}").json()
    assert (
        client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 42}).json()["statement"]
        == seeded["statement"]
    )


def test_an_instance_of_an_older_family_version_is_410(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    # optim.grad_clip v2 changed what its params pose: a v1 instance cannot be reproduced.
    family = "optim.grad_clip"
    inst = client.post("/api/v1/instances", json={"problem": family, "seed": 3}).json()
    with app.state.session_factory() as s:
        record = s.get(InstanceRecord, inst["id"])
        assert record is not None
        record.version -= 1  # posed before the family's last change
        s.commit()
    # A family changes with a new release, whose processes start with no instance cached.
    app.state.records = RecordCache()
    r = client.get(f"/api/v1/instances/{inst['id']}")
    assert r.status_code == 410 and "version" in r.json()["detail"]
    r = client.post(f"/api/v1/instances/{inst['id']}/check", json={"answers": {"norm": "1"}})
    assert r.status_code == 410
    page = client.get(f"/practice/{family}?i={inst['id']}")
    assert page.status_code == 410 and "version" in page.text


def test_a_family_whose_seeds_changed_but_not_its_params_keeps_its_instances(app, client) -> None:  # type: ignore[no-untyped-def]
    """attention.positional_encoding v2 changed only what a seed draws: its v1 instances, stored
    with their params, pose the same question. They went 410, and with one of them every homework
    holding it (a review found it)."""
    pe = "attention.positional_encoding"
    iid = client.post("/api/v1/instances", json={"problem": pe, "seed": 3}).json()["id"]
    for version, status in ((1, 200), (0, 410)):
        with app.state.session_factory() as s:
            record = s.get(InstanceRecord, iid)
            assert record is not None
            record.version = version
            s.commit()
        app.state.records = RecordCache()
        assert client.get(f"/api/v1/instances/{iid}").status_code == status, version


def test_a_family_whose_params_gained_defaulted_fields_keeps_its_instances(app, client) -> None:  # type: ignore[no-untyped-def]
    """attention.multihead_params v2 added kdim, vdim and add_bias_kv, defaulting to PyTorch's: a v1
    instance, stored with v1's params, poses and grades as it did (4 * (512*512 + 512))."""
    mh = "attention.multihead_params"
    iid = client.post("/api/v1/instances", json={"problem": mh, "seed": 3}).json()["id"]
    with app.state.session_factory() as s:
        record = s.get(InstanceRecord, iid)
        assert record is not None
        record.version, record.params = 1, {"embed_dim": 512, "num_heads": 8, "bias": True}
        s.commit()
    app.state.records = RecordCache()
    posed = client.get(f"/api/v1/instances/{iid}").json()
    assert "self-attention" in posed["statement"]["en"] and "kdim" not in posed["statement"]["en"]
    r = client.post(f"/api/v1/instances/{iid}/check", json={"answers": {"num_params": "1050624"}})
    assert r.status_code == 200 and r.json()["score"] == 1.0


def test_two_copies_of_a_retried_check_store_one_attempt(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """Both copies got past the key lookup before either committed: the second INSERT hits the
    unique key, and it answers with the first copy's attempt id (on both databases)."""
    from app.services import attempts, instances
    from app.services.grading import Grader

    with app.state.session_factory() as s:
        user = s.scalar(select(User).where(User.name == accounts["student"].name))
        record, inst = instances.create_instance(s, problem=FAMILY, seed=3, params=None, user=user)
        result = Grader(0, 1.0).grade(inst, dict(inst.answers), "en")
        ids = [
            attempts.record_attempt(
                s,
                user=user,
                record=record,
                answers=dict(inst.answers),
                result=result,
                lang="en",
                idempotency_key="same-key",
            )
            for _ in range(2)
        ]
        stored = s.scalars(select(Attempt).where(Attempt.idempotency_key == "same-key")).all()
    assert ids[0] == ids[1] == stored[0].id and len(stored) == 1
    assert stored[0].score == 1.0 and stored[0].answers == dict(inst.answers)
    assert stored[0].created_at.tzinfo is not None  # the UTC column type still applies to a Core insert


def test_on_sqlite_an_attempt_is_committed_by_its_insert_alone(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    """On SQLite the attempt's INSERT commits by itself: the write lock is taken and freed in one
    call into SQLite, never held while the thread waits for the GIL (the other worker's writers
    slept in SQLite's busy handler meanwhile: both CPUs 15 % idle in bench.http_bench's checks).
    PostgreSQL's row locks do not block other inserts; there it is INSERT ... RETURNING, COMMIT.
    What SQLite runs is traced on each connection: no BEGIN is open when the INSERT runs."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from tests.conftest import add_account, make_app

    app = make_app(sqlite_db_url)
    run: list[str] = []

    @event.listens_for(app.state.engine, "connect")
    def trace(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.set_trace_callback(lambda sql: run.append(" ".join(sql.split()[:3]).upper()))

    app.state.engine.dispose()  # connections made from now on are traced
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {add_account(app, 'alice', 'student').token}"}
        iid = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 5}).json()["id"]
        run.clear()
        first = client.post(
            f"/api/v1/instances/{iid}/check", json={"answers": {"loss": "1"}}, headers=headers
        )
        second = client.post(
            f"/api/v1/instances/{iid}/check", json={"answers": {"loss": "2"}}, headers=headers
        )
    assert first.status_code == second.status_code == 200
    assert second.json()["attempt_id"] == first.json()["attempt_id"] + 1  # the id read back is the row's
    inserts = [i for i, sql in enumerate(run) if sql.startswith("INSERT INTO ATTEMPTS")]
    assert len(inserts) == 2, run
    for i in inserts:
        opened = [sql for sql in run[:i] if sql.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK")]
        assert not opened or opened[-1] != "BEGIN", run  # not inside a transaction of its own


def test_an_attempt_stored_through_the_sqlite_driver_reads_as_through_sqlalchemy(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    """The SQLite INSERT binds through the driver itself (attempts._insert_committed): every column is
    stored exactly as SQLAlchemy's own INSERT stores it (JSON text, the UTC time, the boolean), and
    text holding NUL is refused the same way (in JSON it is written as an escape, as before)."""
    import sqlite3

    from sqlalchemy.exc import DataError

    from app.db import make_engine, make_session_factory, utcnow
    from app.services import attempts, instances
    from app.services.users import create_user

    engine = make_engine(sqlite_db_url)
    with make_session_factory(engine)() as s:
        user = create_user(s, name="alice", role="student")
        record, _ = instances.create_instance(s, problem=FAMILY, seed=3, params=None, user=user)
        s.commit()
        row = {
            "user_id": user.id,
            "instance_id": record.id,
            "problem": FAMILY,
            "answers": {"loss": "ln(5)", "note": "交叉熵 ≈ 1.6"},
            "parts": {"loss": {"correct": True, "score": 1.0, "feedback": "", "interpreted": None}},
            "score": 1.0,
            "idempotency_key": None,
            "lang": "zh",
            "needs_manual": True,
            "created_at": utcnow(),
        }
        driver_id = attempts._insert_committed(s, dict(row))
        core_id = s.execute(attempts._INSERT_ATTEMPT_RETURNING, row).scalar_one()
        s.commit()
        with pytest.raises(DataError):
            attempts._insert_committed(s, {**row, "idempotency_key": "k\x00"})  # text, not JSON
        s.rollback()
    engine.dispose()
    db = sqlite3.connect(sqlite_db_url.removeprefix("sqlite:///"))
    stored = {
        i: db.execute("SELECT * FROM attempts WHERE id = ?", (i,)).fetchone()[1:]
        for i in (driver_id, core_id)
    }
    assert db.execute("SELECT count(*) FROM attempts").fetchone() == (2,)
    db.close()
    assert stored[driver_id] == stored[core_id]


def test_the_connection_is_transactional_again_after_an_attempts_autocommit(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    """The attempt's INSERT runs in autocommit on the connection itself: the connection goes back to
    the pool as it came, after a stored attempt and after a copy refused by the unique key alike. Left
    in autocommit, the next request on it would commit each write as it went (a class's papers half
    stored, a rollback undoing nothing)."""
    from sqlalchemy import func
    from sqlalchemy.orm import Session

    from app.db import make_engine, make_session_factory
    from app.services import attempts, instances
    from app.services.grading import Grader
    from app.services.users import create_user

    engine = make_engine(sqlite_db_url)
    with engine.connect() as conn:  # one connection, kept: what the pool would hand on
        s = Session(bind=conn, expire_on_commit=False, autoflush=False)
        user = create_user(s, name="alice", role="student", password="correct horse battery")
        record, inst = instances.create_instance(s, problem=FAMILY, seed=3, params=None, user=user)
        s.commit()
        ids = user.id, record.id
        result = Grader(0, 1.0).grade(inst, dict(inst.answers), "en")
        dbapi = conn.connection.driver_connection
        for _ in range(2):  # stored, then the same key again: the unique key refuses the copy
            attempts.record_attempt(
                s, user=user, record=record, answers={}, result=result, lang="en", idempotency_key="k"
            )
            assert dbapi.isolation_level == ""  # type: ignore[union-attr]
            user.display_name = "not kept"
            s.flush()
            assert dbapi.in_transaction  # type: ignore[union-attr]
            s.rollback()
            assert s.scalar(select(User.display_name).where(User.id == user.id)) != "not kept"
        s.close()
    engine.dispose()
    # A session that has not touched the database (the caller and instance cached) stores through
    # a connection of its own from the pool: it goes back as it came too.
    engine = make_engine(sqlite_db_url, connections=1)
    factory = make_session_factory(engine)
    user, record = User(id=ids[0]), InstanceRecord(id=ids[1], problem=FAMILY)  # as the caches hold them
    for copy in range(2):  # stored, then refused by the unique key (and the first one's id read)
        with factory() as s:
            attempts.record_attempt(
                s, user=user, record=record, answers={}, result=result, lang="en", idempotency_key="k2"
            )
            assert copy or not s.in_transaction()  # no session transaction was begun for it
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi.isolation_level == ""  # type: ignore[union-attr]
        conn.execute(text("UPDATE users SET display_name = 'not kept'"))
        assert dbapi.in_transaction  # type: ignore[union-attr]
        conn.rollback()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Attempt).where(Attempt.idempotency_key == "k2")) == 1
    engine.dispose()


@pytest.mark.parametrize("path", ["api", "practice form"])
def test_an_anonymous_check_holds_no_connection_when_it_is_done(app, path) -> None:  # type: ignore[no-untyped-def]
    """An anonymous check stores nothing: through the API, of a cached instance, it touches no
    database; through the practice form, whose page is rendered in a thread trip of its own, the
    connection that read the instance is back in the pool before that trip."""
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import event

    out: list[int] = []
    event.listen(app.state.engine, "checkout", lambda *_: out.append(1))
    event.listen(app.state.engine, "checkin", lambda *_: out.pop())
    with TestClient(app) as c:
        page = c.get(f"/practice/{FAMILY}")
        iid = re.search(r'name="instance_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        if path == "api":
            seen: list[str] = []
            event.listen(app.state.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
            assert (
                c.post(f"/api/v1/instances/{iid}/check", json={"answers": {"loss": "1"}}).status_code == 200
            )
            assert seen == []
            return
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        app.state.records = RecordCache()  # a worker that has not seen this instance reads it
        held: list[int] = []
        from app.web import pages

        render = pages._practice_page

        def rendering(*args, **kwargs):  # type: ignore[no-untyped-def]
            held.append(len(out))
            return render(*args, **kwargs)

        pages._practice_page = rendering
        try:
            r = c.post(f"/practice/{FAMILY}", data={"instance_id": iid, "csrf_token": csrf, "loss": "1"})
        finally:
            pages._practice_page = render
        assert r.status_code == 200 and held == [0]


def test_a_cached_instance_is_a_detached_copy(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Records are kept per process once read (they never change); what is kept belongs to no
    session, and an unknown id is never kept."""
    from sqlalchemy import inspect

    h = accounts["student"].headers
    iid = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 5}, headers=h).json()["id"]
    assert app.state.records.get(iid) is not None  # kept when posed: its checks come next
    app.state.records = RecordCache()  # as in another worker process
    assert client.get(f"/api/v1/instances/{iid}").status_code == 200
    kept = app.state.records.get(iid)
    assert kept is not None and inspect(kept).transient  # in no session: none can expire or reload it
    assert (kept.problem, kept.seed) == (FAMILY, 5)
    assert client.get("/api/v1/instances/nosuchinstance").status_code == 404
    assert app.state.records.get("nosuchinstance") is None
    check = client.post(f"/api/v1/instances/{iid}/check", json={"answers": {}}, headers=h)
    assert check.status_code == 200 and check.json()["attempt_id"] > 0


def test_the_record_cache_keeps_the_most_recently_used() -> None:
    from app.models import InstanceRecord
    from app.services.instances import RecordCache

    cache = RecordCache(size=2)
    for i in "abc":
        cache.put(InstanceRecord(id=i, problem=FAMILY, version=1, seed=1, params={}))
        if i == "b":
            cache.get("a")  # a is used again, so b is the oldest when c comes
    assert cache.get("a") is not None and cache.get("c") is not None and cache.get("b") is None


def test_times_leave_the_database_in_utc_whatever_the_session_time_zone(
    client, accounts, db_kind, db_url
) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL hands a timestamptz back in the session's time zone: a server set to
    Asia/Shanghai said +08:00 in /attempts and /exams. Every time the API says is in UTC."""
    from datetime import UTC, datetime, timedelta

    from fastapi.testclient import TestClient

    from tests.conftest import make_app
    from tests.dbs import in_every_time_zone

    start = datetime.now(UTC)
    due = (start + timedelta(days=3)).replace(microsecond=0)
    ta, student = accounts["ta"].headers, accounts["student"].headers
    exam = {"title": "t", "items": [{"problem": "loss.uniform_prediction"}], "due_at": due.isoformat()}
    assert client.post("/api/v1/exams", json=exam, headers=ta).status_code == 201
    inst = client.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 1}).json()
    assert (
        client.post(
            f"/api/v1/instances/{inst['id']}/check", json={"answers": {"loss": "1"}}, headers=student
        ).status_code
        == 200
    )
    end = datetime.now(UTC)
    for url in in_every_time_zone(db_url, db_kind):
        with TestClient(make_app(url)) as c:
            listed = c.get("/api/v1/exams", headers=ta).json()["data"][0]
            attempt = c.get("/api/v1/me/attempts", headers=student).json()["data"][0]
        for said in (listed["created_at"], attempt["created_at"]):
            moment = datetime.fromisoformat(said)
            assert moment.utcoffset() == timedelta(0), (url, said)
            assert start <= moment <= end
        assert datetime.fromisoformat(listed["due_at"]) == due and listed["due_at"].endswith(("Z", "+00:00"))


def test_an_attempt_on_a_connection_that_is_gone_is_a_database_error_and_the_connection_is_dropped(
    sqlite_db_url,
) -> None:  # type: ignore[no-untyped-def]
    """The driver's own INSERT reports a dead connection as SQLAlchemy would (connection_invalidated:
    a 503, app/errors.py) and keeps it out of the pool."""
    from sqlalchemy.exc import DBAPIError

    from app.db import make_engine, make_session_factory, utcnow
    from app.services import attempts, instances
    from app.services.users import create_user

    engine = make_engine(sqlite_db_url, connections=1)
    factory = make_session_factory(engine)
    with factory() as s:
        user = create_user(s, name="alice", role="student")
        record, _ = instances.create_instance(s, problem=FAMILY, seed=3, params=None, user=user)
        s.commit()
        row = {
            "user_id": user.id, "instance_id": record.id, "problem": FAMILY, "answers": {}, "parts": {},
            "score": 0.0, "idempotency_key": None, "lang": "en", "needs_manual": False, "created_at": utcnow(),
        }  # fmt: skip
        s.execute(text("SELECT 1"))  # the session holds a connection, as after a token lookup
        dead = s.connection().connection.driver_connection
        dead.close()  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as refused:
            attempts._insert_committed(s, dict(row))
        assert refused.value.connection_invalidated
        s.rollback()
    with factory() as s:  # the pool made a new connection: this one works
        assert s.connection().connection.driver_connection is not dead
        assert attempts._insert_committed(s, dict(row)) > 0
    # The driver's own INSERT (a pooled connection taken for it alone) says the same of a dead one.
    dropped: list[bool] = []
    with pytest.raises(DBAPIError) as refused:
        attempts._sqlite_autocommit_insert(dead, engine.dialect, dict(row), lambda: dropped.append(True))
    assert refused.value.connection_invalidated and dropped == [True]
    engine.dispose()
