"""rnn.lstm_step against PyTorch's nn.LSTMCell, the seed's LSTM equations (seeds/003), params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rnn.lstm_step"
PARTS = ("i", "f", "o", "c_tilde", "c", "h")


def torch_step(torch: Any, p: dict[str, Any]) -> dict[str, list[float]]:
    """Every part from nn.LSTMCell with our weights copied in (PyTorch stacks the gates as i, f, g, o)."""
    f64 = torch.float64
    h, n_in = len(p["h_prev"]), len(p["x"])
    cell = torch.nn.LSTMCell(n_in, h, dtype=f64)
    order = ("i", "f", "c", "o")  # PyTorch's g is the candidate c~
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([torch.tensor(p[f"W_{g}"], dtype=f64) for g in order]))
        cell.weight_hh.copy_(torch.cat([torch.tensor(p[f"U_{g}"], dtype=f64) for g in order]))
        cell.bias_ih.copy_(torch.cat([torch.tensor(p[f"b_{g}"], dtype=f64) for g in order]))
        cell.bias_hh.zero_()
        x = torch.tensor([p["x"]], dtype=f64)
        h_prev = torch.tensor([p["h_prev"]], dtype=f64)
        c_prev = torch.tensor([p["c_prev"]], dtype=f64)
        h_new, c_new = cell(x, (h_prev, c_prev))
        # The gates as the cell computes them internally, from the cell's own (reordered) tensors.
        pre = x @ cell.weight_ih.T + cell.bias_ih + h_prev @ cell.weight_hh.T + cell.bias_hh
        i, f, g, o = pre.chunk(4, dim=1)
    return {
        "i": torch.sigmoid(i)[0].tolist(),
        "f": torch.sigmoid(f)[0].tolist(),
        "o": torch.sigmoid(o)[0].tolist(),
        "c_tilde": torch.tanh(g)[0].tolist(),
        "c": c_new[0].tolist(),
        "h": h_new[0].tolist(),
    }


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 6 units and inputs, two decimals, saturating gates."""
    h, n_in = int(rng.integers(1, 7)), int(rng.integers(1, 7))

    def arr(*shape: int, scale: float = 2.0) -> list:
        return np.round(rng.uniform(-scale, scale, shape), 2).tolist()

    params: dict[str, Any] = {}
    for g in ("i", "f", "o", "c"):
        params[f"W_{g}"], params[f"U_{g}"], params[f"b_{g}"] = arr(h, n_in), arr(h, h), arr(h, scale=1)
    params.update(x=arr(n_in, scale=3), h_prev=arr(h, scale=1), c_prev=arr(h, scale=3))
    return params


@pytest.mark.torch
def test_matches_pytorch_lstm_cell() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(8)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(650)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        expected = torch_step(torch, inst.params)
        for name in PARTS:
            part = inst.part(name)
            assert part is not None
            got = read(inst.answers[name], part.spec).floats()
            np.testing.assert_allclose(
                got, expected[name], rtol=1e-9, atol=1e-12, err_msg=f"{name} {inst.params}"
            )
            compared += len(got)
    assert len(cases) >= 1000 and compared > 6000


def zeros(h: int, n: int) -> list[list[float]]:
    return [[0.0] * n for _ in range(h)]


# seeds/003 (LSTM): three gates i_t, f_t, o_t, c_t = f_t ⊙ c_{t-1} + i_t ⊙ c~_t, h_t = o_t ⊙ tanh(c_t).
# Worked by hand with all W and U zero: i = f = o = sigmoid(b), c~ = tanh(b_c). With b_i = b_f = b_o = 0,
# b_c = 0.5 and c_{t-1} = 2: i = f = o = 0.5, c~ = tanh(0.5) = 0.4621,
# c = 0.5*2 + 0.5*0.4621 = 1.2311, h = 0.5*tanh(1.2311) = 0.4216.
SEED_LSTM: dict[str, Any] = {
    **{f"W_{g}": zeros(1, 1) for g in "ifoc"},
    **{f"U_{g}": zeros(1, 1) for g in "ifoc"},
    **{f"b_{g}": [0.0] for g in "ifo"},
    "b_c": [0.5],
    "x": [1.0],
    "h_prev": [0.3],
    "c_prev": [2.0],
}
SEED_ANSWERS = {
    "i": "sigmoid(0)",
    "f": "0.5",
    "o": "[0.5]",
    "c_tilde": "tanh(0.5)",
    "c": "[0.5*2 + 0.5*tanh(0.5)]",
    "h": "0.5*tanh(1.2311)",
}


def test_seed_equations_by_hand() -> None:
    res = grade_answers(instantiate(ID, params=SEED_LSTM), SEED_ANSWERS)
    assert res.score == 1.0, res


@pytest.mark.parametrize(
    ("part", "answer", "misconception"),
    [
        ("c", "[0.5*2 + tanh(0.5)]", "forgot_input_gate"),  # 1.4621
        ("c", "[2 + 0.5*tanh(0.5)]", "forgot_forget_gate"),
        ("h", "0.5*1.2311", "forgot_tanh_of_cell"),
        ("c_tilde", "sigmoid(0.5)", "sigmoid_candidate"),
        ("c", "[0.5*2 + 0.5*sigmoid(0.5)]", "sigmoid_candidate"),
    ],
)
def test_seed_misconceptions(part: str, answer: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=SEED_LSTM), {part: answer}).parts[part]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_swapped_gates_in_the_cell_state() -> None:
    # Distinct gates: b_i = 1, b_f = -1 (W = U = 0) give i = sigmoid(1), f = sigmoid(-1).
    params = {**SEED_LSTM, "b_i": [1.0], "b_f": [-1.0]}
    right = "[sigmoid(-1)*2 + sigmoid(1)*tanh(0.5)]"
    swapped = "[sigmoid(1)*2 + sigmoid(-1)*tanh(0.5)]"
    res = grade_answers(instantiate(ID, params=params), {"c": right})
    assert res.parts["c"].correct
    r = grade_answers(instantiate(ID, params=params), {"c": swapped}).parts["c"]
    assert (r.correct, r.misconception) == (False, "gates_swapped_in_cell")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**SEED_LSTM, "W_i": [[0.0, 1.0]]}, "W_i"),
        ({**SEED_LSTM, "W_c": zeros(2, 1)}, "W_c"),
        ({**SEED_LSTM, "U_f": zeros(1, 2)}, "U_f"),
        ({**SEED_LSTM, "b_o": [0.0, 0.0]}, "b_o"),
        ({**SEED_LSTM, "c_prev": [1.0, 2.0]}, "c_prev"),
        ({**SEED_LSTM, "x": []}, "x"),
        ({**SEED_LSTM, "h_prev": [float("inf")]}, "h_prev"),
        ({**SEED_LSTM, "b_g": [0.0]}, "b_g"),
        ({k: v for k, v in SEED_LSTM.items() if k != "U_o"}, "U_o"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200
