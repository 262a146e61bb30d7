"""rl.value_iteration against an independent numpy value iteration, a hand-worked MDP, ties refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate
from tests.problems.test_rl_bellman_expectation import answer_floats, arrays, random_mdp

ID = "rl.value_iteration"


def numpy_value_iteration(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(V_K, greedy policy, the greedy margin per state) by synchronous sweeps on dense arrays."""
    p_arr, r_arr = arrays(params)
    terminal = p_arr.sum(axis=(1, 2)) == 0
    v = np.array(params["values0"], dtype=float)

    def q_of(v: np.ndarray) -> np.ndarray:
        return np.einsum("sat,sat->sa", p_arr, r_arr + params["gamma"] * v[None, None, :])

    for _ in range(params["sweeps"]):
        v = np.where(terminal, 0.0, q_of(v).max(axis=1))
    q = q_of(v)
    policy = np.where(terminal, 0, q.argmax(axis=1))
    top2 = np.sort(q, axis=1)[:, -2:] if q.shape[1] > 1 else np.hstack([q - np.inf, q])
    return v, policy, np.where(terminal, np.inf, top2[:, 1] - top2[:, 0])


def random_case(rng: np.random.Generator) -> dict[str, Any]:
    mdp = random_mdp(rng, max_states=5)
    terminal = [not any(row) for row in mdp["transitions"]]
    values0 = [0.0 if t else float(np.round(rng.uniform(-3, 3), 1)) for t in terminal]
    return {**mdp, "values0": values0, "sweeps": int(rng.integers(1, 5))}


def test_matches_numpy_value_iteration() -> None:
    rng = np.random.default_rng(16)
    generated = [instantiate(ID, seed=seed).params for seed in range(250)]
    compared = tried = 0
    while compared < 1000:
        # the 250 generated cases first, then random ones; a skipped case still moves on
        params = generated[tried] if tried < len(generated) else random_case(rng)
        tried += 1
        assert tried < 5000, "too many random cases are ties"
        v, policy, margin = numpy_value_iteration(params)
        if margin.min() < 1e-9:  # an exact tie is refused (tested below); float noise cannot decide it
            assert tried > len(generated), "a generated case has a tie (they keep a 0.1 margin)"
            continue
        inst = instantiate(ID, params=params)
        np.testing.assert_allclose(answer_floats(inst.answers["values"]), v, rtol=1e-9, atol=1e-9)
        assert answer_floats(inst.answers["greedy_policy"]) == policy.tolist(), params
        compared += 1


def test_generated_choices_have_a_margin() -> None:
    for seed in range(100):
        _, _, margin = numpy_value_iteration(instantiate(ID, seed=seed).params)
        assert margin.min() >= 0.1 - 1e-9


# Hand-worked (seeds/003 值迭代): s0 --a0--> s1 (r 1), s0 --a1--> s0 (r 0), s1 --a0--> s0 (r 2),
# s1 --a1--> s1 (r 0), all deterministic; gamma = 0.5, V_0 = [0, 0], 2 sweeps.
# V_1 = [max(1, 0), max(2, 0)] = [1, 2]; V_2 = [max(1 + 0.5*2, 0.5*1), max(2 + 0.5*1, 0.5*2)] = [2, 2.5].
# Greedy w.r.t. V_2: s0: 1 + 0.5*2.5 = 2.25 > 0.5*2 = 1 -> a0; s1: 2 + 0.5*2 = 3 > 0.5*2.5 -> a0.
# In place: V_1 = [1, max(2 + 0.5*1, 0)] = [1, 2.5]; V_2 = [max(1 + 1.25, 0.5), max(2 + 0.5*2.25, 1.25)] = [2.25, 3.125].
HAND: dict[str, Any] = {
    "states": ["s0", "s1"],
    "actions": ["a0", "a1"],
    "transitions": [[[[1, 1.0, 1.0]], [[0, 1.0, 0.0]]], [[[0, 1.0, 2.0]], [[1, 1.0, 0.0]]]],
    "gamma": 0.5,
    "values0": [0.0, 0.0],
    "sweeps": 2,
}


def test_hand_worked_sweeps() -> None:
    inst = instantiate(ID, params=HAND)
    assert grade_answers(inst, {"values": "[2, 2.5]", "greedy_policy": "[0, 0]"}).score == 1.0


@pytest.mark.parametrize(
    ("part", "typed", "misconception"),
    [
        ("values", "[2.25, 3.125]", "in_place_sweep"),
        ("values", "[3, 3]", "forgot_gamma"),  # V_1 = [1, 2], V_2 = [max(1 + 2, 0 + 1), max(2 + 1, 0 + 2)]
        (
            "values",
            "[0.875, 1.375]",
            "averaged_actions",
        ),  # V_1 = [0.5, 1], V_2 = [(1.5 + 0.25)/2, (2.25 + 0.5)/2]
    ],
)
def test_hand_worked_misconceptions(part: str, typed: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {part: typed}).parts[part]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_greedy_policy_misconceptions() -> None:
    # s0 --a0--> s1 (r 0), s0 --a1--> s0 (r 1); s1 --a0/a1--> s1 (r 4); gamma 0.9, V_0 = 0, one sweep:
    # V_1 = [max(0, 1), 4] = [1, 4]. Greedy w.r.t. V_1: s0: 0 + 0.9*4 = 3.6 > 1 + 0.9*1 = 1.9 -> a0,
    # although a1 has the larger immediate reward (and won the max of the sweep itself, w.r.t. V_0 = 0).
    params = {
        "states": ["s0", "s1"],
        "actions": ["a0", "a1"],
        "transitions": [
            [[[1, 1.0, 0.0]], [[0, 1.0, 1.0]]],
            [[[1, 1.0, 4.0]], [[1, 0.5, 4.0], [0, 0.5, 3.0]]],
        ],
        "gamma": 0.9,
        "values0": [0.0, 0.0],
        "sweeps": 1,
    }
    inst = instantiate(ID, params=params)
    assert inst.answers == {"values": "[1, 4]", "greedy_policy": "[0, 0]"}
    r = grade_answers(inst, {"greedy_policy": "[1, 0]"}).parts["greedy_policy"]
    assert (r.correct, r.misconception) == (False, "greedy_by_immediate_reward"), r
    assert grade_answers(inst, {"greedy_policy": "[0, 0.5]"}).score == 0.0  # indices are exact


def test_ties_are_refused() -> None:
    # Both actions of s0 do the same thing, so their Q values tie after any sweep: no unique greedy policy.
    tied = {
        **HAND,
        "transitions": [[[[1, 1.0, 1.0]], [[1, 1.0, 1.0]]], [[[0, 1.0, 2.0]], [[1, 1.0, 0.0]]]],
    }
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=tied)
    assert "values0:" in str(exc.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sweeps": 0}, "sweeps"),
        ({"sweeps": 6}, "sweeps"),
        ({"values0": [0.0]}, "values0"),
        ({"gamma": -0.1}, "gamma"),
    ],
)
def test_bad_params_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={**HAND, **change})
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100
