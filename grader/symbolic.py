"""Are two expressions equal? Evaluate both at random points, trusting only stable digits.

Symbols are positive reals unless the part says otherwise (then they take either sign), so
`ln(a*b)` equals `ln(a)+ln(b)` and `sqrt(x^2)` equals `x`. At each point both sides are
computed at two precisions; where the two disagree (cancellation: `(x+10^30)^2 - 10^60 -
2*10^30*x`, `sin(x)^2 + cos(x)^2 - 1`), the point is recomputed with more bits, up to a cap.
Digits that still move between precisions are noise and never decide a difference.
A point where either side is not a finite real (log of a negative, overflow) is skipped;
"cannot decide" is never "equal".
"""

from __future__ import annotations

import random
from fractions import Fraction
from functools import lru_cache

import sympy
from mpmath import libmp

from grader.numeric import Mpf, Unusable, evaluate, to_fraction

POINTS = 8  # points tried
AGREE_NEEDED = 4  # usable points that must agree (and none may differ)
EXACT_RTOL = Fraction(1, 10**20)  # both sides exact: equal to 20 digits at every point
_PRECISIONS = ((128, 256), (1024, 2048), (4096, 8192))  # bits; the next pair only when unstable


def _points(symbols: list[sympy.Symbol], seed: int) -> list[dict[sympy.Symbol, Mpf]]:
    """Deterministic points: each symbol in [0.5, 2.5] (either sign for a symbol that is only
    real), as exact binary fractions so both precisions see the same point."""
    rng = random.Random(seed)
    out = []
    for _ in range(POINTS):
        point = {}
        for s in symbols:
            k = rng.randint(2**19, 5 * 2**19)  # k / 2^20 in [0.5, 2.5]
            if not s.is_positive and rng.random() < 0.5:
                k = -k
            point[s] = libmp.from_man_exp(k, -20)
        out.append(point)
    return out


def _stable_pair(
    expr: sympy.Basic, point: dict[sympy.Symbol, Mpf], low: int, high: int
) -> tuple[Fraction, Fraction]:
    """(value at `high` bits, how much it moved from `low` bits): the second bounds the noise."""
    return _stable_pair_cached(expr, tuple(sorted(point.items(), key=lambda kv: kv[0].name)), low, high)


@lru_cache(maxsize=8192)
def _stable_pair_cached(
    expr: sympy.Basic, point: tuple[tuple[sympy.Symbol, Mpf], ...], low: int, high: int
) -> tuple[Fraction, Fraction]:
    # Cached because the points are fixed: a reference is evaluated once for a whole class.
    # Unusable is an exception, so it is not cached (and is cheap to find again).
    where = dict(point)
    lo = to_fraction(evaluate(expr, where, low))
    hi = to_fraction(evaluate(expr, where, high))
    return hi, abs(hi - lo)


def _compare_at(
    a: sympy.Basic, b: sympy.Basic, point: dict[sympy.Symbol, Mpf], rtol: Fraction
) -> bool | None:
    """True (agree), False (differ beyond noise and tolerance) or None (unusable point)."""
    try:
        for low, high in _PRECISIONS:
            va, noise_a = _stable_pair(a, point, low, high)
            vb, noise_b = _stable_pair(b, point, low, high)
            scale = max(abs(va), abs(vb))
            noise = noise_a + noise_b
            if noise <= scale / 10**12:  # the values are trustworthy to 12 digits at least
                break
    except Unusable:
        return None
    # Whatever noise is left after the last pair is treated as zero (sin^2+cos^2-1 vs 0).
    return abs(va - vb) <= rtol * scale + 2 * noise


def equivalent(a: sympy.Basic, b: sympy.Basic, rtol: Fraction | None) -> bool | None:
    """Whether a equals b as functions of their symbols: True, False, or None when too few points
    could be evaluated. rtol None means both sides are exact (agree to 20 digits)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    agree = 0
    for point in _points(symbols, seed=len(symbols) * 7919 + 12345):
        same = _compare_at(a, b, point, EXACT_RTOL if rtol is None else rtol)
        if same is False:
            return False
        if same:
            agree += 1
            if agree >= AGREE_NEEDED:
                return True
        if not symbols and same is not None:
            return True  # a constant needs one point
    return None


def ratio_at_a_point(a: sympy.Basic, b: sympy.Basic) -> Fraction | None:
    """a/b at the first point where both are usable and b is not 0 (to propose a factor)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    for point in _points(symbols, seed=len(symbols) * 7919 + 12345)[:3]:
        try:
            va = to_fraction(evaluate(a, point, 128))
            vb = to_fraction(evaluate(b, point, 128))
        except Unusable:
            continue
        if vb:
            return va / vb
    return None
