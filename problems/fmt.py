"""Canonical answer text: how solvers write their values in the student syntax."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

Number = int | float | Fraction


def num(x: Number, digits: int = 12) -> str:
    """Write a number so that the grader reads back (nearly) the same value.

    Integers stay integers, Fractions stay exact (`3/4`), floats keep `digits`
    significant figures (plenty for any tolerance the bank uses) without float noise
    such as 0.30000000000000004.
    """
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    xf = float(x)
    if xf != xf or xf in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {x!r}")
    if xf == int(xf) and abs(xf) < 1e15:
        return str(int(xf))
    text = f"{xf:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}e{int(exp)}"
    return text


def vec(xs: Sequence[Number], digits: int = 12) -> str:
    """Write a vector: `[1, 2.5, -3]`."""
    return "[" + ", ".join(num(x, digits) for x in xs) + "]"


def mat(rows: Sequence[Sequence[Number]], digits: int = 12) -> str:
    """Write a matrix as a list of rows: `[[1, 2], [3, 4]]`."""
    return "[" + ", ".join(vec(r, digits) for r in rows) + "]"


def shape(dims: Sequence[int]) -> str:
    """Write a shape: `[32, 222, 222]`."""
    return "[" + ", ".join(str(int(d)) for d in dims) + "]"


# --- exact values: the number as the question wrote it -------------------------------


def exact(x: int | float | Fraction) -> Fraction:
    """Return the number as written (0.1 is 1/10, not the nearest double), so sums of products stay exact."""
    if isinstance(x, Fraction):
        return x
    return Fraction(x) if isinstance(x, int) else Fraction(repr(x))


def decimal_or_fraction(v: Fraction) -> str:
    """Write a terminating decimal as a decimal (0.25) and anything else as a fraction (7/3).

    A student writes 0.25 and 7/3; both read back as the exact value.
    """
    q = v.denominator
    for f in (2, 5):
        while q % f == 0:
            q //= f
    return num(float(v)) if q == 1 and len(str(v.denominator)) <= 12 else num(v)


def exact_vec(vs: Sequence[Fraction]) -> str:
    """Write exact values as a vector, each a decimal where it terminates: `[0.25, 7/3]`."""
    return "[" + ", ".join(decimal_or_fraction(v) for v in vs) + "]"


# --- LaTeX for worked solutions and statements ----------------------------------------


def tex_matrix(rows: Sequence[Sequence[Number]], digits: int = 12) -> str:
    """LaTeX of a matrix given as rows: `\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}`."""
    body = " \\\\ ".join(" & ".join(num(x, digits) for x in r) for r in rows)
    return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"


def tex_column(xs: Sequence[Number], digits: int = 12) -> str:
    """LaTeX of a column vector (n x 1 matrix)."""
    return tex_matrix([[x] for x in xs], digits)


def tex_row(xs: Sequence[Number], digits: int = 12) -> str:
    """LaTeX of a row vector (1 x n matrix)."""
    return tex_matrix([list(xs)], digits)


def tex_tuple(xs: Sequence[Number], digits: int = 12) -> str:
    """A vector written inline, as the seeds do: `(0.65, 0.43, 0.11)`."""
    return "(" + ", ".join(num(x, digits) for x in xs) + ")"


def tex_factor(x: Number, digits: int = 12) -> str:
    """A number after an operator in a worked step: negatives in brackets, `3 \\times (-2)`, `2 - (-1.222)`.

    Every number that follows +, -, \\times or \\cdot in a step goes through here (or `tex_exact` with
    parenthesise_negative), never `num` alone: `2 - -1.222` reads as a typo.
    """
    text = num(x, digits)
    return f"({text})" if x < 0 else text


def tex_fraction(v: Fraction) -> str:
    """LaTeX of an exact rational: an integer as it is, anything else as `-\\frac{1}{2}`."""
    if v.denominator == 1:
        return str(v.numerator)
    sign = "-" if v < 0 else ""
    return f"{sign}\\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"


def tex_exact(v: Fraction, parenthesise_negative: bool = False) -> str:
    """LaTeX of an exact value: a terminating decimal as a decimal, anything else as \\frac."""
    text = decimal_or_fraction(v)
    if "/" in text:
        text = tex_fraction(v)
    return f"({text})" if parenthesise_negative and v < 0 else text


def drop_round_off(xs: Sequence[float], atol: float = 1e-12) -> list[float]:
    """Zero the entries within `atol` of 0.

    A sum of decimals that cancels exactly (0.3 - 0.1 - 0.2) leaves binary round-off such as 2.8e-17;
    a worked solution shows it as the 0 a student gets by hand. Only for display: answers keep the value.
    """
    return [0.0 if abs(x) < atol else float(x) for x in xs]
