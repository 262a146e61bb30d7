"""backprop.mlp_regression: backpropagation through a two-layer ReLU perceptron with squared loss (seeds/002 1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import mat, num, tex_column, tex_factor, tex_matrix, tex_row, vec
from problems.registry import register

MAX_INPUT = 5
MAX_HIDDEN = 5

Entry = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
InputVector = Annotated[list[Entry], Field(min_length=1, max_length=MAX_INPUT)]
HiddenVector = Annotated[list[Entry], Field(min_length=1, max_length=MAX_HIDDEN)]


class MlpRegressionParams(Params):
    x: InputVector = Field(description="the sample, n entries")
    W: Annotated[list[InputVector], Field(min_length=1, max_length=MAX_HIDDEN)] = Field(
        description="first-layer weights, m x n (rows)"
    )
    b: HiddenVector = Field(description="first-layer bias, m entries")
    U: Annotated[list[HiddenVector], Field(min_length=1, max_length=1)] = Field(
        description="second-layer weights, 1 x m (one row; a flat list is read as that row)"
    )
    d: Entry = Field(description="second-layer bias")
    y: Entry = Field(description="the target")

    @field_validator("U", mode="before")
    @classmethod
    def _row_of_flat_list(cls, v: Any) -> Any:
        # U is 1 x m; a TA typing [0.5, -1] means that single row.
        if (
            isinstance(v, list)
            and v
            and all(isinstance(e, int | float) and not isinstance(e, bool) for e in v)
        ):
            return [v]
        return v

    @model_validator(mode="after")
    def _check(self) -> MlpRegressionParams:
        n, m = len(self.x), len(self.W)
        if any(len(r) != n for r in self.W):
            raise ValueError(f"W: every row needs {n} {plural(n, 'entry', 'entries')}, one per entry of x")
        if len(self.b) != m:
            raise ValueError(f"b: needs {m} {plural(m, 'entry', 'entries')}, one per row of W")
        if len(self.U[0]) != m:
            raise ValueError(f"U: needs {m} {plural(m, 'entry', 'entries')} (1 x m), one per row of W")
        w, x = np.array(self.W, dtype=float), np.array(self.x, dtype=float)
        h = w @ x + np.array(self.b)
        # Relative to the size of the terms, so that 0.1*3 - 0.3 counts as the zero it means.
        scale = np.abs(w) @ np.abs(x) + np.abs(self.b)
        kinks = [i + 1 for i in range(m) if abs(h[i]) <= 1e-9 * max(scale[i], 1.0)]
        if kinks:
            raise ValueError(
                f"b: h = Wx + b is 0 at entry {kinks[0]}, where ReLU has no derivative; change W, x or b"
            )
        return self


@dataclass(frozen=True)
class Forward:
    h: np.ndarray
    a: np.ndarray
    y_hat: float
    dy: float  # dL/dy_hat = 2(y_hat - y)


def _forward(p: MlpRegressionParams, relu: bool = True) -> Forward:
    w, x, b, u = (np.array(v, dtype=float) for v in (p.W, p.x, p.b, p.U[0]))
    h = w @ x + b
    a = np.maximum(h, 0.0) if relu else h
    y_hat = float(u @ a + p.d)
    return Forward(h, a, y_hat, 2.0 * (y_hat - p.y))


def _grads(p: MlpRegressionParams, dy: float, mask: bool = True, transposed: bool = False) -> dict[str, str]:
    """The four gradients for an upstream dL/dy_hat = dy (a misconception passes its own)."""
    f = _forward(p)
    u, x = np.array(p.U[0], dtype=float), np.array(p.x, dtype=float)
    delta = dy * u * ((f.h > 0) if mask else 1.0)  # dL/dh
    grad_w = np.outer(delta, x)
    return {
        "grad_d": num(dy),
        "grad_U": vec((dy * f.a).tolist()),
        "grad_W": mat((grad_w.T if transposed else grad_w).tolist()),
        "grad_b": vec(delta.tolist()),
    }


@register
class MlpRegression(Family[MlpRegressionParams]):
    id = "backprop.mlp_regression"
    version = 1
    title = bi("多层感知机做回归时的反向传播", "Backpropagation in a regression MLP")
    difficulty = 3
    tags = ("ffn", "backprop", "mlp", "gradient", "relu")
    Params = MlpRegressionParams

    def generate(self, rng: np.random.Generator) -> MlpRegressionParams:
        while True:
            n = int(rng.choice([1, 2, 2, 3]))
            m = int(rng.choice([1, 2, 2, 3, 3]))
            x = rng.integers(-2, 3, size=n).astype(float) if rng.random() < 0.6 else decimals(rng, -2, 2, n)
            w = decimals(rng, -1, 1, (m, n))
            b = decimals(rng, -0.5, 0.5, m) if rng.random() < 0.7 else np.zeros(m)
            u = decimals(rng, -1.5, 1.5, m)
            d = float(decimals(rng, -0.5, 0.5, 1)[0])
            y = float(rng.integers(-2, 3)) if rng.random() < 0.5 else float(decimals(rng, -2, 2, 1)[0])
            h = w @ x + b
            # Every unit clearly on one side of the ReLU kink; at least one unit active (else only d
            # learns) and, with two or more units, one inactive so that the ReLU mask matters; a
            # prediction error that is not tiny; active units that reach the output.
            if (np.abs(h) < 0.1).any() or not (h > 0).any() or (m > 1 and not (h < 0).any()):
                continue
            if not u[h > 0].all():
                continue
            p = MlpRegressionParams(x=x.tolist(), W=w.tolist(), b=b.tolist(), U=[u.tolist()], d=d, y=y)
            if abs(_forward(p).y_hat - y) >= 0.1:
                return p

    def parts(self, p: MlpRegressionParams) -> list[Part]:
        n, m = len(p.x), len(p.W)
        number = bi("一个数", "a number")
        return [
            Part("y_hat", AnswerSpec("real"), bi("预测值 $\\hat{y}$", "the prediction $\\hat{y}$"), number),
            Part("loss", AnswerSpec("real"), bi("损失 $\\mathcal{L}$", "the loss $\\mathcal{L}$"), number),
            Part(
                "grad_d",
                AnswerSpec("real"),
                bi("$\\partial \\mathcal{L} / \\partial d$", "$\\partial \\mathcal{L} / \\partial d$"),
                number,
            ),
            Part(
                "grad_U",
                AnswerSpec("vector"),
                bi(
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{U}}$（{m} 个元素）",
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{U}}$ ({m} {plural(m, 'entry', 'entries')})",
                ),
                bi("向量，如 [1.2, 0]", "a vector, e.g. [1.2, 0]"),
            ),
            Part(
                "grad_W",
                AnswerSpec("matrix"),
                bi(
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{W}}$（{m}×{n}，与 $\\mathbf{{W}}$ 同形状）",
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{W}}$ ({m}×{n}, the shape of $\\mathbf{{W}}$)",
                ),
                bi("矩阵，按行写，如 [[0.6, -1.2], [0, 0]]", "a matrix by rows, e.g. [[0.6, -1.2], [0, 0]]"),
            ),
            Part(
                "grad_b",
                AnswerSpec("vector"),
                bi(
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{b}}$（{m} 个元素）",
                    f"$\\partial \\mathcal{{L}} / \\partial \\mathbf{{b}}$ ({m} {plural(m, 'entry', 'entries')})",
                ),
                bi("向量，如 [0.6, 0]", "a vector, e.g. [0.6, 0]"),
            ),
        ]

    def solve(self, p: MlpRegressionParams) -> dict[str, str]:
        f = _forward(p)
        return {"y_hat": num(f.y_hat), "loss": num((p.y - f.y_hat) ** 2), **_grads(p, f.dy)}

    def statement(self, p: MlpRegressionParams) -> dict[str, str]:
        n, m = len(p.x), len(p.W)
        model = (
            "$$\\mathbf{h} = \\mathbf{W}\\mathbf{x} + \\mathbf{b}, \\quad \\mathbf{a} = \\mathrm{ReLU}(\\mathbf{h}), "
            "\\quad \\hat{y} = \\mathbf{U}\\mathbf{a} + d, \\quad \\mathcal{L} = (y - \\hat{y})^2$$"
        )
        given = (
            f"$$\\mathbf{{x}} = {tex_column(p.x)}, \\quad \\mathbf{{W}} = {tex_matrix(p.W)}, \\quad \\mathbf{{b}} = {tex_column(p.b)}, "
            f"\\quad \\mathbf{{U}} = {tex_row(p.U[0])}, \\quad d = {num(p.d)}, \\quad y = {num(p.y)}$$"
        )
        return bi(
            f"用一个两层的多层感知机做 $n = {n}$ 维特征到一维输出的回归（隐藏层 $m = {m}$ 个神经元），前向计算为\n\n{model}\n\n"
            f"其中 ReLU 逐元素作用，损失为平方误差。对训练样本 $(\\mathbf{{x}}, y)$ 和参数\n\n{given}\n\n"
            f"求预测值 $\\hat{{y}}$、损失 $\\mathcal{{L}}$，以及梯度 $\\frac{{\\partial \\mathcal{{L}}}}{{\\partial d}}$、"
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{U}}}}$、$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{W}}}}$"
            f"（与 $\\mathbf{{W}}$ 同形状，{m}×{n}）、$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{b}}}}$。",
            f"A two-layer perceptron regresses $n = {n}$ input {plural(n, 'feature', 'features')} to one output ($m = {m}$ hidden {plural(m, 'unit', 'units')}). "
            f"The forward pass is\n\n{model}\n\n"
            f"with ReLU acting elementwise and the squared error as loss. For the training sample $(\\mathbf{{x}}, y)$ and "
            f"the parameters\n\n{given}\n\n"
            f"find the prediction $\\hat{{y}}$, the loss $\\mathcal{{L}}$ and the gradients "
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial d}}$, $\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{U}}}}$, "
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{W}}}}$ (the shape of $\\mathbf{{W}}$, {m}×{n}) and "
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{b}}}}$.",
        )

    def solution(self, p: MlpRegressionParams) -> dict[str, list[str]]:
        f = _forward(p)
        g = _grads(p, f.dy)
        mask = (f.h > 0).astype(float)
        u = np.array(p.U[0], dtype=float)
        delta = f.dy * u * mask
        grad_w = np.outer(delta, np.array(p.x, dtype=float))
        h, a = tex_column(f.h.tolist(), 6), tex_column(f.a.tolist(), 6)
        loss = (p.y - f.y_hat) ** 2
        common = [
            f"$\\mathbf{{h}} = \\mathbf{{W}}\\mathbf{{x}} + \\mathbf{{b}} = {h}$, $\\mathbf{{a}} = \\mathrm{{ReLU}}(\\mathbf{{h}}) = {a}$",
            f"$\\hat{{y}} = \\mathbf{{U}}\\mathbf{{a}} + d = {num(f.y_hat, 6)}$, "
            f"$\\mathcal{{L}} = ({num(p.y)} - {tex_factor(f.y_hat, 6)})^2 = {num(loss, 6)}$",
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\hat{{y}}}} = -2(y - \\hat{{y}}) = 2(\\hat{{y}} - y) = {num(f.dy, 6)}$, "
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial d}} = {g['grad_d']}$",
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{U}}}} = 2(\\hat{{y}} - y)\\mathbf{{a}}^\\top = {tex_row((f.dy * f.a).tolist(), 6)}$",
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{b}}}} = 2(\\hat{{y}} - y)\\,\\mathbf{{U}}^\\top \\odot \\mathbb{{I}}(\\mathbf{{h}} > 0) "
            f"= {num(f.dy, 6)} \\cdot {tex_column(u.tolist())} \\odot {tex_column(mask.tolist())} = {tex_column(delta.tolist(), 6)}$",
            f"$\\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{W}}}} = \\frac{{\\partial \\mathcal{{L}}}}{{\\partial \\mathbf{{b}}}}\\,\\mathbf{{x}}^\\top "
            f"= {tex_matrix(grad_w.tolist(), 6)}$",
        ]
        # The same formulas in Chinese text: a full-width comma between them.
        zh_common = [c.replace("$, $", "$，$") for c in common]
        zh = [
            f"前向：{zh_common[0]}。",
            f"{zh_common[1]}。",
            f"反向从输出开始：{zh_common[2]}。",
            f"{zh_common[3]}。",
            f"ReLU 只让 $h_i > 0$ 的单元传回梯度：{zh_common[4]}。",
            f"{zh_common[5]}（外积，{len(p.W)}×{len(p.x)}，与 $\\mathbf{{W}}$ 同形状）。",
        ]
        en = [
            f"Forward: {common[0]}.",
            f"{common[1]}.",
            f"Backward from the output: {common[2]}.",
            f"{common[3]}.",
            f"ReLU passes the gradient back only through units with $h_i > 0$: {common[4]}.",
            f"{common[5]} (an outer product, {len(p.W)}×{len(p.x)}, the shape of $\\mathbf{{W}}$).",
        ]
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[MlpRegressionParams]]:
        return [
            Misconception(
                "grad_sign",
                bi(
                    "符号反了：∂L/∂ŷ = -2(y - ŷ) = 2(ŷ - y)，求导时别漏掉内层 -ŷ 的负号。",
                    "The sign is reversed: dL/dŷ = -2(y - ŷ) = 2(ŷ - y); the inner -ŷ brings a minus sign.",
                ),
                lambda p: _grads(p, -_forward(p).dy),
            ),
            Misconception(
                "forgot_factor_2",
                bi(
                    "漏掉了因子 2：L = (y - ŷ)² 的导数是 2(ŷ - y)（不是带 1/2 的平方误差）。",
                    "The factor 2 is missing: L = (y - ŷ)² differentiates to 2(ŷ - y) (this loss has no 1/2).",
                ),
                lambda p: {"loss": num((p.y - _forward(p).y_hat) ** 2 / 2), **_grads(p, _forward(p).dy / 2)},
            ),
            Misconception(
                "forgot_relu_mask",
                bi(
                    "漏掉了 ReLU 的导数：h_i ≤ 0 的单元梯度为 0，∂L/∂b = 2(ŷ - y) Uᵀ ⊙ 𝕀(h > 0)。",
                    "The ReLU's derivative is missing: units with h_i ≤ 0 pass no gradient, "
                    "dL/db = 2(ŷ - y) Uᵀ ⊙ 𝕀(h > 0).",
                ),
                lambda p: {
                    k: v
                    for k, v in _grads(p, _forward(p).dy, mask=False).items()
                    if k in ("grad_W", "grad_b")
                },
            ),
            Misconception(
                "grad_U_used_h",
                bi(
                    "∂L/∂U 要乘 ReLU 之后的 a，而不是 ReLU 之前的 h。",
                    "dL/dU multiplies a, the output of the ReLU, not h before it.",
                ),
                lambda p: {"grad_U": vec((_forward(p).dy * _forward(p).h).tolist())},
            ),
            Misconception(
                "grad_W_transposed",
                bi(
                    "∂L/∂W 与 W 同形状（m×n）：第 i 行第 j 列是 δ_i x_j，即 δ xᵀ，不是 x δᵀ。",
                    "dL/dW has the shape of W (m×n): row i, column j is δ_i x_j, i.e. δ xᵀ, not x δᵀ.",
                ),
                lambda p: {"grad_W": _grads(p, _forward(p).dy, transposed=True)["grad_W"]},
            ),
            Misconception(
                "forgot_relu_forward",
                bi(
                    "前向计算漏掉了 ReLU：a = ReLU(h)，负的 h_i 变成 0。",
                    "The forward pass skipped the ReLU: a = ReLU(h) sets negative h_i to 0.",
                ),
                lambda p: {
                    "y_hat": num(_forward(p, relu=False).y_hat),
                    "loss": num((p.y - _forward(p, relu=False).y_hat) ** 2),
                },
            ),
        ]
