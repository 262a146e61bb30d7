"""Evaluate a sympy value at a point with mpmath's low-level arithmetic, at a fixed precision.

Why not sympy.N: its adaptive precision has no bound on work (`sin(10^300*x)`, towers of
exp), and mpmath's global context is not thread-safe. Here every operation takes an explicit
precision, magnitudes are capped (a value beyond 2^MAX_MAGNITUDE_BITS is "unusable at this
point", never computed) and the deadline is checked at every node.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from mpmath import libmp

from grader.limits import tick

Mpf = tuple  # mpmath's raw (sign, mantissa, exponent, bitcount)

MAX_MAGNITUDE_BITS = 20000  # |value| < 2^20000 (about 10^6000): (x-a)^6000 at |x-a| <= 2 fits
MAX_TRIG_ARGUMENT = 10**6  # sin(10^300) needs 1000 digits of pi; refused as unusable
_RND = libmp.round_nearest


class Unusable(Exception):
    """The value is not a finite real number here (or too large to compute)."""


def _magnitude(x: Mpf) -> int:
    """About log2|x| (an upper bound); -inf-ish for zero."""
    return x[2] + x[3] if x[1] else -(10**9)


def _checked(x: Mpf) -> Mpf:
    if x in (libmp.fnan, libmp.finf, libmp.fninf) or _magnitude(x) > MAX_MAGNITUDE_BITS:
        raise Unusable
    return x


def _is_zero(x: Mpf) -> bool:
    return x == libmp.fzero


def _positive(x: Mpf) -> bool:
    return libmp.mpf_sign(x) > 0


def evaluate(expr: sympy.Basic, point: dict[sympy.Symbol, Mpf], prec: int) -> Mpf:
    """The value of expr at point (symbol -> raw mpf) with prec bits; raises Unusable."""
    tick()
    if expr.is_Rational:
        return libmp.from_rational(int(expr.p), int(expr.q), prec, _RND)  # type: ignore[attr-defined]
    if expr.is_Symbol:
        if expr not in point:
            raise Unusable
        return point[expr]  # type: ignore[index]
    if expr.is_Float:
        return libmp.mpf_pos(expr._mpf_, prec, _RND)  # type: ignore[attr-defined]
    if expr is sympy.E:
        return libmp.mpf_e(prec)
    if expr is sympy.pi:
        return libmp.mpf_pi(prec)
    args = expr.args
    if expr.is_Add:
        total = libmp.fzero
        for a in args:
            total = libmp.mpf_add(total, evaluate(a, point, prec), prec, _RND)
        return _checked(total)
    if expr.is_Mul:
        product = libmp.fone
        for a in args:
            product = _checked(libmp.mpf_mul(product, evaluate(a, point, prec), prec, _RND))
        return product
    if expr.is_Pow:
        return _power(args[0], args[1], point, prec)
    if isinstance(expr, sympy.exp):
        return _exp(evaluate(args[0], point, prec + 20), prec)
    if isinstance(expr, sympy.log):
        x = evaluate(args[0], point, prec)
        if not _positive(x):
            raise Unusable
        return libmp.mpf_log(x, prec, _RND)
    if isinstance(expr, (sympy.sin, sympy.cos, sympy.tan)):
        x = evaluate(args[0], point, prec)
        if _magnitude(x) > MAX_TRIG_ARGUMENT.bit_length():
            raise Unusable
        fn = {sympy.sin: libmp.mpf_sin, sympy.cos: libmp.mpf_cos, sympy.tan: libmp.mpf_tan}[type(expr)]
        return _checked(fn(x, prec, _RND))
    if isinstance(expr, sympy.tanh):
        return libmp.mpf_tanh(evaluate(args[0], point, prec), prec, _RND)
    if isinstance(expr, sympy.Abs):
        return libmp.mpf_abs(evaluate(args[0], point, prec))
    if isinstance(expr, (sympy.Max, sympy.Min)):
        values = [evaluate(a, point, prec) for a in args]
        pick = max if isinstance(expr, sympy.Max) else min
        return pick(values, key=lambda v: _MpfKey(v))
    raise Unusable  # I, zoo, nan, oo and anything outside the whitelist


class _MpfKey:
    __slots__ = ("v",)

    def __init__(self, v: Mpf) -> None:
        self.v = v

    def __lt__(self, other: _MpfKey) -> bool:
        return bool(libmp.mpf_lt(self.v, other.v))


def _exp(x: Mpf, prec: int) -> Mpf:
    if _magnitude(x) > MAX_MAGNITUDE_BITS.bit_length() + 1:  # |x| above ~2^16: e^x beyond the cap
        if libmp.mpf_sign(x) < 0:
            return libmp.fzero  # underflows to 0 at any precision we use
        raise Unusable
    return _checked(libmp.mpf_exp(x, prec, _RND))


def _power(base_expr: sympy.Basic, exp_expr: sympy.Basic, point: dict[sympy.Symbol, Mpf], prec: int) -> Mpf:
    base = evaluate(base_expr, point, prec + 20)
    if exp_expr.is_Integer:
        n = int(exp_expr)  # type: ignore[call-overload]
        if _is_zero(base):
            if n < 0:
                raise Unusable
            return libmp.fone if n == 0 else libmp.fzero
        if abs(n) * max(abs(_magnitude(base)), 1) > MAX_MAGNITUDE_BITS:
            raise Unusable
        return _checked(libmp.mpf_pow_int(base, n, prec, _RND))
    if exp_expr == sympy.S.Half:
        if libmp.mpf_sign(base) < 0:
            raise Unusable
        return libmp.mpf_sqrt(base, prec, _RND)
    if _is_zero(base):
        e = evaluate(exp_expr, point, prec)
        if _positive(e):
            return libmp.fzero
        raise Unusable
    if not _positive(base):
        raise Unusable  # a negative base to a non-integer power is not real
    e = evaluate(exp_expr, point, prec + 20)
    log_base = libmp.mpf_log(base, prec + 40, _RND)
    return _exp(libmp.mpf_mul(e, log_base, prec + 40, _RND), prec)


def to_fraction(x: Mpf) -> Fraction:
    """The exact rational value of a raw mpf."""
    sign, man, exp, _ = x
    if not man:
        return Fraction(0)
    value = Fraction(man) * (Fraction(2) ** exp)
    return -value if sign else value


def value(expr: sympy.Basic, digits: int = 40) -> Fraction | None:
    """A number's value as an exact rational: exact for rationals, else to `digits` digits;
    None when it is not a finite real number (or too large)."""
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))  # type: ignore[attr-defined]
    if expr.free_symbols:
        return None
    bits = int(digits * 3.33) + 10
    try:
        # Two precisions, as in symbolic.py: where they disagree, digits were lost to
        # cancellation ((1+e^50)^2 - e^100 - 2e^50 is 1, but 0 at 143 bits), so go higher.
        for scale in (1, 8, 64):
            low = to_fraction(evaluate(expr, {}, bits * scale))
            high = to_fraction(evaluate(expr, {}, bits * scale * 2))
            if abs(high - low) * 10**digits <= abs(high):
                break
        return high  # still moving at 18,000 bits: a value that is 0 up to noise, and high is tiny
    except Unusable:
        return None
