"""The failed-login limiter: locks after the limit, forgets after the window, survives a spray of names."""

from __future__ import annotations

import pytest

from app.services.errors import TooManyRequests
from app.services.ratelimit import LoginLimiter
from tests.app.test_pages import _csrf
from tests.conftest import add_account, make_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_locks_after_the_limit_and_forgets_after_the_window() -> None:
    clock = Clock()
    lim = LoginLimiter(3, window=60, clock=clock)
    for _ in range(3):
        lim.check("alice|1.2.3.4")
        lim.fail("alice|1.2.3.4")
    with pytest.raises(TooManyRequests):
        lim.check("alice|1.2.3.4")
    lim.check("alice|5.6.7.8")  # another address is another key
    clock.now += 59
    with pytest.raises(TooManyRequests):
        lim.check("alice|1.2.3.4")
    clock.now += 2
    lim.check("alice|1.2.3.4")
    assert len(lim) == 0, "a key with only stale failures is dropped when checked"


def test_checking_adds_nothing() -> None:
    lim = LoginLimiter(3, clock=Clock())
    for i in range(1000):
        lim.check(f"user{i}|ip")
    assert len(lim) == 0


def test_a_spray_of_names_does_not_unlock_the_name_under_attack() -> None:
    clock = Clock()
    lim = LoginLimiter(3, max_keys=100, clock=clock)
    for _ in range(3):
        lim.fail("victim|ip")
    for i in range(1000):  # the attacker fills the table with other names...
        clock.now += 0.001
        lim.fail(f"spray{i}|ip")
        if i % 50 == 0:
            lim.fail("victim|ip")  # ...while still trying the victim's
    assert len(lim) == 100
    with pytest.raises(TooManyRequests):
        lim.check("victim|ip")


def test_the_login_page_is_rate_limited_with_a_bilingual_message(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    app = make_app(sqlite_db_url)
    with TestClient(app) as c:
        alice = add_account(app, "alice", "student")
        limit = app.state.settings.login_attempts_per_minute
        for _ in range(limit):
            token = _csrf(c.get("/login").text)
            r = c.post("/login", data={"name": "alice", "password": "wrong", "csrf_token": token})
            assert r.status_code == 401
        token = _csrf(c.get("/login").text)
        data = {"name": "alice", "password": alice.password, "csrf_token": token}
        r = c.post("/login", data=data, follow_redirects=False)
        assert r.status_code == 429, "even the right password waits out the lock"
        assert "登录失败次数过多" in r.text and "Too many failed logins" in r.text
        assert 'value="alice"' in r.text, "the name typed stays in its box"
