"""Shared by the loss and backprop families: LaTeX for given numbers, clean random numbers, softmax.

No family lives here; the registry imports this module like the others and finds nothing to register.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from problems.fmt import num


def bmatrix(rows: Sequence[Sequence[float]], digits: int = 12) -> str:
    """LaTeX of a matrix given as rows."""
    body = " \\\\ ".join(" & ".join(num(float(x), digits) for x in r) for r in rows)
    return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"


def column(xs: Sequence[float], digits: int = 12) -> str:
    """LaTeX of a column vector."""
    return bmatrix([[x] for x in xs], digits)


def row(xs: Sequence[float], digits: int = 12) -> str:
    """LaTeX of a row vector (1 x n matrix)."""
    return bmatrix([list(xs)], digits)


def tuple_text(xs: Sequence[float], digits: int = 12) -> str:
    """`(0.65, 0.43, 0.11)`: a vector written inline, as the seeds do."""
    return "(" + ", ".join(num(float(x), digits) for x in xs) + ")"


def decimals(
    rng: np.random.Generator, low: float, high: float, size: int | tuple[int, ...], places: int = 1
) -> np.ndarray:
    """Numbers with `places` decimals in [low, high]: what a hand calculation wants."""
    scale = 10**places
    return rng.integers(round(low * scale), round(high * scale) + 1, size=size) / scale


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Softmax of every row, shifted by the row maximum so that exp never overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log softmax of every row, computed as z - logsumexp(z) (exact even when a probability underflows)."""
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
