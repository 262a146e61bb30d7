"""cnn.pool2d: output shape and (no) parameters of a max or average pooling layer (seeds/000 2.1, 002 1.3)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec, Verdict
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.families.cnn_common import SIZE_RULE, Pair, divides, pair, pool_out, py_arg, size_formula
from problems.fmt import shape
from problems.registry import register

MAX_SIZE = 4096
MAX_CHANNELS = 4096
MAX_KERNEL = 32
MAX_STRIDE = 32

KernelInt = Annotated[int, Field(strict=True, ge=1, le=MAX_KERNEL)]
StrideInt = Annotated[int, Field(strict=True, ge=1, le=MAX_STRIDE)]
PaddingInt = Annotated[int, Field(strict=True, ge=0, le=MAX_KERNEL // 2)]

Rule = Callable[[int, int, int, int], int]  # (n, k, s, p) -> output length


class Pool2dParams(Params):
    in_channels: int = Field(strict=True, ge=1, le=MAX_CHANNELS, description="channels C")
    height: int = Field(strict=True, ge=1, le=MAX_SIZE, description="input height H")
    width: int = Field(strict=True, ge=1, le=MAX_SIZE, description="input width W")
    kernel_size: KernelInt | tuple[KernelInt, KernelInt] = Field(description="k or [k_h, k_w]")
    stride: StrideInt | tuple[StrideInt, StrideInt] | None = Field(
        default=None, description="s or [s_h, s_w]; left out it equals kernel_size (PyTorch)"
    )
    padding: PaddingInt | tuple[PaddingInt, PaddingInt] = Field(
        default=0, description="p or [p_h, p_w] on each side, at most half the kernel (PyTorch)"
    )
    kind: Literal["max", "avg"] = Field(default="max", description="max or average pooling")

    @model_validator(mode="after")
    def _check(self) -> Pool2dParams:
        for axis, n, k, p, s in zip(
            ("height", "width"),
            (self.height, self.width),
            pair(self.kernel_size),
            pair(self.padding),
            _stride(self),
            strict=True,
        ):
            if p > k // 2:
                raise ValueError(
                    f"padding: {p} along the {axis} is more than half the kernel size {k} (PyTorch rule)"
                )
            if pool_out(n, k, s, p) < 1:
                raise ValueError(
                    f"kernel_size: {k} along the {axis} is larger than the padded input {n} + 2*{p} = {n + 2 * p}"
                )
        return self


def _stride(p: Pool2dParams) -> Pair:
    return pair(p.kernel_size if p.stride is None else p.stride)


def _out(p: Pool2dParams, rule: Rule = pool_out) -> Pair:
    k, s, q, n = pair(p.kernel_size), _stride(p), pair(p.padding), (p.height, p.width)
    h, w = (rule(n[i], k[i], s[i], q[i]) for i in (0, 1))
    return (h, w)


def _wrong_shape(p: Pool2dParams, rule: Rule, channels: int | None = None) -> dict[str, str]:
    hw = _out(p, rule)
    if min(hw) < 1:
        return {}
    return {"output_shape": shape([p.in_channels if channels is None else channels, *hw])}


# (kernel, stride or None for the default, padding): the configurations nets actually use.
CONFIGS: list[tuple[int, int | None, int]] = [
    (2, None, 0),
    (2, 2, 0),
    (3, 2, 0),
    (3, 2, 1),
    (3, 1, 1),
    (3, None, 0),
    (4, None, 0),
    (5, 3, 2),
]

NO_PARAMS = bi(
    "汇聚（池化）层没有可学习参数：取最大值或平均值是固定的运算，没有权重和偏置，参数量为 0。",
    "A pooling layer has no learnable parameters: taking the max or the mean is a fixed operation with "
    "no weights or biases, so the count is 0.",
)


@register
class Pool2d(Family[Pool2dParams]):
    id = "cnn.pool2d"
    version = 1
    title = bi("汇聚（池化）层的输出尺寸与参数量", "Output size and parameters of a pooling layer")
    difficulty = 1
    tags = ("cnn", "pooling", "output_shape")
    Params = Pool2dParams

    def generate(self, rng: np.random.Generator) -> Pool2dParams:
        if rng.random() < 0.3:
            # Seeds' sizes: 26 -> 13 (000 2.1), 222 -> 111 (002 1.3), LeNet 28 -> 14 ...
            height = int(rng.choice([10, 13, 14, 26, 27, 28, 32, 55, 56, 111, 112, 222, 224]))
            fits = [c for c in CONFIGS if divides(height, c[0], c[0] if c[1] is None else c[1], c[2])]
            k, s, q = fits[int(rng.integers(0, len(fits)))]
            step = k if s is None else s
        else:
            k, s, q = CONFIGS[int(rng.integers(0, len(CONFIGS)))]
            step = k if s is None else s
            height = (int(rng.integers(3, 57)) - 1) * step + k - 2 * q
            if step > 1 and rng.random() < 0.15:
                height += int(rng.integers(1, step))  # leftover rows: PyTorch rounds down
        width = height if rng.random() < 0.85 else height + int(rng.integers(1, 5)) * step
        return Pool2dParams(
            in_channels=int(rng.choice([1, 3, 6, 16, 32, 64, 96, 128, 256])),
            height=height,
            width=width,
            kernel_size=k if rng.random() < 0.8 else (k, k),
            stride=s,
            padding=q,
            kind="max" if rng.random() < 0.7 else "avg",
        )

    def form(self, p: Pool2dParams) -> Hashable:
        # Max or average, a stride left to its default (= kernel_size), and one size formula or two;
        # kernel_size=2 and (2, 2) are the same question.
        rows, cols = zip(pair(p.kernel_size), pair(p.stride or p.kernel_size), pair(p.padding), strict=True)
        return p.kind, p.stride is None, (p.height, *rows) == (p.width, *cols)

    def parts(self, p: Pool2dParams) -> list[Part]:
        return [
            Part(
                "output_shape",
                AnswerSpec("shape"),
                bi("输出特征图的形状", "shape of the output feature map"),
                bi("[C, H, W]，如 [8, 30, 30]", "[C, H, W], e.g. [8, 30, 30]"),
            ),
            Part(
                "num_params",
                AnswerSpec("integer"),
                bi("可学习参数量", "number of learnable parameters"),
                bi("一个整数", "an integer"),
            ),
        ]

    def solve(self, p: Pool2dParams) -> dict[str, str]:
        return {"output_shape": shape([p.in_channels, *_out(p)]), "num_params": "0"}

    def grade_part(self, p: Pool2dParams, part: Part, answer: str, reference: str, lang: str) -> Verdict:
        v = super().grade_part(p, part, answer, reference, lang)
        # Any count but 0 is the same mistake, so it gets the explanation whatever the number.
        if part.name == "num_params" and not v.correct and v.reason != "parse_error":
            note = NO_PARAMS.get(lang, NO_PARAMS["en"])
            return replace(v, feedback=f"{v.feedback} {note}", reason="pooling_has_params")
        return v

    def statement(self, p: Pool2dParams) -> Text:
        kh, kw = pair(p.kernel_size)
        sh, sw = _stride(p)
        qh, qw = pair(p.padding)
        kind = bi("最大", "max") if p.kind == "max" else bi("平均", "average")
        stride_zh = f"步长 {sh}" if sh == sw else f"步长高方向 {sh}、宽方向 {sw}"
        stride_en = f"stride {sh}" if sh == sw else f"stride {sh} along the height and {sw} along the width"
        if p.stride is None:
            stride_zh += "（未指定 stride 时 PyTorch 取 stride = kernel_size）"
            stride_en += " (PyTorch's default stride is the kernel size)"
        if (qh, qw) == (0, 0):
            pad = bi("无填充", "no padding")
        elif qh == qw:
            pad = bi(f"四周各填充 {qh}", f"padding {qh} on each side")
        else:
            pad = bi(
                f"高方向两侧各填充 {qh}、宽方向两侧各填充 {qw}",
                f"padding {qh} (height) and {qw} (width) on each side",
            )
        return bi(
            f"汇聚层（池化层）`{_code(p)}` 的输入特征图形状为 $[C, H, W] = [{p.in_channels}, {p.height}, {p.width}]$"
            f"（单个样本，通道在前）。即：${kh} \\times {kw}$ 的{kind['zh']}汇聚，{stride_zh}，{pad['zh']}。\n\n"
            f"求：(1) 输出特征图的形状 $[C, H, W]$；(2) 该层的可学习参数量。"
            f"输出尺寸不是整数时按 PyTorch 的默认设置（ceil_mode=False）向下取整。",
            f"The pooling layer `{_code(p)}` takes an input feature map of shape "
            f"$[C, H, W] = [{p.in_channels}, {p.height}, {p.width}]$ (one sample, channels first). That is: "
            f"${kh} \\times {kw}$ {kind['en']} pooling, {stride_en}, {pad['en']}.\n\n"
            f"Find: (1) the shape $[C, H, W]$ of the output feature map; (2) the number of learnable parameters "
            f"of the layer. Where a size is not a whole number, round down as PyTorch does by default "
            f"(ceil_mode=False).",
        )

    def solution(self, p: Pool2dParams) -> dict[str, list[str]]:
        h, w = _out(p)
        k, s, q, n = pair(p.kernel_size), _stride(p), pair(p.padding), (p.height, p.width)
        zh = [f"汇聚在每个通道上分别进行，通道数不变，仍为 {p.in_channels}。"]
        en = [f"Pooling works on each channel separately, so the channels stay {p.in_channels}."]
        if p.stride is None:
            zh.append(f"未指定 stride，PyTorch 取 stride = kernel_size = {py_arg(p.kernel_size)}。")
            en.append(f"No stride is given, so PyTorch uses stride = kernel_size = {py_arg(p.kernel_size)}.")
        if (n[0], k[0], s[0], q[0]) == (n[1], k[1], s[1], q[1]):
            f = size_formula(n[0], k[0], s[0], q[0])
            zh.append(f"高和宽：$H' = W' = {SIZE_RULE} = {f}$。")
            en.append(f"Height and width: $H' = W' = {SIZE_RULE} = {f}$.")
        else:
            fh, fw = (size_formula(n[i], k[i], s[i], q[i]) for i in (0, 1))
            zh.append(f"高：$H' = {fh}$；宽：$W' = {fw}$（$H' = {SIZE_RULE}$）。")
            en.append(f"Height: $H' = {fh}$; width: $W' = {fw}$ ($H' = {SIZE_RULE}$).")
        zh.append(f"输出形状为 $[{p.in_channels}, {h}, {w}]$。")
        en.append(f"The output shape is $[{p.in_channels}, {h}, {w}]$.")
        zh.append("取最大值或平均值是固定运算，没有权重和偏置：参数量为 0。")
        en.append("Taking the max or the mean is a fixed operation without weights or biases: 0 parameters.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[Pool2dParams]]:
        return [
            Misconception(
                "stride_defaults_to_one",
                bi(
                    "nn.MaxPool2d / nn.AvgPool2d 未指定 stride 时，步长默认等于 kernel_size，而不是 1。",
                    "When nn.MaxPool2d / nn.AvgPool2d get no stride, it defaults to kernel_size, not 1.",
                ),
                lambda p: _wrong_shape(p, lambda n, k, s, q: n + 2 * q - k + 1) if p.stride is None else {},
            ),
            Misconception(
                "forgot_plus_one",
                bi(
                    "输出尺寸公式末尾有 +1：(H + 2P − K)/S + 1（第一个窗口位置本身就是一个输出）。",
                    "The size formula ends in +1: (H + 2P − K)/S + 1 (the first window position is itself an output).",
                ),
                lambda p: _wrong_shape(p, lambda n, k, s, q: (n + 2 * q - k) // s),
            ),
            Misconception(
                "padding_counted_once",
                bi(
                    "填充加在两侧：高和宽各加 2P，而不是 P。",
                    "Padding is added on both sides: the height and width grow by 2P, not P.",
                ),
                lambda p: _wrong_shape(p, lambda n, k, s, q: (n + q - k) // s + 1),
            ),
            Misconception(
                "rounded_up",
                bi(
                    "窗口放不下的剩余行列被丢弃：PyTorch 默认 ceil_mode=False，输出尺寸向下取整。",
                    "Rows and columns a window cannot fit are dropped: PyTorch's default ceil_mode=False rounds down.",
                ),
                lambda p: _wrong_shape(p, lambda n, k, s, q: -(-(n + 2 * q - k) // s) + 1),
            ),
            Misconception(
                "channels_changed",
                bi(
                    "汇聚在每个通道上分别进行，不跨通道合并：输出通道数等于输入通道数。",
                    "Pooling works on each channel separately and never merges channels: the output has as "
                    "many channels as the input.",
                ),
                lambda p: _wrong_shape(p, pool_out, channels=1) if p.in_channels > 1 else {},
            ),
        ]


def _code(p: Pool2dParams) -> str:
    args = [f"kernel_size={py_arg(p.kernel_size)}"]
    if p.stride is not None:
        args.append(f"stride={py_arg(p.stride)}")
    if pair(p.padding) != (0, 0):
        args.append(f"padding={py_arg(p.padding)}")
    return f"nn.{'MaxPool2d' if p.kind == 'max' else 'AvgPool2d'}({', '.join(args)})"
