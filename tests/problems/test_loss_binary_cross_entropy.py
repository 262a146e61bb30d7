"""loss.binary_cross_entropy against PyTorch (sigmoid, BCE with logits, autograd), seeds/003, params."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "loss.binary_cross_entropy"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 8 features, two decimals, logits up to about +-25."""
    while True:
        n = int(rng.integers(1, 9))
        p = {
            "w": np.round(rng.uniform(-4, 4, n), 2).tolist(),
            "b": round(float(rng.uniform(-5, 5)), 2),
            "x": np.round(rng.uniform(-3, 3, n), 2).tolist(),
            "y": int(rng.integers(0, 2)),
        }
        if abs(np.dot(p["w"], p["x"]) + p["b"]) <= 25:
            return p


@pytest.mark.torch
def test_matches_pytorch_bce_and_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    functional = torch.nn.functional
    rng = np.random.default_rng(4)
    cases = [instantiate(ID, seed=seed).params for seed in range(450)]
    cases += [random_params(rng) for _ in range(600)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        w = torch.tensor(params["w"], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(float(params["b"]), dtype=torch.float64, requires_grad=True)
        x = torch.tensor(params["x"], dtype=torch.float64)
        z = w @ x + b
        loss = functional.binary_cross_entropy_with_logits(
            z, torch.tensor(float(params["y"]), dtype=torch.float64)
        )
        loss.backward()
        want = {
            "probability": torch.sigmoid(z).item(),
            "loss": loss.item(),
            "grad_w": w.grad.tolist(),
            "grad_b": b.grad.item(),
        }
        for name, expected in want.items():
            got = json.loads(inst.answers[name])  # canonical numbers and vectors are plain JSON
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} {params}")
            compared += 1
    assert len(cases) >= 1000 and compared >= 4000


# Worked by hand: w = (1, -1), b = 0, x = (2, 1), y = 1: z = 1, p = sigmoid(1) = 0.7311,
# loss = -log sigmoid(1) = log(1 + e^-1) = 0.3133, grad_b = p - 1 = -0.2689, grad_w = (p - 1)(2, 1).
HAND = {"w": [1, -1], "b": 0, "x": [2, 1], "y": 1}


@pytest.mark.parametrize(
    ("part", "answer", "correct", "misconception"),
    [
        ("probability", "sigmoid(1)", True, None),
        ("probability", "1/(1+e^(-1))", True, None),
        ("probability", "0.731", True, None),
        ("probability", "1", False, "forgot_sigmoid"),  # z itself
        ("loss", "log(1 + e^(-1))", True, None),
        ("loss", "-ln(0.7311)", True, None),
        ("loss", "0.313", True, None),
        ("loss", "-log(1 - sigmoid(1))", False, "wrong_label_term"),
        ("loss", "-log10(sigmoid(1))", False, "log_base_10"),
        ("grad_b", "sigmoid(1) - 1", True, None),
        ("grad_b", "-0.269", True, None),
        ("grad_b", "0.269", False, "grad_sign"),
        ("grad_b", "0", False, "forgot_sigmoid"),  # z - y = 1 - 1
        ("grad_w", "[-0.538, -0.269]", True, None),
        ("grad_w", "[2*(sigmoid(1)-1), sigmoid(1)-1]", True, None),
        # seeds/003 (Logistic 回归): w_{t+1} = w_t + alpha x (y - y_hat): (y - y_hat) x is the update, not the gradient.
        ("grad_w", "[2*(1-sigmoid(1)), 1-sigmoid(1)]", False, "grad_sign"),
        ("grad_w", "[-0.269, -0.538]", False, None),
    ],
)
def test_hand_worked_answers(part: str, answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


def test_negative_label_uses_the_other_term() -> None:
    # y = 0: loss = -log(1 - sigmoid(z)) = log(1 + e^z); at z = 1 that is log(1 + e) = 1.3133.
    inst = instantiate(ID, params={**HAND, "y": 0})
    res = grade_answers(inst, {"loss": "log(1 + e)", "grad_b": "sigmoid(1)"})
    assert res.parts["loss"].correct and res.parts["grad_b"].correct


# A walk-through, by hand: z = 0.6*1.8 + 0.6*0.1 + 0.5 = 1.64, p = sigmoid(1.64) = 0.837535, p - y = -0.162465,
# grad_w = (p - y) x = (-0.292437, -0.016247). Each entry is judged within max(0.5%, 5e-4) of its value.
WALK = {"w": [0.6, 0.6], "b": 0.5, "x": [1.8, 0.1], "y": 1}


@pytest.mark.parametrize(
    ("typed", "reason", "en", "zh"),
    [
        ("[-0.292, -0.016]", None, "Correct", "正确"),  # -0.016 is within 5e-4 of -0.016247
        (
            "[-0.29, -0.016]",  # -0.292437 to two figures, too few
            "precision",
            "Entry 1 is close, but not accurate enough: keep at least 3 significant figures",
            "第 1 个元素很接近，但精度不够：请保留至少 3 位有效数字",
        ),
        ("[-0.29, -0.02]", "precision", "Entries 1, 2 are close", "第 1, 2 个元素很接近"),
        ("[-0.28, -0.016]", "wrong", "1 of 2 entries is wrong (entry 1).", "1/2 个元素不正确（第 1 个）"),
    ],
)
def test_rounded_gradient_entries_are_told_to_keep_more_figures(
    typed: str, reason: str | None, en: str, zh: str
) -> None:
    inst = instantiate(ID, params=WALK)
    np.testing.assert_allclose(json.loads(inst.answers["grad_w"]), [-0.292437, -0.016247], atol=1e-6)
    for lang, words in (("en", en), ("zh", zh)):
        r = grade_answers(inst, {"grad_w": typed, "grad_b": "-0.16"}, lang).parts
        assert (r["grad_w"].correct, r["grad_w"].reason) == (reason is None, reason), r["grad_w"]
        assert words in r["grad_w"].feedback, r["grad_w"].feedback
        # said as the scalar -0.16 for grad_b = -0.162465 is
        assert r["grad_b"].reason == "precision" and r["grad_w"].misconception is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**HAND, "x": [2]}, "x"),
        ({**HAND, "w": []}, "w"),
        ({**HAND, "y": 2}, "y"),
        ({**HAND, "y": 0.5}, "y"),
        ({**HAND, "b": float("nan")}, "b"),
        ({**HAND, "w": [1e9, 0]}, "w"),
        ({**HAND, "w": [50, 50], "x": [50, 50]}, "x"),  # logit 5000: sigmoid saturates
        ({**HAND, "w": [0.0] * 9, "x": [0.0] * 9}, "w"),
        ({"w": [1], "x": [1], "y": 1}, "b"),
        ({**HAND, "lr": 0.1}, "lr"),
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
