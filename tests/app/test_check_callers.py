"""POST .../check remembers whom a token belongs to (users.CheckCallers): what a revocation still
allows, and for how long, in this worker process and in another one on the same database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import Attempt, User
from app.services import users
from tests.conftest import make_app

FAMILY = "loss.uniform_prediction"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _check(client: TestClient, iid: str, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/instances/{iid}/check", json={"answers": {"loss": "ln(5)"}, **body}, headers=headers
    )


def _pose(client: TestClient, headers: dict[str, str]) -> str:
    r = client.post(
        "/api/v1/instances", json={"problem": FAMILY, "params": {"num_classes": 5}}, headers=headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _attempt_users(app) -> list[int]:  # type: ignore[no-untyped-def]
    with app.state.session_factory() as s:
        return list(s.scalars(select(Attempt.user_id).order_by(Attempt.id)))


def test_a_token_revoked_in_this_process_is_refused_at_once(client, accounts) -> None:  # type: ignore[no-untyped-def]
    iid = _pose(client, accounts["ta"].headers)
    r = client.post("/api/v1/auth/token", json={"name": "alice", "password": accounts["student"].password})
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    assert _check(client, iid, h).json()["attempt_id"]  # now remembered
    assert client.delete("/api/v1/auth/token", headers=h).status_code == 204
    refused = _check(client, iid, h)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_another_worker_records_a_revoked_tokens_checks_until_its_ttl_and_nothing_else(db_url) -> None:  # type: ignore[no-untyped-def]
    """Two apps on one database stand for two worker processes: a revocation made in one reaches the
    other's check route within check_caller_seconds, and every other route of it at once."""
    a, b = make_app(db_url), make_app(db_url, check_caller_seconds=10)
    clock = Clock()
    b.state.check_callers.clock = clock
    from tests.conftest import add_account

    ta, alice = add_account(a, "tina", "ta"), add_account(a, "alice", "student")
    with TestClient(a) as ca, TestClient(b) as cb:
        iid = _pose(ca, ta.headers)
        h = {"Authorization": f"Bearer {alice.token}"}
        assert _check(cb, iid, h).status_code == 200  # b remembers alice's token
        assert ca.delete("/api/v1/auth/token", headers=h).status_code == 204
        assert _check(ca, iid, h).status_code == 401
        assert cb.get("/api/v1/me", headers=h).status_code == 401  # no other route remembers
        clock.now += 9
        late = _check(cb, iid, h)
        assert late.status_code == 200 and late.json()["attempt_id"]  # within the 10 s: still alice's
        clock.now += 2
        assert _check(cb, iid, h).status_code == 401
    alice_id = _attempt_users(a)[0]
    assert _attempt_users(a) == [alice_id, alice_id]


def test_with_no_ttl_every_check_asks_the_database(db_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import add_account

    a, b = make_app(db_url), make_app(db_url, check_caller_seconds=0)
    ta, alice = add_account(a, "tina", "ta"), add_account(a, "alice", "student")
    with TestClient(a) as ca, TestClient(b) as cb:
        iid = _pose(ca, ta.headers)
        h = {"Authorization": f"Bearer {alice.token}"}
        assert _check(cb, iid, h).status_code == 200
        assert ca.delete("/api/v1/auth/token", headers=h).status_code == 204
        assert _check(cb, iid, h).status_code == 401


def test_a_change_to_a_user_committed_in_this_process_is_seen_by_the_next_check(
    client, accounts, app
) -> None:  # type: ignore[no-untyped-def]
    """The remembered copy carries the account's language (feedback defaults to it): changing it, like
    a revocation or a role, makes the process forget every caller at the commit."""
    iid = _pose(client, accounts["ta"].headers)
    h = accounts["student"].headers
    wrong = {"answers": {"loss": "log10(5)"}}
    zh = client.post(f"/api/v1/instances/{iid}/check", json=wrong, headers=h).json()
    assert "自然对数" in zh["parts"]["loss"]["feedback"]  # accounts are zh by default
    with app.state.session_factory() as s:
        s.scalars(select(User).where(User.name == "alice")).one().lang = "en"
        s.commit()
    en = client.post(f"/api/v1/instances/{iid}/check", json=wrong, headers=h).json()
    assert "natural" in en["parts"]["loss"]["feedback"]


def test_a_lookup_that_raced_a_revocation_is_not_kept() -> None:
    callers = users.CheckCallers(ttl=10)
    alice = User(id=7, name="alice", display_name="", role="student", active=True, lang="zh")
    begun = callers.generation  # the lookup reads the database ...
    callers.forget()  # ... a revocation commits ...
    callers.put("dlg_x", alice, begun)  # ... and the lookup's answer comes back
    assert callers.get("dlg_x") is None
    callers.put("dlg_x", alice, callers.generation)
    assert callers.get("dlg_x") is not None


def test_the_remembered_callers_are_bounded_copies_without_a_password_hash() -> None:
    callers = users.CheckCallers(ttl=10, size=2)
    for i in range(3):
        u = User(
            id=i,
            name=f"u{i}",
            display_name="",
            role="student",
            active=True,
            lang="en",
            password_hash="$argon2",
        )
        callers.put(f"dlg_{i}", u, callers.generation)
    assert callers.get("dlg_0") is None  # the oldest made room
    kept = callers.get("dlg_2")
    assert kept is not None and kept.id == 2 and kept.password_hash is None


@pytest.mark.parametrize("ttl", [0, -1])
def test_no_ttl_keeps_nothing(ttl: float) -> None:
    callers = users.CheckCallers(ttl=ttl)
    callers.put("dlg_x", User(id=1, name="a", role="student", active=True, lang="en"), callers.generation)
    assert callers.get("dlg_x") is None


def test_a_lookup_racing_a_revocation_in_the_route_is_not_kept(client, accounts, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The generation is read before the database is: a revocation committed while the route looks
    the token up (forget() in between) leaves nothing remembered."""
    from app import deps

    iid = _pose(client, accounts["ta"].headers)
    callers = app.state.check_callers
    looked_up = deps.users.user_for_token

    def revoked_meanwhile(session, token):  # type: ignore[no-untyped-def]
        user = looked_up(session, token)
        callers.forget()
        return user

    monkeypatch.setattr(deps.users, "user_for_token", revoked_meanwhile)
    assert _check(client, iid, accounts["student"].headers).status_code == 200
    assert callers.get(accounts["student"].token) is None
    monkeypatch.undo()
    assert _check(client, iid, accounts["student"].headers).status_code == 200
    assert callers.get(accounts["student"].token) is not None


def test_a_flushed_change_is_forgotten_before_its_commit(client, accounts, app) -> None:  # type: ignore[no-untyped-def]
    iid = _pose(client, accounts["ta"].headers)
    _check(client, iid, accounts["student"].headers)
    callers = app.state.check_callers
    assert callers.get(accounts["student"].token) is not None
    with app.state.session_factory() as s:
        s.scalars(select(User).where(User.name == "alice")).one().active = False
        s.flush()
        assert callers.get(accounts["student"].token) is None  # a check now reads the row (locked)
        s.rollback()


def test_a_deleted_account_remembered_elsewhere_is_a_401_not_an_attempt(db_url) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from tests.conftest import add_account

    a, b = make_app(db_url), make_app(db_url)
    ta, alice = add_account(a, "tina", "ta"), add_account(a, "alice", "student")
    with TestClient(a) as ca, TestClient(b) as cb:
        iid = _pose(ca, ta.headers)
        h = {"Authorization": f"Bearer {alice.token}"}
        assert _check(cb, iid, h).status_code == 200  # b remembers alice
        with a.state.session_factory() as s:
            s.execute(delete(User).where(User.name == "alice"))  # by hand: no route deletes accounts
            s.commit()
        for headers in (h, {**h, "Idempotency-Key": "k1"}):
            gone = _check(cb, iid, headers)
            assert gone.status_code == 401 and "no longer exists" in gone.text, gone.text
    assert _attempt_users(a) == []  # alice's first attempt went with her account
