"""loss.binary_cross_entropy: logistic regression on one sample, its loss and gradient (seeds/003 Logistic 回归)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import num, tex_column, vec
from problems.registry import register

MAX_FEATURES = 8
MAX_LOGIT = 30.0  # beyond it sigmoid is 1 to double precision and the loss of the wrong label is meaningless
# A probability or gradient worked by hand to three or four decimals; entries near 0 get this floor.
ENTRY_ATOL = 5e-4

Entry = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
Features = Annotated[list[Entry], Field(min_length=1, max_length=MAX_FEATURES)]


class BinaryCrossEntropyParams(Params):
    w: Features = Field(description="weights")
    b: Entry = Field(description="bias")
    x: Features = Field(description="the sample's features")
    y: Literal[0, 1] = Field(description="the label")

    @model_validator(mode="after")
    def _check(self) -> BinaryCrossEntropyParams:
        if len(self.w) != len(self.x):
            raise ValueError(
                f"x: needs {len(self.w)} {plural(len(self.w), 'entry', 'entries')}, as many as w"
            )
        z = _logit(self)
        if abs(z) > MAX_LOGIT:
            raise ValueError(f"x: w·x + b = {num(z, 6)} is beyond ±{num(MAX_LOGIT)}; choose smaller numbers")
        return self


def _logit(p: BinaryCrossEntropyParams) -> float:
    return float(np.dot(p.w, p.x) + p.b)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _softplus(z: float) -> float:
    """log(1 + e^z) without overflow or cancellation."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _loss(p: BinaryCrossEntropyParams) -> float:
    # -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z): exact for every z.
    z = _logit(p)
    return _softplus(-z) if p.y == 1 else _softplus(z)


def _gradients(residual: float, p: BinaryCrossEntropyParams) -> dict[str, str]:
    return {"grad_w": vec([residual * xi for xi in p.x]), "grad_b": num(residual)}


@register
class BinaryCrossEntropy(Family[BinaryCrossEntropyParams]):
    id = "loss.binary_cross_entropy"
    version = 1
    title = bi(
        "Logistic 回归的交叉熵损失与梯度", "Binary cross-entropy of logistic regression and its gradient"
    )
    difficulty = 2
    tags = ("linear_models", "loss", "cross_entropy", "logistic_regression", "gradient")
    Params = BinaryCrossEntropyParams

    def generate(self, rng: np.random.Generator) -> BinaryCrossEntropyParams:
        while True:
            n = int(rng.choice([1, 2, 2, 3, 3, 4]))
            w = decimals(rng, -1.5, 1.5, n)
            x = rng.integers(-3, 4, size=n).astype(float) if rng.random() < 0.5 else decimals(rng, -2, 2, n)
            b = float(decimals(rng, -1, 1, 1)[0])
            p = BinaryCrossEntropyParams(w=w.tolist(), b=b, x=x.tolist(), y=1 if rng.random() < 0.5 else 0)
            # A logit that is not 0 (p = 0.5 hides a forgotten sigmoid's sign) and not saturated, and
            # features that matter.
            z = _logit(p)
            if 0.2 <= abs(z) <= 3 and w.any() and x.any():
                return p

    def parts(self, p: BinaryCrossEntropyParams) -> list[Part]:
        n = len(p.w)
        return [
            Part(
                "probability",
                AnswerSpec("real", atol=ENTRY_ATOL),
                bi(
                    "预测为正类的概率 $\\hat{y} = p(y=1|\\mathbf{x})$",
                    "the predicted probability $\\hat{y} = p(y=1|\\mathbf{x})$",
                ),
                bi("一个 0 到 1 之间的数，如 0.731", "a number between 0 and 1, e.g. 0.731"),
            ),
            Part(
                "loss",
                AnswerSpec("real"),
                bi("交叉熵损失 $\\mathcal{L}$", "the cross-entropy loss $\\mathcal{L}$"),
                bi("一个数，如 0.313", "a number, e.g. 0.313"),
            ),
            Part(
                "grad_w",
                AnswerSpec("vector", atol=ENTRY_ATOL),
                bi(
                    f"梯度 $\\partial \\mathcal{{L}} / \\partial \\mathbf{{w}}$（{n} 维）",
                    f"the gradient $\\partial \\mathcal{{L}} / \\partial \\mathbf{{w}}$ ({n} {plural(n, 'entry', 'entries')})",
                ),
                bi("向量，如 [-0.269, 0.538]", "a vector, e.g. [-0.269, 0.538]"),
            ),
            Part(
                "grad_b",
                AnswerSpec("real", atol=ENTRY_ATOL),
                bi(
                    "梯度 $\\partial \\mathcal{L} / \\partial b$",
                    "the gradient $\\partial \\mathcal{L} / \\partial b$",
                ),
                bi("一个数，如 -0.269", "a number, e.g. -0.269"),
            ),
        ]

    def solve(self, p: BinaryCrossEntropyParams) -> dict[str, str]:
        prob = _sigmoid(_logit(p))
        return {"probability": num(prob), "loss": num(_loss(p)), **_gradients(prob - p.y, p)}

    def statement(self, p: BinaryCrossEntropyParams) -> dict[str, str]:
        given = f"$$\\mathbf{{w}} = {tex_column(p.w)}, \\quad b = {num(p.b)}, \\quad \\mathbf{{x}} = {tex_column(p.x)}, \\quad y = {p.y}$$"
        model = (
            "$$\\hat{y} = \\sigma(\\mathbf{w}^\\top \\mathbf{x} + b) = \\frac{1}{1 + \\exp(-(\\mathbf{w}^\\top \\mathbf{x} + b))}, "
            "\\quad \\mathcal{L} = -\\left(y \\log \\hat{y} + (1 - y)\\log(1 - \\hat{y})\\right)$$"
        )
        return bi(
            f"Logistic 回归模型对样本 $\\mathbf{{x}}$ 预测其为正类的概率，并用交叉熵作损失函数：\n\n{model}\n\n"
            f"已知参数、样本与标签：\n\n{given}\n\n"
            f"求：(1) 预测概率 $\\hat{{y}}$；(2) 损失 $\\mathcal{{L}}$；(3) 梯度 $\\partial \\mathcal{{L}} / \\partial \\mathbf{{w}}$；"
            f"(4) 梯度 $\\partial \\mathcal{{L}} / \\partial b$。（$\\log$ 为自然对数）",
            f"A logistic-regression model predicts the probability that the sample $\\mathbf{{x}}$ is positive and "
            f"is trained with the cross-entropy loss:\n\n{model}\n\n"
            f"The parameters, the sample and its label are:\n\n{given}\n\n"
            f"Find (1) the predicted probability $\\hat{{y}}$; (2) the loss $\\mathcal{{L}}$; (3) the gradient "
            f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{w}}$; (4) the gradient $\\partial \\mathcal{{L}} / \\partial b$. "
            f"($\\log$ is the natural log.)",
        )

    def solution(self, p: BinaryCrossEntropyParams) -> dict[str, list[str]]:
        z = _logit(p)
        prob = _sigmoid(z)
        products = " + ".join(f"({num(wi)})({num(xi)})" for wi, xi in zip(p.w, p.x, strict=True))
        term = "\\log \\hat{y}" if p.y == 1 else "\\log(1 - \\hat{y})"
        arg = num(prob, 4) if p.y == 1 else num(1 - prob, 4)
        r = prob - p.y
        grad_w = vec([r * xi for xi in p.x], 4)
        return {
            "zh": [
                f"$z = \\mathbf{{w}}^\\top \\mathbf{{x}} + b = {products} + ({num(p.b)}) = {num(z, 6)}$。",
                f"$\\hat{{y}} = \\sigma({num(z, 6)}) = \\frac{{1}}{{1 + e^{{{num(-z, 6)}}}}} = {num(prob, 4)}$。",
                f"$y = {p.y}$，只剩一项：$\\mathcal{{L}} = -{term} = -\\log {arg} = {num(_loss(p), 4)}$。",
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial z}} = \\hat{{y}} - y = {num(prob, 4)} - {p.y} = {num(r, 4)}$"
                f"（sigmoid 的导数 $\\hat{{y}}(1-\\hat{{y}})$ 与交叉熵的导数相消）。",
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{w}}}} = (\\hat{{y}} - y)\\mathbf{{x}} = {grad_w}$，"
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial b}} = \\hat{{y}} - y = {num(r, 4)}$。",
            ],
            "en": [
                f"$z = \\mathbf{{w}}^\\top \\mathbf{{x}} + b = {products} + ({num(p.b)}) = {num(z, 6)}$.",
                f"$\\hat{{y}} = \\sigma({num(z, 6)}) = \\frac{{1}}{{1 + e^{{{num(-z, 6)}}}}} = {num(prob, 4)}$.",
                f"With $y = {p.y}$ one term is left: $\\mathcal{{L}} = -{term} = -\\log {arg} = {num(_loss(p), 4)}$.",
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial z}} = \\hat{{y}} - y = {num(prob, 4)} - {p.y} = {num(r, 4)}$ "
                f"(the sigmoid's derivative $\\hat{{y}}(1-\\hat{{y}})$ cancels against the cross-entropy's).",
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{w}}}} = (\\hat{{y}} - y)\\mathbf{{x}} = {grad_w}$, "
                f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial b}} = \\hat{{y}} - y = {num(r, 4)}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[BinaryCrossEntropyParams]]:
        return [
            Misconception(
                "grad_sign",
                bi(
                    "梯度的符号反了：∂L/∂z = ŷ - y（预测减标签）。(y - ŷ)x 是梯度下降更新的方向，不是梯度本身。",
                    "The sign is reversed: dL/dz = ŷ - y (prediction minus label). (y - ŷ)x is the direction of the "
                    "gradient-descent update, not the gradient.",
                ),
                lambda p: _gradients(p.y - _sigmoid(_logit(p)), p),
            ),
            Misconception(
                "forgot_sigmoid",
                bi(
                    "你漏掉了 sigmoid：ŷ = σ(wᵀx + b)，线性输出 wᵀx + b 还不是概率。",
                    "You left out the sigmoid: ŷ = σ(wᵀx + b); the linear output wᵀx + b is not a probability.",
                ),
                lambda p: {"probability": num(_logit(p)), **_gradients(_logit(p) - p.y, p)},
            ),
            Misconception(
                "wrong_label_term",
                bi(
                    "交叉熵只保留真实标签对应的一项：y = 1 时是 -log ŷ，y = 0 时是 -log(1 - ŷ)；你用了另一项。",
                    "Cross-entropy keeps the term of the true label: -log ŷ when y = 1, -log(1 - ŷ) when y = 0; "
                    "you used the other one.",
                ),
                lambda p: {"loss": num(_softplus(_logit(p)) if p.y == 1 else _softplus(-_logit(p)))},
            ),
            Misconception(
                "log_base_10",
                bi(
                    "你用了以 10 为底的对数；本课程与 PyTorch 一致，log 指自然对数 ln。",
                    "You used log base 10; in this course, as in PyTorch, log is the natural log ln.",
                ),
                lambda p: {"loss": num(_loss(p) / math.log(10))},
            ),
        ]
