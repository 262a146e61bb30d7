"""Mock exams: build variants, print them (HTML, PDF, LaTeX), answer keys, and grade a class."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

FAMILY = "loss.uniform_prediction"
TITLE = "深度学习期中模拟考试"


def _exam(client, headers, variants=3, **extra):  # type: ignore[no-untyped-def]
    body = {
        "title": TITLE,
        "items": [
            {"problem": FAMILY, "points": 5},
            {"problem": FAMILY, "params": {"num_classes": 10}, "points": 2},
        ],
        "variants": variants,
        "seed": 2024,
        "lang": "both",
        **extra,
    }
    r = client.post("/api/v1/exams", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _key(client, headers, exam_id):  # type: ignore[no-untyped-def]
    """The reference answers per variant, read from the staff solution endpoint (not from the exam code)."""
    return client.get(f"/api/v1/exams/{exam_id}/answer-key.html", headers=headers).text


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("student", 403), ("ta", 201), ("instructor", 201)]
)
def test_building_an_exam_is_for_staff(client, accounts, role, status) -> None:  # type: ignore[no-untyped-def]
    h = accounts[role].headers if role else {}
    r = client.post("/api/v1/exams", json={"title": "t", "items": [{"problem": FAMILY}]}, headers=h)
    assert r.status_code == status


def test_variants_have_distinct_codes_and_numbers(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta, variants=6)
    codes = [v["code"] for v in exam["variants"]]
    assert len(set(codes)) == 6 and all(len(c) == 4 for c in codes)
    again = _exam(client, ta, variants=6)
    assert [v["code"] for v in again["variants"]] == codes  # same seed, same exam
    # Same seed, other questions: other codes, so a class CSV sent to the wrong exam is refused.
    other = _exam(client, ta, variants=6, items=[{"problem": "cnn.receptive_field"}])
    assert not set(codes) & {v["code"] for v in other["variants"]}
    wrong = f"student,code,question,part,answer\ns1,{codes[0]},1,loss,1\n"
    r = client.post(
        f"/api/v1/exams/{other['id']}/submissions",
        content=wrong.encode(),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and "unknown variant code" in r.text
    html = client.get(f"/api/v1/exams/{exam['id']}/bundle.html", headers=ta).text
    for c in codes:
        assert f'data-code="{c}"' in html
    assert TITLE in html and "姓名" in html and "学号" in html


def test_variants_do_not_repeat_an_answer_while_the_family_has_others(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """Seeds drawn independently repeated answers: 40 variants of cnn.receptive_field had 28
    distinct answers, so a neighbour's sheet could be copied. Same exam seed, same exam still."""
    import json

    from sqlalchemy import select

    from app.models import User
    from app.services import exams

    items = [{"problem": "cnn.receptive_field"}, {"problem": "backprop.max_grad"}]
    with app.state.session_factory() as s:
        ta = s.scalar(select(User).where(User.name == accounts["ta"].name))

        def answers(exam):  # type: ignore[no-untyped-def]
            return [
                [json.dumps(inst.answers, sort_keys=True) for _, inst in exams.variant_instances(s, v)]
                for v in exam.variants
            ]

        first = answers(
            exams.create_exam(s, title="t", items=items, variants=30, seed=77, lang="zh", user=ta)
        )
        again = answers(
            exams.create_exam(s, title="t", items=items, variants=30, seed=77, lang="zh", user=ta)
        )
    assert first == again
    receptive, one_hot = zip(*first, strict=True)
    assert len(set(receptive)) == 30
    # max_grad has 18 answers in all (a one-hot gradient of 3 to 6 entries, the short ones rarer):
    # nearly each one before repeats (12 draws may miss a rare one, and then the question stops
    # trying); plain draws give ~11 distinct answers in 18
    assert len(set(one_hot)) >= 17 and len(set(one_hot[:18])) >= 15


def test_a_tag_asked_for_more_questions_than_it_has_families_repeats_them(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Six concept questions were refused: a tag picks families, and concept has 2. Each family now
    comes once before any comes twice, and a variant never poses the same instance twice."""
    from problems.registry import all_families

    concept = sorted(f.id for f in all_families() if "concept" in f.tags)
    ta = accounts["ta"].headers
    body = {
        "title": "概念",
        "items": [{"tag": "concept", "count": 10 * len(concept)}],
        "variants": 10,
        "seed": 5,
    }
    exam = client.post("/api/v1/exams", json=body, headers=ta)
    assert exam.status_code == 201, exam.text
    key = _key_answers(_key(client, ta, exam.json()["id"]))
    for code in {code for code, _ in key}:
        ids = [iid for (c, _), (iid, _) in key.items() if c == code]
        posed = [client.get(f"/api/v1/instances/{iid}").json() for iid in ids]
        assert sorted(p["problem"] for p in posed) == sorted(concept * 10)
        # a concept question is its bank item, whatever the order of its options
        asked = [
            json.dumps([p["problem"], p["params"].get("item", p["params"])], sort_keys=True) for p in posed
        ]
        assert len(set(asked)) == len(asked), code


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"problem": "cnn.nope"}], "items.0.problem"),
        ([{"problem": ""}], '0,"problem"],"msg":"String should have at least 1'),  # was a 500 (schemathesis)
        ([{"tag": ""}], '0,"tag"],"msg":"String should have at least 1'),
        ([{"tag": "no-such-tag", "count": 2}], "items.0.tag"),
        ([{"problem": FAMILY, "tag": "cnn"}], "items"),
        ([], "items"),
        ([{"problem": FAMILY, "params": {"num_classes": 1}}], "num_classes"),
    ],
)
def test_bad_exam_items_are_422(client, accounts, items, field) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/exams", json={"title": "t", "items": items}, headers=accounts["ta"].headers)
    assert r.status_code == 422 and field in r.text, r.text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # an online exam's results come when it is over for everyone: with no due time, never
        ({"kind": "exam", "time_limit_minutes": 30}, "needs a due time"),
        (
            {"kind": "homework", "opens_at": "2026-12-20T10:00:00Z", "due_at": "2026-12-01T10:00:00Z"},
            "after opens_at",
        ),
        # one time with a zone, one without (UTC): compared, not a 500 (a review)
        (
            {"kind": "homework", "opens_at": "2026-12-20T10:00:00", "due_at": "2026-12-01T10:00:00Z"},
            "after opens_at",
        ),
    ],
)
def test_exam_times_that_cannot_work_are_422(client, accounts, extra, message) -> None:  # type: ignore[no-untyped-def]
    body = {"title": "t", "items": [{"problem": FAMILY}], **extra}
    r = client.post("/api/v1/exams", json=body, headers=accounts["ta"].headers)
    assert r.status_code == 422 and message in r.text, r.text


def test_exam_spec_errors_are_english_unless_asked_and_name_every_item(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The due time's message was English with its Chinese in brackets, for every caller, and located
    nowhere (["body"]); the first item that could not be posed hid the others."""
    ta = accounts["ta"].headers
    body = {"title": "t", "kind": "exam", "items": [{"problem": FAMILY}]}
    r = client.post("/api/v1/exams", json=body, headers=ta)
    english = (
        "due_at: an online exam needs a due time; its verdicts and solutions are shown to everyone after it"
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body", "due_at"], "msg": english, "type": "due_at_missing"}]
    zh = client.post("/api/v1/exams?lang=zh", json=body, headers=ta).json()["detail"]
    assert zh[0]["msg"] == "due_at: 在线考试需要截止时间，所有人截止后才公布成绩与解答"
    items = [
        {"problem": FAMILY, "params": {"num_classes": -3}},
        {"problem": "cnn.nope"},
        {"tag": "no-such-tag"},
    ]
    r = client.post("/api/v1/exams", json={"title": "t", "items": items}, headers=ta)
    assert r.status_code == 422
    assert [(e["loc"], e["msg"]) for e in r.json()["detail"]] == [
        (["body", "items", 0, "params", "num_classes"], "Input should be greater than or equal to 2"),
        (["body", "items.1.problem"], "items.1.problem: unknown problem id 'cnn.nope'"),
        (["body", "items.2.tag"], "items.2.tag: no problem family has tag 'no-such-tag' at difficulty 1-3"),
    ]
    asked = {**ta, "Accept-Language": "zh-CN,zh;q=0.9"}
    zh = client.post("/api/v1/exams", json={"title": "t", "items": items}, headers=asked).json()["detail"]
    assert [e["msg"] for e in zh] == [
        "应不小于 2",
        "items.1.problem: 没有题型 'cnn.nope'",
        "items.2.tag: 没有难度在 1-3 之间、带标签 'no-such-tag' 的题型",
    ]


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("fmt", ["tex", "html"])
def test_a_paper_in_one_language_holds_only_that_language(client, accounts, fmt) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta, title="Midterm mock")
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/variants/{code}.{fmt}"
    en = client.get(url + "?lang=en", headers=ta).text
    assert CJK.search(en) is None, CJK.findall(en)[:20]
    assert "uniform" in en.lower() or "classes" in en.lower()
    zh = client.get(url + "?lang=zh", headers=ta).text
    assert "类" in zh and "姓名" in zh
    assert "Student ID" not in zh and "classes" not in zh.lower()
    both = client.get(url + "?lang=both", headers=ta).text
    assert "姓名" in both and "classes" in both.lower()


def test_tex_is_ctex_ready(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    r = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.tex", headers=ta)
    assert r.status_code == 200
    assert r.text.startswith("\\documentclass[a4paper,11pt]{ctexart}") and code in r.text
    assert r.text.count("\\begin{enumerate}") == 1 and "\\end{document}" in r.text
    assert client.get(f"/api/v1/exams/{exam['id']}/variants/ZZZZ.tex", headers=ta).status_code == 404
    assert client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.docx", headers=ta).status_code == 422


def _pdf_page_ink(pdf: bytes, tmp_path, page: int = 1) -> float:  # type: ignore[no-untyped-def]
    """Fraction of dark pixels on one page, from pdftoppm's greyscale rendering."""
    src = tmp_path / "x.pdf"
    src.write_bytes(pdf)
    prefix = tmp_path / f"p{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-gray",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(src),
            str(prefix),
        ],
        check=True,
    )
    pgm = prefix.with_suffix(".pgm").read_bytes()
    # P5 header: magic, width, height, maxval, then raw bytes.
    fields = pgm.split(maxsplit=4)
    w, h = int(fields[1]), int(fields[2])
    pixels = np.frombuffer(fields[4][: w * h], dtype=np.uint8)
    return float((pixels < 128).mean())


@pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
    reason="needs Debian's chromium and poppler-utils (installed by make test)",
)
def test_pdf_is_printed_with_text_and_chinese(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][1]["code"]
    r = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta)
    assert (
        r.status_code == 200
        and r.content.startswith(b"%PDF")
        and r.headers["content-type"] == "application/pdf"
    )
    assert 0.001 < _pdf_page_ink(r.content, tmp_path) < 0.5  # not blank
    (tmp_path / "v.pdf").write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "v.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in text and TITLE in text
    key = client.get(f"/api/v1/exams/{exam['id']}/answer-key.pdf", headers=ta)
    assert key.status_code == 200 and key.content.startswith(b"%PDF")
    bundle = client.get(f"/api/v1/exams/{exam['id']}/bundle.pdf", headers=ta)
    (tmp_path / "b.pdf").write_bytes(bundle.content)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "b.pdf")], capture_output=True, text=True, check=True
    ).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 3  # one variant per page at least
    for page in range(1, pages + 1):  # every page is printed, not only the first
        assert 0.001 < _pdf_page_ink(bundle.content, tmp_path, page) < 0.5, f"page {page} of {pages} is blank"
    bundle_text = subprocess.run(
        ["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for v in exam["variants"]:
        assert v["code"] in bundle_text


def test_answer_key_matches_the_solutions(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    key = _key(client, ta, exam["id"])
    # The second item has fixed params: 10 classes, so log(10) is the answer in every variant.
    second = [parts["loss"] for (_, number), (_, parts) in _key_answers(key).items() if number == 2]
    assert second == ["log(10)"] * 3
    for v in exam["variants"]:
        assert f'data-code="{v["code"]}"' in key


def _key_answers(html: str) -> dict[tuple[str, int], tuple[str, dict[str, str]]]:
    """(variant code, question number) -> (instance id, {part: answer text}) read from the key's HTML."""
    import html as htmllib

    out = {}
    for section in re.finditer(r'<section class="variant" data-code="(\w+)">(.*?)</section>', html, re.S):
        for q in re.finditer(
            r'data-number="(\d+)" data-instance="([^"]+)">(.*?)</ol>', section.group(2), re.S
        ):
            parts = {
                m.group(1): htmllib.unescape(m.group(2))
                for m in re.finditer(r'<dd class="ans" data-part="([^"]+)">(.*?)</dd>', q.group(3), re.S)
            }
            out[(section.group(1), int(q.group(1)))] = (q.group(2), parts)
    return out


def test_each_variants_key_is_its_own_instances_answer(client, accounts) -> None:  # type: ignore[no-untyped-def]
    import math

    from grader import AnswerSpec, grade

    ta = accounts["ta"].headers
    exam = _exam(client, ta, variants=5)
    key = _key_answers(_key(client, ta, exam["id"]))
    assert len(key) == 5 * 2
    seeds, classes = set(), set()
    for (code, number), (iid, parts) in key.items():
        inst = client.get(f"/api/v1/instances/{iid}").json()
        k = inst["params"]["num_classes"]
        # Independent of the family's solver: the loss of a uniform guess over k classes is ln k.
        verdict = grade(parts["loss"], repr(math.log(k)), AnswerSpec("real"))
        assert verdict.correct, (code, number, k, parts["loss"])
        if number == 1:
            seeds.add(inst["seed"])
            classes.add(k)
        else:
            assert k == 10 and inst["seed"] is None  # fixed params
    assert len(seeds) == 5, "every variant draws question 1 from its own seed"
    assert len(classes) >= 2, "and the numbers differ between variants"


def test_tag_and_count_with_difficulty_pick_distinct_families_in_range(client, accounts) -> None:  # type: ignore[no-untyped-def]
    from problems.registry import get_family

    ta = accounts["ta"].headers
    body = {
        "title": "t",
        "items": [{"tag": "cnn", "count": 3, "difficulty": [1, 2]}],
        "variants": 3,
        "seed": 7,
    }
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    key = _key_answers(_key(client, ta, exam["id"]))
    by_variant: dict[str, list[str]] = {}
    for (code, _), (iid, _) in sorted(key.items()):
        by_variant.setdefault(code, []).append(client.get(f"/api/v1/instances/{iid}").json()["problem"])
    families = set(map(tuple, by_variant.values()))
    assert len(families) == 1, "every variant asks the same families"
    (chosen,) = families
    assert len(set(chosen)) == 3
    for fid in chosen:
        fam = get_family(fid)
        assert "cnn" in fam.tags and 1 <= fam.difficulty <= 2, fid
    too_many = {**body, "items": [{"tag": "cnn", "count": 3, "difficulty": [3, 3]}]}
    r = client.post("/api/v1/exams", json=too_many, headers=ta)
    assert r.status_code == 422 and "difficulty 3-3" in r.text


def test_json_submission_and_grades_csv(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    r = client.post(
        url, json={"student": "2022012110", "code": code, "answers": {"2": {"loss": "ln(10)"}}}, headers=ta
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["max_score"] == 7 and body["score"] == 2
    assert body["items"][1]["question"] == 2 and body["items"][1]["parts"]["loss"]["correct"] is True
    bad = client.post(url, json={"student": "s", "code": code, "answers": {"9": {"loss": "1"}}}, headers=ta)
    assert bad.status_code == 422 and "question 9" in bad.text
    bad_code = client.post(url, json={"student": "s", "code": "QQQQ", "answers": {}}, headers=ta)
    assert bad_code.status_code == 422 and "QQQQ" in bad_code.text
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta)
    rows = list(csv.DictReader(io.StringIO(grades.text)))
    assert rows == [
        {
            "student": "2022012110",
            "code": code,
            "q1": "0.0",
            "q2": "2.0",
            "total": "2.0",
            "max": "7.0",
            "late": "false",
            "pending_manual": "false",
            "display_name": "",  # a paper under a student id with no account
        }
    ]
    assert (
        client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=accounts["student"].headers).status_code
        == 403
    )


def test_a_script_may_send_answers_as_json_numbers_as_the_check_endpoint_allows(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    ln10 = float(np.log(10))  # question 2: the uniform prediction's loss over 10 classes
    as_number = client.post(
        url, json={"student": "s1", "code": code, "answers": {"2": {"loss": ln10}}}, headers=ta
    )
    as_text = client.post(
        url, json={"student": "s2", "code": code, "answers": {"2": {"loss": str(ln10)}}}, headers=ta
    )
    assert as_number.status_code == 200, as_number.text
    assert as_number.json()["items"][1]["parts"] == as_text.json()["items"][1]["parts"]
    assert as_number.json()["items"][1]["parts"]["loss"]["correct"] is True
    flag = client.post(
        url, json={"student": "s3", "code": code, "answers": {"2": {"loss": True}}}, headers=ta
    )
    assert flag.status_code == 422 and "loss" in flag.text  # true is no number


def test_csv_errors_name_the_row_at_fault_counting_lines_in_quoted_answers(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a = exam["variants"][0]["code"]
    text = (
        "student,code,question,part,answer\n"
        f'\ns1,{a},1,loss,"a long answer\nover\nthree lines"\n'  # lines 3-5, after a blank line 2
        f"s1,{a},9,loss,1\n"  # line 6: no question 9
        f"s1,{a},2,nope,1\n"  # line 7: no such part
    )
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        content=text.encode(),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert "line 6 (s1): question 9 does not exist" in r.text, r.text
    assert "line 7 (s1): question 2 has no part 'nope'" in r.text, r.text


def test_csv_with_a_quote_never_closed_is_refused_not_cut_short(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The reader took every row after an unclosed quote into that one answer and answered 200:
    the students below it were silently not graded (found by a TA walk-through)."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a = exam["variants"][0]["code"]
    text = f'student,code,question,part,answer\n甲,{a},1,loss,"ln(10)\n乙,{a},1,loss,1\n丙,{a},1,loss,2\n'
    url = f"/api/v1/exams/{exam['id']}/submissions"
    r = client.post(url, content=text.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "line 2" in r.text and "never closed" in r.text, r.text
    assert client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text.count("\n") == 1
    # what the reader has always taken still goes: a space after a closing quote, text after it
    loose = f'student,code,question,part,answer\n甲,{a},1,loss,"ln(10)" \n乙,{a},1,loss,"ln"(10)\n'
    r = client.post(url, content=loose.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert sorted(s["student"] for s in r.json()) == sorted(["甲", "乙"])


def test_csv_from_excel_on_chinese_windows_round_trips(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Excel on Chinese Windows saves CSV as GB18030 and opens a CSV without a BOM as GBK: the API
    takes the first (as the page's upload did), and grades.csv?excel=true carries the BOM."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    text = f"student,code,question,part,answer\r\n张三,{a},1,loss,ln(10)\r\n"
    r = client.post(url, content=text.encode("gb18030"), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()[0]["student"] == "张三", r.text
    plain = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).content
    excel = client.get(f"/api/v1/exams/{exam['id']}/grades.csv?excel=true", headers=ta).content
    assert plain.startswith(b"student,") and excel == b"\xef\xbb\xbf" + plain  # scripts keep their header
    assert "张三" in excel.decode("utf-8-sig")


def test_csv_errors_through_the_api_stay_english_unless_the_request_asks_for_chinese(
    client, accounts
) -> None:  # type: ignore[no-untyped-def]
    """The page says a class CSV's errors in its language; the API keeps its English for scripts
    (the TA's account is zh: that alone changes nothing) and says them in Chinese to a caller who
    asks, with ?lang=zh or Accept-Language."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    bad = f"student,code,question,part,answer\ns1,{a},2,loss,1\ns1,{b},1,loss,1\ns2,{a},3,loss,1\n"
    english = (
        f"line 3: student 's1' has two variant codes ({a} and {b}): {b} here, {a} on their other lines; "
        "line 4 (s2): question 3 does not exist (1-2)"
    )
    chinese = (
        f"第 3 行：学生 's1' 有两个卷号（{a} 和 {b}）：这里是 {b}，其余各行是 {a}; "
        "第 4 行（s2）：没有第 3 题（题号 1-2）"
    )
    for query, headers, said in [
        ("", {}, english),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, english),
        ("?lang=zh", {}, chinese),
        ("", {"Accept-Language": "zh-CN,zh;q=0.9"}, chinese),
        ("?lang=en", {"Accept-Language": "zh-CN"}, english),
    ]:
        r = client.post(
            url + query, content=bad.encode(), headers={**ta, **headers, "Content-Type": "text/csv"}
        )
        assert r.status_code == 422
        assert r.json()["detail"] == [{"loc": ["body", "csv"], "msg": said, "type": "value_error"}], query
    empty = client.post(url + "?lang=zh", content=b"", headers={**ta, "Content-Type": "text/csv"})
    assert empty.json()["detail"][0]["msg"] == "CSV 是空的"
    assert client.post(url, content=b"", headers={**ta, "Content-Type": "text/csv"}).json()["detail"][0][
        "msg"
    ] == ("csv: empty file")


def test_csv_class_grading_reports_bad_lines_and_applies_nothing(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    bad = (
        "student,code,question,part,answer\n"
        f"s1,{a},2,loss,ln(10)\n"
        f"s1,{b},1,loss,1\n"  # line 3: a second code for s1
        f"s2,{a},x,loss,1\n"  # line 4: question not a number
        f"s3,{a},2,losss,1\n"  # line 5: no such part
        "s4,ZZZZ,1,loss,1\n"  # line 6: unknown code
        f"s5,{a},1\n"  # line 7: too few columns
    )
    r = client.post(url, content=bad.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 422
    for expected in ("line 3", "line 4", "line 5 (s3): question 2 has no part 'losss'", "ZZZZ", "line 7"):
        assert expected in r.text, expected
    assert (
        client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text.count("\n") == 1
    )  # header only
    good = (
        "student,code,question,part,answer\n"
        f"s1,{a},2,loss,ln(10)\n"
        f's2,{b},2,loss,"2,302"\n'  # a quoted thousands comma is one number... and wrong here
        f"s2,{b},1,loss,（1）\n"
    )
    r = client.post(url, content=good.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert [s["student"] for s in r.json()] == ["s1", "s2"]
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text))
    )
    assert [r["student"] for r in rows] == ["s1", "s2"] and rows[0]["q2"] == "2.0"


def _six_questions(client, headers):  # type: ignore[no-untyped-def]
    """Two variants of six questions with one part each: question k asks the loss of k+1 classes."""
    items = [{"problem": FAMILY, "params": {"num_classes": k + 1}} for k in range(1, 7)]
    r = client.post("/api/v1/exams", json={"title": "六题", "items": items, "variants": 2}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_mistyped_code_is_one_error_at_its_line_and_errors_come_in_line_order(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA's class CSV: one row of a student had DKCB for DKCR. The response blamed the student's
    correct rows (one "two variant codes" a line) and said the real cause last, out of line
    order. Now: one message at the mistyped line(s), naming the code the other lines have; two
    known codes, one message at the lines that differ; every message in line order."""
    ta = accounts["ta"].headers
    exam = _six_questions(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    typo = next(b[:3] + c for c in "ABCDEFGHJK" if b[:3] + c not in (a, b))
    url = f"/api/v1/exams/{exam['id']}/submissions"
    rows = [
        f"s0,{a},1,loss,1",  # 2
        f"s0,{a},9,loss,1",  # 3: no question 9
        f"2022000010,{typo},1,loss,1",  # 4: the mistyped code, the student's first line
        *[f"2022000010,{b},{q},loss,1" for q in range(2, 6)],  # 5-8: right
        f"2022000010,{typo.lower()},6,loss,1",  # 9: the same typo again (codes are read in any case)
        f"s3,{a},1,loss,1,x",  # 10: a cell past the answer
        f"s4,{a},1,loss,1",  # 11
        f"s4,{b},2,loss,1",  # 12: a second known code, on one line of four
        f"s4,{b},3,loss,1",  # 13
        f"s4,{a},4,loss,1",  # 14
        f"s4,{a},5,loss,1",  # 15
        f"s5,{typo},1,loss,1",  # 16: every line mistyped: no other code to name
        f"s5,{typo},2,loss,1",  # 17
    ]
    text = "student,code,question,part,answer\n" + "\n".join(rows) + "\n"
    r = client.post(url, content=text.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "; ".join(
        [
            "line 3 (s0): question 9 does not exist (1-6)",
            f"lines 4, 9 (2022000010): unknown variant code '{typo}' (their other lines say {b})",
            "line 10: expected 5 columns, found 6, column 6 holds 'x' (an answer holding commas goes in "
            'quotes: "[9, 9, 9]"; empty columns at the end are fine)',
            f"lines 12-13: student 's4' has two variant codes ({a} and {b}): {b} here, {a} on their other lines",
            f"lines 16-17 (s5): unknown variant code '{typo}'",
        ]
    )
    zh = client.post(url + "?lang=zh", content=text.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert (
        f"; 第 4、9 行（2022000010）：未知的卷号 '{typo}'（该生其余各行的卷号是 {b}）; "
        in (zh.json()["detail"][0]["msg"])
    )
    assert client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text.count("\n") == 1


def test_a_csv_saved_by_excel_with_empty_columns_at_the_end_is_graded(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Excel saves a sheet's blank columns as trailing commas, on the header too: the file was
    refused, "expected 5 columns, found 7". Empty columns at the end are no columns."""
    ta = accounts["ta"].headers
    exam = _six_questions(client, ta)
    a = exam["variants"][0]["code"]
    text = (
        "student,code,question,part,answer,,\r\n"
        f'张三,{a},1,loss,"ln(2)",,\r\n'  # question 1: 2 classes, the right answer
        f"张三,{a},2,loss,ln(9), ,\r\n"  # a space is empty too; wrong (3 classes)
        f"李四,{a},3,loss,,,\r\n"  # a blank answer, then the blank columns
    )
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        content=text.encode("utf-8-sig"),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    sent = {s["student"]: s for s in r.json()}
    assert sorted(sent) == ["张三", "李四"]
    assert sent["张三"]["score"] == 1.0 and sent["李四"]["score"] == 0.0
    detail = client.get(f"/api/v1/exams/{exam['id']}/submissions/{sent['张三']['id']}", headers=ta).json()
    assert detail["answers"] == {"1": {"loss": "ln(2)"}, "2": {"loss": "ln(9)"}}


def test_a_partial_upload_changes_only_the_parts_it_holds(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA re-uploads one corrected cell: the student's other answers stay (a TA walk-through saw a
    one-row CSV wipe a paper from 7/7 to 0). A blank cell clears its part; another code replaces."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    key = _key_answers(_key(client, ta, exam["id"]))
    right = {code: key[(code, 1)][1]["loss"] for code in (a, b)}

    def send(rows: str) -> list[dict]:  # type: ignore[type-arg]
        r = client.post(
            url,
            content=f"student,code,question,part,answer\n{rows}".encode(),
            headers={**ta, "Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def grades() -> dict[str, dict[str, str]]:
        text = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
        return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}

    send(f's1,{a},1,loss,"{right[a]}"\ns1,{a},2,loss,0\ns2,{a},1,loss,"{right[a]}"\n')
    assert grades()["s1"]["total"] == "5.0"
    # One corrected cell: question 2 of s1 only.
    [s1] = send(f"s1,{a},2,loss,ln(10)\n")
    assert s1["score"] == 7.0
    assert (grades()["s1"]["total"], grades()["s2"]["total"]) == ("7.0", "5.0")
    # The same through JSON.
    r = client.post(url, json={"student": "s2", "code": a, "answers": {"2": {"loss": "ln(10)"}}}, headers=ta)
    assert r.status_code == 200 and r.json()["score"] == 7.0
    # A blank cell clears its part.
    send(f"s1,{a},1,loss,\n")
    assert grades()["s1"]["total"] == "2.0"
    # Another code is another paper: nothing of the old one is kept.
    send(f's1,{b},1,loss,"{right[b]}"\n')
    assert grades()["s1"]["total"] == "5.0"


def test_late_submission_is_stored_and_marked(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta, due_at="2020-01-01T00:00:00Z")
    code = exam["variants"][0]["code"]
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        json={"student": "s", "code": code, "answers": {}},
        headers=ta,
    )
    assert r.status_code == 200 and r.json()["late"] is True


def test_a_paper_entered_again_with_another_code_after_the_due_time_stays_on_time_and_counts(
    app, client, accounts
) -> None:  # type: ignore[no-untyped-def]
    """A late row never replaces an on-time one (latest_submissions, whoever its user). A TA who fixes a
    mistyped variant code after the due time corrects the paper handed in on time: it keeps that
    lateness, and so counts (it was stored late, and would have been hidden behind the old paper)."""
    from datetime import UTC, datetime, timedelta

    from app.models import Exam

    ta = accounts["ta"].headers
    exam = _exam(client, ta, due_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    assert (
        client.post(url, json={"student": "s1", "code": a, "answers": {}}, headers=ta).json()["late"] is False
    )
    with app.state.session_factory() as s:
        s.get(Exam, exam["id"]).due_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
        s.commit()
    r = client.post(url, json={"student": "s1", "code": b, "answers": {}}, headers=ta)
    assert r.status_code == 200 and r.json()["late"] is False
    late = client.post(url, json={"student": "s2", "code": a, "answers": {}}, headers=ta)
    assert late.json()["late"] is True  # a paper first entered after the due time is late, and counts
    rows = csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text))
    assert [(row["student"], row["code"], row["late"]) for row in rows] == [
        ("s1", b, "false"),
        ("s2", a, "true"),
    ]


def test_statistics_per_question_and_student(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    rows = (
        "student,code,question,part,answer\n"
        f"s1,{a},2,loss,ln(10)\n"
        f"s2,{b},2,loss,log10(10)\n"  # the log-base misconception
        f"s3,{a},2,loss,log10(10)\n"
        f"s4,{b},2,loss,0.1\n"  # probability, not loss
    )
    assert (
        client.post(url, content=rows.encode(), headers={**ta, "Content-Type": "text/csv"}).status_code == 200
    )
    st = client.get(f"/api/v1/exams/{exam['id']}/stats", headers=ta).json()
    assert st["submissions"] == 4 and st["mean_total"] == 0.5
    q2 = st["questions"][1]
    assert q2["mean_score"] == 0.5 and q2["points"] == 2
    # question 2 has fixed params: every variant asks it, and its wrong answers are counted together
    every = sorted(v["code"] for v in exam["variants"])
    assert q2["common_wrong_answers"][0] == {
        "codes": every,
        "part": "loss",
        "answer": "log10(10)",
        "count": 2,
    }
    assert {"id": "log_base_10", "count": 2} in q2["misconceptions"]
    assert [s["student"] for s in st["students"]] == ["s1", "s2", "s3", "s4"]


def _computed_and_short(client, headers):  # type: ignore[no-untyped-def]
    """Two variants: Q1 computed (4 points, its own numbers in each), Q2 a short answer (10 points)."""
    short = short_answer_exam()["items"][0]  # type: ignore[index]
    body = {"title": "统计", "items": [{"problem": FAMILY, "points": 4}, short], "variants": 2, "seed": 7}
    r = client.post("/api/v1/exams", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_statistics_leave_answers_waiting_for_a_ta_out_of_the_means(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA's report: Q12 showed a 1% mean with 241 short answers not graded yet (counted as 0).
    A question waiting for a TA is left out of its means and counted as pending, per question, per
    variant and for the mean total; wrong answers are counted per variant (other numbers)."""
    ta = accounts["ta"].headers
    exam = _computed_and_short(client, ta)
    a, b = exam["variants"][0]["code"], exam["variants"][1]["code"]
    key = _key_answers(_key(client, ta, exam["id"]))
    right = {code: key[(code, 1)][1]["loss"] for code in (a, b)}
    assert right[a] != right[b], "the variants ask other numbers"
    url = f"/api/v1/exams/{exam['id']}/submissions"
    papers = [
        ("s1", a, {"1": {"loss": right[a]}, "2": {"answer": "梯度消失"}}),  # Q2 waits
        ("s2", a, {"1": {"loss": "1"}, "2": {"answer": "不知道"}}),  # Q2 waits
        ("s3", b, {"1": {"loss": right[b]}, "2": {"answer": "残差"}}),  # Q2 graded below: 0.7 of 10
        ("s4", b, {"1": {"loss": "1"}}),  # Q2 blank: 0, nothing to wait for
    ]
    ids = {}
    for student, code, answers in papers:
        r = client.post(url, json={"student": student, "code": code, "answers": answers}, headers=ta)
        assert r.status_code == 200, r.text
        ids[student] = r.json()["id"]
    grade = {"question": 2, "part": "answer", "score": 0.7}
    assert client.post(f"{url}/{ids['s3']}/grade", json=grade, headers=ta).status_code == 200

    st = client.get(f"/api/v1/exams/{exam['id']}/stats", headers=ta).json()
    # Totals: s1 and s2 wait; s3 has 4 + 7, s4 has 0 + 0.
    assert (st["submissions"], st["graded"], st["pending"], st["mean_total"]) == (4, 2, 2, 5.5)
    q1, q2 = st["questions"]
    assert (q1["submissions"], q1["graded"], q1["pending"], q1["mean_score"]) == (4, 4, 0, 2.0)
    assert (q2["submissions"], q2["graded"], q2["pending"], q2["mean_score"]) == (4, 2, 2, 3.5)  # (7+0)/2
    assert st["variants"] == [
        {
            "code": a,
            "submissions": 2,
            "graded": 0,
            "pending": 2,
            "mean_total": None,
            "questions": [
                {"question": 1, "submissions": 2, "graded": 2, "pending": 0, "mean_score": 2.0},
                {"question": 2, "submissions": 2, "graded": 0, "pending": 2, "mean_score": None},
            ],
        },
        {
            "code": b,
            "submissions": 2,
            "graded": 2,
            "pending": 0,
            "mean_total": 5.5,
            "questions": [
                {"question": 1, "submissions": 2, "graded": 2, "pending": 0, "mean_score": 2.0},
                {"question": 2, "submissions": 2, "graded": 2, "pending": 0, "mean_score": 3.5},
            ],
        },
    ]
    # "1" is wrong in both variants, but against other numbers: two mistakes, not one of 2.
    assert sorted(q1["common_wrong_answers"], key=lambda w: w["codes"]) == sorted(
        [
            {"codes": [a], "part": "loss", "answer": "1", "count": 1},
            {"codes": [b], "part": "loss", "answer": "1", "count": 1},
        ],
        key=lambda w: w["codes"],
    )


def test_statistics_of_an_exam_without_submissions_are_empty_not_zero(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _computed_and_short(client, ta)
    st = client.get(f"/api/v1/exams/{exam['id']}/stats", headers=ta).json()
    assert (st["submissions"], st["mean_total"], st["variants"]) == (0, None, [])
    assert [q["mean_score"] for q in st["questions"]] == [None, None]
    page = client.get(f"/exams/{exam['id']}?lang=en", headers=ta).text
    assert "No submissions yet" in page and "data-no-submissions" in page
    assert '<svg class="chart"' not in page and "0%" not in page


def test_instructor_pages_list_exams_and_draw_statistics(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        json={"student": "s1", "code": code, "answers": {"2": {"loss": "0"}}},
        headers=ta,
    )
    listing = client.get("/exams", headers=ta)
    assert listing.status_code == 200 and TITLE in listing.text
    stats = client.get(f"/exams/{exam['id']}", headers=ta)
    assert stats.status_code == 200 and "<svg" in stats.text and "s1" in stats.text
    assert client.get("/exams", headers=accounts["student"].headers).status_code == 403


def test_exam_short_answers_go_to_the_ta_queue(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    body = short_answer_exam()
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    sub = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        json={"student": "s1", "code": code, "answers": {"1": {"answer": "残差连接……"}}},
        headers=ta,
    ).json()
    assert sub["pending_manual"] is True and sub["score"] == 0
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()
    assert len(queue) == 1 and queue[0]["answer"] == "残差连接……"
    sid = queue[0]["submission"]
    graded = client.post(
        f"/api/v1/exams/{exam['id']}/submissions/{sid}/grade",
        json={"question": 1, "part": "answer", "score": 0.7, "comment": "缺少梯度分析"},
        headers=ta,
    ).json()
    assert graded["score"] == 7.0 and graded["pending_manual"] is False
    assert client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json() == []


def test_a_class_csv_sent_again_keeps_the_hand_grades_of_unchanged_answers(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA fixes one student's typo and uploads the class again: every short answer went back to
    the queue at 0 (found by a TA walk-through). Unchanged answers keep their hand grade; a changed
    one is graded by hand again."""
    ta = accounts["ta"].headers
    body = short_answer_exam()
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    csv_text = f"student,code,question,part,answer\n甲,{code},1,answer,残差连接\n乙,{code},1,answer,不知道\n"
    assert (
        client.post(url, content=csv_text.encode(), headers={**ta, "Content-Type": "text/csv"}).status_code
        == 200
    )
    for item in client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json():
        r = client.post(
            f"/api/v1/exams/{exam['id']}/submissions/{item['submission']}/grade",
            json={
                "question": 1,
                "part": "answer",
                "score": 0.9 if item["student"] == "甲" else 0.1,
                "comment": "ok",
            },
            headers=ta,
        )
        assert r.status_code == 200
    again = csv_text.replace("不知道", "梯度直接回传")  # 乙's answer changed, 甲's did not
    r = client.post(url, content=again.encode(), headers={**ta, "Content-Type": "text/csv"})
    by_student = {s["student"]: s for s in r.json()}
    assert by_student["甲"]["score"] == 9.0 and by_student["甲"]["pending_manual"] is False
    assert by_student["乙"]["score"] == 0 and by_student["乙"]["pending_manual"] is True
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()
    assert [(q["student"], q["answer"]) for q in queue] == [("乙", "梯度直接回传")]
    # A TA grading from a queue loaded before the class was sent again grades the old submission:
    # the grade follows the same answer into the newer one, which is the one that counts.
    old_sid = queue[0]["submission"]
    client.post(url, content=again.encode(), headers={**ta, "Content-Type": "text/csv"})
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions/{old_sid}/grade",
        json={"question": 1, "part": "answer", "score": 0.5, "comment": "ok"},
        headers=ta,
    )
    assert r.status_code == 200
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(grades))}
    assert float(rows["乙"]["q1"]) == 5.0 and rows["乙"]["pending_manual"] in ("False", "false", "0", "")
    assert client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json() == []


def test_two_tas_grading_two_parts_of_one_paper_at_once_keep_both_grades(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A paper's hand grade was read, changed and written back whole, with no lock: a TA who read the
    paper before a colleague's grade of another question was stored wrote it back without that
    grade. Two sessions, the first reading before the second writes: both grades are kept."""
    from app.models import ExamSubmission
    from app.services import exams
    from problems.concepts import short_answer_items

    ta = accounts["ta"].headers
    first, second = list(short_answer_items())[:2]
    items = [
        {"problem": "concept.short_answer", "params": {"item": i}, "points": 10} for i in (first, second)
    ]
    exam = client.post("/api/v1/exams", json={"title": "两道简答", "items": items}, headers=ta).json()
    answers = {"1": {"answer": "甲"}, "2": {"answer": "乙"}}
    sent = {"student": "s1", "code": exam["variants"][0]["code"], "answers": answers}
    assert client.post(f"/api/v1/exams/{exam['id']}/submissions", json=sent, headers=ta).status_code == 200
    sid = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()[0]["submission"]
    with app.state.session_factory() as one, app.state.session_factory() as two:
        e1, e2 = exams.get_exam(one, exam["id"]), exams.get_exam(two, exam["id"])
        read = one.get(ExamSubmission, sid)  # the first TA's request has read the paper (and holds it)
        assert read is not None and read.needs_manual
        grade = {"submission_id": sid, "part": "answer", "comment": "ok"}
        exams.grade_manual_part(two, exam=e2, question=2, score=0.5, **grade)  # the second TA's, stored
        exams.grade_manual_part(one, exam=e1, question=1, score=0.8, **grade)
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    row = next(csv.DictReader(io.StringIO(grades)))
    assert (row["q1"], row["q2"], row["total"], row["pending_manual"]) == ("8.0", "5.0", "13.0", "false")


def test_a_script_grading_from_the_queue_gets_409_for_a_part_graded_meanwhile(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The API's grade replaces a grade given before (a deliberate change). With if_waiting, as the
    exam's page sends it, a part another TA graded meanwhile is a 409 that names that grade, and
    keeps it: also when it was graded in the newer submission the class was sent again as."""
    ta = accounts["ta"].headers
    exam = client.post("/api/v1/exams", json=short_answer_exam(), headers=ta).json()
    url = f"/api/v1/exams/{exam['id']}/submissions"
    queue = f"/api/v1/exams/{exam['id']}/manual"
    sent = {"student": "s1", "code": exam["variants"][0]["code"], "answers": {"1": {"answer": "残差"}}}
    client.post(url, json=sent, headers=ta)
    old = client.get(queue, headers=ta).json()[0]["submission"]
    client.post(url, json=sent, headers=ta)  # sent again, the same answer
    new = client.get(queue, headers=ta).json()[0]["submission"]
    assert new != old

    def grade(sid: int, score: float, **extra: object):  # type: ignore[no-untyped-def]
        body = {"question": 1, "part": "answer", "score": score, "comment": "c", **extra}
        return client.post(f"{url}/{sid}/grade", json=body, headers=ta)

    def total() -> str:
        grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
        return str(next(csv.DictReader(io.StringIO(grades)))["total"])

    assert grade(new, 0.6, if_waiting=True).status_code == 200
    for sid in (new, old):  # a queue loaded before the class was sent again lists the old one
        r = grade(sid, 0.1, if_waiting=True)
        assert r.status_code == 409 and "已评分（0.6）" in r.json()["detail"], r.text
        assert "graded already (0.6)" in r.json()["detail"]
    assert total() == "6.0"
    assert grade(new, 0.9).status_code == 200  # without it: a deliberate change
    assert total() == "9.0"


def test_a_grade_for_a_paper_replaced_by_a_correction_with_another_answer_is_a_409(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA grading from a queue read before a colleague sent a correction of that answer: the grade
    was answered 200 but landed on the replaced paper, which no longer counts (the part still waited
    in grades.csv). Now a 409 naming the paper to grade; nothing is changed."""
    ta = accounts["ta"].headers
    exam = client.post("/api/v1/exams", json=short_answer_exam(), headers=ta).json()
    url = f"/api/v1/exams/{exam['id']}/submissions"
    code = exam["variants"][0]["code"]
    client.post(url, json={"student": "s1", "code": code, "answers": {"1": {"answer": "第一版"}}}, headers=ta)
    old = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()[0]["submission"]
    client.post(url, json={"student": "s1", "code": code, "answers": {"1": {"answer": "第二版"}}}, headers=ta)
    new = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()[0]["submission"]
    body = {"question": 1, "part": "answer", "score": 1.0, "comment": "好"}
    for extra in ({}, {"if_waiting": True}):
        r = client.post(f"{url}/{old}/grade", json={**body, **extra}, headers=ta)
        assert r.status_code == 409 and f"replaced by submission {new}" in r.json()["detail"], r.text
    zh = client.post(f"{url}/{old}/grade?lang=zh", json=body, headers=ta)
    assert zh.status_code == 409 and f"请给第 {new} 号评分" in zh.text
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    row = next(csv.DictReader(io.StringIO(grades)))
    assert row["pending_manual"] == "true" and float(row["total"]) == 0.0
    assert client.post(f"{url}/{new}/grade", json=body, headers=ta).status_code == 200
    row = next(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text))
    )
    assert row["pending_manual"] == "false" and float(row["total"]) > 0


def test_a_grade_given_while_the_class_is_stored_again_is_kept(
    app, client, accounts, db_url, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A class sent again keeps the hand grades of unchanged answers (_keep_ta_grades), judged by the
    paper as read when the new one is stored. A colleague's grade stored between that read and the
    write stayed on the paper replaced, and the answer was back in the TA's queue (the grade's lock
    held the old paper; the store took none). Now the grade waits for the store: here it is tried
    once with a short lock wait while the store is under way, and sent again after if it had to wait.
    Either way the paper that counts has it."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine, make_session_factory
    from app.services import exams

    ta = accounts["ta"].headers
    exam = client.post("/api/v1/exams", json=short_answer_exam(), headers=ta).json()
    url = f"/api/v1/exams/{exam['id']}/submissions"
    queue = f"/api/v1/exams/{exam['id']}/manual"
    sent = {"student": "s1", "code": exam["variants"][0]["code"], "answers": {"1": {"answer": "残差"}}}
    assert client.post(url, json=sent, headers=ta).status_code == 200
    sid = client.get(queue, headers=ta).json()[0]["submission"]
    engine = make_engine(db_url)  # the colleague's own connection, which waits for a lock briefly
    tried: list[str] = []

    def colleague_grades() -> None:
        with make_session_factory(engine)() as s:
            brief = "PRAGMA busy_timeout = 50" if db_url.startswith("sqlite") else "SET lock_timeout = '50ms'"
            s.execute(text(brief))
            e = exams.get_exam(s, exam["id"])
            exams.grade_manual_part(
                s, exam=e, submission_id=sid, question=1, part="answer", score=0.7, comment="ok"
            )

    real_keep = exams._keep_ta_grades

    def a_colleague_grades_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not tried:  # the store has read the paper and not yet written the new one
            try:
                colleague_grades()
                tried.append("stored")
            except OperationalError:
                tried.append("waited")
        return real_keep(*args, **kwargs)

    monkeypatch.setattr(exams, "_keep_ta_grades", a_colleague_grades_meanwhile)
    try:
        again = client.post(url, json=sent, headers=ta)  # the same paper sent again
        assert again.status_code == 200, again.text
        if tried == ["waited"]:
            colleague_grades()  # what the waiting grade does once the store is done
    finally:
        engine.dispose()
    assert tried in (["stored"], ["waited"])
    assert client.get(queue, headers=ta).json() == []
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    row = next(csv.DictReader(io.StringIO(grades)))
    assert (row["total"], row["pending_manual"]) == ("7.0", "false")


def _held_elsewhere(app, submission_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether a stored submission is locked now: another connection asks for it without waiting."""
    from sqlalchemy import create_engine, select, update
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    from app.models import ExamSubmission

    url = app.state.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    probe = create_engine(url, poolclass=NullPool, connect_args={"timeout": 0} if sqlite else {})
    row = ExamSubmission.id == submission_id
    try:
        with probe.connect() as conn:
            if sqlite:  # one writer at a time: a write waits for the lock (here: refused at once)
                conn.execute(update(ExamSubmission).where(row).values(student=ExamSubmission.student))
            else:
                conn.execute(select(ExamSubmission.id).where(row).with_for_update(nowait=True))
            conn.rollback()
        return False
    except OperationalError:
        return True
    finally:
        probe.dispose()


def test_a_class_csv_stored_while_tas_grade_keeps_their_grades(app, client, accounts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As the test above, with the colleague's grade really waiting: one grade committed while the
    class is graded (before the store reads the papers) is carried over; another, sent while the store
    holds the papers, waits in a thread for its commit and then follows the same answer into the new
    paper. Deterministic on both databases: the second grade is given at once if nothing holds the
    paper (without the store's lock: the part then waits for a TA again), else in a thread."""
    import asyncio
    from concurrent.futures import Future, ThreadPoolExecutor

    from app.db import release_connection
    from app.services import exams

    ta = accounts["ta"].headers
    exam = client.post("/api/v1/exams", json=short_answer_exam(), headers=ta).json()
    code = exam["variants"][0]["code"]
    text = f"student,code,question,part,answer\n甲,{code},1,answer,残差连接\n乙,{code},1,answer,梯度\n"
    url = f"/api/v1/exams/{exam['id']}/submissions"
    assert (
        client.post(url, content=text.encode(), headers={**ta, "Content-Type": "text/csv"}).status_code == 200
    )
    old = {
        q["student"]: q["submission"]
        for q in client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()
    }

    def a_ta_grades(student: str, score: float) -> None:
        with app.state.session_factory() as other:
            e = exams.get_exam(other, exam["id"])
            grade = {"question": 1, "part": "answer", "comment": student, "if_waiting": True}
            exams.grade_manual_part(other, exam=e, submission_id=old[student], score=score, **grade)

    turns: list[str] = []
    waited: list[Future[None]] = []
    real = exams._keep_ta_grades

    def keep_ta_grades(*args):  # type: ignore[no-untyped-def]
        if not turns:  # the stored papers are read by now: another TA grades 乙's
            if _held_elsewhere(app, old["乙"]):
                turns.append("waits")
                waited.append(pool.submit(a_ta_grades, "乙", 0.4))  # for this class's commit
            else:  # nothing stops them: graded between the reading and the storing
                turns.append("at once")
                a_ta_grades("乙", 0.4)
        return real(*args)

    monkeypatch.setattr(exams, "_keep_ta_grades", keep_ta_grades)
    with ThreadPoolExecutor(1) as pool, app.state.session_factory() as s:  # as the routes send a class
        checked = exams.check_class_csv(s, exam=exams.get_exam(s, exam["id"]), text=text, lang="zh")
        release_connection(s)
        graded = asyncio.run(exams.grade_in_turn(app.state.grader, checked))
        a_ta_grades("甲", 0.7)  # while the class was graded
        stored = exams.store_submissions(s, checked, graded)
        for grade in waited:
            grade.result()
    assert client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json() == []
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    rows = {r["student"]: (r["total"], r["pending_manual"]) for r in csv.DictReader(io.StringIO(grades))}
    assert rows == {"甲": ("7.0", "false"), "乙": ("4.0", "false")}
    assert turns == ["waits"] and {s.student: s.needs_manual for s in stored} == {"甲": False, "乙": True}
    assert not _held_elsewhere(app, old["乙"])


def _first_short_item() -> str:
    from problems.concepts import short_answer_items

    return next(iter(short_answer_items()))


def test_grades_csv_names_students_as_their_accounts_do(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """TAs know students as 张三, not 2022012111: the display name of a student's account comes last
    (scripts reading the columns by position keep working); a name no account has is left empty."""
    ta, boss = accounts["ta"].headers, accounts["instructor"].headers
    made = client.post(
        "/api/v1/users", json={"name": "2022012111", "role": "student", "display_name": "张三"}, headers=boss
    )
    assert made.status_code in (200, 201), made.text
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    for student in ("2022012111", "2022012199"):
        sent = {"student": student, "code": code, "answers": {"2": {"loss": "ln(10)"}}}
        assert (
            client.post(f"/api/v1/exams/{exam['id']}/submissions", json=sent, headers=ta).status_code == 200
        )
    text = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[-1] == "display_name" and header[:2] == ["student", "code"]
    assert {r[0]: r[-1] for r in rows} == {"2022012111": "张三", "2022012199": ""}


def test_a_script_writes_a_class_csv_from_each_variants_map(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Tag items ask other families in other variants, and part names were printed nowhere a script
    could read them (a TA scraped answer-key.html). variants/CODE.json gives them; a CSV written from
    it alone, with each instance's reference answers, scores every variant in full."""
    ta = accounts["ta"].headers
    spec = {"title": "按主题", "items": [{"tag": "rl", "count": 2}, {"problem": "loss.uniform_prediction"}]}
    exam = client.post("/api/v1/exams", json={**spec, "variants": 3, "seed": 11}, headers=ta).json()
    rows = ["student,code,question,part,answer"]
    for n, variant in enumerate(exam["variants"]):
        code = variant["code"]
        shown = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=ta)
        assert shown.status_code == 200 and shown.json()["code"] == code
        questions = shown.json()["questions"]
        assert [q["number"] for q in questions] == [1, 2, 3] and questions[2][
            "problem"
        ] == "loss.uniform_prediction"
        for q in questions:
            instance = client.get(f"/api/v1/instances/{q['instance_id']}", headers=ta).json()
            assert [p["name"] for p in q["parts"]] == [p["name"] for p in instance["parts"]]
            answers = client.get(f"/api/v1/instances/{q['instance_id']}/solution", headers=ta).json()[
                "answers"
            ]
            for part in q["parts"]:
                cell = answers[part["name"]].replace('"', '""')
                rows.append(f's{n},{code},{q["number"]},{part["name"]},"{cell}"')
    graded = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        content="\n".join(rows).encode(),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert graded.status_code == 200, graded.text
    assert all(r["score"] == r["max_score"] for r in graded.json())
    code = exam["variants"][0]["code"]
    assert (
        client.get(
            f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=accounts["student"].headers
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/exams/{exam['id']}/variants/ZZZZ.json", headers=ta).status_code == 404


def test_a_script_finds_exams_by_listing_them(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """GET /exams was a 405: a script had no way to find an exam's id. Newest first, a page at a time,
    each with its times and number of variants; staff only."""
    ta = accounts["ta"].headers
    first = _exam(client, ta, variants=2)
    second = _exam(client, ta, variants=4, title="期中模拟")
    listed = client.get("/api/v1/exams", headers=ta)
    assert listed.status_code == 200 and listed.json()["count"] == 2
    rows = listed.json()["data"]
    assert [r["id"] for r in rows] == [second["id"], first["id"]]
    assert rows[0]["title"] == "期中模拟" and rows[0]["variants"] == 4 and rows[1]["variants"] == 2
    assert set(rows[0]) >= {"kind", "lang", "opens_at", "due_at", "time_limit_minutes", "created_at"}
    page = client.get("/api/v1/exams?limit=1&offset=1", headers=ta).json()
    assert page["count"] == 2 and [r["id"] for r in page["data"]] == [first["id"]]
    assert client.get("/api/v1/exams", headers=accounts["student"].headers).status_code == 403
    assert client.get("/api/v1/exams?limit=0", headers=ta).status_code == 422


def short_answer_exam(**extra: object) -> dict[str, object]:
    """The body of an exam of one short answer worth 10 points (graded by a TA)."""
    item = {"problem": "concept.short_answer", "params": {"item": _first_short_item()}, "points": 10}
    return {"title": "简答", "items": [item], **extra}


def test_nul_in_text_is_refused_alike_on_both_databases(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """SQLite stored a student name holding NUL that PostgreSQL refuses: a backup of such a
    database could not be restored on PostgreSQL. Now a 422 on both; an id with NUL is not found."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    r = client.post(
        url, json={"student": "孙\u0000八", "code": code, "answers": {"1": {"loss": "1"}}}, headers=ta
    )
    assert r.status_code == 422 and "NUL" in r.text, r.text
    text = f"student,code,question,part,answer\n孙\x00八,{code},1,loss,1\n"
    r = client.post(url, content=text.encode(), headers={**ta, "Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text.count("\n") == 1
    assert client.get("/api/v1/exams/ab%00c", headers=ta).status_code == 404
    assert client.get("/api/v1/instances/ab%00c", headers=ta).status_code == 404


def test_errors_point_at_the_field_a_script_must_fix(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A TA walk-through found locs that named the wrong place: an exam item's params said only
    `params`, an unknown variant code said `answers`, a reused key said `body`; a BOM before JSON
    was refused here but not by /instances, and a body that is not UTF-8 was a 400."""
    ta = accounts["ta"].headers
    bad_item = {
        "title": "t",
        "items": [{"problem": FAMILY}, {"problem": FAMILY, "params": {"num_classes": 1}}],
    }
    r = client.post("/api/v1/exams", json=bad_item, headers=ta)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [
        "body",
        "items",
        1,
        "params",
        "num_classes",
    ]
    exam = _exam(client, ta)
    url = f"/api/v1/exams/{exam['id']}/submissions"
    r = client.post(url, json={"student": "s1", "code": "ZZZZ", "answers": {"1": {"loss": "1"}}}, headers=ta)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "code"], r.text
    code = exam["variants"][0]["code"]
    body = json.dumps({"student": "s1", "code": code, "answers": {"1": {"loss": "1"}}})
    r = client.post(
        url, content=b"\xef\xbb\xbf" + body.encode(), headers={**ta, "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    inst = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 1}).json()
    check = f"/api/v1/instances/{inst['id']}/check"
    h = {**accounts["student"].headers, "Idempotency-Key": "k1"}
    assert client.post(check, json={"answers": {"loss": "1"}}, headers=h).status_code == 200
    r = client.post(check, json={"answers": {"loss": "2"}}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    r = client.post(
        "/api/v1/instances", content=b'{"problem": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "UTF-8" in r.text


def test_a_bilingual_exam_has_a_bilingual_answer_key(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """lang "both" printed the papers in both languages and the key in Chinese only."""
    ta = accounts["ta"].headers
    body = {"title": "双语", "items": [{"problem": FAMILY}], "variants": 1, "seed": 3, "lang": "both"}
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    key = client.get(f"/api/v1/exams/{exam['id']}/answer-key.html", headers=ta).text
    assert "答案与解析 / Answer key" in key
    steps = re.findall(r'<ol class="steps" lang="([^"]+)">', key)
    assert steps == ["zh-CN", "en"], steps
    only_en = client.get(f"/api/v1/exams/{exam['id']}/answer-key.html?lang=en", headers=ta).text
    assert re.findall(r'<ol class="steps" lang="([^"]+)">', only_en) == ["en"]


def test_looking_up_a_name_holding_nul_finds_nothing(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    assert client.get("/api/v1/attempts?user=a%00b", headers=ta).status_code == 404
    r = client.post("/api/v1/auth/token", json={"name": "a\u0000", "password": "whatever it is"})
    assert r.status_code == 401


def test_the_printed_key_rounds_decimals_and_keeps_the_stored_reference(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The key printed 0.750260105595 and matrices of 0.00246974235015: a TA reads 6 significant
    figures, a matrix one row a line; exact forms stay; the stored (graded) reference is unchanged."""
    import html as htmllib

    from grader import AnswerSpec, grade

    ta = accounts["ta"].headers
    body = {
        "title": "t",
        "items": [
            {"problem": "loss.softmax_cross_entropy"},
            {"problem": FAMILY, "params": {"num_classes": 10}},
        ],
        "variants": 2,
        "seed": 5,
        "lang": "zh",
    }
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    key = _key(client, ta, exam["id"])
    answers = _key_answers(key)
    assert len(answers) == 4
    matrices = 0
    for (_, number), (iid, parts) in answers.items():
        stored = client.get(f"/api/v1/instances/{iid}/solution", headers=ta).json()["answers"]
        assert set(parts) == set(stored)
        for name, shown in parts.items():
            digits = [re.sub(r"^[0.]+|e.*$|\.", "", n) for n in re.findall(r"\d+\.\d+(?:e-?\d+)?", shown)]
            assert all(len(d) <= 6 for d in digits), (name, shown)
            if number == 2:
                assert shown == stored[name] == "log(10)"  # an exact form as it is
                continue
            if stored[name].startswith("[["):
                matrices += 1
                assert shown.count("\n") == stored[name].count("], [")  # one row a line
            assert len(shown) < len(stored[name])  # the stored reference still has every digit
            # What the TA reads is still right by the grader's own measure.
            spec = AnswerSpec("matrix" if stored[name].startswith("[[") else "real")
            assert grade(shown, stored[name], spec).correct, (name, shown, stored[name])
    assert matrices >= 2
    assert "0.750260105595" not in htmllib.unescape(key)


def test_an_upload_over_answers_that_changed_while_it_was_graded_is_refused(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A review: a partial upload is laid over the stored answers when it is read, then graded for
    seconds; another TA's upload stored meanwhile was silently dropped by it. Now a 409, nothing stored."""
    import asyncio

    from app.services import exams
    from app.services.errors import Conflict
    from app.services.grading import Grader

    ta = accounts["ta"].headers
    exam = _exam(client, ta)
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    assert (
        client.post(
            url, json={"student": "s1", "code": code, "answers": {"1": {"loss": "0"}}}, headers=ta
        ).status_code
        == 200
    )
    grader = Grader(0, 1.0)
    with app.state.session_factory() as s:
        stored = exams.get_exam(s, exam["id"])
        checked = exams.check_submission(
            s, exam=stored, student="s1", code=code, answers={"2": {"loss": "1"}}
        )
        graded = asyncio.run(exams.grade_in_turn(grader, checked))
        # meanwhile another TA corrects question 1
        right = _key_answers(_key(client, ta, exam["id"]))[(code, 1)][1]["loss"]
        r = client.post(
            url, json={"student": "s1", "code": code, "answers": {"1": {"loss": right}}}, headers=ta
        )
        assert r.status_code == 200
        with pytest.raises(Conflict):
            exams.store_submissions(s, checked, graded)
        s.rollback()
    grades = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text))
    )
    assert [row["q1"] for row in grades if row["student"] == "s1"] == ["5.0"]  # the other TA's change stands


# --- a large class: the bundle and the key a part at a time -------------------------------------------


@pytest.mark.parametrize(
    ("count", "parts"),
    [
        (1, [(1, 1)]),
        (50, [(1, 50)]),
        (51, [(1, 26), (27, 51)]),
        (120, [(1, 40), (41, 80), (81, 120)]),
        (300, [(1 + 50 * i, 50 * (i + 1)) for i in range(6)]),
    ],
)
def test_a_large_bundle_is_cut_in_even_parts_of_at_most_fifty(
    count: int, parts: list[tuple[int, int]]
) -> None:
    from app.services.exam_render import parts as cut

    assert cut(count) == parts
    assert [n for a, b in parts for n in range(a, b + 1)] == list(range(1, count + 1))


def _codes_in(html: str) -> list[str]:
    return re.findall(r'<section class="variant" data-code="(\w+)">', html)


def test_a_range_of_variants_prints_those_variants(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """300 variants in one request took 138 s, past a proxy's 60 s: `?variants=N-M` (numbers from
    1 in printed order, both ends included) or `?variants=N` prints a part of the bundle and key."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, variants=5)
    codes = [v["code"] for v in exam["variants"]]
    url = f"/api/v1/exams/{exam['id']}"
    assert _codes_in(client.get(f"{url}/bundle.html?variants=2-4", headers=ta).text) == codes[1:4]
    assert _codes_in(client.get(f"{url}/bundle.html?variants=5", headers=ta).text) == codes[4:]
    assert _codes_in(client.get(f"{url}/bundle.html?variants=1-5", headers=ta).text) == codes
    assert _codes_in(client.get(f"{url}/bundle.html", headers=ta).text) == codes
    assert _codes_in(client.get(f"{url}/answer-key.html?variants=3-4", headers=ta).text) == codes[2:4]
    tex = client.get(f"{url}/bundle.tex?variants=2-3", headers=ta)
    assert re.findall(r"\\renewcommand\{\\papercode\}\{(\w+)\}", tex.text) == codes[1:3]
    assert f'filename="{exam["id"]}-all-2-3.tex"' in tex.headers["content-disposition"]


def test_a_range_that_is_not_one_is_a_422_naming_the_query(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta, variants=5)
    paths = ["bundle.pdf", "bundle.html", "bundle.tex", "answer-key.pdf", "answer-key.html"]
    for i, bad in enumerate(["0-2", "3-2", "1-6", "6", "a-b", "1-2-3", "-2", "", "1,2", "9" * 40]):
        r = client.get(f"/api/v1/exams/{exam['id']}/{paths[i % 5]}", params={"variants": bad}, headers=ta)
        assert r.status_code == 422, (bad, r.text)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["query", "variants"], (bad, error)
        assert len(bad) > 32 or "from 1 to 5" in error["msg"] and "1-5" in error["msg"], error


def test_the_answer_key_in_a_format_it_has_not_is_a_422_of_the_path(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """answer-key.tex said 422 with loc ["body", "ext"]: there is no body; the extension is in the
    path, as the bundle's. 422 (as bundle.docx and CODE.docx), not 404: the exam exists, the
    message lists the formats."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, variants=1)
    for path, formats in (("answer-key.tex", "pdf or html"), ("bundle.docx", "pdf, html or tex")):
        r = client.get(f"/api/v1/exams/{exam['id']}/{path}", headers=ta)
        assert r.status_code == 422
        (error,) = r.json()["detail"]
        assert error["loc"] == ["path", "ext"] and formats in error["msg"], error
    assert client.get(f"/api/v1/exams/{exam['id']}/answer-key.html", headers=ta).status_code == 200
    assert client.get("/api/v1/exams/nope/answer-key.tex", headers=ta).status_code == 404
