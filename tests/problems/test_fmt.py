"""problems.fmt: answer text the grader reads back to the same value, and the LaTeX of worked solutions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader import read
from problems.fmt import (
    decimal_or_fraction,
    drop_round_off,
    exact,
    exact_vec,
    mat,
    num,
    shape,
    tex_column,
    tex_exact,
    tex_factor,
    tex_fraction,
    tex_matrix,
    tex_row,
    tex_tuple,
    vec,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (True, "1"),
        (-0.5, "-0.5"),
        (0.1 + 0.2, "0.3"),  # no float noise 0.30000000000000004
        (2.0, "2"),
        (np.float64(1.25), "1.25"),
        (np.int64(7), "7"),
        (Fraction(3, 4), "3/4"),
        (Fraction(8, 4), "2"),
        (1e-7, "1e-7"),
        (1.5e20, "1.5e20"),
    ],
)
def test_num(value: float, text: str) -> None:
    assert num(value) == text


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_num_refuses_non_finite(bad: float) -> None:
    with pytest.raises(ValueError):
        num(bad)


def test_num_reads_back_to_the_same_value() -> None:
    rng = np.random.default_rng(0)
    for x in rng.normal(0, 1, 500) * 10.0 ** rng.integers(-6, 7, 500):
        got = read(num(float(x)), "real").floats()
        assert got == pytest.approx(float(x), rel=1e-11)


def test_vectors_matrices_shapes() -> None:
    assert vec([1, 2.5, -3.0]) == "[1, 2.5, -3]"
    assert mat([[1, 2], [3, 0.25]]) == "[[1, 2], [3, 0.25]]"
    assert shape((32, 222, 222)) == "[32, 222, 222]"
    assert read(mat([[1, 2], [3, 0.25]]), "matrix").floats() == [[1, 2], [3, 0.25]]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        (0.1, Fraction(1, 10)),
        (0.3, Fraction(3, 10)),
        (-2.5, Fraction(-5, 2)),
        (7, Fraction(7)),
        (1e-5, Fraction(1, 100000)),
    ],
)
def test_exact_is_the_number_as_written(written: float, value: Fraction) -> None:
    assert exact(written) == value
    assert exact(value) is value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1, 4), "0.25"),
        (Fraction(-1, 8), "-0.125"),
        (Fraction(3), "3"),
        (Fraction(7, 3), "7/3"),
        (Fraction(-98, 9), "-98/9"),
        (Fraction(1, 2**50), f"1/{2**50}"),  # terminates, but after more digits than anyone writes
    ],
)
def test_decimal_or_fraction(value: Fraction, text: str) -> None:
    assert decimal_or_fraction(value) == text


def test_decimal_or_fraction_round_trips_exactly() -> None:
    rng = np.random.default_rng(1)
    for p, q in zip(rng.integers(-999, 1000, 400), rng.integers(1, 400, 400), strict=True):
        v = Fraction(int(p), int(q))
        assert Fraction(decimal_or_fraction(v)) == v
    assert exact_vec([Fraction(1, 4), Fraction(7, 3)]) == "[0.25, 7/3]"


def test_tex_matrix_column_row_tuple() -> None:
    assert tex_matrix([[1, -2], [0.5, 3]]) == "\\begin{bmatrix} 1 & -2 \\\\ 0.5 & 3 \\end{bmatrix}"
    assert tex_column([1, 2]) == "\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}"
    assert tex_row([1, 2]) == "\\begin{bmatrix} 1 & 2 \\end{bmatrix}"
    assert tex_tuple([0.65, 0.43, 0.11]) == "(0.65, 0.43, 0.11)"
    assert tex_matrix([[1 / 3]], 4) == "\\begin{bmatrix} 0.3333 \\end{bmatrix}"


@pytest.mark.parametrize(("value", "text"), [(3, "3"), (-2, "(-2)"), (-0.5, "(-0.5)"), (0, "0")])
def test_tex_factor_brackets_negatives(value: float, text: str) -> None:
    assert tex_factor(value) == text


@pytest.mark.parametrize(
    ("value", "fraction", "exact_text", "bracketed"),
    [
        (Fraction(1, 2), "\\frac{1}{2}", "0.5", "0.5"),
        (Fraction(-1, 2), "-\\frac{1}{2}", "-0.5", "(-0.5)"),
        (Fraction(-7, 3), "-\\frac{7}{3}", "-\\frac{7}{3}", "(-\\frac{7}{3})"),
        (Fraction(4), "4", "4", "4"),
    ],
)
def test_tex_fraction_and_tex_exact(value: Fraction, fraction: str, exact_text: str, bracketed: str) -> None:
    assert tex_fraction(value) == fraction
    assert tex_exact(value) == exact_text
    assert tex_exact(value, parenthesise_negative=True) == bracketed


def test_drop_round_off_zeroes_only_cancellations() -> None:
    cancelled = 0.3 - 0.1 - 0.2  # -2.8e-17 in binary floating point
    assert cancelled != 0
    assert drop_round_off([cancelled, 1e-6, -0.5, 2.776e-17]) == [0.0, 1e-6, -0.5, 0.0]
    assert tex_column(drop_round_off([cancelled]), 4) == "\\begin{bmatrix} 0 \\end{bmatrix}"
