"""Shared by the recurrent-network families: the params' number types, the gate nonlinearity, clean
random weights and the answer box of a state vector.

No family lives here; the registry imports this module like the others and finds nothing to register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
from pydantic import Field

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Part, bi
from problems.families.backprop_common import decimals
from problems.fmt import drop_round_off, tex_column

MAX_HIDDEN = 6
MAX_INPUT = 6
# Gates and states lie in (0, 1) or (-1, 1); a student carries three or four decimals by hand, so
# entries near 0 get an absolute floor instead of 3 significant figures.
STATE_ATOL = 1e-3

Entry = Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
HiddenVector = Annotated[list[Entry], Field(min_length=1, max_length=MAX_HIDDEN)]
InputVector = Annotated[list[Entry], Field(min_length=1, max_length=MAX_INPUT)]
InputWeights = Annotated[list[InputVector], Field(min_length=1, max_length=MAX_HIDDEN)]
HiddenWeights = Annotated[list[HiddenVector], Field(min_length=1, max_length=MAX_HIDDEN)]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function of the gates, elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def check_gate_shapes(params: object, gates: Sequence[str], hidden: int, inputs: int) -> None:
    """Every gate's W is hidden x input, U hidden x hidden, b (and a second bias b_h, if any) hidden.

    Raise ValueError naming the field, so that a bad param gets a 422 that says which one.
    """
    for g in gates:
        w, u = getattr(params, f"W_{g}"), getattr(params, f"U_{g}")
        if len(w) != hidden or any(len(row) != inputs for row in w):
            raise ValueError(f"W_{g}: must be {hidden} x {inputs} (hidden x input: len(h_prev) x len(x))")
        if len(u) != hidden or any(len(row) != hidden for row in u):
            raise ValueError(f"U_{g}: must be {hidden} x {hidden} (hidden x hidden, hidden = len(h_prev))")
        for name in (f"b_{g}", f"b_h{g}"):
            bias = getattr(params, name, None)
            if bias is not None and len(bias) != hidden:
                raise ValueError(
                    f"{name}: needs {hidden} {plural(hidden, 'entry', 'entries')} (hidden = len(h_prev))"
                )


def tex_state(values: np.ndarray) -> str:
    """A computed column (net input, gate, state) in a worked step: 4 significant figures, a cancellation as 0."""
    return tex_column(drop_round_off(values.tolist()), 4)


def gate_weights(
    rng: np.random.Generator, gates: Sequence[str], hidden: int, inputs: int, hidden_biases: bool = False
) -> dict[str, object]:
    """W_g, U_g, b_g (and PyTorch's second bias b_hg) of every gate, one decimal each: numbers to work by hand."""
    params: dict[str, object] = {}
    for g in gates:
        params[f"W_{g}"] = decimals(rng, -1.0, 1.0, (hidden, inputs)).tolist()
        params[f"U_{g}"] = decimals(rng, -1.0, 1.0, (hidden, hidden)).tolist()
        params[f"b_{g}"] = decimals(rng, -0.5, 0.5, hidden).tolist()
        if hidden_biases:
            params[f"b_h{g}"] = decimals(rng, -0.5, 0.5, hidden).tolist()
    return params


def small_input(rng: np.random.Generator, size: int) -> list[float]:
    """An input vector of integers or halves in [-2, 2]."""
    return (rng.integers(-2, 3, size=size) / (1 if rng.random() < 0.5 else 2)).tolist()


def state_parts(
    names: Sequence[str], labels: dict[str, tuple[str, str]], tex: dict[str, str], size: int
) -> list[Part]:
    """One vector answer box per gate or state, labelled in both languages."""
    return [
        Part(
            name,
            AnswerSpec("vector", atol=STATE_ATOL),
            bi(
                f"{labels[name][0]} ${tex[name]}$（{size} 维）",
                f"{labels[name][1]} ${tex[name]}$ ({size}-dimensional)",
            ),
            bi(
                "向量，如 [0.525, 0.31]，保留 3 位小数即可",
                "a vector, e.g. [0.525, 0.31]; three decimals are enough",
            ),
        )
        for name in names
    ]
