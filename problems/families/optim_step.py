"""optim.step: a few steps of SGD, momentum, Nesterov, AdaGrad, RMSprop, AdaDelta or Adam on a quadratic.

seeds/003 第七章 网络优化: 动量法, Nesterov 加速梯度, 自适应学习率 (Adagrad, Adadelta, RMSProp), Adam.
The rules are PyTorch's (torch.optim, eps placement included); momentum is written in the textbook
form Delta theta_t = rho Delta theta_{t-1} - alpha g_t, which equals SGD(momentum=rho) for a constant lr.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, Text, bi, first_drawn
from problems.fmt import num, vec
from problems.registry import register

MAX_DIM = 6
MAX_STEPS = 5

Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"]
HYPER = ("lr", "momentum", "alpha", "rho", "betas", "eps")
# Each optimizer takes only its own hyper-parameters (PyTorch names), so a stray one is a mistake
# of the caller, not something silently ignored.
OWN: dict[str, tuple[str, ...]] = {
    "sgd": ("lr",),
    "momentum": ("lr", "momentum"),
    "nesterov": ("lr", "momentum"),
    "adagrad": ("lr", "eps"),
    "rmsprop": ("lr", "alpha", "eps"),
    "adadelta": ("lr", "rho", "eps"),
    "adam": ("lr", "betas", "eps"),
}
# PyTorch's defaults; SGD has no default lr, and momentum 0.9 is the textbook's usual factor.
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "adagrad": {"lr": 0.01, "eps": 1e-10},
    "rmsprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8},
}

Coef = Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
Coord = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
Decay = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class StepParams(Params):
    optimizer: Optimizer = Field(description="the update rule")
    a: Annotated[list[Coef], Field(min_length=1, max_length=MAX_DIM)] = Field(
        description="curvatures a_i of f(theta) = 1/2 sum a_i theta_i^2 - sum c_i theta_i"
    )
    c: Annotated[list[Coord], Field(min_length=1, max_length=MAX_DIM)] = Field(description="linear terms c_i")
    theta0: Annotated[list[Coord], Field(min_length=1, max_length=MAX_DIM)] = Field(
        description="starting point theta_0"
    )
    steps: int = Field(ge=1, le=MAX_STEPS, description="number of updates; parts theta_1 .. theta_steps")
    lr: float | None = Field(default=None, gt=0, le=10, allow_inf_nan=False, description="learning rate")
    momentum: Decay | None = Field(default=None, description="momentum factor rho (momentum, nesterov)")
    alpha: Decay | None = Field(default=None, description="RMSprop decay of the squared-gradient average")
    rho: Decay | None = Field(default=None, description="AdaDelta decay")
    betas: tuple[Decay, Decay] | None = Field(default=None, description="Adam (beta1, beta2)")
    # A floor on eps keeps 1/eps finite in every wrong way too (eps = 5e-324 overflows Adam to NaN).
    eps: float | None = Field(default=None, ge=1e-12, le=1, allow_inf_nan=False, description="epsilon")

    @model_validator(mode="before")
    @classmethod
    def _own_hyper_parameters(cls, data: Any) -> Any:
        # isinstance first: an unhashable value (a list) would make `in OWN` raise TypeError, a 500.
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("optimizer"), str)
            or data["optimizer"] not in OWN
        ):
            return data  # field validation names what is wrong
        opt = data["optimizer"]
        for name in HYPER:
            if data.get(name) is not None and name not in OWN[opt]:
                raise ValueError(f"{name}: {opt} has no {name} (its hyper-parameters: {', '.join(OWN[opt])})")
        if "lr" not in DEFAULTS[opt] and data.get("lr") is None:
            raise ValueError(f"lr: required for {opt}")
        # Fill PyTorch's defaults in, so a stored instance says every number it used.
        return {**DEFAULTS[opt], **{k: v for k, v in data.items() if v is not None}}

    @model_validator(mode="after")
    def _same_lengths(self) -> StepParams:
        n = len(self.a)
        for name in ("c", "theta0"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name}: needs as many entries as a ({n})")
        return self


@dataclass(frozen=True)
class Slip:
    """A wrong way to run the optimizer; every flag off is the right way."""

    optimizer: str | None = None  # ran another optimizer's rule (momentum <-> Nesterov)
    ascent: bool = False  # theta += update: climbs f
    ema_momentum: bool = False  # v = rho v + (1 - rho) g, the exponential-average form of momentum
    no_bias_correction: bool = False  # Adam without m_hat, v_hat
    no_one_minus_alpha: bool = False  # RMSprop G = beta G + g^2
    no_accumulation: bool = False  # AdaGrad G = g_t^2, this step only
    no_sqrt: bool = False  # divide by G instead of sqrt(G)
    eps_swapped: bool = False  # eps on the other side of the square root (inside for AdaGrad/RMSprop/Adam)
    lr_twice: bool = False  # momentum: theta_t = theta_{t-1} + lr * Delta theta_t, lr already in Delta theta
    lookahead_variable: bool = False  # Nesterov: reported theta_t + rho Delta theta_t, PyTorch's variable


RIGHT = Slip()

Line = tuple[str, str, np.ndarray]  # (symbol, formula with the numbers, value), one line of the working


def _tex(x: float) -> str:
    """A number for LaTeX: small powers of ten as 10^{-k}."""
    if 0 < x < 1e-3:
        k = round(math.log10(x))
        if math.isclose(x, 10.0**k, rel_tol=1e-12):
            return f"10^{{{k}}}"
    return num(x, 6)


# A coordinate left at a residue of eps (|x| ~ 1e-11 when the step lands on the optimum) is 0 to a
# student with a calculator; showing 1.7e-11 in the working would only confuse. The grader's absolute
# floor accepts 0 for it either way.
_RESIDUE = 1e-8


def _vtex(v: np.ndarray) -> str:
    return "[" + ", ".join("0" if abs(float(x)) < _RESIDUE else num(float(x), 6) for x in v) + "]"


def run(p: StepParams, slip: Slip = RIGHT) -> tuple[list[np.ndarray], list[list[Line]]]:
    """Return theta_1 .. theta_steps and, for each step, the lines of its working."""
    opt = slip.optimizer or p.optimizer
    a, c = np.array(p.a, dtype=float), np.array(p.c, dtype=float)
    sign = -1.0 if slip.ascent else 1.0

    def grad(th: np.ndarray) -> np.ndarray:
        return sign * (a * th - c)

    lr = float(p.lr or 0.0)
    mu = float(p.momentum or 0.0)
    eps = float(p.eps or 0.0)
    theta = np.array(p.theta0, dtype=float)
    zero = np.zeros_like(theta)
    d, big_g, acc, m, v = zero, zero, zero, zero, zero  # Delta theta, G, AdaDelta's Delta X^2, Adam's m, v
    sq = "" if slip.no_sqrt else "\\sqrt"

    def divisor(x: np.ndarray) -> np.ndarray:
        """What AdaGrad, RMSprop and Adam divide by: sqrt(x) + eps, as PyTorch."""
        if slip.no_sqrt:
            return x + eps
        return np.sqrt(x + eps) if slip.eps_swapped else np.sqrt(x) + eps

    def rms(x: np.ndarray) -> np.ndarray:
        """AdaDelta's root mean square: sqrt(x + eps), eps inside as PyTorch and the textbook."""
        return np.sqrt(x) + eps if slip.eps_swapped else np.sqrt(x + eps)

    g_rule = "-(\\mathbf a \\odot \\boldsymbol\\theta - \\mathbf c)" if slip.ascent else ""
    thetas: list[np.ndarray] = []
    work: list[list[Line]] = []
    for t in range(1, p.steps + 1):
        prev = f"\\boldsymbol\\theta_{{{t - 1}}}"
        gt = f"\\mathbf g_{{{t}}}"
        lines: list[Line] = []
        if opt == "nesterov":
            look = theta + mu * d
            g = grad(look)
            lines.append(("\\hat{\\boldsymbol\\theta}", f"{prev} + {num(mu)}\\,\\Delta{prev}", look))
            lines.append((gt, g_rule or "\\mathbf a \\odot \\hat{\\boldsymbol\\theta} - \\mathbf c", g))
        else:
            g = grad(theta)
            lines.append((gt, g_rule or f"\\mathbf a \\odot {prev} - \\mathbf c", g))
        if opt == "sgd":
            theta = theta - lr * g
            lines.append((f"\\boldsymbol\\theta_{{{t}}}", f"{prev} - {num(lr)}\\,{gt}", theta))
        elif opt in ("momentum", "nesterov"):
            scale = (1 - mu) if slip.ema_momentum else 1.0
            d = mu * d - lr * scale * g
            g_term = f"{num(lr)} \\times {num(1 - mu)}\\,{gt}" if slip.ema_momentum else f"{num(lr)}\\,{gt}"
            lines.append((f"\\Delta\\boldsymbol\\theta_{{{t}}}", f"{num(mu)}\\,\\Delta{prev} - {g_term}", d))
            theta = theta + (lr * d if slip.lr_twice else d)
            lines.append(
                (f"\\boldsymbol\\theta_{{{t}}}", f"{prev} + \\Delta\\boldsymbol\\theta_{{{t}}}", theta)
            )
        elif opt in ("adagrad", "rmsprop"):
            if opt == "adagrad":
                big_g = g * g if slip.no_accumulation else big_g + g * g
                rule = f"{gt} \\odot {gt}" if slip.no_accumulation else f"G_{{{t - 1}}} + {gt} \\odot {gt}"
            else:
                beta = float(p.alpha or 0.0)
                keep = 1.0 if slip.no_one_minus_alpha else 1 - beta
                big_g = beta * big_g + keep * g * g
                rule = f"{num(beta)}\\,G_{{{t - 1}}} + {num(keep)}\\,{gt} \\odot {gt}"
            lines.append((f"G_{{{t}}}", rule, big_g))
            theta = theta - lr * g / divisor(big_g)
            lines.append(
                (
                    f"\\boldsymbol\\theta_{{{t}}}",
                    f"{prev} - \\frac{{{num(lr)}}}{{{sq}{{G_{{{t}}}}} + {_tex(eps)}}} \\odot {gt}",
                    theta,
                )
            )
        elif opt == "adadelta":
            rho = float(p.rho or 0.0)
            big_g = rho * big_g + (1 - rho) * g * g
            lines.append(
                (f"G_{{{t}}}", f"{num(rho)}\\,G_{{{t - 1}}} + {num(1 - rho)}\\,{gt} \\odot {gt}", big_g)
            )
            step = -rms(acc) / rms(big_g) * g
            lines.append(
                (
                    f"\\Delta\\boldsymbol\\theta_{{{t}}}",
                    f"-\\frac{{\\sqrt{{\\Delta X^2_{{{t - 1}}} + {_tex(eps)}}}}}{{\\sqrt{{G_{{{t}}} + {_tex(eps)}}}}}"
                    f" \\odot {gt}",
                    step,
                )
            )
            acc = rho * acc + (1 - rho) * step * step
            lines.append(
                (
                    f"\\Delta X^2_{{{t}}}",
                    f"{num(rho)}\\,\\Delta X^2_{{{t - 1}}} + {num(1 - rho)}\\,\\Delta\\boldsymbol\\theta_{{{t}}}^2",
                    acc,
                )
            )
            theta = theta + lr * step
            lr_text = "" if lr == 1 else f"{num(lr)}\\,"
            lines.append(
                (
                    f"\\boldsymbol\\theta_{{{t}}}",
                    f"{prev} + {lr_text}\\Delta\\boldsymbol\\theta_{{{t}}}",
                    theta,
                )
            )
        else:  # adam
            b1, b2 = p.betas or (0.0, 0.0)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            lines.append(
                (f"\\mathbf m_{{{t}}}", f"{num(b1)}\\,\\mathbf m_{{{t - 1}}} + {num(1 - b1)}\\,{gt}", m)
            )
            lines.append(
                (
                    f"\\mathbf v_{{{t}}}",
                    f"{num(b2)}\\,\\mathbf v_{{{t - 1}}} + {num(1 - b2)}\\,{gt} \\odot {gt}",
                    v,
                )
            )
            if slip.no_bias_correction:
                m_hat, v_hat, mh, vh = m, v, f"\\mathbf m_{{{t}}}", f"\\mathbf v_{{{t}}}"
            else:
                m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
                mh, vh = f"\\hat{{\\mathbf m}}_{{{t}}}", f"\\hat{{\\mathbf v}}_{{{t}}}"
                lines.append((mh, f"\\mathbf m_{{{t}}} / (1 - {num(b1)}^{{{t}}})", m_hat))
                lines.append((vh, f"\\mathbf v_{{{t}}} / (1 - {num(b2)}^{{{t}}})", v_hat))
            theta = theta - lr * m_hat / divisor(v_hat)
            lines.append(
                (
                    f"\\boldsymbol\\theta_{{{t}}}",
                    f"{prev} - {num(lr)}\\,\\frac{{{mh}}}{{{sq}{{{vh}}} + {_tex(eps)}}}",
                    theta,
                )
            )
        thetas.append(theta + mu * d if slip.lookahead_variable else theta)
        work.append(lines)
    return thetas, work


def answers(p: StepParams, slip: Slip = RIGHT) -> dict[str, str]:
    thetas, _ = run(p, slip)
    return {f"theta_{t}": vec([float(x) for x in th]) for t, th in enumerate(thetas, start=1)}


# Tolerance of every theta part: 0.1% or 0.001, whichever is larger. Tighter than the default 3 figures
# because a step can be small next to theta itself; the generator keeps every move >= 0.02.
SPEC = AnswerSpec("vector", rtol=1e-3, atol=1e-3)


def _tolerance(x: np.ndarray) -> np.ndarray:
    return np.maximum(1e-3 * np.abs(x), 1e-3)


NAMES: dict[str, Text] = {
    "sgd": bi("梯度下降（SGD）", "gradient descent (SGD)"),
    "momentum": bi("动量法（Momentum）", "momentum"),
    "nesterov": bi("Nesterov 加速梯度（NAG）", "Nesterov accelerated gradient (NAG)"),
    "adagrad": bi("AdaGrad", "AdaGrad"),
    "rmsprop": bi("RMSprop", "RMSprop"),
    "adadelta": bi("AdaDelta", "AdaDelta"),
    "adam": bi("Adam", "Adam"),
}

TH = "\\boldsymbol\\theta"
G = "\\mathbf g_t"


def _rule(p: StepParams) -> Text:
    """The update rule with its symbols, where the hyper-parameters sit and how they map to PyTorch."""
    opt = p.optimizer
    lr, eps = num(p.lr or 0.0), _tex(p.eps or 0.0)
    if opt == "sgd":
        f = f"$${TH}_t = {TH}_{{t-1}} - \\alpha\\,{G},\\qquad {G} = \\nabla f({TH}_{{t-1}})$$"
        return bi(
            f"{f}\n\n学习率 $\\alpha = {lr}$（PyTorch 的 `lr`）。",
            f"{f}\n\nlearning rate $\\alpha = {lr}$ (PyTorch `lr`).",
        )
    if opt == "momentum":
        mu = num(p.momentum or 0.0)
        f = (
            f"$$\\Delta{TH}_t = \\rho\\,\\Delta{TH}_{{t-1}} - \\alpha\\,{G},\\qquad "
            f"{TH}_t = {TH}_{{t-1}} + \\Delta{TH}_t,\\qquad {G} = \\nabla f({TH}_{{t-1}}),\\qquad \\Delta{TH}_0 = \\mathbf 0$$"
        )
        return bi(
            f"{f}\n\n学习率 $\\alpha = {lr}$（`lr`），动量因子 $\\rho = {mu}$（`momentum`）。"
            f"这是教材的写法；PyTorch 的 `SGD(momentum=ρ)` 写作 $\\mathbf v_t = \\rho\\,\\mathbf v_{{t-1}} + {G}$，"
            f"${TH}_t = {TH}_{{t-1}} - \\alpha\\,\\mathbf v_t$。学习率不变时 $\\Delta{TH}_t = -\\alpha\\,\\mathbf v_t$，两者结果相同。",
            f"{f}\n\nlearning rate $\\alpha = {lr}$ (`lr`), momentum factor $\\rho = {mu}$ (`momentum`). "
            f"This is the textbook form; PyTorch's `SGD(momentum=ρ)` writes $\\mathbf v_t = \\rho\\,\\mathbf v_{{t-1}} + {G}$, "
            f"${TH}_t = {TH}_{{t-1}} - \\alpha\\,\\mathbf v_t$. With a constant learning rate "
            f"$\\Delta{TH}_t = -\\alpha\\,\\mathbf v_t$, so both give the same $\\boldsymbol\\theta_t$.",
        )
    if opt == "nesterov":
        mu = num(p.momentum or 0.0)
        f = (
            f"$$\\hat{{{TH}}} = {TH}_{{t-1}} + \\rho\\,\\Delta{TH}_{{t-1}},\\qquad {G} = \\nabla f(\\hat{{{TH}}}),\\qquad "
            f"\\Delta{TH}_t = \\rho\\,\\Delta{TH}_{{t-1}} - \\alpha\\,{G},\\qquad {TH}_t = {TH}_{{t-1}} + \\Delta{TH}_t,"
            f"\\qquad \\Delta{TH}_0 = \\mathbf 0$$"
        )
        return bi(
            f"{f}\n\n学习率 $\\alpha = {lr}$（`lr`），动量因子 $\\rho = {mu}$（`momentum`）。梯度在“前瞻点” $\\hat{{{TH}}}$ 处计算"
            f"（教材的写法）。PyTorch 的 `SGD(nesterov=True)` 记录的是前瞻点 ${TH}_t + \\rho\\,\\Delta{TH}_t$，"
            "数值与这里的 $\\boldsymbol\\theta_t$ 不同。",
            f"{f}\n\nlearning rate $\\alpha = {lr}$ (`lr`), momentum factor $\\rho = {mu}$ (`momentum`). The gradient is "
            f"taken at the look-ahead point $\\hat{{{TH}}}$ (the textbook form). PyTorch's `SGD(nesterov=True)` tracks "
            f"the look-ahead point ${TH}_t + \\rho\\,\\Delta{TH}_t$ instead, whose numbers differ from $\\boldsymbol\\theta_t$ here.",
        )
    eps_zh = (
        "（与 PyTorch 相同，$\\varepsilon$ 在开方之后加、在根号外；教材写作 $\\sqrt{G_t + \\varepsilon}$，"
        "只有 $\\varepsilon$ 很小时两者才相同，本题按根号外计算）"
    )
    eps_en = (
        "(as PyTorch, $\\varepsilon$ is added after the square root, outside it; the textbook's "
        "$\\sqrt{G_t + \\varepsilon}$ agrees only for a tiny $\\varepsilon$, so use the form above)"
    )
    if opt == "adagrad":
        f = (
            f"$$G_t = G_{{t-1}} + {G} \\odot {G},\\qquad {TH}_t = {TH}_{{t-1}} - \\frac{{\\alpha}}{{\\sqrt{{G_t}} + \\varepsilon}} "
            f"\\odot {G},\\qquad G_0 = \\mathbf 0$$"
        )
        return bi(
            f"{f}\n\n学习率 $\\alpha = {lr}$（`lr`），$\\varepsilon = {eps}$（`eps`）{eps_zh}。",
            f"{f}\n\nlearning rate $\\alpha = {lr}$ (`lr`), $\\varepsilon = {eps}$ (`eps`) {eps_en}.",
        )
    if opt == "rmsprop":
        beta = num(p.alpha or 0.0)
        f = (
            f"$$G_t = \\beta\\,G_{{t-1}} + (1-\\beta)\\,{G} \\odot {G},\\qquad "
            f"{TH}_t = {TH}_{{t-1}} - \\frac{{\\alpha}}{{\\sqrt{{G_t}} + \\varepsilon}} \\odot {G},\\qquad G_0 = \\mathbf 0$$"
        )
        return bi(
            f"{f}\n\n学习率 $\\alpha = {lr}$（`lr`），衰减率 $\\beta = {beta}$（PyTorch 的 `alpha`），"
            f"$\\varepsilon = {eps}$（`eps`）{eps_zh}。",
            f"{f}\n\nlearning rate $\\alpha = {lr}$ (`lr`), decay rate $\\beta = {beta}$ (PyTorch `alpha`), "
            f"$\\varepsilon = {eps}$ (`eps`) {eps_en}.",
        )
    if opt == "adadelta":
        rho = num(p.rho or 0.0)
        f = (
            f"$$G_t = \\beta\\,G_{{t-1}} + (1-\\beta)\\,{G} \\odot {G},\\qquad "
            f"\\Delta{TH}_t = -\\frac{{\\sqrt{{\\Delta X^2_{{t-1}} + \\varepsilon}}}}{{\\sqrt{{G_t + \\varepsilon}}}} \\odot {G},$$\n\n"
            f"$$\\Delta X^2_t = \\beta\\,\\Delta X^2_{{t-1}} + (1-\\beta)\\,\\Delta{TH}_t \\odot \\Delta{TH}_t,\\qquad "
            f"{TH}_t = {TH}_{{t-1}} + \\alpha\\,\\Delta{TH}_t,\\qquad G_0 = \\Delta X^2_0 = \\mathbf 0$$"
        )
        return bi(
            f"{f}\n\n衰减率 $\\beta = {rho}$（PyTorch 的 `rho`），$\\varepsilon = {eps}$（`eps`，与教材和 PyTorch 一样在根号内），"
            f"学习率 $\\alpha = {lr}$（`lr`；教材的 AdaDelta 没有学习率，即 $\\alpha = 1$）。",
            f"{f}\n\ndecay rate $\\beta = {rho}$ (PyTorch `rho`), $\\varepsilon = {eps}$ (`eps`, inside the square roots "
            f"as in the textbook and PyTorch), learning rate $\\alpha = {lr}$ (`lr`; the textbook's AdaDelta has none, "
            f"i.e. $\\alpha = 1$).",
        )
    b1, b2 = (num(b) for b in p.betas or (0.0, 0.0))
    f = (
        f"$$\\mathbf m_t = \\beta_1 \\mathbf m_{{t-1}} + (1-\\beta_1)\\,{G},\\qquad "
        f"\\mathbf v_t = \\beta_2 \\mathbf v_{{t-1}} + (1-\\beta_2)\\,{G} \\odot {G},\\qquad \\mathbf m_0 = \\mathbf v_0 = \\mathbf 0,$$\n\n"
        f"$$\\hat{{\\mathbf m}}_t = \\frac{{\\mathbf m_t}}{{1-\\beta_1^t}},\\qquad \\hat{{\\mathbf v}}_t = \\frac{{\\mathbf v_t}}{{1-\\beta_2^t}},"
        f"\\qquad {TH}_t = {TH}_{{t-1}} - \\alpha\\,\\frac{{\\hat{{\\mathbf m}}_t}}{{\\sqrt{{\\hat{{\\mathbf v}}_t}} + \\varepsilon}}$$"
    )
    return bi(
        f"{f}\n\n学习率 $\\alpha = {lr}$（`lr`），$\\beta_1 = {b1}$，$\\beta_2 = {b2}$（`betas`），$\\varepsilon = {eps}$（`eps`）"
        + eps_zh.replace("G_t", "\\hat{\\mathbf v}_t")
        + "。",
        f"{f}\n\nlearning rate $\\alpha = {lr}$ (`lr`), $\\beta_1 = {b1}$, $\\beta_2 = {b2}$ (`betas`), "
        f"$\\varepsilon = {eps}$ (`eps`) " + eps_en.replace("G_t", "\\hat{\\mathbf v}_t") + ".",
    )


def _choose(rng: np.random.Generator, options: list[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def _hyper(rng: np.random.Generator, opt: str) -> dict[str, Any]:
    """Clean hyper-parameters under which every step moves theta visibly."""
    if opt == "sgd":
        return {"lr": _choose(rng, [0.05, 0.1, 0.1, 0.2])}
    if opt in ("momentum", "nesterov"):
        return {"lr": _choose(rng, [0.05, 0.1, 0.1, 0.2]), "momentum": _choose(rng, [0.5, 0.8, 0.9, 0.9])}
    # One instance in three has eps = 0.1, large enough that where eps sits (outside or inside the
    # square root) changes the answer; with PyTorch's tiny defaults it cannot be seen.
    if opt == "adagrad":
        return {"lr": _choose(rng, [0.1, 0.2, 0.5, 1.0]), "eps": _choose(rng, [1e-10, 1e-10, 0.1])}
    if opt == "rmsprop":
        return {
            "lr": _choose(rng, [0.01, 0.02, 0.05]),
            "alpha": _choose(rng, [0.9, 0.99]),
            "eps": _choose(rng, [1e-8, 1e-8, 0.1]),
        }
    if opt == "adadelta":
        # PyTorch's eps = 1e-6 moves theta by ~0.003 a step, below what anyone computes by hand;
        # eps = 0.01 gives steps of ~0.3 (sqrt(eps) is the first step's numerator).
        return {"lr": 1.0, "rho": _choose(rng, [0.5, 0.9]), "eps": _choose(rng, [0.01, 0.04])}
    return {
        "lr": _choose(rng, [0.1, 0.2, 0.5]),
        "betas": _choose(rng, [(0.9, 0.999), (0.8, 0.99)]),
        "eps": _choose(rng, [1e-8, 1e-8, 0.1]),
    }


def _draw(
    rng: np.random.Generator, opt: str, dim: int | None = None, steps: int | None = None
) -> StepParams | None:
    """One draw of `generate` for this optimizer (None: not clean); a given dim or steps is kept."""
    dim = int(_choose(rng, [1, 2, 2, 2, 3])) if dim is None else dim
    a = rng.integers(1, 5, size=dim).astype(float).tolist()
    c = rng.integers(-4, 5, size=dim).astype(float).tolist()
    theta0 = rng.integers(-3, 4, size=dim).astype(float).tolist()
    if steps is None:
        steps = int(_choose(rng, [1, 2, 2, 3, 3] + ([4] if opt in ("sgd", "momentum") else [])))
    p = StepParams.model_validate(
        {"optimizer": opt, "a": a, "c": c, "theta0": theta0, "steps": steps, **_hyper(rng, opt)}
    )
    return p if _is_clean(p) else None


def _is_clean(p: StepParams) -> bool:
    """Every coordinate moves visibly at every step, and no entry is a tiny awkward number."""
    thetas, _ = run(p)
    prev = np.array(p.theta0, dtype=float)
    for th in thetas:
        if np.any(np.abs(th - prev) < np.maximum(0.02, 4 * _tolerance(th))):
            return False
        if np.any((np.abs(th) < 0.01) & (np.abs(th) > 1e-9)) or np.any(np.abs(th) > 20):
            return False
        prev = th
    return True


@register
class OptimStep(Family[StepParams]):
    id = "optim.step"
    version = 2  # 2: some instances have eps = 0.1
    title = bi(
        "优化算法的参数更新：动量法、Nesterov、AdaGrad、RMSprop、AdaDelta、Adam",
        "Optimizer updates, step by step",
    )
    difficulty = 2
    tags = ("optimization", "optimizers", "momentum", "adaptive_lr")
    Params = StepParams

    def generate(self, rng: np.random.Generator) -> StepParams:
        opt = str(_choose(rng, list(OWN)))
        while True:
            p = _draw(rng, opt)
            if p is not None:
                return p

    def form(self, p: StepParams) -> Hashable:
        # The rule, the dimension and the number of steps are the work; hyper-parameters are numbers.
        return p.optimizer, len(p.a), p.steps

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> StepParams | None:
        opt, dim, steps = cast(tuple[str, int, int], form)
        return first_drawn(lambda: _draw(rng, opt, dim, steps))

    def parts(self, p: StepParams) -> list[Part]:
        return [
            Part(
                f"theta_{t}",
                SPEC,
                bi(
                    f"第 {t} 步后的 $\\boldsymbol\\theta_{{{t}}}$",
                    f"$\\boldsymbol\\theta_{{{t}}}$ after step {t}",
                ),
                bi(
                    "向量，如 [0.9, -1.8]；保留至少 4 位有效数字（中间结果多保留几位）",
                    "a vector such as [0.9, -1.8]; at least 4 significant figures (keep more in intermediate results)",
                ),
            )
            for t in range(1, p.steps + 1)
        ]

    def solve(self, p: StepParams) -> dict[str, str]:
        return answers(p)

    def statement(self, p: StepParams) -> Text:
        name = NAMES[p.optimizer]
        rule = _rule(p)
        asked = ", ".join(f"\\boldsymbol\\theta_{{{t}}}" for t in range(1, p.steps + 1))
        f = (
            f"$$f({TH}) = \\frac{{1}}{{2}}\\sum_i a_i \\theta_i^2 - \\sum_i c_i \\theta_i,\\qquad "
            f"\\nabla f({TH}) = \\mathbf a \\odot {TH} - \\mathbf c$$"
        )
        given = [
            f"$\\mathbf a = {vec(p.a)}$",
            f"$\\mathbf c = {vec(p.c)}$",
            f"$\\boldsymbol\\theta_0 = {vec(p.theta0)}$",
        ]
        return bi(
            f"用{name['zh']}最小化二次函数（$\\odot$ 为逐元素乘积）\n\n{f}\n\n{'，'.join(given)}。\n\n"
            f"更新规则（全部逐元素计算）：\n\n{rule['zh']}\n\n求 ${asked}$。",
            f"Minimise the quadratic below with {name['en']} ($\\odot$ is the element-wise product)\n\n"
            f"{f}\n\n{', '.join(given)}.\n\nThe update rule (all element-wise):\n\n{rule['en']}\n\nFind ${asked}$.",
        )

    def solution(self, p: StepParams) -> dict[str, list[str]]:
        thetas, work = run(p)
        zh, en = [], []
        for t, lines in enumerate(work, start=1):
            body = "；".join(f"${sym} = {rhs} = {_vtex(val)}$" for sym, rhs, val in lines)
            body_en = "; ".join(f"${sym} = {rhs} = {_vtex(val)}$" for sym, rhs, val in lines)
            zh.append(f"第 {t} 步：{body}。")
            en.append(f"Step {t}: {body_en}.")
        if p.optimizer == "adam" and (p.eps or 0.0) < 1e-4:
            zh.append(
                "注意 Adam 第 1 步的 $\\hat{\\mathbf m}_1 / \\sqrt{\\hat{\\mathbf v}_1} = \\mathrm{sign}(\\mathbf g_1)$，每个分量都移动约 $\\alpha$。"
            )
            en.append(
                "Note that Adam's first step has $\\hat{\\mathbf m}_1 / \\sqrt{\\hat{\\mathbf v}_1} = \\mathrm{sign}(\\mathbf g_1)$: every coordinate moves by about $\\alpha$."
            )
        result = ", ".join(
            f"\\boldsymbol\\theta_{{{t}}} = {_vtex(th)}" for t, th in enumerate(thetas, start=1)
        )
        zh.append(f"答案：${result}$。")
        en.append(f"Answer: ${result}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[StepParams]]:
        def only(opts: tuple[str, ...], slip: Slip) -> Callable[[StepParams], dict[str, str]]:
            return lambda p: answers(p, slip) if p.optimizer in opts else {}

        return [
            Misconception(
                "gradient_ascent",
                bi(
                    "更新方向反了：应沿负梯度方向走（θ 减去学习率乘梯度的项），你沿梯度方向走，使 f 变大。",
                    "The update goes the wrong way: step against the gradient (subtract the learning-rate "
                    "term); you stepped along it, which increases f.",
                ),
                lambda p: answers(p, Slip(ascent=True)),
            ),
            Misconception(
                "nesterov_as_momentum",
                bi(
                    "你在当前点 θ_{t-1} 处求梯度，这是普通动量法；Nesterov 要在前瞻点 θ_{t-1} + ρΔθ_{t-1} 处求梯度。",
                    "You took the gradient at the current point θ_{t-1}, which is plain momentum; Nesterov takes it "
                    "at the look-ahead point θ_{t-1} + ρΔθ_{t-1}.",
                ),
                only(("nesterov",), Slip(optimizer="momentum")),
            ),
            Misconception(
                "momentum_as_nesterov",
                bi(
                    "你在前瞻点 θ_{t-1} + ρΔθ_{t-1} 处求梯度，这是 Nesterov；动量法在当前点 θ_{t-1} 处求梯度。",
                    "You took the gradient at the look-ahead point θ_{t-1} + ρΔθ_{t-1}, which is Nesterov; plain "
                    "momentum takes it at the current point θ_{t-1}.",
                ),
                only(("momentum",), Slip(optimizer="nesterov")),
            ),
            Misconception(
                "nesterov_pytorch_variable",
                bi(
                    "这是 PyTorch 的 SGD(nesterov=True) 记录的前瞻点 θ_t + ρΔθ_t；题目要的是教材写法中的 θ_t。",
                    "That is the look-ahead point θ_t + ρΔθ_t that PyTorch's SGD(nesterov=True) keeps; the "
                    "question asks for θ_t of the textbook form.",
                ),
                only(("nesterov",), Slip(lookahead_variable=True)),
            ),
            Misconception(
                "momentum_ema",
                bi(
                    "你把梯度乘了 (1-ρ)（指数滑动平均的写法）；这里 Δθ_t = ρΔθ_{t-1} - αg_t，梯度项不乘 (1-ρ)。",
                    "You multiplied the gradient by (1-ρ) (the moving-average form); here "
                    "Δθ_t = ρΔθ_{t-1} - αg_t, with no (1-ρ) on the gradient.",
                ),
                only(("momentum", "nesterov"), Slip(ema_momentum=True)),
            ),
            Misconception(
                "adam_no_bias_correction",
                bi(
                    "你漏了偏差修正：要用 m̂_t = m_t/(1-β₁^t) 和 v̂_t = v_t/(1-β₂^t)，否则前几步的步长明显偏离 α。",
                    "You left out the bias correction: use m̂_t = m_t/(1-β₁^t) and v̂_t = v_t/(1-β₂^t); without "
                    "it the first steps are far from size α.",
                ),
                only(("adam",), Slip(no_bias_correction=True)),
            ),
            Misconception(
                "rmsprop_no_one_minus_beta",
                bi(
                    "RMSprop 的滑动平均是 G_t = βG_{t-1} + (1-β)g_t²；你漏了 (1-β)，把 g_t² 整个加了进去。",
                    "RMSprop's moving average is G_t = βG_{t-1} + (1-β)g_t²; you left out the (1-β) and added "
                    "all of g_t².",
                ),
                only(("rmsprop",), Slip(no_one_minus_alpha=True)),
            ),
            Misconception(
                "adagrad_no_accumulation",
                bi(
                    "AdaGrad 的 G_t 是从第 1 步起所有梯度平方的累加和 G_{t-1} + g_t²，不只是本步的 g_t²。",
                    "AdaGrad's G_t accumulates the squared gradients of all steps so far, G_{t-1} + g_t², not "
                    "just this step's g_t².",
                ),
                only(("adagrad",), Slip(no_accumulation=True)),
            ),
            Misconception(
                "momentum_lr_twice",
                bi(
                    "学习率用了两次：Δθ_t = ρΔθ_{t-1} - αg_t 里已经乘过 α，更新是 θ_t = θ_{t-1} + Δθ_t，不再乘 α。",
                    "The learning rate is applied twice: Δθ_t = ρΔθ_{t-1} - αg_t already contains α, so the "
                    "update is θ_t = θ_{t-1} + Δθ_t, with no second α.",
                ),
                only(("momentum", "nesterov"), Slip(lr_twice=True)),
            ),
            Misconception(
                "eps_inside_sqrt",
                bi(
                    "ε 放错了位置：本题与 PyTorch 一样用 √G + ε（ε 在根号外，Adam 为 √v̂ + ε），你算的是 √(G + ε)。",
                    "ε is in the wrong place: here, as in PyTorch, the divisor is √G + ε (ε outside the root; "
                    "√v̂ + ε for Adam); you computed √(G + ε).",
                ),
                only(("adagrad", "rmsprop", "adam"), Slip(eps_swapped=True)),
            ),
            Misconception(
                "adadelta_eps_outside_sqrt",
                bi(
                    "AdaDelta 的 ε 在根号内：√(ΔX²_{t-1} + ε) / √(G_t + ε)；放在根号外时第 1 步分子几乎为 0。",
                    "AdaDelta's ε goes inside the roots: √(ΔX²_{t-1} + ε) / √(G_t + ε); outside, the first step's "
                    "numerator is almost 0.",
                ),
                only(("adadelta",), Slip(eps_swapped=True)),
            ),
            Misconception(
                "forgot_sqrt",
                bi(
                    "分母要开平方：除以 √G（Adam 为 √v̂）再加 ε，不是直接除以 G。",
                    "The denominator takes a square root: divide by √G (√v̂ for Adam) plus ε, not by G itself.",
                ),
                only(("adagrad", "rmsprop", "adam"), Slip(no_sqrt=True)),
            ),
        ]
