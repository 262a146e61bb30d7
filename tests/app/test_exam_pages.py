"""The instructor pages for exams: build one from a form, print it, grade a class's CSV, read statistics."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.app.test_pages import _csrf, _login
from tests.conftest import add_account, make_app

FAMILY = "loss.uniform_prediction"


def _logged_in_ta(url: str):  # type: ignore[no-untyped-def]
    app = make_app(url)
    with TestClient(app) as c:
        add_account(app, "tina", "ta")
        _login(c, "tina")
        c.app_ref = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def ta(sqlite_db_url):  # type: ignore[no-untyped-def]
    yield from _logged_in_ta(sqlite_db_url)


@pytest.fixture
def ta_on_both(db_url):  # type: ignore[no-untyped-def]
    """A TA's browser, on SQLite and on PostgreSQL."""
    yield from _logged_in_ta(db_url)


def _build(c: TestClient, **fields: str):  # type: ignore[no-untyped-def]
    token = _csrf(c.get("/exams/new").text)
    return c.post("/exams/new", data={"csrf_token": token, **fields}, follow_redirects=False)


def test_the_builder_lists_families_and_tags(ta) -> None:  # type: ignore[no-untyped-def]
    r = ta.get("/exams/new")
    assert r.status_code == 200
    assert f'<option value="{FAMILY}"' in r.text and '<option value="tag:cnn"' in r.text
    assert 'name="item9.source"' in r.text
    assert "/exams/new" in ta.get("/exams").text


def test_building_an_exam_from_the_form(ta) -> None:  # type: ignore[no-untyped-def]
    r = _build(
        ta,
        title="期中模拟 <b>",
        kind="homework",
        lang="both",
        variants="4",
        seed="11",
        opens_at="2026-12-05T14:00",  # the course's clock, UTC+8
        **{
            "item0.source": FAMILY,
            "item0.points": "3",
            "item0.params": '{"num_classes": 10}',
            "item1.source": "tag:cnn",
            "item1.count": "2",
            "item1.low": "1",
            "item1.high": "2",
            "item1.points": "5",
        },
    )
    assert r.status_code == 303, r.text
    exam_id = r.headers["location"].rsplit("/", 1)[1]
    api = ta.get(f"/api/v1/exams/{exam_id}").json()
    assert api["title"] == "期中模拟 <b>" and api["kind"] == "homework"
    assert len(api["variants"]) == 4 and api["questions"] == 3
    from app.models import Exam

    with ta.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
        exam = s.get(Exam, exam_id)
        assert exam is not None
        assert exam.opens_at == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
        assert [q.points for q in exam.variants[0].questions] == [3.0, 5.0, 5.0]
    page = ta.get(f"/exams/{exam_id}")
    assert page.status_code == 200
    assert "期中模拟 &lt;b&gt;" in page.text and f"/api/v1/exams/{exam_id}/bundle.pdf" in page.text
    assert ta.get(f"/api/v1/exams/{exam_id}/bundle.html").status_code == 200, "the links work with the cookie"


def test_the_builder_asks_for_one_form_per_question_unless_unticked(ta) -> None:  # type: ignore[no-untyped-def]
    """Ticked by default: a class's variants should be equally hard. A browser sends the box only when
    ticked, so an unticked box builds variants of their own forms (the API's default)."""
    from app.models import Exam, InstanceRecord

    assert re.search(r'<input type="checkbox" name="same_form" checked>', ta.get("/exams/new").text)
    shapes = {}
    for ticked in (True, False):
        box = {"same_form": "on"} if ticked else {}
        r = _build(ta, title="优化", variants="12", seed="5", **{"item0.source": "optim.step"}, **box)
        assert r.status_code == 303, r.text
        with ta.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
            exam = s.get(Exam, r.headers["location"].rsplit("/", 1)[1])
            assert exam is not None and exam.spec["same_form"] is ticked
            posed = [s.get(InstanceRecord, v.questions[0].instance_id).params for v in exam.variants]  # type: ignore[union-attr]
        shapes[ticked] = {(p["optimizer"], len(p["theta0"]), p["steps"]) for p in posed}
    assert len(shapes[True]) == 1 and len(shapes[False]) > 1
    # a refused form comes back with the box as it was sent
    again = _build(ta, title="优化", variants="0", **{"item0.source": "optim.step"})
    assert again.status_code == 422 and 'name="same_form" >' in again.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_exam_page_names_the_variants_asked_in_another_form(ta, monkeypatch, lang) -> None:  # type: ignore[no-untyped-def]
    from problems.registry import get_family

    family = get_family("rl.discounted_return")  # a form no other draw has: the exact numbers
    monkeypatch.setattr(type(family), "form", lambda self, p: repr(p.model_dump(mode="json")))
    r = _build(ta, title="RL", variants="5", same_form="on", **{"item0.source": family.id})
    assert r.status_code == 303, r.text
    exam_id = r.headers["location"].rsplit("/", 1)[1]
    codes = [v["code"] for v in ta.get(f"/api/v1/exams/{exam_id}").json()["variants"]]
    page = ta.get(f"/exams/{exam_id}?lang={lang}").text
    box = re.search(r"<div class=\"note\" role=\"status\" data-form-warnings>(.*?)</div>", page, re.S)
    assert box is not None
    assert all(c in box.group(1) for c in codes[1:]) and codes[0] not in box.group(1)
    assert ("第 1 题" in box.group(1)) is (lang == "zh") and ("question 1" in box.group(1)) is (lang == "en")


def test_a_tag_row_may_draw_concept_questions_of_its_chapter_and_leave_out_short_answers(ta) -> None:  # type: ignore[no-untyped-def]
    from app.models import Exam, InstanceRecord
    from problems.concepts import choice_items
    from problems.registry import all_families

    rl = sorted(f.id for f in all_families() if "rl" in f.tags)
    row = {"item0.source": "tag:rl", "item0.count": str(len(rl) + 1), "item0.auto_only": "on"}
    bad = _build(ta, title="RL", **{**row, "item0.concepts": "on", "item0.count": "61"})
    assert bad.status_code == 422 and 'name="item0.concepts" checked' in bad.text
    assert 'name="item0.auto_only" checked' in bad.text and 'name="item1.concepts" >' in bad.text
    r = _build(ta, title="RL", variants="3", seed="4", **{**row, "item0.concepts": "on"})
    assert r.status_code == 303, r.text
    with ta.app_ref.state.session_factory() as s:  # type: ignore[attr-defined]
        exam = s.get(Exam, r.headers["location"].rsplit("/", 1)[1])
        assert exam is not None
        for v in exam.variants:
            records = [s.get(InstanceRecord, q.instance_id) for q in v.questions]
            # every RL family and one RL choice question; no short answer (auto-graded only)
            assert sorted(r.problem for r in records) == sorted([*rl, "concept.choice"])
            (choice,) = [r for r in records if r.problem == "concept.choice"]
            assert choice_items()[choice.params["item"]].chapter == "rl"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"item0.source": FAMILY, "item0.params": "{num_classes: 10"},
            "第 1 题的固定参数：不是合法的 JSON，第 2 个字符处键名要放在双引号里",
        ),
        ({"item0.source": FAMILY, "item0.params": '{"num_classes": 1}'}, "num_classes"),
        ({"item0.source": "tag:cnn", "item0.count": "61"}, "第 1 题的数量：应不大于 60"),
        # Items skip empty rows: the error names the row the form shows, not the item's index.
        ({"item2.source": FAMILY, "item2.params": '{"num_classes": 1}'}, "第 3 题的固定参数（num_classes）"),
        ({"item0.source": "nope.family"}, "第 1 题的题型或标签：没有题型"),
        ({}, "题目：至少 1 项"),
        ({"item0.source": FAMILY, "opens_at": "tomorrow"}, "开放时间：&#39;tomorrow&#39; 不是日期和时间"),
        ({"item0.source": FAMILY, "variants": "0"}, "套数：应不小于 1"),
        ({"item0.source": FAMILY, "item0.params": "[10]"}, "第 1 题的固定参数：应是 JSON 对象"),
    ],
)
def test_a_bad_form_comes_back_with_every_field_as_typed(ta, fields, message) -> None:  # type: ignore[no-untyped-def]
    r = _build(ta, title="我的试卷", **fields)
    assert r.status_code == 422, r.text[:300]
    errors = re.search(r'<div class="error" role="alert" id="errors">(.*?)</div>', r.text, re.S)
    assert errors is not None and message in errors.group(1), errors.group(1) if errors else r.text[:500]
    assert 'value="我的试卷"' in r.text
    for key, value in fields.items():
        if key.endswith(".source") and value:
            assert f'value="{value}" selected' in r.text or value.startswith("nope")
        elif value:
            assert f'value="{value.replace(chr(34), "&#34;")}"' in r.text, key
    assert "/exams/" not in r.headers.get("location", "")


def test_grading_a_class_csv_from_the_page(ta) -> None:  # type: ignore[no-untyped-def]
    r = _build(ta, title="t", variants="2", **{"item0.source": FAMILY, "item0.params": '{"num_classes": 4}'})
    exam_id = r.headers["location"].rsplit("/", 1)[1]
    codes = [v["code"] for v in ta.get(f"/api/v1/exams/{exam_id}").json()["variants"]]
    page = ta.get(f"/exams/{exam_id}")
    bad = f"student,code,question,part,answer\ns1,{codes[0]},1,loss,ln(4)\ns2,{codes[1]},1,nope,1\n"
    r = ta.post(
        f"/exams/{exam_id}/submissions?lang=en", data={"csrf_token": _csrf(page.text), "csv_text": bad}
    )
    assert r.status_code == 422
    assert "line 3 (s2): question 1 has no part &#39;nope&#39;" in r.text
    assert "s2," in r.text, "the pasted text stays in its box"
    assert ta.get(f"/api/v1/exams/{exam_id}/grades.csv").text.count("\n") == 1, "nothing was stored"
    good = f"student,code,question,part,answer\ns1,{codes[0]},1,loss,ln(4)\ns2,{codes[1]},1,loss,１\n"
    files = {"csv_file": ("class.csv", good.encode("gb18030"), "text/csv")}
    r = ta.post(f"/exams/{exam_id}/submissions", data={"csrf_token": _csrf(page.text)}, files=files)
    assert r.status_code == 200 and 'data-graded="2"' in r.text
    grades = ta.get(f"/api/v1/exams/{exam_id}/grades.csv").text
    assert "s1" in grades and "s2" in grades


HEADER = "student,code,question,part,answer\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("CSV 是空的", "csv: empty file")),
        (
            "name,code,question,part,answer\ns1,{a},1,loss,1\n",
            (
                "第 1 行的表头应是 student,code,question,part,answer",
                "csv: line 1: the header must be student,code,question,part,answer",
            ),
        ),
        (
            HEADER + "s1,ZZZZ,1,loss,1\n",
            ("第 2 行（s1）：未知的卷号 'ZZZZ'", "line 2 (s1): unknown variant code 'ZZZZ'"),
        ),
        (
            HEADER + "s1,{a},1,nope,1\n",
            (
                "第 2 行（s1）：第 1 题没有小题 'nope'（小题：loss）",
                "line 2 (s1): question 1 has no part 'nope' (parts: loss)",
            ),
        ),
        (
            HEADER + "s1,{a},9,loss,1\n",
            ("第 2 行（s1）：没有第 9 题（题号 1-1）", "line 2 (s1): question 9 does not exist (1-1)"),
        ),
        (
            HEADER + "s1,{a},1,loss,1\ns1,{a},1,loss,2\n",
            (
                "第 3 行：'s1' 第 1 题的小题 'loss' 出现了两次",
                "line 3: question 1 part 'loss' of 's1' appears twice",
            ),
        ),
        (
            HEADER + "s1,{a},1,loss,1\ns1,{b},1,loss,2\n",
            (
                "第 3 行：学生 's1' 有两个卷号（{a} 和 {b}）：这里是 {b}，其余各行是 {a}",
                "line 3: student 's1' has two variant codes ({a} and {b}): {b} here, {a} on their other lines",
            ),
        ),
        (
            HEADER + "s1,{a},x,loss,1\n",
            ("第 2 行：题号 'x' 不是数字", "line 2: question 'x' is not a number"),
        ),
        (HEADER + "s1,{a},1\n", ("第 2 行：应有 5 列，实有 3 列", "line 2: expected 5 columns, found 3")),
        (
            HEADER + "s1,{a},1,loss,[9, 9]\n",
            (
                "第 2 行：应有 5 列，实有 6 列，第 6 列是 ' 9]'"
                '（含逗号的答案要放在引号里："[9, 9, 9]"；末尾的空列无妨）',
                "line 2: expected 5 columns, found 6, column 6 holds ' 9]' (an answer holding commas goes "
                'in quotes: "[9, 9, 9]"; empty columns at the end are fine)',
            ),
        ),
        (
            HEADER + "s1,{a},1,loss,1,,x,\n",  # an empty column at the end is none; x is a cell
            (
                "第 2 行：应有 5 列，实有 7 列，第 7 列是 'x'（含逗号的答案要放在引号里：\"[9, 9, 9]\"；末尾的空列无妨）",
                "line 2: expected 5 columns, found 7, column 7 holds 'x' (an answer holding commas goes "
                'in quotes: "[9, 9, 9]"; empty columns at the end are fine)',
            ),
        ),
        (HEADER + ",{a},1,loss,1\n", ("第 2 行：学生一栏是空的", "line 2: empty student")),
        (
            HEADER + "s1,{a},1,loss," + "9" * 10_001 + "\n",
            (
                "第 2 行：学生超过 64 个字符，或答案超过 10000 个字符",
                "line 2: student over 64 or answer over 10000 characters",
            ),
        ),
        (
            HEADER + 's1,{a},1,loss,"[9, 9\ns2,{a},1,loss,1\n',
            ('第 2 行的引号（"）没有闭合', 'csv: line 2: a quote (") opened here is never closed'),
        ),
        (
            HEADER + 's1,{a},1,loss,"' + "9" * 131_073 + '"\n',
            (
                "第 2 行无法按 CSV 读取（field larger than field limit (131072)）",
                "csv: line 2: field larger than field limit (131072)",
            ),
        ),
        (
            "x" * 1_000_001,  # was cut to 1 MB and graded
            (
                "CSV 超过 1 MB，没有批改；请分成几个文件上传。",
                "The CSV is over 1 MB: nothing was graded; split it into smaller files.",
            ),
        ),
        (
            "学" * 400_000,  # 1.2 MB of UTF-8, over Starlette's 1 MiB a field: was a bare 400
            (
                "CSV 超过 1 MB，没有批改；请分成几个文件上传。",
                "The CSV is over 1 MB: nothing was graded; split it into smaller files.",
            ),
        ),
    ],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_class_csv_errors_are_in_the_pages_language_and_the_text_stays(ta, text, expected, lang) -> None:  # type: ignore[no-untyped-def]
    """A walk-through: on a Chinese page every CSV error was English. Each is said in the page's
    language, and the text typed comes back in its box to be fixed."""
    exam_id, codes = _paper_of_two_variants(ta)
    text = text.replace("{a}", codes[0]).replace("{b}", codes[1])
    token = _csrf(ta.get(f"/exams/{exam_id}").text)
    no_file = {"csv_file": ("", b"", "application/octet-stream")}  # multipart, as a browser sends the form
    r = ta.post(
        f"/exams/{exam_id}/submissions?lang={lang}",
        data={"csrf_token": token, "csv_text": text},
        files=no_file,
    )
    assert r.status_code == 422
    said = expected[0 if lang == "zh" else 1].replace("{a}", codes[0]).replace("{b}", codes[1])
    assert _csv_errors(r.text) == [said]
    assert _csv_box(r.text) == text, "what was typed comes back in its box"
    assert ta.get(f"/api/v1/exams/{exam_id}/grades.csv").text.count("\n") == 1, "nothing was stored"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "文件既不是 UTF-8 也不是 GB18030 文本，请另存为“CSV UTF-8”后再上传。"),
        ("en", "The file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8 and upload it again."),
    ],
)
def test_a_file_in_another_encoding_is_refused_in_the_pages_language(ta, lang, said) -> None:  # type: ignore[no-untyped-def]
    exam_id, codes = _paper_of_two_variants(ta)
    pasted = f"{HEADER}s1,{codes[0]},1,loss,ln(4)\n"  # typed in the box too: kept
    token = _csrf(ta.get(f"/exams/{exam_id}").text)
    files = {"csv_file": ("class.csv", b"student,code\xff\xfe", "text/csv")}
    r = ta.post(
        f"/exams/{exam_id}/submissions?lang={lang}",
        data={"csrf_token": token, "csv_text": pasted},
        files=files,
    )
    assert r.status_code == 422 and _csv_errors(r.text) == [said] and _csv_box(r.text) == pasted


def test_a_file_over_the_limit_is_refused_not_cut_short_and_graded(ta) -> None:  # type: ignore[no-untyped-def]
    """Read to 1 MB + 1 byte, a bigger file was graded as cut there: the students after it dropped."""
    exam_id, codes = _paper_of_two_variants(ta)
    rows = HEADER + "".join(f"s{n},{codes[0]},1,loss,ln(4)\n" for n in range(50_000))  # 1.3 MB, all good
    token = _csrf(ta.get(f"/exams/{exam_id}").text)
    files = {"csv_file": ("class.csv", rows.encode(), "text/csv")}
    r = ta.post(
        f"/exams/{exam_id}/submissions?lang=zh", data={"csrf_token": token, "csv_text": "留着"}, files=files
    )
    assert r.status_code == 422 and _csv_errors(r.text) == ["CSV 超过 1 MB，没有批改；请分成几个文件上传。"]
    assert _csv_box(r.text) == "留着"
    assert ta.get(f"/api/v1/exams/{exam_id}/grades.csv").text.count("\n") == 1, "nothing was stored"


def test_a_class_csv_sent_from_an_expired_form_comes_back_with_its_text(ta) -> None:  # type: ignore[no-untyped-def]
    """A TA logged out and in again in another tab: the old form's token was refused on a bare 403
    page, and the class's pasted answers were gone."""
    exam_id, codes = _paper_of_two_variants(ta)
    text = f"{HEADER}s1,{codes[0]},1,loss,ln(4)\n"
    r = ta.post(f"/exams/{exam_id}/submissions?lang=zh", data={"csrf_token": "stale", "csv_text": text})
    assert r.status_code == 403
    assert _csv_errors(r.text) == ["此表单已过期（也许你在别处登出了）。你的答案还在下面，请再提交一次。"]
    assert _csv_box(r.text) == text
    assert ta.get(f"/api/v1/exams/{exam_id}/grades.csv").text.count("\n") == 1, "nothing was stored"


def test_a_class_csv_naming_a_student_who_answers_online_is_refused_in_chinese(ta) -> None:  # type: ignore[no-untyped-def]
    alice = add_account(ta.app_ref, "alice", "student").headers  # type: ignore[attr-defined]
    body = {"title": "hw", "kind": "homework", "items": [{"problem": FAMILY}], "variants": 1, "seed": 3}
    body["due_at"] = "2099-01-01T00:00:00Z"
    exam_id = ta.post("/api/v1/exams", json=body).json()["id"]
    code = ta.get(f"/api/v1/exams/{exam_id}/mine", headers=alice).json()["code"]
    text = f"{HEADER}alice,{code},1,loss,1\n"
    token = _csrf(ta.get(f"/exams/{exam_id}").text)
    r = ta.post(f"/exams/{exam_id}/submissions?lang=zh", data={"csrf_token": token, "csv_text": text})
    assert r.status_code == 422 and _csv_box(r.text) == text
    assert _csv_errors(r.text) == [
        f"alice ({code}) 在线作答这场考试：答案由学生本人提交（简答在考试页面上批改）；未保存任何答卷"
    ]


def _paper_of_two_variants(c: TestClient) -> tuple[str, list[str]]:
    body = {
        "title": "t",
        "items": [{"problem": FAMILY, "params": {"num_classes": 4}}],
        "variants": 2,
        "seed": 5,
    }
    exam = c.post("/api/v1/exams", json=body).json()
    return exam["id"], [v["code"] for v in exam["variants"]]


def _csv_errors(page: str) -> list[str]:
    box = re.search(r'<div class="error" role="alert" id="csv-errors">.*?<ul>(.*?)</ul>', page, re.S)
    assert box is not None, "the page shows the CSV's errors"
    return [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)]


def _csv_box(page: str) -> str:
    box = re.search(r'<textarea id="csv_text" name="csv_text" rows="6">(.*?)</textarea>', page, re.S)
    assert box is not None
    return html.unescape(box.group(1))


def test_a_ta_grades_short_answers_from_the_exam_page(ta) -> None:  # type: ignore[no-untyped-def]
    """Hand grading was API only: the page lists what waits, takes a score (a full-width or comma
    decimal too) and a comment, and the student's total follows."""
    import html
    import re

    from problems.concepts import get_short_answer_item
    from tests.app.test_exams import short_answer_exam

    c = ta
    body = short_answer_exam()
    exam = c.post("/api/v1/exams", json=body).json()
    code = exam["variants"][0]["code"]
    c.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        json={"student": "s1", "code": code, "answers": {"1": {"answer": "梯度 <消失>"}}},
    )
    page = c.get(f"/exams/{exam['id']}").text
    assert 'id="manual"' in page and "梯度 &lt;消失&gt;" in page  # escaped
    # The question and its rubric beside the answer (the TA had to open the answer key for them).
    item = get_short_answer_item(body["items"][0]["params"]["item"])  # type: ignore[index]
    guide = re.search(r'<details class="guide">.*?</details>', page, re.S).group(0)  # type: ignore[union-attr]
    for text in (item.question.zh[:12], item.outline[0].zh[:12], item.rubric[0].criterion.zh[:12]):
        assert html.escape(text, quote=False) in guide, text
    api = c.get(f"/api/v1/exams/{exam['id']}/manual?lang=en").json()
    assert (
        item.rubric[0].criterion.en in "\n".join(api[0]["guide"])
        and item.question.en[:20] in api[0]["statement"]
    )
    form = re.search(r'<form method="post" action="/exams/[^"]+/manual#[^"]+".*?</form>', page, re.S).group(0)  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert "得分（满分 10 分）" in form  # the question's 10 points, its one part's
    bad = c.post(
        f"/exams/{exam['id']}/manual", data={**fields, "points": "很好", "comment": "长评语 keep me"}
    )
    assert bad.status_code == 422 and "得分应是 0 到 10 之间的数（满分 10 分，例如 7）" in bad.text
    assert 'value="很好"' in bad.text and "长评语 keep me</textarea>" in bad.text  # kept, in its form
    # ... which the page opens at (a page of 244 forms opened at its top): the form posts to its own
    # anchor, the refusal page has the form under that id, its box focused
    anchor = f"grade-{fields['submission']}-1-answer"
    assert f'action="/exams/{exam["id"]}/manual#{anchor}"' in form
    refused = re.search(rf'<form [^>]*id="{anchor}".*?</form>', bad.text, re.S).group(0)  # type: ignore[union-attr]
    assert "得分应是 0 到 10 之间的数" in refused and 'aria-invalid="true" autofocus' in refused
    # An expired form and a paper not in this exam were bare error pages: what was typed is kept.
    stale_form = {**fields, "csrf_token": "stale", "points": "7", "comment": "过期 keep"}
    expired = c.post(f"/exams/{exam['id']}/manual", data=stale_form)
    assert (
        expired.status_code == 403 and "表单已过期" in expired.text and "过期 keep</textarea>" in expired.text
    )
    gone = c.post(
        f"/exams/{exam['id']}/manual",
        data={**fields, "submission": "999999", "points": "7", "comment": "别丢"},
    )
    assert gone.status_code == 404 and "不在待批改之列" in gone.text and "别丢</textarea>" in gone.text
    over = c.post(f"/exams/{exam['id']}/manual", data={**fields, "points": "11", "comment": "超了"})
    assert over.status_code == 422 and "得分应是 0 到 10 之间的数" in over.text and 'value="11"' in over.text
    r = c.post(
        f"/exams/{exam['id']}/manual",
        data={**fields, "points": "7，5 分", "comment": "不错"},  # an IME's comma, the unit typed too
        follow_redirects=False,
    )
    assert r.status_code == 303
    stale = c.post(f"/exams/{exam['id']}/manual", data={**fields, "points": "0", "comment": "?"})
    assert (
        stale.status_code == 409 and "这个答案已评分（7.5 分，满分 10 分）" in stale.text
    )  # not overwritten
    assert "data-queue-empty" in c.get(f"/exams/{exam['id']}").text
    grades = c.get(f"/api/v1/exams/{exam['id']}/grades.csv").text
    assert ",7.5," in grades, grades  # 7.5 of the question's 10 points


def test_a_ta_grades_practice_short_answers_from_a_page(ta) -> None:  # type: ignore[no-untyped-def]
    """A short answer practised outside an exam waited for a TA who had to use the API: the page
    lists them oldest first with the question and rubric, and takes a score and a comment."""
    import html
    import re

    from problems.concepts import get_short_answer_item

    c = ta
    alice = add_account(c.app_ref, "alice", "student").headers
    assert c.get("/grading", headers=alice).status_code == 403
    inst = c.post("/api/v1/instances", json={"problem": "concept.short_answer", "seed": 3}).json()
    for text in ("甲的答案 <残差>", "乙的答案"):
        r = c.post(f"/api/v1/instances/{inst['id']}/check", json={"answers": {"answer": text}}, headers=alice)
        assert r.status_code == 200
    assert "2 份待批改" in c.get("/exams").text
    page = c.get("/grading").text
    assert page.index("甲的答案 &lt;残差&gt;") < page.index("乙的答案")  # escaped; oldest first
    item = get_short_answer_item(c.get(f"/api/v1/instances/{inst['id']}").json()["params"]["item"])
    assert html.escape(item.rubric[0].criterion.zh[:12], quote=False) in page
    first = re.search(r'action="/grading/(\d+)#a\1"', page).group(1)  # type: ignore[union-attr]
    total = item.total_points  # the rubric's points in all: what the TA grades out of
    assert f"得分（满分 {total} 分）" in _grading_form(page, int(first))
    token = _csrf(page)
    bad = c.post(f"/grading/{first}", data={"csrf_token": token, "points": "很好", "comment": "留着"})
    assert bad.status_code == 422 and 'value="很好"' in bad.text and "留着</textarea>" in bad.text
    assert f"得分应是 0 到 {total} 之间的数" in bad.text
    ok = c.post(
        f"/grading/{first}",
        data={"csrf_token": token, "points": "７", "comment": "不错"},  # full-width, from an IME
        follow_redirects=False,
    )
    assert ok.status_code == 303
    huge = c.post(f"/grading/{10**20}", data={"csrf_token": token, "points": "1", "comment": ""})
    assert huge.status_code == 422  # an id past any row: said, not a 500 (SQLite cannot bind it)
    again = c.post(f"/grading/{first}", data={"csrf_token": token, "points": "0", "comment": "?"})
    assert again.status_code == 409 and f"这个答案已评分（7 分，满分 {total} 分）" in again.text
    mine = c.get("/api/v1/me/attempts", headers=alice).json()["data"]
    graded = next(a for a in mine if a["id"] == int(first))
    assert graded["score"] == 7 / total and graded["manual_comment"] == "不错"
    assert "甲的答案" not in c.get("/grading").text and "1 份待批改" in c.get("/exams").text


def test_two_tas_grading_one_practice_answer_at_once_keep_the_first_grade(ta_on_both, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A review: the 'graded already?' check and the grade were two steps, so a second TA past the
    check overwrote the first one's grade. The grade is claimed in one statement. The second TA's
    score and comment were not shown back: they come back beside the message (SQLite and PostgreSQL)."""
    import re

    from app.models import Attempt, User
    from app.services import attempts
    from app.web import grading

    c = ta_on_both
    alice = add_account(c.app_ref, "alice", "student").headers
    inst = c.post("/api/v1/instances", json={"problem": "concept.short_answer", "seed": 3}).json()
    c.post(f"/api/v1/instances/{inst['id']}/check", json={"answers": {"answer": "残差"}}, headers=alice)
    page = c.get("/grading").text
    aid = int(re.search(r'action="/grading/(\d+)#', page).group(1))  # type: ignore[union-attr]
    real = grading.read_points

    def other_ta_grades_meanwhile(text: str, full: float) -> float | None:
        with c.app_ref.state.session_factory() as s:
            first = s.query(User).filter_by(name="tina").one()
            attempts.grade_manually(s, attempt_id=aid, grader=first, score=0.9, comment="第一位助教")
        return real(text, full)

    monkeypatch.setattr(grading, "read_points", other_ta_grades_meanwhile)
    r = c.post(f"/grading/{aid}", data={"csrf_token": _csrf(page), "points": "1", "comment": "第二位 <评语>"})
    monkeypatch.undo()
    # said in points: opt.adam's rubric has 10 in all
    assert r.status_code == 409 and "这个答案已评分（9 分，满分 10 分），未作修改" in r.text
    # What the second TA typed comes back beside the message (the answer left the queue, and its form),
    # where the page opens (the form's anchor)
    box = _kept_box(r.text)
    assert 'value="1"' in box and "第二位 &lt;评语&gt;</textarea>" in box and "你填写的评分" in box
    assert "<strong>alice</strong>" in box and f'<form method="post" action="/grading/{aid}' not in r.text
    assert f'<div id="a{aid}" data-grade-refused>' in r.text
    with c.app_ref.state.session_factory() as s:
        kept = s.get(Attempt, aid)
        assert kept is not None and kept.manual_score == 0.9 and kept.manual_comment == "第一位助教"
    # A form left open, sent on an English page: the same, in English.
    again = c.post(
        f"/grading/{aid}?lang=en", data={"csrf_token": _csrf(page), "points": "10", "comment": "late TA"}
    )
    assert (
        again.status_code == 409
        and "This answer was graded already (9 of 10 points); nothing changed." in again.text
    )
    assert "late TA</textarea>" in _kept_box(again.text) and "What you entered" in again.text


def _kept_box(text: str) -> str:
    """The read-only box with a refused grade as typed (an answer no longer in the queue)."""
    found = re.search(r'<div class="kept" data-kept-grade>.*?</div>', text, re.S)
    assert found is not None, "no box with what the TA typed"
    return found.group(0)


def _grading_form(text: str, attempt_id: int) -> str:
    found = re.search(
        rf'<form method="post" action="/grading/{attempt_id}#a{attempt_id}".*?</form>', text, re.S
    )
    assert found is not None, f"no form for answer {attempt_id}"
    return found.group(0)


REFUSALS = {  # expired form, not a score, not waiting, the box's title
    "zh": (
        "表单已过期",
        "得分应是 0 到 10 之间的数（满分 10 分，例如 7）",  # opt.adam's rubric: 10 points
        "这个答案不在待批改之列",
        "你填写的评分（未保存，可复制）",
    ),
    "en": (
        "The form expired",
        "The score is a number of points from 0 to 10 (out of 10, e.g. 7)",
        "not waiting for a TA",
        "What you entered",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_practice_grade_refused_comes_back_as_typed(ta, monkeypatch, lang: str) -> None:  # type: ignore[no-untyped-def]
    """/grading kept what a TA typed only for a bad score while the answer was still listed: an
    expired form and an answer not waiting were bare error pages, and a bad score for an answer
    graded meanwhile came back with nothing. Each refusal is the queue again, in the page's
    language, with the score and comment in the answer's form, or beside the message if it left."""
    from app.models import User
    from app.services import attempts
    from app.web import grading

    c = ta
    q = "" if lang == "zh" else "?lang=en"
    expired, not_a_score, not_waiting, box_title = REFUSALS[lang]
    alice = add_account(c.app_ref, "alice", "student").headers
    inst = c.post("/api/v1/instances", json={"problem": "concept.short_answer", "seed": 3}).json()
    c.post(f"/api/v1/instances/{inst['id']}/check", json={"answers": {"answer": "残差"}}, headers=alice)
    page = c.get("/grading").text
    aid = int(re.search(r'action="/grading/(\d+)#', page).group(1))  # type: ignore[union-attr]
    typed = {"points": "6", "comment": "要点齐全 <b>"}

    # A form from before a logout in another tab: the answer still waits, its form holds the text.
    r = c.post(f"/grading/{aid}{q}", data={"csrf_token": "stale", **typed})
    assert r.status_code == 403 and expired in r.text
    form = _grading_form(r.text, aid)
    assert 'value="6"' in form and "要点齐全 &lt;b&gt;</textarea>" in form and expired in form
    assert f'id="a{aid}"' in form and "autofocus" in form  # the page opens at it, the cursor in its box
    assert "data-kept-grade" not in r.text

    # A score that is not one, for an answer graded meanwhile: beside the message.
    def graded_meanwhile(text: str, full: float) -> float | None:
        with c.app_ref.state.session_factory() as s:
            tina = s.query(User).filter_by(name="tina").one()
            attempts.grade_manually(s, attempt_id=aid, grader=tina, score=0.9, comment="第一位助教")
        return None

    monkeypatch.setattr(grading, "read_points", graded_meanwhile)
    r = c.post(f"/grading/{aid}{q}", data={"csrf_token": _csrf(page), "points": "很好", "comment": "留着"})
    monkeypatch.undo()
    assert r.status_code == 422 and not_a_score in r.text
    box = _kept_box(r.text)
    assert 'value="很好"' in box and "留着</textarea>" in box and box_title in box
    assert f"<code>{inst['problem']}</code>" in box

    # An answer with nothing graded by hand (a forged id, or one gone): the same.
    numeric = c.post("/api/v1/instances", json={"problem": FAMILY, "seed": 1}).json()
    c.post(f"/api/v1/instances/{numeric['id']}/check", json={"answers": {"loss": "1"}}, headers=alice)
    mine = c.get("/api/v1/me/attempts", headers=alice).json()["data"]
    other = next(a["id"] for a in mine if a["problem"] == FAMILY)
    r = c.post(f"/grading/{other}{q}", data={"csrf_token": _csrf(page), **typed})
    assert r.status_code == 404 and not_waiting in r.text
    assert "要点齐全 &lt;b&gt;</textarea>" in _kept_box(r.text)


def test_two_tas_grading_one_paper_answer_at_once_keep_the_first_grade(ta_on_both, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The exam page checked 'graded already?' and then wrote the grade, two steps: a second TA past
    the check replaced the first one's grade. The second is told now (409, in the page's language),
    and the score and comment they typed come back on the page."""
    from app.models import ExamSubmission
    from app.services import exams
    from app.web import grading
    from tests.app.test_exams import short_answer_exam

    c = ta_on_both
    exam = c.post("/api/v1/exams", json=short_answer_exam()).json()
    code = exam["variants"][0]["code"]
    sent = {"student": "s1", "code": code, "answers": {"1": {"answer": "残差连接"}}}
    assert c.post(f"/api/v1/exams/{exam['id']}/submissions", json=sent).status_code == 200
    page = c.get(f"/exams/{exam['id']}").text
    form = re.search(r'<form method="post" action="/exams/[^"]+/manual#[^"]+".*?</form>', page, re.S).group(0)  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    sid = int(fields["submission"])
    real = grading.read_points  # the exam page reads a grade as /grading does (grading.typed_share)

    def other_ta_grades_meanwhile(text: str, full: float) -> float | None:  # past the page's own checks
        with c.app_ref.state.session_factory() as s:
            e = exams.get_exam(s, exam["id"])
            exams.grade_manual_part(
                s, exam=e, submission_id=sid, question=1, part="answer", score=0.9, comment="第一位助教"
            )
        return real(text, full)

    monkeypatch.setattr(grading, "read_points", other_ta_grades_meanwhile)
    r = c.post(f"/exams/{exam['id']}/manual", data={**fields, "points": "1", "comment": "第二位 <评语>"})
    monkeypatch.undo()
    assert r.status_code == 409, r.text[:300]
    assert "这个答案已评分（9 分，满分 10 分），未作修改" in r.text  # 0.9 of the question's 10 points
    kept = re.search(r"<div class=\"kept\" data-kept-grade>.*?</div>", r.text, re.S).group(0)  # type: ignore[union-attr]
    assert 'value="1"' in kept and "第二位 &lt;评语&gt;</textarea>" in kept
    # the page opens at the message, where the form was (its action's anchor)
    assert (
        f'<div id="grade-{sid}-1-answer" data-grade-refused>' in r.text and f'#grade-{sid}-1-answer"' in form
    )
    with c.app_ref.state.session_factory() as s:
        stored = s.get(ExamSubmission, sid)
        assert stored is not None and stored.score == 9.0
        assert stored.results["1"]["parts"]["answer"]["feedback"] == "第一位助教"
    # A form left open, sent on an English page: the same, in English.
    again = c.post(
        f"/exams/{exam['id']}/manual?lang=en", data={**fields, "points": "10", "comment": "late TA"}
    )
    assert (
        again.status_code == 409
        and "This answer was graded already (9 of 10 points); nothing changed." in again.text
    )
    assert "late TA</textarea>" in again.text and "What you entered" in again.text


BAD_ROWS = {
    "kind": "exam",  # and no due time
    "item0.source": FAMILY,
    "item0.params": '{"num_classes": -3}',
    "item1.source": FAMILY,
    "item1.params": "{not json",
    "item3.source": "tag:cnn",
    "item3.count": "61",
    "item4.source": "tag:rl",
    "item4.low": "3",
    "item4.high": "1",
}


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "zh",
            [
                "截止时间：在线考试需要截止时间，所有人截止后才公布成绩与解答",
                "第 1 题的固定参数（num_classes）：应不小于 2",
                "第 2 题的固定参数：不是合法的 JSON，第 2 个字符处键名要放在双引号里",
                "第 4 题的数量：应不大于 60",
                "第 5 题的难度：应在 1 到 3 之间，且最低不高于最高",
            ],
        ),
        (
            "en",
            [
                "Due: an online exam needs a due time; its verdicts and solutions are shown to everyone after it",
                "Question 1, fixed params (num_classes): Input should be greater than or equal to 2",
                "Question 2, fixed params: not valid JSON, a key must be in double quotes (at character 2)",
                "Question 4, count: Input should be less than or equal to 60",
                "Question 5, difficulty: [low, high] within 1..3",
            ],
        ),
    ],
)
def test_the_builder_reports_every_row_at_once_in_the_pages_language(ta, lang, said) -> None:  # type: ignore[no-untyped-def]
    """A walk-through: a row's bad JSON hid another row's invalid params (and the missing due time)
    until a resubmit; the due time's message was English first with its Chinese after, and named
    the field `due_at`; bad JSON gave Python's English with mixed brackets; pydantic's English
    followed the Chinese row names. Every error at once now, in the page's language only, named as
    the TA sees the row and field."""
    ta.cookies.set("lang", lang)
    r = _build(ta, title="t", **BAD_ROWS)
    assert r.status_code == 422
    box = re.search(r'<div class="error" role="alert" id="errors">(.*?)</div>', r.text, re.S).group(1)  # type: ignore[union-attr]
    shown = [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", box)]
    assert shown == said, shown
    text = " ".join(shown)
    for internal in ("due_at", "items.", ".params", "Value error", "line 1 column", "Expecting"):
        assert internal not in text
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{4,}", text.replace("num_classes", "").replace("JSON", "")), text
        assert "(" not in text and ")" not in text  # Chinese brackets only
    else:
        assert not re.search(r"[\u4e00-\u9fff]", text), text
    # What the page shows a row is what it builds: fixed, the exam is built.
    fixed = {
        **BAD_ROWS,
        "due_at": "2099-01-01T12:00",
        "item0.params": '{"num_classes": 3}',
        "item1.params": '{"num_classes": 4}',
        "item3.count": "2",
        "item4.low": "1",
    }
    assert _build(ta, title="t", **fixed).status_code == 303


def test_the_builder_names_a_question_count_over_the_limit(ta) -> None:  # type: ignore[no-untyped-def]
    """Known only once the tags are drawn: said after every row passed, in the page's language."""
    rows = {f"item{n}.source": "tag:cnn" for n in range(2)} | {f"item{n}.count": "40" for n in range(2)}
    r = _build(ta, title="t", **rows)
    assert r.status_code == 422 and "题目：每份试卷最多 60 题，这里有 80 题" in r.text


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", ("纸质试卷", "中英双语", "在线作业", "英文")),
        ("en", ("Paper", "Chinese and English", "Homework online", "English")),
    ],
)
def test_the_exam_list_tells_exams_of_one_title_apart(ta, lang, said) -> None:  # type: ignore[no-untyped-def]
    """A mock exam built again under its title was two identical rows: the list shows each exam's
    kind, language, number of variants and when it was created (on the course's clock)."""
    from app.models import Exam

    item = [{"problem": FAMILY, "params": {"num_classes": 4}}]
    first = ta.post("/api/v1/exams", json={"title": "期中模拟", "items": item, "variants": 3}).json()
    second = ta.post(
        "/api/v1/exams",
        json={"title": "期中模拟", "items": item, "variants": 2, "lang": "en", "kind": "homework"},
    ).json()
    with ta.app_ref.state.session_factory() as s:
        for exam_id, when in (
            (first["id"], datetime(2026, 3, 1, 8, 0)),
            (second["id"], datetime(2026, 3, 2, 23, 30)),
        ):
            s.get(Exam, exam_id).created_at = when.replace(tzinfo=UTC)
        s.commit()
    page = ta.get(f"/exams?lang={lang}").text

    def row(exam_id: str) -> str:
        found = re.search(rf'<tr data-exam="{exam_id}">.*?</tr>', page, re.S)
        assert found is not None, exam_id
        return found.group(0)

    paper, homework = row(first["id"]), row(second["id"])
    assert page.index(homework) < page.index(paper)  # newest first
    assert f'data-kind="paper">{said[0]}</td>' in paper and f'data-lang="both">{said[1]}</td>' in paper
    assert 'data-variants="3">3<' in paper
    assert "2026-03-01 16:00 (UTC+8)" in paper  # 08:00 UTC on Beijing time
    assert f'data-kind="homework">{said[2]}</td>' in homework and f'data-lang="en">{said[3]}</td>' in homework
    assert 'data-variants="2">2<' in homework
    assert "2026-03-03 07:30 (UTC+8)" in homework


def test_the_statistics_page_says_what_waits_and_each_variants_means(ta) -> None:  # type: ignore[no-untyped-def]
    """Answers waiting for a TA are said beside their question's bar, not drawn as zeros; a table
    gives each variant's mean per question; each common wrong answer names its variants."""
    from tests.app.test_exams import _computed_and_short, _key, _key_answers

    exam = _computed_and_short(ta, {})
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    key = _key_answers(_key(ta, {}, exam["id"]))
    url = f"/api/v1/exams/{exam['id']}/submissions"
    for student, code, answers in [
        ("s1", a, {"1": {"loss": key[(a, 1)][1]["loss"]}, "2": {"answer": "梯度消失"}}),  # Q2 waits
        ("s2", b, {"1": {"loss": "1"}}),  # 0 and 0, nothing waits
    ]:
        assert ta.post(url, json={"student": student, "code": code, "answers": answers}).status_code == 200
    page = ta.get(f"/exams/{exam['id']}").text
    summary = re.search(r"<p data-summary>(.*?)</p>", page, re.S).group(1)  # type: ignore[union-attr]
    # s2's 0 is the only paper graded in full; s1's waits
    assert (
        "2 份提交 · 平均总分 0.0（已评完的 1 份）" in summary
        and 'data-pending="1">1 份有待人工评分的小题' in summary
    )
    chart = re.search(r'<svg class="chart".*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "Q2 · 1 份待评" in chart and ">0%</text>" in chart  # Q2: s2's blank 0 alone
    assert ">50%</text>" in chart  # Q1: 4 of 8 points

    def cell(code: str, question: int) -> str:
        row = re.search(rf'<tr data-variant="{code}">.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
        return re.search(rf'<td data-question="{question}">(.*?)</td>', row, re.S).group(1)  # type: ignore[union-attr]

    assert cell(a, 1) == "100%" and cell(b, 1) == "0%"
    assert cell(a, 2).startswith("–") and "（1 待评）" in cell(a, 2) and cell(b, 2) == "0%"
    assert (
        f'<span data-codes="{b}"><span class="muted small">{b}</span> <code>loss</code>: <code>1</code> × 1'
        in page
    )
    assert "data-no-submissions" not in page


def test_a_grading_form_from_before_points_still_grades_a_share(ta) -> None:  # type: ignore[no-untyped-def]
    """A page loaded before grades were typed in points sends `score`, a share: it is read as one
    (0.7 of 10 points is 7), not as 0.7 points."""
    from tests.app.test_exams import short_answer_exam

    exam = ta.post("/api/v1/exams", json=short_answer_exam()).json()
    code = exam["variants"][0]["code"]
    sent = {"student": "s1", "code": code, "answers": {"1": {"answer": "残差连接"}}}
    sid = ta.post(f"/api/v1/exams/{exam['id']}/submissions", json=sent).json()["id"]
    token = _csrf(ta.get(f"/exams/{exam['id']}").text)
    old_form = {"csrf_token": token, "submission": sid, "question": 1, "part": "answer", "comment": ""}
    assert ta.post(f"/exams/{exam['id']}/manual", data={**old_form, "score": "7"}).status_code == 422
    r = ta.post(f"/exams/{exam['id']}/manual", data={**old_form, "score": "0.7"}, follow_redirects=False)
    assert r.status_code == 303
    assert ta.get(f"/api/v1/exams/{exam['id']}/submissions/{sid}").json()["score"] == 7.0


@pytest.mark.parametrize(("variants", "parts"), [(51, ["1-26", "27-51"]), (50, [])])
def test_a_large_exams_page_offers_its_bundle_in_parts(ta, variants, parts) -> None:  # type: ignore[no-untyped-def]
    """A whole class of 300 variants took minutes in one request (past a proxy's 60 s): past 50
    variants the exam's page links the bundle and the key in parts of about 50, each a link that
    prints exactly its variants."""
    fields = {"title": "期末", "lang": "zh", "variants": str(variants), "seed": "3", "item0.source": FAMILY}
    r = _build(ta, **fields)
    assert r.status_code == 303, r.text
    exam_id = r.headers["location"].rsplit("/", 1)[1]
    page = ta.get(f"/exams/{exam_id}").text
    assert re.findall(r'<li data-variants="([\d-]+)">', page) == parts
    codes = [v["code"] for v in ta.get(f"/api/v1/exams/{exam_id}").json()["variants"]]
    for part in parts:
        links = re.findall(rf'href="(/api/v1/exams/{exam_id}/[\w.-]+\?variants={part})"', page)
        assert len(links) == 5, links  # papers PDF, HTML, LaTeX; key PDF, HTML
        first, last = map(int, part.split("-"))
        html = ta.get(f"/api/v1/exams/{exam_id}/bundle.html?variants={part}").text
        assert re.findall(r'<section class="variant" data-code="(\w+)">', html) == codes[first - 1 : last]
    assert f'/api/v1/exams/{exam_id}/bundle.pdf"' in page  # the whole class still


def test_an_answer_whose_family_moved_on_neither_breaks_the_queue_nor_loses_a_grade(ta) -> None:  # type: ignore[no-untyped-def]
    """A practice short answer whose instance its family can no longer pose (a 410 elsewhere): the
    queue page failed for every TA, and a grade typed for it was lost to an error page. It is listed
    by its answer alone and graded as a share."""
    import re

    from app.models import InstanceRecord
    from app.services.instances import RecordCache

    c = ta
    alice = add_account(c.app_ref, "alice", "student").headers
    inst = c.post("/api/v1/instances", json={"problem": "concept.short_answer", "seed": 3}).json()
    r = c.post(
        f"/api/v1/instances/{inst['id']}/check", json={"answers": {"answer": "旧题的答案"}}, headers=alice
    )
    assert r.status_code == 200
    app = c.app_ref
    with app.state.session_factory() as s:
        record = s.get(InstanceRecord, inst["id"])
        record.version += 99  # posed by a family version this release does not know
        s.commit()
    app.state.records = RecordCache()
    assert c.get(f"/api/v1/instances/{inst['id']}").status_code == 410
    page = c.get("/grading")
    assert page.status_code == 200 and "旧题的答案" in page.text
    first = re.search(r'action="/grading/(\d+)#a\1"', page.text).group(1)  # type: ignore[union-attr]
    too_many = c.post(
        f"/grading/{first}", data={"csrf_token": _csrf(page.text), "points": "7", "comment": "留着"}
    )
    assert too_many.status_code == 422 and "留着</textarea>" in too_many.text  # out of 1: kept, said
    ok = c.post(
        f"/grading/{first}",
        data={"csrf_token": _csrf(page.text), "points": "1", "comment": ""},
        follow_redirects=False,
    )
    assert ok.status_code == 303
