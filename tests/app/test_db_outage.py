"""PostgreSQL goes away: requests get 503 with a clear message, nothing half-written; it comes back by itself."""

from __future__ import annotations

import socket
import threading

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add_account, make_app

pytestmark = pytest.mark.postgres


class Proxy:
    """A TCP relay in front of PostgreSQL that the test can cut and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.up = True
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown, not just close: the other direction's thread is blocked in recv() on one of
            # these, and a close() does not wake it; the socket then stayed open with no owner, and
            # PostgreSQL kept its backend (and its locks) until the process ended.
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        self.up = False
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.sock.close()


def test_outage_gives_503_and_recovers(db_kind, db_url) -> None:  # type: ignore[no-untyped-def]
    if db_kind != "postgres":
        pytest.skip("the outage is simulated in front of PostgreSQL")
    proxy = Proxy(("127.0.0.1", 5432))
    url = db_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    app = make_app(url)
    alice = add_account(app, "alice", "student")
    try:
        with TestClient(app) as c:
            inst = c.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 1}).json()
            url_check = f"/api/v1/instances/{inst['id']}/check"
            assert (
                c.post(url_check, json={"answers": {"loss": "1"}}, headers=alice.headers).status_code == 200
            )
            proxy.cut()
            for path in ("/healthz", "/api/v1/me/attempts"):
                r = c.get(path, headers=alice.headers)
                assert r.status_code == 503 and "database" in r.json()["detail"].lower()
                assert r.headers.get("retry-after")
            down = c.post(url_check, json={"answers": {"loss": "2"}}, headers=alice.headers)
            assert down.status_code == 503
            proxy.restore()
            assert c.get("/healthz").status_code == 200  # no restart needed
            mine = c.get("/api/v1/me/attempts", headers=alice.headers).json()
            assert [a["answers"]["loss"] for a in mine["data"]] == [
                "1"
            ]  # the refused check left nothing behind
            assert (
                c.post(url_check, json={"answers": {"loss": "3"}}, headers=alice.headers).status_code == 200
            )
    finally:
        proxy.close()


def test_losing_the_database_while_an_exam_answer_is_read_is_a_503(db_kind, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The connection drops after the caller is known, while the exam's questions are read: a 503
    like any outage (a commit in a `finally` once turned it into a 500), and nothing is stored."""
    if db_kind != "postgres":
        pytest.skip("the outage is simulated in front of PostgreSQL")
    from app.services import exams

    proxy = Proxy(("127.0.0.1", 5432))
    app = make_app(db_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    alice, ta = add_account(app, "alice", "student"), add_account(app, "tina", "ta")
    read_questions = exams.variant_instances

    def cut_then_read(session, variant):  # type: ignore[no-untyped-def]
        proxy.cut()
        return read_questions(session, variant)

    try:
        with TestClient(app) as c:
            body = {
                "title": "hw",
                "items": [{"problem": "loss.uniform_prediction"}],
                "seed": 1,
                "kind": "homework",
            }
            exam = c.post("/api/v1/exams", json=body, headers=ta.headers).json()
            code = exam["variants"][0]["code"]
            assert c.get(f"/api/v1/exams/{exam['id']}/mine", headers=alice.headers).status_code == 200
            answer = {"question": 1, "answers": {"loss": "1"}}
            submission = {"student": "s1", "code": code, "answers": {"1": {"loss": "1"}}}
            for path, json, who in (
                ("mine/answers", answer, alice),
                ("submissions", submission, ta),
            ):
                monkeypatch.setattr(exams, "variant_instances", cut_then_read)
                r = c.post(f"/api/v1/exams/{exam['id']}/{path}", json=json, headers=who.headers)
                assert r.status_code == 503 and "database" in r.json()["detail"].lower(), r.text
                monkeypatch.setattr(exams, "variant_instances", read_questions)
                proxy.restore()
                assert (
                    c.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta.headers).text.count("\n") == 1
                )
            assert (
                c.post(
                    f"/api/v1/exams/{exam['id']}/mine/answers", json=answer, headers=alice.headers
                ).status_code
                == 200
            )
    finally:
        proxy.close()
