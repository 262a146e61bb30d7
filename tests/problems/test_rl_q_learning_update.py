"""rl.q_learning_update against the update formula in numpy, the seed's Q-learning rule by hand, terminal steps."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rl.q_learning_update"


def random_step(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 6 states and 4 actions, two-decimal entries."""
    n, m = int(rng.integers(1, 7)), int(rng.integers(1, 5))
    return {
        "q": np.round(rng.uniform(-20, 20, size=(n, m)), 2).tolist(),
        "s": int(rng.integers(n)),
        "a": int(rng.integers(m)),
        "r": float(np.round(rng.uniform(-10, 10), 2)),
        "s_next": int(rng.integers(n)),
        "alpha": float(rng.integers(1, 101)) / 100,
        "gamma": float(rng.integers(0, 101)) / 100,
        "terminal": bool(rng.random() < 0.3),
    }


def test_matches_the_update_formula() -> None:
    rng = np.random.default_rng(17)
    cases = [instantiate(ID, seed=seed).params for seed in range(300)] + [
        random_step(rng) for _ in range(900)
    ]
    got = np.array([float(Fraction(instantiate(ID, params=c).answers["q_new"])) for c in cases])
    q_sa = np.array([c["q"][c["s"]][c["a"]] for c in cases])
    best = np.array([max(c["q"][c["s_next"]]) for c in cases])
    r, alpha, gamma = (np.array([c[k] for c in cases]) for k in ("r", "alpha", "gamma"))
    done = np.array([c["terminal"] for c in cases])
    target = r + np.where(done, 0.0, gamma * best)
    np.testing.assert_allclose(got, q_sa + alpha * (target - q_sa), rtol=1e-12, atol=1e-12)
    assert len(cases) >= 1000 and done.any() and (~done).any()


# The brief's worked line and seeds/003 (Q-learning: Q(s,a) <- Q(s,a) + alpha (r + gamma max_a' Q(s',a') - Q(s,a))):
# Q(s0,a0) <- 0.5 + 0.1*(1 + 0.9*2 - 0.5) = 0.73.
HAND: dict[str, Any] = {
    "q": [[0.5, 0.3], [2.0, 1.0]],
    "s": 0,
    "a": 0,
    "r": 1.0,
    "s_next": 1,
    "alpha": 0.1,
    "gamma": 0.9,
}


@pytest.mark.parametrize("typed", ["0.73", "0.5 + 0.1*(1 + 0.9*2 - 0.5)", "73/100", "Q = 0.73"])
def test_hand_worked_update(typed: str) -> None:
    assert grade_answers(instantiate(ID, params=HAND), {"q_new": typed}).score == 1.0


@pytest.mark.parametrize(
    ("params", "typed", "misconception"),
    [
        (HAND, "0.5 + 0.1*(1 + 2 - 0.5)", "forgot_gamma"),  # 0.75
        (HAND, "0.5 + 0.1*(1 - 0.5)", "forgot_to_bootstrap"),  # 0.55
        (HAND, "0.1*(1 + 0.9*2)", "alpha_times_target"),  # 0.28
        (HAND, "1 + 0.9*2", "replaced_by_target"),  # 2.8
        (HAND, "0.1*(1 + 0.9*2 - 0.5)", "increment_only"),  # 0.23
        # a = 1: Q(s0,a1) = 0.3; Q(s1,a1) = 1 instead of max Q(s1,.) = 2.
        ({**HAND, "a": 1}, "0.3 + 0.1*(1 + 0.9*1 - 0.3)", "bootstrapped_from_taken_action"),
        ({**HAND, "terminal": True}, "0.73", "bootstrapped_from_terminal"),
    ],
)
def test_hand_worked_misconceptions(params: dict[str, Any], typed: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {"q_new": typed}).parts["q_new"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_terminal_step_uses_the_reward_alone() -> None:
    # s1 is terminal: target = r = 1, Q <- 0.5 + 0.1*(1 - 0.5) = 0.55.
    inst = instantiate(ID, params={**HAND, "terminal": True})
    assert inst.answers["q_new"] == "0.55"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"s": 2}, "s"),
        ({"s_next": 5}, "s_next"),
        ({"a": 2}, "a"),
        ({"alpha": 0.0}, "alpha"),
        ({"gamma": 1.1}, "gamma"),
        ({"q": [[0.5, 0.3], [2.0]]}, "q"),
        ({"r": float("nan")}, "r"),
    ],
)
def test_bad_params_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={**HAND, **change})
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200
