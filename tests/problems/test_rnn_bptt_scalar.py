"""rnn.bptt_scalar against PyTorch autograd (dh_T/dh_0), misconceptions worked by hand, params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rnn.bptt_scalar"


def torch_gradient(torch: Any, p: dict[str, Any]) -> float:
    """dh_T/dh_0 by autograd through the unrolled recurrence."""
    h0 = torch.tensor(p["h0"], dtype=torch.float64, requires_grad=True)
    h = h0
    for x in p["xs"]:
        h = torch.tanh(p["w"] * h + p["u"] * x)
    (grad,) = torch.autograd.grad(h, h0)
    return float(grad)


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: long sequences (vanishing), large w (exploding), saturation."""
    return {
        "w": round(float(rng.uniform(-4, 4)), 2),
        "u": round(float(rng.uniform(-3, 3)), 2),
        "xs": np.round(rng.uniform(-2, 2, int(rng.integers(1, 21))), 2).tolist(),
        "h0": round(float(rng.uniform(-1, 1)), 2),
    }


@pytest.mark.torch
def test_matches_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(10)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(700)]
    for params in cases:
        inst = instantiate(ID, params=params)
        part = inst.part("dhT_dh0")
        assert part is not None
        got = read(inst.answers["dhT_dh0"], part.spec).floats()
        # rel 1e-7, not 1e-9: near saturation 1 - h_t^2 cancels digits, and math.tanh and torch.tanh
        # differ in the last bit, which the cancellation magnifies (still far below the grading tolerance).
        assert got == pytest.approx(torch_gradient(torch, inst.params), rel=1e-7, abs=1e-300), inst.params


# Worked by hand: w = 0.5, u = 1, h_0 = 0, x = (1, 0): h_1 = tanh(1) = 0.76159, h_2 = tanh(0.5 h_1) = 0.36340;
# dh_2/dh_0 = 0.5(1 - h_1^2) * 0.5(1 - h_2^2) = 0.25 * 0.419974 * 0.867937 = 0.091127.
HAND = {"w": 0.5, "u": 1, "xs": [1, 0], "h0": 0}


@pytest.mark.parametrize(
    ("answer", "correct", "misconception"),
    [
        ("0.5*(1-tanh(1)^2) * 0.5*(1-tanh(0.5*tanh(1))^2)", True, None),
        ("0.0911", True, None),
        ("0.25", False, "forgot_tanh_derivative"),  # w^T
        ("0.5^2", False, "forgot_tanh_derivative"),
        ("0.5*(1-0^2) * 0.5*(1-tanh(1)^2)", False, "derivative_at_previous_state"),
        ("(1-tanh(1)^2)*(1-tanh(0.5*tanh(1))^2)", False, "forgot_recurrent_weight"),
        ("0.5*tanh(1)*(1-tanh(1)) * 0.5*0.3634*(1-0.3634)", False, "sigmoid_derivative"),
        ("-0.0911", False, None),
    ],
)
def test_hand_instance(answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {"dhT_dh0": answer}).parts["dhT_dh0"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


def test_vanishing_and_exploding() -> None:
    # seeds/003: the long-range dependency problem. |w (1 - h_t^2)| < 1 at every step shrinks the gradient
    # geometrically; zero inputs and h_0 = 0 keep h_t = 0, so the factor is exactly w.
    def gradient(w: float, steps: int) -> float:
        inst = instantiate(ID, params={"w": w, "u": 1, "xs": [0] * steps, "h0": 0})
        return float(read(inst.answers["dhT_dh0"], "real").floats())

    assert gradient(0.5, 20) == pytest.approx(0.5**20, rel=1e-12)
    assert gradient(2, 20) == pytest.approx(2.0**20, rel=1e-12)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**HAND, "w": 11}, "w"),
        ({**HAND, "u": float("nan")}, "u"),
        ({**HAND, "xs": []}, "xs"),
        ({**HAND, "xs": [0.1] * 21}, "xs"),
        ({**HAND, "xs": [1, 100]}, "xs"),
        ({**HAND, "h0": 2}, "h0"),
        ({**HAND, "b": 1}, "b"),
        ({"u": 1, "xs": [1]}, "w"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100
