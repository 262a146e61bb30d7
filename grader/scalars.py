"""Numbers: tolerances by name, exact comparison, and why a wrong number is wrong.

Every value is an exact Fraction here: decimal text is an exact rational (1.6094 is
8047/5000), an irrational reference is its value to 40 digits. So boundaries are exact and
inclusive (1.05 is within 5% of 1) and 0.1 + 0.2 equals 0.3 with no float noise.
"""

from __future__ import annotations

import decimal
import math
import re
from fractions import Fraction
from typing import NamedTuple

from grader.feedback import NAMED_FACTORS, factor_message, say
from grader.parse import MAX_DIGITS, MAX_EXPONENT, normalize
from grader.spec import AnswerSpec, Verdict

DEFAULT_RTOL = Fraction(1, 200)  # "agrees to 3 significant figures": within 0.5% of the reference
DEFAULT_ATOL = Fraction(1, 10**9)  # the floor for a reference at (or near) zero

_LN10 = Fraction("2.302585092994045684017991454684364207601")  # ln(10) to 40 digits
_LN2 = Fraction("0.6931471805599453094172321214581765680755")  # ln(2) to 40 digits
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?(\d{1,4}))?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


class Tolerance(NamedTuple):
    """How close is close enough. `figures` set (sigfig mode): within half a unit of the
    reference's n-th significant figure (3.14 and 3.145 are pi to 3 figures, 3.15 is not); rtol
    then holds the equivalent relative bound, which expressions use at their random points."""

    rtol: Fraction
    atol: Fraction
    figures: int | None = None


def tolerances(spec: AnswerSpec) -> Tolerance:
    """The tolerance of a part, exact. Modes by name: rel_abs (default), sigfig, decimals."""
    rtol = Fraction(str(spec.rtol)) if spec.rtol is not None else DEFAULT_RTOL
    atol = Fraction(str(spec.atol)) if spec.atol is not None else DEFAULT_ATOL
    if spec.tolerance == "decimals":
        if spec.decimals is None:
            raise ValueError("tolerance='decimals' needs decimals=d")
        return Tolerance(Fraction(0), Fraction(1, 2) * Fraction(10) ** (-spec.decimals))
    if spec.sigfigs is not None or spec.tolerance == "sigfig":
        n = spec.sigfigs or 3
        return Tolerance(Fraction(1, 2) * Fraction(10) ** (1 - n), atol, n)
    return Tolerance(rtol, atol)


def close(a: Fraction, b: Fraction, rtol: Fraction, atol: Fraction, figures: int | None = None) -> bool:
    """|a - b| <= max(rtol*|b|, atol): relative to the reference b, boundaries included; with
    `figures`, |a - b| <= half a unit of b's figures-th significant figure.
    Floats decide when they are clearly on one side; a near-boundary case is decided exactly."""
    if figures is not None:
        rtol, atol = Fraction(0), (_half_unit(b, figures) if b else atol)
    try:
        fa, fb = float(a), float(b)
        gap, bound = abs(fa - fb), max(float(rtol) * abs(fb), float(atol))
        noise = 5e-16 * (abs(fa) + abs(fb)) + 1e-300  # rounding of the conversions and the subtraction
        if gap + noise < bound * (1 - 1e-9):
            return True
        if gap - noise > bound * (1 + 1e-9):
            return False
    except OverflowError:
        pass
    return abs(a - b) <= max(rtol * abs(b), atol)


def _half_unit(b: Fraction, figures: int) -> Fraction:
    """Half a unit in the figures-th significant place of b (3.14159, 3 figures: 0.005)."""
    x = abs(b)
    e = len(str(x.numerator // x.denominator)) - 1 if x >= 1 else -_leading_zeros(x) - 1
    return Fraction(1, 2) * Fraction(10) ** (e - figures + 1)


def _leading_zeros(x: Fraction) -> int:
    """For 0 < x < 1: how many zeros follow the decimal point before the first figure."""
    k = 0
    while x * 10 ** (k + 1) < 1:
        k += 1
    return k


def _plain_text(text: str) -> str | None:
    """The text of the one plain number `text` is (`-0.5`, `1.6e-3`, `7411500`), else None."""
    t = normalize(text)
    if "=" in t:
        t = t[t.rindex("=") + 1 :].strip()
    if _THOUSANDS.fullmatch(t):
        t = t.replace(",", "")
    m = _PLAIN.fullmatch(t)
    if m is None or (m.group(1) is not None and int(m.group(1)) > MAX_EXPONENT) or len(t) > MAX_DIGITS:
        return None  # a number of thousands of digits goes to the parser, which says what is wrong
    return t


def plain_number(text: str) -> Fraction | None:
    """The value of text that is one plain number (`-0.5`, `1.6e-3`, `7,411,500`), else None.
    The fast path: no parser, no sympy."""
    t = _plain_text(text)
    return None if t is None else Fraction(t)


def typed_figures(text: str) -> int | None:
    """How many significant figures were typed: 2 for `2.5` and `-0.016`, 3 for `9.96e6` and
    `2.50`, 1 for `3000` (trailing zeros of a whole number are not figures); None when the text
    is not one plain number, or is zero (no figures at all)."""
    t = _plain_text(text)
    if t is None or Fraction(t) == 0:
        return None
    mantissa = t.lower().lstrip("+-").partition("e")[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits if "." in mantissa else digits.rstrip("0"))


def is_plain_number(text: str) -> bool:
    """Is the text a single number, not arithmetic? (for parts that forbid arithmetic)"""
    return plain_number(text) is not None


# A value read exactly can be a fraction nobody recognises: 0.1*0.95^36 is 47 digits over 48.
# From this size of numerator or denominator on, a reader is shown it as a decimal to FIGURES
# significant figures (grading still uses the exact value); 1/3, 3/8 and 355/113 stay fractions.
LONG = 10**6
FIGURES = 6


def is_long(x: Fraction) -> bool:
    """Is x a fraction with more than 6 digits above or below the bar?"""
    return x.denominator != 1 and max(abs(x.numerator), x.denominator) >= LONG


def shown(x: Fraction) -> tuple[str, bool]:
    """A rational in plain syntax, and whether that text is rounded. 3, 0.25, 1/3 read back to
    the same value; a long fraction is a decimal to FIGURES figures (0.0157779), rounded unless
    those figures are its value."""
    if x.denominator == 1:
        return str(x.numerator), False
    try:
        as_float: float | None = float(x)
    except OverflowError:  # past a float's range (10^350/3): no float's text is x
        as_float = None
    if as_float is not None and Fraction(repr(as_float)) == x:
        return repr(as_float), False
    if not is_long(x):
        return f"{x.numerator}/{x.denominator}", False
    with decimal.localcontext(prec=FIGURES):
        d = (decimal.Decimal(x.numerator) / x.denominator).normalize()  # rounded once, to FIGURES
    text = format(d, "f" if Fraction(1, 10**4) <= abs(x) < 10**FIGURES else "g")  # as %g: 1.5e-7
    return text, Fraction(d) != x


def show(x: Fraction) -> str:
    """A rational as the "read as" echo writes it: 3, 0.25, 1/3; "≈ 0.0157779" for a long fraction."""
    text, rounded = shown(x)
    return f"≈ {text}" if rounded else text


def judge(
    got: Fraction,
    want: Fraction,
    spec: AnswerSpec,
    lang: str,
    interpreted: str | None,
    *,
    whole: int | None = None,
    decimal_given: bool = False,
    reference_exact: bool = False,
    reference_has_log: bool = False,
    typed: str | None = None,
    diagnose: bool = True,
) -> Verdict:
    """Judge a number against the reference. For integer parts `whole` is the answer's exact
    integer value (None if it is not a whole number); `typed` is the answer's text when it is
    one plain number (its figures decide whether "not precise enough" can be said). Without
    `diagnose`, a wrong answer is not told why (grader.matches)."""
    if spec.answer_type == "integer":
        if (whole is None or decimal_given) and whole != want and _rounded_integer(got, want, typed):
            # 9.96e6 for 9961920 connections: the value is right as far as it goes, the form is not
            return Verdict(False, 0.0, say("integer_rounded", lang), interpreted, "precision")
        if whole is None:
            return Verdict(False, 0.0, say("not_integer", lang), interpreted, "not_integer")
        ok = Fraction(whole) == want
    else:
        ok = close(got, want, *tolerances(spec))
        if ok and spec.exact and decimal_given and reference_exact and got != want:
            return Verdict(False, 0.0, say("exact_required", lang), interpreted, "exact_required")
    if ok:
        return Verdict(True, 1.0, say("correct", lang), interpreted)
    if not diagnose:
        return Verdict(False, 0.0, "", interpreted, "wrong")
    message, reason = why(got, want, spec, lang, reference_has_log, typed)
    return Verdict(False, 0.0, message, interpreted, reason)


def why(
    got: Fraction,
    want: Fraction,
    spec: AnswerSpec,
    lang: str,
    reference_has_log: bool = False,
    typed: str | None = None,
) -> tuple[str, str]:
    """The likeliest slip that turns the reference into this answer: sign, a factor, off by one,
    rounding too early; else just "not correct"."""
    tol = tolerances(spec) if spec.answer_type != "integer" else Tolerance(Fraction(0), Fraction(0))
    if want != 0 and close(-got, want, *tol):
        return say("sign", lang), "sign"
    if want != 0 and got != 0:
        for k in NAMED_FACTORS:
            for factor in (Fraction(k), Fraction(1, k)):
                if close(got, factor * want, *tol):
                    return factor_message(factor, lang), "factor"
    if spec.answer_type == "real" and want != 0 and reference_has_log:
        for base, ln_base in ((10, _LN10), (2, _LN2)):  # log10(5) where log(5) = ln(5) is asked
            if close(got * ln_base, want, *tol):
                return say("log_base", lang, b=base), "log_base"
    if spec.answer_type == "integer" and abs(got - want) == 1:
        return say("off_by_one", lang), "off_by_one"
    typed_n = typed_figures(typed) if typed is not None and spec.answer_type == "real" else None
    if rounded_reference(got, want, typed_n, tol):
        # The reference rounded to the figures typed, too few of them for the tolerance. An
        # answer with enough figures that is merely near (2.4897 for 2.54692) is not "imprecise".
        return say("precision", lang, n=figures_needed(want, tol)), "precision"
    return say("wrong", lang), "wrong"


def rounded_reference(got: Fraction, want: Fraction, typed: int | None, tol: Tolerance) -> bool:
    """Is `got` the reference rounded to the `typed` significant figures it was written with (2.5
    for 2.54692; 1 for 0.96 but not for 0.731), under a tolerance that more figures would meet?
    Such an answer is no evidence of any slip (nor of a misconception that rounds the same way):
    only of rounding too early."""
    if typed is None or want == 0 or not (tol.figures or tol.rtol or tol.atol):
        return False
    return _rounds_to(got, want, typed)


def _rounded_integer(got: Fraction, want: Fraction, typed: str | None) -> bool:
    """An integer part's answer that is its reference rounded to the figures typed (9.96e6 for
    9961920); text that is not one plain number (9.96*10^6) has no known figures: within 0.5%."""
    if typed is None:
        return abs(got - want) <= DEFAULT_RTOL * abs(want)
    figures = typed_figures(typed)
    return figures is not None and want != 0 and _rounds_to(got, want, figures)


def _rounds_to(got: Fraction, want: Fraction, figures: int) -> bool:
    """Is `got` `want` rounded to `figures` significant figures, a half away from zero (四舍五入)?
    A tie goes one way only: 2 is 1.5 rounded, 4 is not 4.5 rounded (it is 4.5 with the half lost)."""
    gap, half = abs(got - want), _half_unit(want, figures)
    return gap < half or (gap == half and abs(got) > abs(want))


def figures_needed(want: Fraction, tol: Tolerance) -> int:
    """How many significant figures of `want` meet the tolerance when rounded (3 for ln(5), 0.5%)."""
    if tol.figures:
        return tol.figures
    bound = max(tol.rtol * abs(want), tol.atol)
    return max(1, math.floor(_log10(abs(want))) - math.floor(_log10(2 * bound)) + 1)


def _log10(x: Fraction) -> float:
    return math.log10(x.numerator) - math.log10(x.denominator)
