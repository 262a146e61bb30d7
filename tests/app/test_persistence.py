"""What is stored and how: SQLite pragmas, foreign keys, hashed tokens and passwords, cookie flags,
instances that reproduce exactly (regrading), their creator, and 410 for an instance the bank changed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.models import ApiToken, Attempt, InstanceRecord, User
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
    inst = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 3}).json()
    with app.state.session_factory() as s:
        record = s.get(InstanceRecord, inst["id"])
        assert record is not None
        record.version -= 1  # posed before the family's last change
        s.commit()
    r = client.get(f"/api/v1/instances/{inst['id']}")
    assert r.status_code == 410 and "version" in r.json()["detail"]
    r = client.post(f"/api/v1/instances/{inst['id']}/check", json={"answers": {"loss": "1"}})
    assert r.status_code == 410
    page = client.get(f"/practice/{FAMILY}?i={inst['id']}")
    assert page.status_code == 410 and "version" in page.text
