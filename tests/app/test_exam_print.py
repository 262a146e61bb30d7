"""The printed paper as an instructor found it: answer space sized by the answer, page margins that
name the variant and the page, questions that break between pages rather than leave one blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from app.rendering import display_pieces, render
from app.services import exam_render

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


# Every kind of box: a matrix, a short answer, numbers and shapes, vectors.
BOXED = [
    {"problem": "loss.softmax_cross_entropy"},
    {"problem": "concept.short_answer"},
    {"problem": "cnn.network_table"},
    {"problem": "backprop.mlp_regression"},
]


def test_answer_boxes_are_sized_by_the_answer(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """Every box was one line high: a 4x3 matrix, a short-answer text and a number alike."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, BOXED)
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


def _page_count(pdf: bytes, tmp_path) -> int:  # type: ignore[no-untyped-def]
    src = tmp_path / "n.pdf"
    src.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(src)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


BLANK = "此页空白 This page is intentionally left blank"


def _marks(pages: list[str]) -> list[tuple[str, int] | None]:
    """Each page's (variant code, page number) from its margin; None for a blank page put in."""
    found: list[tuple[str, int] | None] = []
    for text in pages:
        flat = " ".join(text.split())
        marks = re.findall(r"(\w{4}) · 第 (\d+) 页", flat)
        if not marks:
            assert flat == BLANK, flat[-200:]
            found.append(None)
            continue
        assert len(marks) == 1, flat[-200:]  # every page: its variant and its page, no "of n"
        found.append((marks[0][0], int(marks[0][1])))
    return found


def _check_double_sided(found: list[tuple[str, int] | None], codes: list[str]) -> None:
    """Every variant starts on an odd page of the bundle; a blank page only where one was needed
    (on an even page, before a variant's first page), and the variants in order."""
    starts = [i for i, m in enumerate(found, 1) if m is not None and m[1] == 1]
    assert [found[i - 1][0] for i in starts] == codes  # type: ignore[index]
    assert all(i % 2 == 1 for i in starts), starts
    for i, m in enumerate(found, 1):
        if m is None:
            assert i % 2 == 0 and found[i] is not None and found[i][1] == 1, (i, found)  # type: ignore[index]
            assert found[i - 2] is not None  # one blank at most


@needs_pdf
def test_a_bundle_numbers_the_pages_of_each_variant_from_one(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each variant's pages numbered from 1; printed double-sided, each starts on a right-hand page:
    16 of 30 variants began on the back of the previous student's last page."""
    ta = accounts["ta"].headers
    items = [
        {"problem": "backprop.mlp_regression"},
        {"problem": "rnn.gru_step"},
        {"problem": "cnn.network_table"},
    ]
    exam = _exam(client, ta, items, variants=3, lang="both")
    codes = [v["code"] for v in exam["variants"]]
    pdf = client.get(f"/api/v1/exams/{exam['id']}/bundle.pdf", headers=ta).content
    bundle = _pages(pdf, tmp_path)
    assert len(bundle) == _page_count(pdf, tmp_path)
    found = _marks(bundle)
    own_pages = []
    for code in codes:
        numbers = [m[1] for m in found if m is not None and m[0] == code]
        # Each variant's pages, numbered from 1, as many as the variant's own paper has: the
        # bundle is not shrunk to fit a wide formula of one variant.
        own = _pages(
            client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta).content, tmp_path
        )
        own_pages.append(len(own))
        assert numbers == list(range(1, len(own) + 1)), (code, numbers, len(own))
        assert f"{code} · 第 {len(own)} 页 / 共 {len(own)} 页" in " ".join(own[-1].split())
    _check_double_sided(found, codes)
    # As many blank pages as odd-length variants before the last: the count from the variants' own PDFs.
    assert found.count(None) == sum(n % 2 for n in own_pages[:-1])
    key_pdf = client.get(f"/api/v1/exams/{exam['id']}/answer-key.pdf", headers=ta).content
    _check_double_sided(_marks(_pages(key_pdf, tmp_path)), codes)


@needs_pdf
def test_a_bundle_with_variants_of_odd_length_gets_blank_pages(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One short question: each variant is one page, so every other page of the bundle is blank and
    every variant starts on pages 1, 3, 5 ... (the case of the instructor's 13-page variants)."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, [{"problem": "loss.uniform_prediction"}], variants=4, lang="both")
    codes = [v["code"] for v in exam["variants"]]
    pdf = client.get(f"/api/v1/exams/{exam['id']}/bundle.pdf", headers=ta).content
    found = _marks(_pages(pdf, tmp_path))
    assert _page_count(pdf, tmp_path) == 7 and found.count(None) == 3
    _check_double_sided(found, codes)
    # A part of the bundle is a bundle of its own: it starts on page 1, each variant on an odd page.
    part = client.get(f"/api/v1/exams/{exam['id']}/bundle.pdf?variants=2-3", headers=ta)
    assert (
        part.status_code == 200
        and 'filename="' + exam["id"] + '-all-2-3.pdf"' in part.headers["content-disposition"]
    )
    _check_double_sided(_marks(_pages(part.content, tmp_path)), codes[1:3])


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


# --- the LaTeX paper: the same boxes, working space and page marks as the HTML one -------------

HTML_Q = re.compile(r'<div class="q">(.*?)<div class="boxes">(.*?)\n    </div>\n  </div>', re.S)
HTML_WORK = re.compile(r'class="work" style="height: (\d+)mm"')
HTML_SPACE = re.compile(
    r'class="box (\w+)" data-type="\w+" data-lines="(\d+)">.*?class="space" style="height: ([\d.]+)mm"', re.S
)
TEX_ROW = re.compile(r"^\\par\\noindent (\\answerbox.*)\\par\\vspace\{1\.5mm\}$", re.M)
TEX_SPACE = re.compile(
    r"\\answerbox\{([\d.]+)\}\{[^\n]*?\}\{(?:\\rule\{0pt\}\{([\d.]+)mm\}|\{\\setlength\{\\baselineskip\}\{7mm\}((?:\\hrulefill\\par)+)\})\}"
)


def _html_questions(html: str) -> list[tuple[int, list[tuple[str, float]]]]:
    """Each question's working space (mm, 0 for none) and boxes as (kind, lines or height in mm)."""
    out = []
    for head, boxes in HTML_Q.findall(html):
        work = HTML_WORK.search(head)
        spaces = [
            (kind, float(lines) if kind == "text" else float(height))
            for kind, lines, height in HTML_SPACE.findall(boxes)
        ]
        out.append((int(work.group(1)) if work else 0, spaces))
    return out


def _tex_questions(tex: str) -> list[tuple[int, list[tuple[str, float]]]]:
    """The same read from the LaTeX paper: kinds as the HTML calls them, short by their width."""
    out = []
    for q in re.split(r"^\\item \(", tex, flags=re.M)[1:]:
        work = re.search(r"\\workspace\{[^}]*\}\{(\d+)mm\}", q)
        spaces = []
        for row in TEX_ROW.findall(q):
            cells = TEX_SPACE.findall(row)
            assert len(cells) == row.count("\\answerbox") and len(cells) in (1, 2), row
            assert len(cells) == 1 or all(w == "0.49" for w, _, _ in cells), row  # two to a row: short ones
            for width, height, rules in cells:
                kind = "short" if width == "0.49" else ("text" if rules else "wide")
                spaces.append((kind, float(rules.count("\\hrulefill") if rules else height)))
        out.append((int(work.group(1)) if work else 0, spaces))
    return out


def test_the_latex_paper_has_the_html_papers_boxes(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The .tex had a 10 mm box for every answer (40 mm for text) and no working space: it now
    prints what answer_box and working_mm chose for the HTML paper, question by question."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, BOXED)
    url = f"/api/v1/exams/{exam['id']}/variants/{exam['variants'][0]['code']}"
    html = _html_questions(client.get(url + ".html", headers=ta).text)
    tex = _tex_questions(client.get(url + ".tex", headers=ta).text)
    assert len(html) == len(tex) == 4
    wide = {"line", "matrix"}  # one full-width box in TeX, told apart by height only
    for (h_work, h_boxes), (t_work, t_boxes) in zip(html, tex, strict=True):
        assert t_work == h_work
        assert [("wide" if k in wide else k, size) for k, size in h_boxes] == t_boxes
    kinds = {k for _, boxes in tex for k, _ in boxes}
    heights = {size for _, boxes in tex for k, size in boxes if k == "wide"}
    assert kinds == {"short", "text", "wide"} and len(heights) >= 2, (kinds, heights)  # a matrix is taller
    assert any(work for work, _ in tex) and not all(work for work, _ in tex)  # none for a short answer


def _balanced(tex: str) -> bool:
    """Braces and environments close in order (what a TeX engine would check first)."""
    stack: list[str] = []
    for tok in re.findall(r"\\(?:begin|end)\{\w+\*?\}|\\[a-zA-Z@]+|\\.|[{}]", tex):
        if tok in ("{",) or tok.startswith("\\begin{"):
            stack.append("{" if tok == "{" else tok[7:])
        elif tok == "}" or tok.startswith("\\end{"):
            if not stack or stack.pop() != ("{" if tok == "}" else tok[5:]):
                return False
    return not stack


@pytest.mark.parametrize(
    ("lang", "page"),
    [
        ("zh", r"第 \thepage{} 页 / 共 \pageref{end-\papercode} 页"),
        ("en", r"page \thepage{} of \pageref{end-\papercode}"),
        ("both", r"第 \thepage{} 页 / 共 \pageref{end-\papercode} 页"),
    ],
)
def test_every_latex_page_names_its_variant_and_page_k_of_n(client, accounts, lang, page) -> None:  # type: ignore[no-untyped-def]
    """The .tex footer had no page number and no code: now, as on the PDF, the code and page k of n
    on every page, numbered from 1 in each variant; n is the page of the variant's end label, so a
    bundle's pages say "of n" too (two runs of xelatex)."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, [{"problem": "rnn.gru_step"}, {"problem": "concept.short_answer"}], 3, lang)
    codes = [v["code"] for v in exam["variants"]]
    tex = client.get(f"/api/v1/exams/{exam['id']}/bundle.tex", headers=ta).text
    preamble, body = tex.split("\\begin{document}")
    assert "fancyhdr" in re.search(r"\\usepackage\{([^}]*)\}", preamble).group(1)
    assert "\\pagestyle{fancy}" in preamble
    assert "\\fancyfoot[R]{\\footnotesize\\texttt{\\papercode} $\\cdot$ " + page + "}" in preamble
    assert "\\fancyhead[R]{\\textbf{\\texttt{\\papercode}}}" in preamble
    starts = [body.index(f"\\renewcommand{{\\papercode}}{{{c}}}\\setcounter{{page}}{{1}}") for c in codes]
    ends = [body.index(f"\\label{{end-{c}}}") for c in codes]
    # Each variant: its code and page 1, its questions, its end label, then a new page.
    assert starts[0] < ends[0] < starts[1] < ends[1] < starts[2] < ends[2]
    for c, end in zip(codes, ends, strict=True):
        assert body.count(f"end-{c}") == 1 and body[end:].startswith(f"\\label{{end-{c}}}}}\n\\clearpage")
    assert _balanced(tex), tex
    assert not _balanced("\\begin{center}{x\\end{center}}") and _balanced("\\{ \\\\{x}")


def test_a_title_of_several_lines_is_one_line_in_the_latex_paper(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The API takes a title with a blank line in it: inside \\fancyhead's argument that ends a
    paragraph, and xelatex stops there. The .tex has it on one line, its TeX characters escaped."""
    ta = accounts["ta"].headers
    body = {"title": "期中\n\n模拟 50%_#", "items": [{"problem": "loss.uniform_prediction"}], "lang": "zh"}
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    tex = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.tex", headers=ta).text
    title = r"期中 模拟 50\%\_\#"
    assert "\\fancyhead[L]{\\footnotesize " + title + "}\n" in tex
    assert tex.count(title) == 3  # the header, the paper's head and its end line


# --- the instructor's printed midterm: points, labels, page 1, space, breaks, borders ---------------


def _custom(zh: str, en: str, points: float = 10, answer_type: str = "real", reference: str = "1") -> dict:  # type: ignore[type-arg]
    params = {"answer_type": answer_type, "reference": reference, "statement": {"zh": zh, "en": en}}
    return {"problem": "custom.answer", "params": params, "points": points}


@pytest.mark.parametrize(
    ("points", "text"), [(15.0, "15"), (2.5, "2.5"), (0.1 + 0.2, "0.3"), (1 / 3, "0.33"), (120, "120")]
)
def test_points_print_whole_without_a_decimal_point(points: float, text: str) -> None:
    assert exam_render.points_text(points) == text


def test_points_are_printed_alike_in_html_tex_and_the_key(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """ "(15.0 分)" in the HTML and PDF, "(15 分)" in the .tex: whole points print whole everywhere."""
    ta = accounts["ta"].headers
    items = [{"problem": "loss.uniform_prediction", "points": 15}, {"problem": "cnn.conv2d", "points": 2.5}]
    exam = _exam(client, ta, items)
    url = f"/api/v1/exams/{exam['id']}"
    code = exam["variants"][0]["code"]
    html = client.get(f"{url}/variants/{code}.html", headers=ta).text
    tex = client.get(f"{url}/variants/{code}.tex", headers=ta).text
    key = client.get(f"{url}/answer-key.html", headers=ta).text
    assert re.findall(r'<span class="pts">\(([\d.]+) 分\)</span>', html) == ["15", "2.5"]
    assert re.findall(r"^\\item \(([\d.]+) 分\)", tex, re.M) == ["15", "2.5"]
    assert re.findall(r"</code> \(([\d.]+) 分\)", key) == ["15", "2.5"]
    for text in (html, tex, key):
        assert "15.0" not in text and "2.50" not in text


def test_a_bilingual_label_is_said_once_when_both_languages_say_the_same(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """ "∂ℒ/∂d / ∂ℒ/∂d" read as a ratio: the same label once; two different ones each on its line."""
    ta = accounts["ta"].headers
    exam = _exam(client, ta, [{"problem": "backprop.mlp_regression"}], lang="both")
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    labels = re.findall(
        r'<div class="box [^>]*>\s*<span class="lbl">(.*?)</span>\s*<div class="space"', html, re.S
    )
    parts = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=ta).json()
    assert len(labels) == len(parts["questions"][0]["parts"]) >= 5
    same = [lbl for lbl in labels if '<span class="en">' not in lbl]
    assert len(same) == 1 and same[0].count("<math") == 1  # ∂ℒ/∂d, once
    for lbl in labels:
        assert " / " not in re.sub(r"<math.*?</math>", "M", lbl, flags=re.S)
        assert lbl.count('<span class="en">') <= 1
    tex = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.tex", headers=ta).text
    body = tex.split("\\begin{document}")[1]
    tex_labels = re.findall(r"\\answerbox\{[\d.]+\}\{(.*?)\}\{(?:\\rule|\{\\setlength)", body)
    assert len(tex_labels) == len(labels)
    assert [lbl.count("\\\\ ") for lbl in tex_labels] == [0 if lbl in same else 1 for lbl in labels]
    assert not any(" / " in re.sub(r"\$[^$]*\$", "M", lbl) for lbl in tex_labels)


def _dark_runs(pdf: bytes, tmp_path, page: int, y_pt: float) -> list[tuple[float, int]]:  # type: ignore[no-untyped-def]
    """Along one row of a page at 600 dpi (y in points from the top): each dark run's start (mm)
    and width (pixels): a vertical border is a run."""
    src = tmp_path / "r.pdf"
    src.write_bytes(pdf)
    y = round(y_pt / 72 * 600)
    out = tmp_path / "row"
    subprocess.run(
        ["pdftoppm", "-r", "600", "-gray", "-f", str(page), "-l", str(page), "-y", str(y), "-H", "1",
         "-x", "0", "-W", "4961", str(src), str(out)],
        check=True,
    )  # fmt: skip
    data = next(tmp_path.glob("row*.pgm")).read_bytes()
    _magic, size, _maxval, pixels = data.split(b"\n", 3)  # binary PGM: P5, "W H", 255, then the row
    width = int(size.split()[0])
    runs, start = [], None
    for i, v in enumerate(pixels[:width]):
        if v < 128 and start is None:
            start = i
        elif v >= 128 and start is not None:
            runs.append((start / 600 * 25.4, i - start))
            start = None
    for f in tmp_path.glob("row*.pgm"):
        f.unlink()
    return runs


def _word_boxes(pdf: bytes, tmp_path, page: int) -> list[tuple[str, float, float, float, float]]:  # type: ignore[no-untyped-def]
    """pdftotext's words on a page with their boxes (points): (word, xmin, ymin, xmax, ymax)."""
    src = tmp_path / "w.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(src), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [
        (w, float(a), float(b), float(c), float(d))
        for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out
        )
    ]


@needs_pdf
def test_a_box_on_the_right_margin_keeps_its_whole_border(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """At 300 dpi the right border of a right-hand answer box was cut by half at the margin: measured
    at 600 dpi, each box's right border is as thick as its left one (it was 3 pixels against 6)."""
    ta = accounts["ta"].headers
    items = [{"problem": "cnn.network_table"}, {"problem": "concept.short_answer"}]
    exam = _exam(client, ta, items, lang="en")
    code = exam["variants"][0]["code"]
    pdf = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta).content
    checked = 0
    for page in range(1, _page_count(pdf, tmp_path) + 1):
        words = _word_boxes(pdf, tmp_path, page)
        # A short box's label at the right ("trainable parameters of layer 1"), a full-width box's
        # ("your answer"), and the score table's row on page 1 ("Score").
        rows = [
            (b + d) / 2
            for w, a, b, c, d in words
            if (w == "trainable" and 290 < a < 330) or (w in ("your", "Score") and a < 70)
        ]
        for y in rows[:3]:
            runs = _dark_runs(pdf, tmp_path, page, y)
            borders = [r for r in runs if r[1] <= 12]  # rules, not letters
            left, right = borders[0], borders[-1]
            assert right[0] > 190 and left[0] < 20, runs  # the box spans to the right margin
            assert right[1] >= left[1] - 1, (page, y, left, right)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "zh",
            ["本试卷共 3 题，满分 27.5 分。", "考试时间 100 分钟。", "开放时间 2027-01-10 14:00 (UTC+8)。"],
        ),
        (
            "en",
            [
                "3 questions, 27.5 points in all.",
                "Time allowed: 100 minutes.",
                "Due 2027-01-10 16:00 (UTC+8).",
            ],
        ),
        (
            "both",
            ["本试卷共 3 题，满分 27.5 分。", "3 questions, 27.5 points in all.", "考试时间 100 分钟。"],
        ),
    ],
)
def test_page_one_says_the_points_the_time_and_has_a_score_table(client, accounts, lang, said) -> None:  # type: ignore[no-untyped-def]
    """Page 1 had the code and name boxes only: now the total points, the time allowed, the opening
    and due times (on the course's clock, UTC+8 here), the instructions and a score table for markers
    (a cell per question and the total), in the paper's language."""
    ta = accounts["ta"].headers
    body = {
        "title": "期中模拟",
        "items": [
            {"problem": "loss.uniform_prediction", "points": 15},
            {"problem": "cnn.conv2d", "points": 2.5},
            {"problem": "concept.short_answer", "points": 10},
        ],
        "lang": lang,
        "time_limit_minutes": 100,
        "opens_at": "2027-01-10T06:00:00Z",
        "due_at": "2027-01-10T16:00:00+08:00",
    }
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    cover = html.split('<div class="cover">')[1].split('<div class="q">')[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", cover).split())
    for line in said:
        assert line in text, (line, text)
    # The score table: a column per question and the total, its points those of the variant's map.
    questions = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=ta).json()["questions"]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", cover.split('<table class="scores">')[1], re.S)
    cells = [re.findall(r"<t[hd]>(.*?)</t[hd]>", row) for row in rows]
    assert cells[0][1:] == [str(q["number"]) for q in questions] + [cells[0][-1]]
    assert cells[0][-1] in ("总分", "Total", "总分 Total")
    assert cells[1][1:] == [exam_render.points_text(q["points"]) for q in questions] + ["27.5"]
    assert cells[2][1:] == [""] * (len(questions) + 1)  # for the marker
    tex = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.tex", headers=ta).text
    first_page = tex.split("\\begin{enumerate}")[0]
    assert all(latex_line.replace("_", "\\_") in first_page for latex_line in said[:2])
    assert re.search(r"& 15 & 2\.5 & 10 & 27\.5 \\\\ \\hline", first_page)


def test_a_short_answer_is_given_a_line_per_point(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """A 10-point short answer had 6 lines (42 mm); the course's 简答题 are worth 10 to 15 points
    and answered in a paragraph: a ruled line per point, 6 at least, 24 at most (a page)."""
    ta = accounts["ta"].headers
    items = [{"problem": "concept.short_answer", "points": p} for p in (1, 10, 15, 40)]
    exam = _exam(
        client,
        ta,
        [
            *items[:2],
            {"tag": "rnn", "count": 1, "concepts": True, "auto_only": False, "points": 15},
            items[3],
        ],
    )
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/variants/{code}"
    html = client.get(url + ".html", headers=ta).text
    boxes = re.findall(
        r'data-type="text" data-lines="(\d+)">.*?style="height: ([\d.]+)mm">(.*?)</div>\s*</div>', html, re.S
    )
    types = [
        p["answer_type"]
        for q in client.get(url + ".json", headers=ta).json()["questions"]
        for p in q["parts"]
    ]
    if types.count("text") == 4:
        assert [int(n) for n, _, _ in boxes] == [6, 10, 15, 24]
    else:  # the rnn concept item drawn is a choice: the other three
        assert [int(n) for n, _, _ in boxes] == [6, 10, 24]
    for n, height, rules in boxes:
        assert float(height) == 7 * int(n) and rules.count('class="rule"') == int(n)
    tex = client.get(url + ".tex", headers=ta).text
    assert [
        r.count("\\hrulefill") for r in re.findall(r"\\baselineskip\}\{7mm\}((?:\\hrulefill\\par)+)", tex)
    ] == [int(n) for n, _, _ in boxes]


@needs_pdf
def test_a_question_heading_stays_with_its_table(client, accounts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A heading and the first line were left at the foot of a page, the table or the matrices on
    the next. Questions of a lead line and a table, each after a filler of a different length, so
    that some fall at the foot of a page: each lead line is on the page of its table's first row."""
    ta = accounts["ta"].headers
    items = []
    for i in range(14):
        filler = "\n\n".join(
            f"说明第 {k} 段：本段用于占位，使下一题落在页面的不同位置。" for k in range(i % 7)
        )
        table = "\n".join(["| 列 A | 列 B |", "| --- | --- |", *[f"| ROW{i}x{r} | {r} |" for r in range(8)]])
        items.append(
            _custom(f"LEAD{i} 下表给出数据：\n\n{table}\n\n{filler}\n\n求 A 列之和。", f"LEAD{i}", 5)
        )
    exam = _exam(client, ta, items, lang="zh")
    code = exam["variants"][0]["code"]
    pages = _pages(
        client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.pdf", headers=ta).content, tmp_path
    )
    assert len(pages) >= 4

    def page_of(word: str) -> int:
        return next(k for k, text in enumerate(pages) if word in text)

    for i in range(14):
        assert page_of(f"LEAD{i}") == page_of(f"ROW{i}x0"), i
        heading = f"{i + 1}. (5 分)"
        assert heading in pages[page_of(f"LEAD{i}")], (i, heading)


def test_the_key_starts_each_variant_with_a_grid_of_every_answer(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """TAs marking by hand: each variant's key starts with a grid of question, part and answer,
    the answers those of the instances' own solutions; a short answer's key points numbered once."""
    ta = accounts["ta"].headers
    items = [
        {"problem": "backprop.mlp_regression"},
        {"problem": "concept.short_answer"},
        {"problem": "cnn.conv2d"},
    ]
    exam = _exam(client, ta, items, variants=2)
    key = client.get(f"/api/v1/exams/{exam['id']}/answer-key.html", headers=ta).text
    import html as htmllib

    sections = re.findall(r'<section class="variant" data-code="(\w+)">(.*?)</section>', key, re.S)
    assert [c for c, _ in sections] == [v["code"] for v in exam["variants"]]
    for code, body in sections:
        grid, rest = body.split("</table>", 1)
        assert '<table class="grid"' in grid and '<div class="q"' not in grid  # first, before the questions
        rows = re.findall(
            r'<tr data-number="(\d+)" data-part="([^"]+)">.*?<td class="ans">(.*?)</td>', grid, re.S
        )
        expected = []
        for q in client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=ta).json()[
            "questions"
        ]:
            answers = client.get(f"/api/v1/instances/{q['instance_id']}/solution", headers=ta).json()[
                "answers"
            ]
            for p in q["parts"]:
                shown = exam_render.key_answer(answers[p["name"]]) if p["name"] in answers else "（人工评分）"
                expected.append((str(q["number"]), p["name"], shown))
        assert [(n, p, htmllib.unescape(a)) for n, p, a in rows] == expected
        # "1. 参考要点 2. 1. 原因": a step that is a list item is not numbered again by the key.
        assert "参考要点" in rest and not re.search(r"<li>\s*<p>\s*<strong>参考要点", rest)
        assert not re.search(r"<li>\s*<ol", rest)


def test_a_bilingual_statement_prints_its_formulas_and_tables_once(client, accounts) -> None:  # type: ignore[no-untyped-def]
    """The whole statement was printed in each language (13 pages a variant against 9): a formula or
    a table the same in both is printed once, each paragraph in Chinese with its English after it."""
    ta = accounts["ta"].headers
    mismatched = _custom("第一段。\n\n$$x = 1$$\n\n第三段。", "One paragraph, and $$x = 1$$ in it.")
    items = [{"problem": "rl.sarsa_update"}, {"problem": "rnn.gru_step"}, mismatched]
    exam = _exam(client, ta, items, lang="both")
    code = exam["variants"][0]["code"]
    html = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.html", headers=ta).text
    stmts = re.findall(
        r'<div class="stmt">(.*?)</div>\s*(?:<div class="work"|<div class="boxes")', html, re.S
    )
    assert len(stmts) == 3
    questions = client.get(f"/api/v1/exams/{exam['id']}/variants/{code}.json", headers=ta).json()["questions"]
    for stmt, q in zip(stmts, questions, strict=True):
        inst = client.get(f"/api/v1/instances/{q['instance_id']}", headers=ta).json()
        zh, en = inst["statement"]["zh"], inst["statement"]["en"]
        tables = len(re.findall(r"^\|[\s:|-]*-[\s:|-]*\|\s*$", zh, re.M))  # a table's rule row
        displays = len(re.findall(r"\$\$", zh)) // 2
        if q["problem"] == "custom.answer":  # the two do not pair block for block: each whole, as before
            assert stmt.count('<div class="en">') == 1 and stmt.count('class="math display') == 2
            assert stmt.index("第三段") < stmt.index('<div class="en">')
            continue
        assert stmt.count("<table>") == tables >= (1 if q["problem"] == "rl.sarsa_update" else 0)
        assert stmt.count('class="math display') == displays >= 1
        assert en.count("\n\n") < stmt.count('<div class="en">') * 3 + 3  # the English is all there
        for sentence in re.findall(r"[A-Z][a-z]+ [a-z]+ [a-z]+", re.sub(r"\$[^$]*\$", "", en))[:5]:
            assert sentence in stmt


def test_page_one_of_one_question_worth_one_point_says_the_singular() -> None:
    """Page 1 said "1 questions, 1 points in all." and "Time allowed: 1 minutes." for a count of 1."""
    from app.models import Exam

    exam = Exam(time_limit_minutes=1, opens_at=None, due_at=None)
    assert exam_render.cover(exam, [1.0], "en")["facts"] == [
        ["1 question, 1 point in all.", "Time allowed: 1 minute."]
    ]
    exam = Exam(time_limit_minutes=2, opens_at=None, due_at=None)
    assert exam_render.cover(exam, [1.0, 1.5], "en")["facts"] == [
        ["2 questions, 2.5 points in all.", "Time allowed: 2 minutes."]
    ]
