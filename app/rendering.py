"""Statements and solutions (Markdown with $LaTeX$) to HTML with MathML, on the server.

No CDN and no client-side math: pages must work on a campus network that blocks foreign
hosts, and printed exams must look the same. Raw HTML in the Markdown is not rendered
(it is escaped), so text that reached a statement cannot inject markup.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "breaks": False}).enable("table")

# $$display$$ first, then $inline$ (not preceded by a backslash, no newline inside).
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$([^$\n]+?)(?<!\\)\$", re.S)
_SLOT = "\ue000{}\ue001"  # private-use characters: never in a statement, untouched by Markdown


_MATHML_TAGS = frozenset(
    "math mrow mi mn mo ms mtext mspace mfrac msqrt mroot msup msub msubsup mover munder munderover "
    "mtable mtr mtd mstyle mpadded mphantom menclose merror semantics annotation mglyph".split()
)
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_BAD_ATTR = re.compile(r"\b(on\w+|href|src|xlink:\w+|style)\s*=", re.I)


def _safe_mathml(out: str) -> bool:
    # latex2mathml copies \text{...} through unescaped, so check every tag it produced:
    # MathML elements only, and no attribute that can run script or load anything.
    return all(
        m.group(1).lower() in _MATHML_TAGS and not _BAD_ATTR.search(m.group(2)) for m in _TAG.finditer(out)
    )


def math_html(latex: str, display: bool = False) -> str:
    """One formula as MathML; a formula latex2mathml cannot read (or that smuggles markup) is escaped code."""
    try:
        out = latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:  # the converter raises assorted errors on LaTeX it does not know
        out = ""
    if not out or not _safe_mathml(out):
        return f'<code class="tex">{html.escape(latex)}</code>'
    return f'<span class="math{" display" if display else ""}">{out}</span>'


@lru_cache(maxsize=8192)
def render(text: str) -> Markup:
    """Render Markdown with $...$ / $$...$$ math to safe HTML."""
    formulas: list[str] = []

    def stash(m: re.Match[str]) -> str:
        display = m.group(1) is not None
        formulas.append(math_html(m.group(1) if display else m.group(2), display))
        return _SLOT.format(len(formulas) - 1)

    body = _md.render(_MATH.sub(stash, text))
    body = re.sub("\ue000(\\d+)\ue001", lambda m: formulas[int(m.group(1))], body)
    return Markup(body)


def render_inline(text: str) -> Markup:
    """Render a short text (a label or a step) without the surrounding paragraph."""
    out = str(render(text)).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return Markup(out)
