"""Vectors, matrices and shapes: compare entry by entry, and name the slip when it can be known
(wrong length or shape, transposed, right numbers in the wrong order, sign, a constant factor)."""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from grader.feedback import NAMED_FACTORS, factor_message, say
from grader.parse import normalize
from grader.scalars import Tolerance, close, figures_needed, rounded_reference, tolerances, typed_figures
from grader.spec import AnswerSpec, Verdict


def dims(v: Any) -> tuple[int, ...]:
    if isinstance(v, list):
        return (len(v), *(dims(v[0]) if v else ()))
    return ()


def flat(v: Any) -> list[Any]:
    return [y for x in v for y in flat(x)] if isinstance(v, list) else [v]


def _all_close(xs: list[Fraction], ys: list[Fraction], tol: Tolerance) -> bool:
    return len(xs) == len(ys) and all(close(x, y, *tol) for x, y in zip(xs, ys, strict=True))


def _same_multiset(xs: list[Fraction], ys: list[Fraction], tol: Tolerance) -> bool:
    """Can the answer's entries be matched one to one with the reference's (in some order)?"""
    left = list(ys)
    for x in xs:
        hit = next((i for i, y in enumerate(left) if close(x, y, *tol)), None)
        if hit is None:
            return False
        left.pop(hit)
    return not left


def judge_array(
    a: list[Any],
    b: list[Any],
    values_a: list[Fraction],
    values_b: list[Fraction],
    spec: AnswerSpec,
    lang: str,
    interpreted: str,
    diagnose: bool = True,
    figures: Callable[[], list[int | None] | None] | None = None,
) -> Verdict:
    """`a`, `b` are the nested lists as read; values_* their entries (flattened) as exact numbers;
    `figures` gives the significant figures typed in each entry (typed_figures_of), when known;
    asked only when some entry is wrong.
    Without `diagnose`, a wrong answer is not told why (grader.matches)."""
    tol = tolerances(spec)
    da, db = dims(a), dims(b)  # a vector's row or column is flat by now (grader.read)

    def wrong(message: str, reason: str) -> Verdict:
        return Verdict(False, 0.0, message, interpreted, reason)

    if da != db:
        if not diagnose:
            return wrong("", "wrong_shape")
        if len(db) == 2 and da == (db[1], db[0]) and _all_close(_transpose(values_a, da), values_b, tol):
            return wrong(say("transposed", lang), "transposed")
        if len(db) == 2:
            return wrong(
                say("wrong_matrix_shape", lang, r=db[0], c=db[1], shape=_given_shape(da, lang)), "wrong_shape"
            )
        if len(da) == 2:  # a matrix for a vector: its entry count alone may even be right
            return wrong(say("vector_expected", lang, n=db[0], shape=_given_shape(da, lang)), "wrong_shape")
        return wrong(say("wrong_length", lang, n=len(values_b), m=len(values_a)), "wrong_shape")
    if _all_close(values_a, values_b, tol):
        return Verdict(True, 1.0, say("correct", lang), interpreted)
    if not diagnose:
        return wrong("", "wrong")
    if len(db) == 2 and db[0] == db[1] > 1 and _all_close(_transpose(values_a, da), values_b, tol):
        return wrong(say("transposed", lang), "transposed")
    if any(values_b) and _all_close([-x for x in values_a], values_b, tol):
        return wrong(say("sign", lang), "sign")
    if any(values_b):
        for k in NAMED_FACTORS:
            for factor in (Fraction(k), Fraction(1, k)):
                if _all_close(values_a, [factor * y for y in values_b], tol):
                    return wrong(factor_message(factor, lang), "factor")
    if len(db) == 1 and _same_multiset(values_a, values_b, tol):
        return wrong(say("order", lang), "order")
    bad = [i for i, (x, y) in enumerate(zip(values_a, values_b, strict=True)) if not close(x, y, *tol)]
    typed = figures() if figures is not None else None
    if typed is not None and all(rounded_reference(values_a[i], values_b[i], typed[i], tol) for i in bad):
        f = max(figures_needed(values_b[i], tol) for i in bad)
        if len(bad) <= 3:
            where = ", ".join(_position(i, db) for i in bad)
            return wrong(say("entries_precision", lang, k=len(bad), where=where, f=f), "precision")
        return wrong(say("entries_precision_many", lang, k=len(bad), n=len(values_b), f=f), "precision")
    if len(bad) <= 3:
        where = ", ".join(_position(i, db) for i in bad)
        return wrong(say("entries_wrong", lang, k=len(bad), n=len(values_b), where=where), "wrong")
    return wrong(say("entries_wrong_many", lang, k=len(bad), n=len(values_b)), "wrong")


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def typed_figures_of(text: str, values: list[Fraction]) -> list[int | None] | None:
    """The significant figures typed in each entry (2 for -0.29), when the entries are the plain
    numbers of the text in order (`[-0.29, -0.016]`, `1 2; 3 4`); None when some entry is
    arithmetic (`[2*0.5, 1]`, `[sqrt(2), 1]`), whose figures are not known."""
    numbers = _NUMBER.findall(normalize(text))
    if len(numbers) != len(values) or any(Fraction(t) != v for t, v in zip(numbers, values, strict=True)):
        return None
    return [typed_figures(t) for t in numbers]


def _transpose(values: list[Fraction], d: tuple[int, ...]) -> list[Fraction]:
    rows, cols = d
    return [values[i * cols + j] for j in range(cols) for i in range(rows)]


def _position(i: int, d: tuple[int, ...]) -> str:
    """1-based: entry 3, or (2, 1) for a matrix (row, column)."""
    if len(d) == 2:
        return f"({i // d[1] + 1}, {i % d[1] + 1})"
    return str(i + 1)


def _given_shape(d: tuple[int, ...], lang: str) -> str:
    if len(d) == 2:
        return f"{d[0]}×{d[1]} 的矩阵" if lang == "zh" else f"a {d[0]}×{d[1]} matrix"
    if lang == "zh":
        return f"{d[0]} 个元素的向量" if d else "一个数"
    return f"a vector of {d[0]}" if d else "a single number"


_LABELS = {3: "CHW", 4: "NCHW"}


def judge_shape(a: tuple[int, ...], b: tuple[int, ...], lang: str, interpreted: str) -> Verdict:
    if a == b:
        return Verdict(True, 1.0, say("correct", lang), interpreted)
    if len(a) != len(b):
        return Verdict(False, 0.0, say("shape_dims", lang, n=len(b), m=len(a)), interpreted, "wrong_shape")
    if sorted(a) == sorted(b):
        want, given = _order_labels(a, b)
        return Verdict(False, 0.0, say("shape_order", lang, want=want, given=given), interpreted, "order")
    bad = [str(i + 1) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return Verdict(
        False, 0.0, say("shape_dim_wrong", lang, k=len(bad), where=", ".join(bad)), interpreted, "wrong"
    )


def _order_labels(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[str, str]:
    """The asked order and the given one in the reference's labels: [C, H, W] and [H, W, C]."""
    names = list(_LABELS[len(b)]) if len(b) in _LABELS else [f"d{i + 1}" for i in range(len(b))]
    unused = list(range(len(b)))
    given = []
    for x in a:
        i = next(i for i in unused if b[i] == x)
        unused.remove(i)
        given.append(names[i])
    return "[" + ", ".join(names) + "]", "[" + ", ".join(given) + "]"
