"""rl.bellman_expectation against a numpy backup on dense arrays, the seed's Bellman equation by hand, params."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rl.bellman_expectation"


def answer_floats(text: str) -> list[float]:
    """Our answers are lists of decimals and a/b fractions; read them without the grader."""
    return [float(Fraction(x.strip())) for x in text.strip("[]").split(",")]


def random_mdp(rng: np.random.Generator, max_states: int = 6) -> dict[str, Any]:
    """Explicit MDP params unlike the generator's: up to 6 states, 4 actions, 3 outcomes, decimal rewards."""
    n, m = int(rng.integers(1, max_states + 1)), int(rng.integers(1, 5))
    terminal = rng.random(n) < 0.25
    if terminal.all():
        terminal[0] = False
    transitions = []
    for s in range(n):
        if terminal[s]:
            transitions.append([[] for _ in range(m)])
            continue
        row = []
        for _ in range(m):
            k = int(rng.integers(1, min(n, 3) + 1))
            targets = rng.choice(n, size=k, replace=False)
            cuts = np.sort(rng.choice(np.arange(1, 20), size=k - 1, replace=False))
            probs = np.diff(np.concatenate([[0], cuts, [20]])) / 20  # twentieths: exact decimals
            rewards = np.round(rng.uniform(-5, 5, size=k), 1)
            row.append(
                [[int(t), float(p), float(r)] for t, p, r in zip(targets, probs, rewards, strict=True)]
            )
        transitions.append(row)
    return {
        "states": [f"S{i}" for i in range(n)],
        "actions": [f"A{j}" for j in range(m)],
        "transitions": transitions,
        "gamma": float(rng.integers(0, 100)) / 100,
    }


def random_policy(rng: np.random.Generator, n: int, m: int) -> list[list[float]]:
    rows = []
    for _ in range(n):
        cuts = np.sort(rng.integers(0, 11, size=m - 1))
        rows.append((np.diff(np.concatenate([[0], cuts, [10]])) / 10).tolist())
    return rows


def arrays(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """P[s, a, s'] and R[s, a, s'] as dense arrays (all zero for a terminal state)."""
    n, m = len(params["states"]), len(params["actions"])
    p_arr, r_arr = np.zeros((n, m, n)), np.zeros((n, m, n))
    for s, row in enumerate(params["transitions"]):
        for a, outcomes in enumerate(row):
            for t, prob, r in outcomes:
                p_arr[s, a, t] += prob
                r_arr[s, a, t] = r
    return p_arr, r_arr


def numpy_backup(params: dict[str, Any]) -> np.ndarray:
    p_arr, r_arr = arrays(params)
    v, pi = np.array(params["values"]), np.array(params["policy"])
    q = np.einsum("sat,sat->sa", p_arr, r_arr + params["gamma"] * v[None, None, :])
    return np.einsum("sa,sa->s", pi, q)  # terminal rows of P are zero: 0


def with_policy_and_values(rng: np.random.Generator, mdp: dict[str, Any]) -> dict[str, Any]:
    n, m = len(mdp["states"]), len(mdp["actions"])
    terminal = [not any(row) for row in mdp["transitions"]]
    values = [0.0 if terminal[s] else float(np.round(rng.uniform(-5, 5), 1)) for s in range(n)]
    return {**mdp, "policy": random_policy(rng, n, m), "values": values}


def test_matches_numpy_backup() -> None:
    rng = np.random.default_rng(14)
    cases = [instantiate(ID, seed=seed).params for seed in range(200)]
    cases += [with_policy_and_values(rng, random_mdp(rng)) for _ in range(800)]
    for params in cases:
        inst = instantiate(ID, params=params)
        np.testing.assert_allclose(
            answer_floats(inst.answers["v_new"]), numpy_backup(inst.params), rtol=1e-12, atol=1e-12
        )
    assert len(cases) >= 1000


# seeds/003: V^pi(s) = sum_a pi(a|s) (R_s^a + gamma sum_s' P_ss'^a V^pi(s')). Worked by hand:
# s0 --a0--> s1 (p 1, r 2); s0 --a1--> s0 (p 0.5, r 0) or s1 (p 0.5, r 4); s1 terminal;
# pi(.|s0) = (0.5, 0.5), gamma = 0.9, V = [1, 0]:
# Q(s0,a0) = 2 + 0.9*0 = 2, Q(s0,a1) = 0.5*(0 + 0.9*1) + 0.5*(4 + 0) = 2.45, V_new(s0) = 0.5*2 + 0.5*2.45 = 2.225.
SEED_MDP: dict[str, Any] = {
    "states": ["s0", "s1"],
    "actions": ["a0", "a1"],
    "transitions": [[[[1, 1.0, 2.0]], [[0, 0.5, 0.0], [1, 0.5, 4.0]]], [[], []]],
    "gamma": 0.9,
}
SEED = {**SEED_MDP, "policy": [[0.5, 0.5], [0.5, 0.5]], "values": [1.0, 0.0]}


@pytest.mark.parametrize("typed", ["[2.225, 0]", "[89/40, 0]", "[0.5*2 + 0.5*2.45, 0]", "2.225 0"])
def test_seed_bellman_by_hand(typed: str) -> None:
    assert grade_answers(instantiate(ID, params=SEED), {"v_new": typed}).score == 1.0


@pytest.mark.parametrize(
    ("typed", "misconception"),
    [
        ("[0.5*2 + 0.5*(0.5*1 + 0.5*4), 0]", "forgot_gamma"),  # 2.25
        ("[2.45, 0]", "max_over_actions"),
        ("[0.5*(0.9*0) + 0.5*(0.5*0.9*1), 0]", "forgot_reward"),  # 0.225
    ],
)
def test_seed_misconceptions(typed: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=SEED), {"v_new": typed}).parts["v_new"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_policy_weights_and_synchronous_backup() -> None:
    # pi(.|s0) = (0.8, 0.2): 0.8*2 + 0.2*2.45 = 2.09; the plain average 2.225 is the ignored policy.
    params = {**SEED, "policy": [[0.8, 0.2], [1.0, 0.0]]}
    assert grade_answers(instantiate(ID, params=params), {"v_new": "[2.09, 0]"}).score == 1.0
    r = grade_answers(instantiate(ID, params=params), {"v_new": "[2.225, 0]"}).parts["v_new"]
    assert r.misconception == "ignored_policy"
    # Two non-terminal states: s1 --a0--> s0 (r 1). In place, s1 would use V_new(s0) = 2.09 instead of V(s0) = 1.
    two = {
        **params,
        "transitions": [SEED_MDP["transitions"][0], [[[0, 1.0, 1.0]], [[0, 1.0, 1.0]]]],
        "values": [1.0, 3.0],
    }
    # Q(s0,a0) = 2 + 0.9*3 = 4.7, Q(s0,a1) = 0.5*(0 + 0.9*1) + 0.5*(4 + 0.9*3) = 3.8; V_new(s0) = 0.8*4.7 + 0.2*3.8
    # = 4.52. V_new(s1) = 1 + 0.9*1 = 1.9 (synchronous), 1 + 0.9*4.52 = 5.068 (in place).
    assert grade_answers(instantiate(ID, params=two), {"v_new": "[4.52, 1.9]"}).score == 1.0
    r = grade_answers(instantiate(ID, params=two), {"v_new": "[4.52, 5.068]"}).parts["v_new"]
    assert r.misconception == "in_place_sweep"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"policy": [[0.5, 0.4], [0.5, 0.5]]}, "policy"),
        ({"policy": [[1.0], [1.0]]}, "policy"),
        ({"values": [1.0]}, "values"),
        ({"values": [1.0, 2.0]}, "values"),  # s1 is terminal
        ({"transitions": [[[[1, 0.6, 2.0]], [[0, 0.5, 0.0], [1, 0.5, 4.0]]], [[], []]]}, "transitions"),
        ({"transitions": [[[[2, 1.0, 2.0]], [[0, 1.0, 0.0]]], [[], []]]}, "transitions"),
        ({"transitions": [[[[1, 1.0, 2.0]], []], [[], []]]}, "transitions"),
        ({"states": ["s0", "s|1"]}, "states"),
        ({"actions": ["a0", "a0"]}, "actions"),
        ({"gamma": 1.5}, "gamma"),
    ],
)
def test_bad_params_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={**SEED, **change})
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_thirds_are_exact() -> None:
    # 0.3333333333333333 is read as 1/3, so three of them sum to exactly 1.
    third = 1 / 3
    params = {
        **SEED,
        "transitions": [
            [[[0, third, 3.0], [1, third, 0.0], [1, 1 - 2 * third, 0.0]], [[1, 1.0, 0.0]]],
            [[], []],
        ],
    }
    with pytest.raises(InvalidParams):  # s1 listed twice
        instantiate(ID, params=params)
    three = {
        "states": ["s0", "s1", "s2"],
        "actions": ["a0"],
        "transitions": [[[[0, third, 3.0], [1, third, 0.0], [2, third, 0.0]]], [[]], [[]]],
        "gamma": 0.5,
        "policy": [[1.0], [1.0], [1.0]],
        "values": [2.0, 0.0, 0.0],
    }
    # 1/3*(3 + 0.5*2) = 4/3
    assert instantiate(ID, params=three).answers["v_new"] == "[4/3, 0, 0]"


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 150


RL_FAMILIES = [
    "rl.discounted_return",
    "rl.bellman_expectation",
    "rl.policy_evaluation",
    "rl.value_iteration",
    "rl.q_learning_update",
    "rl.sarsa_update",
    "rl.epsilon_greedy",
]
JUNK: list[Any] = [
    None, -1, 0, 1, 2, 5, 6, 7, 10**12, 0.5, 0.123456789123, 1e-300, -1e-300, float("nan"), float("inf"),
    True, "", "s0", "a|b", "$x$", [], [0], [1, 0.5, 2.0], [[1, 1.0, 0.0]], [[]], {}, 1 / 3,
]  # fmt: skip


def _places(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        out += _places(value, (*path, key))
    return out


@pytest.mark.parametrize("problem", RL_FAMILIES)
def test_junk_params_are_refused_or_graded(problem: str) -> None:
    """Junk anywhere in the params: InvalidParams naming a field, or an instance whose references score 1."""
    import copy
    import random

    rnd = random.Random(problem)
    for seed in range(3):
        base = instantiate(problem, seed=seed).params
        places = _places(base)
        for _ in range(120):
            params = copy.deepcopy(base)
            path = rnd.choice(places)
            target = params
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = rnd.choice(JUNK)
            try:
                inst = instantiate(problem, params=params)
            except InvalidParams as exc:
                assert exc.errors and all("loc" in e for e in exc.errors)
                continue
            assert grade_answers(inst, inst.answers).score == 1.0, (problem, params, inst.answers)
            assert all(len(text) < 2000 for text in inst.answers.values())


def test_statements_and_solutions_render() -> None:
    """Every formula converts to MathML (no LaTeX left as code) and the MDP tables become HTML tables."""
    from app.rendering import render

    for problem in RL_FAMILIES:
        for seed in range(15):
            inst = instantiate(problem, seed=seed)
            steps = inst.solution()
            for lang in ("zh", "en"):
                for text in [inst.statement[lang], *steps[lang]]:
                    html = str(render(text))
                    assert 'class="tex"' not in html, (problem, seed, text)
            if problem in ("rl.bellman_expectation", "rl.policy_evaluation", "rl.value_iteration"):
                assert "<table>" in str(render(inst.statement["en"]))


@pytest.mark.parametrize("problem", RL_FAMILIES)
def test_references_typed_as_a_student_would_score_one(problem: str) -> None:
    """Decimals to 4 significant figures, with full-width brackets and commas from a Chinese IME."""
    for seed in range(30):
        inst = instantiate(problem, seed=seed)
        typed = {}
        for name, ref in inst.answers.items():
            values = [f"{x:.4g}" for x in answer_floats(ref)]
            typed[name] = values[0] if not ref.startswith("[") else "［" + "，".join(values) + "］"
        assert grade_answers(inst, typed, "zh").score == 1.0, (problem, seed, inst.answers, typed)
