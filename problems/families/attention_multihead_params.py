"""attention.multihead_params: the parameter count of PyTorch's nn.MultiheadAttention."""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, bi
from problems.registry import register


class MultiheadParamsParams(Params):
    embed_dim: int = Field(ge=1, le=16384, description="model dimension E")
    num_heads: int = Field(ge=1, le=256, description="number of heads h (E divisible by h)")
    bias: bool = Field(default=True, description="projections have biases (PyTorch default)")

    @model_validator(mode="after")
    def _check(self) -> MultiheadParamsParams:
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"num_heads: embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}"
            )
        return self


def _projection(e: int, bias: bool) -> int:
    """One E x E linear map, with its bias if any."""
    return e * e + (e if bias else 0)


@register
class MultiheadParams(Family[MultiheadParamsParams]):
    id = "attention.multihead_params"
    version = 1
    title = bi("多头注意力层的参数量", "Parameters of a multi-head attention layer")
    difficulty = 1
    tags = ("attention", "multi_head", "num_params")
    Params = MultiheadParamsParams

    def generate(self, rng: np.random.Generator) -> MultiheadParamsParams:
        e = int(rng.choice([16, 32, 64, 128, 256, 512, 768, 1024]))
        heads = [h for h in (2, 4, 8, 12, 16) if e % h == 0 and e // h >= 4]
        return MultiheadParamsParams(
            embed_dim=e, num_heads=int(rng.choice(heads)), bias=bool(rng.random() < 0.75)
        )

    def parts(self, p: MultiheadParamsParams) -> list[Part]:
        return [
            Part(
                "num_params",
                AnswerSpec("integer"),
                bi("可学习参数总数", "total number of learnable parameters"),
                bi(
                    "一个整数，可写算式，如 4*64*64+4*64", "an integer; arithmetic is fine, e.g. 4*64*64+4*64"
                ),
            )
        ]

    def solve(self, p: MultiheadParamsParams) -> dict[str, str]:
        return {"num_params": str(4 * _projection(p.embed_dim, p.bias))}

    def statement(self, p: MultiheadParamsParams) -> dict[str, str]:
        e, h = p.embed_dim, p.num_heads
        code = f"nn.MultiheadAttention(embed_dim={e}, num_heads={h}, bias={p.bias})"
        bias_zh = "各线性投影都带偏置" if p.bias else "各线性投影都不带偏置"
        bias_en = "every projection has a bias" if p.bias else "no projection has a bias"
        return bi(
            f"PyTorch 的多头注意力层 `{code}`（自注意力，查询、键、值的维度都是 $E = {e}$，{bias_zh}）。"
            f"它把 $E$ 维输入分别投影为查询、键、值，拆成 {h} 个头（每头 $d_h = E/h = {e // h}$ 维）做缩放点积注意力，"
            f"再把各头拼接后经过输出投影。这一层共有多少个可学习参数？",
            f"A PyTorch multi-head attention layer `{code}` (self-attention: queries, keys and values all have "
            f"$E = {e}$ features; {bias_en}). It projects the $E$-dimensional input to queries, keys and values, "
            f"splits them into {h} heads of $d_h = E/h = {e // h}$ dimensions for scaled dot-product attention, "
            f"then concatenates the heads and applies an output projection. How many learnable parameters "
            f"does the layer have?",
        )

    def solution(self, p: MultiheadParamsParams) -> dict[str, list[str]]:
        e, h = p.embed_dim, p.num_heads
        one = _projection(e, p.bias)
        one_text = f"{e} \\times {e} + {e} = {one}" if p.bias else f"{e} \\times {e} = {one}"
        total = 4 * one
        return {
            "zh": [
                f"{h} 个头各自的投影 $E \\times d_h$ 拼起来正好是一个 $E \\times E$ 矩阵，所以头数不改变参数量。",
                f"查询、键、值投影和输出投影各有 ${one_text}$ 个参数。",
                f"合计 $4 \\times {one} = {total}$。",
            ],
            "en": [
                f"The {h} heads' $E \\times d_h$ projections side by side form one $E \\times E$ matrix, so the "
                f"number of heads does not change the count.",
                f"Each of the query, key, value and output projections has ${one_text}$ parameters.",
                f"In total $4 \\times {one} = {total}$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[MultiheadParamsParams]]:
        return [
            Misconception(
                "full_projections_per_head",
                bi(
                    "你给每个头都算了完整的 E×E 查询/键/值投影；每个头只投影到 d_h = E/h 维，"
                    "各头合起来才是一个 E×E 矩阵。",
                    "You gave every head full E×E query/key/value projections; each head projects to "
                    "d_h = E/h dimensions, and all heads together make one E×E matrix.",
                ),
                lambda p: {
                    "num_params": str(
                        3 * p.num_heads * _projection(p.embed_dim, p.bias) + _projection(p.embed_dim, p.bias)
                    )
                },
            ),
            Misconception(
                "forgot_output_projection",
                bi(
                    "你漏掉了输出投影 W_O（拼接各头后的 E×E 线性层）。",
                    "You left out the output projection W_O (the E×E linear map after the heads are concatenated).",
                ),
                lambda p: {"num_params": str(3 * _projection(p.embed_dim, p.bias))},
            ),
            Misconception(
                "forgot_bias",
                bi(
                    "你漏掉了偏置：bias=True 时四个投影各有 E 个偏置参数。",
                    "You left out the biases: with bias=True each of the four projections has E bias parameters.",
                ),
                lambda p: {"num_params": str(4 * p.embed_dim * p.embed_dim)},
            ),
        ]
