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
