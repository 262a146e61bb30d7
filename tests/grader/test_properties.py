"""Properties over many texts (hypothesis): any text gives a Verdict without raising, within a
generous bound (a hang detector, not a speed test); what was read re-reads to the same value."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import AnswerError, AnswerSpec, Verdict, arrays, check, read, symbolic

HANG = 3.0  # seconds; the grader's own bound is 1 s
TYPES = ["integer", "real", "vector", "matrix", "shape", "expression", "choice", "text"]
BOUNDED = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

# --- a grammar of what students type, and of what they mistype ----------------------------------------

ATOMS = st.sampled_from(
    ["x", "y", "2", "0.5", "3", "1e-3", "7,411,500", "e", "pi", "π", "10", "0", "1/2", "２", "−1", "y_hat"]
)
FUNCTIONS = ["sqrt", "exp", "ln", "log", "log2", "log10", "sin", "cos", "tan", "tanh", "sigmoid", "abs", "√"]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, st.sampled_from(["+", "-", "*", "/", "^", "**", "×", "·", " ", ""]), children
    )
    return st.one_of(
        binary.map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
    )


EXPRESSIONS = st.recursive(ATOMS, _combine, max_leaves=12)
# Mistypes: an expression with a random character inserted or a piece cut away.
BROKEN = st.tuples(EXPRESSIONS, st.integers(0, 40), st.sampled_from(list("()[],;=*^.%$ _xX\\'\"|"))).map(
    lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
)
LISTS = st.lists(EXPRESSIONS, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")


def _timed_check(text: str, reference: str, answer_type: str) -> Verdict:
    start = time.monotonic()
    v = check(text, reference, answer_type)
    elapsed = time.monotonic() - start
    assert elapsed < HANG, f"{text!r} took {elapsed:.1f} s"
    assert isinstance(v, Verdict) and isinstance(v.correct, bool) and 0.0 <= v.score <= 1.0 and v.feedback
    return v


@BOUNDED
@given(text=st.text(max_size=60), answer_type=st.sampled_from(TYPES))
def test_any_unicode_text_gets_a_verdict(text: str, answer_type: str) -> None:
    reference = {"vector": "[1, 2]", "matrix": "[[1, 2], [3, 4]]", "shape": "[3, 4]", "choice": "A"}
    _timed_check(
        text, reference.get(answer_type, "x + 1" if answer_type == "expression" else "2"), answer_type
    )


@BOUNDED
@given(text=st.one_of(EXPRESSIONS, BROKEN), answer_type=st.sampled_from(["real", "expression", "integer"]))
def test_any_expression_gets_a_verdict(text: str, answer_type: str) -> None:
    reference = "x*y + sqrt(x)" if answer_type == "expression" else "1.5"
    _timed_check(text, reference, answer_type)


@BOUNDED
@given(text=st.one_of(LISTS, BROKEN), answer_type=st.sampled_from(["vector", "matrix", "shape"]))
def test_any_list_gets_a_verdict(text: str, answer_type: str) -> None:
    _timed_check(text, "[[1, 2], [3, 4]]" if answer_type == "matrix" else "[1, 2, 3]", answer_type)


def _same(a: object, b: object, rtol: Fraction | None = None) -> bool:
    """a equals b (rtol None), or agrees with it to rtol."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, sympy.Basic) and isinstance(b, sympy.Basic):
        return a == b or symbolic.equivalent(a, b, rtol) is True
    return a == b


@BOUNDED
@given(text=st.one_of(EXPRESSIONS, LISTS))
def test_interpreted_reads_back_to_the_same_value(text: str) -> None:
    spec = AnswerSpec("vector" if text.startswith("[") else "expression", symbols=("x", "y", "y_hat"))
    try:
        first = read(text, spec)
    except AnswerError:
        return  # refused with a message: nothing was interpreted
    values = arrays.flat(first.value)
    if any(v.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo) or v.is_real is False for v in values):
        return  # not a real number (log2(2-e) too); the grader refuses it as an answer anyway
    again = read(first.interpreted, spec)
    # An echo that rounds a long fraction to 6 figures says so with ≈, and re-reads to those figures.
    rtol = Fraction(1, 10**5) if first.interpreted.startswith("≈") else None
    assert _same(again.value, first.value, rtol), (text, first.interpreted, again.interpreted)


@pytest.mark.parametrize("text", ["0.1*0.95^36", "[1/7^30, x/3]", "x + 123456789/7"])
def test_a_rounded_echo_reads_back_to_six_figures(text: str) -> None:
    spec = AnswerSpec("vector" if text.startswith("[") else "expression", symbols=("x",))
    first = read(text, spec)
    again = read(first.interpreted, spec)
    assert first.interpreted.startswith("≈ ") and not _same(again.value, first.value)
    assert _same(again.value, first.value, Fraction(1, 10**5)), (first.interpreted, again.interpreted)
