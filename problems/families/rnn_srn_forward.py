"""rnn.srn_forward: the hidden states of a simple recurrent network, h_t = tanh(U h_{t-1} + W x_t + b) (seeds/003)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Annotated, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi, first_drawn
from problems.families.backprop_common import decimals
from problems.families.rnn_common import MAX_HIDDEN, STATE_ATOL, HiddenVector, InputVector, sigmoid, tex_state
from problems.fmt import tex_column, tex_matrix, vec
from problems.registry import register

MAX_STEPS = 8


class SrnForwardParams(Params):
    U: Annotated[list[HiddenVector], Field(min_length=1, max_length=MAX_HIDDEN)] = Field(
        description="recurrent weights, hidden x hidden (rows)"
    )
    W: Annotated[list[InputVector], Field(min_length=1, max_length=MAX_HIDDEN)] = Field(
        description="input weights, hidden x input (rows)"
    )
    b: HiddenVector = Field(description="bias, hidden")
    xs: Annotated[list[InputVector], Field(min_length=1, max_length=MAX_STEPS)] = Field(
        description="inputs x_1 .. x_T"
    )
    h0: HiddenVector | None = Field(default=None, description="initial state h_0 (zeros if left out)")

    @model_validator(mode="after")
    def _check(self) -> SrnForwardParams:
        h = len(self.U)
        if any(len(row) != h for row in self.U):
            raise ValueError(f"U: must be square, {h} x {h} (hidden x hidden)")
        if len(self.W) != h:
            raise ValueError(f"W: needs {h} {plural(h, 'row', 'rows')}, one per hidden unit (U is {h} x {h})")
        n_in = len(self.W[0])
        if any(len(row) != n_in for row in self.W):
            raise ValueError("W: every row must have the same length (the input size)")
        if len(self.b) != h:
            raise ValueError(f"b: needs {h} {plural(h, 'entry', 'entries')}, one per hidden unit")
        if any(len(x) != n_in for x in self.xs):
            raise ValueError(
                f"xs: every input x_t must have {n_in} {plural(n_in, 'entry', 'entries')} (the columns of W)"
            )
        if self.h0 is not None and len(self.h0) != h:
            raise ValueError(f"h0: needs {h} {plural(h, 'entry', 'entries')}, one per hidden unit")
        return self


def _initial(p: SrnForwardParams) -> np.ndarray:
    return np.zeros(len(p.U)) if p.h0 is None else np.array(p.h0, dtype=float)


def _run(
    p: SrnForwardParams,
    activation: Callable[[np.ndarray], np.ndarray] = np.tanh,
    recurrent: bool = True,
    bias: bool = True,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return (net input, state) for t = 1 .. T, by the formula (or a misconception's variant of it)."""
    u, w, b = np.array(p.U, dtype=float), np.array(p.W, dtype=float), np.array(p.b, dtype=float)
    h = _initial(p)
    steps = []
    for x in p.xs:
        net = w @ np.array(x, dtype=float) + (u @ h if recurrent else 0.0) + (b if bias else 0.0)
        h = activation(net)
        steps.append((net, h))
    return steps


def _answers(steps: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, str]:
    return {f"h_{t}": vec(h.tolist()) for t, (_, h) in enumerate(steps, start=1)}


def _identity(z: np.ndarray) -> np.ndarray:
    return z


# The sizes (hidden units, inputs, steps) and whether h0 is given (else zero: a first step with no
# recurrence to compute).
Form = tuple[int, int, int, bool]


def _form(p: SrnForwardParams) -> Form:
    return len(p.U), len(p.W[0]), len(p.xs), p.h0 is not None


def _draw(rng: np.random.Generator, form: Form | None = None) -> SrnForwardParams | None:
    """One draw of `generate` (None: refused); a given form keeps its sizes and h0 (given or not)."""
    if form is None:
        h = int(rng.choice([1, 2, 2, 3]))
        n_in = int(rng.choice([1, 2, 3] if h < 3 else [1, 2]))
        steps = int(rng.choice([2, 3] if h * (h + n_in) > 6 else [2, 3, 4]))
    else:
        h, n_in, steps, _ = form
    u = decimals(rng, -0.9, 0.9, (h, h))
    w = decimals(rng, -1.0, 1.0, (h, n_in))
    b = decimals(rng, -0.5, 0.5, h) if rng.random() < 0.7 else np.zeros(h)
    xs = rng.integers(-2, 3, size=(steps, n_in)).astype(float)
    if rng.random() < 0.4:
        xs = decimals(rng, -1.5, 1.5, (steps, n_in))
    given = rng.random() >= 0.5 if form is None else form[3]
    h0 = decimals(rng, -0.9, 0.9, h).tolist() if given else None
    p = SrnForwardParams(U=u.tolist(), W=w.tolist(), b=b.tolist(), xs=xs.tolist(), h0=h0)
    # A recurrence that matters, inputs that do, and no saturated units (|net| <= 2.5):
    # otherwise every state is near +-1 and a wrong activation hardly shows.
    if not (u.any() and w.any() and xs.any()):
        return None
    return p if max(float(np.abs(net).max()) for net, _ in _run(p)) <= 2.5 else None


@register
class SrnForward(Family[SrnForwardParams]):
    id = "rnn.srn_forward"
    version = 1
    title = bi("简单循环网络的前向计算", "Forward pass of a simple recurrent network")
    difficulty = 2
    tags = ("rnn", "srn", "forward")
    Params = SrnForwardParams

    def generate(self, rng: np.random.Generator) -> SrnForwardParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: SrnForwardParams) -> Hashable:
        return _form(p)

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> SrnForwardParams | None:
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: SrnForwardParams) -> list[Part]:
        h = len(p.U)
        return [
            Part(
                f"h_{t}",
                AnswerSpec("vector", atol=STATE_ATOL),
                bi(
                    f"隐状态 $\\mathbf{{h}}_{{{t}}}$（{h} 维）",
                    f"hidden state $\\mathbf{{h}}_{{{t}}}$ ({h}-dimensional)",
                ),
                bi(
                    "向量，如 [0.462, -0.197]，保留 3 位小数即可",
                    "a vector, e.g. [0.462, -0.197]; three decimals are enough",
                ),
            )
            for t in range(1, len(p.xs) + 1)
        ]

    def solve(self, p: SrnForwardParams) -> dict[str, str]:
        return _answers(_run(p))

    def statement(self, p: SrnForwardParams) -> dict[str, str]:
        h, n_in, steps = len(p.U), len(p.W[0]), len(p.xs)
        h0 = "\\mathbf{0}" if p.h0 is None else tex_column(p.h0)
        xs = ", \\quad ".join(f"\\mathbf{{x}}_{{{t}}} = {tex_column(x)}" for t, x in enumerate(p.xs, start=1))
        given = (
            f"$$U = {tex_matrix(p.U)}, \\quad W = {tex_matrix(p.W)}, \\quad \\mathbf{{b}} = {tex_column(p.b)}, "
            f"\\quad \\mathbf{{h}}_0 = {h0}$$\n\n$${xs}$$"
        )
        asked = ", ".join(f"$\\mathbf{{h}}_{{{t}}}$" for t in range(1, steps + 1))
        return bi(
            f"简单循环网络（SRN）的隐状态按 $\\mathbf{{h}}_t = \\tanh(U\\mathbf{{h}}_{{t-1}} + W\\mathbf{{x}}_t + \\mathbf{{b}})$ "
            f"更新，隐状态为 {h} 维，输入为 {n_in} 维，参数与输入序列如下：\n\n{given}\n\n"
            f"依次求隐状态 {asked.replace(', ', '、')}（$\\tanh$ 逐元素作用）。",
            f"A simple recurrent network (SRN) updates its hidden state by "
            f"$\\mathbf{{h}}_t = \\tanh(U\\mathbf{{h}}_{{t-1}} + W\\mathbf{{x}}_t + \\mathbf{{b}})$; the state is "
            f"{h}-dimensional and the input {n_in}-dimensional. The parameters and the input sequence are:\n\n{given}\n\n"
            f"Find the hidden states {asked} in turn ($\\tanh$ acts elementwise).",
        )

    def solution(self, p: SrnForwardParams) -> dict[str, list[str]]:
        u, w, b = np.array(p.U, dtype=float), np.array(p.W, dtype=float), np.array(p.b, dtype=float)
        prev = _initial(p)
        zh: list[str] = []
        en: list[str] = []
        for t, x in enumerate(p.xs, start=1):
            x_arr = np.array(x, dtype=float)
            uh, wx = u @ prev, w @ x_arr
            net = uh + wx + b
            # For display only: a net input that cancels shows as 0, not as round-off.
            uh_text, wx_text, net_text = (tex_state(v) for v in (uh, wx, net))
            state = np.tanh(net)
            line = (
                f"$U\\mathbf{{h}}_{{{t - 1}}} = {uh_text}$, "
                f"$W\\mathbf{{x}}_{{{t}}} = {wx_text}$, "
                f"$U\\mathbf{{h}}_{{{t - 1}}} + W\\mathbf{{x}}_{{{t}}} + \\mathbf{{b}} = {net_text}$"
            )
            result = f"$\\mathbf{{h}}_{{{t}}} = \\tanh({net_text}) = {tex_state(state)}$"
            zh.append(f"第 {t} 步：{line.replace('$, $', '$，$')}；{result}。")
            en.append(f"Step {t}: {line}; {result}.")
            prev = state
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[SrnForwardParams]]:
        return [
            Misconception(
                "sigmoid_instead_of_tanh",
                bi(
                    "你用了 sigmoid 激活；这里的简单循环网络用 tanh：h_t = tanh(U h_{t-1} + W x_t + b)。",
                    "You used the sigmoid; this SRN uses tanh: h_t = tanh(U h_{t-1} + W x_t + b).",
                ),
                lambda p: _answers(_run(p, activation=sigmoid)),
            ),
            Misconception(
                "forgot_recurrent_term",
                bi(
                    "你漏掉了循环项 U h_{t-1}：每一步都要把上一时刻的隐状态传进来，这正是循环网络的记忆。",
                    "You left out the recurrent term U h_{t-1}: every step takes the previous hidden state, "
                    "which is what gives the network its memory.",
                ),
                lambda p: _answers(_run(p, recurrent=False)),
            ),
            Misconception(
                "forgot_activation",
                bi(
                    "你没有经过 tanh 激活：净输入 U h_{t-1} + W x_t + b 还要再取 tanh 才是 h_t。",
                    "You did not apply tanh: the net input U h_{t-1} + W x_t + b goes through tanh to give h_t.",
                ),
                lambda p: _answers(_run(p, activation=_identity)),
            ),
            Misconception(
                "forgot_bias",
                bi(
                    "你漏掉了偏置 b。",
                    "You left out the bias b.",
                ),
                lambda p: _answers(_run(p, bias=False)) if any(p.b) else {},
            ),
        ]
