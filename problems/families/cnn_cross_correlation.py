"""cnn.cross_correlation: slide a kernel over a small matrix, with or without flipping it (seeds/000 简答题 3, seeds/002 1.2)."""

from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction
from typing import Annotated, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, Text, bi, first_drawn
from problems.families.cnn_common import size_formula
from problems.fmt import exact, mat, num, tex_factor, tex_matrix
from problems.registry import register

MAX_INPUT = 10
MAX_KERNEL = 5
MAX_STRIDE = 4
MAX_PADDING = 3

Entry = Annotated[int | float, Field(ge=-100, le=100, allow_inf_nan=False)]
InputRow = Annotated[list[Entry], Field(min_length=1, max_length=MAX_INPUT)]
KernelRow = Annotated[list[Entry], Field(min_length=1, max_length=MAX_KERNEL)]
Matrix = list[list[Fraction]]


class CrossCorrelationParams(Params):
    input: Annotated[list[InputRow], Field(min_length=1, max_length=MAX_INPUT, description="input X, rows")]
    kernel: Annotated[
        list[KernelRow], Field(min_length=1, max_length=MAX_KERNEL, description="kernel K, rows")
    ]
    stride: int = Field(default=1, strict=True, ge=1, le=MAX_STRIDE)
    padding: int = Field(default=0, strict=True, ge=0, le=MAX_PADDING, description="zeros added on each side")
    flip: bool = Field(default=False, strict=True, description="true: convolution (kernel rotated 180°)")

    @model_validator(mode="after")
    def _check(self) -> CrossCorrelationParams:
        for name, rows in (("input", self.input), ("kernel", self.kernel)):
            if any(len(r) != len(rows[0]) for r in rows):
                raise ValueError(
                    f"{name}: every row must have {len(rows[0])} {plural(len(rows[0]), 'entry', 'entries')} (the length of the first row)"
                )
        size = (len(self.input) + 2 * self.padding, len(self.input[0]) + 2 * self.padding)
        if len(self.kernel) > size[0] or len(self.kernel[0]) > size[1]:
            raise ValueError(
                f"kernel: {len(self.kernel)}×{len(self.kernel[0])} is larger than the padded input {size[0]}×{size[1]}"
            )
        return self


def rotate180(k: Matrix) -> Matrix:
    return [row[::-1] for row in k[::-1]]


def slide(x: Matrix, k: Matrix, stride: int, padding: int) -> Matrix:
    """Cross-correlation: Y[i][j] = sum_{a,b} Xpad[i*stride + a][j*stride + b] * K[a][b]."""
    width = len(x[0]) + 2 * padding
    zeros = [Fraction(0)] * width
    pad = [zeros] * padding
    xp = pad + [[Fraction(0)] * padding + row + [Fraction(0)] * padding for row in x] + pad
    kh, kw = len(k), len(k[0])
    out_h, out_w = (len(xp) - kh) // stride + 1, (width - kw) // stride + 1
    return [
        [
            sum(
                (xp[i * stride + a][j * stride + b] * k[a][b] for a in range(kh) for b in range(kw)),
                Fraction(0),
            )
            for j in range(out_w)
        ]
        for i in range(out_h)
    ]


def _fits_unpadded(p: CrossCorrelationParams) -> bool:
    return len(p.kernel) <= len(p.input) and len(p.kernel[0]) <= len(p.input[0])


def _matrices(p: CrossCorrelationParams) -> tuple[Matrix, Matrix]:
    return [[exact(v) for v in r] for r in p.input], [[exact(v) for v in r] for r in p.kernel]


def _text(m: Matrix) -> str:
    return mat([[_plain(v) for v in row] for row in m])


def _answer(
    p: CrossCorrelationParams,
    kernel: Matrix | None = None,
    stride: int | None = None,
    padding: int | None = None,
) -> str:
    x, k = _matrices(p)
    if kernel is None:
        kernel = rotate180(k) if p.flip else k
    return _text(
        slide(x, kernel, p.stride if stride is None else stride, p.padding if padding is None else padding)
    )


def _plain(v: Fraction) -> int | float:
    return int(v) if v.denominator == 1 else float(v)


def _plain_rows(m: Matrix) -> list[list[int | float]]:
    return [[_plain(v) for v in r] for r in m]


# Everything but the numbers: input and kernel sizes, stride, padding, and whether the kernel is flipped.
Form = tuple[int, int, int, int, int, int, bool]


def _draw(rng: np.random.Generator, form: Form | None = None) -> CrossCorrelationParams | None:
    """One draw of `generate` (None: refused); with a form, other sizes are refused too."""
    stride = 1 if rng.random() < 0.7 else 2
    padding = 0 if rng.random() < 0.7 else 1
    kh = int(rng.choice([2, 2, 3]))
    kw = kh if rng.random() < 0.85 else 5 - kh
    top = 5 if padding == 0 else 4
    h = int(rng.integers(max(kh, 3), top + 1))
    w = h if rng.random() < 0.8 else int(rng.integers(max(kw, 3), top + 1))
    h += (h + 2 * padding - kh) % stride  # the stride fits exactly
    w += (w + 2 * padding - kw) % stride
    out_h, out_w = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    if min(out_h, out_w) < 2 or out_h * out_w * kh * kw > 100:
        return None  # at least a 2 x 2 output, and no more than a hundred products by hand
    if form is not None and (h, w, kh, kw, stride, padding) != form[:6]:
        return None
    low = int(rng.choice([0, -3]))
    x = rng.integers(low, 6 + low // 2, size=(h, w)).tolist()
    k = rng.integers(-2, 3, size=(kh, kw)).tolist()
    flip = bool(rng.random() < 0.35) if form is None else form[6]
    p = CrossCorrelationParams(input=x, kernel=k, stride=stride, padding=padding, flip=flip)
    xs, ks = _matrices(p)
    plain, flipped = slide(xs, ks, stride, padding), slide(xs, rotate180(ks), stride, padding)
    if plain != flipped and any(v for row in plain for v in row) and sum(v != 0 for r in ks for v in r) >= 2:
        return p
    return None


@register
class CrossCorrelation(Family[CrossCorrelationParams]):
    id = "cnn.cross_correlation"
    version = 1
    title = bi("互相关与卷积的计算", "Computing a cross-correlation or a convolution")
    difficulty = 1
    tags = ("cnn", "cross_correlation", "convolution")
    Params = CrossCorrelationParams

    def generate(self, rng: np.random.Generator) -> CrossCorrelationParams:
        while True:  # a few draws at most: redraw kernels where flipping or the mistakes change nothing
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: CrossCorrelationParams) -> Hashable:
        return len(p.input), len(p.input[0]), len(p.kernel), len(p.kernel[0]), p.stride, p.padding, p.flip

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> CrossCorrelationParams | None:
        # Most draws have other sizes: refused on the sizes alone, before any number is drawn.
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: CrossCorrelationParams) -> list[Part]:
        return [
            Part(
                "output",
                AnswerSpec("matrix"),
                bi("输出矩阵 Y", "the output matrix Y"),
                bi(
                    "按行书写，如 [[1, 2], [3, 4]] 或 1 2; 3 4",
                    "row by row, e.g. [[1, 2], [3, 4]] or 1 2; 3 4",
                ),
            )
        ]

    def solve(self, p: CrossCorrelationParams) -> dict[str, str]:
        return {"output": _answer(p)}

    def statement(self, p: CrossCorrelationParams) -> Text:
        op = (
            bi("（数学意义上的）卷积 $Y = X * K$", "the (mathematical) convolution $Y = X * K$")
            if p.flip
            else bi(
                "互相关 $Y = X \\star K$（即卷积神经网络中所说的“卷积”，如 PyTorch 的 `F.conv2d`）",
                "the cross-correlation $Y = X \\star K$ (what convolutional networks call “convolution”, "
                "e.g. PyTorch's `F.conv2d`)",
            )
        )
        pad = (
            bi(f"输入四周各补 {p.padding} 圈 0", f"zero padding of {p.padding} on each side of the input")
            if p.padding
            else bi("无填充", "no padding")
        )
        x, k = _matrices(p)
        return bi(
            f"输入 $X = {tex_matrix(_plain_rows(x))}$，卷积核 $K = {tex_matrix(_plain_rows(k))}$。\n\n"
            f"步长 {p.stride}，{pad['zh']}。计算{op['zh']}，写出输出矩阵 $Y$。",
            f"Input $X = {tex_matrix(_plain_rows(x))}$, kernel $K = {tex_matrix(_plain_rows(k))}$.\n\n"
            f"Stride {p.stride}, {pad['en']}. Compute {op['en']} and write the output matrix $Y$.",
        )

    def solution(self, p: CrossCorrelationParams) -> dict[str, list[str]]:
        x, k = _matrices(p)
        used = rotate180(k) if p.flip else k
        kh, kw = len(k), len(k[0])
        y = slide(x, used, p.stride, p.padding)
        zh: list[str] = []
        en: list[str] = []
        if p.flip:
            zh.append(
                f"卷积要先把卷积核旋转 180°（上下、左右都翻转）：$K' = {tex_matrix(_plain_rows(used))}$，再与 $X$ 做互相关。"
            )
            en.append(
                f"A convolution first rotates the kernel by 180° (flip it up-down and left-right): "
                f"$K' = {tex_matrix(_plain_rows(used))}$, then cross-correlates it with $X$."
            )
        else:
            formula = "Y_{i,j} = \\sum_{a,b} X_{iS+a,\\, jS+b} K_{a,b}"
            zh.append(f"互相关不翻转卷积核：${formula}$（下标从 0 开始）。")
            en.append(f"Cross-correlation does not flip the kernel: ${formula}$ (indices from 0).")
        xp = slide(x, [[Fraction(1)]], 1, p.padding)  # a 1x1 kernel of 1 returns the padded input
        if p.padding:
            zh.append(f"补 0 后的输入为 ${tex_matrix(_plain_rows(xp))}$。")
            en.append(f"The zero-padded input is ${tex_matrix(_plain_rows(xp))}$.")
        rows = size_formula(len(x), kh, p.stride, p.padding)
        cols = size_formula(len(x[0]), kw, p.stride, p.padding)
        zh.append(f"输出尺寸：${rows}$ 行，${cols}$ 列。")
        en.append(
            f"Output size: ${rows}$ {plural(len(y), 'row', 'rows')} and ${cols}$ {plural(len(y[0]), 'column', 'columns')}."
        )
        terms = " + ".join(
            f"{tex_factor(_plain(xp[a][b]))} \\times {tex_factor(_plain(used[a][b]))}"
            for a in range(kh)
            for b in range(kw)
        )
        first = f"Y_{{0,0}} = {terms} = {num(_plain(y[0][0]))}"
        zh.append(f"例如左上角：${first}$；窗口按步长 {p.stride} 滑动，依次算出其余元素。")
        en.append(
            f"For example the top-left entry: ${first}$; slide the window with stride {p.stride} for the others."
        )
        zh.append(f"$Y = {tex_matrix(_plain_rows(y))}$。")
        en.append(f"$Y = {tex_matrix(_plain_rows(y))}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[CrossCorrelationParams]]:
        return [
            Misconception(
                "flipped_kernel",
                bi(
                    "互相关（卷积神经网络里的“卷积”）不翻转卷积核；只有数学意义上的卷积才把卷积核旋转 180°。",
                    "Cross-correlation (the “convolution” of CNNs) does not flip the kernel; only the "
                    "mathematical convolution rotates it by 180°.",
                ),
                lambda p: {} if p.flip else {"output": _answer(p, kernel=rotate180(_matrices(p)[1]))},
            ),
            Misconception(
                "did_not_flip",
                bi(
                    "数学意义上的卷积要先把卷积核旋转 180°（上下、左右都翻转），再滑动求和；不翻转的是互相关。",
                    "A convolution first rotates the kernel by 180° (up-down and left-right) and then slides it; "
                    "without the flip it is a cross-correlation.",
                ),
                lambda p: {"output": _answer(p, kernel=_matrices(p)[1])} if p.flip else {},
            ),
            Misconception(
                "flipped_up_down_only",
                bi(
                    "旋转 180° 要同时上下翻转和左右翻转；你只上下翻转了。",
                    "Rotating by 180° flips both up-down and left-right; you only flipped up-down.",
                ),
                lambda p: {"output": _answer(p, kernel=_matrices(p)[1][::-1])} if p.flip else {},
            ),
            Misconception(
                "flipped_left_right_only",
                bi(
                    "旋转 180° 要同时上下翻转和左右翻转；你只左右翻转了。",
                    "Rotating by 180° flips both up-down and left-right; you only flipped left-right.",
                ),
                lambda p: {"output": _answer(p, kernel=[r[::-1] for r in _matrices(p)[1]])} if p.flip else {},
            ),
            Misconception(
                "ignored_padding",
                bi(
                    "别忘了先在输入四周补 0，输出因此更大。",
                    "Pad the input with zeros on every side first; the output is larger for it.",
                ),
                lambda p: {"output": _answer(p, padding=0)} if p.padding and _fits_unpadded(p) else {},
            ),
            Misconception(
                "ignored_stride",
                bi(
                    "步长为 S 时窗口每次移动 S 格，只在这些位置计算输出。",
                    "With stride S the window moves S steps at a time; outputs exist only at those positions.",
                ),
                lambda p: {"output": _answer(p, stride=1)} if p.stride > 1 else {},
            ),
        ]
