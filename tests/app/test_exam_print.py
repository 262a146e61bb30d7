"""The printed paper as an instructor found it: answer space sized by the answer, page margins that
name the variant and the page, questions that break between pages rather than leave one blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from app.rendering import display_pieces, render

needs_pdf = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftotext") is None,
    reason="needs Debian's chromium and poppler-utils (installed by make test)",
)

BOX = re.compile(r'<div class="box (\w+)" data-type="(\w+)" data-lines="(\d+)">\s*<span class="lbl">')


def _exam(client, ta, items, variants=1, lang="zh", seed=11):  # type: ignore[no-untyped-def]
    body = {"title": "期中模拟", "items": items, "variants": variants, "seed": seed, "lang": lang}
    r = client.post("/api/v1/exams", json=body, headers=ta)
    assert r.status_code == 201, r.text
    return r.json()


def _pages(pdf: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    src = tmp_path / "p.pdf"
    src.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(src), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def test_answer_boxes_are_sized_by_the_answer(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Every box was one line high: a 4x3 matrix, a short-answer text and a number alike."""
    ta = accounts["ta"].headers
    items = [
        {"problem": "loss.softmax_cross_entropy"},
        {"problem": "concept.short_answer"},
        {"problem": "cnn.network_table"},
        {"problem": "backprop.mlp_regression"},
    ]
    exam = _exam(client, ta, items)
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    key = client.get(f"/api/v1/exams/{exam['id']}/answer-key.html", headers=ta).text
    instances = re.findall(r'data-instance="([^"]+)"', key)
    questions = html.split('<div class="q">')[1:]
    assert len(questions) == len(instances) == 4
    seen = set()
    for q, iid in zip(questions, instances, strict=True):
        answers = client.get(f"/api/v1/instances/{iid}/solution", headers=ta).json()["answers"]
        boxes = BOX.findall(q)
        assert len(boxes) == len(answers) or not answers
        parts = list(answers) or [None]
        for (kind, answer_type, lines), name in zip(boxes, parts, strict=True):
            seen.add(answer_type)
            if answer_type == "matrix":
                rows = answers[name].count("[") - 1  # [[..], [..], ..]: a bracket a row and one outside
                assert int(lines) == rows, (name, answers[name], lines)
                assert kind == ("matrix" if rows > 1 else "line")
            elif answer_type == "text":
                assert kind == "text" and int(lines) >= 5
            elif answer_type in ("integer", "real", "shape", "choice"):
                assert kind == "short" and lines == "1"  # two to a row
            else:
                assert kind == "line" and int(lines) >= 1
        # Room to work a computation out; a short answer's own box is its room.
        has_work = '<div class="work"' in q
        assert has_work == any(t not in ("text", "choice") for _, t, _ in boxes)
    assert {"matrix", "text", "shape", "integer"} <= seen
    # A line of handwriting (7 mm) for every line a box is given.
    spaces = re.findall(r'data-lines="(\d+)">.*?class="space" style="height: ([\d.]+)mm"', html, re.S)
    assert spaces and all(float(height) >= 7 * int(lines) for lines, height in spaces)


def test_a_long_display_row_wraps_between_its_formulas() -> None:
    """A row like x = [..], W = [..], b = [..] ran past the margin, and Chromium then shrank the
    whole bundle to fit it: the row is cut at its top-level `, \\quad` into pieces that wrap."""
    row = r"\mathbf{x} = \begin{bmatrix} 1 \\ -2 \end{bmatrix}, \quad W = \begin{bmatrix} 0 & -0.3 \end{bmatrix}, \quad d = 0.1"
    assert display_pieces(row) == [
        r"\mathbf{x} = \begin{bmatrix} 1 \\ -2 \end{bmatrix},",
        r"W = \begin{bmatrix} 0 & -0.3 \end{bmatrix},",
        "d = 0.1",
    ]
    assert display_pieces(r"f(a, \quad b) = \{1, \quad 2\}") == [r"f(a, \quad b) = \{1, \quad 2\}"]
    out = str(render(f"$${row}$$"))
    assert out.count('<span class="piece">') == 3 and out.count("<math") == 3
    assert str(render("$$a = b$$")).count("piece") == 0


def test_the_paper_css_breaks_questions_not_boxes(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    exam = _exam(client, ta, [{"problem": "rnn.gru_step"}])
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    css = re.sub(r"/\*.*?\*/", "", html.split("<style>")[1].split("</style>")[0], flags=re.S)
    rule = {m.group(1).strip(): m.group(2) for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css)}
    assert "break-inside: avoid" not in rule[".q"]  # a long question may run over a page
    for selector in (".box", ".work", ".stmt table", ".math.display"):
        assert "break-inside: avoid" in rule[selector], selector
    assert re.search(r"margin: [1-9][\d.]*mm 0", rule[".math.display"])  # room above and below
    assert html.count('<span class="math display">') >= 4  # the GRU's equations


@needs_pdf
@pytest.mark.parametrize(("lang", "page"), [("zh", "第 {k} 页 / 共 {n} 页"), ("en", "page {k} of {n}")])
def test_every_page_of_a_paper_names_its_variant_and_page(client, accounts, tmp_path, lang, page) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    items = [
        {"problem": "cnn.network_table"},
        {"problem": "rnn.gru_step"},
        {"problem": "concept.short_answer"},
    ]
    exam = _exam(client, ta, items, lang=lang)
    code = exam["variants"][0]["code"]
    pdf = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta).content
    pages = _pages(pdf, tmp_path)
    n = len(pages)
    assert n >= 2
    for k, text in enumerate(pages, 1):
        flat = " ".join(text.split())
        assert f"{code} · {page.format(k=k, n=n)}" in flat, (k, flat[-200:])
    # The network table starts on page 1 (it was pushed to page 2, leaving page 1 blank).
    assert "Conv2d" in pages[0] or "Linear" in pages[0]


@needs_pdf
def test_a_bundle_numbers_the_pages_of_each_variant_from_one(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    items = [
        {"problem": "backprop.mlp_regression"},
        {"problem": "rnn.gru_step"},
        {"problem": "cnn.network_table"},
    ]
    exam = _exam(client, ta, items, variants=3, lang="both")
    codes = [v["code"] for v in exam["variants"]]
    bundle = _pages(client.get(f"/api/v1/exams/{exam['id']}/bundle.pdf", headers=ta).content, tmp_path)
    found = []
    for text in bundle:
        flat = " ".join(text.split())
        marks = re.findall(r"(\w{4}) · 第 (\d+) 页", flat)
        assert len(marks) == 1, flat[-200:]  # every page: its variant and its page, no "of n"
        found.append((marks[0][0], int(marks[0][1])))
    for code in codes:
        numbers = [k for c, k in found if c == code]
        # Each variant's pages, numbered from 1, as many as the variant's own paper has: the
        # bundle is not shrunk to fit a wide formula of one variant.
        own = _pages(
            client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta).content, tmp_path
        )
        assert numbers == list(range(1, len(own) + 1)), (code, numbers, len(own))
        assert f"{code} · 第 {len(own)} 页 / 共 {len(own)} 页" in " ".join(own[-1].split())
    assert [c for c, _ in found] == sorted((c for c, _ in found), key=codes.index)
    key = _pages(client.get(f"/api/v1/exams/{exam['id']}/answer-key.pdf", headers=ta).content, tmp_path)
    assert all(re.search(r"\w{4} · 第 \d+ 页", " ".join(t.split())) for t in key)


def test_the_title_in_the_page_margin_cannot_leave_its_css_string(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    title = 'x"; } </style><script>alert(1)</script> \\'
    body = {"title": title, "items": [{"problem": "loss.uniform_prediction"}], "variants": 1, "lang": "en"}
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    css = html.split("<style>")[1].split("</style>")[0]
    assert "<" not in css and "alert" in css  # the title is there, escaped
    assert re.search(r'@top-left \{ content: "x\\22 \\3b  \\7d  \\3c \\2f style', css)
