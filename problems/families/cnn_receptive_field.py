"""cnn.receptive_field: the receptive field of a unit after a stack of conv/pooling layers (seeds/003 5. CNN)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Annotated

import numpy as np
from pydantic import Field

from grader import AnswerError, AnswerSpec, Verdict, grade, read
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.registry import register

MAX_LAYERS = 12
MAX_KERNEL = 15
MAX_STRIDE = 8


class RFLayer(Params):
    kernel_size: int = Field(strict=True, ge=1, le=MAX_KERNEL, description="square kernel k")
    stride: int = Field(default=1, strict=True, ge=1, le=MAX_STRIDE, description="stride s")


class ReceptiveFieldParams(Params):
    layers: Annotated[
        list[RFLayer],
        Field(min_length=1, max_length=MAX_LAYERS, description="conv/pooling layers from the input up"),
    ]


def receptive_field(layers: list[RFLayer]) -> int:
    """r_L = 1 + sum_i (k_i - 1) * (s_1 * ... * s_{i-1}): each layer widens by k-1 steps of its input grid."""
    r, jump = 1, 1
    for layer in layers:
        r += (layer.kernel_size - 1) * jump
        jump *= layer.stride
    return r


NOT_SQUARE = bi(
    "这里的卷积核都是方形的，感受野也是方形：只需答边长，如 7。",
    "Every kernel here is square, so the field is square too: give its side, e.g. 7.",
)

# A conv layer or a pooling layer, as the statement names them.
_CONV = [(3, 1), (3, 1), (3, 1), (5, 1), (7, 2), (3, 2), (1, 1), (5, 2)]
_POOL = [(2, 2), (2, 2), (3, 2)]


@register
class ReceptiveField(Family[ReceptiveFieldParams]):
    id = "cnn.receptive_field"
    version = 1
    title = bi("多层卷积后的感受野", "Receptive field after stacked convolutions")
    difficulty = 2
    tags = ("cnn", "receptive_field")
    Params = ReceptiveFieldParams

    def generate(self, rng: np.random.Generator) -> ReceptiveFieldParams:
        while True:  # a handful of draws at most: redraw stacks where strides play no part
            count = int(rng.integers(2, 7))
            layers = []
            for _ in range(count):
                table = _POOL if rng.random() < 0.3 else _CONV
                k, s = table[int(rng.integers(0, len(table)))]
                layers.append(RFLayer(kernel_size=k, stride=s))
            # Strides must matter: some layer with k > 1 sits above a stride > 1.
            if any(
                layer.kernel_size > 1 and any(x.stride > 1 for x in layers[:i])
                for i, layer in enumerate(layers)
            ):
                return ReceptiveFieldParams(layers=layers)

    def parts(self, p: ReceptiveFieldParams) -> list[Part]:
        return [
            Part(
                "receptive_field",
                AnswerSpec("integer"),
                bi(
                    "最后一层一个神经元在输入图像上的感受野边长（像素）",
                    "side of the receptive field on the input (pixels)",
                ),
                bi("一个整数，如 7（表示 7×7）", "an integer, e.g. 7 (meaning 7×7)"),
            )
        ]

    def solve(self, p: ReceptiveFieldParams) -> dict[str, str]:
        return {"receptive_field": str(receptive_field(p.layers))}

    def grade_part(
        self, p: ReceptiveFieldParams, part: Part, answer: str, reference: str, lang: str
    ) -> Verdict:
        # "7×7", "7x7" or [7, 7] name the square field the statement describes: judge its side.
        try:
            dims = read(answer, AnswerSpec("shape")).value
        except AnswerError:
            dims = ()
        if len(dims) == 2:
            if dims[0] != dims[1]:
                return Verdict(
                    False, 0.0, NOT_SQUARE.get(lang, NOT_SQUARE["en"]), f"{dims[0]}×{dims[1]}", "wrong"
                )
            return replace(
                grade(str(dims[0]), reference, part.spec, lang), interpreted=f"{dims[0]}×{dims[1]}"
            )
        return super().grade_part(p, part, answer, reference, lang)

    def statement(self, p: ReceptiveFieldParams) -> Text:
        rows = "\n".join(
            f"| {i} | ${layer.kernel_size} \\times {layer.kernel_size}$ | {layer.stride} |"
            for i, layer in enumerate(p.layers, 1)
        )
        return bi(
            "一个卷积网络从输入图像开始依次堆叠下表中的卷积层或汇聚层（方形卷积核，无空洞；填充不影响感受野大小）：\n\n"
            f"| 层 | 卷积核 | 步长 |\n|---|---|---|\n{rows}\n\n"
            f"最后一层（第 {len(p.layers)} 层）输出特征图上的一个神经元，在输入图像上的感受野是多大？"
            "（答边长，如 7 表示 $7 \\times 7$）",
            "A convolutional network stacks the conv or pooling layers of the table on the input image, in this "
            "order (square kernels, no dilation; padding does not change the receptive field's size):\n\n"
            f"| layer | kernel | stride |\n|---|---|---|\n{rows}\n\n"
            f"How large is the receptive field, on the input image, of one unit of the last layer's "
            f"(layer {len(p.layers)}'s) output? (Give the side, e.g. 7 for $7 \\times 7$.)",
        )

    def solution(self, p: ReceptiveFieldParams) -> dict[str, list[str]]:
        zh = [
            "从输入往上逐层计算：$r_0 = 1$，$j_0 = 1$（$j$ 是相邻两个神经元在输入上相隔的像素数）；"
            "每层 $r_i = r_{i-1} + (k_i - 1) \\times j_{i-1}$，$j_i = j_{i-1} \\times s_i$。"
        ]
        en = [
            "Work up from the input: $r_0 = 1$, $j_0 = 1$ ($j$ is how many input pixels apart two neighbouring "
            "units are); each layer gives $r_i = r_{i-1} + (k_i - 1) \\times j_{i-1}$ and $j_i = j_{i-1} \\times s_i$."
        ]
        r, jump = 1, 1
        for i, layer in enumerate(p.layers, 1):
            k, s = layer.kernel_size, layer.stride
            new_r, new_jump = r + (k - 1) * jump, jump * s
            step = f"r_{{{i}}} = {r} + ({k} - 1) \\times {jump} = {new_r}, \\quad j_{{{i}}} = {jump} \\times {s} = {new_jump}"
            zh.append(f"第 {i} 层：${step}$。")
            en.append(f"Layer {i}: ${step}$.")
            r, jump = new_r, new_jump
        zh.append(f"感受野为 ${r} \\times {r}$，答 {r}。")
        en.append(f"The receptive field is ${r} \\times {r}$: the answer is {r}.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[ReceptiveFieldParams]]:
        return [
            Misconception(
                "ignored_strides",
                bi(
                    "步长会放大后面各层的感受野增量：第 i 层的 (k_i − 1) 要乘以它之前所有层步长的乘积。",
                    "Strides magnify what later layers add: layer i's (k_i − 1) is multiplied by the product of "
                    "the strides of all layers before it.",
                ),
                lambda p: {"receptive_field": str(1 + sum(x.kernel_size - 1 for x in p.layers))},
            ),
            Misconception(
                "included_own_stride",
                bi(
                    "第 i 层的 (k_i − 1) 乘的是它之前各层（不含第 i 层）的步长乘积；本层的步长只影响更上面的层。",
                    "Layer i's (k_i − 1) is multiplied by the strides of the layers before it, not its own; its "
                    "own stride only affects the layers above.",
                ),
                lambda p: {
                    "receptive_field": str(
                        1
                        + sum(
                            (x.kernel_size - 1) * math.prod(y.stride for y in p.layers[: i + 1])
                            for i, x in enumerate(p.layers)
                        )
                    )
                },
            ),
            Misconception(
                "area_not_side",
                bi(
                    "题目问的是感受野的边长 r（区域为 r×r），不是面积 r²。",
                    "The question asks for the side r of the field (an r×r region), not its area r².",
                ),
                lambda p: {"receptive_field": str(receptive_field(p.layers) ** 2)},
            ),
            Misconception(
                "summed_kernels",
                bi(
                    "相邻窗口是重叠的：每层增加 (k − 1)×(之前各层步长之积)，而不是直接把各层卷积核大小相加。",
                    "Neighbouring windows overlap: each layer adds (k − 1)×(product of earlier strides), not its "
                    "whole kernel size.",
                ),
                lambda p: {"receptive_field": str(sum(x.kernel_size for x in p.layers))},
            ),
        ]
