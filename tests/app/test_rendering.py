"""Statements render to HTML with MathML on the server, and nothing in them can inject markup."""

from __future__ import annotations

import pytest

from app.rendering import render, render_inline


def test_inline_and_display_math_become_mathml() -> None:
    out = str(render("输出 $\\frac{97-9}{2}+1 = 45$\n\n$$y = x^2$$"))
    assert out.count("<math") == 2 and "<mfrac>" in out and 'display="block"' in out
    assert "输出" in out


def test_tables_render() -> None:
    out = str(render("| layer | shape |\n|---|---|\n| Conv2d | $[32,222,222]$ |"))
    assert "<table>" in out and "<math" in out


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "$\\text{<script>alert(1)</script>}$",
        "$\\mathrm{<img src=x onerror=alert(1)>}$",
        "[x](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "$$\\text{</math><script>alert(1)</script>}$$",
    ],
)
def test_no_markup_injection(text: str) -> None:
    out = str(render(text)).lower()
    assert "<script" not in out and "<img" not in out and 'href="javascript' not in out


def test_unknown_latex_falls_back_to_code() -> None:
    out = str(render("$\\begin{nonsense}$"))
    assert "<code" in out or "<math" in out


def test_render_inline_drops_paragraph() -> None:
    assert str(render_inline("a $x$")).startswith("a <span")
