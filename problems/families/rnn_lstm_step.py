"""rnn.lstm_step: one LSTM step in the textbook form (Qiu, seeds/003): gates, candidate, cell and hidden state."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import cast

import numpy as np
from pydantic import Field, model_validator

from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi, first_drawn
from problems.families.backprop_common import decimals
from problems.families.rnn_common import (
    HiddenVector,
    HiddenWeights,
    InputVector,
    InputWeights,
    check_gate_shapes,
    gate_weights,
    sigmoid,
    small_input,
    state_parts,
    tex_state,
)
from problems.fmt import tex_column, tex_matrix, vec
from problems.registry import register

GATES = ("i", "f", "o", "c")  # c: the candidate state c~
PARTS = ("i", "f", "o", "c_tilde", "c", "h")


class LstmStepParams(Params):
    W_i: InputWeights = Field(description="input gate, input weights (hidden x input)")
    W_f: InputWeights = Field(description="forget gate, input weights (hidden x input)")
    W_o: InputWeights = Field(description="output gate, input weights (hidden x input)")
    W_c: InputWeights = Field(description="candidate state, input weights (hidden x input)")
    U_i: HiddenWeights = Field(description="input gate, recurrent weights (hidden x hidden)")
    U_f: HiddenWeights = Field(description="forget gate, recurrent weights (hidden x hidden)")
    U_o: HiddenWeights = Field(description="output gate, recurrent weights (hidden x hidden)")
    U_c: HiddenWeights = Field(description="candidate state, recurrent weights (hidden x hidden)")
    b_i: HiddenVector = Field(description="input gate bias (hidden)")
    b_f: HiddenVector = Field(description="forget gate bias (hidden)")
    b_o: HiddenVector = Field(description="output gate bias (hidden)")
    b_c: HiddenVector = Field(description="candidate state bias (hidden)")
    x: InputVector = Field(description="input x_t")
    h_prev: HiddenVector = Field(description="previous hidden (external) state h_{t-1}")
    c_prev: HiddenVector = Field(description="previous cell (internal) state c_{t-1}")

    @model_validator(mode="after")
    def _check(self) -> LstmStepParams:
        h = len(self.h_prev)
        check_gate_shapes(self, GATES, h, len(self.x))
        if len(self.c_prev) != h:
            raise ValueError(f"c_prev: needs {h} {plural(h, 'entry', 'entries')}, as many as h_prev")
        return self


def _net(p: LstmStepParams, g: str) -> np.ndarray:
    """W_g x + U_g h_{t-1} + b_g."""
    w, u, b = (np.array(getattr(p, f"{m}_{g}"), dtype=float) for m in ("W", "U", "b"))
    return w @ np.array(p.x, dtype=float) + u @ np.array(p.h_prev, dtype=float) + b


def _step(
    p: LstmStepParams,
    candidate: Callable[[np.ndarray], np.ndarray] = np.tanh,
    cell: Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray] | None = None,
    squash_cell: bool = True,
) -> dict[str, np.ndarray]:
    """Every part's value, by the textbook equations (or a misconception's variant of them)."""
    v = {g: sigmoid(_net(p, g)) for g in ("i", "f", "o")}
    v["c_tilde"] = candidate(_net(p, "c"))
    c_prev = np.array(p.c_prev, dtype=float)
    v["c"] = cell(v, c_prev) if cell else v["f"] * c_prev + v["i"] * v["c_tilde"]
    v["h"] = v["o"] * (np.tanh(v["c"]) if squash_cell else v["c"])
    return v


def _texts(values: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, str]:
    return {n: vec(values[n].tolist()) for n in names}


def _variant(
    names: Sequence[str],
    candidate: Callable[[np.ndarray], np.ndarray] = np.tanh,
    cell: Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray] | None = None,
    squash_cell: bool = True,
) -> Callable[[LstmStepParams], dict[str, str]]:
    """A misconception: the parts it changes, computed the wrong way (and carried forward)."""
    return lambda p: _texts(_step(p, candidate, cell, squash_cell), names)


PART_TEX = {
    "i": "\\mathbf{i}_t",
    "f": "\\mathbf{f}_t",
    "o": "\\mathbf{o}_t",
    "c_tilde": "\\tilde{\\mathbf{c}}_t",
    "c": "\\mathbf{c}_t",
    "h": "\\mathbf{h}_t",
}
PART_NAME = {
    "i": ("输入门", "input gate"),
    "f": ("遗忘门", "forget gate"),
    "o": ("输出门", "output gate"),
    "c_tilde": ("候选状态", "candidate state"),
    "c": ("内部状态（记忆单元）", "cell (internal) state"),
    "h": ("外部状态（隐状态）", "hidden (external) state"),
}
EQUATIONS = [
    "\\mathbf{i}_t = \\sigma(W_i\\mathbf{x}_t + U_i\\mathbf{h}_{t-1} + \\mathbf{b}_i)",
    "\\mathbf{f}_t = \\sigma(W_f\\mathbf{x}_t + U_f\\mathbf{h}_{t-1} + \\mathbf{b}_f)",
    "\\mathbf{o}_t = \\sigma(W_o\\mathbf{x}_t + U_o\\mathbf{h}_{t-1} + \\mathbf{b}_o)",
    "\\tilde{\\mathbf{c}}_t = \\tanh(W_c\\mathbf{x}_t + U_c\\mathbf{h}_{t-1} + \\mathbf{b}_c)",
    "\\mathbf{c}_t = \\mathbf{f}_t \\odot \\mathbf{c}_{t-1} + \\mathbf{i}_t \\odot \\tilde{\\mathbf{c}}_t",
    "\\mathbf{h}_t = \\mathbf{o}_t \\odot \\tanh(\\mathbf{c}_t)",
]


def _draw(rng: np.random.Generator, sizes: tuple[int, int] | None = None) -> LstmStepParams | None:
    """One draw of `generate` (None: a saturated gate or no input); given sizes (hidden, input) are kept."""
    if sizes is None:
        h = int(rng.choice([1, 1, 2]))
        n_in = int(rng.choice([1, 2] if h == 1 else [1, 1, 2]))
    else:
        h, n_in = sizes
    params: dict[str, object] = gate_weights(rng, GATES, h, n_in)
    params["x"] = small_input(rng, n_in)
    params["h_prev"] = decimals(rng, -0.9, 0.9, h).tolist()
    params["c_prev"] = decimals(rng, -1.5, 1.5, h).tolist()
    p = LstmStepParams.model_validate(params)
    # No saturated gate (|net| <= 2.5) and a nonzero input, so every part carries information.
    nets = np.concatenate([_net(p, g) for g in GATES])
    return p if any(p.x) and float(np.abs(nets).max()) <= 2.5 else None


@register
class LstmStep(Family[LstmStepParams]):
    id = "rnn.lstm_step"
    version = 1
    title = bi("LSTM 单步计算", "One step of an LSTM")
    difficulty = 3
    tags = ("rnn", "lstm", "gates", "forward")
    Params = LstmStepParams

    def generate(self, rng: np.random.Generator) -> LstmStepParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: LstmStepParams) -> Hashable:
        return len(p.h_prev), len(p.x)  # hidden units and inputs: the sizes of every gate's product

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> LstmStepParams | None:
        return first_drawn(lambda: _draw(rng, cast(tuple[int, int], form)))

    def parts(self, p: LstmStepParams) -> list[Part]:
        return state_parts(PARTS, PART_NAME, PART_TEX, len(p.h_prev))

    def solve(self, p: LstmStepParams) -> dict[str, str]:
        return _texts(_step(p), PARTS)

    def statement(self, p: LstmStepParams) -> dict[str, str]:
        h, n_in = len(p.h_prev), len(p.x)
        equations = "\n".join(f"$${e}$$" for e in EQUATIONS)
        weights = "\n\n".join(
            f"$$W_{g} = {tex_matrix(getattr(p, f'W_{g}'))}, \\quad U_{g} = {tex_matrix(getattr(p, f'U_{g}'))}, "
            f"\\quad \\mathbf{{b}}_{g} = {tex_column(getattr(p, f'b_{g}'))}$$"
            for g in GATES
        )
        state = (
            f"$$\\mathbf{{x}}_t = {tex_column(p.x)}, \\quad \\mathbf{{h}}_{{t-1}} = {tex_column(p.h_prev)}, "
            f"\\quad \\mathbf{{c}}_{{t-1}} = {tex_column(p.c_prev)}$$"
        )
        return bi(
            f"一个 LSTM 单元（隐状态 {h} 维，输入 {n_in} 维）按教材（邱锡鹏《神经网络与深度学习》）的公式计算，"
            f"$\\sigma$ 为 logistic 函数，$\\odot$ 为逐元素乘：\n\n{equations}\n\n参数为\n\n{weights}\n\n"
            f"当前输入与上一时刻的状态为\n\n{state}\n\n"
            f"求输入门 $\\mathbf{{i}}_t$、遗忘门 $\\mathbf{{f}}_t$、输出门 $\\mathbf{{o}}_t$、候选状态 "
            f"$\\tilde{{\\mathbf{{c}}}}_t$、内部状态 $\\mathbf{{c}}_t$ 和外部状态 $\\mathbf{{h}}_t$。",
            f"An LSTM cell ({h}-dimensional hidden state, {n_in}-dimensional input) computes by the textbook equations "
            f"(Qiu, *Neural Networks and Deep Learning*), where $\\sigma$ is the logistic function and $\\odot$ the "
            f"elementwise product:\n\n{equations}\n\nIts parameters are\n\n{weights}\n\n"
            f"The current input and the previous states are\n\n{state}\n\n"
            f"Find the input gate $\\mathbf{{i}}_t$, the forget gate $\\mathbf{{f}}_t$, the output gate "
            f"$\\mathbf{{o}}_t$, the candidate state $\\tilde{{\\mathbf{{c}}}}_t$, the cell state $\\mathbf{{c}}_t$ "
            f"and the hidden state $\\mathbf{{h}}_t$.",
        )

    def solution(self, p: LstmStepParams) -> dict[str, list[str]]:
        v = _step(p)
        zh: list[str] = []
        en: list[str] = []
        for g, name in (("i", "i"), ("f", "f"), ("o", "o"), ("c", "c_tilde")):
            f = "\\tanh" if g == "c" else "\\sigma"
            net = tex_state(_net(p, g))
            net_line = f"$W_{g}\\mathbf{{x}}_t + U_{g}\\mathbf{{h}}_{{t-1}} + \\mathbf{{b}}_{g} = {net}$"
            value_line = f"${PART_TEX[name]} = {f}({net}) = {tex_state(v[name])}$"
            zh.append(f"{PART_NAME[name][0]}：{net_line}，{value_line}。")
            en.append(f"The {PART_NAME[name][1]}: {net_line}, {value_line}.")
        c_line = (
            f"$\\mathbf{{c}}_t = \\mathbf{{f}}_t \\odot \\mathbf{{c}}_{{t-1}} + \\mathbf{{i}}_t \\odot "
            f"\\tilde{{\\mathbf{{c}}}}_t = {tex_state(v['f'])} \\odot {tex_column(p.c_prev)} + "
            f"{tex_state(v['i'])} \\odot {tex_state(v['c_tilde'])} = {tex_state(v['c'])}$"
        )
        h_line = (
            f"$\\mathbf{{h}}_t = \\mathbf{{o}}_t \\odot \\tanh(\\mathbf{{c}}_t) = {tex_state(v['o'])} "
            f"\\odot {tex_state(np.tanh(v['c']))} = {tex_state(v['h'])}$"
        )
        zh += [f"内部状态：{c_line}。", f"外部状态：{h_line}。"]
        en += [f"The cell state: {c_line}.", f"The hidden state: {h_line}."]
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[LstmStepParams]]:
        return [
            Misconception(
                "sigmoid_candidate",
                bi(
                    "候选状态用 tanh 而不是 sigmoid：c̃_t = tanh(W_c x_t + U_c h_{t-1} + b_c)，取值在 (-1, 1)。",
                    "The candidate state uses tanh, not the sigmoid: c̃_t = tanh(W_c x_t + U_c h_{t-1} + b_c), "
                    "in (-1, 1).",
                ),
                _variant(("c_tilde", "c", "h"), candidate=sigmoid),
            ),
            Misconception(
                "gates_swapped_in_cell",
                bi(
                    "遗忘门作用于旧的内部状态、输入门作用于候选状态：c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t。",
                    "The forget gate scales the old cell state and the input gate the candidate: "
                    "c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t.",
                ),
                _variant(("c", "h"), cell=lambda v, c_prev: v["i"] * c_prev + v["f"] * v["c_tilde"]),
            ),
            Misconception(
                "forgot_input_gate",
                bi(
                    "候选状态要先乘以输入门：c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t。",
                    "The candidate is scaled by the input gate: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t.",
                ),
                _variant(("c", "h"), cell=lambda v, c_prev: v["f"] * c_prev + v["c_tilde"]),
            ),
            Misconception(
                "forgot_forget_gate",
                bi(
                    "旧的内部状态要先乘以遗忘门：c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t。",
                    "The old cell state is scaled by the forget gate: c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t.",
                ),
                _variant(("c", "h"), cell=lambda v, c_prev: c_prev + v["i"] * v["c_tilde"]),
            ),
            Misconception(
                "forgot_tanh_of_cell",
                bi(
                    "外部状态是 h_t = o_t ⊙ tanh(c_t)：内部状态要先经过 tanh 再乘输出门。",
                    "The hidden state is h_t = o_t ⊙ tanh(c_t): the cell state goes through tanh before the "
                    "output gate.",
                ),
                _variant(("h",), squash_cell=False),
            ),
        ]
