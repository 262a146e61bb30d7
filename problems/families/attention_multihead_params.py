"""attention.multihead_params: the parameter count of PyTorch's nn.MultiheadAttention.

v2 adds cross-attention (keys and values of other widths, `kdim`/`vdim`) and `add_bias_kv`: v1 drew
16 answers in all (8 widths, with or without bias: the head count does not change the count), so an
exam's variants repeated answers. v1 params pose the same instance under v2 (the new fields
default to PyTorch's)."""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.registry import register


class MultiheadParamsParams(Params):
    embed_dim: int = Field(ge=1, le=16384, description="model dimension E")
    num_heads: int = Field(ge=1, le=256, description="number of heads h (E divisible by h)")
    bias: bool = Field(default=True, description="projections have biases (PyTorch default)")
    kdim: int | None = Field(default=None, ge=1, le=16384, description="key features (None: E)")
    vdim: int | None = Field(default=None, ge=1, le=16384, description="value features (None: E)")
    add_bias_kv: bool = Field(default=False, description="learned bias_k and bias_v, E each")

    @model_validator(mode="after")
    def _check(self) -> MultiheadParamsParams:
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"num_heads: embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}"
            )
        return self


def _projection(e: int, d_in: int, bias: bool) -> int:
    """One linear map from d_in features to E, with its bias if any."""
    return e * d_in + (e if bias else 0)


def _widths(p: MultiheadParamsParams) -> tuple[int, int]:
    """The key and value widths; PyTorch reads None as E."""
    return p.kdim or p.embed_dim, p.vdim or p.embed_dim


def _count(
    p: MultiheadParamsParams,
    *,
    per_head: int = 1,
    output: bool = True,
    bias: bool | None = None,
    kv_widths: tuple[int, int] | None = None,
    bias_kv: bool | None = None,
) -> int:
    """The parameter count, and (through its keywords) each misconception's version of it."""
    e = p.embed_dim
    bias = p.bias if bias is None else bias
    kdim, vdim = kv_widths or _widths(p)
    qkv = sum(_projection(e, d, bias) for d in (e, kdim, vdim))
    extra = 2 * e if (p.add_bias_kv if bias_kv is None else bias_kv) else 0
    return per_head * qkv + (_projection(e, e, bias) if output else 0) + extra


@register
class MultiheadParams(Family[MultiheadParamsParams]):
    id = "attention.multihead_params"
    version = 2
    same_params_since = 1  # v1 params pose the same instance (kdim, vdim, add_bias_kv at defaults)
    title = bi("多头注意力层的参数量", "Parameters of a multi-head attention layer")
    difficulty = 1
    tags = ("attention", "multi_head", "num_params")
    Params = MultiheadParamsParams

    def generate(self, rng: np.random.Generator) -> MultiheadParamsParams:
        widths = [16, 32, 64, 128, 256, 512, 768, 1024]
        e = int(rng.choice(widths))
        heads = [h for h in (2, 4, 8, 12, 16) if e % h == 0 and e // h >= 4]
        kdim = vdim = None
        if rng.random() < 0.5:  # cross-attention: keys and values from an encoder of another width
            others = [w for w in widths + [80, 96, 300, 384] if w != e]
            kdim = int(rng.choice(others))
            vdim = kdim if rng.random() < 0.6 else int(rng.choice([w for w in others if w != kdim]))
        return MultiheadParamsParams(
            embed_dim=e,
            num_heads=int(rng.choice(heads)),
            bias=bool(rng.random() < 0.75),
            kdim=kdim,
            vdim=vdim,
            add_bias_kv=bool(rng.random() < 0.25),
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
        return {"num_params": str(_count(p))}

    def statement(self, p: MultiheadParamsParams) -> dict[str, str]:
        e, h = p.embed_dim, p.num_heads
        kdim, vdim = _widths(p)
        extra = "".join(
            f", {name}={value}"
            for name, value in (("kdim", p.kdim), ("vdim", p.vdim), ("add_bias_kv", p.add_bias_kv or None))
            if value is not None
        )
        code = f"nn.MultiheadAttention(embed_dim={e}, num_heads={h}, bias={p.bias}{extra})"
        bias_zh = "各线性投影都带偏置" if p.bias else "各线性投影都不带偏置"
        bias_en = "every projection has a bias" if p.bias else "no projection has a bias"
        if (kdim, vdim) == (e, e):  # v1's words, so its stored instances read as they did
            io_zh = f"自注意力，查询、键、值的维度都是 $E = {e}$"
            io_en = f"self-attention: queries, keys and values all have $E = {e}$ {plural(e, 'feature', 'features')}"
            into_zh, into_en = (
                " $E$ 维输入分别投影为查询、键、值",
                "the $E$-dimensional input to queries, keys and values",
            )
        else:
            io_zh = f"交叉注意力：查询的维度是 $E = {e}$，键的维度是 {kdim}，值的维度是 {vdim}"
            io_en = f"cross-attention: queries have $E = {e}$ {plural(e, 'feature', 'features')}, keys {kdim} and values {vdim}"
            into_zh = "查询、键、值的输入分别投影为 $E$ 维"
            into_en = "its query, key and value inputs to $E$ features each"
        kv_zh = kv_en = ""
        if p.add_bias_kv:
            kv_zh = "；另有 add_bias_kv=True 加在键、值序列末尾的可学习偏置 bias_k、bias_v"
            kv_en = "; add_bias_kv=True also appends learned biases bias_k and bias_v to the key and value sequences"
        return bi(
            f"PyTorch 的多头注意力层 `{code}`（{io_zh}，{bias_zh}{kv_zh}）。"
            f"它把{into_zh}，拆成 {h} 个头（每头 $d_h = E/h = {e // h}$ 维）做缩放点积注意力，"
            f"再把各头拼接后经过输出投影。这一层共有多少个可学习参数？",
            f"A PyTorch multi-head attention layer `{code}` ({io_en}; {bias_en}{kv_en}). It projects "
            f"{into_en}, splits them into {h} {plural(h, 'head', 'heads')} of "
            f"$d_h = E/h = {e // h}$ {plural(e // h, 'dimension', 'dimensions')} for scaled dot-product attention, then concatenates the "
            f"heads and applies an output projection. How many learnable parameters does the layer have?",
        )

    def solution(self, p: MultiheadParamsParams) -> dict[str, list[str]]:
        e, h = p.embed_dim, p.num_heads
        kdim, vdim = _widths(p)
        b = f" + {e}" if p.bias else ""

        def term(d_in: int) -> str:
            return f"{e} \\times {d_in}{b} = {_projection(e, d_in, p.bias)}"

        total = _count(p)
        sums = [_projection(e, d, p.bias) for d in (e, kdim, vdim, e)] + ([2 * e] if p.add_bias_kv else [])
        sum_text = (
            " + ".join(str(n) for n in sums) if len(set(sums)) > 1 else f"{len(sums)} \\times {sums[0]}"
        )
        if (kdim, vdim) == (e, e):
            zh = [
                f"{h} 个头各自的投影 $E \\times d_h$ 拼起来正好是一个 $E \\times E$ 矩阵，所以头数不改变参数量。"
            ]
            whose = plural(h, "head's", "heads'")
            en = [
                f"The {h} {whose} $E \\times d_h$ projections side by side form one $E \\times E$ matrix, so the "
                f"number of heads does not change the count."
            ]
            zh.append(f"查询、键、值投影和输出投影各有 ${term(e)}$ 个参数。")
            en.append(f"Each of the query, key, value and output projections has ${term(e)}$ parameters.")
        else:
            zh = [
                f"{h} 个头各自投影到 $d_h = {e // h}$ 维，拼起来正好是一个输出 $E$ 维的投影，所以头数不改变参数量。"
            ]
            en = [
                f"The {h} {plural(h, 'head projects', 'heads each project')} to $d_h = {e // h}$ {plural(e // h, 'feature', 'features')}; side by side they form one projection "
                f"to $E$ features, so the number of heads does not change the count."
            ]
            zh.append(
                f"每个投影把输入映射到 $E$ 维，权重是 $E \\times$ 输入维度：查询 ${term(e)}$，键 ${term(kdim)}$，"
                f"值 ${term(vdim)}$，输出投影 ${term(e)}$。"
            )
            en.append(
                f"Each projection maps its input to $E$ features, a weight of $E \\times$ its input width: "
                f"query ${term(e)}$, key ${term(kdim)}$, value ${term(vdim)}$, output ${term(e)}$."
            )
        if p.add_bias_kv:
            zh.append(f"bias_k 和 bias_v 各有 $E = {e}$ 个参数，共 ${2 * e}$。")
            en.append(f"bias_k and bias_v have $E = {e}$ parameters each, ${2 * e}$ together.")
        zh.append(f"合计 ${sum_text} = {total}$。")
        en.append(f"In total ${sum_text} = {total}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[MultiheadParamsParams]]:
        return [
            Misconception(
                "full_projections_per_head",
                bi(
                    "你给每个头都算了完整的查询/键/值投影（输出 E 维）；每个头只投影到 d_h = E/h 维，"
                    "各头合起来才是一个输出 E 维的投影。",
                    "You gave every head full query/key/value projections to E features; each head "
                    "projects to d_h = E/h dimensions, and all heads together make one projection to E.",
                ),
                lambda p: {"num_params": str(_count(p, per_head=p.num_heads))},
            ),
            Misconception(
                "forgot_output_projection",
                bi(
                    "你漏掉了输出投影 W_O（拼接各头后的 E×E 线性层）。",
                    "You left out the output projection W_O (the E×E linear map after the heads are concatenated).",
                ),
                lambda p: {"num_params": str(_count(p, output=False))},
            ),
            Misconception(
                "forgot_bias",
                bi(
                    "你漏掉了偏置：bias=True 时四个投影各有 E 个偏置参数。",
                    "You left out the biases: with bias=True each of the four projections has E bias parameters.",
                ),
                lambda p: {"num_params": str(_count(p, bias=False))},
            ),
            Misconception(
                "square_kv_projections",
                bi(
                    "你把键、值投影都当成了 E×E；kdim/vdim 给出的是键、值输入的维度，投影的权重是 E×kdim 和 E×vdim。",
                    "You took the key and value projections as E×E; kdim and vdim are the key and value "
                    "input widths, so their weights are E×kdim and E×vdim.",
                ),
                lambda p: {"num_params": str(_count(p, kv_widths=(p.embed_dim, p.embed_dim)))},
            ),
            Misconception(
                "forgot_bias_kv",
                bi(
                    "你漏掉了 add_bias_kv 的 bias_k 和 bias_v（各 E 个参数）。",
                    "You left out add_bias_kv's bias_k and bias_v (E parameters each).",
                ),
                lambda p: {"num_params": str(_count(p, bias_kv=False))},
            ),
        ]
