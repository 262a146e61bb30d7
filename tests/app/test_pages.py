"""Every browser page, logged in and not (httpx through the app)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add_account, make_app

FAMILY = "loss.uniform_prediction"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has a CSRF token"
    return m.group(1)


def _login(c: TestClient, name: str, password: str = "correct horse battery") -> None:
    token = _csrf(c.get("/login").text)
    r = c.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def _practice(c: TestClient, family: str = FAMILY) -> tuple[str, str]:
    r = c.get(f"/practice/{family}", follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    page = c.get(url)
    assert page.status_code == 200
    return url.split("i=")[1], page.text


@pytest.mark.parametrize("lang,word", [("zh", "首页"), ("en", "Home")])
def test_home_lists_chapters_in_both_languages(web, lang, word) -> None:  # type: ignore[no-untyped-def]
    r = web.get(f"/?lang={lang}")
    assert r.status_code == 200
    assert f'href="/practice/{FAMILY}"' in r.text
    assert ("第三章" if lang == "zh" else "Ch. 3") in r.text
    # the choice is remembered
    assert r.cookies.get("lang") == lang or web.cookies.get("lang") == lang
    again = web.get("/")
    assert (
        '<html lang="zh-CN">' if lang == "zh" else '<html lang="en">'
    ) in again.text  # not the switch link's lang


def test_practice_page_has_one_input_per_part_and_no_answer(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    assert 'name="loss"' in html and 'data-part="loss"' in html
    assert "data-correct" not in html
    assert "<math" in html  # server-side typesetting
    assert "log(" not in html.split('name="loss"')[1].split(">")[0]
    assert "nothing is saved" in html or "不会保存" in html


def test_practice_submit_marks_parts_and_keeps_answers(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    k = web.get(f"/api/v1/instances/{iid}").json()["params"]["num_classes"]
    token = _csrf(html)
    r = web.post(
        f"/practice/{FAMILY}", data={"csrf_token": token, "instance_id": iid, "loss": f"ｌｎ（{k}）"}
    )
    assert r.status_code == 200
    assert 'data-part="loss"' in r.text and 'data-correct="true"' in r.text
    assert f"ｌｎ（{k}）" in r.text  # kept as typed
    wrong = web.post(
        f"/practice/{FAMILY}", data={"csrf_token": token, "instance_id": iid, "loss": f"log10({k})"}
    )
    assert 'data-correct="false"' in wrong.text and ("natural" in wrong.text or "自然对数" in wrong.text)


def test_boxes_are_named_after_their_parts_and_old_pages_still_post(web) -> None:  # type: ignore[no-untyped-def]
    """The contract: one input per part, `name` = the part name. Pages served before that named
    them `answer.<part>`; a tab still open on one must not lose its answers."""
    iid, html = _practice(web)
    k = web.get(f"/api/v1/instances/{iid}").json()["params"]["num_classes"]
    assert 'name="loss"' in html and "answer.loss" not in html
    old = web.post(
        f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "answer.loss": f"ln({k})"}
    )
    assert 'data-correct="true"' in old.text


def test_form_fields_never_share_a_name_with_a_part(web) -> None:  # type: ignore[no-untyped-def]
    """A box is named after its part: a part called like one of the form's own fields would be
    read as that field. The fields are read off the page, so a new one is covered too."""
    import problems

    _, html = _practice(web)
    own = set(re.findall(r'<input type="hidden" name="([^"]+)"', html))
    from app.web.pages import _FORM_FIELDS

    assert own == set(_FORM_FIELDS)  # every field the form sends that is not an answer
    problems.load_all()
    for fam in problems.all_families():
        for seed in range(20):  # a family's parts may depend on its params
            for part in problems.instantiate(fam.id, seed=seed).parts:
                assert part.name not in own, (fam.id, part.name)


def test_hints_show_the_syntax_as_typed_and_a_verdict_is_said_once(web) -> None:  # type: ignore[no-untyped-def]
    """A hint is an example to copy: markdown made 15*(9*9*3+1) into 15*(9<em>9</em>3+1)."""
    iid, html = _practice(web, "cnn.conv2d")
    assert "15*(9*9*3+1)" in html and "<em>" not in html.split('class="hint"')[1].split("</span>")[0]
    iid, html = _practice(web)
    k = web.get(f"/api/v1/instances/{iid}").json()["params"]["num_classes"]
    r = web.post(
        f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": f"ln({k})"}
    )
    feedback = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text.split('class="feedback"')[1].split("</div>")[0])
    )
    assert feedback.count("正确") + feedback.count("Correct") == 1, feedback


def test_a_short_answer_waits_for_a_ta_instead_of_showing_wrong(web) -> None:  # type: ignore[no-untyped-def]
    app = web.app_ref  # type: ignore[attr-defined]
    add_account(app, "sam", "student")
    _login(web, "sam")
    iid, html = _practice(web, "concept.short_answer")
    name = re.search(r'<textarea id="a-1" name="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    r = web.post(
        "/practice/concept.short_answer",
        data={"csrf_token": _csrf(html), "instance_id": iid, name: "残差连接让梯度直接传回浅层"},
    )
    part = r.text.split(f'data-part="{name}"')[1].split("</div>\n  </div>")[0]
    assert 'data-pending="ta"' in part and ("等待助教批改" in part or "Waiting for a TA" in part)
    assert "不正确" not in part and "Not correct" not in part
    me = web.get("/me").text
    history = me.split('class="grid history"')[1]
    assert "✗" not in history and ("等待助教批改" in history or "Waiting for a TA" in history)


@pytest.mark.parametrize("logged_in", [True, False])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_question_only_a_ta_grades_shows_no_score(web, logged_in, lang) -> None:  # type: ignore[no-untyped-def]
    """Nothing in it is graded automatically: "得分: 0.0% （不含助教批改的部分）" read as a fail."""
    if logged_in:
        add_account(web.app_ref, "sue", "student")  # type: ignore[attr-defined]
        _login(web, "sue")
    web.get(f"/?lang={lang}")
    iid, html = _practice(web, "concept.short_answer")
    name = re.search(r'<textarea id="a-1" name="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    r = web.post(
        "/practice/concept.short_answer",
        data={"csrf_token": _csrf(html), "instance_id": iid, name: "残差连接让梯度直接传回浅层"},
    )
    total = r.text.split('class="total"')[1].split("</p>")[0]
    assert "%" not in total and "data-score" not in total, total
    said = {
        (True, "zh"): "答案已保存，等待助教批改",
        (True, "en"): "Your answer is saved and waits for a TA",
        (False, "zh"): "你未登录，答案没有保存",
        (False, "en"): "You are not logged in, so your answer was not saved",
    }[logged_in, lang]
    assert said in total, total


def test_the_site_has_an_icon(web) -> None:  # type: ignore[no-untyped-def]
    """/favicon.ico was a 404: every page logged an error in the browser's console."""
    ico = web.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in ico.content  # an ICO holding PNGs
    assert web.head("/favicon.ico").status_code == 200
    home = web.get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in home and 'href="/static/favicon.svg"' in home
    svg = web.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_title_with_a_superscript_is_typeset(web, lang) -> None:  # type: ignore[no-untyped-def]
    """The home page showed a raw caret: "策略评估：精确求解 V^π"."""
    family = "rl.policy_evaluation"
    home = web.get(f"/?lang={lang}").text
    link = home.split(f'<a href="/practice/{family}">')[1].split("</a>")[0]
    assert "<sup><i>π</i></sup>" in link and "^" not in link and "$" not in link, link
    iid, html = _practice(web, family)
    title = html.split("<title>")[1].split("</title>")[0]
    assert "Vπ" in title and not set("^$\\<") & set(title), title  # no markup where none is shown
    assert "<sup><i>π</i></sup>" in html.split("<h1>")[1].split("</h1>")[0]


def test_a_reloaded_result_is_one_attempt_and_the_address_names_the_instance(web) -> None:  # type: ignore[no-untyped-def]
    """A reload of the result page posts the form again: it stored the attempt twice. Changed
    answers from the same page (Back, edit, submit) are a new attempt."""
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    _login(web, "alice")
    iid, html = _practice(web)
    assert f'action="/practice/{FAMILY}?i={iid}"' in html
    form = {"csrf_token": _csrf(html), "instance_id": iid, "loss": "1"}
    form["form_key"] = re.search(r'name="form_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    first = web.post(f"/practice/{FAMILY}?i={iid}", data=form)
    reload = web.post(f"/practice/{FAMILY}?i={iid}", data=form)
    assert first.status_code == reload.status_code == 200 and 'data-correct="false"' in reload.text
    changed = web.post(f"/practice/{FAMILY}?i={iid}", data={**form, "loss": "2"})
    assert changed.status_code == 200
    mine = web.get("/api/v1/me/attempts").json()["data"]
    assert sorted(a["answers"]["loss"] for a in mine) == ["1", "2"], mine


def test_switching_language_after_a_submit_keeps_the_instance(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    r = web.post(f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "1"})
    link = re.search(r'<a class="lang" href="([^"]+)"', r.text)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert f"i={iid}" in href, href
    again = web.get(href, follow_redirects=False)
    assert again.status_code == 200, "the same instance, not a redirect to a new one"
    assert f'name="instance_id" value="{iid}"' in again.text


def test_practice_post_without_csrf_is_refused_and_the_answers_kept(web) -> None:  # type: ignore[no-untyped-def]
    """Not graded; but a form that expired (a logout in another tab) must not lose what was typed,
    nor say that the page needs a TA (it said so)."""
    iid, _ = _practice(web)
    r = web.post(f"/practice/{FAMILY}", data={"instance_id": iid, "loss": "ln(２)+1", "csrf_token": "old"})
    assert r.status_code == 403
    assert 'value="ln(２)+1"' in r.text and ("表单已过期" in r.text or "form expired" in r.text)
    assert "data-correct" not in r.text and "助教" not in r.text.split("<main")[1].split("</form>")[0]
    again = web.post(
        f"/practice/{FAMILY}", data={"instance_id": iid, "loss": "1", "csrf_token": _csrf(r.text)}
    )
    assert again.status_code == 200 and "data-correct" in again.text  # its fresh token works


def test_a_student_back_on_a_checked_instance_finds_their_last_answers(web) -> None:  # type: ignore[no-untyped-def]
    """Back after a submit showed the boxes empty (they are autocomplete="off"): the answer was gone
    unless the student retyped it. The page now holds the last answers, without any script."""
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    add_account(web.app_ref, "bob", "student")  # type: ignore[attr-defined]
    _login(web, "alice")
    iid, html = _practice(web)
    assert 'value=""' in html.split('name="loss"')[1].split(">")[0] and "data-last-answers" not in html
    token = _csrf(html)
    for answer in ("１＋２", "ln(3) <b>"):  # the last one counts
        checked = web.post(
            f"/practice/{FAMILY}?i={iid}", data={"csrf_token": token, "instance_id": iid, "loss": answer}
        )
        assert checked.status_code == 200 and "data-correct" in checked.text
    # the result page's box says what is stored: the browser's draft of it is done with
    assert 'data-stored="ln(3) &lt;b&gt;"' in checked.text
    back = web.get(f"/practice/{FAMILY}?i={iid}")
    box = back.text.split('name="loss"')[1].split(">")[0]
    assert 'value="ln(3) &lt;b&gt;"' in box and 'data-stored="ln(3) &lt;b&gt;"' in box
    assert "data-last-answers" in back.text and "data-correct" not in back.text
    assert f"/practice/{FAMILY}/solution?i={iid}" in back.text  # tried: the solution is open
    # Another student's page of the same instance holds nothing of alice's, nor does a visitor's.
    web.post("/logout", data={"csrf_token": _csrf(back.text)})
    for who in ("bob", None):
        if who:
            _login(web, who)
        other = web.get(f"/practice/{FAMILY}?i={iid}").text
        assert "ln(3)" not in other and "data-stored" not in other and "data-last-answers" not in other
        web.cookies.clear()


def test_a_blank_submit_is_not_an_attempt(web) -> None:  # type: ignore[no-untyped-def]
    """It counted 0% and unlocked the worked solution without a try."""
    iid, html = _practice(web)
    r = web.post(f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "  "})
    assert r.status_code == 422 and ("请先填写答案" in r.text or "Type an answer" in r.text)
    assert "data-correct" not in r.text
    assert web.get(f"/practice/{FAMILY}/solution?i={iid}").status_code == 403


def test_solution_unlocks_after_an_attempt(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    assert web.get(f"/practice/{FAMILY}/solution?i={iid}").status_code == 403
    web.post(f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "1"})
    r = web.get(f"/practice/{FAMILY}/solution?i={iid}")
    assert r.status_code == 200 and 'class="steps"' in r.text


def test_a_short_answers_key_points_are_not_numbered_twice(web) -> None:  # type: ignore[no-untyped-def]
    """Its steps number and list themselves: inside a numbered list they read '2. 1.'; and it has
    no reference answer, so no empty 'Answers' heading."""
    iid, html = _practice(web, "concept.short_answer")
    name = re.search(r'<textarea id="a-1" name="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    web.post(
        "/practice/concept.short_answer", data={"csrf_token": _csrf(html), "instance_id": iid, name: "x"}
    )
    page = web.get(f"/practice/concept.short_answer/solution?i={iid}").text
    assert '<article class="steps">' in page and '<ol class="steps">' not in page
    assert "参考答案" not in page and "Answers</h2>" not in page
    iid, html = _practice(web)
    web.post(f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "1"})
    numeric = web.get(f"/practice/{FAMILY}/solution?i={iid}").text
    assert '<ol class="steps">' in numeric and "参考答案" in numeric  # worked steps stay numbered


def test_unknown_family_and_instance_are_404_pages(web) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/practice/cnn.nope")
    assert r.status_code == 404 and "<main" in r.text and "找不到此页面" in r.text
    assert "/static/app.css" in r.text and "首页 / Home" in r.text  # the site's page, the way on
    assert "/login" not in r.text  # not offered to someone who may be logged in already
    assert web.get(f"/practice/{FAMILY}?i=nope").status_code == 404


def test_a_students_403_page_says_why_in_chinese(web) -> None:  # type: ignore[no-untyped-def]
    """A student opening /exams saw the English detail only, and was offered to log in, as if not."""
    add_account(web.app_ref, "stu403", "student")  # type: ignore[attr-defined]
    _login(web, "stu403")
    r = web.get("/exams")
    assert r.status_code == 403 and "此页面仅限助教和教师使用" in r.text
    assert "换个账号登录" in r.text and ">登录 / Log in<" not in r.text


def test_login_logout_and_progress(web) -> None:  # type: ignore[no-untyped-def]
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    assert web.get("/me", follow_redirects=False).status_code == 303
    _login(web, "alice")
    iid, html = _practice(web)
    web.post(f"/practice/{FAMILY}", data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "12345"})
    me = web.get("/me")
    assert me.status_code == 200 and "12345" in me.text and "<svg" in me.text
    home = web.get("/")
    assert "0%" in home.text  # recent accuracy shown for the tried family
    token = _csrf(home.text)
    assert web.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert web.get("/me", follow_redirects=False).status_code == 303


def test_bad_login_shows_a_message(web) -> None:  # type: ignore[no-untyped-def]
    token = _csrf(web.get("/login").text)
    r = web.post("/login", data={"name": "ghost", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and ("Wrong" in r.text or "错误" in r.text)


def test_login_refuses_open_redirects(web) -> None:  # type: ignore[no-untyped-def]
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    token = _csrf(web.get("/login").text)
    r = web.post(
        "/login",
        data={
            "name": "alice",
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_logging_in_from_a_practice_page_comes_back_to_the_same_instance(web) -> None:  # type: ignore[no-untyped-def]
    """The login link kept only the path: back from logging in, the student got a new instance."""
    from urllib.parse import unquote

    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    iid, html = _practice(web)
    link = re.search(r'href="/login\?next=([^"]+)"', html)
    assert link is not None
    target = unquote(link.group(1))
    assert target == f"/practice/{FAMILY}?i={iid}", target
    token = _csrf(web.get(f"/login?next={link.group(1)}").text)
    r = web.post(
        "/login",
        data={"name": "alice", "password": "correct horse battery", "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert r.headers["location"] == target


def test_logging_in_keeps_the_language_the_visitor_was_reading_in(web) -> None:  # type: ignore[no-untyped-def]
    """An English browser saw English pages, then Chinese ones after logging in (the account's)."""
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    en = {"Accept-Language": "en-US,en;q=0.9"}
    assert '<html lang="en">' in web.get("/", headers=en).text
    token = _csrf(web.get("/login", headers=en).text)
    r = web.post(
        "/login",
        data={"name": "alice", "password": "correct horse battery", "csrf_token": token},
        headers=en,
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert '<html lang="en">' in web.get("/me", headers=en).text


def test_weak_spots_redirects_to_a_practice_page(web) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/practice-next", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/practice/")


def test_roster_import_is_for_instructors_and_all_or_nothing(web) -> None:  # type: ignore[no-untyped-def]
    add_account(web.app_ref, "ivan", "instructor")  # type: ignore[attr-defined]
    add_account(web.app_ref, "s2", "student")  # type: ignore[attr-defined]
    anonymous = web.get("/roster", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/roster"
    _login(web, "ivan")
    page = web.get("/roster")
    assert page.status_code == 200
    token = _csrf(page.text)
    roster = "学号,姓名\ns1,张三\ns2,李四\nbad id,赵六\n"
    bad = web.post("/roster", data={"csrf_token": token, "roster_text": roster})
    assert bad.status_code == 422  # the header is line 1; every error is listed, in the page's language
    assert (
        "第 3 行：学号 &#39;s2&#39; 已有账号" in bad.text
        and "第 4 行：学号 &#39;bad id&#39; 只能由" in bad.text
    )
    assert f"{roster}</textarea>" in bad.text  # what was pasted stays
    en = web.post("/roster?lang=en", data={"csrf_token": token, "roster_text": roster})
    assert "line 3: student id &#39;s2&#39; already has an account" in en.text and "已有账号" not in en.text
    ok = web.post("/roster", data={"csrf_token": token, "roster_text": "学号,姓名\ns1,张三\ns3,王五\n"})
    assert ok.status_code == 200 and 'data-created="2"' in ok.text and "张三" in ok.text


def test_registration_needs_the_course_code(sqlite_db_url) -> None:  # type: ignore[no-untyped-def]
    closed = make_app(sqlite_db_url)
    with TestClient(closed) as c:
        assert c.get("/register").status_code == 404
    app = make_app(sqlite_db_url, registration_code="DL2026")
    with TestClient(app) as c:
        token = _csrf(c.get("/register").text)
        wrong = c.post(
            "/register", data={"name": "zoe", "password": "longenough", "code": "x", "csrf_token": token}
        )
        assert wrong.status_code == 403
        ok = c.post(
            "/register",
            data={"name": "zoe", "password": "longenough", "code": "DL2026", "csrf_token": token},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        assert c.get("/me").status_code == 200


def test_html_in_answers_is_escaped(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    r = web.post(
        f"/practice/{FAMILY}",
        data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "<script>alert(1)</script>"},
    )
    assert r.status_code == 200 and "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_a_parse_error_shows_a_caret_under_the_spot(web) -> None:  # type: ignore[no-untyped-def]
    iid, html = _practice(web)
    r = web.post(
        f"/practice/{FAMILY}",
        data={"csrf_token": _csrf(html), "instance_id": iid, "loss": "ln(5 +* 2)"},
    )
    assert 'data-correct="false"' in r.text
    caret = r.text.split('<pre class="caret">')[1].split("</pre>")[0]
    typed, mark = caret.split("\n")[:2]
    assert typed == "ln(5 +* 2)" and mark.index("^") == typed.index("*")
    add_account(web.app_ref, "alice", "student")  # type: ignore[attr-defined]
    _login(web, "alice")
    web.post(
        f"/practice/{FAMILY}",
        data={
            "csrf_token": _csrf(web.get(f"/practice/{FAMILY}?i={iid}").text),
            "instance_id": iid,
            "loss": "ln(5 +* 2)",
        },
    )
    history = web.get("/me").text.split('class="grid history"')[1]
    caret = history.split('<pre class="caret">')[1].split("</pre>")[0]  # /me keeps the two lines too
    assert caret.split("\n")[1].index("^") == caret.split("\n")[0].index("*")


def test_a_matrix_answer_box_keeps_rows_pasted_one_a_line(web) -> None:  # type: ignore[no-untyped-def]
    """A one-line input turned the line breaks of rows pasted from a PDF into spaces: a 3x3 matrix
    came out 1x9. A matrix part is a box of lines, and its lines are its rows."""
    import json

    from problems.registry import instantiate

    iid, html = _practice(web, "loss.softmax_cross_entropy")
    assert re.search(r'<textarea[^>]*name="probabilities"[^>]*data-type="matrix"', html)
    posed = web.get(f"/api/v1/instances/{iid}").json()
    rows = json.loads(instantiate(posed["problem"], params=posed["params"]).answers["probabilities"])
    pasted = "\n".join(" ".join(str(x) for x in row) for row in rows)
    r = web.post(
        "/practice/loss.softmax_cross_entropy",
        data={"csrf_token": _csrf(html), "instance_id": iid, "probabilities": pasted},
    )
    part = r.text.split('data-part="probabilities"')[1][:40]
    assert 'data-correct="true"' in part, (pasted, part)
