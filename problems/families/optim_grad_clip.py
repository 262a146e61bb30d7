"""optim.grad_clip: gradient clipping by value or by norm (seeds/003 梯度截断, 按值截断 / 按模截断).

By value: clamp every entry into [min, max] (torch.clamp; a lone threshold b means [-b, b], as
torch.nn.utils.clip_grad_value_). By norm: g * b/||g||_2 when ||g||_2 > b, else g unchanged
(torch.nn.utils.clip_grad_norm_, without the 1e-6 it adds to the norm against division by zero).
Optional `tensor_sizes` splits g into the gradients of several parameter tensors (W, b, ...): the norm
is still the global one over all of them, as clip_grad_norm_ computes it, not one norm per tensor.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.fmt import num, vec
from problems.registry import register

MAX_DIM = 16

Entry = Annotated[float, Field(ge=-10_000, le=10_000, allow_inf_nan=False)]

# Vectors with integer 2-norms, so clipping by norm gives clean numbers.
PYTHAGOREAN = [
    (3, 4),
    (6, 8),
    (5, 12),
    (8, 15),
    (1, 2, 2),
    (2, 3, 6),
    (1, 4, 8),
    (4, 4, 7),
    (2, 6, 9),
    (2, 10, 11),
]
# Two parameter tensors (a weight and a bias) whose norms form a Pythagorean pair, so the global norm
# is an integer too: ||(1,2,2)|| = 3 and ||(4)|| = 4 give 5.
TWO_TENSORS = [
    ((1, 2, 2), (4,)),
    ((3, 4), (12,)),
    ((2, 4, 4), (8,)),
    ((1, 4, 8), (12,)),
    ((2, 3, 6), (24,)),
    ((4, 4, 7), (12,)),
]


class GradClipParams(Params):
    g: Annotated[list[Entry], Field(min_length=1, max_length=MAX_DIM)] = Field(description="the gradient")
    mode: Literal["value", "norm"] = Field(description="clip each entry (value) or rescale the vector (norm)")
    # A floor keeps every wrong way finite: with ||g|| > b >= 1e-6, ||g||^2 cannot underflow to 0.
    threshold: float | None = Field(
        default=None,
        ge=1e-6,
        le=10_000,
        allow_inf_nan=False,
        description="norm mode: the largest allowed 2-norm b; value mode: clip into [-b, b]",
    )
    min: float | None = Field(
        default=None, ge=-10_000, le=10_000, allow_inf_nan=False, description="value mode: a"
    )
    max: float | None = Field(
        default=None, ge=-10_000, le=10_000, allow_inf_nan=False, description="value mode: b"
    )
    tensor_sizes: (
        Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=MAX_DIM)] | None
    ) = Field(
        default=None,
        description="norm mode: g is several parameter tensors flattened one after another, of these "
        "lengths; clipping uses their global norm",
    )

    @model_validator(mode="after")
    def _bounds_fit_the_mode(self) -> GradClipParams:
        has_range = self.min is not None or self.max is not None
        if self.tensor_sizes is not None:
            if self.mode != "norm":
                raise ValueError("tensor_sizes: only in norm mode (clipping by value is entry by entry)")
            if sum(self.tensor_sizes) != len(self.g):
                raise ValueError(f"tensor_sizes: must add up to the length of g ({len(self.g)})")
        if self.mode == "norm":
            if has_range:
                raise ValueError(f"{'min' if self.min is not None else 'max'}: only in value mode")
            if self.threshold is None:
                raise ValueError("threshold: required in norm mode")
        else:
            if self.threshold is not None and has_range:
                raise ValueError("threshold: give either threshold or min and max, not both")
            if self.threshold is None:
                if self.min is None:
                    raise ValueError("min: required in value mode (or give threshold)")
                if self.max is None:
                    raise ValueError("max: required in value mode (or give threshold)")
                if self.min >= self.max:
                    raise ValueError("min: must be less than max")
        return self


def bounds(p: GradClipParams) -> tuple[float, float]:
    """The interval [a, b] of value mode."""
    if p.threshold is not None:
        return -p.threshold, p.threshold
    return float(p.min or 0.0), float(p.max or 0.0)


def norm(g: list[float]) -> float:
    """The L2 norm; hypot scales, so entries like 1e-200 do not square to 0 (the sum would)."""
    return math.hypot(*g)


def clip_value(g: list[float], lo: float, hi: float) -> list[float]:
    return [max(min(x, hi), lo) for x in g]


def clip_norm(g: list[float], b: float, always: bool = False) -> list[float]:
    """g * b/||g|| when ||g|| > b (or always, the seeds' formula without its condition)."""
    n = norm(g)
    if n == 0 or (n <= b and not always):
        return list(g)
    return [x * b / n for x in g]


def tensors(p: GradClipParams) -> list[list[float]]:
    """The parameter tensors g is made of (one, unless tensor_sizes splits it)."""
    out, start = [], 0
    for size in p.tensor_sizes or [len(p.g)]:
        out.append(list(p.g[start : start + size]))
        start += size
    return out


def clip_each_tensor(p: GradClipParams) -> list[float]:
    """Each tensor clipped by its own norm: what clip_grad_norm_ does not do."""
    b = float(p.threshold or 0.0)
    return [x for part in tensors(p) for x in clip_norm(part, b)]


def clipped(p: GradClipParams) -> list[float]:
    if p.mode == "value":
        return clip_value(p.g, *bounds(p))
    return clip_norm(p.g, float(p.threshold or 0.0))


def _answer(g: list[float]) -> dict[str, str]:
    return {"clipped": vec(g)}


def _choose(rng: np.random.Generator, options: list[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def _interval(lo: float, hi: float) -> str:
    return f"[{num(lo)}, {num(hi)}]"


@register
class GradClip(Family[GradClipParams]):
    id = "optim.grad_clip"
    version = 2  # 2: some norm-mode instances have two tensors
    title = bi("梯度截断：按值截断与按模截断", "Gradient clipping by value and by norm")
    difficulty = 1
    tags = ("optimization", "gradient_clipping", "exploding_gradient")
    Params = GradClipParams

    def generate(self, rng: np.random.Generator) -> GradClipParams:
        if rng.random() < 0.5:
            split = rng.random() < 0.4  # a weight and a bias, clipped together
            parts = (
                [list(t) for t in _choose(rng, TWO_TENSORS)] if split else [list(_choose(rng, PYTHAGOREAN))]
            )
            for part in parts:
                rng.shuffle(part)
            scale = int(_choose(rng, [1, 1, 2, 10]))
            g = [float(x * scale * _choose(rng, [-1, 1])) for part in parts for x in part]
            n = norm(g)
            # Mostly a norm above the threshold (the clipping case), sometimes below it (unchanged).
            if rng.random() < 0.8:
                b = float(_choose(rng, [x for x in (1, 2, 5) if x < n]))
            else:
                b = float(round(n) + _choose(rng, [1, 5]))
            sizes = [len(part) for part in parts] if split else None
            return GradClipParams(g=g, mode="norm", threshold=b, tensor_sizes=sizes)
        while True:
            dim = int(_choose(rng, [3, 4, 4, 5]))
            g = (rng.integers(-150, 151, size=dim) / 10).tolist()
            if rng.random() < 0.5:
                b = float(_choose(rng, [1, 5, 10]))
                p = GradClipParams(g=g, mode="value", threshold=b)
            else:
                lo = float(_choose(rng, [-10, -5, -1]))
                hi = float(_choose(rng, [1, 2, 5, 10]))
                p = GradClipParams(g=g, mode="value", min=lo, max=hi)
            lo, hi = bounds(p)
            inside = [lo < x < hi for x in g]
            # Some entries clipped, some not, none sitting on a bound.
            if any(inside) and not all(inside) and all(x not in (lo, hi) for x in g):
                return p

    def parts(self, p: GradClipParams) -> list[Part]:
        return [
            Part(
                "clipped",
                AnswerSpec("vector"),
                bi("截断后的梯度", "the clipped gradient"),
                bi("向量，如 [0.6, -0.8]", "a vector, e.g. [0.6, -0.8]"),
            )
        ]

    def solve(self, p: GradClipParams) -> dict[str, str]:
        return _answer(clipped(p))

    def _rule(self, p: GradClipParams) -> Text:
        if p.mode == "value":
            lo, hi = bounds(p)
            f = "$$g_i \\leftarrow \\max(\\min(g_i, b), a)$$"
            return bi(
                f"按值截断：{f}\n\n区间 $[a, b] = {_interval(lo, hi)}$。",
                f"by value: {f}\n\nwith $[a, b] = {_interval(lo, hi)}$.",
            )
        b = num(p.threshold or 0.0)
        f = "$$\\mathbf g \\leftarrow \\begin{cases} \\frac{b}{\\|\\mathbf g\\|}\\,\\mathbf g & \\|\\mathbf g\\| > b \\\\ \\mathbf g & \\|\\mathbf g\\| \\le b \\end{cases}$$"
        return bi(
            f"按模截断（$\\|\\mathbf g\\|$ 为 L2 范数）：{f}\n\n阈值 $b = {b}$。"
            "（PyTorch 的 `clip_grad_norm_` 在分母上多加 $10^{-6}$ 以防除零，这里不加。）",
            f"by norm ($\\|\\mathbf g\\|$ is the L2 norm): {f}\n\nwith threshold $b = {b}$. "
            "(PyTorch's `clip_grad_norm_` adds $10^{-6}$ to the norm against division by zero; leave it out here.)",
        )

    def statement(self, p: GradClipParams) -> Text:
        rule = self._rule(p)
        split = self._split(p)
        return bi(
            f"为防止梯度爆炸，对梯度 $\\mathbf g = {vec(p.g)}$ 做梯度截断，{rule['zh']}{split['zh']}\n\n求截断后的梯度。",
            f"Against exploding gradients, the gradient $\\mathbf g = {vec(p.g)}$ is clipped {rule['en']}"
            f"{split['en']}\n\nFind the clipped gradient.",
        )

    def _split(self, p: GradClipParams) -> Text:
        """For several tensors: which entries belong to which, and that the norm is the global one."""
        if not p.tensor_sizes or len(p.tensor_sizes) < 2:
            return bi("", "")
        names = "，".join(f"$\\mathbf g^{{({k})}} = {vec(t)}$" for k, t in enumerate(tensors(p), start=1))
        names_en = ", ".join(f"$\\mathbf g^{{({k})}} = {vec(t)}$" for k, t in enumerate(tensors(p), start=1))
        total = "\\|\\mathbf g\\| = \\sqrt{\\textstyle\\sum_k \\|\\mathbf g^{(k)}\\|^2}"
        return bi(
            f"\n\n$\\mathbf g$ 由 {len(p.tensor_sizes)} 个参数张量（如权重和偏置）的梯度依次拼接而成：{names}。"
            f"与 PyTorch 的 `clip_grad_norm_` 一样，用所有张量合起来的总范数 ${total}$ 判断和缩放，"
            "所有张量乘同一个系数。",
            f"\n\n$\\mathbf g$ is the gradients of {len(p.tensor_sizes)} parameter tensors (a weight and a bias, "
            f"say) one after another: {names_en}. As PyTorch's `clip_grad_norm_`, use the global norm of all of "
            f"them together, ${total}$, and scale every tensor by the same factor.",
        )

    def solution(self, p: GradClipParams) -> dict[str, list[str]]:
        out = vec([round(x, 6) for x in clipped(p)])
        if p.mode == "value":
            lo, hi = bounds(p)
            return {
                "zh": [
                    f"逐个元素截到区间 ${_interval(lo, hi)}$：大于 ${num(hi)}$ 的取 ${num(hi)}$，小于 ${num(lo)}$ 的取 ${num(lo)}$，其余不变。",
                    f"$\\mathbf g = {out}$。",
                ],
                "en": [
                    f"Clip every entry into ${_interval(lo, hi)}$: above ${num(hi)}$ becomes ${num(hi)}$, below "
                    f"${num(lo)}$ becomes ${num(lo)}$, the rest stay.",
                    f"$\\mathbf g = {out}$.",
                ],
            }
        n, b = norm(p.g), float(p.threshold or 0.0)
        squares = " + ".join(f"{num(x)}^2" if x >= 0 else f"({num(x)})^2" for x in p.g)
        first = f"\\|\\mathbf g\\| = \\sqrt{{{squares}}} = {num(n, 6)}"
        if len(p.tensor_sizes or []) > 1:  # one norm over every tensor: add their squared norms
            each = [sum(x * x for x in t) for t in tensors(p)]
            per = ",\\ ".join(
                f"\\|\\mathbf g^{{({k})}}\\|^2 = {num(sq, 6)}" for k, sq in enumerate(each, start=1)
            )
            first = f"{per};\\quad \\|\\mathbf g\\| = \\sqrt{{{' + '.join(num(sq, 6) for sq in each)}}} = {num(n, 6)}"
        if n > b:
            scale = f"\\frac{{{num(b)}}}{{{num(n, 6)}}}"
            return {
                "zh": [
                    f"${first} > b = {num(b)}$，需要截断。",
                    f"$\\mathbf g \\leftarrow {scale}\\,\\mathbf g = {out}$。",
                ],
                "en": [
                    f"${first} > b = {num(b)}$, so clip.",
                    f"$\\mathbf g \\leftarrow {scale}\\,\\mathbf g = {out}$.",
                ],
            }
        return {
            "zh": [f"${first} \\le b = {num(b)}$，不需要截断。", f"梯度不变：$\\mathbf g = {out}$。"],
            "en": [
                f"${first} \\le b = {num(b)}$, so nothing is clipped.",
                f"The gradient is unchanged: $\\mathbf g = {out}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[GradClipParams]]:
        def norm_only(p: GradClipParams, g: list[float]) -> dict[str, str]:
            return _answer(g) if p.mode == "norm" else {}

        return [
            Misconception(
                "rescaled_below_threshold",
                bi(
                    "只有当 ‖g‖ > b 时才缩放；‖g‖ ≤ b 时梯度保持不变（按模截断不会把小梯度放大到 b）。",
                    "Rescale only when ‖g‖ > b; when ‖g‖ ≤ b the gradient stays as it is (clipping by norm never "
                    "scales a small gradient up to b).",
                ),
                lambda p: norm_only(p, clip_norm(p.g, float(p.threshold or 0.0), always=True)),
            ),
            Misconception(
                "clipped_entries_in_norm_mode",
                bi(
                    "这是按值截断（逐个元素截到 [-b, b]）；按模截断要把整个向量乘以 b/‖g‖，保持方向不变。",
                    "That is clipping by value (each entry into [-b, b]); clipping by norm multiplies the whole "
                    "vector by b/‖g‖ and keeps its direction.",
                ),
                lambda p: norm_only(
                    p, clip_value(p.g, -float(p.threshold or 0.0), float(p.threshold or 0.0))
                ),
            ),
            Misconception(
                "divided_by_squared_norm",
                bi(
                    "缩放因子是 b/‖g‖（L2 范数本身），不是 b/‖g‖²。",
                    "The factor is b/‖g‖ (the L2 norm itself), not b/‖g‖².",
                ),
                lambda p: (
                    norm_only(p, [x * float(p.threshold or 0.0) / norm(p.g) / norm(p.g) for x in p.g])
                    if norm(p.g) > float(p.threshold or 0.0)
                    else {}
                ),
            ),
            Misconception(
                "rescaled_in_value_mode",
                bi(
                    "这是按模截断（整体缩放）；按值截断要把每个元素单独截到区间内，区间内的元素不变。",
                    "That is clipping by norm (rescaling the vector); clipping by value clamps each entry on its "
                    "own and leaves the entries inside the interval unchanged.",
                ),
                lambda p: (
                    _answer(clip_norm(p.g, p.threshold))
                    if p.mode == "value" and p.threshold is not None
                    else {}
                ),
            ),
            Misconception(
                "per_tensor_norm",
                bi(
                    "你对每个参数张量分别按它自己的范数截断；clip_grad_norm_ 用所有张量合起来的总范数 ‖g‖，"
                    "所有张量乘同一个系数 b/‖g‖。",
                    "You clipped each parameter tensor by its own norm; clip_grad_norm_ uses the global norm ‖g‖ "
                    "of all tensors together and scales them all by the same factor b/‖g‖.",
                ),
                lambda p: norm_only(p, clip_each_tensor(p)) if len(p.tensor_sizes or []) > 1 else {},
            ),
            Misconception(
                "only_upper_bound",
                bi(
                    "按值截断有上下两个界：g = max(min(g, b), a)，小于 a 的元素也要截到 a。",
                    "Clipping by value has two bounds: g = max(min(g, b), a); entries below a become a too.",
                ),
                lambda p: _answer([min(x, bounds(p)[1]) for x in p.g]) if p.mode == "value" else {},
            ),
        ]
