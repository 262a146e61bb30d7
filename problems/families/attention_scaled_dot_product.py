"""attention.scaled_dot_product: scores, weights and output of softmax(QK^T/sqrt(d))V (seeds/000 2.2)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction
from typing import Annotated, Literal, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi, first_drawn
from problems.fmt import mat, num, tex_fraction, tex_matrix
from problems.registry import register

MAX_TOKENS = 6
MAX_DIM = 16
MAX_VALUE_DIM = 6
MAX_SCORE = 20  # bounds exp(score) in the reference text; hand-computed scores are far smaller
# Weights are probabilities and outputs mix O(1) values: three decimals are what a student carries by hand,
# so small entries get an absolute floor instead of 3 significant figures.
WEIGHT_ATOL = 5e-4
OUTPUT_ATOL = 1e-3

Entry = Annotated[int | float, Field(ge=-10, le=10, allow_inf_nan=False)]
Row = Annotated[list[Entry], Field(min_length=1, max_length=MAX_DIM)]
ValueRow = Annotated[list[Entry], Field(min_length=1, max_length=MAX_VALUE_DIM)]


class ScaledDotProductParams(Params):
    Q: Annotated[
        list[Row], Field(min_length=1, max_length=MAX_TOKENS, description="queries, one per row (n x d)")
    ]
    K: Annotated[
        list[Row], Field(min_length=1, max_length=MAX_TOKENS, description="keys, one per row (m x d)")
    ]
    V: Annotated[list[ValueRow], Field(min_length=1, max_length=MAX_TOKENS)] | None = Field(
        default=None, description="values, one per row (m x d_v); leave out when symbolic_values is true"
    )
    symbolic_values: bool = Field(default=False, description="values are the symbols v1..vm")
    mask: Literal["none", "causal"] = "none"

    @model_validator(mode="after")
    def _check(self) -> ScaledDotProductParams:
        d = len(self.Q[0])
        for name, rows in (("Q", self.Q), ("K", self.K)):
            if any(len(r) != d for r in rows):
                raise ValueError(
                    f"{name}: every row must have d = {d} {plural(d, 'entry', 'entries')} (the width of Q's first row)"
                )
            if any(_units(x) is None for r in rows for x in r):
                raise ValueError(f"{name}: entries may have at most 4 decimals")
        if self.symbolic_values and self.V is not None:
            raise ValueError("V: leave V out when symbolic_values is true")
        if not self.symbolic_values:
            if self.V is None:
                raise ValueError("V: required unless symbolic_values is true")
            if len(self.V) != len(self.K):
                raise ValueError(
                    f"V: needs one row per key ({len(self.K)} {plural(len(self.K), 'row', 'rows')})"
                )
            if any(len(r) != len(self.V[0]) for r in self.V):
                raise ValueError("V: every row must have the same length")
        if self.mask == "causal" and len(self.Q) != len(self.K):
            raise ValueError("mask: a causal mask needs as many queries as keys (self-attention)")
        if np.abs(_score_floats(self)).max() > MAX_SCORE:
            raise ValueError(f"Q: scaled scores q_i.k_j/sqrt(d) must lie within [-{MAX_SCORE}, {MAX_SCORE}]")
        return self


UNITS = 10**4  # entries have at most 4 decimals: in units of 1e-4 they are integers


def _units(x: float) -> int | None:
    """Return x in units of 1e-4 exactly, or None when it has more than 4 decimals."""
    if isinstance(x, int):
        return x * UNITS
    scaled = x * UNITS
    nearest = round(scaled)
    return nearest if abs(scaled - nearest) <= 1e-6 else None  # |scaled| <= 1e5: float error is ~1e-11


def _dots(p: ScaledDotProductParams) -> list[list[Fraction]]:
    """Exact q_i . k_j, computed on integers (the entries are short decimals)."""
    q = [[_units(x) or 0 for x in row] for row in p.Q]
    k = [[_units(x) or 0 for x in row] for row in p.K]
    return [
        [Fraction(sum(a * b for a, b in zip(qi, kj, strict=True)), UNITS * UNITS) for kj in k] for qi in q
    ]


def _score_floats(p: ScaledDotProductParams, divide_by: str = "sqrt_d") -> np.ndarray:
    d = len(p.Q[0])
    scale = {"sqrt_d": math.sqrt(d), "one": 1.0, "d": float(d)}[divide_by]
    return np.array(p.Q, dtype=float) @ np.array(p.K, dtype=float).T / scale


def _allowed(p: ScaledDotProductParams) -> np.ndarray:
    n, m = len(p.Q), len(p.K)
    full = np.ones((n, m), dtype=bool)
    return np.tril(full) if p.mask == "causal" else full


def _softmax(scores: np.ndarray, allowed: np.ndarray, axis: int) -> np.ndarray:
    """Softmax along an axis over the allowed entries; masked entries get weight 0."""
    z = np.where(allowed, scores, -np.inf)
    e = np.where(allowed, np.exp(z - z.max(axis=axis, keepdims=True)), 0.0)
    return e / e.sum(axis=axis, keepdims=True)


# --- exact text ------------------------------------------------------------------------


def _score_text(dot: Fraction, d: int) -> str:
    """The exact scaled score dot/sqrt(d) in the student syntax."""
    root = math.isqrt(d)
    if root * root == d:
        return num(dot / root)
    return "0" if dot == 0 else f"{num(dot)}/sqrt({d})"


def _exp_text(score: str) -> str:
    return "1" if score == "0" else f"exp({score})"


def _exact_output(dots: Sequence[Fraction], allowed: Sequence[bool], d: int) -> str:
    """y_i = sum_j exp(s_ij) v_j / sum_j exp(s_ij) over the allowed keys, as exact text."""
    keys = [j for j, ok in enumerate(allowed) if ok]
    scores = [_score_text(dots[j], d) for j in keys]
    if len(set(scores)) == 1:  # equal scores: a plain average
        total = " + ".join(f"v{j + 1}" for j in keys)
        return total if len(keys) == 1 else f"({total})/{len(keys)}"
    terms = [f"v{j + 1}" if s == "0" else f"exp({s})*v{j + 1}" for j, s in zip(keys, scores, strict=True)]
    counts: dict[str, int] = {}
    for s in scores:  # group equal exponents, in order of first appearance
        counts[s] = counts.get(s, 0) + 1
    denominator = [
        (str(c) if s == "0" else f"{c}*exp({s})") if c > 1 else _exp_text(s) for s, c in counts.items()
    ]
    return f"({' + '.join(terms)})/({' + '.join(denominator)})"


def _combination_text(coefficients: Sequence[float]) -> str:
    """A linear combination c1*v1 + c2*v2 + ... with decimal coefficients."""
    terms = [f"{num(c)}*v{j + 1}" for j, c in enumerate(coefficients) if c != 0]
    return " + ".join(terms) if terms else "0"


def _answers(p: ScaledDotProductParams, scores: np.ndarray, weights: np.ndarray) -> dict[str, str]:
    """Answers of every part from given (possibly wrong) scores and weights, in decimals."""
    out = {"scores": mat(scores.tolist()), "weights": mat(weights.tolist())}
    if p.symbolic_values:
        for i, row in enumerate(weights):
            out[f"output_{i + 1}"] = _combination_text(row.tolist())
    else:
        out["output"] = mat((weights @ np.array(p.V, dtype=float)).tolist())
    return out


def _wrong_scaling(divide_by: str) -> Callable[[ScaledDotProductParams], dict[str, str]]:
    def solve(p: ScaledDotProductParams) -> dict[str, str]:
        s = _score_floats(p, divide_by)
        return _answers(p, s, _softmax(s, _allowed(p), axis=1))

    return solve


def _no_mask(p: ScaledDotProductParams) -> dict[str, str]:
    if p.mask == "none":
        return {}
    s = _score_floats(p)
    a = _answers(p, s, _softmax(s, np.ones_like(s, dtype=bool), axis=1))
    del a["scores"]  # the scores are the same; the mistake shows in the weights
    return a


def _column_softmax(p: ScaledDotProductParams) -> dict[str, str]:
    s = _score_floats(p)
    a = _answers(p, s, _softmax(s, _allowed(p), axis=0))
    del a["scores"]
    return a


# --- LaTeX -----------------------------------------------------------------------------


def _tex_score(dot: Fraction, d: int) -> str:
    root = math.isqrt(d)
    if root * root == d:
        return tex_fraction(dot / root)
    return "0" if dot == 0 else f"\\frac{{{tex_fraction(dot)}}}{{\\sqrt{{{d}}}}}"


# What a variant of the same form keeps: the mask, the numbers of queries and keys, their width d,
# and the values' width (None: symbolic values). A 1x2 symbolic question is not a 3x4 numeric one
# with d = 16.
Form = tuple[str, int, int, int, int | None]


def _form(p: ScaledDotProductParams) -> Form:
    return p.mask, len(p.Q), len(p.K), len(p.Q[0]), None if p.V is None else len(p.V[0])


def _draw(rng: np.random.Generator, form: Form | None = None) -> ScaledDotProductParams | None:
    """One draw of `generate` (None: not clean); a given form keeps its mask, sizes and values."""
    if form is None:
        causal = bool(rng.random() < 0.4)
        single_query = not causal and rng.random() < 0.3  # as in the seed's q3
        n = 1 if single_query else int(rng.integers(2, 4))
        m = n if causal else int(rng.integers(2, 5))
        d = int(rng.choice([4, 4, 4, 9, 16]))
    else:
        mask, n, m, d, dv = form
        causal = mask == "causal"
    high = 3 if d == 4 else 2  # long vectors get entries in -1..1 to keep hand-work short
    q = rng.integers(-high + 1, high, size=(n, d))
    k = rng.integers(-high + 1, high, size=(m, d))
    if form is None:
        dv = None if bool(rng.random() < 0.4) else int(rng.integers(1, 4))  # None: symbolic values
    v = None if dv is None else rng.integers(-3, 4, size=(m, dv)).tolist()
    p = ScaledDotProductParams(
        Q=q.tolist(), K=k.tolist(), V=v, symbolic_values=v is None, mask="causal" if causal else "none"
    )
    s = _score_floats(p)
    rows_vary = all(np.ptp(s[i][_allowed(p)[i]]) > 0 or _allowed(p)[i].sum() == 1 for i in range(n))
    # Clean hand-work: every row's scores differ (no uniform softmax) and stay small.
    return p if rows_vary and np.abs(s).max() <= 3 else None


@register
class ScaledDotProduct(Family[ScaledDotProductParams]):
    id = "attention.scaled_dot_product"
    version = 1
    title = bi("缩放点积注意力", "Scaled dot-product attention")
    difficulty = 2
    tags = ("attention", "self_attention", "softmax", "mask")
    Params = ScaledDotProductParams

    def generate(self, rng: np.random.Generator) -> ScaledDotProductParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: ScaledDotProductParams) -> Hashable:
        return _form(p)

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> ScaledDotProductParams | None:
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: ScaledDotProductParams) -> list[Part]:
        n, m = len(p.Q), len(p.K)
        parts = [
            Part(
                "scores",
                AnswerSpec("matrix"),
                bi(
                    f"注意力分数矩阵 $QK^\\top/\\sqrt{{d}}$（{n}×{m}，掩码前）",
                    f"scores $QK^\\top/\\sqrt{{d}}$ ({n}×{m}, before masking)",
                ),
                bi("矩阵，按行写，如 [[0.5, 0], [1, -0.5]]", "a matrix by rows, e.g. [[0.5, 0], [1, -0.5]]"),
            ),
            Part(
                "weights",
                AnswerSpec("matrix", atol=WEIGHT_ATOL),
                bi(
                    f"注意力权重矩阵（{n}×{m}，逐行 softmax）",
                    f"attention weights ({n}×{m}, softmax of each row)",
                ),
                bi("矩阵，按行写，保留 3 位小数即可", "a matrix by rows; three decimals are enough"),
            ),
        ]
        if p.symbolic_values:
            symbols = tuple(f"v{j + 1}" for j in range(m))
            for i in range(n):
                parts.append(
                    Part(
                        f"output_{i + 1}",
                        AnswerSpec("expression", symbols=symbols),
                        bi(
                            f"输出 $y_{{{i + 1}}}$（用 v1…v{m} 表示）", f"output $y_{{{i + 1}}}$ (in v1…v{m})"
                        ),
                        bi(
                            "关于 v1, v2, … 的表达式，如 (exp(1/2)*v1 + v2)/(exp(1/2) + 1)，系数可用小数",
                            "an expression in v1, v2, …, e.g. (exp(1/2)*v1 + v2)/(exp(1/2) + 1); decimal coefficients are fine",
                        ),
                    )
                )
        else:
            dv = len((p.V or [[0]])[0])
            parts.append(
                Part(
                    "output",
                    AnswerSpec("matrix", atol=OUTPUT_ATOL),
                    bi(f"输出矩阵 $Y$（{n}×{dv}）", f"output $Y$ ({n}×{dv})"),
                    bi("矩阵，按行写，误差 0.001 以内即可", "a matrix by rows; within 0.001 is fine"),
                )
            )
        return parts

    def solve(self, p: ScaledDotProductParams) -> dict[str, str]:
        d = len(p.Q[0])
        root = math.isqrt(d)
        dots = _dots(p)
        s = _score_floats(p)
        w = _softmax(s, _allowed(p), axis=1)
        out = _answers(p, s, w)
        if root * root == d:  # scores are rationals: give them exactly
            out["scores"] = mat([[x / root for x in row] for row in dots])
        if p.symbolic_values:
            allowed = _allowed(p)
            for i in range(len(p.Q)):
                out[f"output_{i + 1}"] = _exact_output(dots[i], allowed[i].tolist(), d)
        return out

    def statement(self, p: ScaledDotProductParams) -> dict[str, str]:
        n, m, d = len(p.Q), len(p.K), len(p.Q[0])
        q = tex_matrix(p.Q)
        k = tex_matrix(p.K)
        if p.symbolic_values:
            given = f"$$Q = {q}, \\quad K = {k}$$"
            values_zh = (
                f"值向量 $v_1, \\dots, v_{{{m}}}$ 未给出，输出请写成它们的线性组合（用 v1…v{m} 表示）。"
            )
            values_en = f"The value vectors $v_1, \\dots, v_{{{m}}}$ are not given: write each output as a combination of them (in v1…v{m})."
        else:
            vv = tex_matrix(p.V or [])
            given = f"$$Q = {q}, \\quad K = {k}, \\quad V = {vv}$$"
            values_zh = "$V$ 的第 $j$ 行是第 $j$ 个值向量 $v_j$。"
            values_en = "Row $j$ of $V$ is the value vector $v_j$."
        if p.mask == "causal":
            mask_zh = (
                "使用因果掩码（causal mask）：第 $i$ 个查询只能关注第 $j \\le i$ 个键，被掩盖的分数在 softmax 前置为 "
                "$-\\infty$，即其权重为 0。"
            )
            mask_en = (
                "A causal mask is applied: query $i$ may only attend to keys $j \\le i$; masked scores are set to "
                "$-\\infty$ before the softmax, so their weights are 0."
            )
        else:
            mask_zh, mask_en = "不使用掩码。", "No mask is applied."
        return bi(
            f"缩放点积注意力 $\\mathrm{{Attention}}(Q, K, V) = \\mathrm{{softmax}}\\left(\\frac{{QK^\\top}}{{\\sqrt{{d}}}}\\right)V$，"
            f"其中 $Q$ 的第 $i$ 行是查询向量 $q_i$（共 {n} 个），$K$ 的第 $j$ 行是键向量 $k_j$（共 {m} 个），$d = {d}$。"
            f"{values_zh}\n\n{given}\n\n{mask_zh} softmax 按行进行（对每个查询归一化），$\\exp$ 为自然指数。"
            f"求：注意力分数矩阵 $S = QK^\\top/\\sqrt{{d}}$（掩码前）、注意力权重矩阵 $A$ 和输出 $Y = AV$（第 $i$ 行为 $y_i$）。",
            f"Scaled dot-product attention is "
            f"$\\mathrm{{Attention}}(Q, K, V) = \\mathrm{{softmax}}\\left(\\frac{{QK^\\top}}{{\\sqrt{{d}}}}\\right)V$, "
            f"where row $i$ of $Q$ is the query $q_i$ ({n} of them), row $j$ of $K$ is the key $k_j$ ({m} of them) "
            f"and $d = {d}$. {values_en}\n\n{given}\n\n{mask_en} The softmax is taken over each row (one "
            f"distribution per query). Find the scores $S = QK^\\top/\\sqrt{{d}}$ (before masking), the attention "
            f"weights $A$ and the output $Y = AV$ (row $i$ is $y_i$).",
        )

    def solution(self, p: ScaledDotProductParams) -> dict[str, list[str]]:
        d = len(p.Q[0])
        dots = _dots(p)
        allowed = _allowed(p)
        w = _softmax(_score_floats(p), allowed, axis=1)
        answers = self.solve(p)
        zh = [f"$d = {d}$，缩放因子 $\\sqrt{{d}} = {num(math.sqrt(d), 4)}$。"]
        en = [f"$d = {d}$, so the scale is $\\sqrt{{d}} = {num(math.sqrt(d), 4)}$."]
        for i, row in enumerate(dots):
            keys = [j for j in range(len(p.K)) if allowed[i][j]]
            scores = ", ".join(_tex_score(x, d) for x in row)
            dot_list = ", ".join(num(x) for x in row)
            weights = ", ".join(num(float(w[i][j]), 4) for j in range(len(p.K)))
            masked_zh = "" if len(keys) == len(p.K) else f"（掩码后只保留 $j \\le {i + 1}$）"
            masked_en = "" if len(keys) == len(p.K) else f" (after masking only $j \\le {i + 1}$ remain)"
            denom = " + ".join(f"e^{{{_tex_score(row[j], d)}}}" for j in keys)
            zh.append(
                f"第 {i + 1} 行：$q_{{{i + 1}}} \\cdot k_j = ({dot_list})$，除以 $\\sqrt{{d}}$ 得分数 $({scores})$；"
                f"softmax{masked_zh}：$a_{{{i + 1}j}} = e^{{s_{{{i + 1}j}}}} / ({denom})$，权重约为 $({weights})$。"
            )
            en.append(
                f"Row {i + 1}: $q_{{{i + 1}}} \\cdot k_j = ({dot_list})$; dividing by $\\sqrt{{d}}$ gives the scores "
                f"$({scores})$; softmax{masked_en}: $a_{{{i + 1}j}} = e^{{s_{{{i + 1}j}}}} / ({denom})$, "
                f"weights about $({weights})$."
            )
        if p.symbolic_values:
            for i in range(len(p.Q)):
                text = answers[f"output_{i + 1}"]
                zh.append(f"$y_{{{i + 1}}} = \\sum_j a_{{{i + 1}j}} v_j$ = `{text}`")
                en.append(f"$y_{{{i + 1}}} = \\sum_j a_{{{i + 1}j}} v_j$ = `{text}`")
        else:
            y = w @ np.array(p.V, dtype=float)
            zh.append(f"输出 $Y = AV \\approx {tex_matrix(y.tolist(), 4)}$。")
            en.append(f"The output is $Y = AV \\approx {tex_matrix(y.tolist(), 4)}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[ScaledDotProductParams]]:
        return [
            Misconception(
                "forgot_scaling",
                bi(
                    "你没有除以 √d：缩放点积注意力的分数是 q_i·k_j / √d。",
                    "You did not divide by √d: the scaled dot-product score is q_i·k_j / √d.",
                ),
                _wrong_scaling("one"),
            ),
            Misconception(
                "divided_by_d",
                bi(
                    "你除以了 d；应当除以 √d。",
                    "You divided by d; the scores are divided by √d.",
                ),
                _wrong_scaling("d"),
            ),
            Misconception(
                "mask_not_applied",
                bi(
                    "你没有使用因果掩码：第 i 个查询不能关注 j > i 的键，这些位置的权重应为 0。",
                    "You did not apply the causal mask: query i may not attend to keys j > i, whose weights must be 0.",
                ),
                _no_mask,
            ),
            Misconception(
                "softmax_over_columns",
                bi(
                    "你按列做了 softmax；应当对每一行（每个查询的所有键）归一化，使每行权重之和为 1。",
                    "You took the softmax over columns; normalise each row (one query over all keys) so each row sums to 1.",
                ),
                _column_softmax,
            ),
        ]
