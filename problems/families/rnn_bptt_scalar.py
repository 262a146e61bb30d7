"""rnn.bptt_scalar: dh_T/dh_0 of a scalar RNN h_t = tanh(w h_{t-1} + u x_t), the vanishing/exploding gradient."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

import numpy as np
from pydantic import Field

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, bi
from problems.fmt import num, tex_factor
from problems.registry import register

MAX_STEPS = 20

Entry = Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]


class BpttScalarParams(Params):
    w: float = Field(ge=-10, le=10, allow_inf_nan=False, description="recurrent weight")
    u: float = Field(ge=-10, le=10, allow_inf_nan=False, description="input weight")
    xs: Annotated[list[Entry], Field(min_length=1, max_length=MAX_STEPS)] = Field(
        description="inputs x_1 .. x_T"
    )
    h0: float = Field(default=0.0, ge=-1, le=1, allow_inf_nan=False, description="initial state h_0")


def _states(p: BpttScalarParams) -> list[float]:
    """h_0, h_1, ..., h_T."""
    hs = [p.h0]
    for x in p.xs:
        hs.append(math.tanh(p.w * hs[-1] + p.u * x))
    return hs


def _product(p: BpttScalarParams, factor: Callable[[float, float], float]) -> float:
    """prod over t = 1..T of factor(h_t, h_{t-1})."""
    hs = _states(p)
    out = 1.0
    for t in range(1, len(hs)):
        out *= factor(hs[t], hs[t - 1])
    return out


def _answer(value: float) -> dict[str, str]:
    return {"dhT_dh0": num(value)}


@register
class BpttScalar(Family[BpttScalarParams]):
    id = "rnn.bptt_scalar"
    version = 1
    title = bi("随时间反向传播：标量循环网络的梯度", "Backpropagation through time in a scalar RNN")
    difficulty = 2
    tags = ("rnn", "bptt", "vanishing_gradient")
    Params = BpttScalarParams

    def generate(self, rng: np.random.Generator) -> BpttScalarParams:
        while True:
            w = float(rng.choice([-1, 1])) * int(rng.integers(3, 16)) / 10
            u = float(rng.choice([-1, 1])) * int(rng.integers(2, 11)) / 10
            steps = int(rng.choice([2, 3, 3, 4]))
            xs = (rng.integers(-10, 11, size=steps) / 10).tolist()
            h0 = 0.0 if rng.random() < 0.4 else int(rng.integers(-8, 9)) / 10
            p = BpttScalarParams(w=w, u=u, xs=xs, h0=h0)
            hs = _states(p)
            # No saturated step (1 - h_t^2 >= 0.1) and a moving state, so tanh' visibly matters.
            if min(1 - h * h for h in hs[1:]) >= 0.1 and max(abs(h) for h in hs[1:]) >= 0.1:
                return p

    def parts(self, p: BpttScalarParams) -> list[Part]:
        t = len(p.xs)
        return [
            Part(
                "dhT_dh0",
                AnswerSpec("real"),
                bi(
                    f"$\\partial h_{{{t}}} / \\partial h_0$",
                    f"$\\partial h_{{{t}}} / \\partial h_0$",
                ),
                bi("一个数，保留 3 位有效数字即可", "a number; three significant figures are enough"),
            )
        ]

    def solve(self, p: BpttScalarParams) -> dict[str, str]:
        return _answer(_product(p, lambda h, _: p.w * (1 - h * h)))

    def statement(self, p: BpttScalarParams) -> dict[str, str]:
        t = len(p.xs)
        xs = ", ".join(f"x_{{{k}}} = {num(x)}" for k, x in enumerate(p.xs, start=1))
        return bi(
            f"一个标量循环网络按 $h_t = \\tanh(w\\,h_{{t-1}} + u\\,x_t)$ 更新，其中 $w = {num(p.w)}$，$u = {num(p.u)}$，"
            f"$h_0 = {num(p.h0)}$，输入序列为 ${xs}$。用随时间反向传播求 $\\dfrac{{\\partial h_{{{t}}}}}{{\\partial h_0}}$"
            f"（提示：$\\tanh'(a) = 1 - \\tanh^2(a)$）。",
            f"A scalar recurrent network updates $h_t = \\tanh(w\\,h_{{t-1}} + u\\,x_t)$ with $w = {num(p.w)}$, "
            f"$u = {num(p.u)}$, $h_0 = {num(p.h0)}$ and the inputs ${xs}$. By backpropagation through time, find "
            f"$\\dfrac{{\\partial h_{{{t}}}}}{{\\partial h_0}}$ (hint: $\\tanh'(a) = 1 - \\tanh^2(a)$).",
        )

    def solution(self, p: BpttScalarParams) -> dict[str, list[str]]:
        hs = _states(p)
        t_last = len(hs) - 1
        forward = ", ".join(f"h_{{{k}}} = {num(h, 4)}" for k, h in enumerate(hs[1:], start=1))
        factors = [p.w * (1 - h * h) for h in hs[1:]]
        factor_tex = " \\times ".join(f"{tex_factor(p.w)}(1 - {tex_factor(h, 4)}^2)" for h in hs[1:])
        values = " \\times ".join(tex_factor(f, 4) for f in factors)
        total = num(_product(p, lambda h, _: p.w * (1 - h * h)), 4)
        chain = f"\\frac{{\\partial h_{{{t_last}}}}}{{\\partial h_0}} = \\prod_{{t=1}}^{{{t_last}}} w\\,(1 - h_t^2)"
        return {
            "zh": [
                f"前向计算：${forward}$。",
                f"链式法则：$\\frac{{\\partial h_t}}{{\\partial h_{{t-1}}}} = w\\,\\tanh'(\\cdot) = w\\,(1 - h_t^2)$，"
                f"所以 ${chain}$。",
                f"代入：${factor_tex} = {values} = {total}$。",
                "每一步都乘以 $w(1 - h_t^2)$：其绝对值小于 1 时梯度随步数指数衰减（梯度消失），大于 1 时指数增长（梯度爆炸）。",
            ],
            "en": [
                f"Forward pass: ${forward}$.",
                f"Chain rule: $\\frac{{\\partial h_t}}{{\\partial h_{{t-1}}}} = w\\,\\tanh'(\\cdot) = w\\,(1 - h_t^2)$, "
                f"so ${chain}$.",
                f"With the numbers: ${factor_tex} = {values} = {total}$.",
                "Every step multiplies by $w(1 - h_t^2)$: below 1 in absolute value the gradient shrinks "
                "exponentially with the number of steps (vanishing), above 1 it grows (exploding).",
            ],
        }

    def misconceptions(self) -> list[Misconception[BpttScalarParams]]:
        return [
            Misconception(
                "forgot_tanh_derivative",
                bi(
                    "你漏掉了 tanh 的导数：每一步的因子是 w(1 - h_t²)，不只是 w，所以结果不是 w^T。",
                    "You left out tanh's derivative: each step's factor is w(1 - h_t²), not just w, so the "
                    "answer is not w^T.",
                ),
                lambda p: _answer(p.w ** len(p.xs)),
            ),
            Misconception(
                "derivative_at_previous_state",
                bi(
                    "tanh 的导数要在本步的输出处取值：∂h_t/∂h_{t-1} = w(1 - h_t²)，不是 w(1 - h_{t-1}²)。",
                    "tanh's derivative is taken at this step's output: ∂h_t/∂h_{t-1} = w(1 - h_t²), not "
                    "w(1 - h_{t-1}²).",
                ),
                lambda p: _answer(_product(p, lambda _, prev: p.w * (1 - prev * prev))),
            ),
            Misconception(
                "sigmoid_derivative",
                bi(
                    "你用了 sigmoid 的导数 h(1 - h)；tanh 的导数是 1 - tanh² = 1 - h_t²。",
                    "You used the sigmoid's derivative h(1 - h); tanh's derivative is 1 - tanh² = 1 - h_t².",
                ),
                lambda p: _answer(_product(p, lambda h, _: p.w * h * (1 - h))),
            ),
            Misconception(
                "forgot_recurrent_weight",
                bi(
                    "你漏掉了循环权重 w：∂h_t/∂h_{t-1} = w(1 - h_t²)，每一步都要乘 w。",
                    "You left out the recurrent weight w: ∂h_t/∂h_{t-1} = w(1 - h_t²), a factor w at every step.",
                ),
                lambda p: _answer(_product(p, lambda h, _: 1 - h * h)),
            ),
        ]
