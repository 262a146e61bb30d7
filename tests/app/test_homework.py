"""Homework and exams taken online: per-student variants, deadlines, hidden feedback, late answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

FAMILY = "loss.uniform_prediction"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _make(client, ta, kind, **extra):  # type: ignore[no-untyped-def]
    if kind == "exam":  # an online exam needs a due time (its results come after it)
        extra.setdefault("due_at", _iso(datetime.now(UTC) + timedelta(days=1)))
    body = {
        "title": f"{kind} 1",
        "items": [{"problem": FAMILY}],
        "variants": 3,
        "seed": 7,
        "kind": kind,
        **extra,
    }
    r = client.post("/api/v1/exams", json=body, headers=ta)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _answer_for(client, ta, exam_id, code):  # type: ignore[no-untyped-def]
    """The right answer of a variant, read from the staff answer key (independent of the student view)."""
    key = client.get(f"/api/v1/exams/{exam_id}/answer-key.html", headers=ta).text
    section = key.split(f'<section class="variant" data-code="{code}"')[1]
    return section.split('class="ans" data-part="loss">')[1].split("<")[0].strip()


def test_homework_assigns_variants_evenly_and_shows_feedback(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam_id = _make(client, ta, "homework", due_at=_iso(datetime.now(UTC) + timedelta(days=1)))
    alice, bob = accounts["student"].headers, accounts["other"].headers
    a = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    b = client.get(f"/api/v1/exams/{exam_id}/mine", headers=bob).json()
    assert a["code"] != b["code"]  # the two students got different variants
    assert (
        client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()["code"] == a["code"]
    )  # and keep them
    assert "answers" not in str(a["questions"][0].get("solution"))
    right = _answer_for(client, ta, exam_id, a["code"])
    r = client.post(
        f"/api/v1/exams/{exam_id}/mine/answers", json={"question": 1, "answers": {"loss": "0"}}, headers=alice
    )
    assert r.status_code == 200 and r.json()["parts"]["loss"]["correct"] is False
    r = client.post(
        f"/api/v1/exams/{exam_id}/mine/answers",
        json={"question": 1, "answers": {"loss": right}},
        headers=alice,
    )
    assert r.json()["parts"]["loss"]["correct"] is True  # homework: try again, newest counts
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert mine["score"] == 1 and mine["questions"][0]["submitted"]["loss"]["answer"] == right


def test_exam_mode_hides_feedback_allows_one_submission_and_refuses_late(
    client, accounts, move_clock
) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    due = datetime.now(UTC) + timedelta(hours=1)
    exam_id = _make(client, ta, "exam", due_at=_iso(due))
    alice = accounts["student"].headers
    view = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert view["feedback_visible"] is False and view["deadline"]
    right = _answer_for(client, ta, exam_id, view["code"])
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    r = client.post(url, json={"question": 1, "answers": {"loss": right}}, headers=alice)
    assert r.status_code == 200 and r.json() == {"recorded": True, "question": 1, "parts": ["loss"]}
    again = client.post(url, json={"question": 1, "answers": {"loss": "1"}}, headers=alice)
    assert again.status_code == 422 and "already submitted" in again.text
    move_clock(due + timedelta(seconds=1))  # the exam closes
    late = client.post(url, json={"question": 1, "answers": {"loss": "2"}}, headers=alice)
    assert late.status_code == 403 and "too late" in late.text and "kept" in late.text
    assert isinstance(late.json()["detail"], str)  # a 403's body as documented, not a 422's list
    after = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert after["closed"] and after["feedback_visible"]
    assert after["questions"][0]["submitted"]["loss"]["correct"] is True  # the on-time answer counts
    assert after["questions"][0]["solution"]["zh"]
    grades = client.get(f"/api/v1/exams/{exam_id}/grades.csv", headers=ta).text.splitlines()
    assert grades[1].startswith("alice,") and ",1.0,1.0,false," in grades[1]


def test_an_exam_part_that_cannot_be_read_is_not_used_up(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """An exam takes each part once: an unreadable answer (a typo) was stored as final with no
    word, and the right answer after it refused as 'already submitted'."""
    ta, alice = accounts["ta"].headers, accounts["student"].headers
    exam_id = _make(client, ta, "exam", due_at=_iso(datetime.now(UTC) + timedelta(hours=1)))
    view = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    typo = client.post(url, json={"question": 1, "answers": {"loss": "ln(10"}}, headers=alice)
    assert typo.status_code == 422 and "nothing was stored" in typo.text, typo.text
    assert typo.json()["detail"][0]["loc"] == ["body", "answers.loss"]
    right = _answer_for(client, ta, exam_id, view["code"])
    r = client.post(url, json={"question": 1, "answers": {"loss": right}}, headers=alice)
    assert r.status_code == 200, r.text
    wrong = client.post(url, json={"question": 1, "answers": {"loss": "7"}}, headers=alice)
    assert wrong.status_code == 422 and "already submitted" in wrong.text


def test_not_open_yet_and_paper_exams(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    later = _make(client, ta, "homework", opens_at=_iso(datetime.now(UTC) + timedelta(days=1)))
    r = client.get(f"/api/v1/exams/{later}/mine", headers=accounts["student"].headers)
    assert r.status_code == 403 and "opens at" in r.text
    paper = _make(client, ta, "paper")
    assert client.get(f"/api/v1/exams/{paper}/mine", headers=accounts["student"].headers).status_code == 404


def test_time_limit_ends_before_the_due_time(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam_id = _make(
        client, ta, "exam", time_limit_minutes=30, due_at=_iso(datetime.now(UTC) + timedelta(days=2))
    )
    view = client.get(f"/api/v1/exams/{exam_id}/mine", headers=accounts["student"].headers).json()
    started = datetime.fromisoformat(view["started_at"])
    assert datetime.fromisoformat(view["deadline"]) == started + timedelta(minutes=30)


def test_a_students_time_running_out_does_not_show_the_results_while_others_sit_it(
    app, client, accounts
) -> None:  # type: ignore[no-untyped-def]
    """A walk-through started a 4-minute exam, let the clock run out and read every verdict and
    worked solution of its variant while the exam was open for a day more. Verdicts, score and
    solutions wait for the due time; the page says so."""
    from app.models import Exam, ExamAssignment

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    exam_id = _make(
        client, ta, "exam", time_limit_minutes=4, due_at=_iso(datetime.now(UTC) + timedelta(days=1))
    )
    view = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    right = _answer_for(client, ta, exam_id, view["code"])
    r = client.post(
        f"/api/v1/exams/{exam_id}/mine/answers",
        json={"question": 1, "answers": {"loss": right}},
        headers=alice,
    )
    assert r.status_code == 200
    with app.state.session_factory() as s:
        for a in s.query(ExamAssignment).filter_by(exam_id=exam_id):
            a.started_at -= timedelta(minutes=5)  # alice's four minutes are over
        s.commit()
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert mine["closed"] is True and mine["feedback_visible"] is False and mine["score"] is None
    q = mine["questions"][0]
    assert q["solution"] is None and set(q["submitted"]["loss"]) == {"answer"}, q
    page = client.get(f"/homework/{exam_id}", headers=alice).text
    assert "data-results-later" in page and 'class="solution"' not in page and "data-correct" not in page
    with app.state.session_factory() as s:
        exam = s.get(Exam, exam_id)
        exam.due_at = datetime.now(UTC) - timedelta(seconds=1)  # now over for everyone
        s.commit()
    over = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert over["feedback_visible"] is True and over["score"] == 1.0
    assert (
        over["questions"][0]["solution"]["zh"]
        and over["questions"][0]["submitted"]["loss"]["correct"] is True
    )


def test_an_answer_graded_again_after_the_deadline_is_still_on_time(
    client, accounts, monkeypatch, move_clock
) -> None:  # type: ignore[no-untyped-def]
    """An answer that finds its question answered meanwhile is graded again (AnsweredMeanwhile).
    It arrived on time: the deadline passing during the retry must not store it late and answer
    403 (it did: the retry judged lateness by the clock at the retry)."""
    from sqlalchemy import select

    from app.models import ExamSubmission
    from app.services import exams

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    due = datetime.now(UTC) + timedelta(minutes=10)
    exam_id = _make(client, ta, "homework", due_at=_iso(due))
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    real_store = exams.store_online_answer
    stores: list[bool] = []

    def answered_meanwhile_once(session, begun, graded):  # type: ignore[no-untyped-def]
        stores.append(begun.late)
        if len(stores) == 1:
            move_clock(due + timedelta(seconds=1))  # the deadline passes during the retry
            raise exams.AnsweredMeanwhile
        return real_store(session, begun, graded)

    monkeypatch.setattr(exams, "store_online_answer", answered_meanwhile_once)
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    r = client.post(url, json={"question": 1, "answers": {"loss": "0"}}, headers=alice)
    assert exams.utcnow() > due
    assert r.status_code == 200, r.text
    assert stores == [False, False]
    monkeypatch.setattr(exams, "store_online_answer", real_store)
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert mine["closed"] and mine["questions"][0]["submitted"]["loss"]["answer"] == "0"
    with client.app.state.session_factory() as s:
        stored = s.scalars(select(ExamSubmission).where(ExamSubmission.exam_id == exam_id)).all()
        assert [(sub.answers, sub.late) for sub in stored] == [({"1": {"loss": "0"}}, False)]
    late = client.post(url, json={"question": 1, "answers": {"loss": "1"}}, headers=alice)
    assert late.status_code == 403 and "too late" in late.text  # one sent after it is late


def test_an_online_answer_grades_only_its_own_question(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The other questions keep their stored verdicts: grading them all again on every answer cost
    the pool's time, and an answer that once ran out of time could come out differently."""
    ta, alice = accounts["ta"].headers, accounts["student"].headers
    body = {"title": "hw", "items": [{"problem": FAMILY}, {"problem": FAMILY}], "seed": 7, "kind": "homework"}
    exam_id = client.post("/api/v1/exams", json=body, headers=ta).json()["id"]
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    grader = client.app.state.grader
    begun: list[dict[str, str]] = []
    real_begin = grader.begin

    def spy(inst, answers, lang):  # type: ignore[no-untyped-def]
        begun.append(dict(answers))
        return real_begin(inst, answers, lang)

    grader.begin = spy
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    try:
        assert (
            client.post(url, json={"question": 1, "answers": {"loss": "0"}}, headers=alice).status_code == 200
        )
        first, begun[:] = list(begun), []
        assert (
            client.post(url, json={"question": 2, "answers": {"loss": "0"}}, headers=alice).status_code == 200
        )
        second, begun[:] = list(begun), []
    finally:
        del grader.begin
    assert first == [{"loss": "0"}, {}]  # a first answer: every question gets its verdict
    assert second == [{"loss": "0"}]  # question 1 is not graded again
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert [q["submitted"]["loss"]["correct"] for q in mine["questions"]] == [False, False]
    assert mine["score"] == 0 and mine["max_score"] == 2


def test_a_ta_grade_stays_when_the_student_answers_another_question(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A hand-graded short answer keeps the TA's score, and the submission stops waiting for a TA,
    when the student goes on to answer another question."""
    import csv
    import io

    from tests.app.test_exams import _first_short_item

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    items = [
        {"problem": "concept.short_answer", "params": {"item": _first_short_item()}, "points": 10},
        {"problem": FAMILY},
    ]
    exam_id = client.post(
        "/api/v1/exams", json={"title": "hw", "items": items, "seed": 7, "kind": "homework"}, headers=ta
    ).json()["id"]
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    assert (
        client.post(url, json={"question": 1, "answers": {"answer": "残差连接"}}, headers=alice).status_code
        == 200
    )
    queue = client.get(f"/api/v1/exams/{exam_id}/manual", headers=ta).json()
    assert len(queue) == 1
    graded = client.post(
        f"/api/v1/exams/{exam_id}/submissions/{queue[0]['submission']}/grade",
        json={"question": 1, "part": "answer", "score": 0.7, "comment": "缺少梯度分析"},
        headers=ta,
    )
    assert graded.status_code == 200 and graded.json()["pending_manual"] is False
    assert client.post(url, json={"question": 2, "answers": {"loss": "0"}}, headers=alice).status_code == 200
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam_id}/grades.csv", headers=ta).text))
    )
    assert [(r["q1"], r["pending_manual"]) for r in rows] == [("7.0", "false")]
    assert client.get(f"/api/v1/exams/{exam_id}/manual", headers=ta).json() == []


def test_a_ta_grade_and_an_answer_stored_meanwhile_both_count(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The TA's request reads the submission, the student's answer to another question is stored,
    then the TA's grade is written: it is written onto the submission as stored by then (it wrote
    back its stale copy, and the answer's verdict and score were lost)."""
    import asyncio

    from sqlalchemy import select

    from app.models import ExamSubmission, User
    from app.services import exams
    from tests.app.test_exams import _first_short_item

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    items = [
        {"problem": "concept.short_answer", "params": {"item": _first_short_item()}, "points": 10},
        {"problem": FAMILY},
    ]
    body = {"title": "hw", "items": items, "seed": 7, "kind": "homework"}
    exam_id = client.post("/api/v1/exams", json=body, headers=ta).json()["id"]
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    assert (
        client.post(url, json={"question": 1, "answers": {"answer": "残差连接"}}, headers=alice).status_code
        == 200
    )
    grader = client.app.state.grader
    with app.state.session_factory() as student, app.state.session_factory() as ta_session:
        user = student.scalar(select(User).where(User.name == accounts["student"].name))
        exam = exams.get_exam(student, exam_id)
        q2 = next(inst for q, inst in exams.variant_instances(student, exam.variants[0]) if q.number == 2)
        begun = exams.begin_online_answer(
            student,
            exam=exam,
            grader=grader,
            user=user,
            question=2,
            answers={"loss": q2.answers["loss"]},
            lang="en",
        )
        student.commit()
        graded = asyncio.run(exams.wait_for(grader, begun.grading))
        sub_id = begun.submission.id
        tas_copy = ta_session.get(ExamSubmission, sub_id)  # held, as the TA's request holds it
        assert tas_copy is not None and tas_copy.results["2"]["score"] == 0  # no answer to question 2 yet
        exams.store_online_answer(student, begun, graded)
        exams.grade_manual_part(
            ta_session,
            exam=exams.get_exam(ta_session, exam_id),
            submission_id=sub_id,
            question=1,
            part="answer",
            score=1.0,
            comment="好",
        )
    with app.state.session_factory() as s:
        sub = s.get(ExamSubmission, sub_id)
        assert sub.results["2"]["parts"]["loss"]["correct"] is True and sub.results["1"]["score"] == 10
        assert sub.score == 11 and sub.needs_manual is False


def test_opening_twice_at_once_gives_one_assignment_not_a_500(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A double-clicked Start: both requests found no assignment, and the second INSERT hit the
    unique key (a 500 for about half the students who double-clicked, per a review)."""
    from sqlalchemy import select

    from app.models import ExamAssignment, User
    from app.services import exams

    ta = accounts["ta"].headers
    exam_id = _make(client, ta, "exam", time_limit_minutes=30)
    with app.state.session_factory() as first, app.state.session_factory() as other:
        user = first.scalar(select(User).where(User.name == accounts["student"].name))
        exam = exams.get_exam(first, exam_id)
        real_add = first.add

        def add_after_the_other_request(obj):  # type: ignore[no-untyped-def]
            if isinstance(obj, ExamAssignment):  # the other request commits its own first
                theirs = other.scalar(select(User).where(User.id == user.id))
                exams.open_for_student(other, exam=exams.get_exam(other, exam_id), user=theirs)
            real_add(obj)

        first.add = add_after_the_other_request  # type: ignore[method-assign]
        view = exams.open_for_student(first, exam=exam, user=user)
        assert view["code"] and len(other.scalars(select(ExamAssignment)).all()) == 1


def test_the_live_preview_reads_an_answer_to_my_own_question(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Homework and exam pages had no preview (the practice page's needs the instance id, which an
    exam keeps from its students: a check would tell its verdicts). It reads, it does not grade."""
    ta, alice = accounts["ta"].headers, accounts["student"].headers
    exam_id = _make(client, ta, "exam", due_at=_iso(datetime.now(UTC) + timedelta(hours=1)))
    url = f"/api/v1/exams/{exam_id}/mine/preview"
    body = {"question": 1, "part": "loss", "text": "ｌｎ（１０）", "lang": "zh"}
    assert client.post(url, json=body, headers=alice).status_code == 403  # not opened yet
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    r = client.post(url, json=body, headers=alice).json()
    assert r["ok"] is True and "10" in r["interpreted"] and "correct" not in r
    bad = client.post(url, json={**body, "text": "ln(10"}, headers=alice).json()
    assert bad["ok"] is False and bad["position"] is not None
    assert client.post(url, json={**body, "question": 2}, headers=alice).status_code == 404
    assert "no part" in client.post(url, json={**body, "part": "nope"}, headers=alice).json()["message"]
    assert client.post(url, json=body).status_code == 401
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert mine["questions"][0]["submitted"] == {}  # nothing stored


def test_a_ta_enters_no_answers_for_a_student_who_answers_online_and_corrects_papers_after_the_due_time(
    app, client, accounts
) -> None:  # type: ignore[no-untyped-def]
    """Two walk-throughs and two reviews: a TA's row for a student answering online was stored
    beside the student's own (grades split in two, answers sent meanwhile lost, late answers turned
    on time): refused now, naming the student. On paper, a TA's correction sent after the due time
    was marked late and ignored while the API answered 200: it counts, and keeps the paper's lateness."""
    import csv
    import io

    from app.models import Exam

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    name = accounts["student"].name
    online = _make(client, ta, "homework", due_at=_iso(datetime.now(UTC) + timedelta(hours=1)))
    code = client.get(f"/api/v1/exams/{online}/mine", headers=alice).json()["code"]
    r = client.post(
        f"/api/v1/exams/{online}/submissions",
        json={"student": name, "code": code, "answers": {"1": {"loss": "0"}}},
        headers=ta,
    )
    assert r.status_code == 422 and "online" in r.text and name in r.text
    csv_text = f"student,code,question,part,answer\n{name},{code},1,loss,0\n"
    r = client.post(
        f"/api/v1/exams/{online}/submissions",
        content=csv_text.encode(),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and "online" in r.text

    two = [{"problem": FAMILY}, {"problem": FAMILY}]
    paper = _make(client, ta, "paper", items=two, due_at=_iso(datetime.now(UTC) + timedelta(hours=1)))
    pcode = client.get(f"/api/v1/exams/{paper}", headers=ta).json()["variants"][0]["code"]
    url = f"/api/v1/exams/{paper}/submissions"
    key = client.get(f"/api/v1/exams/{paper}/answer-key.html", headers=ta).text.split(
        f'<section class="variant" data-code="{pcode}"'
    )[1]
    right = [k.split("<")[0].strip() for k in key.split('class="ans" data-part="loss">')[1:3]]
    assert (
        client.post(
            url, json={"student": "s1", "code": pcode, "answers": {"1": {"loss": right[0]}}}, headers=ta
        ).status_code
        == 200
    )
    with app.state.session_factory() as s:
        s.get(Exam, paper).due_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
        s.commit()
    r = client.post(
        url, json={"student": "s1", "code": pcode, "answers": {"2": {"loss": right[1]}}}, headers=ta
    )
    assert r.status_code == 200 and r.json()["late"] is False  # a correction, not a late paper
    rows = csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{paper}/grades.csv", headers=ta).text))
    s1 = {row["student"]: row for row in rows}["s1"]
    assert (s1["total"], s1["late"]) == ("2.0", "false")


def test_feedback_is_in_the_exams_language_when_the_answer_names_none(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A walk-through: a zh exam answered through the API with no lang showed 'Not correct.' on its
    Chinese page; a TA's JSON entry the same."""
    import re

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    exam_id = _make(client, ta, "homework", lang="zh")
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    r = client.post(
        f"/api/v1/exams/{exam_id}/mine/answers", json={"question": 1, "answers": {"loss": "0"}}, headers=alice
    )
    assert re.search(r"[\u4e00-\u9fff]", r.json()["parts"]["loss"]["feedback"]), r.json()
    code = client.get(f"/api/v1/exams/{exam_id}", headers=ta).json()["variants"][0]["code"]
    t = client.post(
        f"/api/v1/exams/{exam_id}/submissions",
        json={"student": "s9", "code": code, "answers": {"1": {"loss": "0"}}},
        headers=ta,
    )
    assert re.search(r"[\u4e00-\u9fff]", str(t.json()["items"])), t.json()
    en = client.post(
        f"/api/v1/exams/{exam_id}/mine/answers",
        json={"question": 1, "answers": {"loss": "0"}, "lang": "en"},
        headers=alice,
    )
    assert en.json()["parts"]["loss"]["feedback"].startswith("Not correct")  # asked for: kept


def test_an_exam_stored_before_due_times_were_required_shows_results_when_its_student_is_done(
    app, client, accounts
) -> None:  # type: ignore[no-untyped-def]
    """A review: with results waiting for the due time, an exam stored with none would hide them
    for good (there is no way to set one later). Such an exam shows them as it did."""
    from app.models import Exam, ExamAssignment

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    exam_id = _make(client, ta, "exam", time_limit_minutes=4)
    client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice)
    with app.state.session_factory() as s:
        s.get(Exam, exam_id).due_at = None  # type: ignore[union-attr]
        for a in s.query(ExamAssignment).filter_by(exam_id=exam_id):
            a.started_at -= timedelta(minutes=5)
        s.commit()
    mine = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()
    assert mine["closed"] and mine["feedback_visible"] and mine["questions"][0]["solution"]


@pytest.mark.parametrize("gone", ["deleted", "restored-without-them"])
def test_a_late_answer_stays_late_when_its_student_is_gone(
    app, client, accounts, db_url, db_kind, tmp_path, gone
) -> None:  # type: ignore[no-untyped-def]
    """A late answer was kept and not counted only while its row named its user: once the user was
    deleted (user_id set to NULL) or a backup was restored without them, it replaced the on-time
    answer in grades.csv and the statistics, its score counted and the answer on time hidden.
    Lateness is the row's own."""
    import contextlib
    import csv
    import io
    import json

    from alembic import command
    from sqlalchemy import delete, func, select

    from app.cli import alembic_config
    from app.db import make_engine, make_session_factory
    from app.models import Exam, ExamSubmission, User
    from app.services import backup, exams
    from tests.dbs import database_url

    ta, alice = accounts["ta"].headers, accounts["student"].headers
    name = accounts["student"].name
    exam_id = _make(client, ta, "homework", due_at=_iso(datetime.now(UTC) + timedelta(hours=1)))
    code = client.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()["code"]
    url = f"/api/v1/exams/{exam_id}/mine/answers"
    right = _answer_for(client, ta, exam_id, code)
    assert (
        client.post(url, json={"question": 1, "answers": {"loss": right}}, headers=alice).status_code == 200
    )
    with app.state.session_factory() as s:
        s.get(Exam, exam_id).due_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
        s.commit()
    assert client.post(url, json={"question": 1, "answers": {"loss": "0"}}, headers=alice).status_code == 403

    with contextlib.ExitStack() as stack:
        if gone == "deleted":
            with app.state.session_factory() as s:
                s.execute(delete(User).where(User.name == name))  # the database sets user_id NULL
                s.commit()
            where = db_url
        else:
            out = io.StringIO()
            backup.export_jsonl(db_url, out)
            records = [json.loads(line) for line in out.getvalue().splitlines()]
            # Restored without the student (their account, attempts and assignment left out): the
            # submissions name a user the database does not know.
            theirs = ("user", "attempt", "exam_assignment")
            kept = [
                r for r in records if not (r["kind"] in theirs and name in (r.get("user"), r.get("name")))
            ]
            (tmp_path / "restored").mkdir()
            where = stack.enter_context(database_url(db_kind, tmp_path / "restored"))
            command.upgrade(alembic_config(where), "head")
            backup.import_jsonl(where, [json.dumps(r) for r in kept])
        engine = make_engine(where)
        stack.callback(engine.dispose)
        with make_session_factory(engine)() as s:
            rows = s.execute(select(ExamSubmission.late, func.count()).group_by(ExamSubmission.late)).all()
            assert sorted(rows) == [(False, 1), (True, 1)]
            assert s.scalar(select(func.count()).where(ExamSubmission.user_id.is_not(None))) == 0
            exam = exams.get_exam(s, exam_id)
            grades = next(csv.DictReader(io.StringIO(exams.grades_csv(s, exam))))
            assert (grades["student"], grades["total"], grades["late"]) == (name, "1.0", "false")
            students = exams.statistics(s, exam)["students"]
            assert [(x["student"], x["score"], x["late"]) for x in students] == [(name, 1.0, False)]
