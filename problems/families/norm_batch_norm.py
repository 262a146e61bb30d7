"""norm.batch_norm: batch normalisation of a B x D mini-batch, per feature over the batch (seeds/003).

Also holds what norm.layer_norm shares with it: the params and the statistics along either axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction
from typing import Annotated, TypeVar, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.fmt import drop_round_off, exact, exact_vec, mat, num, tex_exact, tex_matrix, tex_tuple
from problems.registry import register

MAX_ROWS = 8
MAX_FEATURES = 8
# Normalised outputs are O(1) numbers computed through a square root: three decimals by hand are enough.
OUTPUT_ATOL = 1e-3
BATCH, FEATURES = (
    0,
    1,
)  # the axis the statistics run over: batch norm over the batch, layer norm over features

Entry = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]
Row = Annotated[list[Entry], Field(min_length=1, max_length=MAX_FEATURES)]
Affine = Annotated[
    list[Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]],
    Field(min_length=1, max_length=MAX_FEATURES),
]


class NormParams(Params):
    x: Annotated[list[Row], Field(min_length=1, max_length=MAX_ROWS)] = Field(
        description="mini-batch, B x D (one sample per row)"
    )
    gamma: Affine = Field(description="scale, one per feature (D)")
    beta: Affine = Field(description="shift, one per feature (D)")
    eps: float = Field(default=1e-5, ge=0, le=1, allow_inf_nan=False, description="added to the variance")

    def check_shapes(self, axis: int) -> None:
        """Raise ValueError naming the field when the shapes disagree or a variance would divide by zero."""
        d = len(self.x[0])
        if any(len(row) != d for row in self.x):
            raise ValueError(
                f"x: every row must have D = {d} {plural(d, 'entry', 'entries')} (the width of the first row)"
            )
        for name in ("gamma", "beta"):
            if len(getattr(self, name)) != d:
                raise ValueError(
                    f"{name}: needs D = {d} {plural(d, 'entry', 'entries')}, one per feature (the columns of x)"
                )
        over, count = ("the batch", len(self.x)) if axis == BATCH else ("a sample's features", d)
        if count < 2:
            raise ValueError(f"x: statistics over {over} need at least 2 values")
        if self.eps == 0 and any(v == 0 for v in exact_variance(self.x, axis)):
            raise ValueError("eps: with eps = 0 a constant group of x divides by zero; use eps > 0")


def _fractions(x: Sequence[Sequence[float]]) -> list[list[Fraction]]:
    # The decimal the user wrote (float repr), not the binary float: 0.1 is 1/10.
    return [[exact(v) for v in row] for row in x]


def _groups(x: Sequence[Sequence[float]], axis: int) -> list[list[Fraction]]:
    """Columns (batch norm: one feature over the batch) or rows (layer norm: one sample's features)."""
    rows = _fractions(x)
    return [list(col) for col in zip(*rows, strict=True)] if axis == BATCH else rows


def exact_mean(x: Sequence[Sequence[float]], axis: int) -> list[Fraction]:
    return [sum(g, Fraction(0)) / len(g) for g in _groups(x, axis)]


def exact_variance(x: Sequence[Sequence[float]], axis: int, ddof: int = 0) -> list[Fraction]:
    """Biased (ddof 0: divide by N) or unbiased (ddof 1: divide by N - 1) variance per group."""
    out = []
    for g in _groups(x, axis):
        m = sum(g, Fraction(0)) / len(g)
        out.append(sum(((v - m) ** 2 for v in g), Fraction(0)) / (len(g) - ddof))
    return out


def normalise(
    p: NormParams,
    axis: int,
    ddof: int = 0,
    affine: bool = True,
    root: Callable[[float], float] = math.sqrt,
    eps: bool = True,
) -> np.ndarray:
    """gamma * (x - mean) / root(var + eps) + beta, statistics along `axis` (or a misconception's variant)."""
    x = np.array(p.x, dtype=float)
    # Floats are enough here (the output is irrational anyway); keepdims lines the statistics up with x.
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    denom = np.vectorize(root)(var + (p.eps if eps else 0.0))
    x_hat = (x - mean) / denom
    return np.array(p.gamma) * x_hat + np.array(p.beta) if affine else x_hat


def answers(
    p: NormParams,
    axis: int,
    ddof: int = 0,
    affine: bool = True,
    root: Callable[[float], float] = math.sqrt,
    eps: bool = True,
) -> dict[str, str]:
    """Texts of mean, var and output, computed along `axis` (misconceptions change axis, ddof, ...)."""
    out = {
        "mean": exact_vec(exact_mean(p.x, axis)),
        "var": exact_vec(exact_variance(p.x, axis, ddof)),
    }
    # A misconception's variant may divide by zero (a constant group without eps): it then has no output.
    with np.errstate(divide="ignore", invalid="ignore"):
        y = normalise(p, axis, ddof, affine, root, eps)
    if np.isfinite(y).all():
        out["output"] = mat(y.tolist())
    return out


def eps_tex(eps: float) -> str:
    if eps == 0:
        return "0"
    mantissa, exponent = f"{eps:.6e}".split("e")
    if float(mantissa) == 1 and int(exponent) <= -3:
        return f"10^{{{int(exponent)}}}"
    return num(eps)


def generate_norm(
    rng: np.random.Generator, rows: Sequence[int], cols: Sequence[int], axis: int
) -> NormParams:
    """Small clean batches: integers or one decimal, no constant or nearly constant group."""
    while True:
        b, d = int(rng.choice(rows)), int(rng.choice(cols))
        if rng.random() < 0.6:
            x = rng.integers(-5, 6, size=(b, d)).astype(float)
        else:
            x = rng.integers(-30, 31, size=(b, d)) / 10
        gamma = np.ones(d) if rng.random() < 0.25 else rng.integers(5, 21, size=d) / 10
        beta = np.zeros(d) if rng.random() < 0.25 else rng.integers(-10, 11, size=d) / 10
        eps = float(rng.choice([1e-5, 1e-5, 1e-5, 0.0, 0.01, 0.1]))
        p = NormParams(x=x.tolist(), gamma=gamma.tolist(), beta=beta.tolist(), eps=eps)
        if min(exact_variance(p.x, axis)) >= Fraction(1, 4):
            return p


def norm_parts(p: NormParams, axis: int) -> list[Part]:
    b, d = len(p.x), len(p.x[0])
    n = d if axis == BATCH else b
    per_zh, per_en = ("每个特征", "one per feature") if axis == BATCH else ("每个样本", "one per sample")
    size = "B" if axis == BATCH else "D"  # what the statement divides by: the batch or the features
    return [
        Part(
            "mean",
            AnswerSpec("vector"),
            bi(f"均值 $\\mu$（{n} 个，{per_zh}一个）", f"means $\\mu$ ({n}, {per_en})"),
            bi("向量，如 [2, 1/3]", "a vector, e.g. [2, 1/3]"),
        ),
        Part(
            "var",
            AnswerSpec("vector"),
            bi(
                f"方差 $\\sigma^2$（除以 ${size}$ 的有偏方差，{n} 个）",
                f"variances $\\sigma^2$ (biased, divide by ${size}$; {n})",
            ),
            bi("向量，如 [0.25, 14/9]", "a vector, e.g. [0.25, 14/9]"),
        ),
        Part(
            "output",
            AnswerSpec("matrix", atol=OUTPUT_ATOL),
            bi(f"输出 $\\mathbf{{y}}$（{b}×{d} 矩阵）", f"output $\\mathbf{{y}}$ ({b}×{d} matrix)"),
            bi("矩阵，按行写，保留 3 位小数即可", "a matrix by rows; three decimals are enough"),
        ),
    ]


N = TypeVar("N", bound=NormParams)


def norm_misconceptions(axis: int) -> list[Misconception[N]]:
    other = FEATURES if axis == BATCH else BATCH
    size = "B" if axis == BATCH else "D"  # as the statement names the count it divides by
    wrong_axis = (
        bi(
            "你按样本（每一行）做了归一化，那是层归一化；批量归一化对每个特征（每一列）在整个批量上求均值和方差。",
            "You normalised each sample (row): that is layer normalisation. Batch normalisation takes the mean "
            "and variance of each feature (column) over the batch.",
        )
        if axis == BATCH
        else bi(
            "你按特征（每一列）在批量上做了归一化，那是批量归一化；层归一化对每个样本（每一行）的所有特征求均值和方差。",
            "You normalised each feature (column) over the batch: that is batch normalisation. Layer "
            "normalisation takes the mean and variance of each sample (row) over its features.",
        )
    )

    def other_axis(p: N) -> dict[str, str]:
        # Only meaningful where the other axis has 2+ values; a 1-value group has no variance.
        n = len(p.x) if other == BATCH else len(p.x[0])
        return answers(p, other) if n >= 2 else {}

    return [
        Misconception(
            "unbiased_variance",
            bi(
                f"归一化用的是有偏方差（除以 {size}），不是样本方差（除以 {size}-1）。",
                f"Normalisation uses the biased variance (divide by {size}), not the sample variance "
                f"(divide by {size}-1).",
            ),
            lambda p: answers(p, axis, ddof=1),
        ),
        Misconception("wrong_axis", wrong_axis, other_axis),
        Misconception(
            "forgot_affine",
            bi(
                "标准化之后还要缩放和平移：y = γ·x̂ + β。",
                "After standardising, scale and shift: y = γ·x̂ + β.",
            ),
            lambda p: _output_only(answers(p, axis, affine=False)),
        ),
        Misconception(
            "forgot_square_root",
            bi(
                "分母是标准差 √(σ² + ε)，不是方差 σ² + ε。",
                "Divide by the standard deviation √(σ² + ε), not by the variance σ² + ε.",
            ),
            lambda p: _output_only(answers(p, axis, root=lambda v: v)),
        ),
        Misconception(
            "forgot_eps",
            bi(
                "分母里要加上 ε：√(σ² + ε)。",
                "Add ε under the square root: √(σ² + ε).",
            ),
            lambda p: _output_only(answers(p, axis, eps=False)) if p.eps > 0 else {},
        ),
    ]


def _output_only(texts: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in texts.items() if k == "output"}


def norm_solution(p: NormParams, axis: int) -> dict[str, list[str]]:
    means = exact_mean(p.x, axis)
    variances = exact_variance(p.x, axis)
    groups = _groups(p.x, axis)
    zh: list[str] = []
    en: list[str] = []
    label_zh, label_en = ("特征", "feature") if axis == BATCH else ("样本", "sample")
    for k, (g, m, v) in enumerate(zip(groups, means, variances, strict=True), start=1):
        values = " + ".join(tex_exact(a, parenthesise_negative=True) for a in g)
        squares = " + ".join(f"({tex_exact(a)} - {tex_exact(m, parenthesise_negative=True)})^2" for a in g)
        mean_line = f"$\\mu_{{{k}}} = \\frac{{{values}}}{{{len(g)}}} = {tex_exact(m)}$"
        var_line = f"$\\sigma^2_{{{k}}} = \\frac{{{squares}}}{{{len(g)}}} = {tex_exact(v)}$"
        zh.append(f"第 {k} 个{label_zh}：{mean_line}，{var_line}。")
        en.append(f"{label_en.capitalize()} {k}: {mean_line}, {var_line}.")
    x_hat = normalise(p, axis, affine=False)
    y = normalise(p, axis)
    zh.append(
        f"标准化 $\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}$（$\\epsilon = {eps_tex(p.eps)}$）："
        f"$\\hat{{X}} = {tex_matrix([drop_round_off(r) for r in x_hat.tolist()], 4)}$。"
    )
    en.append(
        f"Standardise $\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}$ ($\\epsilon = {eps_tex(p.eps)}$): "
        f"$\\hat{{X}} = {tex_matrix([drop_round_off(r) for r in x_hat.tolist()], 4)}$."
    )
    affine = (
        f"$\\gamma = {tex_tuple(p.gamma)}$",
        f"$\\beta = {tex_tuple(p.beta)}$",
        f"$\\mathbf{{y}} = \\gamma \\hat{{x}} + \\beta = {tex_matrix([drop_round_off(r) for r in y.tolist()], 4)}$",
    )
    zh.append(f"逐特征缩放平移：{'，'.join(affine)}。")
    en.append(f"Scale and shift per feature: {', '.join(affine)}.")
    return {"zh": zh, "en": en}


class BatchNormParams(NormParams):
    @model_validator(mode="after")
    def _check(self) -> BatchNormParams:
        self.check_shapes(BATCH)
        return self


@register
class BatchNorm(Family[BatchNormParams]):
    id = "norm.batch_norm"
    version = 1
    title = bi("批量归一化", "Batch normalisation")
    difficulty = 2
    tags = ("optimization", "normalization", "batch_norm")
    Params = BatchNormParams

    def generate(self, rng: np.random.Generator) -> BatchNormParams:
        p = generate_norm(rng, rows=[2, 3, 3, 4, 4], cols=[1, 2, 2, 3], axis=BATCH)
        return BatchNormParams.model_validate(p.model_dump())

    def form(self, p: BatchNormParams) -> Hashable:
        return len(p.x), len(p.x[0])  # B x D: every number of the output is one more step

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> BatchNormParams | None:
        rows, cols = cast(tuple[int, int], form)
        return BatchNormParams.model_validate(generate_norm(rng, [rows], [cols], axis=BATCH).model_dump())

    def parts(self, p: BatchNormParams) -> list[Part]:
        return norm_parts(p, BATCH)

    def solve(self, p: BatchNormParams) -> dict[str, str]:
        return answers(p, BATCH)

    def statement(self, p: BatchNormParams) -> dict[str, str]:
        b, d = len(p.x), len(p.x[0])
        given = (
            f"$$X = {tex_matrix(p.x)}, \\quad \\gamma = {tex_tuple(p.gamma)}, \\quad \\beta = {tex_tuple(p.beta)}, "
            f"\\quad \\epsilon = {eps_tex(p.eps)}$$"
        )
        return bi(
            f"一个小批量有 $B = {b}$ 个样本、每个样本 $D = {d}$ 个特征，按行排成矩阵 $X$（第 $i$ 行是第 $i$ 个样本）。"
            f"对它做批量归一化（训练阶段，用本批量的统计量）：\n\n"
            f"$$\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}, \\quad \\mathbf{{y}} = \\gamma \\hat{{x}} + \\beta$$\n\n"
            f"其中 $\\mu$、$\\sigma^2$ 是每个特征在整个批量上的均值和方差（除以 $B$ 的有偏方差），"
            f"$\\gamma$、$\\beta$ 逐特征作用。\n\n{given}\n\n"
            f"求每个特征的均值 $\\mu$、方差 $\\sigma^2$ 和输出 $\\mathbf{{y}}$（{b}×{d}）。",
            f"A mini-batch of $B = {b}$ {plural(b, 'sample', 'samples')} with $D = {d}$ {plural(d, 'feature', 'features')} each is stacked by rows into $X$ (row $i$ "
            f"is sample $i$). Apply batch normalisation (training mode: this batch's statistics):\n\n"
            f"$$\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}, \\quad \\mathbf{{y}} = \\gamma \\hat{{x}} + \\beta$$\n\n"
            f"where $\\mu$ and $\\sigma^2$ are each feature's mean and variance over the batch (the biased "
            f"variance, divided by $B$) and $\\gamma$, $\\beta$ act per feature.\n\n{given}\n\n"
            f"Find each feature's mean $\\mu$ and variance $\\sigma^2$, and the output $\\mathbf{{y}}$ ({b}×{d}).",
        )

    def solution(self, p: BatchNormParams) -> dict[str, list[str]]:
        return norm_solution(p, BATCH)

    def misconceptions(self) -> list[Misconception[BatchNormParams]]:
        return norm_misconceptions(BATCH)
