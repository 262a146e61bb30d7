"""The grader: read student text with our own parser and judge it like a careful grader.

No eval, bounded work (limits.py), exact numbers (scalars.py), arrays and shapes (arrays.py),
expressions at random points (symbolic.py, numeric.py), bilingual feedback (feedback.py).
The rules, for TAs: docs/grading.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from grader import arrays, limits, numeric, scalars, symbolic
from grader.feedback import NAMED_FACTORS, both, factor_message, plural, say
from grader.parse import CONSTS, FUNCS, MAX_LEN, AnswerError, err, normalize
from grader.spec import ANSWER_TYPES, AnswerSpec, Verdict
from grader.values import read_array, read_scalar, read_shape, split_transpose

__all__ = [
    "AnswerError",
    "AnswerSpec",
    "Reading",
    "Verdict",
    "check",
    "grade",
    "matches",
    "read",
    "reading_once",
]

DEFAULT_RTOL = scalars.DEFAULT_RTOL  # agrees to 3 significant figures
DEFAULT_ATOL = scalars.DEFAULT_ATOL


def plain(v: Any) -> str:
    """The "read as" echo in the student syntax; "≈ " in front when it rounds a long fraction."""
    printer = _PlainPrinter()
    text = _plain(v, printer)
    return f"≈ {text}" if printer.rounded else text


def _plain(v: Any, printer: _PlainPrinter) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, list):
        return "[" + ", ".join(_plain(x, printer) for x in v) + "]"
    if isinstance(v, sympy.Integer):
        return str(int(v))
    s = printer.doprint(v).replace("**", "^")
    return re.sub(r"\bE\b", "e", s).replace("Abs(", "abs(").replace("Max(", "max(").replace("Min(", "min(")


def _looks_decimal(r: sympy.Rational) -> bool:
    return r.q != 1 and _is_decimal_denominator(int(r.q))


def _is_long(r: sympy.Rational) -> bool:
    return scalars.is_long(Fraction(int(r.p), int(r.q)))


class _ShortRationals:
    """A sympy printer mixin that writes a long fraction as a decimal (scalars.shown): 0.1*0.95^36
    read exactly was echoed as 47 digits over 48. `rounded` remembers whether it rounded one, for
    the echo's ≈; `times` is how it writes a coefficient's product."""

    times = "*"
    tex = False  # LaTeX writes 1.5e-7 as 1.5 \\times 10^{-7}: the "e" would be Euler's number there
    rounded = False
    parenthesize: Callable[[Any, int], str]  # the printer's own (StrPrinter's, LatexPrinter's)

    def _as_decimal(self, r: sympy.Rational) -> bool:
        return _is_long(r)

    def _print_Rational(self, expr: sympy.Rational) -> str:
        if self._as_decimal(expr):
            text, rounded = scalars.shown(Fraction(int(expr.p), int(expr.q)))
            self.rounded = self.rounded or rounded
            mantissa, e, exponent = text.partition("e")
            return f"{mantissa} \\times 10^{{{int(exponent)}}}" if self.tex and e else text
        return str(super()._print_Rational(expr))  # type: ignore[misc]

    def _print_Mul(self, expr: sympy.Mul) -> str:
        # sympy writes a rational coefficient over the bar (x/7^30), never through _print_Rational
        c, rest = expr.as_coeff_Mul()
        if c.is_Rational and self._as_decimal(c) and rest is not sympy.S.One:
            sign = "-" if c < 0 else ""
            factor = self.parenthesize(rest, precedence(expr))
            return sign + self._print_Rational(abs(c)) + self.times + factor
        return str(super()._print_Mul(expr))  # type: ignore[misc]


class _KeepDecimals(_ShortRationals):
    """A printer that also writes a decimal coefficient as a decimal, `0.5065*v1`, not `1013*v1/2000`."""

    def _as_decimal(self, r: sympy.Rational) -> bool:
        return _looks_decimal(r) or _is_long(r)


class _PlainPrinter(_KeepDecimals, StrPrinter):
    """sympy's str form, decimals kept (the "read as" echo)."""


class _FractionLatexPrinter(_ShortRationals, LatexPrinter):
    """The live preview's LaTeX for an answer typed without decimals: 1/16 stays a sixteenth
    (sympy's own printer), a long fraction does not."""

    times = " "
    tex = True


class _DecimalLatexPrinter(_KeepDecimals, LatexPrinter):
    """The live preview's LaTeX for an answer typed with decimals: 1.0986, not \\frac{5493}{5000} (a
    student took that for a misreading). An answer typed without decimals keeps its fractions
    (_FractionLatexPrinter)."""

    times = " "
    tex = True

    def _print_ExpBase(self, expr: sympy.Expr, exp: str | None = None) -> str:
        # sqrt(e) is exp(1/2) to sympy: e^{\\frac{1}{2}}, as before, not e^{0.5}
        return str(LatexPrinter()._print_ExpBase(expr, exp))


def _is_decimal_denominator(q: int) -> bool:
    for f in (2, 5):
        while q % f == 0:
            q //= f
    return q == 1


_TYPED_DECIMAL = re.compile(r"\d\.\d|\.\d|\d[eE][+-]?\d")


class Reading:
    def __init__(self, value: Any, text: str = "") -> None:
        self.value = value
        self.interpreted = plain(value)
        self.decimals = bool(_TYPED_DECIMAL.search(text))  # typed with decimals: shown with them

    @property
    def latex(self) -> str | None:
        """The value in LaTeX (computed on demand: it costs more than the check itself)."""
        if isinstance(self.value, (list, tuple, str)):
            return None
        try:
            printer = _DecimalLatexPrinter() if self.decimals else _FractionLatexPrinter()
            tex = str(printer.doprint(self.value))
            return f"\\approx {tex}" if printer.rounded else tex
        except Exception:
            return None

    def floats(self) -> Any:
        def f(v: Any) -> Any:
            if isinstance(v, list):
                return [f(x) for x in v]
            x = numeric.value(v, 20)
            return float(x) if x is not None else float("nan")

        return list(self.value) if isinstance(self.value, tuple) else f(self.value)


def read(text: str, spec: AnswerSpec | str) -> Reading:
    spec = AnswerSpec(spec) if isinstance(spec, str) else spec  # type: ignore[arg-type]
    if len(text) > MAX_LEN:
        raise err(*both("too_long", n=MAX_LEN))
    t = spec.answer_type
    if t == "text":
        return Reading(text)
    if t == "choice":
        letters = _choice_letters(text)
        if not letters or (spec.choices and any(c not in spec.choices for c in letters)):
            raise err("请写选项字母", "write the option letter(s)")
        return Reading("".join(sorted(set(letters))))
    if t == "shape":
        return Reading(read_shape(text))
    if t in ("vector", "matrix"):
        body, transposed = split_transpose(text)
        value = read_array(body, spec.symbols, spec.symbols_real)
        if t == "matrix" and value and not isinstance(value[0], list):
            value = [value]
        _check_rectangular(value)
        if transposed and value and isinstance(value[0], list):
            value = [list(column) for column in zip(*value, strict=True)]  # (1, 2, 3)^T is a column
        if t == "vector" and value and all(isinstance(v, list) for v in value):
            # A vector written as a row [[1, 2]] or a column 1; 2 is that vector, answer or
            # reference alike (∂L/∂U of a 1×m U is naturally written as a row); a table stays one.
            if len(value) == 1:
                value = value[0]
            elif all(len(v) == 1 for v in value):
                value = [v[0] for v in value]
        return Reading(value)
    return Reading(read_scalar(text, spec.symbols, spec.symbols_real), normalize(text))


def _check_rectangular(value: list[Any]) -> None:
    """Every row as long as the first, and no row mixed with single numbers: a ragged matrix has
    no shape to compare ("could not be judged" before, and a ragged reference matched itself)."""
    rows = [isinstance(v, list) for v in value]
    if any(rows) and not all(rows):
        raise err("矩阵的每一行都应是一个列表", "every row of a matrix is a list: [[1, 2], [3, 4]]")
    if all(rows) and value:
        lengths = [len(v) for v in value]
        for i, n in enumerate(lengths):
            if n != lengths[0]:
                raise err(
                    f"矩阵各行长度不同：第 1 行有 {lengths[0]} 个元素，第 {i + 1} 行有 {n} 个",
                    f"the rows differ in length: row 1 has {lengths[0]} {plural(lengths[0], 'entry', 'entries')}, "
                    f"row {i + 1} has {n}",
                )
        for v in value:
            _check_rectangular(v)


@lru_cache(maxsize=20000)
def _ref(reference: str, spec: AnswerSpec) -> Reading:
    return read(reference, spec)


def _num(v: sympy.Expr, digits: int = 40) -> Fraction | None:
    """The value of a number as an exact rational (to `digits` digits unless it is rational)."""
    return numeric.value(v, digits)


def _msg(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _equiv_expr(a: sympy.Expr, b: sympy.Expr, spec: AnswerSpec, inexact: bool) -> bool | None:
    """Equal at random points (symbolic.py): to 20 digits when both sides are exact, to the
    part's relative tolerance when either was written with decimals."""
    return symbolic.equivalent(a, b, scalars.tolerances(spec).rtol if inexact else None)


def grade(answer: str, reference: str, spec: AnswerSpec, lang: str = "en") -> Verdict:
    """Judge one answer against a reference written in the same syntax; never raises."""
    try:
        with limits.bounded():
            return _grade(answer, reference, spec, lang)
    except limits.OutOfTime:
        return Verdict(False, 0.0, say("timeout", lang), None, "timeout")
    except AnswerError as e:
        return Verdict(False, 0.0, e.explain(lang), None, "parse_error")
    except Exception:  # a promise of the contract: no text makes check() raise
        return Verdict(False, 0.0, say("internal", lang), None, "parse_error")


def matches(answer: str, reference: str, spec: AnswerSpec) -> bool:
    """Whether grade() would judge the answer right against this reference, without working out
    what is wrong when it is not (sign, a factor, transposed, ...): an instance's misconceptions are
    each matched this way, and that diagnosis, made for every one of them, was most of the time a
    wrong answer took (rnn.gru_step: 1.7 ms for one answer of 0). Never raises."""
    try:
        with limits.bounded():
            return _grade(answer, reference, spec, "en", diagnose=False).correct
    except Exception:  # unreadable, out of time, or any other failure: not a match
        return False


def _grade(answer: str, reference: str, spec: AnswerSpec, lang: str, diagnose: bool = True) -> Verdict:
    """`diagnose`: say what is wrong with a wrong answer (else only whether it is right: matches)."""
    t = spec.answer_type
    if t == "text":
        return Verdict(False, 0.0, say("manual", lang), None, "manual")
    if t == "choice":
        return _choice(answer, reference, spec, lang)
    if not answer or not answer.strip():
        return Verdict(False, 0.0, say("empty", lang), None, "parse_error")
    if t in ("integer", "real"):
        quick = scalars.plain_number(answer)
        if quick is not None:  # the common case: one plain number, judged without sympy
            want = _ref_number(reference, spec)
            whole = quick.numerator if quick.denominator == 1 else None
            return scalars.judge(
                quick,
                want,
                spec,
                lang,
                scalars.show(quick),
                whole=whole,
                decimal_given=_decimal_text(answer),
                reference_exact=not _decimal_text(reference),
                reference_has_log=_mentions_log(reference),
                typed=answer,
                diagnose=diagnose,
            )
    ref = _ref(reference, spec)
    got = _read_answer(answer, spec)
    if not spec.arithmetic and t in ("integer", "real") and not scalars.is_plain_number(answer):
        return Verdict(False, 0.0, say("arithmetic", lang), got.interpreted, "arithmetic")
    if t == "shape":
        return arrays.judge_shape(got.value, ref.value, lang, got.interpreted)
    if t in ("vector", "matrix"):
        return _array(got, ref, answer, spec, lang, diagnose)
    a, b = got.value, ref.value
    if t == "expression":
        return _expression(a, b, answer, reference, spec, lang, got.interpreted, diagnose)
    if a.free_symbols:
        names = ", ".join(sorted(s.name for s in a.free_symbols))
        return Verdict(False, 0.0, say("symbols_not_here", lang, names=names), got.interpreted, "parse_error")
    fa = _num(a)
    if fa is None:
        return Verdict(False, 0.0, say("not_finite", lang), got.interpreted, "not_finite")
    return scalars.judge(
        fa,
        _ref_number(reference, spec),
        spec,
        lang,
        got.interpreted,
        whole=_whole_number(a) if t == "integer" else None,
        decimal_given=_decimal_text(answer),
        reference_exact=not _decimal_text(reference),
        reference_has_log=_mentions_log(reference),
        diagnose=diagnose,
    )


# What one student's text read as, while it is judged against its reference and then against each
# misconception (problems.grade_answers): each match read it again, a matrix at ~0.1 ms a time.
# Kept only inside `reading_once`, so no check is ever answered from another's readings.
_READINGS: ContextVar[dict[tuple[str, AnswerSpec], Reading] | None] = ContextVar("readings", default=None)


@contextmanager
def reading_once() -> Iterator[None]:
    """Within the block, a text read once for a spec is not read again (nothing changes a Reading)."""
    token = _READINGS.set({})
    try:
        yield
    finally:
        _READINGS.reset(token)


def _read_answer(text: str, spec: AnswerSpec) -> Reading:
    readings = _READINGS.get()
    if readings is None:
        return read(text, spec)
    key = (text, spec)
    if key not in readings:
        readings[key] = read(text, spec)  # text that cannot be read raises, and is not kept
    return readings[key]


@lru_cache(maxsize=20000)
def _ref_number(reference: str, spec: AnswerSpec) -> Fraction:
    quick = scalars.plain_number(reference)
    if quick is not None:
        return quick
    value = _num(_ref(reference, spec).value)
    if value is None:
        raise ValueError(f"the reference {reference!r} is not a finite real number")
    return value


def _expression(
    a: sympy.Expr,
    b: sympy.Expr,
    answer: str,
    reference: str,
    spec: AnswerSpec,
    lang: str,
    interpreted: str,
    diagnose: bool = True,
) -> Verdict:
    decimals = _decimal_text(answer) or bool(a.atoms(sympy.Float))
    if spec.exact and decimals and not _decimal_text(reference):
        same = _equiv_expr(a, b, spec, True)
        reason = "exact_required" if same else "wrong"
        return Verdict(False, 0.0, say(reason if same else "not_equivalent", lang), interpreted, reason)
    ok = _equiv_expr(a, b, spec, decimals or _decimal_text(reference))
    if ok is None:
        return Verdict(False, 0.0, say("undecided", lang), interpreted, "undecided")
    if ok and spec.simplified and sympy.count_ops(a) > sympy.count_ops(b):
        # count_ops walks the tree once: linear in the answer's size, which the token limit bounds
        return Verdict(False, 0.0, say("not_simplified", lang), interpreted, "not_simplified")
    if ok:
        return Verdict(True, 1.0, say("correct", lang), interpreted)
    if not diagnose:
        return Verdict(False, 0.0, "", interpreted, "wrong")
    message, reason = _why_expression(a, b, lang)
    return Verdict(False, 0.0, message, interpreted, reason)


def _why_expression(a: sympy.Expr, b: sympy.Expr, lang: str) -> tuple[str, str]:
    """A wrong expression: missing or extra symbols, the sign, or a constant factor (the ratio
    at one point proposes a factor; equivalence at all points confirms it)."""
    missing = sorted(s.name for s in b.free_symbols - a.free_symbols)
    if missing:
        return say("missing_symbol", lang, names=", ".join(missing)), "wrong"
    extra = sorted(s.name for s in a.free_symbols - b.free_symbols)
    if extra:
        return say("extra_symbol", lang, names=", ".join(extra)), "wrong"
    ratio = symbolic.ratio_at_a_point(a, b)
    if ratio is not None:
        candidates = (
            [Fraction(-1)] + [Fraction(k) for k in NAMED_FACTORS] + [Fraction(1, k) for k in NAMED_FACTORS]
        )
        for factor in candidates:
            if abs(ratio - factor) <= abs(factor) / 10**9:
                if symbolic.equivalent(a, sympy.Rational(factor.numerator, factor.denominator) * b, None):
                    return (
                        (say("sign", lang), "sign")
                        if factor == -1
                        else (factor_message(factor, lang), "factor")
                    )
                break
    return say("not_equivalent", lang), "wrong"


def _whole_number(a: sympy.Expr) -> int | None:
    """The integer `a` is, decided exactly: a rational must have denominator 1; another value
    (sqrt(16), log(8)/log(2)) is evaluated with enough digits for its size and must be within
    1e-9 of an integer. Never through a float, so 2^64 - 1 stays exact."""
    if a.is_Rational:
        return int(a.p) if a.q == 1 else None
    rough = _num(a)
    if rough is None:
        return None
    precise = _num(a, len(str(int(abs(rough)))) + 20)  # enough digits for the integer part
    if precise is None:
        return None
    nearest = round(precise)
    return nearest if abs(precise - nearest) <= Fraction(1, 10**9) else None


def _mentions_log(reference: str) -> bool:
    return bool(re.search(r"\b(log|ln)\(", reference))


def _decimal_text(text: str) -> bool:
    return bool(re.search(r"\d\.\d|\d[eE][+-]?\d", normalize(text)))


def _array(
    got: Reading, ref: Reading, answer: str, spec: AnswerSpec, lang: str, diagnose: bool = True
) -> Verdict:
    a, b, t = got.value, ref.value, spec.answer_type
    entries = arrays.flat(a)
    if any(not x.is_Rational and x.free_symbols for x in entries):
        return Verdict(False, 0.0, say("numbers_here", lang), got.interpreted, "parse_error")
    values_a = [_num(x) for x in entries]
    if any(v is None for v in values_a):
        return Verdict(False, 0.0, say("not_finite", lang), got.interpreted, "not_finite")
    values_b = _ref_entries(ref)

    def figures() -> list[int | None] | None:
        """The figures typed in each entry: they say whether a wrong entry is the reference rounded.
        Read only for a wrong answer (the text is scanned again: a tenth of a check's grading)."""
        body, transposed = split_transpose(answer)
        if transposed and t == "matrix":  # its entries are typed in another order than compared
            return None
        return arrays.typed_figures_of(body, values_a)  # type: ignore[arg-type]

    return arrays.judge_array(a, b, values_a, values_b, spec, lang, got.interpreted, diagnose, figures)  # type: ignore[arg-type]


def _ref_entries(ref: Reading) -> list[Fraction]:
    """The reference's entries as exact numbers, computed once per reference."""
    cached = getattr(ref, "_entries", None)
    if cached is None:
        cached = [_num(x) for x in arrays.flat(ref.value)]
        if any(v is None for v in cached):
            raise ValueError("the reference has an entry that is not a finite real number")
        ref._entries = cached  # type: ignore[attr-defined]
    return cached


_TF = {
    "T": "T",
    "TRUE": "T",
    "对": "T",
    "正确": "T",
    "√": "T",
    "✓": "T",
    "是": "T",
    "F": "F",
    "FALSE": "F",
    "错": "F",
    "错误": "F",
    "×": "F",
    "✗": "F",
    "否": "F",
    "不对": "F",
    "不正确": "F",
    "不是": "F",
}
# 选A, （A）, A., A、C: the letters are what counts; the rest is how an IME or a paper writes them
_CHOICE_PREFIX = re.compile("^(?:选择|选)")
_CHOICE_MARKS = re.compile(r"[\s,;、/().\[\]]+")
_TF_MARKS = re.compile(r"^[\s(\[]+|[\s)\].]+$")


def _choice_letters(text: str) -> str:
    return _CHOICE_MARKS.sub("", _CHOICE_PREFIX.sub("", normalize(text)).upper())


def _choice(answer: str, reference: str, spec: AnswerSpec, lang: str) -> Verdict:
    text = normalize(answer).upper() if answer else ""
    if not text:
        return Verdict(False, 0.0, _msg(lang, "答案为空。", "The answer is empty."), None, "parse_error")
    keys = set(spec.choices)
    if keys == {"T", "F"} or keys <= {"T", "F"}:
        raw = answer.strip()
        # （F）, (T), F., 选F: marks around the word as on a choice (a walk-through found them refused)
        bare = _TF_MARKS.sub("", _CHOICE_PREFIX.sub("", text))  # at the ends only: (不)对 is no answer
        got = _TF.get(text, _TF.get(raw, _TF.get(bare)))
        if got is None:
            return Verdict(
                False,
                0.0,
                _msg(lang, "请回答 对/错（T/F）。", "Answer true or false (T/F)."),
                None,
                "parse_error",
            )
        picked = {got}
    else:
        letters = _choice_letters(answer)
        if not letters or any(c not in keys for c in letters):
            return Verdict(
                False,
                0.0,
                _msg(
                    lang,
                    f"请选择 {'、'.join(spec.choices)} 中的选项。",
                    f"Choose from {', '.join(spec.choices)}.",
                ),
                None,
                "parse_error",
            )
        if len(letters) != len(set(letters)):
            return Verdict(
                False, 0.0, _msg(lang, "每个选项只写一次。", "Name each option once."), None, "parse_error"
            )
        picked = set(letters)
    want = set(re.sub(r"[\s,]+", "", reference.upper()))
    interp = "".join(sorted(picked))
    if picked == want:
        return Verdict(True, 1.0, say("correct", lang), interp)
    extra, missing = picked - want, want - picked
    if not extra:
        return Verdict(False, 0.0, say("choice_missing", lang), interp, "missing_option")
    if not missing:
        return Verdict(False, 0.0, say("choice_extra", lang), interp, "wrong_option")
    if len(picked) == len(want) == 1:  # one letter for another: there is nothing more to say
        return Verdict(False, 0.0, say("wrong", lang), interp, "wrong")
    return Verdict(False, 0.0, say("choice_extra_and_missing", lang), interp, "wrong_option")


def check(
    answer: str,
    reference: str,
    answer_type: str = "expression",
    rtol: float | None = None,
    atol: float | None = None,
    sigfigs: int | None = None,
    *,
    lang: str = "en",
    **fields: Any,
) -> Verdict:
    """The library form of api-contract.md; never raises."""
    if answer_type not in ANSWER_TYPES:
        return Verdict(False, 0.0, f"unknown answer type {answer_type!r}", None, "parse_error")
    if answer_type == "expression" and "symbols" not in fields:
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", normalize(reference))) - FUNCS - CONSTS
        fields["symbols"] = tuple(sorted(names))
    spec = AnswerSpec(answer_type, rtol=rtol, atol=atol, sigfigs=sigfigs, **fields)  # type: ignore[arg-type]
    return grade(answer, reference, spec, lang)
