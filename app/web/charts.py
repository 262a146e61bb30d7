"""Small SVG charts drawn on the server (no JavaScript, no external library, print-friendly)."""

from __future__ import annotations

import unicodedata
from html import escape

from markupsafe import Markup

FONT_PX = 13
MAX_LABEL_W = 240  # beyond this a label is cut with an ellipsis; the full text is its tooltip


def text_width(text: str, font_px: float = FONT_PX) -> float:
    """An upper estimate of the drawn width: CJK and full-width characters are one em, others 0.62 em."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (wide + 0.62 * (len(text) - wide)) * font_px


def fit_label(text: str, room: float) -> str:
    """The label, or its longest prefix that fits `room` pixels with an ellipsis after it."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def bar_chart(items: list[tuple[str, float | None]], *, width: int = 560, title: str = "") -> Markup:
    """Horizontal bars of values in 0..1, labelled, with the percentage at the end; a value of None
    (nothing to measure yet) is an empty bar marked "–", not a 0%.

    The label column is as wide as the longest label (up to MAX_LABEL_W), so a label never runs
    under its bar; a longer one is cut with an ellipsis and keeps its full text as a tooltip.
    """
    row, gap = 26, 8
    label_w = int(min(MAX_LABEL_W, max([text_width(label) for label, _ in items] + [40.0]))) + gap
    h = row * max(1, len(items)) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {h}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    bar_w = width - label_w - 60
    for i, (label, value) in enumerate(items):
        v = max(0.0, min(1.0, value or 0.0))
        y = 4 + i * row
        colour = "#1a7f37" if v >= 0.8 else "#b58900" if v >= 0.5 else "#b3261e"
        shown = fit_label(label, label_w - gap)
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="{FONT_PX}"><title>{escape(label)}</title>{escape(shown)}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" fill="#eef1f4"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * v:.1f}" height="16" fill="{colour}"/>')
        shown_value = "–" if value is None else f"{round(v * 100)}%"
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 16}" font-size="13">{shown_value}</text>')
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
