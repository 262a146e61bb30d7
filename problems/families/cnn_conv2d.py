"""cnn.conv2d: output shape, parameters, connections and MACs of one convolutional layer (seeds/003, 000 2.1)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.families.cnn_common import (
    Pair,
    conv_out,
    divides,
    effective_kernel,
    pair,
    py_arg,
    size_formula,
    size_rule,
)
from problems.fmt import shape
from problems.registry import register

MAX_SIZE = 4096
MAX_CHANNELS = 4096
MAX_KERNEL = 64
MAX_STRIDE = 16
MAX_PADDING = 64
MAX_DILATION = 16

KernelInt = Annotated[int, Field(strict=True, ge=1, le=MAX_KERNEL)]
StrideInt = Annotated[int, Field(strict=True, ge=1, le=MAX_STRIDE)]
PaddingInt = Annotated[int, Field(strict=True, ge=0, le=MAX_PADDING)]
DilationInt = Annotated[int, Field(strict=True, ge=1, le=MAX_DILATION)]


class Conv2dParams(Params):
    in_channels: int = Field(strict=True, ge=1, le=MAX_CHANNELS, description="input channels C_in")
    height: int = Field(strict=True, ge=1, le=MAX_SIZE, description="input height H")
    width: int = Field(strict=True, ge=1, le=MAX_SIZE, description="input width W")
    out_channels: int = Field(strict=True, ge=1, le=MAX_CHANNELS, description="number of filters C_out")
    kernel_size: KernelInt | tuple[KernelInt, KernelInt] = Field(description="k or [k_h, k_w]")
    stride: StrideInt | tuple[StrideInt, StrideInt] = Field(default=1, description="s or [s_h, s_w]")
    padding: PaddingInt | tuple[PaddingInt, PaddingInt] = Field(
        default=0, description="zeros added on each side: p or [p_h, p_w]"
    )
    dilation: DilationInt | tuple[DilationInt, DilationInt] = Field(default=1, description="d or [d_h, d_w]")
    bias: bool = Field(default=True, strict=True, description="each filter has a bias (PyTorch default)")

    @model_validator(mode="after")
    def _check(self) -> Conv2dParams:
        for axis, n, k, p, d in zip(
            ("height", "width"),
            (self.height, self.width),
            pair(self.kernel_size),
            pair(self.padding),
            pair(self.dilation),
            strict=True,
        ):
            span = effective_kernel(k, d)
            if span > n + 2 * p:
                raise ValueError(
                    f"kernel_size: along the {axis} the kernel spans {span} {plural(span, 'pixel', 'pixels')} (dilation included), "
                    f"larger than the padded input {n} + 2*{p} = {n + 2 * p}"
                )
        return self


class Geometry:
    """The per-axis numbers of an instance, named as on paper."""

    def __init__(self, p: Conv2dParams) -> None:
        self.k, self.s, self.pad, self.d = (
            pair(p.kernel_size),
            pair(p.stride),
            pair(p.padding),
            pair(p.dilation),
        )
        self.n = (p.height, p.width)

    def out(self, rule: Callable[[int, int, int, int, int], int] = conv_out) -> Pair:
        h, w = (rule(self.n[i], self.k[i], self.s[i], self.pad[i], self.d[i]) for i in (0, 1))
        return (h, w)


def _weights(p: Conv2dParams) -> int:
    kh, kw = pair(p.kernel_size)
    return p.out_channels * p.in_channels * kh * kw


def _num_params(p: Conv2dParams) -> int:
    return _weights(p) + (p.out_channels if p.bias else 0)


def _answers(p: Conv2dParams, hw: Pair, num_params: int) -> dict[str, str]:
    """All four answers for given output sizes and parameter count (a misconception may change either)."""
    kh, kw = pair(p.kernel_size)
    plane = hw[0] * hw[1]
    return {
        "output_shape": shape([p.out_channels, *hw]),
        "num_params": str(num_params),
        "num_connections": str(num_params * plane),
        "macs": str(p.out_channels * plane * p.in_channels * kh * kw),
    }


def _wrong_sizes(p: Conv2dParams, rule: Callable[[int, int, int, int, int], int]) -> dict[str, str]:
    """The answers a student gets from a wrong size formula (nothing if it gives no output at all)."""
    hw = Geometry(p).out(rule)
    if min(hw) < 1:
        return {}
    alt = _answers(p, hw, _num_params(p))
    del alt["num_params"]
    return alt


@register
class Conv2d(Family[Conv2dParams]):
    id = "cnn.conv2d"
    version = 1
    title = bi(
        "卷积层的输出尺寸、参数量、连接数与计算量",
        "Output size, parameters, connections and MACs of a conv layer",
    )
    difficulty = 1
    tags = ("cnn", "conv2d", "num_params", "output_shape")
    Params = Conv2dParams

    def generate(self, rng: np.random.Generator) -> Conv2dParams:
        square = rng.random() < 0.85
        kh = int(rng.choice([1, 3, 3, 3, 5, 5, 7, 9, 11]))
        kw = kh if square else int(rng.choice([x for x in (1, 3, 5, 7) if x != kh]))
        d = 2 if (min(kh, kw) > 1 and rng.random() < 0.12) else 1
        s = int(rng.choice([1, 1, 2, 2, 2, 3, 4] if kh > 1 else [1, 1, 2]))
        max_pad_h = effective_kernel(kh, d) // 2
        if rng.random() < 0.5:
            # A textbook input size (97, 224, ...); find a padding that makes the stride fit.
            height = int(rng.choice([28, 32, 55, 64, 96, 97, 112, 128, 224, 227]))
            pads = [q for q in range(max_pad_h + 1) if divides(height, kh, s, q, d)]
            if not pads:
                s, pads = 1, list(range(max_pad_h + 1))
            ph = int(rng.choice(pads))
        else:
            # Pick the output size, then the input that gives it exactly.
            ph = int(rng.integers(0, max_pad_h + 1))
            height = (int(rng.integers(4, 61)) - 1) * s + effective_kernel(kh, d) - 2 * ph
        if square and rng.random() < 0.8:
            pw, width = ph, height
        else:
            pw = ph if square else (effective_kernel(kw, d) - 1) // 2
            width = (int(rng.integers(4, 61)) - 1) * s + effective_kernel(kw, d) - 2 * pw
        return Conv2dParams(
            in_channels=int(rng.choice([1, 1, 3, 3, 3, 6, 16, 32, 64])),
            height=height,
            width=width,
            out_channels=int(rng.choice([4, 6, 8, 12, 15, 16, 32, 64, 96, 128])),
            # 002 writes kernel_size=(3,3): sometimes give a square kernel as a pair too.
            kernel_size=kh if kh == kw and rng.random() < 0.85 else (kh, kw),
            stride=s,
            padding=ph if ph == pw else (ph, pw),
            dilation=d,
            bias=bool(rng.random() < 0.8),
        )

    def form(self, p: Conv2dParams) -> Hashable:
        # One size formula or two (height and width differ in any of their numbers), dilation's extra
        # step, and the bias in the counts. kernel_size=3 and (3, 3) are the same question.
        rows, cols = zip(pair(p.kernel_size), pair(p.stride), pair(p.padding), pair(p.dilation), strict=True)
        return (p.height, *rows) == (p.width, *cols), pair(p.dilation) != (1, 1), p.bias

    def parts(self, p: Conv2dParams) -> list[Part]:
        integer = bi(
            "一个整数，可写算式，如 15*(9*9*3+1)", "an integer; arithmetic is fine, e.g. 15*(9*9*3+1)"
        )
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
                integer,
            ),
            Part(
                "num_connections",
                AnswerSpec("integer"),
                bi("连接数", "number of connections"),
                integer,
            ),
            Part(
                "macs",
                AnswerSpec("integer"),
                bi("每个样本的乘加运算次数（MACs）", "multiply-accumulates (MACs) per sample"),
                integer,
            ),
        ]

    def solve(self, p: Conv2dParams) -> dict[str, str]:
        return _answers(p, Geometry(p).out(), _num_params(p))

    def statement(self, p: Conv2dParams) -> Text:
        desc = _describe(p)
        code = _code(p)
        return bi(
            f"卷积层 `{code}` 的输入特征图形状为 $[C, H, W] = [{p.in_channels}, {p.height}, {p.width}]$"
            f"（单个样本，通道在前）。即：{desc['zh']}。\n\n"
            f"求：(1) 输出特征图的形状 $[C, H, W]$；(2) 该卷积层的可学习参数量；"
            f"(3) 连接数（按教材约定：连接数 = 参数个数 $\\times$ 输出特征图平面大小 $H' \\times W'$）；"
            f"(4) 处理一个样本的乘加运算次数 MACs（每个权重在每个输出位置做一次乘加，偏置的加法不计）。"
            f"输出尺寸不是整数时按 PyTorch 向下取整。",
            f"The convolutional layer `{code}` takes an input feature map of shape "
            f"$[C, H, W] = [{p.in_channels}, {p.height}, {p.width}]$ (one sample, channels first). "
            f"That is: {desc['en']}.\n\n"
            f"Find: (1) the shape $[C, H, W]$ of the output feature map; (2) the number of learnable "
            f"parameters of the layer; (3) the number of connections (textbook convention: connections = "
            f"parameters $\\times$ output plane size $H' \\times W'$); (4) the number of multiply-accumulates "
            f"(MACs) for one sample (one per weight per output position; bias additions are not counted). "
            f"Where a size is not a whole number, round down as PyTorch does.",
        )

    def solution(self, p: Conv2dParams) -> dict[str, list[str]]:
        g = Geometry(p)
        h, w = g.out()
        kh, kw = g.k
        n_params = _num_params(p)
        per_filter = f"{p.in_channels} \\times {kh} \\times {kw}" + (" + 1" if p.bias else "")
        params_text = f"{p.out_channels} \\times ({per_filter}) = {n_params}"
        size_steps = _size_steps(g)
        conn = f"{n_params} \\times {h} \\times {w} = {n_params * h * w}"
        macs = f"{p.out_channels} \\times {h} \\times {w} \\times {p.in_channels} \\times {kh} \\times {kw} = {p.out_channels * h * w * p.in_channels * kh * kw}"
        bias_zh = "，加上 1 个偏置" if p.bias else "（无偏置）"
        bias_en = ", plus one bias" if p.bias else " (no bias)"
        return {
            "zh": [
                *size_steps["zh"],
                f"输出通道数等于卷积核个数 {p.out_channels}，所以输出形状为 $[{p.out_channels}, {h}, {w}]$。",
                f"每个卷积核覆盖全部 {p.in_channels} 个输入通道，有 ${p.in_channels} \\times {kh} \\times {kw}$ 个权重{bias_zh}："
                f"参数量 $= {params_text}$。",
                f"连接数 = 参数个数 $\\times$ 输出平面大小：${conn}$。",
                f"MACs = 输出元素个数 $\\times$ 每个输出的乘加数：${macs}$。",
            ],
            "en": [
                *size_steps["en"],
                f"There are as many output channels as filters, {p.out_channels}, so the output shape is "
                f"$[{p.out_channels}, {h}, {w}]$.",
                f"Each filter covers {plural(p.in_channels, 'the', 'all')} {p.in_channels} input {plural(p.in_channels, 'channel', 'channels')}: ${p.in_channels} \\times {kh} \\times {kw}$ "
                f"weights{bias_en}. Parameters $= {params_text}$.",
                f"Connections = parameters $\\times$ output plane size: ${conn}$.",
                f"MACs = output elements $\\times$ multiply-accumulates per output: ${macs}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[Conv2dParams]]:
        return [
            Misconception(
                "forgot_bias",
                bi(
                    "你漏掉了偏置：每个卷积核（输出通道）还有 1 个偏置，参数量 = C_out×(C_in×k_h×k_w + 1)。",
                    "You left out the biases: each filter (output channel) has one bias, so the count is "
                    "C_out×(C_in×k_h×k_w + 1).",
                ),
                # Its connections follow (params without bias x plane): connections_without_bias explains those.
                lambda p: _only_if(p.bias, {"num_params": str(_weights(p))}),
            ),
            Misconception(
                "added_missing_bias",
                bi(
                    "这一层没有偏置（bias=False）：参数量只有权重 C_out×C_in×k_h×k_w，不要再加每个卷积核的 1 个偏置。",
                    "This layer has no bias (bias=False): the parameters are the weights C_out×C_in×k_h×k_w only; "
                    "do not add one bias per filter.",
                ),
                # The connections follow the count (params x plane); the MACs never count biases.
                lambda p: _only_if(
                    not p.bias,
                    {
                        "num_params": str(_weights(p) + p.out_channels),
                        "num_connections": str((_weights(p) + p.out_channels) * _plane(p)),
                    },
                ),
            ),
            Misconception(
                "forgot_in_channels",
                bi(
                    "每个卷积核覆盖全部 C_in 个输入通道，大小是 C_in×k_h×k_w，而不是 k_h×k_w。",
                    "Each filter spans all C_in input channels: it has C_in×k_h×k_w weights, not k_h×k_w.",
                ),
                _without_in_channels,
            ),
            Misconception(
                "ignored_dilation",
                bi(
                    "空洞卷积的卷积核实际跨度是 d(k−1)+1，不是 k。",
                    "A dilated kernel spans d(k−1)+1 pixels, not k.",
                ),
                lambda p: _wrong_sizes(p, lambda n, k, s, q, d: (n + 2 * q - k) // s + 1),
            ),
            Misconception(
                "dilation_times_kernel",
                bi(
                    "空洞卷积的卷积核实际跨度是 d(k−1)+1，不是 d×k。",
                    "A dilated kernel spans d(k−1)+1 pixels, not d×k.",
                ),
                lambda p: _wrong_sizes(p, lambda n, k, s, q, d: (n + 2 * q - d * k) // s + 1),
            ),
            Misconception(
                "padding_counted_once",
                bi(
                    "填充加在两侧：高和宽各加 2P，而不是 P。",
                    "Padding is added on both sides: the height and width grow by 2P, not P.",
                ),
                lambda p: _wrong_sizes(p, lambda n, k, s, q, d: (n + q - effective_kernel(k, d)) // s + 1),
            ),
            Misconception(
                "forgot_plus_one",
                bi(
                    "输出尺寸公式末尾有 +1：(H + 2P − K)/S + 1（第一个窗口位置本身就是一个输出）。",
                    "The size formula ends in +1: (H + 2P − K)/S + 1 (the first window position is itself an output).",
                ),
                lambda p: _wrong_sizes(p, lambda n, k, s, q, d: (n + 2 * q - effective_kernel(k, d)) // s),
            ),
            Misconception(
                "rounded_up",
                bi(
                    "输出尺寸向下取整：最后放不下一个完整窗口的行列被丢弃，⌊(H + 2P − K)/S⌋ + 1，不是向上取整。",
                    "The output size rounds down: rows and columns where no whole window fits are dropped, "
                    "⌊(H + 2P − K)/S⌋ + 1, not rounded up.",
                ),
                lambda p: _wrong_sizes(
                    p, lambda n, k, s, q, d: -(-(n + 2 * q - effective_kernel(k, d)) // s) + 1
                ),
            ),
            Misconception(
                "ignored_stride",
                bi(
                    "步长为 S 时窗口每次移动 S 个像素，要除以 S：(H + 2P − K)/S + 1。",
                    "With stride S the window moves S pixels at a time: divide by S, (H + 2P − K)/S + 1.",
                ),
                lambda p: _wrong_sizes(p, lambda n, k, s, q, d: n + 2 * q - effective_kernel(k, d) + 1),
            ),
            Misconception(
                "connections_without_bias",
                bi(
                    "按教材约定，连接数 = 参数个数（含偏置）× 输出平面大小 H'×W'；偏置也算一条连接。",
                    "By the textbook convention connections = parameters (biases included) × output plane "
                    "size H'×W'; each bias is a connection too.",
                ),
                lambda p: _only_if(p.bias, {"num_connections": str(_weights(p) * _plane(p))}),
            ),
            Misconception(
                "connections_times_out_channels",
                bi(
                    "连接数 = 参数个数 × 输出平面大小 H'×W'；参数个数已含全部输出通道，不要再乘 C_out。",
                    "Connections = parameters × output plane size H'×W'; the parameters already cover every "
                    "output channel, so do not multiply by C_out again.",
                ),
                lambda p: _only_if(
                    p.out_channels > 1,
                    {"num_connections": str(_num_params(p) * _plane(p) * p.out_channels)},
                ),
            ),
            Misconception(
                "macs_as_flops",
                bi(
                    "你把乘法和加法分开计数了（FLOPs ≈ 2×MACs）；一次乘加（MAC）只算一次。",
                    "You counted multiplications and additions separately (FLOPs ≈ 2×MACs); a multiply-"
                    "accumulate (MAC) counts once.",
                ),
                lambda p: {"macs": str(2 * int(self.solve(p)["macs"]))},
            ),
            Misconception(
                "macs_counted_bias",
                bi(
                    "偏置的加法不是乘加运算；MACs = C_out×H'×W'×C_in×k_h×k_w。",
                    "Adding the bias is not a multiply-accumulate; MACs = C_out×H'×W'×C_in×k_h×k_w.",
                ),
                lambda p: {"macs": str(int(self.solve(p)["macs"]) + p.out_channels * _plane(p))},
            ),
        ]


def _plane(p: Conv2dParams) -> int:
    h, w = Geometry(p).out()
    return h * w


def _only_if(condition: bool, answers: dict[str, str]) -> dict[str, str]:
    """A misconception's answers when it applies to the instance (else it has nothing to say)."""
    return answers if condition else {}


def _without_in_channels(p: Conv2dParams) -> dict[str, str]:
    """The counts of a student who gives each filter k_h x k_w weights, forgetting the input channels."""
    if p.in_channels == 1:
        return {}
    kh, kw = pair(p.kernel_size)
    n = p.out_channels * (kh * kw + (1 if p.bias else 0))
    plane = _plane(p)
    return {
        "num_params": str(n),
        "num_connections": str(n * plane),
        "macs": str(p.out_channels * plane * kh * kw),
    }


def _code(p: Conv2dParams) -> str:
    args = [
        f"in_channels={p.in_channels}",
        f"out_channels={p.out_channels}",
        f"kernel_size={py_arg(p.kernel_size)}",
    ]
    for name, value, default in (
        ("stride", p.stride, 1),
        ("padding", p.padding, 0),
        ("dilation", p.dilation, 1),
    ):
        if pair(value) != (default, default):
            args.append(f"{name}={py_arg(value)}")
    if not p.bias:
        args.append("bias=False")
    return f"nn.Conv2d({', '.join(args)})"


def _per_axis(v: int | tuple[int, int], zh: str, en: str) -> Text:
    """'stride 2' or 'stride 2 along the height and 1 along the width'."""
    h, w = pair(v)
    if h == w:
        return bi(f"{zh} {h}", f"{en} {h}")
    return bi(f"{zh}高方向 {h}、宽方向 {w}", f"{en} {h} along the height and {w} along the width")


def _describe(p: Conv2dParams) -> Text:
    kh, kw = pair(p.kernel_size)
    ph, pw = pair(p.padding)
    zh = [f"{p.out_channels} 个 ${kh} \\times {kw}$ 的卷积核（高 $\\times$ 宽）"]
    en = [
        f"{p.out_channels} {plural(p.out_channels, 'filter', 'filters')} of size ${kh} \\times {kw}$ (height $\\times$ width)"
    ]
    stride = _per_axis(p.stride, "步长", "stride")
    zh.append(stride["zh"])
    en.append(stride["en"])
    if (ph, pw) == (0, 0):
        zh.append("无填充")
        en.append("no zero padding")
    elif ph == pw:
        zh.append(f"四周各补 {ph} 圈 0")
        en.append(f"zero padding of {ph} on each side")
    else:
        zh.append(f"上下各补 {ph} 行 0、左右各补 {pw} 列 0")
        en.append(f"zero padding of {ph} (top and bottom) and {pw} (left and right)")
    if pair(p.dilation) != (1, 1):
        dil = _per_axis(p.dilation, "空洞率（dilation）为", "dilation")
        zh.append(dil["zh"])
        en.append(dil["en"])
    zh.append("带偏置" if p.bias else "不使用偏置")
    en.append("with biases" if p.bias else "without biases")
    return bi("，".join(zh), ", ".join(en))


def _size_steps(g: Geometry) -> dict[str, list[str]]:
    zh: list[str] = []
    en: list[str] = []
    axes = [("高", "height", "H'", "H", 0), ("宽", "width", "W'", "W", 1)]
    if len({(g.n[i], g.k[i], g.s[i], g.pad[i], g.d[i]) for i in (0, 1)}) == 1:
        axes = [("高和宽", "height and width", "H' = W'", "H", 0)]
    for axis_zh, axis_en, sym, n, i in axes:
        if g.d[i] > 1:
            span = f"{g.d[i]} \\times ({g.k[i]} - 1) + 1 = {effective_kernel(g.k[i], g.d[i])}"
            zh.append(f"{axis_zh}方向卷积核的实际跨度为 $d(k-1)+1 = {span}$。")
            en.append(
                f"Along the {axis_en} the dilated kernel spans $d(k-1)+1 = {span}$ {plural(span, 'pixel', 'pixels')}."
            )
        formula = size_formula(g.n[i], g.k[i], g.s[i], g.pad[i], g.d[i])
        zh.append(f"{axis_zh}：${sym} = {size_rule(n)} = {formula}$。")
        en.append(f"The {axis_en}: ${sym} = {size_rule(n)} = {formula}$.")
    return {"zh": zh, "en": en}
