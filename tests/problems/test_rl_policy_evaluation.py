"""rl.policy_evaluation against numpy.linalg.solve, the seed's Bellman equation by hand, fractions as answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate
from tests.problems.test_rl_bellman_expectation import (
    SEED_MDP,
    answer_floats,
    arrays,
    random_mdp,
    random_policy,
)

ID = "rl.policy_evaluation"


def numpy_values(params: dict[str, Any]) -> np.ndarray:
    """V = (I - gamma P_pi)^-1 R_pi; terminal rows of P are zero, so their V is 0."""
    p_arr, r_arr = arrays(params)
    pi = np.array(params["policy"])
    p_pi = np.einsum("sa,sat->st", pi, p_arr)
    r_pi = np.einsum("sa,sat,sat->s", pi, p_arr, r_arr)
    return np.linalg.solve(np.eye(len(r_pi)) - params["gamma"] * p_pi, r_pi)


def test_matches_numpy_solve() -> None:
    rng = np.random.default_rng(15)
    cases = [instantiate(ID, seed=seed).params for seed in range(250)]
    for _ in range(750):
        mdp = random_mdp(
            rng, max_states=4
        )  # exact Gauss-Jordan on 6 x 6 with 2-decimal gammas is slow to test
        mdp["gamma"] = min(mdp["gamma"], 0.95)  # keep (I - gamma P) well conditioned for the float oracle
        cases.append({**mdp, "policy": random_policy(rng, len(mdp["states"]), len(mdp["actions"]))})
    for params in cases:
        inst = instantiate(ID, params=params)
        np.testing.assert_allclose(
            answer_floats(inst.answers["values"]), numpy_values(inst.params), rtol=1e-9, atol=1e-9
        )
    assert len(cases) >= 1000


def test_values_are_a_fixed_point_of_the_backup() -> None:
    # Independent of the linear solve: one Bellman expectation backup (rl.bellman_expectation) leaves V^pi as it is.
    for seed in range(40):
        inst = instantiate(ID, seed=seed)
        backup = instantiate(
            "rl.bellman_expectation",
            params={**inst.params, "values": answer_floats(inst.answers["values"])},
        )
        np.testing.assert_allclose(
            answer_floats(backup.answers["v_new"]), answer_floats(inst.answers["values"]), rtol=1e-12
        )


# seeds/003: V^pi(s) = sum_a pi(a|s) (R_s^a + gamma sum_s' P_ss'^a V^pi(s')). Worked by hand on the MDP of
# test_rl_bellman_expectation (s1 terminal), pi(.|s0) = (0.5, 0.5), gamma = 0.9:
# V(s0) = 0.5*(2 + 0) + 0.5*(0.5*(0 + 0.9 V(s0)) + 0.5*4) = 2 + 0.225 V(s0), so V(s0) = 2/0.775 = 80/31.
SEED = {**SEED_MDP, "policy": [[0.5, 0.5], [0.5, 0.5]]}


@pytest.mark.parametrize("typed", ["[80/31, 0]", "[2/0.775, 0]", "[2.581, 0]", "(80/31, 0)", "[2.5806, 0.0]"])
def test_seed_policy_values_by_hand(typed: str) -> None:
    assert grade_answers(instantiate(ID, params=SEED), {"values": typed}).score == 1.0


@pytest.mark.parametrize(
    ("typed", "misconception"),
    [
        ("[2.225, 0]", None),  # one backup from V = [1, 0]: not a declared way, just wrong
        ("[2, 0]", "one_backup_from_zero"),  # 0.5*2 + 0.5*(0.5*4): the expected immediate reward
        ("[8/3, 0]", "forgot_gamma"),  # V = 2 + 0.25 V
    ],
)
def test_seed_misconceptions(typed: str, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=SEED), {"values": typed}).parts["values"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r


def test_ignoring_the_policy() -> None:
    # pi(.|s0) = (0.8, 0.2): V = 0.8*2 + 0.2*(0.45 V + 2) = 2 + 0.09 V, V = 200/91; uniform weights give 80/31.
    params = {**SEED, "policy": [[0.8, 0.2], [1.0, 0.0]]}
    assert grade_answers(instantiate(ID, params=params), {"values": "[200/91, 0]"}).score == 1.0
    r = grade_answers(instantiate(ID, params=params), {"values": "[80/31, 0]"}).parts["values"]
    assert r.misconception == "ignored_policy"


def test_every_reference_typed_as_decimals_scores_one() -> None:
    # A student writes 4 significant figures instead of the fraction.
    for seed in range(60):
        inst = instantiate(ID, seed=seed)
        typed = "[" + ", ".join(f"{x:.4g}" for x in answer_floats(inst.answers["values"])) + "]"
        assert grade_answers(inst, {"values": typed}).score == 1.0, (seed, typed, inst.answers)


def test_undefined_values_are_refused() -> None:
    # gamma = 1 and no terminal state: every state loops forever, (I - P_pi) is singular.
    loop = {
        "states": ["s0", "s1"],
        "actions": ["a0"],
        "transitions": [[[[1, 1.0, 1.0]]], [[[0, 1.0, 1.0]]]],
        "gamma": 1.0,
        "policy": [[1.0], [1.0]],
    }
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=loop)
    assert "gamma:" in str(exc.value)
    # With a terminal state gamma = 1 is fine (the seed's default discount): V(s0) = 0.5*2 + 0.5*(0.5 V + 2).
    params = {**SEED, "gamma": 1.0}
    assert grade_answers(instantiate(ID, params=params), {"values": "[8/3, 0]"}).score == 1.0


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100
