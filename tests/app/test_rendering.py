"""Statements render to HTML with MathML on the server, and nothing in them can inject markup."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize(
    ("text", "answer_type", "shown", "not_shown"),
    [
        ("1.0986", "real", "1.0986", "5493"),  # was 5493/5000: a student took it for a misreading
        ("-0.6059", "real", "0.6059", "6059/10000"),
        ("0.5065*v1 + 0.3072*v2", "expression", "0.3072", "625"),
        ("1/3", "real", "<mfrac>", "0.333"),  # a fraction typed stays a fraction
        ("1/16", "real", "<mfrac>", "0.0625"),  # and one that is a short decimal too (a review)
        ("v1/16", "expression", "<mfrac>", "0.0625"),
    ],
)
def test_the_preview_keeps_decimals_as_typed(text: str, answer_type: str, shown: str, not_shown: str) -> None:
    from app.services.preview import preview
    from problems.registry import instantiate

    params = {"answer_type": answer_type, "reference": "1", "statement": {"zh": "题", "en": "Q"}}
    if answer_type == "expression":
        params |= {"reference": "v1", "symbols": ["v1", "v2"]}
    inst = instantiate("custom.answer", params=params)
    result = preview(inst, inst.parts[0].name, text, "en")
    assert result["ok"] and shown in result["html"] and not_shown not in result["html"], result


@pytest.mark.parametrize(
    ("text", "answer_type", "decimal", "fraction"),
    [
        # 0.1*0.95^36 read exactly is 47 digits over 48: it was the "read as" line (a student's report)
        ("0.1*0.95^36", "real", "0.0157779", "10842505"),
        ("1/7^30", "real", "4.43669", "22539340290692258087863249"),  # typed without decimals too
        ("v1/7^30", "expression", "4.43669", "22539340290692258087863249"),
        ("[0.1*0.95^36, 1/3]", "vector", "0.0157779", "10842505"),  # no html: the echo alone
    ],
)
def test_the_preview_shows_a_long_fraction_as_a_decimal(
    text: str, answer_type: str, decimal: str, fraction: str
) -> None:
    from app.services.preview import preview
    from problems.registry import instantiate

    params = {"answer_type": answer_type, "reference": "1", "statement": {"zh": "题", "en": "Q"}}
    if answer_type == "expression":
        params |= {"reference": "v1", "symbols": ["v1"]}
    if answer_type == "vector":
        params |= {"reference": "[1, 1]"}
    inst = instantiate("custom.answer", params=params)
    result = preview(inst, inst.parts[0].name, text, "zh")
    assert result["ok"] and result["interpreted"].startswith("≈ ") and decimal in result["interpreted"]
    assert fraction not in result["interpreted"], result
    if result["html"] is not None:
        html = result["html"]
        assert decimal in html and "&#x02248;" in html and fraction not in html  # ≈
        assert "<mi>e</mi>" not in html  # 4.43669e-26 in math would be 4.43669·e - 26


@pytest.mark.parametrize(("typed", "at"), [("2²+ln3)", ")"), ("  1+*2", "*"), ("（1+2）*）", ")")])
def test_a_reading_error_says_where_in_the_text_as_read(typed: str, at: str) -> None:
    """The preview marked the typed text at a position counted in the text as read: after x²
    (read x^(2)) or leading spaces the mark landed beside the mistake."""
    from app.services.preview import preview
    from problems.registry import instantiate

    params = {"answer_type": "real", "reference": "1", "statement": {"zh": "题", "en": "Q"}}
    inst = instantiate("custom.answer", params=params)
    result = preview(inst, inst.parts[0].name, typed, "en")
    assert not result["ok"] and result["text"][result["position"]] == at, result


@pytest.mark.parametrize(
    ("text", "glued"),
    [
        ("$\\frac{a}{b} = 1$；$\\sqrt{2}$。", ["；</span>", "。</span>"]),  # a worked step's equations
        ("Then $\\sqrt{x}$, $\\sqrt{y}$.", [",</span>", ".</span>"]),
        ("（$\\frac{1}{2}$）", ["）</span>"]),
    ],
)
def test_punctuation_after_a_formula_stays_inside_its_box(text: str, glued: list[str]) -> None:
    """On a phone the "；" between a step's equations fell onto lines of their own."""
    out = str(render(text))
    for tail in glued:
        assert tail in out, out
    assert out.count("<math") == len(glued)


def test_only_inline_mathml_takes_the_punctuation_in() -> None:
    plain = str(render("$x_1$；"))  # plain text after plain text: no break before "；" anyway
    assert plain.endswith("</span>；</p>\n"), plain
    display = str(render("$$\\frac{a}{b}$$。"))
    assert "</span>。" in display, display


def _titles() -> list[tuple[str, str]]:
    from problems.registry import all_families

    return [(f.id, lang) for f in all_families() for lang in ("zh", "en")]


@pytest.mark.parametrize(("family", "lang"), _titles())
def test_family_titles_show_no_raw_markup(family: str, lang: str) -> None:
    """Titles are Markdown with $TeX$ like labels: "V^π" showed its caret on the home page."""
    from app.rendering import plain_text
    from problems.registry import get_family

    title = get_family(family).title[lang]
    shown, text = str(render_inline(title)), plain_text(title)
    assert not set("^_$\\") & set(text), text  # <title>, <option>
    assert "<p>" not in shown and not set("^$\\") & set(re.sub(r"<[^>]*>", "", shown)), shown
