"""backprop.std_graph against PyTorch (torch.std with correction=0, autograd), seeds/004 1.2, params."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "backprop.std_graph"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 8 values, two decimals, up to +-100, repeats allowed."""
    while True:
        n = int(rng.integers(2, 9))
        x = (
            np.round(rng.uniform(-100, 100, n), 2)
            if rng.random() < 0.5
            else rng.integers(-3, 4, n).astype(float)
        )
        if x.max() > x.min():
            return {"x": x.tolist()}


@pytest.mark.torch
def test_matches_pytorch_std_and_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(12)
    cases = [instantiate(ID, seed=seed).params for seed in range(450)]
    cases += [random_params(rng) for _ in range(600)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        x = torch.tensor(params["x"], dtype=torch.float64, requires_grad=True)
        std = torch.std(x, correction=0)
        std.backward()
        for name, expected in (("std", std.item()), ("grad_x", x.grad.tolist())):
            got = json.loads(inst.answers[name])  # canonical numbers and vectors are plain JSON
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} {params}")
            compared += 1
    assert len(cases) >= 1000 and compared >= 2000


# seeds/004 1.2: x1 = -1, x2 = 3; the seed's graph gives e = 2 and total gradients -0.5 and 0.5.
SEED_004 = {"x": [-1, 3]}


@pytest.mark.parametrize(
    ("part", "answer", "correct", "misconception"),
    [
        ("std", "2", True, None),
        ("std", "sqrt(((-1-1)^2 + (3-1)^2)/2)", True, None),
        ("std", "sqrt(8)", False, "sample_std_n_minus_1"),
        ("std", "2.83", False, "sample_std_n_minus_1"),
        ("std", "4", False, "variance_not_std"),
        ("grad_x", "[-0.5, 0.5]", True, None),
        ("grad_x", "(-1/2, 1/2)", True, None),
        ("grad_x", "[-0.707, 0.707]", False, "sample_std_n_minus_1"),
        ("grad_x", "[-2, 2]", False, "gradient_of_variance"),
        ("grad_x", "[-1, 1]", False, "forgot_half_of_sqrt"),
        ("grad_x", "[0.5, -0.5]", False, None),  # the grader says: sign
        ("grad_x", "[-0.5, 0.5, 0]", False, None),
    ],
)
def test_seed_004(part: str, answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=SEED_004), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    assert r.score == (1.0 if correct else 0.0)
    if not correct:
        assert r.feedback


# Worked by hand: x = (1, 2, 3, 6): mean 3, deviations (-2, -1, 0, 3), variance 14/4 = 3.5,
# sigma = sqrt(3.5); gradient (x_i - 3)/(4 sqrt(3.5)); with N - 1: s = sqrt(14/3).
HAND = {"x": [1, 2, 3, 6]}


@pytest.mark.parametrize(
    ("part", "answer", "correct", "misconception"),
    [
        ("std", "sqrt(3.5)", True, None),
        ("std", "1.871", True, None),
        ("std", "sqrt(14/3)", False, "sample_std_n_minus_1"),
        ("grad_x", "[-2/(4*sqrt(3.5)), -1/(4*sqrt(3.5)), 0, 3/(4*sqrt(3.5))]", True, None),
        ("grad_x", "[-0.267, -0.134, 0, 0.401]", True, None),
        ("grad_x", "[-2/sqrt(3.5), -1/sqrt(3.5), 0, 3/sqrt(3.5)]", False, "forgot_1_over_n"),
        ("grad_x", "[-1, -0.5, 0, 1.5]", False, "gradient_of_variance"),
    ],
)
def test_hand_worked_answers(part: str, answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"x": [2, 2, 2]}, "x"),
        ({"x": [1]}, "x"),
        ({"x": []}, "x"),
        ({"x": [1.0] * 8 + [2.0]}, "x"),
        ({"x": [1, float("nan")]}, "x"),
        ({"x": [1, 1e9]}, "x"),
        ({}, "x"),
        ({"x": [1, 2], "unbiased": True}, "unbiased"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 150
