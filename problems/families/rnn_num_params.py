"""rnn.num_params: learnable parameters of a recurrent layer (simple RNN, LSTM, GRU).

Biases as the textbook writes them (bias_vectors 1), as PyTorch has them (2: b_ih and b_hh) or none
(0, PyTorch's bias=False); the catalogue lists 1 and 2, 0 is an extension.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.registry import register

Cell = Literal["rnn", "lstm", "gru"]

# Weight groups per cell: each group has W (hidden x input), U (hidden x hidden) and its bias vector(s).
# LSTM: input, forget, output gates and the candidate state; GRU: reset, update gates and the candidate.
GROUPS: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}
CELL_NAME = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


class RnnNumParamsParams(Params):
    cell: Cell = Field(description="rnn (simple recurrent network, tanh), lstm or gru")
    input_size: int = Field(ge=1, le=100_000, description="features of x_t")
    hidden_size: int = Field(ge=1, le=100_000, description="features of h_t")
    bias_vectors: Literal[0, 1, 2] = Field(
        default=2,
        description="bias vectors per weight group: 1 textbook (one b per gate), 2 PyTorch (b_ih and b_hh), "
        "0 no bias (bias=False)",
    )
    num_layers: int = Field(default=1, ge=1, le=16, description="stacked layers (PyTorch num_layers)")
    bidirectional: bool = Field(default=False, description="two directions per layer (PyTorch bidirectional)")


def _count(
    groups: int,
    layer_inputs: Sequence[int],
    hidden: int,
    bias_vectors: int,
    directions: int,
    recurrent: bool = True,
) -> int:
    """Parameters of the stack: per layer and direction, each group has W, U and its biases."""
    per_direction = sum(
        groups * (hidden * n_in + (hidden * hidden if recurrent else 0) + bias_vectors * hidden)
        for n_in in layer_inputs
    )
    return directions * per_direction


def _directions(p: RnnNumParamsParams) -> int:
    return 2 if p.bidirectional else 1


def _layer_inputs(p: RnnNumParamsParams) -> list[int]:
    """Layer 1 reads x_t; every later layer reads the previous layer's output (both directions concatenated)."""
    return [p.input_size] + [_directions(p) * p.hidden_size] * (p.num_layers - 1)


def _answer(
    p: RnnNumParamsParams,
    *,
    groups: int | None = None,
    layer_inputs: Sequence[int] | None = None,
    bias_vectors: int | None = None,
    directions: int | None = None,
    recurrent: bool = True,
) -> dict[str, str]:
    total = _count(
        GROUPS[p.cell] if groups is None else groups,
        _layer_inputs(p) if layer_inputs is None else layer_inputs,
        p.hidden_size,
        p.bias_vectors if bias_vectors is None else bias_vectors,
        _directions(p) if directions is None else directions,
        recurrent,
    )
    return {"num_params": str(total)}


def _when(
    applies: Callable[[RnnNumParamsParams], bool], solve: Callable[[RnnNumParamsParams], dict[str, str]]
) -> Callable[[RnnNumParamsParams], dict[str, str]]:
    """A misconception that only exists for some instances (e.g. 'one bias instead of two')."""
    return lambda p: solve(p) if applies(p) else {}


def _code(p: RnnNumParamsParams) -> str:
    args = [f"input_size={p.input_size}", f"hidden_size={p.hidden_size}"]
    if p.num_layers != 1:
        args.append(f"num_layers={p.num_layers}")
    if p.bias_vectors == 0:
        args.append("bias=False")
    if p.bidirectional:
        args.append("bidirectional=True")
    return f"nn.{CELL_NAME[p.cell]}({', '.join(args)})"


def _textbook_equations(cell: str, bias: bool) -> str:
    """The cell's equations with one bias vector per weight group (Qiu, seeds/003)."""

    def b(name: str) -> str:
        return (f" + \\mathbf{{b}}_{name}" if name else " + \\mathbf{b}") if bias else ""

    if cell == "rnn":
        return f"$$\\mathbf{{h}}_t = \\tanh(U\\mathbf{{h}}_{{t-1}} + W\\mathbf{{x}}_t{b('')})$$"
    if cell == "lstm":
        rows = [
            f"\\mathbf{{i}}_t = \\sigma(W_i\\mathbf{{x}}_t + U_i\\mathbf{{h}}_{{t-1}}{b('i')})",
            f"\\mathbf{{f}}_t = \\sigma(W_f\\mathbf{{x}}_t + U_f\\mathbf{{h}}_{{t-1}}{b('f')})",
            f"\\mathbf{{o}}_t = \\sigma(W_o\\mathbf{{x}}_t + U_o\\mathbf{{h}}_{{t-1}}{b('o')})",
            f"\\tilde{{\\mathbf{{c}}}}_t = \\tanh(W_c\\mathbf{{x}}_t + U_c\\mathbf{{h}}_{{t-1}}{b('c')})",
            "\\mathbf{c}_t = \\mathbf{f}_t \\odot \\mathbf{c}_{t-1} + \\mathbf{i}_t \\odot \\tilde{\\mathbf{c}}_t, "
            "\\quad \\mathbf{h}_t = \\mathbf{o}_t \\odot \\tanh(\\mathbf{c}_t)",
        ]
    else:
        rows = [
            f"\\mathbf{{r}}_t = \\sigma(W_r\\mathbf{{x}}_t + U_r\\mathbf{{h}}_{{t-1}}{b('r')})",
            f"\\mathbf{{z}}_t = \\sigma(W_z\\mathbf{{x}}_t + U_z\\mathbf{{h}}_{{t-1}}{b('z')})",
            f"\\tilde{{\\mathbf{{h}}}}_t = \\tanh(W_h\\mathbf{{x}}_t + U_h(\\mathbf{{r}}_t \\odot \\mathbf{{h}}_{{t-1}}){b('h')})",
            "\\mathbf{h}_t = \\mathbf{z}_t \\odot \\mathbf{h}_{t-1} + (1 - \\mathbf{z}_t) \\odot \\tilde{\\mathbf{h}}_t",
        ]
    return "".join(f"$${r}$$\n" for r in rows).rstrip()


@register
class RnnNumParams(Family[RnnNumParamsParams]):
    id = "rnn.num_params"
    version = 1
    title = bi("循环层的参数量（RNN / LSTM / GRU）", "Parameters of a recurrent layer (RNN / LSTM / GRU)")
    difficulty = 2
    tags = ("rnn", "num_params", "lstm", "gru")
    Params = RnnNumParamsParams

    def generate(self, rng: np.random.Generator) -> RnnNumParamsParams:
        cell = str(rng.choice(["rnn", "lstm", "lstm", "gru", "gru"]))
        deep = rng.random() < 0.25
        return RnnNumParamsParams(
            cell=cell,  # type: ignore[arg-type]
            input_size=int(rng.choice([3, 10, 20, 32, 50, 64, 100, 128, 300])),
            hidden_size=int(rng.choice([4, 16, 20, 32, 64, 100, 128, 256])),
            bias_vectors=int(rng.choice([1, 1, 2, 2, 2, 0] if not deep else [1, 2, 2])),  # type: ignore[arg-type]
            num_layers=int(rng.choice([2, 3])) if deep else 1,
            bidirectional=bool(rng.random() < (0.5 if deep else 0.15)),
        )

    def form(self, p: RnnNumParamsParams) -> Hashable:
        # The cell's gates, a second layer (whose input is the first's output) and a second direction
        # are the work; the sizes are numbers, and 2 or 3 layers the same counting.
        return p.cell, p.num_layers > 1, p.bidirectional

    def parts(self, p: RnnNumParamsParams) -> list[Part]:
        return [
            Part(
                "num_params",
                AnswerSpec("integer"),
                bi("可学习参数总数", "total number of learnable parameters"),
                bi(
                    "一个整数，可写算式，如 4*(128*(100+128)+128)",
                    "an integer; arithmetic is fine, e.g. 4*(128*(100+128)+128)",
                ),
            )
        ]

    def solve(self, p: RnnNumParamsParams) -> dict[str, str]:
        return _answer(p)

    def statement(self, p: RnnNumParamsParams) -> dict[str, str]:
        name = CELL_NAME[p.cell]
        i, h = p.input_size, p.hidden_size
        stack_zh, stack_en = "", ""
        ask_zh = (
            "这一层共有多少个可学习参数？"
            if p.num_layers == 1
            else f"这 {p.num_layers} 层共有多少个可学习参数？"
        )
        ask_en = (
            "How many learnable parameters does the layer have?"
            if p.num_layers == 1
            else f"How many learnable parameters do the {p.num_layers} layers have in total?"
        )
        if p.num_layers > 1:
            stack_zh += f"共堆叠 {p.num_layers} 层，每层的输出作为下一层的输入。"
            stack_en += f"{p.num_layers} layers are stacked; each layer's output is the next layer's input. "
        if p.bidirectional:
            stack_zh += "每层都是双向的（一个正向、一个反向，参数各自独立，输出拼接）。"
            stack_en += (
                "Every layer is bidirectional (a forward and a backward direction with their own "
                "parameters; their outputs are concatenated). "
            )
        if p.bias_vectors == 2:
            return bi(
                f"PyTorch 的循环层 `{_code(p)}`：输入 $\\mathbf{{x}}_t$ 为 {i} 维，隐状态 $\\mathbf{{h}}_t$ 为 {h} 维。"
                f"{stack_zh}PyTorch 为每组权重设两个偏置向量 $\\mathbf{{b}}_{{ih}}$ 和 $\\mathbf{{b}}_{{hh}}$（默认 bias=True）。"
                f"{ask_zh}",
                f"A PyTorch recurrent layer `{_code(p)}`: the input $\\mathbf{{x}}_t$ has {i} {plural(i, 'feature', 'features')} and the hidden "
                f"state $\\mathbf{{h}}_t$ has {h}. {stack_en}PyTorch gives every weight group two bias vectors, "
                f"$\\mathbf{{b}}_{{ih}}$ and $\\mathbf{{b}}_{{hh}}$ (bias=True, the default). {ask_en}",
            )
        equations = _textbook_equations(p.cell, p.bias_vectors == 1)
        if p.cell == "rnn":
            layer_zh, layer_en = "一个简单循环网络（SRN）层", "A simple recurrent network (SRN) layer"
            legend_zh, legend_en = "", ""
            one_bias_zh, one_bias_en = (
                "有一个偏置向量 $\\mathbf{b}$。",
                "There is one bias vector $\\mathbf{b}$.",
            )
        else:
            layer_zh, layer_en = f"一个 {name} 层", f"A {name} layer"
            legend_zh = "（$\\sigma$ 为 logistic 函数，$\\odot$ 为逐元素乘）"
            legend_en = " ($\\sigma$ is the logistic function, $\\odot$ the elementwise product)"
            one_bias_zh = "每个门（及候选状态）只有一个偏置向量（教材写法）。"
            one_bias_en = "Each gate (and the candidate state) has one bias vector (the textbook form)."
        if p.bias_vectors == 1:
            bias_zh, bias_en = one_bias_zh, one_bias_en
        else:
            bias_zh = f"没有偏置（相当于 PyTorch 的 `{_code(p)}`）。"
            bias_en = f"There are no biases (as PyTorch's `{_code(p)}`)."
        return bi(
            f"{layer_zh}：输入 $\\mathbf{{x}}_t$ 为 {i} 维，隐状态 $\\mathbf{{h}}_t$ 为 {h} 维，计算如下"
            f"{legend_zh}：\n\n{equations}\n\n{bias_zh}{stack_zh}{ask_zh}",
            f"{layer_en}: the input $\\mathbf{{x}}_t$ has {i} {plural(i, 'feature', 'features')} and the hidden state $\\mathbf{{h}}_t$ has "
            f"{h}; it computes{legend_en}:\n\n{equations}\n\n{bias_en} {stack_en}{ask_en}",
        )

    def solution(self, p: RnnNumParamsParams) -> dict[str, list[str]]:
        g, h, bv = GROUPS[p.cell], p.hidden_size, p.bias_vectors
        dirs = _directions(p)
        # The group's members as the question has them: no b when there is no bias (bias_vectors 0).
        members = "(W, U, \\mathbf{b})" if bv else "(W, U)"
        groups_zh = {
            "rnn": f"简单循环网络只有 1 组权重 ${members}$。",
            "lstm": "LSTM 有 4 组权重：输入门、遗忘门、输出门和候选状态 $\\tilde{\\mathbf{c}}_t$ 各一组。",
            "gru": "GRU 有 3 组权重：重置门、更新门和候选状态各一组。",
        }[p.cell]
        groups_en = {
            "rnn": f"A simple RNN has 1 weight group ${members}$.",
            "lstm": "An LSTM has 4 weight groups: the input, forget and output gates and the candidate state "
            "$\\tilde{\\mathbf{c}}_t$.",
            "gru": "A GRU has 3 weight groups: the reset and update gates and the candidate state.",
        }[p.cell]
        bias_zh = {0: "没有偏置", 1: f"1 个偏置向量 {h}", 2: f"2 个偏置向量 $2 \\times {h}$"}[bv]
        bias_en = {0: "no bias", 1: f"one bias vector, {h}", 2: f"two bias vectors, $2 \\times {h}$"}[bv]
        zh, en = [groups_zh], [groups_en]
        layer_totals = []
        for layer, n_in in enumerate(_layer_inputs(p), start=1):
            one = h * n_in + h * h + bv * h
            layer_totals.append(dirs * g * one)
            terms = f"{h} \\times {n_in} + {h} \\times {h}" + (f" + {bv} \\times {h}" if bv else "")
            where_zh = f"第 {layer} 层" if p.num_layers > 1 else "每组"
            where_en = f"Layer {layer}" if p.num_layers > 1 else "Each group"
            dir_tex = f"{dirs} \\times " if dirs > 1 else ""
            zh.append(
                f"{where_zh}：$W$ 为 ${h} \\times {n_in}$，$U$ 为 ${h} \\times {h}$，{bias_zh}；"
                f"${dir_tex}{g} \\times ({terms}) = {dirs * g * one}$。"
            )
            en.append(
                f"{where_en}: $W$ is ${h} \\times {n_in}$, $U$ is ${h} \\times {h}$, {bias_en}; "
                f"${dir_tex}{g} \\times ({terms}) = {dirs * g * one}$."
            )
        if p.num_layers > 1:
            later = dirs * h
            why_zh = f"（双向时为两个方向拼接的 $2 \\times {h}$）" if dirs > 1 else ""
            why_en = f" (both directions concatenated, $2 \\times {h}$)" if dirs > 1 else ""
            zh.insert(1, f"第 2 层起的输入是上一层的输出，维度为 {later}{why_zh}，不是 {p.input_size}。")
            en.insert(
                1,
                f"From layer 2 on, the input is the previous layer's output, {later} {plural(later, 'feature', 'features')}{why_en}, "
                f"not {p.input_size}.",
            )
            total = " + ".join(str(t) for t in layer_totals)
            zh.append(f"合计 ${total} = {sum(layer_totals)}$。")
            en.append(f"In total ${total} = {sum(layer_totals)}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[RnnNumParamsParams]]:
        return [
            Misconception(
                "gates_without_candidate",
                bi(
                    "你只数了门：LSTM 除输入门、遗忘门、输出门外，候选状态 c̃ 也有自己的 W、U、b，共 4 组；"
                    "GRU 除重置门、更新门外，候选状态也有一组，共 3 组。",
                    "You counted only the gates: besides its input, forget and output gates an LSTM's candidate "
                    "state c̃ has its own W, U and b (4 groups); a GRU's candidate state adds a third group to its "
                    "reset and update gates.",
                ),
                _when(lambda p: p.cell != "rnn", lambda p: _answer(p, groups=GROUPS[p.cell] - 1)),
            ),
            Misconception(
                "counted_as_simple_rnn",
                bi(
                    "你按简单循环网络只算了 1 组权重；LSTM 有 4 组、GRU 有 3 组，每组都有 W、U 和偏置。",
                    "You counted one weight group as for a simple RNN; an LSTM has 4 groups and a GRU 3, each "
                    "with its own W, U and bias.",
                ),
                _when(lambda p: p.cell != "rnn", lambda p: _answer(p, groups=1)),
            ),
            Misconception(
                "forgot_recurrent_weights",
                bi(
                    "你漏掉了循环权重 U（隐状态到隐状态，hidden×hidden）：每组都有 W（hidden×input）和 U。",
                    "You left out the recurrent weights U (hidden to hidden, hidden×hidden): every group has both "
                    "W (hidden×input) and U.",
                ),
                lambda p: _answer(p, recurrent=False),
            ),
            Misconception(
                "one_bias_instead_of_two",
                bi(
                    "PyTorch 每组权重有两个偏置向量 b_ih 和 b_hh，你只算了一个。",
                    "PyTorch gives every weight group two bias vectors, b_ih and b_hh; you counted one.",
                ),
                _when(lambda p: p.bias_vectors == 2, lambda p: _answer(p, bias_vectors=1)),
            ),
            Misconception(
                "two_biases_instead_of_one",
                bi(
                    "题中每个门只有一个偏置向量（教材写法）；两个偏置 b_ih、b_hh 是 PyTorch 的实现方式。",
                    "Here each gate has one bias vector (the textbook form); two biases b_ih and b_hh are how "
                    "PyTorch implements it.",
                ),
                _when(lambda p: p.bias_vectors == 1, lambda p: _answer(p, bias_vectors=2)),
            ),
            Misconception(
                "forgot_bias",
                bi(
                    "你漏掉了偏置向量：每组权重都有 hidden_size 维的偏置。",
                    "You left out the bias vectors: every weight group has hidden_size biases.",
                ),
                _when(lambda p: p.bias_vectors > 0, lambda p: _answer(p, bias_vectors=0)),
            ),
            Misconception(
                "later_layers_read_input_size",
                bi(
                    "第 2 层起的输入是上一层的隐状态（双向时是两个方向拼接），不是 input_size 维的 x。",
                    "From layer 2 on, a layer reads the previous layer's hidden state (both directions "
                    "concatenated when bidirectional), not the input_size features of x.",
                ),
                _when(
                    lambda p: p.num_layers > 1,
                    lambda p: _answer(p, layer_inputs=[p.input_size] * p.num_layers),
                ),
            ),
            Misconception(
                "bidirectional_next_input_hidden",
                bi(
                    "双向层的输出是两个方向拼接的 2×hidden_size 维向量，所以下一层的输入是 2×hidden_size 维。",
                    "A bidirectional layer outputs both directions concatenated, 2×hidden_size features, so the "
                    "next layer's input has 2×hidden_size features.",
                ),
                _when(
                    lambda p: p.bidirectional and p.num_layers > 1,
                    lambda p: _answer(p, layer_inputs=[p.input_size] + [p.hidden_size] * (p.num_layers - 1)),
                ),
            ),
            Misconception(
                "one_direction_only",
                bi(
                    "双向循环层有正向和反向两套独立的参数，要乘以 2。",
                    "A bidirectional layer has two independent sets of parameters (forward and backward): "
                    "multiply by 2.",
                ),
                _when(
                    lambda p: p.bidirectional,
                    lambda p: _answer(
                        p, layer_inputs=[p.input_size] + [p.hidden_size] * (p.num_layers - 1), directions=1
                    ),
                ),
            ),
        ]
