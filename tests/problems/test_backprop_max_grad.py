"""backprop.max_grad against PyTorch (torch.max and autograd), seeds/001 A6.2, params validation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "backprop.max_grad"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 10 values, two decimals, repeats below the maximum."""
    while True:
        n = int(rng.integers(2, 11))
        x = (
            np.round(rng.uniform(-1000, 1000, n), 2)
            if rng.random() < 0.5
            else rng.integers(-3, 4, n).astype(float)
        )
        if (x == x.max()).sum() == 1:
            return {"x": x.tolist()}


@pytest.mark.torch
def test_matches_pytorch_max_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(14)
    cases = [instantiate(ID, seed=seed).params for seed in range(450)]
    cases += [random_params(rng) for _ in range(600)]
    for params in cases:
        inst = instantiate(ID, params=params)
        x = torch.tensor(params["x"], dtype=torch.float64, requires_grad=True)
        torch.max(x).backward()
        assert json.loads(inst.answers["grad"]) == x.grad.tolist(), params
    assert len(cases) >= 1000


# seeds/001 A6.2: dy/dx_i = 1 where x_i is the maximum, 0 otherwise; its example x = (1, 2, 3, 1).
SEED_001 = {"x": [1, 2, 3, 1]}


@pytest.mark.parametrize(
    ("answer", "correct", "misconception"),
    [
        ("[0, 0, 1, 0]", True, None),
        ("(0, 0, 1, 0)", True, None),
        ("0 0 1 0", True, None),
        ("[0, 0, 3, 0]", False, "max_value_not_gradient"),
        ("[1/4, 1/4, 1/4, 1/4]", False, "like_mean"),
        ("[1, 1, 1, 1]", False, "like_sum"),
        ("[0, 0, 0, 0]", False, None),  # the gradient of argmax, not of max
        ("[0, 1, 0, 0]", False, None),
        ("[0, 0, 1]", False, None),
    ],
)
def test_seed_001(answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=SEED_001), {"grad": answer}).parts["grad"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    assert r.score == (1.0 if correct else 0.0)
    if not correct:
        assert r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"x": [1, 2, 2, 1]}, "x"),  # the seed's own example of a tie: max has no gradient there
        ({"x": [5]}, "x"),
        ({"x": list(range(11))}, "x"),
        ({"x": [1, float("inf")]}, "x"),
        ({"x": [1, 1e6]}, "x"),
        ({"x": "1,2,3"}, "x"),
        ({}, "x"),
        ({"x": [1, 2], "dim": 0}, "dim"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_repeats_below_the_maximum_are_fine() -> None:
    inst = instantiate(ID, params={"x": [-1, -1, 4]})
    assert grade_answers(inst, {"grad": "[0, 0, 1]"}).score == 1.0


def test_generated_values_are_distinct() -> None:
    for seed in range(200):
        x = instantiate(ID, seed=seed).params["x"]
        assert len(set(x)) == len(x) and max(x) != 1


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks >= 140
