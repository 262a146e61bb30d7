"""backprop.mlp_regression against PyTorch autograd, the answer key of seeds/002 1.1, params validation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "backprop.mlp_regression"


def torch_answers(torch: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Forward and backward of the seed's model, h = Wx + b, a = ReLU(h), y_hat = Ua + d, L = (y - y_hat)^2."""

    def leaf(v: Any) -> Any:
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    w, b, u, d = leaf(p["W"]), leaf(p["b"]), leaf(p["U"]), leaf(float(p["d"]))
    x = torch.tensor(p["x"], dtype=torch.float64)
    layer1 = torch.nn.functional.linear(x, w, b)
    y_hat = (u @ torch.relu(layer1)).squeeze(0) + d
    loss = torch.nn.functional.mse_loss(y_hat, torch.tensor(float(p["y"]), dtype=torch.float64))
    loss.backward()
    return {
        "y_hat": y_hat.item(),
        "loss": loss.item(),
        "grad_d": d.grad.item(),
        "grad_U": u.grad[0].tolist(),
        "grad_W": w.grad.tolist(),
        "grad_b": b.grad.tolist(),
    }


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 5 x 5, two decimals, all units possibly inactive."""
    while True:
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        p = {
            "x": np.round(rng.uniform(-3, 3, n), 2).tolist(),
            "W": np.round(rng.uniform(-2, 2, (m, n)), 2).tolist(),
            "b": np.round(rng.uniform(-1, 1, m), 2).tolist(),
            "U": [np.round(rng.uniform(-2, 2, m), 2).tolist()],
            "d": round(float(rng.uniform(-1, 1)), 2),
            "y": round(float(rng.uniform(-3, 3)), 2),
        }
        h = np.array(p["W"]) @ np.array(p["x"]) + np.array(p["b"])
        if (np.abs(h) > 1e-6).all():  # away from the ReLU kink, where torch picks a subgradient
            return p


@pytest.mark.torch
def test_matches_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(11)
    cases = [instantiate(ID, seed=seed).params for seed in range(450)]
    cases += [random_params(rng) for _ in range(600)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        for name, expected in torch_answers(torch, inst.params).items():
            got = json.loads(inst.answers[name])  # canonical numbers, vectors, matrices are plain JSON
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} {params}")
            compared += 1
    assert len(cases) >= 1000 and compared >= 6000


# seeds/002 1.1, its answer key's formulas checked on numbers worked by hand:
# x = (1, 2), W = [[0.5, -1], [1, 0.5]], b = (0.5, 0), U = (2, -1), d = 0.5, y = 1.
# h = (0.5 - 2 + 0.5, 1 + 1 + 0) = (-1, 2), a = (0, 2), y_hat = -2 + 0.5 = -1.5, L = 2.5^2 = 6.25.
# dL/dd = 2(y_hat - y) = -5; dL/dU = -5 a = (0, -10); dL/db = -5 U * 1(h > 0) = (0, 5);
# dL/dW = (dL/db) x^T = [[0, 0], [5, 10]].
SEED_002 = {"x": [1, 2], "W": [[0.5, -1], [1, 0.5]], "b": [0.5, 0], "U": [[2, -1]], "d": 0.5, "y": 1}
BY_HAND = {
    "y_hat": -1.5,
    "loss": 6.25,
    "grad_d": -5.0,
    "grad_U": [0.0, -10.0],
    "grad_W": [[0.0, 0.0], [5.0, 10.0]],
    "grad_b": [0.0, 5.0],
}


@pytest.mark.torch
def test_hand_worked_seed_002_agrees_with_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    assert torch_answers(torch, SEED_002) == BY_HAND


def test_seed_002_answer_key_formulas_score_full_marks() -> None:
    # The key's formulas with the numbers put in, as a student types them.
    answers = {
        "y_hat": "2*0 + (-1)*2 + 0.5",
        "loss": "(1 - (-1.5))^2",
        "grad_d": "2*(-1.5 - 1)",
        "grad_U": "[2*(-1.5-1)*0, 2*(-1.5-1)*2]",
        "grad_W": "[[2*(-1.5-1)*2*0*1, 2*(-1.5-1)*2*0*2], [2*(-1.5-1)*(-1)*1*1, 2*(-1.5-1)*(-1)*1*2]]",
        "grad_b": "[0, 2*(-1.5-1)*(-1)]",
    }
    res = grade_answers(instantiate(ID, params=SEED_002), answers)
    assert res.score == 1.0, res
    assert (
        grade_answers(instantiate(ID, params=SEED_002), {k: json.dumps(v) for k, v in BY_HAND.items()}).score
        == 1.0
    )


@pytest.mark.parametrize(
    ("part", "answer", "misconception"),
    [
        ("grad_d", "5", "grad_sign"),
        ("grad_d", "-2.5", "forgot_factor_2"),
        ("grad_U", "[0, 10]", "grad_sign"),
        ("grad_U", "[-5*(-1), -10]", "grad_U_used_h"),
        ("grad_b", "[-10, 5]", "forgot_relu_mask"),
        ("grad_b", "[0, -5]", "grad_sign"),
        ("grad_W", "[[-10, -20], [5, 10]]", "forgot_relu_mask"),
        ("grad_W", "[[0, 5], [0, 10]]", "grad_W_transposed"),
        ("grad_W", "[[0, 0], [2.5, 5]]", "forgot_factor_2"),
        ("y_hat", "2*(-1) + (-1)*2 + 0.5", "forgot_relu_forward"),
        ("loss", "(1 - (-3.5))^2", "forgot_relu_forward"),
        ("loss", "6.25/2", "forgot_factor_2"),
        ("grad_d", "-4", None),
    ],
)
def test_seed_002_wrong_answers_get_feedback(part: str, answer: str, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=SEED_002), {part: answer}).parts[part]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_transposed_gradient_of_a_non_square_layer_is_named() -> None:
    # x = (1, 2, -1), W = [[1, 0, 0], [0, 1, 1]], b = 0, U = (1, 1), d = 0, y = 0: h = a = (1, 1), y_hat = 2,
    # dL/dy_hat = 4, dL/db = (4, 4), dL/dW = [[4, 8, -4], [4, 8, -4]] (2 x 3); its transpose is 3 x 2.
    p = {"x": [1, 2, -1], "W": [[1, 0, 0], [0, 1, 1]], "b": [0, 0], "U": [1, 1], "d": 0, "y": 0}
    inst = instantiate(ID, params=p)
    assert grade_answers(inst, {"grad_W": "[[4, 8, -4], [4, 8, -4]]"}).parts["grad_W"].score == 1.0
    r = grade_answers(inst, {"grad_W": "[[4, 4], [8, 8], [-4, -4]]"}).parts["grad_W"]
    assert (r.correct, r.misconception) == (False, "grad_W_transposed") and r.feedback


def test_flat_u_is_read_as_its_single_row() -> None:
    flat = instantiate(ID, params={**SEED_002, "U": [2, -1]})
    assert flat.params["U"] == [[2.0, -1.0]]
    assert flat.answers == instantiate(ID, params=SEED_002).answers


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**SEED_002, "W": [[0.5, -1], [1]]}, "W"),
        ({**SEED_002, "W": [[0.5, -1, 0], [1, 0.5, 0]]}, "W"),
        ({**SEED_002, "b": [0.5]}, "b"),
        ({**SEED_002, "U": [[2, -1, 3]]}, "U"),
        ({**SEED_002, "U": [[2, -1], [1, 1]]}, "U"),
        ({**SEED_002, "b": [1.5, 0]}, "b"),  # h_1 = 0: ReLU's kink
        (
            {**SEED_002, "x": [0.1, 0.2], "W": [[3, 0], [1, 0.5]], "b": [-0.3, 0]},
            "b",
        ),  # 0.1*3 - 0.3: a float 0
        ({**SEED_002, "d": float("inf")}, "d"),
        ({**SEED_002, "y": 1e6}, "y"),
        ({**SEED_002, "x": [1.0] * 6, "W": [[1.0] * 6] * 2}, "x"),
        ({k: v for k, v in SEED_002.items() if k != "y"}, "y"),
        ({**SEED_002, "V": [[1]]}, "V"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generated_instances_stay_off_the_relu_kink_and_use_the_mask() -> None:
    for seed in range(200):
        p = instantiate(ID, seed=seed).params
        h = np.array(p["W"]) @ np.array(p["x"]) + np.array(p["b"])
        assert (np.abs(h) >= 0.1 - 1e-9).all() and (h > 0).any()
        assert len(h) == 1 or (h < 0).any()


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 300


def test_worked_loss_brackets_a_negative_prediction() -> None:
    # Seed 0 predicts y_hat = -1.222 for y = 2: the step read "(2 - -1.222)^2".
    inst = instantiate("backprop.mlp_regression", seed=0)
    assert inst.params["y"] == 2 and float(inst.answers["y_hat"]) == pytest.approx(-1.222)
    for lang in ("zh", "en"):
        step = inst.solution()[lang][1]
        assert "(2 - (-1.222))^2" in step and "- -" not in step
