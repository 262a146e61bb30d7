"""rnn.gru_step: one GRU step in PyTorch's convention (nn.GRUCell): reset and update gates, candidate, new state."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import cast

import numpy as np
from pydantic import Field, model_validator

from grader import DEFAULT_RTOL
from problems.base import Family, Misconception, Params, Part, bi, first_drawn
from problems.families.backprop_common import decimals
from problems.families.rnn_common import (
    STATE_ATOL,
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

GROUPS = ("r", "z", "n")
PARTS = ("r", "z", "n", "h")


class GruStepParams(Params):
    W_r: InputWeights = Field(description="reset gate, input weights (hidden x input)")
    W_z: InputWeights = Field(description="update gate, input weights (hidden x input)")
    W_n: InputWeights = Field(description="candidate (new) state, input weights (hidden x input)")
    U_r: HiddenWeights = Field(description="reset gate, recurrent weights (hidden x hidden)")
    U_z: HiddenWeights = Field(description="update gate, recurrent weights (hidden x hidden)")
    U_n: HiddenWeights = Field(description="candidate state, recurrent weights (hidden x hidden)")
    b_r: HiddenVector = Field(description="reset gate input bias b_ir (hidden)")
    b_z: HiddenVector = Field(description="update gate input bias b_iz (hidden)")
    b_n: HiddenVector = Field(description="candidate input bias b_in (hidden)")
    b_hr: HiddenVector | None = Field(default=None, description="reset gate hidden bias (zeros if left out)")
    b_hz: HiddenVector | None = Field(default=None, description="update gate hidden bias (zeros if left out)")
    b_hn: HiddenVector | None = Field(
        default=None, description="candidate hidden bias, inside the reset gate's product (zeros if left out)"
    )
    x: InputVector = Field(description="input x_t")
    h_prev: HiddenVector = Field(description="previous hidden state h_{t-1}")

    @model_validator(mode="after")
    def _check(self) -> GruStepParams:
        check_gate_shapes(self, GROUPS, len(self.h_prev), len(self.x))
        return self


def _array(xs: Sequence[float] | Sequence[Sequence[float]]) -> np.ndarray:
    return np.array(xs, dtype=float)


def _hidden_bias(p: GruStepParams, g: str) -> np.ndarray:
    b = getattr(p, f"b_h{g}")
    return np.zeros(len(p.h_prev)) if b is None else _array(b)


def _input_part(p: GruStepParams, g: str) -> np.ndarray:
    """W_g x + b_g (PyTorch: W_ig x + b_ig)."""
    return _array(getattr(p, f"W_{g}")) @ _array(p.x) + _array(getattr(p, f"b_{g}"))


def _hidden_part(p: GruStepParams, g: str) -> np.ndarray:
    """U_g h + b_hg (PyTorch: W_hg h + b_hg)."""
    return _array(getattr(p, f"U_{g}")) @ _array(p.h_prev) + _hidden_bias(p, g)


def _candidate_net(p: GruStepParams, r: np.ndarray, how: str) -> np.ndarray:
    """The candidate's net input; `how` says where the reset gate acts."""
    h_prev = _array(p.h_prev)
    inside = {
        "pytorch": r * _hidden_part(p, "n"),  # r ⊙ (U_n h + b_hn)
        "textbook": _array(p.U_n) @ (r * h_prev) + _hidden_bias(p, "n"),  # U_n (r ⊙ h) + b_hn
        "no_reset": _hidden_part(p, "n"),
        "bias_outside": r * (_array(p.U_n) @ h_prev) + _hidden_bias(p, "n"),
    }[how]
    return _input_part(p, "n") + inside


def _step(
    p: GruStepParams,
    reset: str = "pytorch",
    candidate: Callable[[np.ndarray], np.ndarray] = np.tanh,
    swap_update: bool = False,
) -> dict[str, np.ndarray]:
    """Every part's value in PyTorch's convention (or a misconception's variant of it)."""
    r = sigmoid(_input_part(p, "r") + _hidden_part(p, "r"))
    z = sigmoid(_input_part(p, "z") + _hidden_part(p, "z"))
    n = candidate(_candidate_net(p, r, reset))
    h_prev = _array(p.h_prev)
    h = z * n + (1 - z) * h_prev if swap_update else (1 - z) * n + z * h_prev
    return {"r": r, "z": z, "n": n, "h": h}


def _variant(
    names: Sequence[str],
    reset: str = "pytorch",
    candidate: Callable[[np.ndarray], np.ndarray] = np.tanh,
    swap_update: bool = False,
) -> Callable[[GruStepParams], dict[str, str]]:
    """A misconception: the parts it changes, computed the wrong way (and carried forward)."""

    def solve(p: GruStepParams) -> dict[str, str]:
        v = _step(p, reset, candidate, swap_update)
        return {name: vec(v[name].tolist()) for name in names}

    return solve


# How far the textbook form's n and h must be from PyTorch's, in the part's tolerance: four times, as
# attention.positional_encoding, so that the textbook answer rounded to three decimals, or worked with
# rounded gates, is refused too.
APART = 4


def _tells_conventions_apart(p: GruStepParams) -> bool:
    """Does the textbook form U_n (r ⊙ h) miss PyTorch's n and h by a clear margin?

    Version 1 posed instances where it did not: with one unit r and U_n commute (only b_hn tells the
    forms apart), and with h_{t-1} near zero the reset gate hardly matters, so the textbook answer
    was marked right on both parts.
    """
    right, textbook = _step(p), _step(p, reset="textbook")
    for name in ("n", "h"):
        tol = np.maximum(float(DEFAULT_RTOL) * np.abs(right[name]), STATE_ATOL)
        if not (np.abs(textbook[name] - right[name]) > APART * tol).any():
            return False
    return True


PART_TEX = {"r": "\\mathbf{r}_t", "z": "\\mathbf{z}_t", "n": "\\mathbf{n}_t", "h": "\\mathbf{h}_t"}
PART_NAME = {
    "r": ("重置门", "reset gate"),
    "z": ("更新门", "update gate"),
    "n": ("候选状态", "candidate state"),
    "h": ("新的隐状态", "new hidden state"),
}
EQUATIONS = [
    "\\mathbf{r}_t = \\sigma(W_r\\mathbf{x}_t + \\mathbf{b}_r + U_r\\mathbf{h}_{t-1} + \\mathbf{b}_{hr})",
    "\\mathbf{z}_t = \\sigma(W_z\\mathbf{x}_t + \\mathbf{b}_z + U_z\\mathbf{h}_{t-1} + \\mathbf{b}_{hz})",
    "\\mathbf{n}_t = \\tanh(W_n\\mathbf{x}_t + \\mathbf{b}_n + \\mathbf{r}_t \\odot (U_n\\mathbf{h}_{t-1} + \\mathbf{b}_{hn}))",
    "\\mathbf{h}_t = (1 - \\mathbf{z}_t) \\odot \\mathbf{n}_t + \\mathbf{z}_t \\odot \\mathbf{h}_{t-1}",
]


Form = tuple[int, int, bool]  # hidden units, inputs, hidden biases given (three terms more)


def _form(p: GruStepParams) -> Form:
    return len(p.h_prev), len(p.x), p.b_hr is not None


def _draw(rng: np.random.Generator, form: Form | None = None) -> GruStepParams | None:
    """One draw of `generate` (None: refused); a given form keeps its sizes and hidden biases."""
    if form is None:
        h = int(rng.choice([1, 1, 2]))
        n_in = int(rng.choice([1, 2] if h == 1 else [1, 1, 2]))
        # One unit: r and U_n commute, so only b_hn (scaled by r) tells PyTorch's form from the textbook's.
        hidden_biases = rng.random() < 0.3 or h == 1
    else:
        h, n_in, hidden_biases = form
    params: dict[str, object] = {}
    params.update(gate_weights(rng, GROUPS, h, n_in, hidden_biases=hidden_biases))
    params["x"] = small_input(rng, n_in)
    params["h_prev"] = decimals(rng, -0.9, 0.9, h).tolist()
    p = GruStepParams.model_validate(params)
    # A nonzero previous state (so the reset gate matters), a nonzero input, no saturated unit,
    # and the textbook form refused.
    r = sigmoid(_input_part(p, "r") + _hidden_part(p, "r"))
    nets = np.concatenate(
        [_input_part(p, g) + _hidden_part(p, g) for g in ("r", "z")] + [_candidate_net(p, r, "pytorch")]
    )
    if any(p.x) and any(p.h_prev) and float(np.abs(nets).max()) <= 2.5 and _tells_conventions_apart(p):
        return p
    return None


@register
class GruStep(Family[GruStepParams]):
    id = "rnn.gru_step"
    version = 2  # 2: seeds pose only instances where the textbook form's n and h are refused
    same_params_since = 1  # only generate changed: stored params pose and grade what they did
    title = bi("GRU 单步计算", "One step of a GRU")
    difficulty = 3
    tags = ("rnn", "gru", "gates", "forward")
    Params = GruStepParams

    def generate(self, rng: np.random.Generator) -> GruStepParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: GruStepParams) -> Hashable:
        return _form(p)

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> GruStepParams | None:
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: GruStepParams) -> list[Part]:
        return state_parts(PARTS, PART_NAME, PART_TEX, len(p.h_prev))

    def solve(self, p: GruStepParams) -> dict[str, str]:
        v = _step(p)
        return {name: vec(v[name].tolist()) for name in PARTS}

    def statement(self, p: GruStepParams) -> dict[str, str]:
        h, n_in = len(p.h_prev), len(p.x)
        equations = "\n".join(f"$${e}$$" for e in EQUATIONS)
        rows = []
        for g in GROUPS:
            hidden_bias = getattr(p, f"b_h{g}")
            extra = (
                f", \\quad \\mathbf{{b}}_{{h{g}}} = {tex_column(hidden_bias)}"
                if hidden_bias is not None
                else ""
            )
            rows.append(
                f"$$W_{g} = {tex_matrix(getattr(p, f'W_{g}'))}, \\quad U_{g} = {tex_matrix(getattr(p, f'U_{g}'))}, "
                f"\\quad \\mathbf{{b}}_{g} = {tex_column(getattr(p, f'b_{g}'))}{extra}$$"
            )
        weights = "\n\n".join(rows)
        missing = [f"\\mathbf{{b}}_{{h{g}}}" for g in GROUPS if getattr(p, f"b_h{g}") is None]
        zero_zh = f"未给出的 ${', '.join(missing)}$ 为零向量。" if missing else ""
        zero_en = f" The biases ${', '.join(missing)}$ not given are zero." if missing else ""
        state = (
            f"$$\\mathbf{{x}}_t = {tex_column(p.x)}, \\quad \\mathbf{{h}}_{{t-1}} = {tex_column(p.h_prev)}$$"
        )
        return bi(
            f"一个门控循环单元 GRU（隐状态 {h} 维，输入 {n_in} 维）按 PyTorch `nn.GRUCell` 的公式计算，"
            f"$\\sigma$ 为 logistic 函数，$\\odot$ 为逐元素乘：\n\n{equations}\n\n"
            f"注意：教材（邱锡鹏）的写法把重置门先作用在 $\\mathbf{{h}}_{{t-1}}$ 上再乘 $U$，即 "
            f"$\\tilde{{\\mathbf{{h}}}}_t = \\tanh(W_h\\mathbf{{x}}_t + U_h(\\mathbf{{r}}_t \\odot \\mathbf{{h}}_{{t-1}}) + \\mathbf{{b}}_h)$，"
            f"$\\mathbf{{h}}_t = \\mathbf{{z}}_t \\odot \\mathbf{{h}}_{{t-1}} + (1 - \\mathbf{{z}}_t) \\odot \\tilde{{\\mathbf{{h}}}}_t$；"
            f"本题按上面 PyTorch 的写法（$\\mathbf{{r}}_t$ 乘在 $U_n\\mathbf{{h}}_{{t-1}} + \\mathbf{{b}}_{{hn}}$ 上）。\n\n"
            f"参数为\n\n{weights}\n\n{zero_zh}当前输入与上一时刻的隐状态为\n\n{state}\n\n"
            f"求重置门 $\\mathbf{{r}}_t$、更新门 $\\mathbf{{z}}_t$、候选状态 $\\mathbf{{n}}_t$ 和新的隐状态 $\\mathbf{{h}}_t$。",
            f"A gated recurrent unit (GRU; {h}-dimensional hidden state, {n_in}-dimensional input) computes by "
            f"PyTorch's `nn.GRUCell` equations, where $\\sigma$ is the logistic function and $\\odot$ the "
            f"elementwise product:\n\n{equations}\n\n"
            f"Note: the textbook (Qiu) applies the reset gate to $\\mathbf{{h}}_{{t-1}}$ before $U$, "
            f"$\\tilde{{\\mathbf{{h}}}}_t = \\tanh(W_h\\mathbf{{x}}_t + U_h(\\mathbf{{r}}_t \\odot \\mathbf{{h}}_{{t-1}}) + \\mathbf{{b}}_h)$, "
            f"$\\mathbf{{h}}_t = \\mathbf{{z}}_t \\odot \\mathbf{{h}}_{{t-1}} + (1 - \\mathbf{{z}}_t) \\odot \\tilde{{\\mathbf{{h}}}}_t$; "
            f"here use PyTorch's form above ($\\mathbf{{r}}_t$ multiplies $U_n\\mathbf{{h}}_{{t-1}} + \\mathbf{{b}}_{{hn}}$).\n\n"
            f"The parameters are\n\n{weights}\n\n{zero_en.strip()}{' ' if zero_en else ''}The current input and "
            f"the previous hidden state are\n\n{state}\n\n"
            f"Find the reset gate $\\mathbf{{r}}_t$, the update gate $\\mathbf{{z}}_t$, the candidate state "
            f"$\\mathbf{{n}}_t$ and the new hidden state $\\mathbf{{h}}_t$.",
        )

    def solution(self, p: GruStepParams) -> dict[str, list[str]]:
        v = _step(p)
        zh: list[str] = []
        en: list[str] = []
        for g in ("r", "z"):
            net = tex_state(_input_part(p, g) + _hidden_part(p, g))
            net_line = f"$W_{g}\\mathbf{{x}}_t + \\mathbf{{b}}_{g} + U_{g}\\mathbf{{h}}_{{t-1}} + \\mathbf{{b}}_{{h{g}}} = {net}$"
            value_line = f"${PART_TEX[g]} = \\sigma({net}) = {tex_state(v[g])}$"
            zh.append(f"{PART_NAME[g][0]}：{net_line}，{value_line}。")
            en.append(f"The {PART_NAME[g][1]}: {net_line}, {value_line}.")
        inner = tex_state(_hidden_part(p, "n"))
        net = tex_state(_candidate_net(p, v["r"], "pytorch"))
        n_steps = (
            f"$U_n\\mathbf{{h}}_{{t-1}} + \\mathbf{{b}}_{{hn}} = {inner}$",
            f"$W_n\\mathbf{{x}}_t + \\mathbf{{b}}_n + \\mathbf{{r}}_t \\odot {inner} = {net}$",
            f"$\\mathbf{{n}}_t = \\tanh({net}) = {tex_state(v['n'])}$",
        )
        h_line = (
            f"$\\mathbf{{h}}_t = (1 - \\mathbf{{z}}_t) \\odot \\mathbf{{n}}_t + \\mathbf{{z}}_t \\odot \\mathbf{{h}}_{{t-1}} "
            f"= {tex_state(1 - v['z'])} \\odot {tex_state(v['n'])} + "
            f"{tex_state(v['z'])} \\odot {tex_column(p.h_prev)} = {tex_state(v['h'])}$"
        )
        zh += [f"候选状态：{'，'.join(n_steps)}。", f"新的隐状态：{h_line}。"]
        en += [f"The candidate state: {', '.join(n_steps)}.", f"The new hidden state: {h_line}."]
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[GruStepParams]]:
        return [
            Misconception(
                "reset_before_recurrent_weights",
                bi(
                    "你用了教材的写法 U(r ⊙ h_{t-1})；本题按 PyTorch 的写法，重置门乘在 U_n h_{t-1} + b_hn 上："
                    "n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1} + b_hn))。",
                    "You used the textbook form U(r ⊙ h_{t-1}); this question follows PyTorch, where the reset gate "
                    "multiplies U_n h_{t-1} + b_hn: n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1} + b_hn)).",
                ),
                _variant(("n", "h"), reset="textbook"),
            ),
            Misconception(
                "update_gate_swapped",
                bi(
                    "更新门 z_t 保留的是旧状态：h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}，你把 z_t 和 1 - z_t 对调了。",
                    "The update gate z_t keeps the old state: h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}; you swapped "
                    "z_t and 1 - z_t.",
                ),
                _variant(("h",), swap_update=True),
            ),
            Misconception(
                "forgot_reset_gate",
                bi(
                    "候选状态里要用重置门 r_t 调节上一时刻的信息：n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1} + b_hn))。",
                    "The candidate uses the reset gate r_t on the previous state: "
                    "n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1} + b_hn)).",
                ),
                _variant(("n", "h"), reset="no_reset"),
            ),
            Misconception(
                "sigmoid_candidate",
                bi(
                    "候选状态用 tanh 而不是 sigmoid，取值在 (-1, 1)。",
                    "The candidate state uses tanh, not the sigmoid; it lies in (-1, 1).",
                ),
                _variant(("n", "h"), candidate=sigmoid),
            ),
            Misconception(
                "hidden_bias_outside_reset",
                bi(
                    "PyTorch 中 b_hn 在重置门的乘积之内：r_t ⊙ (U_n h_{t-1} + b_hn)。",
                    "In PyTorch b_hn is inside the reset gate's product: r_t ⊙ (U_n h_{t-1} + b_hn).",
                ),
                lambda p: _variant(("n", "h"), reset="bias_outside")(p) if p.b_hn and any(p.b_hn) else {},
            ),
        ]
