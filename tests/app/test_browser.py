"""A student in a real browser: Debian's Chromium driven by Playwright against a live server."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time

import pytest

from tests.conftest import ARTIFACTS, add_account, make_app

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FAMILY = "loss.uniform_prediction"
STAFF: dict[str, str] = {}  # the live server's TA: its Authorization header
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A uvicorn server in a thread on a free loopback port, with its own database."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    pytest.importorskip("playwright")
    import uvicorn
    from alembic import command

    from app.cli import alembic_config

    url = f"sqlite:///{tmp_path_factory.mktemp('browser')}/b.db"
    command.upgrade(alembic_config(url), "head")
    app = make_app(url)
    add_account(app, "alice", "student")
    add_account(app, "bob", "student")
    STAFF.update(add_account(app, "tina", "ta").headers)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _num_classes(page) -> int:  # type: ignore[no-untyped-def]
    iid = page.url.split("i=")[1]
    return int(
        page.request.get(f"{page.url.split('/practice')[0]}/api/v1/instances/{iid}").json()["params"][
            "num_classes"
        ]
    )


def test_practise_with_full_width_input_preview_and_submit(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/practice/{FAMILY}")
    k = _num_classes(page)
    box = page.locator('input[name="loss"]')
    box.click()
    box.type(f"ｌｎ（{k}）")  # typed as from a Chinese IME
    preview = page.locator('[data-part="loss"] .preview')
    preview.filter(has_text="识别为").wait_for(timeout=5000)
    page.get_by_role("button", name="提交").click()
    part = page.locator('[data-part="loss"]')
    assert part.get_attribute("data-correct") == "true"
    assert box.input_value() == f"ｌｎ（{k}）"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "practice.png"), full_page=True)


def test_wrong_answer_shows_misconception_feedback_and_language_switch(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/practice/{FAMILY}")
    k = _num_classes(page)
    page.fill('input[name="loss"]', f"log10({k})")
    page.keyboard.press("Enter")
    part = page.locator('[data-part="loss"]')
    part.wait_for()
    assert part.get_attribute("data-correct") == "false"
    assert "自然对数" in part.inner_text()
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Submit" in page.content()


def test_parse_error_preview_points_at_the_spot(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/practice/{FAMILY}")
    page.locator('input[name="loss"]').type("ln(5")
    err = page.locator('[data-part="loss"] .preview.error')
    err.wait_for(timeout=5000)
    assert err.inner_text().strip()


def test_login_and_see_the_attempt_on_me(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/login")
    page.fill("#name", "alice")
    page.fill("#password", "correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live}/practice/{FAMILY}")
    page.fill('input[name="loss"]', "123.5")
    page.get_by_role("button", name="提交").click()
    page.goto(f"{live}/me")
    assert "123.5" in page.content()
    assert page.locator("svg.chart").count() == 1


def test_keyboard_only_reaches_the_answer_and_submits(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/practice/{FAMILY}")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == "loss":
            break
    assert page.evaluate("document.activeElement.name") == "loss"
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.locator('[data-part="loss"][data-correct]').wait_for()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_labels_never_run_under_their_bars(page, lang) -> None:  # type: ignore[no-untyped-def]
    from app.web.charts import bar_chart
    from problems.syllabus import CHAPTERS

    labels = [c[lang] for c in CHAPTERS.values()]
    labels.append("Chapter 99: a made-up chapter title far too long for any label column to hold in full")
    svg = bar_chart([(label, (i % 5) / 4) for i, label in enumerate(labels)], title="t")
    page.set_viewport_size({"width": 420, "height": 900})  # a phone: the chart scales down
    page.set_content(
        f"<!doctype html><meta charset=utf-8><body style='margin:0;font-family:sans-serif'>{svg}"
    )
    boxes = page.evaluate(
        """() => {
          const svg = document.querySelector('svg.chart');
          const bar = svg.querySelector('rect').getAttribute('x');
          const labels = [...svg.querySelectorAll('text')].filter(t => t.getAttribute('x') === '0');
          return {bar: Number(bar), right: labels.map(t => t.getBBox().x + t.getBBox().width),
                  top: labels.map(t => t.getBBox().y), bottom: labels.map(t => t.getBBox().y + t.getBBox().height),
                  drawn: labels.map(t => [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' '))};
        }"""
    )
    assert len(boxes["right"]) == len(labels)
    assert max(boxes["right"]) <= boxes["bar"], boxes
    # Each label whole ("第七章 网络优化与正则…" was cut), its lines clear of the next label's.
    assert [re.sub(r"\s+", "", d) for d in boxes["drawn"]] == [re.sub(r"\s+", "", label) for label in labels]
    assert all(b <= t for b, t in zip(boxes["bottom"], boxes["top"][1:], strict=False)), boxes


def test_the_submit_button_stays_put_while_typing(live, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/practice/{FAMILY}")
    button = page.get_by_role("button", name="提交")
    box = page.locator('input[name="loss"]')
    box.click()  # the preview's room opens with the focus, before the first keystroke
    before = button.bounding_box()
    for text in ("ln(5", "ln(5 +* 2)", "ln(5)"):  # an error with a caret line, then a good reading
        box.fill("")
        box.type(text)
        preview = page.locator('[data-part="loss"] .preview')
        if text == "ln(5)":
            preview.filter(has_text="识别为").wait_for(timeout=5000)
        else:  # the answer itself, its spot marked, under the message
            page.wait_for_function(
                "t => ((document.querySelector('[data-part=loss] .preview .spot') || {}).textContent || '')"
                ".startsWith(t)",
                arg=text,
                timeout=5000,
            )
        after = button.bounding_box()
        assert before is not None and after is not None
        assert abs(after["y"] - before["y"]) < 1, (text, before, after)
        if text == "ln(5 +* 2)":
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator('[data-part="loss"]').screenshot(path=str(ARTIFACTS / "preview-error.png"))


def _login_to(page, live: str, exam_id: str, name: str = "alice") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live}/login?next=/homework/{exam_id}")
    page.fill("#name", name)
    page.fill("#password", "correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/homework/{exam_id}")


def test_homework_keeps_what_was_typed_in_other_questions_across_a_submit(live, page) -> None:  # type: ignore[no-untyped-def]
    """Each question is sent on its own and the page comes back after it: the other questions'
    boxes came back empty. The browser keeps them until they are sent."""
    body = {"title": "hw", "items": [{"problem": FAMILY}, {"problem": FAMILY}], "kind": "homework"}
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    _login_to(page, live, exam_id)
    page.fill("#q2-1", "ln(7) 还没想好")
    page.fill("#q1-1", "ln(3)")
    page.locator("#q1 button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#q1 [data-correct]").count() == 1  # question 1 was graded
    assert page.input_value("#q2-1") == "ln(7) 还没想好"  # question 2 kept as typed
    page.fill("#q2-1", "ln(7)")
    page.locator("#q2 button[type=submit]").click()
    page.wait_for_load_state()
    page.reload()
    assert page.input_value("#q2-1") == "ln(7)"  # sent: what the server has, no stale draft
    # A shared computer: logging out forgets alice's unsent draft (it was kept until then).
    page.fill("#q1-1", "alice 的草稿")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dlg-draft:')).length") == 1
    page.get_by_role("button", name="退出 (alice)").click()
    page.wait_for_load_state()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dlg-draft:')).length") == 0
    _login_to(page, live, exam_id, "bob")
    assert page.input_value("#q1-1") == ""


def test_a_draft_survives_a_submit_refused_for_a_lost_session(live, page) -> None:  # type: ignore[no-untyped-def]
    """Logged out in another tab, a submit is refused: its draft was already dropped, and after
    logging in again the box was empty."""
    body = {"title": "hw2", "items": [{"problem": FAMILY}], "kind": "homework"}
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    _login_to(page, live, exam_id)
    page.fill("#q1-1", "ln(4)")
    page.context.clear_cookies()  # the session ends elsewhere
    page.locator("#q1 button[type=submit]").click()
    page.wait_for_load_state()
    assert "ln(4)" in page.content()  # shown back to copy
    _login_to(page, live, exam_id)
    assert page.input_value("#q1-1") == "ln(4)" and page.locator(".draft-note").count() == 1


def test_drafts_follow_what_is_stored_not_what_is_shown(live, page) -> None:  # type: ignore[no-untyped-def]
    """A review: text refused as unreadable was dropped as soon as the page showed it back, and
    lost when another question was sent; a box emptied and sent came back empty, marked a draft."""
    two = [{"problem": FAMILY}, {"problem": FAMILY}]
    exam = page.request.post(
        f"{live}/api/v1/exams",
        data={"title": "e", "items": two, "kind": "exam", "due_at": "2099-01-01T00:00:00Z"},
        headers=STAFF,
    )
    exam_id = exam.json()["id"]
    _login_to(page, live, exam_id)
    page.fill("#q1-1", "ln(2")
    page.locator("#q1 button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#q1 [aria-invalid=true]").count() == 1  # refused, shown back
    page.goto(f"{live}/homework/{exam_id}")
    page.fill("#q2-1", "ln(2)")
    page.locator("#q2 button[type=submit]").click()
    page.wait_for_load_state()
    assert page.input_value("#q1-1") == "ln(2"  # still there to fix, not lost
    homework = page.request.post(
        f"{live}/api/v1/exams", data={"title": "h", "items": two[:1], "kind": "homework"}, headers=STAFF
    )
    hw_id = homework.json()["id"]
    page.goto(f"{live}/homework/{hw_id}")
    page.fill("#q1-1", "ln(4)")
    page.locator("#q1 button[type=submit]").click()
    page.wait_for_load_state()
    page.fill("#q1-1", "")
    page.locator("#q1 button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live}/homework/{hw_id}")
    assert page.input_value("#q1-1") == "ln(4)" and page.locator(".draft-note").count() == 0


def test_another_users_drafts_are_dropped_on_any_page_even_without_a_logout(live, page) -> None:  # type: ignore[no-untyped-def]
    """The session simply ended (cookies gone, browser closed): the next student's first page,
    whatever it is, drops the previous one's drafts from this browser's storage."""
    body = {"title": "hw3", "items": [{"problem": FAMILY}], "kind": "homework"}
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    _login_to(page, live, exam_id, "bob")
    page.fill("#q1-1", "bob 的作答")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dlg-draft:')).length") == 1
    page.context.clear_cookies()
    page.goto(f"{live}/login?next=/me")
    page.fill("#name", "alice")
    page.fill("#password", "correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/me")
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('dlg-draft:'))")
    assert kept == [], kept


def test_unsent_text_stays_visible_when_the_homework_closes(live, page) -> None:  # type: ignore[no-untyped-def]
    """A review: once closed, the boxes are disabled and their unsent drafts were deleted."""
    import datetime as dt

    due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)).isoformat()
    body = {"title": "hw4", "items": [{"problem": FAMILY}], "kind": "homework", "due_at": due}
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    _login_to(page, live, exam_id)
    page.fill("#q1-1", "我的草稿 ln(3)")
    time.sleep(4.5)  # the homework closes
    page.reload()
    assert page.locator("#q1-1").is_disabled()
    assert "我的草稿 ln(3)" in page.locator(".draft-note").inner_text()


def test_a_timed_exam_counts_down_on_the_servers_clock(live, page) -> None:  # type: ignore[no-untyped-def]
    """The page stated only the end time; it now counts the time left, and a phone whose clock is
    an hour fast still counts the exam's 30 minutes (the page carries the server's time)."""
    body = {
        "title": "限时",
        "items": [{"problem": FAMILY}],
        "kind": "exam",
        "time_limit_minutes": 30,
        "due_at": "2099-01-01T00:00:00Z",
    }
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    page.clock.install(time=time.time() + 3600)  # this browser's clock: an hour ahead
    _login_to(page, live, exam_id, "bob")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_url(f"**/homework/{exam_id}")
    shown = page.locator(".countdown output")
    page.clock.run_for(2000)
    minutes, seconds = shown.text_content().split(":")  # type: ignore[union-attr]
    assert minutes in ("29", "30") and len(seconds) == 2, shown.text_content()
    page.clock.run_for(31 * 60 * 1000)
    assert page.locator(".countdown").text_content() == "时间到"


def test_homework_shows_how_an_answer_is_read_as_it_is_typed(live, page) -> None:  # type: ignore[no-untyped-def]
    """The live preview was on practice pages only: where answers count, a typo was found out
    only after sending."""
    body = {"title": "hw-preview", "items": [{"problem": FAMILY}], "kind": "homework"}
    exam_id = page.request.post(f"{live}/api/v1/exams", data=body, headers=STAFF).json()["id"]
    _login_to(page, live, exam_id)
    page.fill("#q1-1", "ｌｎ（１０")
    out = page.locator("#q1-1-p")
    out.locator("mark").wait_for()  # the unread spot is marked
    page.fill("#q1-1", "ln(10)/2")
    page.wait_for_function("document.querySelector('#q1-1-p').textContent.includes('识别为')")
    assert "data-correct" not in page.content()  # read, not graded


def test_after_a_practice_submit_the_result_has_the_focus(live, page) -> None:  # type: ignore[no-untyped-def]
    """A screen reader user submitted and heard nothing: the focus fell back to the page's top."""
    page.goto(f"{live}/practice/{FAMILY}")
    page.fill('input[name="loss"]', "1")
    page.locator("form.answers button[type=submit]").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.dataset.score") is not None


def test_a_practice_answer_survives_a_submit_that_never_reached_the_server(live, page) -> None:  # type: ignore[no-untyped-def]
    """The server down: 提交 showed the browser's error page, Back skipped the practice page (the
    browser drops it from the history) and the question's link posed new numbers. What was typed
    is kept in this browser for its instance, reached from the question's new numbers, and dropped
    once a check of it is stored."""
    page.goto(f"{live}/login?next=/")
    page.fill("#name", "bob")
    page.fill("#password", "correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live}/")
    page.goto(f"{live}/practice/{FAMILY}")
    first = page.url
    page.fill('input[name="loss"]', "ln(３) 还没算完")
    page.route(
        "**/practice/**", lambda route: route.abort() if route.request.method == "POST" else route.fallback()
    )
    page.get_by_role("button", name="提交").click(no_wait_after=True)
    page.wait_for_function(
        "location.href.startsWith('chrome-error:') || !document.querySelector('form.answers')"
    )
    page.unroute("**/practice/**")
    try:
        page.go_back()
    except Exception:  # Playwright's wait on a page leaving the browser's error page: not ours to judge
        pass
    page.goto(f"{live}/practice/{FAMILY}")  # the question again: new numbers
    assert page.url != first
    assert page.input_value('input[name="loss"]') == ""
    page.locator(".draft-elsewhere a").click()
    page.wait_for_url(first)
    assert page.input_value('input[name="loss"]') == "ln(３) 还没算完"
    assert page.locator(".draft-note").inner_text() == "（草稿，尚未提交）"
    page.fill('input[name="loss"]', "ln(3)")
    page.get_by_role("button", name="提交").click()
    page.locator('[data-part="loss"][data-correct]').wait_for()
    drafts = "Object.keys(localStorage).filter(k => k.startsWith('dlg-draft:')).length"
    assert page.evaluate(drafts) == 0  # checked and stored: the draft is done with
    page.goto(f"{live}/practice/{FAMILY}")
    assert page.locator(".draft-elsewhere").count() == 0
    page.goto(first)  # Back to it: the server fills in the answer stored
    assert page.input_value('input[name="loss"]') == "ln(3)" and page.locator(".draft-note").count() == 0


def test_a_visitors_draft_stays_in_their_tab_not_with_the_next_visitor(live, page) -> None:  # type: ignore[no-untyped-def]
    """A visitor (no account) on a shared computer: the draft comes back in their tab (a reload, a
    submit that failed), and the next visitor's tab is not offered it."""
    page.goto(f"{live}/practice/{FAMILY}")
    url = page.url
    page.fill('input[name="loss"]', "ln(３) 草稿")
    page.reload()
    assert page.input_value('input[name="loss"]') == "ln(３) 草稿"
    other = page.context.new_page()  # the next visitor, a new tab of the same browser
    try:
        other.goto(f"{live}/practice/{FAMILY}")
        assert other.locator(".draft-elsewhere").count() == 0
        other.goto(url)
        assert other.input_value('input[name="loss"]') == ""
    finally:
        other.close()


def test_an_answer_box_has_no_empty_room_under_it_until_it_is_used(live, page) -> None:  # type: ignore[no-untyped-def]
    """Before a submit each box had a blank block under it (the preview's and the feedback's room)."""
    page.goto(f"{live}/practice/{FAMILY}")
    below = """() => {
      const part = document.querySelector('[data-part="loss"]'), s = getComputedStyle(part);
      return part.getBoundingClientRect().bottom - part.querySelector('input').getBoundingClientRect().bottom
        - parseFloat(s.paddingBottom) - parseFloat(s.borderBottomWidth);
    }"""
    assert page.evaluate(below) < 1
    box = page.locator('input[name="loss"]')
    box.click()
    assert page.evaluate(below) > 20  # room for the reading, before the first keystroke
    box.type("ln(3)")
    page.locator('[data-part="loss"] .preview').filter(has_text="识别为").wait_for(timeout=5000)
    page.locator("form.answers button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator('[data-part="loss"] .preview').inner_text().startswith("识别为")


def test_a_click_on_submit_lands_though_the_empty_preview_above_closes(live, page) -> None:  # type: ignore[no-untyped-def]
    """The focus leaving an empty box closes its preview's room, which moves Submit up. Closed at
    once, the press and the release of a click would fall on different spots and send nothing: it
    closes a moment later."""
    page.goto(f"{live}/practice/{FAMILY}")
    page.locator('input[name="loss"]').click()
    box = page.get_by_role("button", name="提交").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(150)  # a finger's press
    page.mouse.up()
    page.wait_for_load_state()
    page.get_by_text("请先填写答案再提交").wait_for(timeout=5000)  # sent: refused as blank


PHONE = {"width": 360, "height": 780}
ADAM_3_STEPS = {
    "optimizer": "adam", "a": [4.0, 4.0, 1.0], "c": [3.0, 4.0, -2.0], "theta0": [-2.0, -3.0, 2.0],
    "steps": 3, "lr": 0.2, "betas": [0.8, 0.99], "eps": 0.1,
}  # fmt: skip


def _fits_a_phone(page, where: str) -> None:  # type: ignore[no-untyped-def]
    """The page does not scroll sideways, and what is wider than the screen (a formula, a table)
    scrolls in a box of its own: no statement, worked step, label or answer's reading is cut."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], where
    cut = page.evaluate(
        """() => [...document.querySelectorAll(
              '.statement, .steps > li, .refs dd, .part, .part label, .part .preview, .part .feedback')]
          .filter(e => e.scrollWidth > e.clientWidth + 1)
          .map(e => `${e.className || e.tagName}: ${e.scrollWidth} > ${e.clientWidth}: ${e.textContent.slice(0, 50)}`)"""
    )
    assert cut == [], (where, cut)


@pytest.mark.parametrize(
    ("problem", "pose"),
    [
        ("optim.step", {"params": ADAM_3_STEPS}),  # a worked solution of long equations
        ("attention.scaled_dot_product", {"seed": 3}),  # softmax(QK^T/sqrt d)V; matrices read back
        ("rl.policy_evaluation", {"seed": 3}),  # a wide table, a long display formula
        ("cnn.network_table", {"seed": 3}),  # a table of layers
    ],
)
def test_pages_fit_a_phone(live, browser, problem, pose) -> None:  # type: ignore[no-untyped-def]
    """At 360 px the worked solution of an Adam question was 515 px wide and scrolled sideways;
    formulas and tables were cut at the right, and so was a matrix answer's reading."""
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = ctx.new_page()
    iid = page.request.post(
        f"{live}/api/v1/instances", data={"problem": problem, **pose}, headers=STAFF
    ).json()["id"]
    answers = page.request.get(f"{live}/api/v1/instances/{iid}/solution", headers=STAFF).json()["answers"]
    page.goto(f"{live}/practice/{problem}?i={iid}")
    _fits_a_phone(page, "practice")
    for name, text in answers.items():
        page.fill(f'[name="{name}"]', text)
    page.locator("form.answers button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator('[data-correct="true"]').count() == len(answers)
    _fits_a_phone(page, "after a submit")
    page.goto(f"{live}/practice/{problem}/solution?i={iid}")
    assert page.locator(".steps").count() == 1  # the worked solution, not the note to try first
    _fits_a_phone(page, "solution")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{problem}-solution.png"), full_page=True)
    ctx.close()


def test_no_page_logs_an_error_in_the_console(live, browser) -> None:  # type: ignore[no-untyped-def]
    """/favicon.ico was a 404, logged on every page. A browser of its own: one that has asked for
    the icon already does not ask again."""
    fresh = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = fresh.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in ("/", f"/practice/{FAMILY}", "/login"):
        page.goto(f"{live}{path}")
        page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the icon is asked for after the page has loaded
    fresh.close()
    assert errors == []
