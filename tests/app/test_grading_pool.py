"""One slow or hostile check never stalls other requests, and it is cut off at the time bound."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import Field

import problems
from grader import AnswerSpec
from problems.base import Family, Params, Part, bi
from problems.registry import REGISTRY
from tests.conftest import make_app


class SlowParams(Params):
    n: int = Field(default=1, ge=1, le=2)


class SlowFamily(Family[SlowParams]):
    """A family whose expression part takes 30 s to grade: stands in for a pathological check."""

    id = "test.slow"
    title = bi("慢", "slow")
    difficulty = 1
    tags = ("ffn",)
    Params = SlowParams

    def generate(self, rng: np.random.Generator) -> SlowParams:
        return SlowParams()

    def parts(self, p: SlowParams) -> list[Part]:
        return [Part("expr", AnswerSpec("expression", symbols=("x",)), bi("式", "expr"))]

    def solve(self, p: SlowParams) -> dict[str, str]:
        return {"expr": "x"}

    def statement(self, p: SlowParams) -> dict[str, str]:
        return bi("写 x", "write x")

    def solution(self, p: SlowParams) -> dict[str, list[str]]:
        return {"zh": ["x"], "en": ["x"]}

    def grade_part(self, p, part, answer, reference, lang):  # type: ignore[no-untyped-def]
        time.sleep(30)
        raise AssertionError("never reached: the worker is killed first")


@contextmanager
def _app_with_slow_family(url: str, **settings: object) -> Iterator[TestClient]:
    """An app whose bank has test.slow, registered before the pool starts so its workers know it."""
    from app.services import catalogue

    REGISTRY["test.slow"] = SlowFamily()
    catalogue.list_problems.cache_clear()
    try:
        with TestClient(make_app(url, **settings)) as c:
            yield c
    finally:
        REGISTRY.pop("test.slow", None)
        catalogue.list_problems.cache_clear()


@pytest.fixture
def pooled(sqlite_db_url):  # type: ignore[no-untyped-def]
    with _app_with_slow_family(sqlite_db_url, grading_workers=2, check_timeout=1.0) as c:
        yield c


def test_slow_check_is_cut_off_and_fast_checks_go_on(pooled) -> None:  # type: ignore[no-untyped-def]
    slow = pooled.post("/api/v1/instances", json={"problem": "test.slow", "seed": 1}).json()
    fast = pooled.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 1}).json()
    k = fast["params"]["num_classes"]
    finished: list[str] = []
    slow_result: dict = {}

    def run_slow() -> None:
        r = pooled.post(f"/api/v1/instances/{slow['id']}/check", json={"answers": {"expr": "x+1"}})
        slow_result.update(r.json())
        finished.append("slow")

    t = threading.Thread(target=run_slow)
    t.start()
    time.sleep(0.2)  # the slow check is now running in a worker
    for _ in range(10):
        r = pooled.post(f"/api/v1/instances/{fast['id']}/check", json={"answers": {"loss": f"ln({k})"}})
        assert r.status_code == 200 and r.json()["score"] == 1.0
        finished.append("fast")
    t.join(timeout=20)
    assert not t.is_alive()
    assert finished.index("slow") == len(finished) - 1  # every fast check finished before it
    part = slow_result["parts"]["expr"]
    assert part["correct"] is False and "1" in part["feedback"]  # "took longer than 1.0 s"
    # The pool recovered: the next expression check is answered (and cut off again) normally.
    again = pooled.post(f"/api/v1/instances/{slow['id']}/check", json={"answers": {"expr": "x"}})
    assert again.status_code == 200 and again.json()["parts"]["expr"]["correct"] is False
    assert problems.get_family("test.slow").id == "test.slow"


def test_in_thread_parts_share_one_budget_for_the_whole_check() -> None:
    """Numeric parts are graded in the request thread; every grade() of the check (each part,
    each misconception compared) runs under one deadline, so many slow-ish steps cannot add up."""
    from grader import limits
    from problems.base import Misconception

    calls: list[float] = []

    class Busy(SlowFamily):
        id = "test.busy"

        def parts(self, p: SlowParams) -> list[Part]:
            return [Part(f"n{i}", AnswerSpec("real"), bi("数", "number")) for i in range(5)]

        def solve(self, p: SlowParams) -> dict[str, str]:
            return {f"n{i}": "1" for i in range(5)}

        def misconceptions(self) -> list[Misconception[SlowParams]]:
            return [Misconception("m", bi("错", "wrong"), lambda p: {f"n{i}": "2" for i in range(5)})]

        def grade_part(self, p, part, answer, reference, lang):  # type: ignore[no-untyped-def]
            # 0.4 s of deadline-aware work per call: five parts would take 2 s without a shared budget
            start = time.monotonic()
            calls.append(start)
            while time.monotonic() - start < 0.4:
                limits.tick()
            return super(SlowFamily, self).grade_part(p, part, answer, reference, lang)

    from app.services.grading import Grader

    inst = problems.base.build_instance(Busy(), seed=None, p=SlowParams())
    t0 = time.monotonic()
    result = Grader(workers=0, timeout=1.0).grade(inst, {f"n{i}": "3" for i in range(5)}, "en")
    elapsed = time.monotonic() - t0
    assert elapsed < 1.5, elapsed  # a hang detector for the shared 1 s budget (2 s+ without it)
    assert result.score == 0.0
    assert any(r.reason == "timeout" for r in result.parts.values())


def test_preview_reads_in_the_pool_and_refuses_huge_exact_powers(pooled) -> None:  # type: ignore[no-untyped-def]
    """The live preview needs no login and runs on every keystroke: it reads non-plain text in a
    worker under the same bound as a check, and the grader refuses work it cannot bound."""
    inst = pooled.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 3}).json()
    part = inst["parts"][0]["name"]
    url = f"/api/v1/instances/{inst['id']}/preview"
    ok = pooled.post(url, json={"part": part, "text": "-ln(0.25)", "lang": "en"})
    assert (
        ok.status_code == 200
        and ok.json()["ok"] is True
        and "ln" in ok.json()["interpreted"].replace("log", "ln")
    )
    start = time.monotonic()
    hostile = pooled.post(url, json={"part": part, "text": "1.0000001^(10^8)", "lang": "zh"})
    assert time.monotonic() - start < 5.0  # a hang detector: this froze the process before
    assert (
        hostile.status_code == 200 and hostile.json()["ok"] is False and "小数" in hostile.json()["message"]
    )


@pytest.mark.parametrize(
    ("answer_type", "text", "pooled_part"),
    [
        ("choice", "Ｃ", False),  # a letter, even full-width: read by a regex, no sympy
        ("text", "见附页 <script>", False),  # graded by a TA; nothing to compute
        ("real", "0.25", False),  # plain numbers are bounded by construction
        ("real", "ln(5)", True),  # a function: sympy, in the pool
        ("real", "2^2^2^2", True),  # a power may be huge: in the pool
        ("expression", "2*x", True),  # every expression
    ],
)
def test_which_parts_go_to_the_pool(answer_type: str, text: str, pooled_part: bool) -> None:
    from app.services.grading import _isolated

    class OnePart(SlowFamily):
        def parts(self, p: SlowParams) -> list[Part]:
            spec = (
                AnswerSpec(answer_type, choices=tuple("ABCD"))
                if answer_type == "choice"
                else AnswerSpec(answer_type)
            )
            return [Part("a", spec, bi("答", "answer"))]

    inst = problems.base.build_instance(OnePart(), seed=None, p=SlowParams())
    assert _isolated(inst, "a", text) is pooled_part
    assert _isolated(inst, "no-such-part", text) is False


@pytest.fixture
def one_thread(sqlite_db_url):  # type: ignore[no-untyped-def]
    """One request thread and one grading worker: a slow check that held the thread would stall all."""
    with _app_with_slow_family(sqlite_db_url, grading_workers=1, check_timeout=1.0, threads=1) as c:
        yield c


def test_checks_waiting_for_the_pool_hold_no_request_thread(one_thread) -> None:  # type: ignore[no-untyped-def]
    c = one_thread
    slow = c.post("/api/v1/instances", json={"problem": "test.slow", "seed": 1}).json()
    fast = c.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 1}).json()
    k = fast["params"]["num_classes"]
    finished: list[str] = []

    def run_slow() -> None:
        r = c.post(f"/api/v1/instances/{slow['id']}/check", json={"answers": {"expr": "x+1"}})
        finished.append(f"slow {r.status_code}")

    slow_threads = [threading.Thread(target=run_slow) for _ in range(3)]  # queued in the pool: ~3 s
    for t in slow_threads:
        t.start()
    time.sleep(0.3)
    for _ in range(5):  # a plain number is graded in the request thread: it needs no pool
        r = c.post(f"/api/v1/instances/{fast['id']}/check", json={"answers": {"loss": f"{math.log(k):.4f}"}})
        assert r.status_code == 200 and r.json()["score"] == 1.0
        finished.append("fast")
    assert c.get("/healthz").status_code == 200
    finished.append("health")
    for t in slow_threads:
        t.join(timeout=20)
    assert finished[:6] == ["fast"] * 5 + ["health"], finished  # none waited for a slow check
    assert finished[6:] == ["slow 200"] * 3


def test_a_slow_practice_form_does_not_stall_the_event_loop(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    """The practice form is an async route (it reads the form): its grading runs in a thread.
    It ran on the event loop, where one slow check stopped every request of the worker."""
    import re

    with _app_with_slow_family(sqlite_db_url, grading_workers=1, check_timeout=1.0, threads=2) as c:
        page = c.get("/practice/test.slow")
        iid = re.search(r'name="instance_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        finished: list[str] = []

        def submit() -> None:
            form = {"instance_id": iid, "csrf_token": csrf, "expr": "x+1"}
            r = c.post("/practice/test.slow", data=form)
            finished.append(f"form {r.status_code}")

        t = threading.Thread(target=submit)
        t.start()
        time.sleep(0.3)  # the form's check is in the pool now
        assert c.get("/healthz").status_code == 200
        finished.append("health")
        t.join(timeout=20)
        assert finished == ["health", "form 200"]


def _homework(c, ta, problems_: list[str]) -> tuple[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    body = {
        "title": "hw",
        "items": [{"problem": p} for p in problems_],
        "variants": 1,
        "seed": 1,
        "kind": "homework",
    }
    r = c.post("/api/v1/exams", json=body, headers=ta)
    assert r.status_code == 201, r.text
    exam_id = r.json()["id"]
    view = c.get(f"/api/v1/exams/{exam_id}/mine", headers=ta).json()
    number = {p["name"]: q["number"] for q in view["questions"] for p in q["parts"]}
    return exam_id, number


def test_online_exam_answers_waiting_for_the_pool_hold_no_request_thread(one_thread) -> None:  # type: ignore[no-untyped-def]
    """A class answering an online exam at once: a slow answer in the pool holds no request thread
    (one thread here), so another student's answer and /healthz are served before it."""
    from tests.conftest import add_account

    c = one_thread
    ta = add_account(c.app, "tina", "ta").headers
    alice, bob = add_account(c.app, "alice", "student").headers, add_account(c.app, "bob", "student").headers
    exam_id, number = _homework(c, ta, ["test.slow", "loss.uniform_prediction"])
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    for h in (alice, bob):
        assert c.get(f"/api/v1/exams/{exam_id}/mine", headers=h).status_code == 200
    finished: list[str] = []
    slow: dict = {}

    def run_slow() -> None:
        r = c.post(
            url, json={"question": number["expr"], "answers": {"expr": "x+1"}, "lang": "en"}, headers=alice
        )
        slow.update(r.json())
        finished.append(f"slow {r.status_code}")

    t = threading.Thread(target=run_slow)
    t.start()
    time.sleep(0.3)  # the slow answer is in the pool now
    r = c.post(url, json={"question": number["loss"], "answers": {"loss": "1"}}, headers=bob)
    assert r.status_code == 200, r.text
    finished.append("fast")
    assert c.get("/healthz").status_code == 200
    finished.append("health")
    t.join(timeout=20)
    assert finished == ["fast", "health", "slow 200"]
    assert slow["parts"]["expr"]["correct"] is False and "longer than" in slow["parts"]["expr"]["feedback"]


@pytest.mark.parametrize("answered_before", [False, True], ids=["first-answers", "later-answers"])
def test_answers_sent_while_another_is_graded_are_all_kept(db_url, answered_before) -> None:  # type: ignore[no-untyped-def]
    """A student answers one question while an answer to another is still being graded (two tabs,
    a quick double submit). Both read the same stored answers, and the one stored last wrote its
    copy over the other's answer (or, for first answers, stored a second submission beside it).
    On both databases: the lock that orders them is SQLite's write lock or PostgreSQL's row lock."""
    with _app_with_slow_family(db_url, grading_workers=2, check_timeout=1.0) as c:
        _answer_beside_a_slow_one(c, answered_before)


def _answer_beside_a_slow_one(c, answered_before: bool) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import add_account

    ta = add_account(c.app, "tina", "ta").headers
    alice = add_account(c.app, "alice", "student").headers
    exam_id, number = _homework(c, ta, ["test.slow", "loss.uniform_prediction"])
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    assert c.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).status_code == 200
    if answered_before:
        assert (
            c.post(
                url, json={"question": number["loss"], "answers": {"loss": "0"}}, headers=alice
            ).status_code
            == 200
        )
    codes: list[int] = []
    grader = c.app.state.grader
    real_begin = grader.begin
    slow_is_graded = threading.Event()

    def begin(inst, answers, lang):  # type: ignore[no-untyped-def]
        if "expr" in answers:  # the slow answer has read the stored answers by now
            slow_is_graded.set()
        return real_begin(inst, answers, lang)

    def run_slow() -> None:
        codes.append(
            c.post(
                url, json={"question": number["expr"], "answers": {"expr": "x+1"}}, headers=alice
            ).status_code
        )

    grader.begin = begin
    t = threading.Thread(target=run_slow)
    try:
        t.start()
        assert slow_is_graded.wait(timeout=20)
        r = c.post(url, json={"question": number["loss"], "answers": {"loss": "1"}}, headers=alice)
        assert r.status_code == 200, r.text
        t.join(timeout=20)
    finally:
        del grader.begin
    assert codes == [200]
    mine = c.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    submitted = {p: s["answer"] for q in mine["questions"] for p, s in q["submitted"].items()}
    assert submitted == {"expr": "x+1", "loss": "1"}


def test_a_part_sent_twice_at_once_in_an_exam_is_stored_once(pooled) -> None:  # type: ignore[no-untyped-def]
    """Exam mode takes each part once. Two copies sent together both pass the check before either
    is stored; the one stored second finds the question changed, is checked again, and refused."""
    from sqlalchemy import select

    from app.models import ExamSubmission
    from tests.conftest import add_account

    c = pooled
    ta = add_account(c.app, "tina", "ta").headers
    alice = add_account(c.app, "alice", "student").headers
    body = {
        "title": "exam",
        "items": [{"problem": "test.slow"}],
        "variants": 1,
        "seed": 1,
        "kind": "exam",
        "due_at": "2099-01-01T00:00:00Z",
    }
    exam_id = c.post("/api/v1/exams", json=body, headers=ta).json()["id"]
    assert c.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).status_code == 200
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    replies: list[tuple[int, str]] = []

    def send(text: str) -> None:
        r = c.post(url, json={"question": 1, "answers": {"expr": text}}, headers=alice)
        replies.append((r.status_code, r.text))

    threads = [threading.Thread(target=send, args=(t,)) for t in ("x+1", "x+2")]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=20)
    assert sorted(code for code, _ in replies) == [200, 422], replies
    assert "already submitted" in next(text for code, text in replies if code == 422)
    with c.app.state.session_factory() as s:
        stored = s.scalars(select(ExamSubmission).where(ExamSubmission.exam_id == exam_id)).all()
    assert len(stored) == 1 and stored[0].answers["1"]["expr"] in ("x+1", "x+2")


def test_a_class_csv_keeps_at_most_one_answer_in_the_pool(pooled) -> None:  # type: ignore[no-untyped-def]
    """A TA's class CSV is graded one answer at a time: queued all at once, its slow answers took
    every worker of the pool, and the students' own checks waited behind them."""
    from tests.conftest import add_account

    c = pooled
    ta = add_account(c.app, "tina", "ta").headers
    body = {"title": "quiz", "items": [{"problem": "test.slow"}], "variants": 1, "seed": 1}
    exam = c.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    rows = "".join(f"s{i},{code},1,expr,x+{i}\n" for i in range(3))
    grader = c.app.state.grader
    in_pool, most = [0], [0]
    real_begin, real_wait = grader.begin, grader.wait_async

    def begin(inst, answers, lang):  # type: ignore[no-untyped-def]
        pending = real_begin(inst, answers, lang)
        in_pool[0] += pending.future is not None
        most[0] = max(most[0], in_pool[0])
        return pending

    async def wait_async(pending):  # type: ignore[no-untyped-def]
        try:
            return await real_wait(pending)
        finally:
            in_pool[0] -= pending.future is not None

    grader.begin, grader.wait_async = begin, wait_async
    try:
        r = c.post(
            f"/api/v1/exams/{exam['id']}/submissions",
            content="student,code,question,part,answer\n" + rows,
            headers={**ta, "Content-Type": "text/csv"},
        )
    finally:
        del grader.begin, grader.wait_async
    assert r.status_code == 200, r.text
    assert [s["student"] for s in r.json()] == ["s0", "s1", "s2"]
    assert most == [1]  # three slow answers, never two in the pool at once


def test_a_known_users_check_graded_in_the_pool_is_stored_once_in_its_second_trip(db_url) -> None:  # type: ignore[no-untyped-def]
    """An expression goes to the pool; the attempt is stored after it, in the route's second thread
    trip with a session of its own. Copies of one retried request racing there store one attempt,
    all answered with its id, and no connection stays checked out (SQLite and PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import add_account

    app = make_app(db_url, grading_workers=1, check_timeout=5.0)
    alice = add_account(app, "alice", "student")
    with TestClient(app) as c:
        inst = c.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 2}).json()
        k = inst["params"]["num_classes"]
        url = f"/api/v1/instances/{inst['id']}/check"
        h = {**alice.headers, "Idempotency-Key": "pool-1"}

        def send(_: int):  # type: ignore[no-untyped-def]
            return c.post(url, json={"answers": {"loss": f"ln({k})"}}, headers=h)

        with ThreadPoolExecutor(8) as ex:
            replies = list(ex.map(send, range(8)))
        assert {r.status_code for r in replies} == {200}, [r.text for r in replies]
        assert {r.json()["attempt_id"] for r in replies} == {replies[0].json()["attempt_id"]}
        assert all(r.json()["score"] == 1.0 for r in replies)
        mine = c.get("/api/v1/me/attempts", headers=alice.headers).json()
        assert mine["count"] == 1 and mine["data"][0]["answers"] == {"loss": f"ln({k})"}
        assert app.state.engine.pool.checkedout() == 0
