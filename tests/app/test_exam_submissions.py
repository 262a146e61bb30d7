"""Reading stored exam submissions back (GET .../submissions and .../submissions/{id}): a TA's script
sees what it sent, as grades.csv counts it, with its verdicts and hand grades."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.app.test_exams import FAMILY, short_answer_exam
from tests.conftest import make_app
from tests.dbs import in_every_time_zone

# Typed through a Chinese IME, or pasted: full-width digits and punctuation, an ideographic space,
# a decomposed accent, spaces around the text and a line break. None of it may come back changed.
IME_ANSWERS = {
    "1": {"loss": "０．５"},
    "2": {"loss": "（1，2）"},
    "3": {"answer": "  残差连接\u3000让梯度直接回传，\n缓解梯度消失 e\u0301 😀 "},
}


def _mixed_exam(client, headers, **extra):  # type: ignore[no-untyped-def]
    """Two computed questions and one short answer a TA grades by hand (10 points)."""
    short = short_answer_exam()["items"][0]  # type: ignore[index]
    items = [{"problem": FAMILY, "points": 5}, {"problem": FAMILY, "params": {"num_classes": 10}}, short]
    r = client.post("/api/v1/exams", json={"title": "读回答卷", "items": items, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _submit(client, headers, exam, student, answers, code=None):  # type: ignore[no-untyped-def]
    body = {"student": student, "code": code or exam["variants"][0]["code"], "answers": answers}
    r = client.post(f"/api/v1/exams/{exam['id']}/submissions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _grades(client, headers, exam) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    text = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=headers).text
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}


def _waiting(client, headers, exam) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Each student's submission id, as the TA's queue of short answers names it."""
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=headers).json()
    return {q["student"]: q["submission"] for q in queue}


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("student", 403), ("other", 403), ("ta", 200), ("instructor", 200)]
)
def test_reading_submissions_back_is_for_staff(client, accounts, role, status) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    _submit(client, ta, exam, "alice", {"3": {"answer": "我的答案"}})  # alice's own paper, even
    sid = _waiting(client, ta, exam)["alice"]
    h = accounts[role].headers if role else {}
    listed = client.get(f"/api/v1/exams/{exam['id']}/submissions", headers=h)
    one = client.get(f"/api/v1/exams/{exam['id']}/submissions/{sid}", headers=h)
    assert (listed.status_code, one.status_code) == (status, status), (listed.text, one.text)
    if status == 200:
        assert [s["id"] for s in listed.json()["data"]] == [sid] and one.json()["id"] == sid
    else:
        assert "我的答案" not in listed.text + one.text
    # Unknown exam: the role is checked first (no probing of exam ids), then a 404.
    missing = client.get("/api/v1/exams/nosuchexam/submissions", headers=h)
    assert missing.status_code == (404 if status == 200 else status)


def test_the_list_pages_each_students_counting_submission_newest_first(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """What grades.csv counts, one row per student, newest first, paged and counted as /exams and
    /attempts are; a paper sent again is listed once, as the newer one."""
    ta, boss = accounts["ta"].headers, accounts["instructor"].headers
    made = client.post(
        "/api/v1/users", json={"name": "2022012111", "role": "student", "display_name": "张三"}, headers=boss
    )
    assert made.status_code == 201, made.text
    exam = _mixed_exam(client, ta, variants=2)
    codes = [v["code"] for v in exam["variants"]]
    students = ["2022012111", "李四", "s3", "s4", "s5"]
    sent = {}
    for n, student in enumerate(students):
        answers = {"2": {"loss": "ln(10)" if n % 2 else "1"}, "3": {"answer": f"答案{n}"}}
        sent[student] = _submit(client, ta, exam, student, answers, code=codes[n % 2])
    # s3 corrects a cell: the newest paper now, and still one row
    sent["s3"] = _submit(client, ta, exam, "s3", {"2": {"loss": "ln(10)"}}, code=codes[0])
    newest_first = ["s3", "s5", "s4", "李四", "2022012111"]

    url = f"/api/v1/exams/{exam['id']}/submissions"
    whole = client.get(url, headers=ta)
    assert whole.status_code == 200 and whole.json()["count"] == len(students)
    rows = whole.json()["data"]
    assert [r["student"] for r in rows] == newest_first
    grades = _grades(client, ta, exam)
    for r in rows:
        result, row = sent[r["student"]], grades[r["student"]]
        assert (r["code"], r["score"], r["max_score"], r["late"], r["pending_manual"]) == (
            result["code"],
            result["score"],
            result["max_score"],
            result["late"],
            result["pending_manual"],
        )
        assert (r["code"], r["score"], r["display_name"]) == (
            row["code"],
            float(row["total"]),
            row["display_name"],
        )
    assert rows[-1]["display_name"] == "张三"
    assert len({r["id"] for r in rows}) == len(rows)

    paged = []
    for offset in range(0, len(students) + 1, 2):
        page = client.get(url, params={"limit": 2, "offset": offset}, headers=ta).json()
        assert page["count"] == len(students) and len(page["data"]) == min(2, len(students) - offset)
        paged += page["data"]
    assert paged == rows
    beyond = client.get(url, params={"offset": 50}, headers=ta).json()
    assert beyond == {"data": [], "count": len(students)}
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        r = client.get(url, params=bad, headers=ta)
        assert r.status_code == 422 and next(iter(bad)) in r.text


def test_the_student_filter_gives_that_students_paper_alone(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    stored = {s: _submit(client, ta, exam, s, {"1": {"loss": "1"}})["id"] for s in ("张三", "张三丰", "s1")}
    url = f"/api/v1/exams/{exam['id']}/submissions"
    mine = client.get(url, params={"student": "张三"}, headers=ta).json()
    assert mine["count"] == 1 and [r["student"] for r in mine["data"]] == ["张三"]
    assert mine["data"][0]["id"] == stored["张三"]  # the id the POST answered reads the paper back
    assert client.get(url, params={"student": "s2"}, headers=ta).json() == {"data": [], "count": 0}
    # no name holds NUL (it is refused on every write): none found, on PostgreSQL too (it refuses NUL)
    assert client.get(url, params={"student": "a\x00b"}, headers=ta).json() == {"data": [], "count": 0}
    r = client.get(url, params={"student": "x" * 65}, headers=ta)
    assert r.status_code == 422 and "student" in r.text


def test_a_superseded_submission_names_the_one_that_counts(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A correction is stored as a new submission: the old one stays readable, says it no longer
    counts and which one does; each holds the answers it was sent with."""
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    first = {"1": {"loss": "2"}, "3": {"answer": "第一版"}}
    _submit(client, ta, exam, "s1", first)
    old = _waiting(client, ta, exam)["s1"]
    _submit(client, ta, exam, "s1", {"3": {"answer": "第二版"}})
    new = _waiting(client, ta, exam)["s1"]
    assert new != old
    url = f"/api/v1/exams/{exam['id']}/submissions"
    was, now = client.get(f"{url}/{old}", headers=ta).json(), client.get(f"{url}/{new}", headers=ta).json()
    assert (was["superseded"], was["superseded_by"]) == (True, new)
    assert (now["superseded"], now["superseded_by"]) == (False, None)
    assert was["answers"] == first
    assert now["answers"] == {"1": first["1"], "3": {"answer": "第二版"}}  # a partial upload changes its part
    assert [r["id"] for r in client.get(url, headers=ta).json()["data"]] == [new]


def test_a_late_online_answer_is_kept_but_the_one_on_time_counts(app, client, accounts, move_clock) -> None:  # type: ignore[no-untyped-def]
    """Homework answered online, then again after its due time: the late answer is stored (marked
    late) and readable, but grades.csv counts the one on time, which it names; the list holds that one."""
    from sqlalchemy import select

    from app.models import ExamSubmission

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    due = datetime.now(UTC) + timedelta(hours=1)
    body = {"title": "作业", "items": [{"problem": FAMILY}], "kind": "homework", "due_at": due.isoformat()}
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    assert client.get(f"/api/v1/exams/{exam['id']}/mine", headers=alice).status_code == 200
    answer = f"/api/v1/exams/{exam['id']}/mine/answers"
    on_time, too_late = {"loss": "ｌｎ（３）"}, {"loss": "２"}
    assert client.post(answer, json={"question": 1, "answers": on_time}, headers=alice).status_code == 200
    move_clock(due + timedelta(seconds=1))
    assert client.post(answer, json={"question": 1, "answers": too_late}, headers=alice).status_code == 403
    with app.state.session_factory() as s:  # the rows as stored, read apart from the code under test
        stored = s.execute(
            select(ExamSubmission.id, ExamSubmission.late)
            .where(ExamSubmission.exam_id == exam["id"])
            .order_by(ExamSubmission.id)
        ).all()
    assert [row.late for row in stored] == [False, True]
    kept, late = (row.id for row in stored)
    url = f"/api/v1/exams/{exam['id']}/submissions"
    listed = client.get(url, headers=ta).json()
    assert listed["count"] == 1 and [(r["id"], r["student"]) for r in listed["data"]] == [(kept, "alice")]
    shown = client.get(f"{url}/{late}", headers=ta).json()
    assert (shown["late"], shown["superseded"], shown["superseded_by"]) == (True, True, kept)
    assert shown["answers"] == {"1": too_late}
    counted = client.get(f"{url}/{kept}", headers=ta).json()
    assert (counted["late"], counted["superseded"], counted["answers"]) == (False, False, {"1": on_time})


def test_hand_grades_show_up_once_given(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    sent = _submit(client, ta, exam, "s1", {"2": {"loss": "ln(10)"}, "3": {"answer": "残差连接"}})
    sid = _waiting(client, ta, exam)["s1"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    before = client.get(f"{url}/{sid}", headers=ta).json()
    assert before["pending_manual"] is True and before["score"] == sent["score"]
    assert _same_verdicts(before["items"], sent["items"])
    part = before["items"][2]["parts"]["answer"]
    assert (part["manual"], part["graded"]) == (True, False)

    grade = {"question": 3, "part": "answer", "score": 0.7, "comment": "缺少梯度分析 / no gradient argument"}
    graded = client.post(f"{url}/{sid}/grade", json=grade, headers=ta)
    assert graded.status_code == 200, graded.text
    after = client.get(f"{url}/{sid}", headers=ta).json()
    part = after["items"][2]["parts"]["answer"]
    assert (part["manual"], part["graded"], part["score"], part["feedback"]) == (
        True,
        True,
        grade["score"],
        grade["comment"],
    )
    assert after["items"][2]["score"] == pytest.approx(grade["score"] * after["items"][2]["points"])
    assert (after["score"], after["pending_manual"]) == (graded.json()["score"], False)
    assert after["score"] == pytest.approx(sent["score"] + grade["score"] * 10)
    assert after["items"][:2] == before["items"][:2]  # the automatic verdicts are untouched
    listed = client.get(url, headers=ta).json()["data"][0]
    assert (listed["score"], listed["pending_manual"]) == (after["score"], False)
    assert float(_grades(client, ta, exam)["s1"]["total"]) == pytest.approx(after["score"])


def _same_verdicts(shown: list[dict], sent: list[dict]) -> bool:  # type: ignore[type-arg]
    """The stored verdicts as the submission's response said them; a part's `graded` flag, absent
    there until a TA grades it, is false."""
    return shown == [{**q, "parts": {n: {"graded": False, **p} for n, p in q["parts"].items()}} for q in sent]


def test_unknown_submissions_and_another_exams_are_404(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam, other = _mixed_exam(client, ta), _mixed_exam(client, ta, seed=7)
    _submit(client, ta, other, "s1", {"3": {"answer": "别的考试"}})
    theirs = _waiting(client, ta, other)["s1"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    for sid in (theirs, theirs + 1000):
        en = client.get(f"{url}/{sid}", headers=ta)
        zh = client.get(f"{url}/{sid}?lang=zh", headers=ta)
        assert en.status_code == zh.status_code == 404, en.text
        for r in (en, zh):
            assert str(sid) in r.json()["detail"] and exam["id"] in r.json()["detail"]
        assert (
            re.search(r"[\u4e00-\u9fff]", zh.json()["detail"]) and en.json()["detail"] != zh.json()["detail"]
        )
        assert "别的考试" not in en.text + zh.text
    assert client.get(f"/api/v1/exams/{other['id']}/submissions/{theirs}", headers=ta).status_code == 200
    for bad in ("0", str(2**31), "x"):  # bounded as the grade route's id (a 500 in the driver otherwise)
        assert client.get(f"{url}/{bad}", headers=ta).status_code == 422
    assert client.get(f"/api/v1/exams/nosuchexam/submissions/{theirs}", headers=ta).status_code == 404


def test_answers_come_back_exactly_as_typed(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    _submit(client, ta, exam, "张三", IME_ANSWERS)
    sid = _waiting(client, ta, exam)["张三"]
    r = client.get(f"/api/v1/exams/{exam['id']}/submissions/{sid}", headers=ta)
    assert r.json()["answers"] == IME_ANSWERS
    for number, parts in IME_ANSWERS.items():
        for part, text in parts.items():
            assert r.json()["answers"][number][part].encode() == text.encode()


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_class_csv_comes_back_as_its_cells_were_typed(client, accounts, encoding) -> None:  # type: ignore[no-untyped-def]
    """A class CSV saved by Excel on Chinese Windows (GB18030) or as UTF-8: each answer is read back
    as its cell held it, full-width text, spaces and quoted commas included."""
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    code = exam["variants"][0]["code"]
    cells = {
        ("王五", "1", "loss"): "０．５",
        ("王五", "2", "loss"): "（1，2）",
        ("王五", "3", "answer"): " 残差连接, 让梯度直接回传 ",
        ("赵六", "2", "loss"): "ln（10）",
        ("赵六", "3", "answer"): "“梯度消失”　问题",
    }
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["student", "code", "question", "part", "answer"])
    for (student, question, part), answer in cells.items():
        w.writerow([student, code, question, part, answer])
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        content=out.getvalue().encode(encoding),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    url = f"/api/v1/exams/{exam['id']}/submissions"
    for student in ("王五", "赵六"):
        listed = client.get(url, params={"student": student}, headers=ta).json()["data"]
        shown = client.get(f"{url}/{listed[0]['id']}", headers=ta).json()
        expected: dict[str, dict[str, str]] = {}
        for (who, question, part), answer in cells.items():
            if who == student:
                expected.setdefault(question, {})[part] = answer
        assert shown["answers"] == expected


def test_submitted_at_is_utc_whatever_the_database_session_says(client, accounts, db_kind, db_url) -> None:  # type: ignore[no-untyped-def]
    """ISO 8601 in UTC. PostgreSQL hands timestamps back in the session's time zone (a server set
    to Asia/Shanghai says +08:00): read through such a session, the time is still said in UTC."""
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)
    start = datetime.now(UTC)
    _submit(client, ta, exam, "s1", {"1": {"loss": "1"}})
    end = datetime.now(UTC)
    for url in in_every_time_zone(db_url, db_kind):
        with TestClient(make_app(url)) as c:
            listed = c.get(f"/api/v1/exams/{exam['id']}/submissions", headers=ta).json()["data"][0]
            shown = c.get(f"/api/v1/exams/{exam['id']}/submissions/{listed['id']}", headers=ta).json()
        for said in (listed["submitted_at"], shown["submitted_at"]):
            moment = datetime.fromisoformat(said)
            assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0, said
            assert start <= moment <= end


def test_a_page_of_the_list_costs_the_same_queries_however_many_students(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """No query per row (display names, codes): eight students cost the statements of two."""
    from sqlalchemy import event

    ta, boss = accounts["ta"].headers, accounts["instructor"].headers
    exam = _mixed_exam(client, ta, variants=3)
    url = f"/api/v1/exams/{exam['id']}/submissions"

    def statements() -> int:
        seen: list[str] = []

        def listen(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(app.state.engine, "before_cursor_execute", listen)
        try:
            assert client.get(url, headers=ta).status_code == 200
        finally:
            event.remove(app.state.engine, "before_cursor_execute", listen)
        return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    def add(n: int) -> None:
        name = f"s{n}"
        client.post("/api/v1/users", json={"name": name, "display_name": f"学生{n}"}, headers=boss)
        _submit(client, ta, exam, name, {"1": {"loss": "1"}}, code=exam["variants"][n % 3]["code"])

    for n in range(2):
        add(n)
    few = statements()
    for n in range(2, 8):
        add(n)
    assert statements() == few
    assert len(client.get(url, headers=ta).json()["data"]) == 8


def test_a_ta_grades_a_short_answer_in_points_or_as_a_share(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """TAs grade by a rubric in points ("4 分…3 分…3 分，共 10 分"): 7 was refused, "less than or
    equal to 1". `points` grades out of what the part is worth; `score` stays the share, 0 to 1."""
    ta = accounts["ta"].headers
    exam = _mixed_exam(client, ta)  # Q3: a short answer worth 10 points
    for student in ("甲", "乙"):
        _submit(client, ta, exam, student, {"3": {"answer": "残差连接让梯度直接回传"}})
    sid = _waiting(client, ta, exam)
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()
    assert {(q["points"], q["part_points"]) for q in queue} == {(10, 10)}  # one part: all the question's
    url = f"/api/v1/exams/{exam['id']}/submissions"

    def grade(student: str, body: dict, query: str = ""):  # type: ignore[no-untyped-def,type-arg]
        return client.post(
            f"{url}/{sid[student]}/grade{query}", json={"question": 3, "part": "answer", **body}, headers=ta
        )

    refused = [
        ({"points": 11}, ["body", "points"], "11 is not within 0 to 10"),
        ({"points": -1}, ["body", "points"], "greater than or equal to 0"),
        ({"score": 7}, ["body", "score"], "send `points` instead"),
        ({"score": 0.7, "points": 7}, ["body"], "not both"),
        ({}, ["body"], "give `score`"),
    ]
    for body, loc, words in refused:
        r = grade("甲", body)
        assert r.status_code == 422, (body, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"] == loc and words in detail["msg"], (body, detail)
    zh = grade("甲", {"points": 11}, "?lang=zh").json()["detail"][0]["msg"]
    assert "满分 10 分，得分应在 0 到 10 之间，而不是 11" in zh, zh
    assert grade("甲", {"points": 7}).json()["score"] == 7.0  # 7 of the 10 points
    assert grade("乙", {"score": 0.7}).json()["score"] == 7.0  # the same grade, as a share
    rows = _grades(client, ta, exam)
    assert rows["甲"]["q3"] == rows["乙"]["q3"] == "7.0"


def test_a_part_is_worth_its_share_of_the_question() -> None:
    """A question's score is the mean of its parts': a hand-graded part of two is worth half."""
    from app.models import ExamSubmission
    from app.services.exams import part_worth

    parts = {"value": {"manual": False, "score": 1.0}, "why": {"manual": True, "score": 0.0}}
    sub = ExamSubmission(results={"2": {"points": 6.0, "score": 3.0, "parts": parts}})
    assert part_worth(sub, 2, "why") == 3.0
    assert part_worth(sub, 2, "value") is None and part_worth(sub, 1, "why") is None  # not by hand; none
