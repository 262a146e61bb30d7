"""optim.lr_schedule: the learning rate after t steps of a schedule (seeds/003 学习率衰减, 学习率预热).

Each schedule is the closed form of its PyTorch scheduler stepped t times: StepLR, ExponentialLR,
CosineAnnealingLR, and LambdaLR for linear warm-up and inverse-time decay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.fmt import num
from problems.registry import register

MAX_T = 100_000

Schedule = Literal["warmup_linear", "step", "exponential", "cosine", "inverse_time"]
KNOBS = ("warmup_steps", "step_size", "gamma", "T_max", "eta_min", "decay_rate")
OWN: dict[str, tuple[str, ...]] = {
    "warmup_linear": ("warmup_steps",),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("T_max", "eta_min"),
    "inverse_time": ("decay_rate",),
}
DEFAULTS: dict[str, dict[str, Any]] = {"step": {"gamma": 0.1}, "cosine": {"eta_min": 0.0}}  # PyTorch's


class LrScheduleParams(Params):
    schedule: Schedule = Field(description="which schedule")
    lr: float = Field(gt=0, le=10, allow_inf_nan=False, description="initial learning rate alpha_0")
    t: int = Field(ge=0, le=MAX_T, description="scheduler steps taken (t = 0 is the initial lr)")
    warmup_steps: int | None = Field(default=None, ge=1, le=MAX_T, description="warm-up length T")
    step_size: int | None = Field(
        default=None, ge=1, le=MAX_T, description="StepLR: decay every step_size steps"
    )
    gamma: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False, description="decay factor")
    T_max: int | None = Field(default=None, ge=1, le=MAX_T, description="CosineAnnealingLR: half period")
    eta_min: float | None = Field(default=None, ge=0, le=10, allow_inf_nan=False, description="cosine floor")
    # A floor keeps the "forgot the 1" answer alpha_0/(beta t) finite (beta = 1e-320 made it inf, a 500).
    decay_rate: float | None = Field(
        default=None,
        ge=1e-6,
        le=100,
        allow_inf_nan=False,
        description="inverse time: beta in alpha_0/(1+beta t)",
    )

    @model_validator(mode="before")
    @classmethod
    def _own_knobs(cls, data: Any) -> Any:
        # isinstance first: an unhashable value (a list) would make `in OWN` raise TypeError, a 500.
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("schedule"), str)
            or data["schedule"] not in OWN
        ):
            return data  # field validation names what is wrong
        kind = data["schedule"]
        for name in KNOBS:
            if data.get(name) is not None and name not in OWN[kind]:
                raise ValueError(
                    f"{name}: the {kind} schedule has no {name} (it takes {', '.join(OWN[kind])})"
                )
        for name in OWN[kind]:
            if data.get(name) is None and name not in DEFAULTS.get(kind, {}):
                raise ValueError(f"{name}: required for the {kind} schedule")
        return {**DEFAULTS.get(kind, {}), **{k: v for k, v in data.items() if v is not None}}

    @model_validator(mode="after")
    def _floor_below_start(self) -> LrScheduleParams:
        if self.eta_min is not None and self.eta_min > self.lr:
            raise ValueError("eta_min: larger than lr")
        return self


def _cosine(p: LrScheduleParams, angle: float, half: float = 0.5) -> float:
    eta = p.eta_min or 0.0
    return eta + (p.lr - eta) * half * (1 + math.cos(angle))


def rate(p: LrScheduleParams) -> float:
    """The learning rate after t steps."""
    t = p.t
    if p.schedule == "warmup_linear":
        big_t = p.warmup_steps or 1
        return p.lr * min(t, big_t) / big_t  # constant lr once the warm-up is over
    if p.schedule == "step":
        return p.lr * (p.gamma or 0.0) ** (t // (p.step_size or 1))
    if p.schedule == "exponential":
        return p.lr * (p.gamma or 0.0) ** t
    if p.schedule == "cosine":
        return _cosine(p, math.pi * t / (p.T_max or 1))
    return p.lr / (1 + (p.decay_rate or 0.0) * t)


def _definition(p: LrScheduleParams) -> tuple[Text, str, Text]:
    """The schedule's name, its formula (LaTeX) and the values of its knobs, as the question states them."""
    if p.schedule == "warmup_linear":
        return (
            bi("线性预热（warm-up）", "linear warm-up"),
            "\\alpha_t = \\frac{t}{T}\\,\\alpha_0 \\ (t \\le T),\\qquad \\alpha_t = \\alpha_0 \\ (t > T)",
            bi(
                f"预热步数 $T = {p.warmup_steps}$；预热结束后学习率保持 $\\alpha_0$ 不变。",
                f"warm-up length $T = {p.warmup_steps}$; after the warm-up the rate stays $\\alpha_0$.",
            ),
        )
    if p.schedule == "step":
        gamma = num(p.gamma or 0)
        return (
            bi("分段常数衰减（PyTorch `StepLR`）", "step decay (PyTorch `StepLR`)"),
            "\\alpha_t = \\alpha_0\\,\\gamma^{\\lfloor t / s \\rfloor}",
            bi(
                f"每 $s = {p.step_size}$ 步（`step_size`）乘一次 $\\gamma = {gamma}$（`gamma`）。",
                f"multiplied by $\\gamma = {gamma}$ (`gamma`) every $s = {p.step_size}$ {plural(p.step_size, 'step', 'steps')} (`step_size`).",
            ),
        )
    if p.schedule == "exponential":
        gamma = num(p.gamma or 0)
        return (
            bi("指数衰减（PyTorch `ExponentialLR`）", "exponential decay (PyTorch `ExponentialLR`)"),
            "\\alpha_t = \\alpha_0\\,\\gamma^{t}",
            bi(f"$\\gamma = {gamma}$（`gamma`）。", f"$\\gamma = {gamma}$ (`gamma`)."),
        )
    if p.schedule == "cosine":
        eta = num(p.eta_min or 0)
        return (
            bi("余弦退火（PyTorch `CosineAnnealingLR`）", "cosine annealing (PyTorch `CosineAnnealingLR`)"),
            "\\alpha_t = \\eta_{\\min} + \\frac{1}{2}(\\alpha_0 - \\eta_{\\min})\\left(1 + \\cos\\frac{\\pi t}{T_{\\max}}\\right)",
            bi(
                f"$T_{{\\max}} = {p.T_max}$（`T_max`），$\\eta_{{\\min}} = {eta}$（`eta_min`），$\\cos$ 的参数是弧度。",
                f"$T_{{\\max}} = {p.T_max}$ (`T_max`), $\\eta_{{\\min}} = {eta}$ (`eta_min`), the angle in radians.",
            ),
        )
    beta = num(p.decay_rate or 0)
    return (
        bi("逆时衰减", "inverse-time decay"),
        "\\alpha_t = \\frac{\\alpha_0}{1 + \\beta\\,t}",
        bi(f"衰减率 $\\beta = {beta}$。", f"decay rate $\\beta = {beta}$."),
    )


def _working(p: LrScheduleParams) -> str:
    """The formula with the instance's numbers, equal to the answer."""
    a0, t, v = num(p.lr), p.t, num(rate(p), 6)
    if p.schedule == "warmup_linear":
        big_t = p.warmup_steps or 1
        if t > big_t:
            return f"t = {t} > T = {big_t} \\Rightarrow \\alpha_{{{t}}} = \\alpha_0 = {a0}"
        return f"\\alpha_{{{t}}} = \\frac{{{t}}}{{{big_t}}} \\times {a0} = {v}"
    if p.schedule == "step":
        s = p.step_size or 1
        return (
            f"\\lfloor {t} / {s} \\rfloor = {t // s},\\qquad \\alpha_{{{t}}} = {a0} \\times "
            f"{num(p.gamma or 0)}^{{{t // s}}} = {v}"
        )
    if p.schedule == "exponential":
        return f"\\alpha_{{{t}}} = {a0} \\times {num(p.gamma or 0)}^{{{t}}} = {v}"
    if p.schedule == "cosine":
        eta = num(p.eta_min or 0)
        return (
            f"\\alpha_{{{t}}} = {eta} + \\frac{{1}}{{2}}({a0} - {eta})\\left(1 + \\cos\\frac{{{t}\\pi}}{{{p.T_max}}}\\right)"
            f" = {v}"
        )
    return f"\\alpha_{{{t}}} = \\frac{{{a0}}}{{1 + {num(p.decay_rate or 0)} \\times {t}}} = {v}"


def _answer(value: float) -> dict[str, str]:
    return {"lr": num(value)}


def _for(
    kind: str, wrong: Callable[[LrScheduleParams], float]
) -> Callable[[LrScheduleParams], dict[str, str]]:
    return lambda p: _answer(wrong(p)) if p.schedule == kind else {}


def _choose(rng: np.random.Generator, options: list[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


@register
class LrSchedule(Family[LrScheduleParams]):
    id = "optim.lr_schedule"
    version = 1
    title = bi("学习率调整：预热与衰减", "Learning-rate schedules: warm-up and decay")
    difficulty = 1
    tags = ("optimization", "learning_rate", "lr_schedule")
    Params = LrScheduleParams

    def generate(self, rng: np.random.Generator) -> LrScheduleParams:
        kind = str(_choose(rng, list(OWN)))
        lr = float(_choose(rng, [0.1, 0.1, 0.01, 0.05, 0.5, 1.0]))
        knobs: dict[str, Any]
        if kind == "warmup_linear":
            big_t = int(_choose(rng, [5, 10, 20, 100, 1000]))
            # Mostly inside the warm-up, sometimes past it (the rate has stopped growing).
            t = int(rng.integers(1, big_t)) if rng.random() < 0.8 else big_t + int(rng.integers(1, big_t + 1))
            knobs = {"warmup_steps": big_t}
        elif kind == "step":
            s = int(_choose(rng, [5, 10, 20, 30]))
            k = int(rng.integers(1, 4))
            t = k * s + int(rng.integers(1, s))  # between two decays, so the floor matters
            knobs = {"step_size": s, "gamma": float(_choose(rng, [0.1, 0.5, 0.1]))}
        elif kind == "exponential":
            t = int(rng.integers(2, 21))
            knobs = {"gamma": float(_choose(rng, [0.9, 0.95, 0.99, 0.5, 0.8]))}
            if knobs["gamma"] == 0.5:
                t = int(rng.integers(2, 8))
        elif kind == "cosine":
            t_max = int(_choose(rng, [10, 20, 50, 100]))
            t = int(rng.integers(1, t_max))
            knobs = {"T_max": t_max, "eta_min": round(float(_choose(rng, [0.0, 0.0, lr / 100, lr / 10])), 12)}
        else:
            t = int(rng.integers(1, 51))
            knobs = {"decay_rate": float(_choose(rng, [0.1, 0.5, 1.0, 0.05]))}
        return LrScheduleParams.model_validate({"schedule": kind, "lr": lr, "t": t, **knobs})

    def parts(self, p: LrScheduleParams) -> list[Part]:
        return [
            Part(
                "lr",
                AnswerSpec("real"),
                bi(
                    f"第 {p.t} 步的学习率 $\\alpha_{{{p.t}}}$",
                    f"the learning rate $\\alpha_{{{p.t}}}$ at step {p.t}",
                ),
                bi("一个数，如 0.03 或 3/10*0.1", "a number, e.g. 0.03 or 3/10*0.1"),
            )
        ]

    def solve(self, p: LrScheduleParams) -> dict[str, str]:
        return _answer(rate(p))

    def statement(self, p: LrScheduleParams) -> Text:
        name, formula, knobs = _definition(p)
        # What t = 0 gives is the schedule's own: a warm-up starts from 0, every decay from alpha_0.
        if p.schedule == "warmup_linear":
            start = bi("$t = 0$ 时学习率为 0", "$t = 0$ gives a rate of 0")
        else:
            start = bi("$t = 0$ 时为 $\\alpha_0$", "$t = 0$ gives $\\alpha_0$")
        return bi(
            f"初始学习率 $\\alpha_0 = {num(p.lr)}$（PyTorch 的 `lr`），学习率按{name['zh']}调整：\n\n$${formula}$$\n\n"
            f"{knobs['zh']}$t$ 为调度器已走的步数（`scheduler.step()` 的调用次数，{start['zh']}）。"
            f"求 $t = {p.t}$ 时的学习率 $\\alpha_{{{p.t}}}$。",
            f"The initial learning rate is $\\alpha_0 = {num(p.lr)}$ (PyTorch `lr`), scheduled by {name['en']}:\n\n"
            f"$${formula}$$\n\n{knobs['en']} $t$ counts the scheduler steps taken (calls of `scheduler.step()`; "
            f"{start['en']}). Find the learning rate $\\alpha_{{{p.t}}}$ at $t = {p.t}$.",
        )

    def solution(self, p: LrScheduleParams) -> dict[str, list[str]]:
        name, formula, _ = _definition(p)
        return {
            "zh": [f"{name['zh']}：${formula}$。", f"代入：${_working(p)}$。"],
            "en": [
                f"{name['en'][:1].upper()}{name['en'][1:]}: ${formula}$.",
                f"With the numbers: ${_working(p)}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[LrScheduleParams]]:
        return [
            Misconception(
                "warmup_not_capped",
                bi(
                    "预热只持续 T 步：t > T 之后学习率停在 α₀，不再按 t/T 继续增大。",
                    "The warm-up lasts T steps: for t > T the rate stays at α₀ instead of growing as t/T.",
                ),
                _for("warmup_linear", lambda p: p.lr * p.t / (p.warmup_steps or 1)),
            ),
            Misconception(
                "warmup_off_by_one",
                bi(
                    "预热差了一步：走了 t 步后学习率是 (t/T)α₀（t = 0 时为 0），你用了 (t+1)/T，多算了一步。",
                    "The warm-up is off by one: after t steps the rate is (t/T)α₀ (0 at t = 0); you used "
                    "(t+1)/T, one step too many.",
                ),
                _for(
                    "warmup_linear",
                    lambda p: p.lr * min(p.t + 1, p.warmup_steps or 1) / (p.warmup_steps or 1),
                ),
            ),
            Misconception(
                "step_no_floor",
                bi(
                    "StepLR 是分段常数：指数是 ⌊t/s⌋（向下取整），在两次衰减之间学习率不变。",
                    "StepLR is piecewise constant: the exponent is ⌊t/s⌋ (rounded down), so the rate does not "
                    "change between two decays.",
                ),
                _for("step", lambda p: p.lr * (p.gamma or 0.0) ** (p.t / (p.step_size or 1))),
            ),
            Misconception(
                "step_as_exponential",
                bi(
                    "StepLR 每 s 步才乘一次 γ，不是每步都乘（那是 ExponentialLR）。",
                    "StepLR multiplies by γ once every s steps, not at every step (that is ExponentialLR).",
                ),
                _for("step", lambda p: p.lr * (p.gamma or 0.0) ** p.t),
            ),
            Misconception(
                "cosine_forgot_pi",
                bi(
                    "余弦里的角度是 πt/T_max（弧度）；你漏了 π。",
                    "The angle in the cosine is πt/T_max (radians); you left out π.",
                ),
                _for("cosine", lambda p: _cosine(p, p.t / (p.T_max or 1))),
            ),
            Misconception(
                "cosine_no_half",
                bi(
                    "余弦退火公式里有系数 1/2：α_t = η_min + ½(α₀ - η_min)(1 + cos(πt/T_max))。",
                    "Cosine annealing has a factor ½: α_t = η_min + ½(α₀ - η_min)(1 + cos(πt/T_max)).",
                ),
                _for("cosine", lambda p: _cosine(p, math.pi * p.t / (p.T_max or 1), half=1.0)),
            ),
            Misconception(
                "cosine_eta_min_not_subtracted",
                bi(
                    "余弦项乘的是 (α₀ - η_min)，不是 α₀：η_min 要先减掉再加回来。",
                    "The cosine term multiplies (α₀ - η_min), not α₀: subtract η_min before adding it back.",
                ),
                _for(
                    "cosine",
                    lambda p: (
                        (p.eta_min or 0.0) + p.lr * 0.5 * (1 + math.cos(math.pi * p.t / (p.T_max or 1)))
                    ),
                ),
            ),
            Misconception(
                "inverse_time_forgot_one",
                bi(
                    "逆时衰减的分母是 1 + βt，不是 βt（t = 0 时学习率应为 α₀）。",
                    "The inverse-time denominator is 1 + βt, not βt (at t = 0 the rate must be α₀).",
                ),
                lambda p: (
                    _answer(p.lr / ((p.decay_rate or 1.0) * p.t))
                    if p.schedule == "inverse_time" and p.t > 0
                    else {}
                ),
            ),
        ]
