"""rnn.srn_forward against PyTorch's nn.RNNCell, the seed's SRN formula (seeds/003), params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rnn.srn_forward"


def torch_states(torch: Any, p: dict[str, Any]) -> list[list[float]]:
    """h_1 .. h_T from nn.RNNCell (tanh) with W as weight_ih, U as weight_hh, b as bias_ih, bias_hh = 0."""
    h, n_in = len(p["U"]), len(p["W"][0])
    cell = torch.nn.RNNCell(n_in, h, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(p["W"], dtype=torch.float64))
        cell.weight_hh.copy_(torch.tensor(p["U"], dtype=torch.float64))
        cell.bias_ih.copy_(torch.tensor(p["b"], dtype=torch.float64))
        cell.bias_hh.zero_()
        state = (
            torch.zeros(1, h, dtype=torch.float64)
            if p["h0"] is None
            else torch.tensor([p["h0"]], dtype=torch.float64)
        )
        out = []
        for x in p["xs"]:
            state = cell(torch.tensor([x], dtype=torch.float64), state)
            out.append(state[0].tolist())
    return out


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 6 units, 8 steps, two decimals, saturating units."""
    h, n_in, steps = (int(rng.integers(1, k)) for k in (7, 7, 9))
    return {
        "U": np.round(rng.uniform(-2, 2, (h, h)), 2).tolist(),
        "W": np.round(rng.uniform(-2, 2, (h, n_in)), 2).tolist(),
        "b": np.round(rng.uniform(-1, 1, h), 2).tolist(),
        "xs": np.round(rng.uniform(-3, 3, (steps, n_in)), 2).tolist(),
        "h0": None if rng.random() < 0.3 else np.round(rng.uniform(-1, 1, h), 2).tolist(),
    }


@pytest.mark.torch
def test_matches_pytorch_rnn_cell() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(6)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(650)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        expected = torch_states(torch, inst.params)
        for t, want in enumerate(expected, start=1):
            part = inst.part(f"h_{t}")
            assert part is not None
            got = read(inst.answers[f"h_{t}"], part.spec).floats()
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=str(inst.params))
            compared += len(want)
    assert len(cases) >= 1000 and compared > 3000


# seeds/003 (第七章 SRN): h_t = f(U h_{t-1} + W x_t + b) with f = tanh. Worked by hand for
# U = 0.5, W = 1, b = 0, h_0 = 0 and x = (1, 0): h_1 = tanh(1) = 0.7616, h_2 = tanh(0.5 tanh(1)) = 0.3634.
SEED_SRN = {"U": [[0.5]], "W": [[1]], "b": [0], "xs": [[1], [0]]}


@pytest.mark.parametrize(
    ("answers", "correct"),
    [
        ({"h_1": "tanh(1)", "h_2": "tanh(0.5*tanh(1))"}, {"h_1": True, "h_2": True}),
        ({"h_1": "[0.7616]", "h_2": "[0.3634]"}, {"h_1": True, "h_2": True}),
        ({"h_1": "0.762", "h_2": "0.363"}, {"h_1": True, "h_2": True}),
        ({"h_1": "0.7616", "h_2": "0.5*0.7616"}, {"h_1": True, "h_2": False}),  # forgot tanh at step 2
    ],
)
def test_seed_formula_by_hand(answers: dict[str, str], correct: dict[str, bool]) -> None:
    res = grade_answers(instantiate(ID, params=SEED_SRN), answers)
    assert {k: r.correct for k, r in res.parts.items()} == correct


# A 2-unit instance worked by hand: U = [[0.5, 0], [0, -0.5]], W = [[1], [2]], b = [0.1, 0], h_0 = [1, 1],
# x_1 = 0.5: net = (0.5 + 0.5 + 0.1, -0.5 + 1) = (1.1, 0.5).
TWO_UNITS = {"U": [[0.5, 0], [0, -0.5]], "W": [[1], [2]], "b": [0.1, 0], "xs": [[0.5]], "h0": [1, 1]}


@pytest.mark.parametrize(
    ("answer", "correct", "misconception"),
    [
        ("[tanh(1.1), tanh(0.5)]", True, None),
        ("[0.8005, 0.4621]", True, None),
        ("[sigmoid(1.1), sigmoid(0.5)]", False, "sigmoid_instead_of_tanh"),
        ("[tanh(0.6), tanh(1)]", False, "forgot_recurrent_term"),  # W x + b only
        ("[1.1, 0.5]", False, "forgot_activation"),
        ("[tanh(1), tanh(0.5)]", False, "forgot_bias"),
        ("[0.8005, 0.4621, 0]", False, None),  # wrong length
    ],
)
def test_answers_and_misconceptions(answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=TWO_UNITS), {"h_1": answer}).parts["h_1"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**TWO_UNITS, "U": [[0.5, 0]]}, "U"),
        ({**TWO_UNITS, "W": [[1]]}, "W"),
        ({**TWO_UNITS, "W": [[1], [2, 3]]}, "W"),
        ({**TWO_UNITS, "b": [0.1]}, "b"),
        ({**TWO_UNITS, "xs": [[0.5, 1]]}, "xs"),
        ({**TWO_UNITS, "xs": []}, "xs"),
        ({**TWO_UNITS, "xs": [[1]] * 9}, "xs"),
        ({**TWO_UNITS, "h0": [1]}, "h0"),
        ({**TWO_UNITS, "b": [float("nan"), 0]}, "b"),
        ({**TWO_UNITS, "U": [[1e6, 0], [0, 1]]}, "U"),
        ({**TWO_UNITS, "V": [[1]]}, "V"),
        ({"W": [[1]], "b": [0], "xs": [[1]]}, "U"),
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
