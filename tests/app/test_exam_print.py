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
