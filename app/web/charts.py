"""Small SVG charts drawn on the server (no JavaScript, no external library, print-friendly)."""

from __future__ import annotations

import math
import unicodedata
from html import escape

from markupsafe import Markup

FONT_PX = 13
LINE_PX = 16  # a wrapped label's line height
MAX_LABEL_W = 200  # a longer label wraps onto more lines (it was cut with an ellipsis)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def text_width(text: str, font_px: float = FONT_PX) -> float:
    """An upper estimate of the drawn width: CJK and full-width characters are one em, others 0.62 em."""
    wide = sum(1 for ch in text if _wide(ch))
    return (wide + 0.62 * (len(text) - wide)) * font_px


def _words(text: str) -> list[tuple[str, str]]:
    """(kind, text): runs of spaces, single CJK characters (a line may break after any) and words."""
    out: list[tuple[str, str]] = []
    for ch in text:
        kind = "space" if ch.isspace() else "wide" if _wide(ch) else "word"
        if out and kind != "wide" and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + ch)
        else:
            out.append((kind, ch))
    return out


def wrap_label(text: str, room: float) -> list[str]:
    """The label in lines that each fit `room` pixels, broken at spaces or between CJK characters
    (a word wider than a line is broken where it must); nothing is left out."""
    lines: list[str] = []
    line = ""
    for kind, word in _words(text):
        if kind == "space":
            line += " " if line else ""
            continue
        if line.strip() and text_width(line + word) > room:
            lines.append(line.rstrip())
            line = ""
        while text_width(line + word) > room and len(word) > 1:  # a word longer than the column
            cut = max((n for n in range(1, len(word)) if text_width(word[:n]) <= room), default=1)
            lines.append(word[:cut])
            word = word[cut:]
        line += word
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def bar_chart(items: list[tuple[str, float | None]], *, width: int = 560, title: str = "") -> Markup:
    """Horizontal bars of values in 0..1, labelled, with the percentage at the end; a value of None
    (nothing to measure yet) is an empty bar marked "–", not a 0%.

    The label column is as wide as the longest label, up to MAX_LABEL_W; a longer label wraps onto
    more lines and its row grows to hold them, so a label is never cut and never runs under its bar.
    """
    gap = 8
    widest = max([text_width(label) for label, _ in items] + [40.0])
    label_w = math.ceil(min(MAX_LABEL_W, widest))  # rounded up: rounded down, the widest label was cut
    rows = [(wrap_label(label, label_w), label, value) for label, value in items]
    heights = [max(26, LINE_PX * len(lines) + 10) for lines, _, _ in rows]
    h = sum(heights) + 8 if rows else 34
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {h}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    bar_x = label_w + gap
    bar_w = width - bar_x - 60
    y = 4
    for (lines, label, value), row_h in zip(rows, heights, strict=True):
        v = max(0.0, min(1.0, value or 0.0))
        colour = "#1a7f37" if v >= 0.8 else "#b58900" if v >= 0.5 else "#b3261e"
        bar_y = y + (row_h - 26) / 2  # the bar in the middle of its label's lines
        spans = "".join(
            f'<tspan x="0" dy="{0 if i == 0 else LINE_PX}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="{FONT_PX}"><title>{escape(label)}</title>{spans}</text>'
        )
        parts.append(f'<rect x="{bar_x}" y="{bar_y + 3}" width="{bar_w}" height="16" fill="#eef1f4"/>')
        parts.append(
            f'<rect x="{bar_x}" y="{bar_y + 3}" width="{bar_w * v:.1f}" height="16" fill="{colour}"/>'
        )
        shown_value = "–" if value is None else f"{round(v * 100)}%"
        parts.append(f'<text x="{bar_x + bar_w + 6}" y="{bar_y + 16}" font-size="13">{shown_value}</text>')
        y += row_h
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[float], *, width: int = 160, height: int = 28, title: str = "") -> Markup:
    """Scores (0..1) in order, as a line with its points; the last point is emphasised."""
    if not values:
        return Markup("")
    n = len(values)
    step = (width - 8) / max(1, n - 1)
    pts = [(4 + i * step, height - 4 - max(0.0, min(1.0, v)) * (height - 8)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    lx, ly = pts[-1]
    return Markup(
        f'<svg class="spark" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<polyline points="{path}" fill="none" stroke="#0b5cad" stroke-width="1.5"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="#0b5cad"/></svg>'
    )
