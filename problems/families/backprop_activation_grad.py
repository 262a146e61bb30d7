"""backprop.activation_grad: an activation function's value and derivative, as a number and as an expression.

ReLU, leaky ReLU and ELU are piecewise: their derivative is no single expression in the answer syntax.
For those the statement asks for the derivative's expression on the side of 0 where the given x lies
(x is never 0 for them): `1` for x > 0; `0`, the slope, or `alpha*exp(x)` for x < 0. A one-formula answer
valid on both sides, such as `(1 + x/abs(x))/2` for ReLU, is accepted too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec, Verdict, grade
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import num
from problems.registry import register

Activation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
PIECEWISE = ("relu", "leaky_relu", "elu")
DEFAULT_NEGATIVE_SLOPE = 0.01  # torch.nn.LeakyReLU
DEFAULT_ALPHA = 1.0  # torch.nn.ELU
# |x| <= 10 keeps softplus below PyTorch's threshold (20), where it switches to the identity.
X_LIMIT = 10.0
EXPR_SPEC = AnswerSpec("expression", symbols=("x",), symbols_real=True)
# Where x lies in (0, 10], the branch's expression only has to hold for positive x.
EXPR_SPEC_POSITIVE = AnswerSpec("expression", symbols=("x",), symbols_real=False)


class ActivationGradParams(Params):
    activation: Activation = Field(description="the activation function")
    x: float = Field(ge=-X_LIMIT, le=X_LIMIT, allow_inf_nan=False, description="where to evaluate it")
    negative_slope: float | None = Field(
        default=None, gt=0, lt=1, description="leaky_relu only: slope for x < 0 (PyTorch default 0.01)"
    )
    alpha: float | None = Field(
        default=None, gt=0, le=10, description="elu only: alpha (PyTorch default 1.0)"
    )

    @model_validator(mode="after")
    def _check(self) -> ActivationGradParams:
        if self.negative_slope is not None and self.activation != "leaky_relu":
            raise ValueError("negative_slope: only leaky_relu has a negative slope")
        if self.alpha is not None and self.activation != "elu":
            raise ValueError("alpha: only elu has alpha")
        if self.activation in PIECEWISE and self.x == 0:
            raise ValueError(f"x: {self.activation} has no derivative at 0; choose x ≠ 0")
        return self

    @property
    def slope(self) -> float:
        return DEFAULT_NEGATIVE_SLOPE if self.negative_slope is None else self.negative_slope

    @property
    def elu_alpha(self) -> float:
        return DEFAULT_ALPHA if self.alpha is None else self.alpha


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _value(p: ActivationGradParams) -> float:
    x = p.x
    return {
        "sigmoid": lambda: _sigmoid(x),
        "tanh": lambda: math.tanh(x),
        "relu": lambda: max(x, 0.0),
        "leaky_relu": lambda: x if x > 0 else p.slope * x,
        "elu": lambda: x if x > 0 else p.elu_alpha * math.expm1(x),
        "softplus": lambda: _softplus(x),
    }[p.activation]()


def _derivative(p: ActivationGradParams) -> float:
    x = p.x
    return {
        "sigmoid": lambda: _sigmoid(x) * (1 - _sigmoid(x)),
        "tanh": lambda: 1 - math.tanh(x) ** 2,
        "relu": lambda: 1.0 if x > 0 else 0.0,
        "leaky_relu": lambda: 1.0 if x > 0 else p.slope,
        "elu": lambda: 1.0 if x > 0 else p.elu_alpha * math.exp(x),
        "softplus": lambda: _sigmoid(x),
    }[p.activation]()


def _times_exp(alpha: float) -> str:
    return "exp(x)" if alpha == 1 else f"{num(alpha)}*exp(x)"


def _derivative_expr(p: ActivationGradParams) -> str:
    """The derivative as an expression in x (for piecewise functions: on x's side of 0)."""
    if p.activation in PIECEWISE and p.x > 0:
        return "1"
    return {
        "sigmoid": "sigmoid(x)*(1 - sigmoid(x))",
        "tanh": "1 - tanh(x)^2",
        "softplus": "sigmoid(x)",
        "relu": "0",
        "leaky_relu": num(p.slope),
        "elu": _times_exp(p.elu_alpha),
    }[p.activation]


def _both_sides_expr(p: ActivationGradParams) -> str:
    """A piecewise derivative as one formula valid on both sides of 0, with x/abs(x) as the sign of x."""
    negative = {"relu": "0", "leaky_relu": num(p.slope), "elu": _times_exp(p.elu_alpha)}[p.activation]
    return f"(1 + x/abs(x))/2 + (1 - x/abs(x))/2*({negative})"


FORMULAS: dict[str, tuple[str, str]] = {
    # activation -> (definition, derivative) in LaTeX
    "sigmoid": ("\\sigma(x) = \\frac{1}{1 + e^{-x}}", "\\sigma'(x) = \\sigma(x)(1 - \\sigma(x))"),
    "tanh": ("\\tanh(x) = \\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}", "\\tanh'(x) = 1 - \\tanh^2(x)"),
    "softplus": (
        "\\mathrm{softplus}(x) = \\log(1 + e^{x})",
        "\\mathrm{softplus}'(x) = \\frac{e^{x}}{1 + e^{x}} = \\sigma(x)",
    ),
}


def _definition(p: ActivationGradParams) -> str:
    if p.activation in FORMULAS:
        return FORMULAS[p.activation][0]
    if p.activation == "relu":
        return "\\mathrm{ReLU}(x) = \\max(0, x)"
    if p.activation == "leaky_relu":
        return f"\\mathrm{{LeakyReLU}}(x) = \\max(0, x) + {num(p.slope)} \\min(0, x)"
    alpha = "" if p.elu_alpha == 1 else num(p.elu_alpha)  # PyTorch's default alpha = 1 is not written
    return f"\\mathrm{{ELU}}(x) = x \\ (x > 0), \\quad {alpha}(e^{{x}} - 1) \\ (x \\le 0)"


@register
class ActivationGrad(Family[ActivationGradParams]):
    id = "backprop.activation_grad"
    version = 1
    title = bi("激活函数的导数", "The derivative of an activation function")
    difficulty = 1
    tags = ("ffn", "backprop", "activation", "gradient")
    Params = ActivationGradParams

    def generate(self, rng: np.random.Generator) -> ActivationGradParams:
        activation = str(rng.choice(["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]))
        while True:
            x = float(decimals(rng, -3, 3, 1, places=int(rng.choice([1, 1, 2])))[0])
            # Not 0: the piecewise functions have no derivative there, and at 0 a sigmoid or tanh
            # hides the mistake of using x instead of sigma(x).
            if abs(x) >= 0.1:
                break
        slope = float(rng.choice([0.01, 0.01, 0.1, 0.2])) if activation == "leaky_relu" else None
        alpha = float(rng.choice([1.0, 1.0, 0.5, 2.0])) if activation == "elu" else None
        return ActivationGradParams(activation=activation, x=x, negative_slope=slope, alpha=alpha)  # type: ignore[arg-type]

    def parts(self, p: ActivationGradParams) -> list[Part]:
        if p.activation in PIECEWISE:
            side_zh, side_en = ("$x > 0$", "$x > 0$") if p.x > 0 else ("$x < 0$", "$x < 0$")
            expr_label = bi(
                f"导数在 {side_zh} 一侧的表达式（关于 $x$）",
                f"the derivative's expression for {side_en} (in $x$)",
            )
        else:
            expr_label = bi("导函数的表达式（关于 $x$）", "the derivative as an expression in $x$")
        spec = EXPR_SPEC_POSITIVE if p.activation in PIECEWISE and p.x > 0 else EXPR_SPEC
        return [
            Part("value", AnswerSpec("real"), bi("函数值", "the value"), bi("一个数", "a number")),
            Part(
                "derivative",
                AnswerSpec("real"),
                bi(f"在 $x = {num(p.x)}$ 处的导数", f"the derivative at $x = {num(p.x)}$"),
                bi("一个数", "a number"),
            ),
            Part(
                "derivative_expr",
                spec,
                expr_label,
                bi(
                    "关于 x 的表达式，如 2*x*exp(x)；可用 sigmoid、tanh、exp、log",
                    "an expression in x, e.g. 2*x*exp(x); sigmoid, tanh, exp and log may be used",
                ),
            ),
        ]

    def solve(self, p: ActivationGradParams) -> dict[str, str]:
        return {
            "value": num(_value(p)),
            "derivative": num(_derivative(p)),
            "derivative_expr": _derivative_expr(p),
        }

    def grade_part(
        self, p: ActivationGradParams, part: Part, answer: str, reference: str, lang: str
    ) -> Verdict:
        verdict = grade(answer, reference, part.spec, lang=lang)
        # On the negative side a branch's expression is compared over all reals; a one-formula answer
        # that is right on both sides is right here too.
        if part.name == "derivative_expr" and p.activation in PIECEWISE and p.x < 0 and not verdict.correct:
            both = grade(answer, _both_sides_expr(p), part.spec, lang=lang)
            if both.correct:
                return both
        return verdict

    def statement(self, p: ActivationGradParams) -> dict[str, str]:
        x = num(p.x)
        fn = f"$${_definition(p)}$$"
        if p.activation in PIECEWISE:
            side = "x > 0" if p.x > 0 else "x < 0"
            ask_zh = (
                f"(3) 它的导数是分段函数，写出 ${side}$ 一侧（$x = {x}$ 所在的一侧）导数关于 $x$ 的表达式"
                f"（如该侧导数为常数，写出常数即可）。"
            )
            ask_en = (
                f"(3) its derivative is piecewise: give the derivative's expression in $x$ for ${side}$, the side "
                f"where $x = {x}$ lies (a constant if it is constant there)."
            )
        else:
            ask_zh = "(3) 导函数关于 $x$ 的表达式（可以用 $\\sigma$、$\\tanh$、$\\exp$ 表示）。"
            ask_en = "(3) the derivative as an expression in $x$ (you may use $\\sigma$, $\\tanh$, $\\exp$)."
        return bi(
            f"激活函数：\n\n{fn}\n\n求：(1) 它在 $x = {x}$ 处的函数值；(2) 它在 $x = {x}$ 处的导数；{ask_zh}"
            f"（$\\log$ 为自然对数，sigmoid 写作 sigmoid(x)）",
            f"The activation function is\n\n{fn}\n\nFind (1) its value at $x = {x}$; (2) its derivative at $x = {x}$; {ask_en} "
            f"($\\log$ is the natural log; write the sigmoid as sigmoid(x).)",
        )

    def solution(self, p: ActivationGradParams) -> dict[str, list[str]]:
        x, v, d, expr = num(p.x), num(_value(p), 6), num(_derivative(p), 6), _derivative_expr(p)
        if p.activation in FORMULAS:
            rule = FORMULAS[p.activation][1]
            zh = [
                f"函数值：${_definition(p).split(' = ')[0].replace('(x)', f'({x})')} = {v}$。",
                f"求导：${rule}$，即 `{expr}`。",
                f"代入 $x = {x}$：导数 $= {d}$。",
            ]
            en = [
                f"Value: ${_definition(p).split(' = ')[0].replace('(x)', f'({x})')} = {v}$.",
                f"Differentiate: ${rule}$, i.e. `{expr}`.",
                f"At $x = {x}$ the derivative is ${d}$.",
            ]
            return {"zh": zh, "en": en}
        side_zh = "正" if p.x > 0 else "负"
        side_en = "positive" if p.x > 0 else "negative"
        return {
            "zh": [
                f"$x = {x}$ 为{side_zh}数，函数值为 ${v}$。",
                f"在 $x$ 的这一侧，导数为 `{expr}`（分段函数在 0 处不可导，所以只看 $x$ 所在的一侧）。",
                f"代入 $x = {x}$：导数 $= {d}$。",
            ],
            "en": [
                f"$x = {x}$ is {side_en}; the value is ${v}$.",
                f"On that side the derivative is `{expr}` (the function has a kink at 0, so only the side of $x$ matters).",
                f"At $x = {x}$ the derivative is ${d}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[ActivationGradParams]]:
        return [
            Misconception(
                "value_not_derivative",
                bi(
                    "这是函数值，不是导数。",
                    "That is the function's value, not its derivative.",
                ),
                _value_not_derivative,
            ),
            Misconception(
                "input_instead_of_output",
                bi(
                    "σ'(x) = σ(x)(1 - σ(x)) 与 tanh'(x) = 1 - tanh²(x) 中要代入函数值 σ(x) 或 tanh(x)，不是输入 x。",
                    "σ'(x) = σ(x)(1 - σ(x)) and tanh'(x) = 1 - tanh²(x) take the output σ(x) or tanh(x), not the input x.",
                ),
                _only(
                    {
                        "sigmoid": ("x*(1 - x)", lambda x: x * (1 - x)),
                        "tanh": ("1 - x^2", lambda x: 1 - x * x),
                    }
                ),
            ),
            Misconception(
                "tanh_forgot_square",
                bi(
                    "tanh 的导数是 1 - tanh²(x)，要平方。", "The derivative of tanh is 1 - tanh²(x), squared."
                ),
                _only({"tanh": ("1 - tanh(x)", lambda x: 1 - math.tanh(x))}),
            ),
            Misconception(
                "softplus_chain_rule",
                bi(
                    "log(1 + eˣ) 求导时还要乘内层的导数 eˣ：结果是 eˣ/(1 + eˣ) = σ(x)。",
                    "Differentiating log(1 + eˣ) multiplies by the inner derivative eˣ: eˣ/(1 + eˣ) = σ(x).",
                ),
                _only({"softplus": ("1/(1 + exp(x))", lambda x: 1 / (1 + math.exp(x)))}),
            ),
            Misconception(
                "wrong_side",
                bi(
                    "你用了另一侧的导数：x > 0 时导数为 1，x < 0 时才是负半轴上的那一段。",
                    "You used the other side's derivative: it is 1 for x > 0; the negative branch applies only for x < 0.",
                ),
                _wrong_side,
            ),
            Misconception(
                "leaky_as_relu",
                bi(
                    "Leaky ReLU 在 x < 0 时斜率不是 0，而是 negative_slope。",
                    "Leaky ReLU's slope for x < 0 is negative_slope, not 0.",
                ),
                lambda p: (
                    {"value": "0", "derivative": "0", "derivative_expr": "0"}
                    if p.activation == "leaky_relu" and p.x < 0
                    else {}
                ),
            ),
            Misconception(
                "elu_forgot_alpha",
                bi(
                    "ELU 在 x < 0 时是 α(eˣ - 1)，导数 αeˣ，别漏掉 α。",
                    "ELU is α(eˣ - 1) for x < 0, derivative αeˣ: keep α.",
                ),
                lambda p: (
                    {
                        "value": num(math.expm1(p.x)),
                        "derivative": num(math.exp(p.x)),
                        "derivative_expr": "exp(x)",
                    }
                    if p.activation == "elu" and p.x < 0 and p.elu_alpha != 1
                    else {}
                ),
            ),
        ]


def _only(
    wrong: dict[str, tuple[str, Callable[[float], float]]],
) -> Callable[[ActivationGradParams], dict[str, str]]:
    """A misconception of some activations: (expression, its value at x) for each of them."""

    def solve(p: ActivationGradParams) -> dict[str, str]:
        if p.activation not in wrong:
            return {}
        expr, at = wrong[p.activation]
        return {"derivative": num(at(p.x)), "derivative_expr": expr}

    return solve


VALUE_EXPR = {
    "sigmoid": "sigmoid(x)",
    "tanh": "tanh(x)",
    "softplus": "log(1 + exp(x))",
}


def _value_not_derivative(p: ActivationGradParams) -> dict[str, str]:
    out = {"derivative": num(_value(p))}
    if p.activation in VALUE_EXPR:
        out["derivative_expr"] = VALUE_EXPR[p.activation]
    elif p.x > 0:
        out["derivative_expr"] = "x"
    elif p.activation == "leaky_relu":
        out["derivative_expr"] = f"{num(p.slope)}*x"
    elif p.activation == "elu":
        out["derivative_expr"] = f"{num(p.elu_alpha)}*(exp(x) - 1)"
    return out


def _wrong_side(p: ActivationGradParams) -> dict[str, str]:
    if p.activation not in PIECEWISE:
        return {}
    if p.x < 0:
        return {"derivative": "1", "derivative_expr": "1"}
    other = {"relu": "0", "leaky_relu": num(p.slope), "elu": _times_exp(p.elu_alpha)}[p.activation]
    at = {"relu": 0.0, "leaky_relu": p.slope, "elu": p.elu_alpha * math.exp(p.x)}[p.activation]
    return {"derivative": num(at), "derivative_expr": other}
