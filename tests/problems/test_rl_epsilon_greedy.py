"""rl.epsilon_greedy: probabilities sum to 1, match the formula and a Monte-Carlo count of the policy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate
from tests.problems.test_rl_bellman_expectation import answer_floats

ID = "rl.epsilon_greedy"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    n = int(rng.integers(2, 9))
    while True:
        q = np.round(rng.uniform(-50, 50, size=n), 2)
        if (q == q.max()).sum() == 1:
            return {"q_values": q.tolist(), "epsilon": float(rng.integers(0, 101)) / 100}


def test_matches_the_formula_and_sums_to_one() -> None:
    rng = np.random.default_rng(19)
    cases = [instantiate(ID, seed=seed).params for seed in range(300)] + [
        random_params(rng) for _ in range(800)
    ]
    for params in cases:
        got = np.array(answer_floats(instantiate(ID, params=params).answers["probabilities"]))
        q, eps = np.array(params["q_values"]), params["epsilon"]
        expected = np.full(len(q), eps / len(q))
        expected[q.argmax()] += 1 - eps
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
        assert abs(got.sum() - 1) < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_a_monte_carlo_count(seed: int) -> None:
    # Run the policy as described: with probability epsilon a uniform action, otherwise the argmax.
    inst = instantiate(ID, seed=seed)
    q, eps = np.array(inst.params["q_values"]), inst.params["epsilon"]
    rng = np.random.default_rng(100 + seed)
    draws = 400_000
    explore = rng.random(draws) < eps
    actions = np.where(explore, rng.integers(0, len(q), size=draws), q.argmax())
    freq = np.bincount(actions, minlength=len(q)) / draws
    # 5 standard errors of a frequency near 1/2 is about 0.004.
    np.testing.assert_allclose(freq, answer_floats(inst.answers["probabilities"]), atol=0.004)


# seeds/003 (ε 贪心法, each action chosen with probability ε/|A| when exploring): Q = [1, 3, 2], ε = 0.3:
# ε/|A| = 0.1 each, the greedy a1 gets 1 - 0.3 + 0.1 = 0.8.
HAND = {"q_values": [1.0, 3.0, 2.0], "epsilon": 0.3}


@pytest.mark.parametrize(
    "typed", ["[0.1, 0.8, 0.1]", "[1/10, 4/5, 1/10]", "0.1 0.8 0.1", "[0.3/3, 1-0.3+0.3/3, 0.1]"]
)
def test_hand_worked(typed: str) -> None:
    assert grade_answers(instantiate(ID, params=HAND), {"probabilities": typed}).score == 1.0


@pytest.mark.parametrize(
    ("typed", "misconception"),
    [
        ("[0.1, 0.7, 0.1]", "greedy_gets_one_minus_epsilon"),
        ("[0.15, 0.7, 0.15]", "epsilon_split_among_others"),
        ("[0.1, 0.1, 0.8]", None),  # the second-best action: wrong, no declared way
        ("[0.8, 0.1, 0.1]", "greedy_is_smallest_q"),
    ],
)
def test_hand_worked_misconceptions(typed: str, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {"probabilities": typed}).parts["probabilities"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q_values": [1.0, 3.0, 3.0], "epsilon": 0.1}, "q_values"),
        ({"q_values": [1.0], "epsilon": 0.1}, "q_values"),
        ({"q_values": [1.0, 2.0], "epsilon": 1.5}, "epsilon"),
        ({"q_values": [1.0, 2.0]}, "epsilon"),
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
