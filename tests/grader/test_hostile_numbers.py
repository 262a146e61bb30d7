"""Numbers whose exact form is huge or whose value hides a zero: each is refused or judged by
bounded work, never by a sympy call that holds the GIL for seconds (measured before the fix:
1.0000001^(10^8) over 15 s, sin of a sum of hidden-zero radicals up to 90 s)."""

from __future__ import annotations

import time

import pytest

from grader import AnswerSpec, check, grade, read

HANG = 3.0  # a hang detector, not a speed test: each of these was 3 s to minutes before

HUGE_EXACT_POWERS = [
    "1.0000000000000001^(10^300)",
    "(1+10^-30)^(10^25)",
    "((10^20+1)/10^20)^(10^20)",
    "1.0000001^(10^8)",
    "1.0001^(10^6)",
    "0.9999^(-10^6)",
    "1.0000001^(10^8+1/2)",
]

ZERO = [
    "(sqrt(2)+sqrt(3)-sqrt(5+2*sqrt(6)))",
    "(sqrt(3)+sqrt(5)-sqrt(8+2*sqrt(15)))",
    "(sqrt(5)+sqrt(7)-sqrt(12+2*sqrt(35)))",
    "(sqrt(6)+sqrt(7)-sqrt(13+2*sqrt(42)))",
]
HIDDEN = "+".join(ZERO)  # exactly 0, which sympy can prove only through minimal polynomials


def _timed(answer: str, reference: str, answer_type: str = "real"):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    v = check(answer, reference, answer_type)
    assert time.monotonic() - start < HANG, answer
    return v


@pytest.mark.parametrize("text", HUGE_EXACT_POWERS)
def test_a_power_with_a_huge_exact_value_is_refused_with_a_reason(text: str) -> None:
    v = _timed(text, "1")
    assert not v.correct and v.reason == "parse_error"
    assert "decimal" in v.feedback
    assert "小数" in grade(text, "1", AnswerSpec("real"), lang="zh").feedback


@pytest.mark.parametrize(
    ("text", "value"), [("0.99^100", "0.36603234127322950493"), ("2^1000", str(2**1000))]
)
def test_ordinary_powers_of_exact_numbers_are_still_exact(text: str, value: str) -> None:
    assert _timed(text, value).correct


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("exp({z})", "1"),
        ("sin({z}) + 1", "1"),
        ("cos({z})", "1"),
        ("tanh({z}) + 1", "1"),
        ("log(1 + {z}) + 1", "1"),
        ("sigmoid({z})*2", "1"),
        ("sin(pi*(1/2 + {z}))", "1"),
        ("tan(pi*(1/4 + {z}))", "1"),
        ("abs({z}) + 1", "1"),
        ("2^({z})", "1"),
        ("({z})^3 + 1", "1"),
        ("-({z}) + 3", "3"),
        ("exp(sin({z}))*exp({z})", "1"),
    ],
)
def test_a_hidden_zero_inside_functions_is_judged_by_its_value(template: str, value: str) -> None:
    v = _timed(template.format(z=HIDDEN), value)
    assert v.correct, v.feedback
    assert not _timed(template.format(z=HIDDEN) + " + 1/10", value).correct


def test_integer_parts_see_through_unevaluated_numbers() -> None:
    assert _timed("sqrt(2)^2", "2", "integer").correct
    assert _timed("ln(e^3)", "3", "integer").correct
    assert _timed(f"5 + {HIDDEN}", "5", "integer").correct
    assert not _timed("sqrt(2)*sqrt(3)", "2", "integer").correct


def test_cancellation_is_recomputed_with_more_digits() -> None:
    # At 40 digits (1+e^50)^2 - e^100 - 2e^50 is 0; its value is 1.
    assert _timed("(1+exp(50))^2 - exp(100) - 2*exp(50)", "1").correct
    assert not _timed("(1+exp(50))^2 - exp(100) - 2*exp(50)", "0").correct
    assert _timed("(10^30 + sqrt(2))^2 - 10^60 - 2*10^30*sqrt(2)", "2").correct


def test_rows_separated_by_semicolons_keep_the_brackets_of_their_entries() -> None:
    assert read("1 2; 3 sqrt(4)", AnswerSpec("matrix")).interpreted is not None
    assert _timed("1 2; 3 sqrt(4)", "[[1, 2], [3, 2]]", "matrix").correct
    assert _timed("[1 2; 3 sqrt(4)]", "[[1, 2], [3, 2]]", "matrix").correct
    assert _timed("(1, 2; 3, exp(0))", "[[1, 2], [3, 1]]", "matrix").correct


def test_a_long_power_said_in_words_is_read_in_bounded_time() -> None:
    # A review: the base of each 的平方 was searched from every digit of a long run: 4.3 s for
    # 2000 characters, more for this; a bounded search reads it in milliseconds.
    start = time.monotonic()
    v = check("1" * 3000 + "+" + "的平方" * 1000, "1", "real")
    assert time.monotonic() - start < HANG and not v.correct
