"""Fallback grader: read student text with our own parser and judge it (no eval, bounded work)."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy

from grader import limits, numeric, symbolic
from grader.parse import AnswerError, err, normalize
from grader.spec import ANSWER_TYPES, AnswerSpec, Verdict
from grader.values import read_array, read_scalar, read_shape

__all__ = ["AnswerError", "AnswerSpec", "Reading", "Verdict", "check", "grade", "read"]

DEFAULT_RTOL = Fraction(1, 200)  # agrees to 3 significant figures
DEFAULT_ATOL = Fraction(1, 10**9)


def plain(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, list):
        return "[" + ", ".join(plain(x) for x in v) + "]"
    if isinstance(v, sympy.Rational) and v.q != 1 and _is_decimal_denominator(int(v.q)):
        return str(Fraction(int(v.p), int(v.q)).__float__()) if len(str(v.q)) < 16 else sympy.sstr(v)
    s = sympy.sstr(v).replace("**", "^")
    return re.sub(r"\bE\b", "e", s).replace("Abs(", "abs(").replace("Max(", "max(").replace("Min(", "min(")


def _is_decimal_denominator(q: int) -> bool:
    for f in (2, 5):
        while q % f == 0:
            q //= f
    return q == 1


class Reading:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.interpreted = plain(value)

    @property
    def latex(self) -> str | None:
        """The value in LaTeX (computed on demand: it costs more than the check itself)."""
        if isinstance(self.value, (list, tuple, str)):
            return None
        try:
            return str(sympy.latex(self.value))
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
    if len(text) > 2000:
        raise err("答案太长", "the answer is too long")
    t = spec.answer_type
    if t == "text":
        return Reading(text)
    if t == "choice":
        letters = re.sub(r"[\s,;、/]+", "", normalize(text).upper())
        if not letters or (spec.choices and any(c not in spec.choices for c in letters)):
            raise err("请写选项字母", "write the option letter(s)")
        return Reading("".join(sorted(set(letters))))
    if t == "shape":
        return Reading(read_shape(text))
    if t in ("vector", "matrix"):
        value = read_array(text, spec.symbols, spec.symbols_real)
        if t == "matrix" and value and not isinstance(value[0], list):
            value = [value]
        return Reading(value)
    return Reading(read_scalar(text, spec.symbols, spec.symbols_real))


@lru_cache(maxsize=20000)
def _ref(reference: str, spec: AnswerSpec) -> Reading:
    return read(reference, spec)


def _num(v: sympy.Expr, digits: int = 40) -> Fraction | None:
    """The value of a number as an exact rational (to `digits` digits unless it is rational)."""
    return numeric.value(v, digits)


def _tolerances(spec: AnswerSpec) -> tuple[Fraction, Fraction]:
    """(rtol, atol) of a part as exact rationals, so boundaries are inclusive and exact."""
    rtol = Fraction(str(spec.rtol)) if spec.rtol is not None else DEFAULT_RTOL
    atol = Fraction(str(spec.atol)) if spec.atol is not None else DEFAULT_ATOL
    if spec.sigfigs is not None or spec.tolerance == "sigfig":
        rtol = Fraction(1, 2) * Fraction(10) ** (1 - (spec.sigfigs or 3))
    if spec.tolerance == "decimals" and spec.decimals is not None:
        atol, rtol = Fraction(1, 2) * Fraction(10) ** (-spec.decimals), Fraction(0)
    return rtol, atol


def _close(a: sympy.Expr, b: sympy.Expr, spec: AnswerSpec) -> bool:
    rtol, atol = _tolerances(spec)
    fa, fb = _num(a), _num(b)
    if fa is None or fb is None:
        return False
    return abs(fa - fb) <= max(rtol * abs(fb), atol)


def _msg(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _why_scalar(a: sympy.Expr, b: sympy.Expr, spec: AnswerSpec, lang: str) -> tuple[str, str]:
    if b != 0 and _close(-a, b, spec):
        return _msg(lang, "符号反了。", "The sign is wrong."), "sign"
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None and nb != 0 and na != 0:
        ratio = float(na / nb)
        for k, zh, en in (
            (2, "2 倍", "twice"),
            (0.5, "一半", "half"),
            (10, "10 倍", "10 times"),
            (0.1, "十分之一", "a tenth"),
        ):
            if abs(ratio - k) <= 0.005 * k:
                return _msg(
                    lang, f"你的答案是正确答案的{zh}。", f"Your answer is {en} the right one."
                ), "factor"
    return _msg(lang, "不正确。", "Not correct."), "wrong"


def _equiv_expr(a: sympy.Expr, b: sympy.Expr, spec: AnswerSpec, inexact: bool) -> bool | None:
    """Equal at random points (symbolic.py): to 20 digits when both sides are exact, to the
    part's relative tolerance when either was written with decimals."""
    return symbolic.equivalent(a, b, _tolerances(spec)[0] if inexact else None)


def grade(answer: str, reference: str, spec: AnswerSpec, lang: str = "en") -> Verdict:
    """Judge one answer against a reference written in the same syntax; never raises."""
    try:
        with limits.bounded():
            return _grade(answer, reference, spec, lang)
    except limits.OutOfTime:
        return Verdict(
            False,
            0.0,
            _msg(
                lang,
                "判分超时，无法判断这个答案；请化简后再提交。",
                "This answer could not be checked in time; simplify it and submit again.",
            ),
            None,
            "timeout",
        )
    except AnswerError as e:
        return Verdict(False, 0.0, e.message.get(lang, e.message["en"]), None, "parse_error")
    except Exception:  # a promise of the contract: no text makes check() raise
        return Verdict(
            False,
            0.0,
            _msg(lang, "无法判断这个答案。", "This answer could not be judged."),
            None,
            "parse_error",
        )


def _grade(answer: str, reference: str, spec: AnswerSpec, lang: str) -> Verdict:
    t = spec.answer_type
    if t == "text":
        return Verdict(
            False, 0.0, _msg(lang, "此题由助教人工评分。", "A TA will grade this answer."), None, "manual"
        )
    if t == "choice":
        return _choice(answer, reference, spec, lang)
    if not answer or not answer.strip():
        return Verdict(False, 0.0, _msg(lang, "答案为空。", "The answer is empty."), None, "parse_error")
    ref = _ref(reference, spec)
    got = read(answer, spec)
    if not spec.arithmetic and t in ("integer", "real"):
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", normalize(answer).replace(",", "")):
            return Verdict(
                False,
                0.0,
                _msg(lang, "请给出数值，而不是算式。", "Give the value, not an expression."),
                got.interpreted,
                "arithmetic",
            )
    if t == "shape":
        a, b = got.value, ref.value
        if a == b:
            return Verdict(True, 1.0, _msg(lang, "正确。", "Correct."), got.interpreted)
        if len(a) != len(b):
            return Verdict(
                False,
                0.0,
                _msg(
                    lang,
                    f"应有 {len(b)} 个维度，你给了 {len(a)} 个。",
                    f"The shape has {len(b)} dimensions; you gave {len(a)}.",
                ),
                got.interpreted,
                "wrong_shape",
            )
        if sorted(a) == sorted(b):
            return Verdict(
                False,
                0.0,
                _msg(
                    lang,
                    "维度顺序不对：形状按 [C, H, W] 书写。",
                    "The order is wrong: shapes are written [C, H, W].",
                ),
                got.interpreted,
                "order",
            )
        return Verdict(False, 0.0, _msg(lang, "不正确。", "Not correct."), got.interpreted, "wrong")
    if t in ("vector", "matrix"):
        return _array(got, ref, spec, lang)
    a, b = got.value, ref.value
    if t == "expression":
        if spec.exact and (a.atoms(sympy.Float) or _decimal_text(answer)) and not _decimal_text(reference):
            same = _equiv_expr(a, b, spec, True)
            return Verdict(
                False,
                0.0,
                _msg(
                    lang,
                    "请给出精确形式（不要用小数近似）。" if same else "不正确。",
                    "Give the exact form (not a decimal approximation)." if same else "Not correct.",
                ),
                got.interpreted,
                "exact_required" if same else "wrong",
            )
        ok = _equiv_expr(a, b, spec, _decimal_text(answer) or _decimal_text(reference))
        if ok is None:
            return Verdict(
                False,
                0.0,
                _msg(
                    lang,
                    "无法在足够多的点上计算这个表达式（可能超出定义域），按不正确处理。",
                    "This expression could not be evaluated at enough points (outside its domain?), "
                    "so it is not accepted.",
                ),
                got.interpreted,
                "undecided",
            )
        return Verdict(
            ok,
            1.0 if ok else 0.0,
            _msg(lang, "正确。", "Correct.")
            if ok
            else _msg(lang, "与正确答案不等价。", "Not equivalent to the right answer."),
            got.interpreted,
            None if ok else "wrong",
        )
    if a.free_symbols:
        names = ", ".join(sorted(s.name for s in a.free_symbols))
        return Verdict(
            False,
            0.0,
            _msg(lang, f"这里要一个数，不能含有 {names}。", f"A number is asked; it cannot contain {names}."),
            got.interpreted,
            "parse_error",
        )
    if t == "integer":
        whole = _whole_number(a)
        if whole is None:
            return Verdict(
                False,
                0.0,
                _msg(lang, "这里的答案应是整数。", "The answer here is a whole number."),
                got.interpreted,
                "not_integer",
            )
        if whole == b:
            return Verdict(True, 1.0, _msg(lang, "正确。", "Correct."), got.interpreted)
        why, reason = _why_scalar(a, b, spec, lang)
        return Verdict(False, 0.0, why, got.interpreted, reason)
    if _close(a, b, spec):
        return Verdict(True, 1.0, _msg(lang, "正确。", "Correct."), got.interpreted)
    why, reason = _why_scalar(a, b, spec, lang)
    return Verdict(False, 0.0, why, got.interpreted, reason)


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


def _decimal_text(text: str) -> bool:
    return bool(re.search(r"\d\.\d", normalize(text)))


def _flat(v: Any) -> list[Any]:
    return [y for x in v for y in _flat(x)] if isinstance(v, list) else [v]


def _dims(v: Any) -> tuple[int, ...]:
    if isinstance(v, list):
        return (len(v), *(_dims(v[0]) if v else ()))
    return ()


def _array(got: Reading, ref: Reading, spec: AnswerSpec, lang: str) -> Verdict:
    a, b = got.value, ref.value
    if _dims(a) != _dims(b):
        db, da = _dims(b), _dims(a)
        if len(db) == 2 and da == (db[1], db[0]):
            ta = [list(r) for r in zip(*a, strict=False)]
            if all(_close(x, y, spec) for x, y in zip(_flat(ta), _flat(b), strict=False)):
                return Verdict(
                    False,
                    0.0,
                    _msg(lang, "矩阵转置了。", "The matrix is transposed."),
                    got.interpreted,
                    "transposed",
                )
        return Verdict(
            False,
            0.0,
            _msg(
                lang,
                f"形状应为 {list(db)}，你给的是 {list(da)}。",
                f"Expected {list(db)} entries, you gave {list(da)}.",
            ),
            got.interpreted,
            "wrong_shape",
        )
    fa, fb = _flat(a), _flat(b)
    if any(x.free_symbols for x in fa):
        return Verdict(
            False,
            0.0,
            _msg(lang, "这里要的是数。", "Numbers are asked here."),
            got.interpreted,
            "parse_error",
        )
    bad = [i for i, (x, y) in enumerate(zip(fa, fb, strict=False)) if not _close(x, y, spec)]
    if not bad:
        return Verdict(True, 1.0, _msg(lang, "正确。", "Correct."), got.interpreted)
    db = _dims(b)
    if len(db) == 2 and db[0] == db[1] > 1:  # a square matrix can be transposed without changing shape
        ta = [list(r) for r in zip(*a, strict=True)]
        if all(_close(x, y, spec) for x, y in zip(_flat(ta), fb, strict=True)):
            return Verdict(
                False,
                0.0,
                _msg(lang, "矩阵转置了。", "The matrix is transposed."),
                got.interpreted,
                "transposed",
            )
    if all(_close(-x, y, spec) for x, y in zip(fa, fb, strict=False)):
        return Verdict(False, 0.0, _msg(lang, "符号反了。", "The sign is wrong."), got.interpreted, "sign")
    return Verdict(
        False,
        0.0,
        _msg(lang, f"有 {len(bad)} 个元素不正确。", f"{len(bad)} of {len(fb)} entries are wrong."),
        got.interpreted,
        "wrong",
    )


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
}


def _choice(answer: str, reference: str, spec: AnswerSpec, lang: str) -> Verdict:
    text = normalize(answer).upper() if answer else ""
    if not text:
        return Verdict(False, 0.0, _msg(lang, "答案为空。", "The answer is empty."), None, "parse_error")
    keys = set(spec.choices)
    if keys == {"T", "F"} or keys <= {"T", "F"}:
        raw = answer.strip()
        got = _TF.get(text, _TF.get(raw))
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
        letters = re.sub(r"[\s,;、/]+", "", text)
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
    ok = picked == want
    interp = "".join(sorted(picked))
    return Verdict(
        ok,
        1.0 if ok else 0.0,
        _msg(lang, "正确。", "Correct.") if ok else _msg(lang, "不正确。", "Not correct."),
        interp,
        None if ok else "wrong",
    )


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
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", normalize(reference))) - {
            "e",
            "pi",
            "sqrt",
            "exp",
            "ln",
            "log",
            "log2",
            "log10",
            "sin",
            "cos",
            "tan",
            "tanh",
            "sigmoid",
            "abs",
            "max",
            "min",
        }
        fields["symbols"] = tuple(sorted(names))
    spec = AnswerSpec(answer_type, rtol=rtol, atol=atol, sigfigs=sigfigs, **fields)  # type: ignore[arg-type]
    return grade(answer, reference, spec, lang)
