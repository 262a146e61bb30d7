"""Markdown with $math$ to LaTeX for ctex (instructors who edit exams in LaTeX)."""

from __future__ import annotations

import re

from markdown_it.token import Token

from app.rendering import MARKDOWN

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$([^$\n]+?)(?<!\\)\$", re.S)
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\~{}",
}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in text)


def to_latex(markdown: str) -> str:
    """Convert a statement or solution step; math passes through untouched."""
    formulas: list[str] = []

    def stash(m: re.Match[str]) -> str:
        formulas.append(f"\\[{m.group(1)}\\]" if m.group(1) is not None else f"${m.group(2)}$")
        return f"\ue000{len(formulas) - 1}\ue001"

    body = _render(MARKDOWN.parse(_MATH.sub(stash, markdown)))
    return _restore(body, formulas).strip()


def _restore(body: str, formulas: list[str]) -> str:
    return re.sub("\ue000(\\d+)\ue001", lambda m: formulas[int(m.group(1))], body)


def _inline(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t.type == "text":
            out.append(escape(t.content))
        elif t.type == "code_inline":
            out.append(r"\texttt{" + escape(t.content) + "}")
        elif t.type in ("softbreak", "hardbreak"):
            out.append("\n" if t.type == "softbreak" else "\\\\\n")
        elif t.type == "strong_open":
            out.append(r"\textbf{")
        elif t.type == "em_open":
            out.append(r"\emph{")
        elif t.type in ("strong_close", "em_close"):
            out.append("}")
    return "".join(out)


def _render(tokens: list[Token]) -> str:
    out: list[str] = []
    row: list[str] = []
    for t in tokens:
        if t.type == "inline":
            text = _inline(t.children or [])
            if out and out[-1] == "\ue002cell":
                out.pop()
                row.append(text)
            else:
                out.append(text)
        elif t.type == "paragraph_close":
            out.append("\n\n")
        elif t.type == "bullet_list_open":
            out.append("\\begin{itemize}\n")
        elif t.type == "bullet_list_close":
            out.append("\\end{itemize}\n")
        elif t.type == "ordered_list_open":
            out.append("\\begin{enumerate}\n")
        elif t.type == "ordered_list_close":
            out.append("\\end{enumerate}\n")
        elif t.type == "list_item_open":
            out.append("\\item ")
        elif t.type in ("fence", "code_block"):
            out.append("\\begin{verbatim}\n" + t.content + "\\end{verbatim}\n")
        elif t.type == "table_open":
            out.append("\ue002table")
        elif t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            out.append("\ue002cell")
        elif t.type == "tr_close":
            out.append(" & ".join(row) + " \\\\ \\hline\n")
        elif t.type == "table_close":
            # Column count from the first row; every column left-aligned with rules.
            start = max(i for i, x in enumerate(out) if x == "\ue002table")
            first = out[start + 1] if start + 1 < len(out) else ""
            ncols = first.count(" & ") + 1
            out[start] = "\\begin{tabular}{|" + "l|" * ncols + "}\\hline\n"
            out.append("\\end{tabular}\n\n")
    return "".join(out)
