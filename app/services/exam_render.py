"""An exam's variants as print-ready HTML, PDF (Chromium) and ctex LaTeX; the answer key likewise."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.models import Exam, ExamVariant
from app.rendering import render, render_inline
from app.services import exams, latex, pdf
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

# --- answer space on the paper ----------------------------------------------------------

LINE_MM = 7.0  # one handwritten line
TEXT_LINES = 6  # a short-answer (text) part
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


def answer_box(part: Part, reference: str | None) -> AnswerBox:
    """The box a part gets, by its answer type and the reference's shape."""
    t = part.answer_type
    if t == "text":
        return AnswerBox("text", TEXT_LINES)
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


_env.globals["answer_box"] = answer_box
_env.globals["working_mm"] = working_mm


def _bundle(session: Session, variants: list[ExamVariant]) -> list[dict[str, Any]]:
    return [{"code": v.code, "questions": exams.variant_instances(session, v)} for v in variants]


def paper_html(
    session: Session,
    exam: Exam,
    variants: list[ExamVariant],
    lang: str | None = None,
    *,
    page_totals: bool | None = None,
) -> str:
    """`page_totals`: the page margins say "page k of n" (n counts the document: right only when
    it holds one variant, the default then); otherwise "page k" and an end-of-paper line."""
    return _env.get_template("exams/paper.html").render(
        exam=exam,
        variants=_bundle(session, variants),
        lang=lang or exam.lang,
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
    return _env.get_template("exams/answer_key.html").render(
        exam=exam,
        variants=_bundle(session, variants),
        lang=lang or exam.lang,
        totals=len(variants) == 1 if page_totals is None else page_totals,
    )


def _documents(variants: list[ExamVariant]) -> list[list[ExamVariant]]:
    """Split a bundle into documents printed by parallel Chromium processes and then joined
    (app/services/pdf.py); every variant starts a page anyway, so the result is the same as
    one big print. One document per printer: each extra document costs a Chromium start-up
    (~3 s of CPU here), and measured on 2 cores, 200 variants, 2 documents beat 4 (54.6 s vs
    57.0 s; 64 vs 70 s of Chromium CPU) although the first starts printing later.
    """
    per_document = max(10, -(-len(variants) // pdf.print_workers()))
    return [variants[i : i + per_document] for i in range(0, len(variants), per_document)]


def paper_pdf(
    session: Session,
    exam: Exam,
    variants: list[ExamVariant],
    lang: str | None = None,
    *,
    timeout: float = 180.0,
) -> bytes:
    # A generator: the next document's HTML is rendered while the previous ones print.
    # A bundle's documents hold many variants (or, the last, perhaps one): no "of n" in any of them.
    whole = len(variants) == 1
    documents = (paper_html(session, exam, chunk, lang, page_totals=whole) for chunk in _documents(variants))
    # One student's paper may be read on screen (tagged, accessible); a class bundle is for printing.
    return pdf.htmls_to_pdf(documents, timeout=timeout, tagged=len(variants) == 1)


def answer_key_pdf(session: Session, exam: Exam, lang: str | None = None, *, timeout: float = 180.0) -> bytes:
    whole = len(exam.variants) == 1
    documents = (
        answer_key_html(session, exam, lang, chunk, page_totals=whole)
        for chunk in _documents(list(exam.variants))
    )
    return pdf.htmls_to_pdf(documents, timeout=timeout, tagged=len(exam.variants) == 1)


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
_TEX_MACROS = [
    r"\newcommand{\answerbox}[3]{\fbox{\parbox[t]{\dimexpr#1\linewidth-2\fboxsep-2\fboxrule\relax}"
    r"{\footnotesize #2\par #3}}}",
    r"\newcommand{\workspace}[2]{{\setlength{\fboxrule}{0.2pt}\answerbox{1}{#1}{\rule{0pt}{#2}}}}",
]


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


def paper_tex(session: Session, exam: Exam, variants: list[ExamVariant], lang: str | None = None) -> str:
    """A ctexart document (xelatex, twice for the page totals): one variant after another, each
    with the HTML paper's answer boxes and working space (answer_box, working_mm), and on every
    page its code and "page k of n", numbered from 1 in each variant."""
    lang = lang or exam.lang
    labels = _TEX_LABELS.get(lang, _TEX_LABELS["zh"])
    # On one line: a blank line in a title (the API takes one) ended the paragraph inside
    # \fancyhead's argument, and xelatex stopped ("Paragraph ended before \f@nch@fancyhf").
    title = latex.escape(" ".join(exam.title.split()))
    out = [
        r"\documentclass[a4paper,11pt]{ctexart}",
        r"\usepackage{amsmath,amssymb,geometry,fancyhdr}",
        r"\geometry{top=22mm,bottom=22mm,hmargin=18mm,headheight=14pt,headsep=5mm,footskip=10mm}",
        *_TEX_MACROS,
        r"\newcommand{\papercode}{}",
        r"\pagestyle{fancy}\fancyhf{}\renewcommand{\headrulewidth}{0pt}",
        rf"\fancyhead[L]{{\footnotesize {title}}}",
        r"\fancyhead[R]{\textbf{\texttt{\papercode}}}",
        rf"\fancyfoot[L]{{\footnotesize {labels['name']} \underline{{\hspace{{30mm}}}}}}",
        rf"\fancyfoot[R]{{\footnotesize\texttt{{\papercode}} $\cdot$ {labels['page']}}}",
        r"\begin{document}",
    ]
    for v in _bundle(session, variants):
        code = v["code"]
        out += [
            rf"\renewcommand{{\papercode}}{{{code}}}\setcounter{{page}}{{1}}",
            r"\begin{center}{\Large " + title + r"}\\[2mm]",
            r"\fbox{\texttt{"
            + code
            + rf"}}}}\quad {labels['name']}\underline{{\hspace{{40mm}}}}\quad {labels['id']}\underline{{\hspace{{40mm}}}}",
            r"\end{center}",
            r"\begin{enumerate}",
        ]
        for q, inst in v["questions"]:
            out.append(
                rf"\item ({q.points:g} {labels['points']}) "
                + latex.to_latex(inst.statement["zh" if lang != "en" else "en"])
            )
            if lang == "both":
                out.append(r"\par\small " + latex.to_latex(inst.statement["en"]) + r"\normalsize")
            if work := working_mm(inst):
                out.append(_tex_row(rf"\workspace{{{labels['working']}}}{{{work}mm}}"))
            boxes = []
            for part in inst.parts:
                label = part.label["en"] if lang == "en" else part.label["zh"]
                if lang == "both" and part.label["en"] != label:
                    label = f"{label} / {part.label['en']}"
                boxes.append((answer_box(part, inst.answers.get(part.name)), latex.to_latex(label)))
            out += _tex_boxes(boxes)
        # The end line carries the label that every page's "of n" refers to: the variant's last page.
        out += [
            r"\end{enumerate}",
            rf"\par\noindent{{\footnotesize {labels['end']} {title} $\cdot$ {code}\label{{end-{code}}}}}",
            r"\clearpage",
        ]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
