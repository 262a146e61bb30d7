"""rl.discounted_return against a numpy sum and a simulated rollout average, the seed's G(tau) by hand."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rl.discounted_return"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    t = int(rng.integers(1, 21))
    return {
        "rewards": np.round(rng.uniform(-100, 100, size=t), 2).tolist(),
        "gamma": float(rng.integers(0, 101)) / 100,
    }


def test_matches_numpy_sum() -> None:
    rng = np.random.default_rng(20)
    cases = [instantiate(ID, seed=seed).params for seed in range(300)] + [
        random_params(rng) for _ in range(900)
    ]
    for params in cases:
        got = float(Fraction(instantiate(ID, params=params).answers["return"]))
        r = np.array(params["rewards"])
        expected = float(np.sum(params["gamma"] ** np.arange(len(r)) * r))
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-9), params


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_simulated_average(seed: int) -> None:
    # gamma as the chance to go on: an episode that survives each step with probability gamma collects, on
    # average, sum_t gamma^t r_{t+1}. Simulate 200k episodes and compare the mean undiscounted total.
    inst = instantiate(ID, seed=seed)
    r, gamma = np.array(inst.params["rewards"]), inst.params["gamma"]
    rng = np.random.default_rng(200 + seed)
    episodes = 200_000
    survives = rng.random((episodes, len(r) - 1)) < gamma
    alive = np.hstack([np.ones((episodes, 1), bool), np.cumprod(survives, axis=1).astype(bool)])
    totals = (alive * r).sum(axis=1)
    stderr = totals.std() / np.sqrt(episodes)
    assert abs(totals.mean() - float(Fraction(inst.answers["return"]))) < 5 * stderr + 1e-12


# seeds/003: G(tau) = sum_{t=0}^{T-1} gamma^t r_{t+1}, gamma = 1 unless said otherwise.
@pytest.mark.parametrize(
    ("rewards", "gamma", "typed"),
    [
        ([1.0, 2.0, 3.0], 1.0, "6"),
        ([1.0, 2.0, 3.0], 0.5, "1 + 0.5*2 + 0.25*3"),  # 2.75
        ([0.0, 0.0, 10.0], 0.9, "8.1"),
        ([-1.0, -1.0, 5.0], 0.8, "-1 - 0.8 + 0.64*5"),  # 1.4
    ],
)
def test_seed_return_by_hand(rewards: list[float], gamma: float, typed: str) -> None:
    inst = instantiate(ID, params={"rewards": rewards, "gamma": gamma})
    assert grade_answers(inst, {"return": typed}).score == 1.0


@pytest.mark.parametrize(
    ("typed", "misconception"),
    [
        ("0.5*1 + 0.25*2 + 0.125*3", "discount_from_gamma_1"),  # 1.375
        ("6", "forgot_gamma"),
        ("0.25*1 + 0.5*2 + 3", "reversed_discount"),  # 4.25
    ],
)
def test_seed_misconceptions(typed: str, misconception: str) -> None:
    inst = instantiate(ID, params={"rewards": [1.0, 2.0, 3.0], "gamma": 0.5})
    r = grade_answers(inst, {"return": typed}).parts["return"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"rewards": [], "gamma": 0.5}, "rewards"),
        ({"rewards": [1.0] * 21, "gamma": 0.5}, "rewards"),
        ({"rewards": [1.0], "gamma": 1.01}, "gamma"),
        ({"rewards": [float("inf")], "gamma": 0.5}, "rewards"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100
