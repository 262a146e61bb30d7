"""backprop.max_grad: the gradient of y = max(x_1, ..., x_D) (seeds/001 A6.2)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import num, tex_tuple, vec
from problems.registry import register

MAX_VALUES = 10

Value = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]


class MaxGradParams(Params):
    x: Annotated[list[Value], Field(min_length=2, max_length=MAX_VALUES)] = Field(
        description="the inputs x_1 .. x_D; the largest must be unique"
    )

    @model_validator(mode="after")
    def _check(self) -> MaxGradParams:
        # Only a tie for the maximum makes max non-differentiable; other repeated values are harmless.
        if self.x.count(max(self.x)) > 1:
            raise ValueError("x: the largest value occurs more than once; max has no gradient there")
        return self


def _one_hot(p: MaxGradParams, value: float = 1.0) -> list[float]:
    k = int(np.argmax(p.x))
    return [value if i == k else 0.0 for i in range(len(p.x))]


@register
class MaxGrad(Family[MaxGradParams]):
    id = "backprop.max_grad"
    version = 1
    title = bi("max 函数的梯度", "The gradient of the max function")
    difficulty = 1
    tags = ("ffn", "backprop", "gradient", "pooling")
    Params = MaxGradParams

    def generate(self, rng: np.random.Generator) -> MaxGradParams:
        while True:
            n = int(rng.choice([3, 4, 4, 5, 6]))
            x = rng.integers(-9, 10, size=n).astype(float) if rng.random() < 0.6 else decimals(rng, -5, 5, n)
            # Distinct values (the catalogue's promise), and a maximum that is not 1 so that writing the
            # value of max instead of its gradient shows.
            if len(set(x.tolist())) == n and float(x.max()) != 1.0:
                return MaxGradParams(x=x.tolist())

    def parts(self, p: MaxGradParams) -> list[Part]:
        n = len(p.x)
        return [
            Part(
                "grad",
                AnswerSpec("vector"),
                bi(
                    f"梯度 $(\\partial y / \\partial x_1, \\dots, \\partial y / \\partial x_{{{n}}})$",
                    f"the gradient $(\\partial y / \\partial x_1, \\dots, \\partial y / \\partial x_{{{n}}})$",
                ),
                bi("向量，如 [0, 1, 0]", "a vector, e.g. [0, 1, 0]"),
            )
        ]

    def solve(self, p: MaxGradParams) -> dict[str, str]:
        return {"grad": vec(_one_hot(p))}

    def statement(self, p: MaxGradParams) -> dict[str, str]:
        n = len(p.x)
        given = f"$\\mathbf{{x}} = {tex_tuple(p.x)}$"
        return bi(
            f"计算函数 $y = \\max(x_1, \\dots, x_{{{n}}})$ 在 {given} 处的梯度 "
            f"$\\nabla_{{\\mathbf{{x}}}} y = (\\frac{{\\partial y}}{{\\partial x_1}}, \\dots, \\frac{{\\partial y}}{{\\partial x_{{{n}}}}})$"
            f"（最大池化层反向传播时也是如此）。",
            f"Find the gradient $\\nabla_{{\\mathbf{{x}}}} y = (\\frac{{\\partial y}}{{\\partial x_1}}, \\dots, "
            f"\\frac{{\\partial y}}{{\\partial x_{{{n}}}}})$ of $y = \\max(x_1, \\dots, x_{{{n}}})$ at {given} "
            f"(max pooling backpropagates the same way).",
        )

    def solution(self, p: MaxGradParams) -> dict[str, list[str]]:
        k = int(np.argmax(p.x))
        top = num(p.x[k])
        grad = tex_tuple(_one_hot(p))
        return {
            "zh": [
                f"最大值是 $x_{{{k + 1}}} = {top}$，且唯一；在它附近 $y = x_{{{k + 1}}}$，其余输入的微小变化不影响 $y$。",
                f"所以 $\\frac{{\\partial y}}{{\\partial x_{{{k + 1}}}}} = 1$，其余分量为 0：$\\nabla_{{\\mathbf{{x}}}} y = {grad}$。",
            ],
            "en": [
                f"The maximum is $x_{{{k + 1}}} = {top}$, and it is unique; near this point $y = x_{{{k + 1}}}$, "
                f"and small changes of the other inputs leave $y$ unchanged.",
                f"So $\\frac{{\\partial y}}{{\\partial x_{{{k + 1}}}}} = 1$ and every other entry is 0: "
                f"$\\nabla_{{\\mathbf{{x}}}} y = {grad}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[MaxGradParams]]:
        return [
            Misconception(
                "max_value_not_gradient",
                bi(
                    "梯度在最大值位置是 1，而不是最大值本身：y = x_k 对 x_k 的导数是 1。",
                    "At the maximum the gradient is 1, not the maximum itself: y = x_k has derivative 1 in x_k.",
                ),
                lambda p: {"grad": vec(_one_hot(p, max(p.x)))},
            ),
            Misconception(
                "like_mean",
                bi(
                    "max 不是平均：只有最大的那个输入影响输出，梯度是单热向量，不是每个分量都为 1/D。",
                    "max is not the mean: only the largest input affects the output, so the gradient is one-hot, "
                    "not 1/D in every entry.",
                ),
                lambda p: {"grad": vec([1 / len(p.x)] * len(p.x))},
            ),
            Misconception(
                "like_sum",
                bi(
                    "max 不是求和：非最大的输入对输出没有影响，它们的梯度是 0。",
                    "max is not a sum: the inputs that are not the largest do not affect the output; their gradient is 0.",
                ),
                lambda p: {"grad": vec([1.0] * len(p.x))},
            ),
        ]
