"""An exam's variants as print-ready HTML, PDF (Chromium) and ctex LaTeX; the answer key likewise."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.models import Exam, ExamVariant
from app.rendering import MARKDOWN, render, render_inline
from app.services import exams, latex, pdf
from app.services.errors import Invalid
from grader.feedback import plural
from problems.base import Instance, Part

_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
_env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
_env.filters["md"] = render
_env.filters["md_inline"] = render_inline


def css_string(text: str, quote: str = '"') -> Markup:
    """A quoted CSS string for a page-margin `content` (the exam's title): anything but letters,
    digits and spaces as a CSS escape, so no quote, backslash or `</style>` gets through."""
    out = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in str(text))
    return Markup(f"{quote}{out}{quote}")


_env.filters["css_string"] = css_string

# --- the answer key as a TA reads it ----------------------------------------------------

KEY_FIGURES = 6  # significant figures a printed key shows; the grader keeps the stored reference
# A decimal number (with a point or an exponent) standing alone: not the 2 of log2 or v2, not an integer.
_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)(?![\w.])")


def _short_number(text: str, figures: int = KEY_FIGURES) -> str:
    """A decimal rounded to `figures` significant figures, without trailing zeros or float noise;
    the integer digits of a large number are all kept (123456789.5 -> 123456790, never 1.23e+08)."""
    x = float(text)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else text
    exponent = math.floor(math.log10(abs(x)))
    if exponent < -4:  # 0.0000123456 reads better as 1.23456e-5
        mantissa, exp = f"{x:.{figures - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exp)}"
    out = f"{x:.{max(0, figures - 1 - exponent)}f}"
    return out.rstrip("0").rstrip(".") if "." in out else out


def key_answer(reference: str) -> str:
    """A reference answer as the printed key shows it: decimals rounded to KEY_FIGURES significant
    figures; exact forms (integers, fractions, log(10), expressions) as they are; a matrix one row
    a line. Display only: the stored reference, which grading uses, is not touched."""
    out = _DECIMAL.sub(lambda m: _short_number(m.group(1)), reference)
    if out.startswith("[[") and out.endswith("]]"):
        out = out.replace("], [", "],\n [")
    return out


_env.filters["key_answer"] = key_answer

_LIST_ITEM = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*+])\s")


def numbered_steps(steps: list[str]) -> bool:
    """Whether the key numbers a solution's steps (1, 2, 3 ...): not where a step is itself an item
    of a list (a short answer's "1. key point", "- 2 points: rubric"), which markdown numbers or
    bullets already ("1. 参考要点 2. 1. 原因" was the two numberings on top of each other)."""
    return not any(_LIST_ITEM.match(step) for step in steps)


_env.globals["numbered_steps"] = numbered_steps

# --- a bilingual statement, compact: what reads the same in both languages printed once --------


def _blocks(text: str) -> list[tuple[str, str]]:
    """A statement's top-level blocks as (kind, source): "table", "display" (a paragraph of
    $$...$$ alone) or "text" (a paragraph, a list, anything else)."""
    lines = text.split("\n")
    out = []
    for t in MARKDOWN.parse(text):  # the parser statements are rendered with
        if t.level == 0 and t.map is not None and t.nesting in (0, 1):
            source = "\n".join(lines[t.map[0] : t.map[1]]).strip()
            display = source.startswith("$$") and source.endswith("$$") and len(source) > 4
            out.append(("table" if t.type == "table_open" else "display" if display else "text", source))
    return out


def bilingual(statement: dict[str, str]) -> list[tuple[str, str | None]]:
    """A bilingual paper's statement as (Chinese, English or None) blocks in order: a formula or a
    table the same in both once (None), a paragraph in Chinese with its English after it. The
    statement printed whole in each language was 13 pages a variant against 9 for Chinese alone.
    When the two do not match block for block (a count or a kind differs) the whole Chinese, then
    the whole English, as before: never a paragraph beside another's translation."""
    zh, en = _blocks(statement["zh"]), _blocks(statement["en"])
    if len(zh) != len(en) or any(a[0] != b[0] for a, b in zip(zh, en, strict=False)):
        return [(statement["zh"], statement["en"])]
    return [(a, None if a == b else b) for (_, a), (_, b) in zip(zh, en, strict=True)]


_env.globals["bilingual"] = bilingual


def points_text(points: float) -> str:
    """Points as a paper prints them: whole points without ".0" (15, not 15.0), a fraction as it is
    (2.5), never float noise (0.1 + 0.2 prints 0.3); the same in HTML, PDF and LaTeX."""
    if float(points).is_integer():
        return str(int(points))
    return f"{points:.2f}".rstrip("0").rstrip(".")


_env.filters["points"] = points_text


def part_labels(part: Part, lang: str) -> list[str]:
    """A part's label in the paper's language; a bilingual paper's English under its Chinese (a line
    of its own: "∂ℒ/∂d / ∂ℒ/∂d" read as a ratio), and once where the two are the same."""
    if lang == "en":
        return [part.label["en"]]
    zh, en = part.label["zh"], part.label["en"]
    return [zh, en] if lang == "both" and en.strip() != zh.strip() else [zh]


_env.globals["part_labels"] = part_labels

# --- answer space on the paper ----------------------------------------------------------

LINE_MM = 7.0  # one handwritten line
# A short-answer (text) part: a ruled line per point of the question, at least TEXT_LINES and at
# most TEXT_MAX_LINES (a box never leaves its page). The course's short answers (简答题) are worth
# 10 or 15 points and are answered in a paragraph or a few points: 170 to 260 characters in the
# seeds' homework answers, about 25 handwritten characters to a 180 mm line, so 10 lines for 10
# points (6 lines held half of it); a question worth 1 point (the default) keeps its 6 lines.
TEXT_LINES = 6
TEXT_LINES_PER_POINT = 1.0
TEXT_MAX_LINES = 24
MAX_LINES = 14  # however large a reference array, a box stays within half a page
# Room to work a question out, by the family's difficulty (1..3); none where every part is text
# or a choice (the text box is the room). Kept modest: the paper must stay a sane length.
WORKING_MM = {1: 15, 2: 25, 3: 40}
_SHORT = {"integer", "real", "shape", "choice"}


@dataclass(frozen=True)
class AnswerBox:
    """One part's box: `kind` is its width (short: half the line), `lines` the handwritten lines."""

    kind: str  # "short" | "line" | "matrix" | "text"
    lines: int

    @property
    def height_mm(self) -> float:
        return self.lines * LINE_MM + (2 if self.kind == "matrix" else 0)  # room for the brackets


def _array_dims(text: str) -> list[int]:
    """The brackets opened at each depth of a reference array: [[1, 2], [3, 4]] -> [1, 2]."""
    counts: list[int] = []
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
            counts += [0] * (depth - len(counts))
            counts[depth - 1] += 1
        elif ch == "]":
            depth -= 1
    return counts


def matrix_lines(reference: str | None) -> int:
    """Handwritten lines a matrix answer needs: its rows, or for k matrices (a 3-d array) their
    rows with up to three small matrices side by side; 3 when the shape is unknown."""
    dims = _array_dims(reference or "")
    if len(dims) < 2:
        return 3
    if len(dims) == 2:
        return max(1, dims[1])
    k, rows = dims[1], max(1, dims[2] // max(dims[1], 1))
    columns = (reference or "").count(",") + 1
    columns //= max(dims[2], 1)  # entries over rows
    side_by_side = 3 if rows <= 4 and columns <= 4 else 1
    return -(-k // side_by_side) * rows


def text_lines(points: float | None) -> int:
    """Ruled lines for a short answer worth `points` (see TEXT_LINES)."""
    lines = math.ceil((points or 0) * TEXT_LINES_PER_POINT - 1e-9)
    return min(TEXT_MAX_LINES, max(TEXT_LINES, lines))


def answer_box(part: Part, reference: str | None, points: float | None = None) -> AnswerBox:
    """The box a part gets, by its answer type and the reference's shape; a short answer's by the
    question's points, shared among its text parts."""
    t = part.answer_type
    if t == "text":
        return AnswerBox("text", text_lines(points))
    if t == "matrix":
        rows = matrix_lines(reference)
        return AnswerBox("line", 1) if rows == 1 else AnswerBox("matrix", min(rows, MAX_LINES))
    if t in _SHORT:
        return AnswerBox("short", 1)
    # a vector or an expression: a whole line; a long expression two
    return AnswerBox("line", 2 if t == "expression" and len(reference or "") > 60 else 1)


def working_mm(inst: Instance) -> int:
    """Room to work the question out (see WORKING_MM)."""
    if all(p.answer_type in ("text", "choice") for p in inst.parts):
        return 0
    return WORKING_MM.get(inst.family.difficulty, WORKING_MM[2])


def question_boxes(inst: Instance, points: float) -> list[tuple[Part, AnswerBox]]:
    """Each part of a question with its box; text parts share the question's points."""
    texts = sum(p.answer_type == "text" for p in inst.parts) or 1
    return [(p, answer_box(p, inst.answers.get(p.name), points / texts)) for p in inst.parts]


_env.globals["question_boxes"] = question_boxes
_env.globals["working_mm"] = working_mm

# --- page 1: what a paper says before its questions --------------------------------------

SCORE_COLUMNS = 15  # questions to a row of the score table (12 mm a cell on A4)

_COVER = {
    "zh": {
        "total": "本试卷共 {n} 题，满分 {total} 分。",
        "time": "考试时间 {minutes} 分钟。",
        "window": "开放时间 {opens}。",
        "due": "截止时间 {due}。",
        "rules": [
            "请在本页写上姓名和学号，并在每页下方写上姓名。",
            "答案写在各题的答题框内；计算题的主要步骤写在“解答过程”处。",
        ],
        "question": "题号",
        "points": "满分",
        "score": "得分",
        "sum": "总分",
        "blank": "此页空白",
    },
    "en": {
        "total": "{n} {questions}, {total} {points} in all.",
        "time": "Time allowed: {minutes} {minutes_word}.",
        "window": "Opens {opens}.",
        "due": "Due {due}.",
        "rules": [
            "Write your name and student ID on this page, and your name at the foot of every page.",
            "Write each answer in its box; for a computation, show the main steps under “Working”.",
        ],
        "question": "Question",
        "points": "Points",
        "score": "Score",
        "sum": "Total",
        "blank": "This page is intentionally left blank",
    },
}


def _clock(moment: datetime, offset_hours: float) -> str:
    """A time on the course's clock, as the pages show deadlines: `2027-01-01 08:00 (UTC+8)`."""
    zone = timezone(timedelta(hours=offset_hours))
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") + f" (UTC{offset_hours:+g})"


def _langs(lang: str) -> list[str]:
    """The languages a paper in `lang` ("zh", "en" or "both") prints, in the order it prints them."""
    return ["zh", "en"] if lang == "both" else ["en" if lang == "en" else "zh"]


def cover(exam: Exam, points: list[float], lang: str, utc_offset_hours: float = 8.0) -> dict[str, Any]:
    """Page 1's facts in the paper's language(s) (a bilingual paper: each line in Chinese, then in
    English): the number of questions and total points, the time allowed and the opening and due
    times where the exam has them, the instructions, and the score table's rows of questions."""
    langs = _langs(lang)
    values = {
        "n": len(points),
        "total": points_text(sum(points)),
        "minutes": exam.time_limit_minutes,
        # English words that agree with the counts (the Chinese lines do not use them).
        "questions": plural(len(points), "question", "questions"),
        "points": plural(sum(points), "point", "points"),
        "minutes_word": plural(exam.time_limit_minutes, "minute", "minutes"),
        "opens": _clock(exam.opens_at, utc_offset_hours) if exam.opens_at else "",
        "due": _clock(exam.due_at, utc_offset_hours) if exam.due_at else "",
    }
    facts = ["total"]
    facts += ["time"] if exam.time_limit_minutes else []
    facts += ["window"] if exam.opens_at else []
    facts += ["due"] if exam.due_at else []
    said = {
        k: " ".join(_COVER[lg][k] for lg in langs) for k in ("question", "points", "score", "sum", "blank")
    }
    numbered = list(enumerate(points, 1))
    return {
        "facts": [[_COVER[lg][f].format(**values) for f in facts] for lg in langs],
        "rules": [list(r) for r in zip(*(_COVER[lg]["rules"] for lg in langs), strict=True)],
        "rows": [numbered[i : i + SCORE_COLUMNS] for i in range(0, len(numbered), SCORE_COLUMNS)],
        "total": points_text(sum(points)),
        **said,
    }


def blank_page_html(lang: str) -> str:
    """The page a double-sided bundle puts before a variant that would start on a left-hand page."""
    langs = _langs(lang)
    words = "<br>".join(str(_COVER[lg]["blank"]) for lg in langs)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>@page { size: A4; margin: 0; }'
        " body { margin: 0; height: 297mm; display: flex; align-items: center; justify-content: center;"
        ' text-align: center; font: 11pt "Noto Sans CJK SC", sans-serif; color: #555; }</style></head>'
        f"<body><p>{words}</p></body></html>"
    )


# --- which variants: a whole bundle is too slow for one request when a class is large -----------

PART_SIZE = 50  # variants to a part of a large bundle: ~40 s of PDF here (docs/api.md)


def variant_range(exam: Exam, text: str | None) -> list[ExamVariant]:
    """The variants `text` names, as printed order numbers from 1: "N" or "N-M" (both ends
    included); None: all of them. Anything else, or numbers past the exam's, is a 422."""
    variants = list(exam.variants)
    if text is None:
        return variants
    n = len(variants)
    m = re.fullmatch(r"\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?", text)
    first, last = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, 0)
    if not m or not 1 <= first <= last <= n:
        raise Invalid(
            f"variants: a range of variant numbers from 1 to {n} such as 1-{min(n, PART_SIZE)} "
            f"(or one number); got {text!r}",
            field="variants",
            location="query",
        )
    return variants[first - 1 : last]


def parts(count: int, size: int = PART_SIZE) -> list[tuple[int, int]]:
    """A bundle of `count` variants cut into parts of about `size` (none larger), as even as can
    be: 120 -> 40 + 40 + 40, not 50 + 50 + 20. As (first, last) numbers from 1."""
    k = max(1, -(-count // size))
    bounds = [round(i * count / k) for i in range(k + 1)]
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(k) if bounds[i + 1] > bounds[i]]


def _bundle(
    session: Session, exam: Exam, variants: list[ExamVariant], lang: str, utc_offset_hours: float
) -> list[dict[str, Any]]:
    out = []
    for v in variants:
        questions = exams.variant_instances(session, v)
        page_one = cover(exam, [q.points for q, _ in questions], lang, utc_offset_hours)
        out.append({"code": v.code, "questions": questions, "cover": page_one})
    return out


def paper_html(
    session: Session,
    exam: Exam,
    variants: list[ExamVariant],
    lang: str | None = None,
    *,
    page_totals: bool | None = None,
    utc_offset_hours: float = 8.0,
) -> str:
    """`page_totals`: the page margins say "page k of n" (n counts the document: right only when
    it holds one variant, the default then); otherwise "page k" and an end-of-paper line."""
    lang = lang or exam.lang
    return _env.get_template("exams/paper.html").render(
        exam=exam,
        variants=_bundle(session, exam, variants, lang, utc_offset_hours),
        lang=lang,
        totals=len(variants) == 1 if page_totals is None else page_totals,
    )


def answer_key_html(
    session: Session,
    exam: Exam,
    lang: str | None = None,
    variants: list[ExamVariant] | None = None,
    *,
    page_totals: bool | None = None,
) -> str:
    variants = list(exam.variants) if variants is None else variants
    lang = lang or exam.lang
    return _env.get_template("exams/answer_key.html").render(
        exam=exam,
        variants=_bundle(session, exam, variants, lang, 8.0),
        lang=lang,
        totals=len(variants) == 1 if page_totals is None else page_totals,
    )


def _documents(variants: list[ExamVariant]) -> list[list[ExamVariant]]:
    """Split a bundle into documents printed by parallel Chromium processes and then joined
    (app/services/pdf.py); every variant starts a page anyway (a right-hand one: pdf.Recto), so
    the result is the same as one big print. One document per printer: each extra document costs
    a Chromium start-up (~3 s of CPU here), and measured on 2 cores, 200 variants, 2 documents
    beat 4 (54.6 s vs 57.0 s; 64 vs 70 s of Chromium CPU) although the first starts printing later.
    """
    per_document = max(10, -(-len(variants) // pdf.print_workers()))
    return [variants[i : i + per_document] for i in range(0, len(variants), per_document)]


def _recto(variants: list[ExamVariant], lang: str) -> pdf.Recto | None:
    """A bundle is printed double-sided: each variant starts on a right-hand (odd) page, found by
    its section's id (templates/exams/_pages.html, `variant_anchor`), a blank page before it where
    the previous one ends on a right-hand page. One variant alone starts on page 1 anyway."""
    if len(variants) < 2:
        return None
    return pdf.Recto(prefix=VARIANT_ANCHOR, sections=len(variants), blank_html=blank_page_html(lang))


VARIANT_ANCHOR = "variant-"


def paper_pdf(
    session: Session,
    exam: Exam,
    variants: list[ExamVariant],
    lang: str | None = None,
    *,
    timeout: float = 180.0,
    utc_offset_hours: float = 8.0,
) -> bytes:
    lang = lang or exam.lang
    # A generator: the next document's HTML is rendered while the previous ones print.
    # A bundle's documents hold many variants (or, the last, perhaps one): no "of n" in any of them.
    whole = len(variants) == 1
    documents = (
        paper_html(session, exam, chunk, lang, page_totals=whole, utc_offset_hours=utc_offset_hours)
        for chunk in _documents(variants)
    )
    # One student's paper may be read on screen (tagged, accessible); a class bundle is for printing.
    return pdf.htmls_to_pdf(documents, timeout=timeout, tagged=whole, recto=_recto(variants, lang))


def answer_key_pdf(
    session: Session,
    exam: Exam,
    lang: str | None = None,
    variants: list[ExamVariant] | None = None,
    *,
    timeout: float = 180.0,
) -> bytes:
    variants = list(exam.variants) if variants is None else variants
    lang = lang or exam.lang
    whole = len(variants) == 1
    documents = (
        answer_key_html(session, exam, lang, chunk, page_totals=whole) for chunk in _documents(variants)
    )
    return pdf.htmls_to_pdf(documents, timeout=timeout, tagged=whole, recto=_recto(variants, lang))


# The paper's own words in its language; "both" prints the Chinese with the English after it.
# `page` is the footer's "page k of n": n is the page of the variant's own end label (below).
_ZH_PAGE = r"第 \thepage{} 页 / 共 \pageref{end-\papercode} 页"
_TEX_LABELS = {
    "zh": {
        "name": "姓名",
        "id": "学号",
        "points": "分",
        "working": "解答过程",
        "end": "（试卷结束）",
        "page": _ZH_PAGE,
    },
    "en": {
        "name": "Name",
        "id": "Student ID",
        "points": "pt",
        "working": "Working",
        "end": "(End of paper)",
        "page": r"page \thepage{} of \pageref{end-\papercode}",
    },
    "both": {
        "name": "姓名 Name",
        "id": "学号 Student ID",
        "points": "分",
        "working": "解答过程 / Working",
        "end": "（试卷结束 / End of paper）",
        "page": _ZH_PAGE,
    },
}
SHORT_WIDTH = 0.49  # of the line: two short boxes to a row, as on the HTML paper

# \answerbox{width}{label}{space}: a framed box `width` of the line wide, never split over a page.
# \workspace{label}{height}: the same with a thin frame, the room to work a question out.
# \blankpage: what a double-sided bundle puts before a variant that would start on a left-hand page;
# `sheetpage` counts the pages shipped out (the page counter restarts with every variant).
_TEX_MACROS = [
    r"\newcommand{\answerbox}[3]{\fbox{\parbox[t]{\dimexpr#1\linewidth-2\fboxsep-2\fboxrule\relax}"
    r"{\footnotesize #2\par #3}}}",
    r"\newcommand{\workspace}[2]{{\setlength{\fboxrule}{0.2pt}\answerbox{1}{#1}{\rule{0pt}{#2}}}}",
    r"\newcounter{sheetpage}\AtBeginShipout{\stepcounter{sheetpage}}",
]


def _tex_blank_page(lang: str) -> str:
    """A blank page if the pages shipped so far are odd: the next variant starts on a right-hand one."""
    langs = _langs(lang)
    words = r"\\".join(str(_COVER[lg]["blank"]) for lg in langs)
    return (
        r"\ifodd\value{sheetpage}\thispagestyle{empty}\null\vfill"
        r"\begin{center}" + words + r"\end{center}\vfill\clearpage\fi"
    )


def _tex_space(box: AnswerBox) -> str:
    """A box's room: a short answer's ruled lines (one every LINE_MM), else blank of its height."""
    if box.kind == "text":
        return rf"{{\setlength{{\baselineskip}}{{{LINE_MM:g}mm}}" + r"\hrulefill\par" * box.lines + "}"
    return rf"\rule{{0pt}}{{{box.height_mm:g}mm}}"


def _tex_boxes(boxes: list[tuple[AnswerBox, str]]) -> list[str]:
    """One row per box, but two short boxes side by side, as the HTML paper's boxes wrap."""
    rows: list[list[str]] = []
    half_row = False  # the last row holds one short box
    for box, label in boxes:
        short = box.kind == "short"
        cell = rf"\answerbox{{{SHORT_WIDTH if short else 1:g}}}{{{label}}}{{{_tex_space(box)}}}"
        if short and half_row:
            rows[-1].append(cell)
            half_row = False
        else:
            rows.append([cell])
            half_row = short
    return [_tex_row(r"\hfill".join(row)) for row in rows]


def _tex_row(tex: str) -> str:
    return r"\par\noindent " + tex + r"\par\vspace{1.5mm}"


def _tex_cover(page_one: dict[str, Any]) -> list[str]:
    """Page 1 below the names: the facts, the instructions and the score table (as the HTML's)."""
    out = [r"\noindent{\small " + r"\\ ".join(latex.escape(" ".join(line)) for line in page_one["facts"])]
    # Numbered by hand: the questions are the paper's one enumerate.
    for n, rule in enumerate(page_one["rules"], 1):
        out.append(rf"\par\noindent {n}. " + " ".join(latex.escape(x) for x in rule))
    out += [r"\par}", r"\begin{center}\small"]
    rows = page_one["rows"]
    for i, row in enumerate(rows):
        last = i == len(rows) - 1
        cells = len(row) + last
        head = [str(n) for n, _ in row] + ([latex.escape(page_one["sum"])] if last else [])
        full = [points_text(p) for _, p in row] + ([page_one["total"]] if last else [])
        out += [
            r"\begin{tabular}{|l|" + "c|" * cells + r"}\hline",
            latex.escape(page_one["question"]) + " & " + " & ".join(head) + r" \\ \hline",
            latex.escape(page_one["points"]) + " & " + " & ".join(full) + r" \\ \hline",
            latex.escape(page_one["score"])
            + r" & "
            + " & ".join([r"\rule{0pt}{8mm}\hspace{7mm}"] * cells)
            + r" \\ \hline",
            r"\end{tabular}\par\medskip",
        ]
    out.append(r"\end{center}")
    return out


def paper_tex(
    session: Session,
    exam: Exam,
    variants: list[ExamVariant],
    lang: str | None = None,
    *,
    utc_offset_hours: float = 8.0,
) -> str:
    """A ctexart document (xelatex, twice for the page totals): one variant after another, each
    with the HTML paper's page 1, answer boxes and working space (answer_box, working_mm), and on
    every page its code and "page k of n", numbered from 1 in each variant; in a bundle each
    variant starts on a right-hand page, as in the PDF."""
    lang = lang or exam.lang
    labels = _TEX_LABELS.get(lang, _TEX_LABELS["zh"])
    # On one line: a blank line in a title (the API takes one) ended the paragraph inside
    # \fancyhead's argument, and xelatex stopped ("Paragraph ended before \f@nch@fancyhf").
    title = latex.escape(" ".join(exam.title.split()))
    out = [
        r"\documentclass[a4paper,11pt]{ctexart}",
        r"\usepackage{amsmath,amssymb,geometry,fancyhdr,atbegshi}",
        r"\geometry{top=22mm,bottom=22mm,hmargin=18mm,headheight=14pt,headsep=5mm,footskip=10mm}",
        r"\setcounter{MaxMatrixCols}{20}",  # amsmath stops at 10 columns: a 4x12 input matrix failed
        *_TEX_MACROS,
        r"\newcommand{\papercode}{}",
        r"\pagestyle{fancy}\fancyhf{}\renewcommand{\headrulewidth}{0pt}",
        rf"\fancyhead[L]{{\footnotesize {title}}}",
        r"\fancyhead[R]{\textbf{\texttt{\papercode}}}",
        rf"\fancyfoot[L]{{\footnotesize {labels['name']} \underline{{\hspace{{30mm}}}}}}",
        rf"\fancyfoot[R]{{\footnotesize\texttt{{\papercode}} $\cdot$ {labels['page']}}}",
        r"\begin{document}",
    ]
    for i, v in enumerate(_bundle(session, exam, variants, lang, utc_offset_hours)):
        code = v["code"]
        out += [
            *([_tex_blank_page(lang)] if i else []),  # after the previous variant's \clearpage
            rf"\renewcommand{{\papercode}}{{{code}}}\setcounter{{page}}{{1}}",
            r"\begin{center}{\Large " + title + r"}\\[2mm]",
            r"\fbox{\texttt{"
            + code
            + rf"}}}}\quad {labels['name']}\underline{{\hspace{{40mm}}}}\quad {labels['id']}\underline{{\hspace{{40mm}}}}",
            r"\end{center}",
            *_tex_cover(v["cover"]),
            r"\begin{enumerate}",
        ]
        for q, inst in v["questions"]:
            head = rf"\item ({points_text(q.points)} {labels['points']}) "
            if lang != "both":
                out.append(head + latex.to_latex(inst.statement["en" if lang == "en" else "zh"]))
            for zh, en in bilingual(inst.statement) if lang == "both" else []:
                out.append(head + latex.to_latex(zh))
                head = r"\par "
                if en is not None:
                    out.append(r"\par{\small " + latex.to_latex(en) + r"\par}")
            if work := working_mm(inst):
                out.append(_tex_row(rf"\workspace{{{labels['working']}}}{{{work}mm}}"))
            boxes = [
                (box, r"\\ ".join(latex.to_latex(x) for x in part_labels(part, lang)))
                for part, box in question_boxes(inst, q.points)
            ]
            out += _tex_boxes(boxes)
        # The end line carries the label that every page's "of n" refers to: the variant's last page.
        out += [
            r"\end{enumerate}",
            rf"\par\noindent{{\footnotesize {labels['end']} {title} $\cdot$ {code}\label{{end-{code}}}}}",
            r"\clearpage",
        ]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
