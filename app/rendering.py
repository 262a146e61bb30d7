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

MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": False}).enable(
    "table"
)  # exam_render splits with it too

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


# --- trivial formulas as plain styled text ----------------------------------------------
# Most formulas in statements are a symbol or a short run like $3$, $x_1$, $\sigma^2$,
# $W \times H$. As MathML each is a <math> tree that Chromium lays out on its own: for an exam
# bundle that was most of the print time, and latex2mathml most of the render time. Such a
# formula reads the same as italic letters, upright digits and <sub>/<sup>, so it is written
# that way. Anything outside this small grammar still goes to MathML.

_GREEK = {
    name: chr(code)
    for name, code in {
        "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3, "delta": 0x3B4, "epsilon": 0x3F5,
        "varepsilon": 0x3B5, "zeta": 0x3B6, "eta": 0x3B7, "theta": 0x3B8, "iota": 0x3B9,
        "kappa": 0x3BA, "lambda": 0x3BB, "mu": 0x3BC, "nu": 0x3BD, "xi": 0x3BE, "pi": 0x3C0,
        "rho": 0x3C1, "sigma": 0x3C3, "tau": 0x3C4, "phi": 0x3D5, "varphi": 0x3C6, "chi": 0x3C7,
        "psi": 0x3C8, "omega": 0x3C9, "Gamma": 0x393, "Delta": 0x394, "Theta": 0x398,
        "Lambda": 0x39B, "Xi": 0x39E, "Pi": 0x3A0, "Sigma": 0x3A3, "Phi": 0x3A6, "Psi": 0x3A8,
        "Omega": 0x3A9,
    }.items()
}  # fmt: skip
# Binary operators and relations, spaced as TeX spaces them (a comma only after).
_OPS = {"+": " + ", "-": " \u2212 ", "=": " = ", "\\times": " \u00d7 ", "\\cdot": " \u22c5 ", ",": ", "}
_PLAIN_TOKEN = re.compile(
    r"\s+|(?P<num>\d+(?:\.\d+)?)|(?P<letter>[A-Za-z])|\\mathbf\{(?P<bold>[A-Za-z])\}"
    r"|(?P<op>[-+=,]|\\times(?![A-Za-z])|\\cdot(?![A-Za-z]))|\\(?P<greek>[A-Za-z]+)"
    r"|(?P<script>[_^])|(?P<brace>[{}])|(?P<other>.)"
)


def _plain_atom(kind: str, value: str) -> str | None:
    if kind == "num":
        return value
    if kind == "letter":
        return f"<i>{value}</i>"
    if kind == "bold":
        return f"<b>{value}</b>"  # \mathbf is upright bold
    if kind == "greek" and value in _GREEK:
        # TeX sets lowercase Greek italic and capitals upright.
        return f"<i>{_GREEK[value]}</i>" if value[0].islower() else _GREEK[value]
    return None


def plain_math(latex: str) -> str | None:
    """HTML for a trivial formula (atoms with at most one simple sub/superscript each, joined by
    + - = , \\times \\cdot), or None when the formula needs real typesetting."""
    tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _PLAIN_TOKEN.finditer(latex) if m.lastgroup]
    out: list[str] = []
    i, after_atom = 0, False
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "op":
            # A leading minus (or one after another operator) is a sign: no spaces around it.
            out.append(_OPS[value].strip() if not after_atom and value == "-" else _OPS[value])
            if not after_atom and value != "-":
                return None
            after_atom, i = False, i + 1
            continue
        atom = _plain_atom(kind, value)
        if atom is None or after_atom:  # two atoms side by side (a product) is left to MathML
            return None
        out.append(atom)
        i += 1
        for tag in ("sub", "sup"):  # x_i, \sigma^2, h_{t-1}: subscript before superscript
            if i < len(tokens) and tokens[i] == ("script", "_" if tag == "sub" else "^"):
                script, i = _plain_script(tokens, i + 1)
                if script is None:
                    return None
                out.append(f"<{tag}>{script}</{tag}>")
        after_atom = True
    if not out or not after_atom:
        return None
    return "".join(out)


def _plain_script(tokens: list[tuple[str, str]], i: int) -> tuple[str | None, int]:
    """A sub/superscript: one atom, or {a run of atoms and + -} such as {t-1} or {ij}."""
    if i < len(tokens) and tokens[i] == ("brace", "{"):
        parts: list[str] = []
        i += 1
        while i < len(tokens) and tokens[i] != ("brace", "}"):
            kind, value = tokens[i]
            piece = (
                value.replace("-", "\u2212") if kind == "op" and value in "+-" else _plain_atom(kind, value)
            )
            if piece is None:
                return None, i
            parts.append(piece)
            i += 1
        if i == len(tokens) or not parts:
            return None, i
        return "".join(parts), i + 1
    if i < len(tokens):
        kind, value = tokens[i]
        if kind == "num" and len(value) > 1:  # x_12 in TeX is x_1 2: not trivial
            return None, i
        return _plain_atom(kind, value), i + 1
    return None, i


def display_pieces(latex: str) -> list[str]:
    """A display formula listing several things (`x = ..., \\quad W = ...`) cut at its top-level
    `, \\quad`, each piece keeping its comma: the pieces can wrap onto more lines where the page is
    narrower than the row, instead of running past the margin (which makes Chromium shrink a whole
    printed document to fit)."""
    pieces: list[str] = []
    braces = envs = parens = start = 0
    for m in re.finditer(r"\\[{}]|\\begin\{|\\end\{|[{}()]|,\s*\\q?quad(?![A-Za-z])", latex):
        token = m.group()
        if token in ("(", "\\{", ")", "\\}"):  # (a, \quad b) stays one piece; [0, 1) may be unbalanced
            parens = max(0, parens + (1 if token in ("(", "\\{") else -1))
        elif token.startswith("\\"):  # \begin{ or \end{: an environment, and the brace of its name
            envs += 1 if token == "\\begin{" else -1
            braces += 1
        elif token in "{}":
            braces += 1 if token == "{" else -1
        elif braces == 0 and envs == 0 and parens == 0:
            pieces.append(latex[start : m.start()] + ",")
            start = m.end()
    pieces.append(latex[start:])
    return [p for p in (q.strip() for q in pieces) if p]


@lru_cache(maxsize=16384)
def math_html(latex: str, display: bool = False) -> str:
    """One formula as MathML; a formula latex2mathml cannot read (or that smuggles markup) is escaped code.

    Cached: the same symbols recur across a statement's variants and across solutions.
    """
    if not display and (plain := plain_math(latex)) is not None:
        return f'<span class="math plain">{plain}</span>'
    if display and len(pieces := display_pieces(latex)) > 1:
        converted = [_mathml(p, display=True) for p in pieces]
        if all(converted):
            inner = "".join(f'<span class="piece">{out}</span>' for out in converted)
            return f'<span class="math display pieces">{inner}</span>'
    out = _mathml(latex, display)
    if not out:
        return f'<code class="tex">{html.escape(latex)}</code>'
    return f'<span class="math{" display" if display else ""}">{out}</span>'


def _mathml(latex: str, display: bool) -> str:
    """The formula as MathML, or "" where latex2mathml cannot read it or its output is not safe."""
    try:
        out = latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:  # the converter raises assorted errors on LaTeX it does not know
        return ""
    return out if out and _safe_mathml(out) else ""


@lru_cache(maxsize=8192)
def render(text: str) -> Markup:
    """Render Markdown with $...$ / $$...$$ math to safe HTML."""
    formulas: list[str] = []

    def stash(m: re.Match[str]) -> str:
        display = m.group(1) is not None
        formulas.append(math_html(m.group(1) if display else m.group(2), display))
        return _SLOT.format(len(formulas) - 1)

    body = MARKDOWN.render(_MATH.sub(stash, text))
    return Markup(_SLOT_AND_PUNCT.sub(lambda m: _glue(formulas[int(m.group(1))], m.group(2)), body))


# Punctuation right after a formula: a line may break between a <math> and the text after it,
# and on a phone the "；" between the worked equations of a step fell onto lines of their own.
_SLOT_AND_PUNCT = re.compile("\ue000(\\d+)\ue001([，。；：、！？）》」』,.;:!?)]*)")
_INLINE_MATHML = '<span class="math">'


def _glue(formula: str, punct: str) -> str:
    """An inline MathML formula with the punctuation after it (text of the rendered Markdown)
    inside its span: one unit, which scrolls as one where it is wider than the line."""
    if punct and formula.startswith(_INLINE_MATHML) and formula.endswith("</span>"):
        return f"{formula[: -len('</span>')]}{punct}</span>"
    return formula + punct


def render_inline(text: str) -> Markup:
    """Render a short text (a label or a step) without the surrounding paragraph."""
    out = str(render(text)).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return Markup(out)


def plain_text(text: str) -> str:
    """The text of a short Markdown string with its formulas, without markup: for where HTML is
    not shown (a page's <title>, an <option>). `$V^\\pi$` is "Vπ"."""
    return html.unescape(re.sub(r"<[^>]*>", "", str(render_inline(text))))
