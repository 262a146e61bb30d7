"""backprop.std_graph: the population standard deviation and its gradient through the graph (seeds/004 1.2)."""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import drop_round_off, num, tex_tuple, vec
from problems.registry import register

MAX_VALUES = 8

Value = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]


class StdGraphParams(Params):
    x: Annotated[list[Value], Field(min_length=2, max_length=MAX_VALUES)] = Field(
        description="the samples x_1 .. x_N"
    )

    @model_validator(mode="after")
    def _check(self) -> StdGraphParams:
        if max(self.x) == min(self.x):
            raise ValueError("x: all values are equal; the standard deviation is 0 and has no gradient there")
        return self


def _moments(x: list[float], ddof: int = 0) -> tuple[np.ndarray, float, float]:
    """Return the deviations x_i - mean, the mean and the standard deviation (divide by N - ddof)."""
    arr = np.array(x, dtype=float)
    mean = float(arr.mean())
    dev = arr - mean
    return dev, mean, math.sqrt(float((dev**2).sum()) / (len(x) - ddof))


def _answers(p: StdGraphParams, ddof: int = 0) -> dict[str, str]:
    dev, _, std = _moments(p.x, ddof)
    return {"std": num(std), "grad_x": vec((dev / ((len(p.x) - ddof) * std)).tolist())}


@register
class StdGraph(Family[StdGraphParams]):
    id = "backprop.std_graph"
    version = 1
    title = bi("标准差的计算图与反向传播", "Backpropagation through the standard deviation")
    difficulty = 2
    tags = ("ffn", "backprop", "computational_graph", "gradient")
    Params = StdGraphParams

    def generate(self, rng: np.random.Generator) -> StdGraphParams:
        while True:
            n = int(rng.choice([2, 2, 3, 3, 4, 5]))
            x = rng.integers(-5, 6, size=n).astype(float) if rng.random() < 0.7 else decimals(rng, -3, 3, n)
            # Distinct values: a repeated sample is legal but teaches nothing more.
            if len(set(x.tolist())) == n:
                return StdGraphParams(x=x.tolist())

    def parts(self, p: StdGraphParams) -> list[Part]:
        n = len(p.x)
        return [
            Part(
                "std",
                AnswerSpec("real"),
                bi("标准差 $\\sigma$", "the standard deviation $\\sigma$"),
                bi("一个数，如 2 或 sqrt(2)", "a number, e.g. 2 or sqrt(2)"),
            ),
            Part(
                "grad_x",
                AnswerSpec("vector"),
                bi(
                    f"梯度 $(\\partial \\sigma / \\partial x_1, \\dots, \\partial \\sigma / \\partial x_{{{n}}})$",
                    f"the gradient $(\\partial \\sigma / \\partial x_1, \\dots, \\partial \\sigma / \\partial x_{{{n}}})$",
                ),
                bi("向量，如 [-0.5, 0.5]", "a vector, e.g. [-0.5, 0.5]"),
            ),
        ]

    def solve(self, p: StdGraphParams) -> dict[str, str]:
        return _answers(p)

    def statement(self, p: StdGraphParams) -> dict[str, str]:
        n = len(p.x)
        values = ", ".join(f"x_{{{i}}} = {num(v)}" for i, v in enumerate(p.x, start=1))
        formula = (
            f"$$\\bar{{x}} = \\frac{{1}}{{{n}}}\\sum_{{i=1}}^{{{n}}} x_i, \\quad "
            f"\\sigma = \\sqrt{{\\frac{{1}}{{{n}}}\\sum_{{i=1}}^{{{n}}} (x_i - \\bar{{x}})^2}}$$"
        )
        return bi(
            f"输入有 {n} 个样本 $x_1, \\dots, x_{{{n}}}$，按下式计算它们的标准差（总体标准差，除以 $N = {n}$）：\n\n{formula}\n\n"
            f"画出计算图并做反向传播：当 ${values}$ 时，求 $\\sigma$ 以及输出对每个输入的总梯度 "
            f"$\\frac{{\\partial \\sigma}}{{\\partial x_i}}$（注意 $\\bar{{x}}$ 也依赖于每个 $x_i$）。",
            f"The {n} {plural(n, 'input', 'inputs')} $x_1, \\dots, x_{{{n}}}$ go through a computational graph that computes their standard "
            f"deviation (population standard deviation, dividing by $N = {n}$):\n\n{formula}\n\n"
            f"Backpropagate through the graph: for ${values}$, find $\\sigma$ and the total gradient of the output "
            f"with respect to every input, $\\frac{{\\partial \\sigma}}{{\\partial x_i}}$ (note that $\\bar{{x}}$ "
            f"depends on every $x_i$ too).",
        )

    def solution(self, p: StdGraphParams) -> dict[str, list[str]]:
        n = len(p.x)
        dev, mean, std = _moments(p.x)
        var = std**2
        grad = dev / (n * std)
        squares = " + ".join(f"({num(float(d), 6)})^2" for d in dev)
        return {
            "zh": [
                f"前向：$\\bar{{x}} = {num(drop_round_off([mean])[0], 6)}$，偏差 $x_i - \\bar{{x}} = {tex_tuple(dev.tolist(), 6)}$，"
                f"方差 $\\frac{{1}}{{{n}}}({squares}) = {num(var, 6)}$，$\\sigma = \\sqrt{{{num(var, 6)}}} = {num(std, 6)}$。",
                f"对均值的梯度：$\\frac{{\\partial \\sigma}}{{\\partial \\bar{{x}}}} = \\frac{{1}}{{2\\sigma}} \\cdot "
                f"\\frac{{1}}{{{n}}}\\sum_i -2(x_i - \\bar{{x}}) = 0$，因为偏差之和为 0；所以经过 $\\bar{{x}}$ 的那条路径贡献为 0。",
                f"直接路径：$\\frac{{\\partial \\sigma}}{{\\partial x_i}} = \\frac{{1}}{{2\\sigma}} \\cdot \\frac{{2(x_i - \\bar{{x}})}}{{{n}}} "
                f"= \\frac{{x_i - \\bar{{x}}}}{{{n}\\sigma}}$，代入得 ${tex_tuple(grad.tolist(), 6)}$。",
            ],
            "en": [
                f"Forward: $\\bar{{x}} = {num(drop_round_off([mean])[0], 6)}$, deviations $x_i - \\bar{{x}} = {tex_tuple(dev.tolist(), 6)}$, "
                f"variance $\\frac{{1}}{{{n}}}({squares}) = {num(var, 6)}$, $\\sigma = \\sqrt{{{num(var, 6)}}} = {num(std, 6)}$.",
                f"Through the mean: $\\frac{{\\partial \\sigma}}{{\\partial \\bar{{x}}}} = \\frac{{1}}{{2\\sigma}} \\cdot "
                f"\\frac{{1}}{{{n}}}\\sum_i -2(x_i - \\bar{{x}}) = 0$, because the deviations add up to 0; that path "
                f"contributes nothing.",
                f"Direct path: $\\frac{{\\partial \\sigma}}{{\\partial x_i}} = \\frac{{1}}{{2\\sigma}} \\cdot \\frac{{2(x_i - \\bar{{x}})}}{{{n}}} "
                f"= \\frac{{x_i - \\bar{{x}}}}{{{n}\\sigma}}$, which gives ${tex_tuple(grad.tolist(), 6)}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[StdGraphParams]]:
        return [
            Misconception(
                "sample_std_n_minus_1",
                bi(
                    "你用了样本标准差（除以 N - 1）；这里是总体标准差，除以 N（PyTorch 中 torch.std(x, correction=0)）。",
                    "You used the sample standard deviation (dividing by N - 1); this one divides by N "
                    "(torch.std(x, correction=0)).",
                ),
                lambda p: _answers(p, ddof=1),
            ),
            Misconception(
                "variance_not_std",
                bi(
                    "这是方差；标准差还要开平方根。",
                    "That is the variance; the standard deviation is its square root.",
                ),
                lambda p: {"std": num(_moments(p.x)[2] ** 2)},
            ),
            Misconception(
                "gradient_of_variance",
                bi(
                    "这是方差的梯度 2(x_i - x̄)/N；标准差还要乘上平方根的导数 1/(2σ)。",
                    "That is the gradient of the variance, 2(x_i - x̄)/N; the square root adds the factor 1/(2σ).",
                ),
                lambda p: {"grad_x": vec((2 * _moments(p.x)[0] / len(p.x)).tolist())},
            ),
            Misconception(
                "forgot_half_of_sqrt",
                bi(
                    "平方根的导数是 1/(2√v)，你漏掉了 1/2。",
                    "The derivative of the square root is 1/(2√v); the 1/2 is missing.",
                ),
                lambda p: {"grad_x": vec((2 * _moments(p.x)[0] / (len(p.x) * _moments(p.x)[2])).tolist())},
            ),
            Misconception(
                "forgot_1_over_n",
                bi(
                    "漏掉了均值里的 1/N：∂σ/∂x_i = (x_i - x̄)/(Nσ)。",
                    "The 1/N of the mean of squares is missing: dσ/dx_i = (x_i - x̄)/(Nσ).",
                ),
                lambda p: {"grad_x": vec((_moments(p.x)[0] / _moments(p.x)[2]).tolist())},
            ),
        ]
