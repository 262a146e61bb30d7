"""attention.positional_encoding: one entry of the sinusoidal positional encoding (Vaswani et al., 2017)."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, bi
from problems.fmt import num
from problems.registry import register


class PositionalEncodingParams(Params):
    pos: int = Field(ge=0, le=10000, description="token position (0-based)")
    i: int = Field(ge=0, lt=4096, description="dimension index 0..d_model-1: even -> sin, odd -> cos")
    d_model: int = Field(ge=2, le=4096, description="model dimension (even)")

    @model_validator(mode="after")
    def _check(self) -> PositionalEncodingParams:
        if self.d_model % 2:
            raise ValueError(f"d_model: must be even (sin/cos pairs), got {self.d_model}")
        if self.i >= self.d_model:
            raise ValueError(f"i: dimension index {self.i} must be below d_model = {self.d_model}")
        return self


def _angle_text(pos: int, exponent_numerator: int, d_model: int) -> str:
    """pos / 10000^(k/d_model) in the student syntax."""
    if exponent_numerator == 0:
        return str(pos)
    return f"{pos}/10000^({exponent_numerator}/{d_model})"


def _value_text(
    p: PositionalEncodingParams, *, even_fn: str, odd_fn: str, numerator: int, degrees: bool = False
) -> str:
    angle = _angle_text(p.pos, numerator, p.d_model)
    if degrees:  # the angle taken in degrees: sin(x deg) = sin(x*pi/180)
        angle = f"({angle})*pi/180"
    return f"{even_fn if p.i % 2 == 0 else odd_fn}({angle})"


def _pair(i: int) -> int:
    """2*floor(i/2): the even index that dimension i shares its frequency with."""
    return i - i % 2


def _value(
    p: PositionalEncodingParams, *, swapped: bool = False, numerator: int, degrees: bool = False
) -> float:
    angle = p.pos / 10000 ** (numerator / p.d_model) * (math.pi / 180 if degrees else 1)
    return math.sin(angle) if (p.i % 2 == 0) != swapped else math.cos(angle)


# Four times the default tolerance (0.5%): a rounded wrong answer must not pass either.
_APART = 0.02


def _telling(p: PositionalEncodingParams) -> bool:
    """Does this instance tell the right answer from a guess of ±1 and from each misconception?
    A high dimension makes the angle tiny: cos of it is 1 to 4 figures, and so is the cos of every
    wrong exponent (version 1 accepted "1" and the i/d_model slip for one instance in seven)."""
    value = _value(p, numerator=_pair(p.i))
    if abs(abs(value) - 1) <= _APART:
        return False
    wrong = [
        (_value(p, swapped=True, numerator=_pair(p.i)), True),
        (_value(p, numerator=p.i), p.i != _pair(p.i)),
        (_value(p, numerator=2 * p.i), 2 * p.i != _pair(p.i)),
        (_value(p, numerator=p.i // 2), p.i // 2 != _pair(p.i)),
        (_value(p, numerator=_pair(p.i), degrees=True), True),
    ]
    return all(abs(w - value) > _APART * abs(value) for w, differs in wrong if differs)


@register
class PositionalEncoding(Family[PositionalEncodingParams]):
    id = "attention.positional_encoding"
    version = 2  # 2: seeds pose only instances that tell the right answer from the slips and from 1
    same_params_since = 1  # only generate changed: stored params pose what they posed
    title = bi("正弦位置编码", "Sinusoidal positional encoding")
    difficulty = 1
    tags = ("attention", "transformer", "positional_encoding")
    Params = PositionalEncodingParams

    def generate(self, rng: np.random.Generator) -> PositionalEncodingParams:
        for _ in range(100):  # almost always the first or second draw
            d_model = int(rng.choice([4, 8, 16, 64, 128, 512]))
            pos = int(rng.integers(1, 51))
            # Half the time one of the first few dimensions (fast frequencies), else anywhere.
            i = int(rng.integers(0, min(d_model, 6))) if rng.random() < 0.5 else int(rng.integers(0, d_model))
            p = PositionalEncodingParams(pos=pos, i=i, d_model=d_model)
            if _telling(p):
                return p
        return p

    def parts(self, p: PositionalEncodingParams) -> list[Part]:
        return [
            Part(
                "value",
                AnswerSpec("real"),
                bi(f"$PE({p.pos}, {p.i})$ 的值", f"the value of $PE({p.pos}, {p.i})$"),
                bi("一个数（弧度制），如 0.8415 或 sin(1)", "a number (radians), e.g. 0.8415 or sin(1)"),
            )
        ]

    def solve(self, p: PositionalEncodingParams) -> dict[str, str]:
        return {"value": _value_text(p, even_fn="sin", odd_fn="cos", numerator=_pair(p.i))}

    def statement(self, p: PositionalEncodingParams) -> dict[str, str]:
        formula = (
            "$$PE(pos, 2k) = \\sin\\left(\\frac{pos}{10000^{2k/d_{model}}}\\right), \\quad "
            "PE(pos, 2k+1) = \\cos\\left(\\frac{pos}{10000^{2k/d_{model}}}\\right)$$"
        )
        return bi(
            f"Transformer 使用正弦位置编码（$d_{{model}} = {p.d_model}$）：\n\n{formula}\n\n"
            f"其中位置 $pos$ 与维度下标都从 0 开始；偶数维用 $\\sin$，奇数维用 $\\cos$，"
            f"第 $2k$ 与 $2k+1$ 维共用同一频率。角度用弧度制。求位置 $pos = {p.pos}$、维度下标 $i = {p.i}$ 处的值 "
            f"$PE({p.pos}, {p.i})$。",
            f"A Transformer uses the sinusoidal positional encoding ($d_{{model}} = {p.d_model}$):\n\n{formula}\n\n"
            f"Positions $pos$ and dimension indices both start at 0; even dimensions use $\\sin$, odd ones "
            f"$\\cos$, and dimensions $2k$ and $2k+1$ share one frequency. Angles are in radians. Find the value "
            f"at position $pos = {p.pos}$ and dimension index $i = {p.i}$, i.e. $PE({p.pos}, {p.i})$.",
        )

    def solution(self, p: PositionalEncodingParams) -> dict[str, list[str]]:
        k = p.i // 2
        fn = "\\sin" if p.i % 2 == 0 else "\\cos"
        angle = p.pos / 10000 ** (2 * k / p.d_model)
        value = math.sin(angle) if p.i % 2 == 0 else math.cos(angle)
        parity_zh = "偶数，用 $\\sin$" if p.i % 2 == 0 else "奇数，用 $\\cos$"
        parity_en = "even, so $\\sin$" if p.i % 2 == 0 else "odd, so $\\cos$"
        return {
            "zh": [
                f"$i = {p.i}$ 是{parity_zh}；$i = 2k{'' if p.i % 2 == 0 else ' + 1'}$，$k = {k}$，指数 $2k/d_{{model}} = {2 * k}/{p.d_model}$。",
                f"角度 $\\frac{{{p.pos}}}{{10000^{{{2 * k}/{p.d_model}}}}} \\approx {num(angle, 6)}$（弧度）。",
                f"$PE({p.pos}, {p.i}) = {fn}({num(angle, 6)}) \\approx {num(value, 4)}$。",
            ],
            "en": [
                f"$i = {p.i}$ is {parity_en}; $i = 2k{'' if p.i % 2 == 0 else ' + 1'}$ with $k = {k}$, exponent $2k/d_{{model}} = {2 * k}/{p.d_model}$.",
                f"The angle is $\\frac{{{p.pos}}}{{10000^{{{2 * k}/{p.d_model}}}}} \\approx {num(angle, 6)}$ (radians).",
                f"$PE({p.pos}, {p.i}) = {fn}({num(angle, 6)}) \\approx {num(value, 4)}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[PositionalEncodingParams]]:
        return [
            Misconception(
                "sin_cos_swapped",
                bi(
                    "你把 sin 和 cos 用反了：偶数维（2k）用 sin，奇数维（2k+1）用 cos。",
                    "You swapped sin and cos: even dimensions (2k) use sin, odd ones (2k+1) use cos.",
                ),
                lambda p: {"value": _value_text(p, even_fn="cos", odd_fn="sin", numerator=_pair(p.i))},
            ),
            Misconception(
                "odd_index_in_exponent",
                bi(
                    "奇数维 2k+1 与偶数维 2k 共用频率，指数应为 2k/d_model，而不是 i/d_model。",
                    "Odd dimension 2k+1 shares the frequency of 2k: the exponent is 2k/d_model, not i/d_model.",
                ),
                lambda p: {"value": _value_text(p, even_fn="sin", odd_fn="cos", numerator=p.i)},
            ),
            Misconception(
                "doubled_index",
                bi(
                    "公式里的 2k 已经是维度下标：维度 i 的指数是 2⌊i/2⌋/d_model，不要再乘 2。",
                    "The 2k in the formula is already the dimension index: dimension i has exponent "
                    "2⌊i/2⌋/d_model; do not double it again.",
                ),
                lambda p: {"value": _value_text(p, even_fn="sin", odd_fn="cos", numerator=2 * p.i)},
            ),
            Misconception(
                "forgot_factor_two",
                bi(
                    "指数应为 2k/d_model（k = ⌊i/2⌋），你漏掉了因子 2。",
                    "The exponent is 2k/d_model with k = ⌊i/2⌋; you dropped the factor 2.",
                ),
                lambda p: {"value": _value_text(p, even_fn="sin", odd_fn="cos", numerator=p.i // 2)},
            ),
            Misconception(
                "degrees",
                bi(
                    "你的计算器在角度制（度）下计算；位置编码的角度是弧度。",
                    "Your calculator was in degrees; the angles of the positional encoding are in radians.",
                ),
                lambda p: {
                    "value": _value_text(p, even_fn="sin", odd_fn="cos", numerator=_pair(p.i), degrees=True)
                },
            ),
        ]
