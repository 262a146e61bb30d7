"""Homework and online exams in the browser, as a student takes them (httpx through the app)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.app.test_homework import FAMILY, _answer_for, _iso
from tests.app.test_pages import _csrf, _login
from tests.conftest import add_account


def _exam(c, kind: str, **extra) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    if kind == "exam":  # an online exam needs a due time (its results come after it)
        extra.setdefault("due_at", _iso(datetime.now(UTC) + timedelta(days=1)))
    ta = add_account(c.app_ref, "tina", "ta").headers
    body = {
        "title": f"{kind} 第一周",
        "items": [{"problem": FAMILY}],
        "variants": 2,
        "seed": 7,
        "kind": kind,
        **extra,
    }
    r = c.post("/api/v1/exams", json=body, headers=ta)
    assert r.status_code == 201, r.text
    return r.json()["id"], ta


def _student(c) -> None:  # type: ignore[no-untyped-def]
    add_account(c.app_ref, "alice", "student")
    _login(c, "alice")


def _send(c, exam_id: str, html: str, answer: str, question: int = 1):  # type: ignore[no-untyped-def]
    return c.post(
        f"/homework/{exam_id}/{question}",
        data={"csrf_token": _csrf(html), "loss": answer},
        follow_redirects=False,
    )


def test_homework_in_the_browser_shows_verdicts_and_takes_corrections(web) -> None:  # type: ignore[no-untyped-def]
    exam_id, ta = _exam(web, "homework", due_at="2031-05-01T16:00:00Z")
    assert (
        web.get(f"/homework/{exam_id}", follow_redirects=False).headers["location"].startswith("/login?next=")
    )
    _student(web)
    page = web.get(f"/homework/{exam_id}")
    assert page.status_code == 200 and "第一周" in page.text and 'name="loss"' in page.text
    assert "2031-05-02 00:00 (UTC+8)" in page.text  # the deadline on the course's clock
    code = re.search(r"<code>([A-Z0-9-]+)</code>", page.text).group(1)  # type: ignore[union-attr]
    wrong = _send(web, exam_id, page.text, "0")
    assert wrong.status_code == 303 and wrong.headers["location"] == f"/homework/{exam_id}#q1"
    page = web.get(f"/homework/{exam_id}")
    assert 'data-correct="false"' in page.text and 'value="0"' in page.text
    right = _answer_for(web, ta, exam_id, code)
    assert _send(web, exam_id, page.text, right).status_code == 303
    page = web.get(f"/homework/{exam_id}")
    assert 'data-correct="true"' in page.text  # homework: the last answer counts
    me = web.get("/me").text
    assert f'href="/homework/{exam_id}"' in me and "第一周" in me
    assert "得分: 1 / 1" in me and 'class="grid history"' not in me  # homework's score; no empty table
    emptied = _send(web, exam_id, page.text, "")  # nothing typed: refused, and the stored answer still shown
    assert emptied.status_code == 422 and f'value="{right}"' in emptied.text
    staff = web.get(f"/exams/{exam_id}", headers=ta).text
    assert f"/homework/{exam_id}" in staff  # the link a TA hands out


def test_an_online_exam_in_the_browser_takes_a_part_once_and_keeps_what_was_typed(web, move_clock) -> None:  # type: ignore[no-untyped-def]
    due = datetime.now(UTC) + timedelta(hours=1)
    exam_id, _ = _exam(web, "exam", due_at=_iso(due))
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    typo = _send(web, exam_id, page, "ln(10")
    assert typo.status_code == 422 and "未保存" in typo.text and 'value="ln(10"' in typo.text
    box = typo.text.split('data-part="loss"')[1].split("</div>\n    </div>")[0]
    assert 'aria-invalid="true"' in box and '<pre class="caret">' in box  # the reading error under its box
    assert "answers.loss" not in typo.text  # not the API's field name
    assert _send(web, exam_id, typo.text, "ln(10)").status_code == 303
    page = web.get(f"/homework/{exam_id}").text
    assert "data-correct" not in page and ("已提交" in page or "Submitted" in page)  # verdicts hidden
    assert re.search(r'<input[^>]*name="loss"[^>]*disabled', page)  # taken once
    again = _send(web, exam_id, page, "7")
    assert (
        again.status_code == 422 and "已经提交过" in again.text and "（7）" in again.text
    )  # what was typed, named
    assert 'value="ln(10)"' in again.text and 'value="7"' not in again.text  # the box shows what was taken
    expired = web.post(f"/homework/{exam_id}/1", data={"csrf_token": "old", "loss": "8"})
    assert expired.status_code == 403 and ">8</textarea>" in expired.text  # shown back to copy
    move_clock(due + timedelta(seconds=1))  # the exam closes
    page = web.get(f"/homework/{exam_id}").text
    assert 'data-closed="true"' in page and "data-correct=" in page  # verdicts once it has closed


def test_a_part_taken_in_another_tab_keeps_its_answer_and_the_other_parts_are_stored(web) -> None:  # type: ignore[no-untyped-def]
    """Two tabs of one exam: tab 1 sends part `probability`, tab 2 (loaded before) sends it with
    `loss`. The whole answer was refused, with a half-English message naming the part's id, and
    the new `loss` answer was not stored."""
    exam_id, _ = _exam(
        web,
        "exam",
        items=[{"problem": "loss.binary_cross_entropy"}],
        due_at=_iso(datetime.now(UTC) + timedelta(hours=1)),
    )
    _student(web)
    stale = web.get(f"/homework/{exam_id}").text
    token = _csrf(stale)
    first = web.post(
        f"/homework/{exam_id}/1", data={"csrf_token": token, "probability": "0.5"}, follow_redirects=False
    )
    assert first.status_code == 303
    second = web.post(
        f"/homework/{exam_id}/1",
        data={"csrf_token": token, "probability": "0.7", "loss": "0.69"},
        follow_redirects=False,
    )
    assert second.status_code == 422 and "已经提交过" in second.text and "（0.7）" in second.text
    assert "其余小题已保存" in second.text and "already submitted" not in second.text
    page = web.get(f"/homework/{exam_id}").text
    assert re.search(r'<input[^>]*name="loss"[^>]*value="0.69"[^>]*disabled', page), page  # stored, taken
    assert re.search(r'<input[^>]*name="probability"[^>]*value="0.5"[^>]*disabled', page)  # the first stays


def test_a_late_homework_answer_is_refused_with_the_reason_and_kept_in_its_box(web, move_clock) -> None:  # type: ignore[no-untyped-def]
    due = datetime.now(UTC) + timedelta(hours=1)
    exam_id, _ = _exam(web, "homework", due_at=_iso(due))
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    move_clock(due + timedelta(seconds=1))
    late = _send(web, exam_id, page, "ln(3)")
    assert late.status_code == 403 and 'value="ln(3)"' in late.text
    again = _send(web, exam_id, page, "ln(3)")  # a reload of the refusal posts it again
    assert again.status_code == 403
    later = web.get(f"/homework/{exam_id}").text
    assert re.search(r"data-late>[^<]*<code>ln\(3\)</code>", later)  # shown, marked late, on a later visit
    # Its box knows the late answer, so the browser drops a draft equal to it (it was shown both as
    # an unsent draft and as a stored late answer), and the part on time says it was not answered.
    assert 'data-late="ln(3)"' in later and "未作答（0 分）" in later
    from sqlalchemy import func, select

    from app.models import ExamSubmission

    with web.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(ExamSubmission).where(ExamSubmission.late)) == 1
    assert (
        "已过截止时间" in late.text and "标记为迟交" in late.text and "未保存" not in late.text
    )  # kept, not lost


def test_a_post_without_a_session_or_token_shows_the_answers_back_and_opens_nothing(web) -> None:  # type: ignore[no-untyped-def]
    """Logged out in another tab: a bare 401 lost the answer. A forged post must not open (and so
    start the clock of) a timed exam: nothing is read or written before the session is checked."""
    from sqlalchemy import func, select

    from app.models import ExamAssignment

    exam_id, _ = _exam(web, "exam", time_limit_minutes=30)
    r = web.post(f"/homework/{exam_id}/1", data={"loss": "ln(5)"})
    assert r.status_code == 401 and ">ln(5)</textarea>" in r.text and "/login?next=" in r.text
    _student(web)
    forged = web.post(f"/homework/{exam_id}/1", data={"loss": "ln(5)", "csrf_token": "forged"})
    assert forged.status_code == 403 and ">ln(5)</textarea>" in forged.text
    assert "回到作业页面重新填写并提交" in forged.text  # never opened: no form to send, it says what to do
    with web.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(ExamAssignment)) == 0


def test_an_expired_form_comes_back_ready_to_send_again(web) -> None:  # type: ignore[no-untyped-def]
    """The page said "此表单已过期…请再提交一次" with a link away and no button, and named the box by
    the part's internal name (`choice`) without its question. Now the homework comes back with the
    answers in the question's boxes and a fresh token; one press stores them."""
    exam_id, _ = _exam(web, "homework", items=[{"problem": FAMILY}, {"problem": "concept.choice"}])
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    expired = web.post(f"/homework/{exam_id}/2", data={"csrf_token": "old", "choice": "B"})
    assert expired.status_code == 403 and "此表单已过期" in expired.text
    form = expired.text.split('id="q2"')[1].split("</form>")[0]
    assert re.search(r'<input[^>]*name="choice"[^>]*value="B"', form), form  # in its box, to send
    assert 'type="submit"' in form and "<code>choice</code>" not in expired.text
    token = _csrf(form)
    assert token == _csrf(page) != "old"  # the session's token: the page's own works again
    sent = web.post(
        f"/homework/{exam_id}/2", data={"csrf_token": token, "choice": "B"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert re.search(r'<input[^>]*name="choice"[^>]*value="B"', web.get(f"/homework/{exam_id}").text)


def test_answers_shown_to_copy_are_named_by_question_and_label(web) -> None:  # type: ignore[no-untyped-def]
    """Logged out, the answers can only be shown back: each is named by its question and part, and
    the page says what to do. Not by the part's label: the caller has no variant, and the labels
    of the exam's variants told anyone with its id (before it opened too) what it asks."""
    exam_id, _ = _exam(web, "homework", items=[{"problem": FAMILY}, {"problem": FAMILY}])
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    label = re.search(r'<label for="q2-1">([^<]+)</label>', page).group(1)  # type: ignore[union-attr]
    web.post("/logout", data={"csrf_token": _csrf(page)})
    r = web.post(f"/homework/{exam_id}/2", data={"loss": "ln(4)"})
    assert r.status_code == 401 and ">ln(4)</textarea>" in r.text and "登录后再提交" in r.text
    assert "题目 2 · <code>loss</code>" in r.text and label not in r.text


def test_an_answer_too_long_is_refused_and_kept_not_cut(web) -> None:  # type: ignore[no-untyped-def]
    exam_id, _ = _exam(web, "homework")
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    long = "1" + " " * 10_000 + "+1"
    r = _send(web, exam_id, page, long)
    assert r.status_code == 422 and "10000" in r.text and long in r.text


def test_a_short_answer_shows_the_tas_grade_once_given(web) -> None:  # type: ignore[no-untyped-def]
    """It said 'waiting for a TA' forever: the page could not tell a graded part."""
    from tests.app.test_exams import short_answer_exam

    ta = add_account(web.app_ref, "tina", "ta").headers
    body = short_answer_exam(kind="homework")
    exam_id = web.post("/api/v1/exams", json=body, headers=ta).json()["id"]
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    name = re.search(r'<textarea id="q1-1" name="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert (
        web.post(
            f"/homework/{exam_id}/1",
            data={"csrf_token": _csrf(page), name: "梯度消失"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    waiting = web.get(f"/homework/{exam_id}").text
    assert "等待助教批改" in waiting and "data-correct" not in waiting  # not marked wrong in the markup
    queue = web.get(f"/api/v1/exams/{exam_id}/manual", headers=ta).json()
    grade = {"question": 1, "part": name, "score": 0.8, "comment": "很好，再谈谈原因"}
    assert (
        web.post(
            f"/api/v1/exams/{exam_id}/submissions/{queue[0]['submission']}/grade", json=grade, headers=ta
        ).status_code
        == 200
    )
    page = web.get(f"/homework/{exam_id}").text
    assert "等待助教批改" not in page and "助教评分: 80%" in page and "很好，再谈谈原因" in page
    # the same answer sent again (a second click) keeps the grade; a changed one goes back to the TA
    again = {"csrf_token": _csrf(page), name: "梯度消失"}
    assert web.post(f"/homework/{exam_id}/1", data=again, follow_redirects=False).status_code == 303
    assert "助教评分: 80%" in web.get(f"/homework/{exam_id}").text
    assert web.get(f"/api/v1/exams/{exam_id}/manual", headers=ta).json() == []
    changed = {"csrf_token": _csrf(page), name: "梯度消失与爆炸"}
    assert web.post(f"/homework/{exam_id}/1", data=changed, follow_redirects=False).status_code == 303
    assert "等待助教批改" in web.get(f"/homework/{exam_id}").text


def test_a_timed_exam_starts_when_the_student_says_so_and_shows_its_limit(web) -> None:  # type: ignore[no-untyped-def]
    """Opening the link started the clock without a word (and gave a TA who looked a variant)."""
    from sqlalchemy import func, select

    from app.models import ExamAssignment

    exam_id, ta = _exam(web, "exam", time_limit_minutes=45)
    add_account(web.app_ref, "tom", "ta")
    _login(web, "tom")  # a TA in the browser: sent to the exam's page, and never given a variant
    staff_page = web.get(f"/homework/{exam_id}", follow_redirects=False)
    assert staff_page.headers["location"] == f"/exams/{exam_id}"
    csrf = _csrf(web.get("/login").text)
    for url in (f"/homework/{exam_id}/start", f"/homework/{exam_id}/1"):
        r = web.post(url, data={"csrf_token": csrf, "loss": "1"}, follow_redirects=False)
        assert r.headers["location"] == f"/exams/{exam_id}", url
    web.cookies.clear()
    _student(web)
    page = web.get(f"/homework/{exam_id}").text
    assert "限时 45 分钟" in page and 'action="/homework/' in page and 'name="loss"' not in page

    def started() -> int:
        with web.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
            return int(s.scalar(select(func.count()).select_from(ExamAssignment)) or 0)

    assert started() == 0  # nor the TA's looks
    r = web.post(f"/homework/{exam_id}/start", data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and started() == 1
    page = web.get(f"/homework/{exam_id}").text
    assert 'name="loss"' in page and "限时 45 分钟，请在" in page


def test_an_exam_not_open_yet_says_when_on_the_course_clock(web) -> None:  # type: ignore[no-untyped-def]
    exam_id, _ = _exam(web, "exam", opens_at="2031-05-01T16:00:00Z", due_at="2031-05-02T16:00:00Z")
    _student(web)
    r = web.get(f"/homework/{exam_id}")
    assert r.status_code == 403 and "尚未开放：2031-05-02 00:00 (UTC+8) 开放" in r.text
    assert "没有权限" not in r.text and "退出 (alice)" in r.text  # the site's page, logged in


def test_a_question_number_beyond_any_exam_is_a_clear_4xx(web) -> None:  # type: ignore[no-untyped-def]
    """A number past any integer column reached the database logged out: SQLite's OverflowError, a 500."""
    exam_id, _ = _exam(web, "homework")
    for number in ("99999999999999999999", "0", "61", "-1"):
        r = web.post(f"/homework/{exam_id}/{number}", data={"loss": "1"})
        assert 400 <= r.status_code < 500, (number, r.status_code)
