"""rl.sarsa_update against the update formula in numpy, the seed's SARSA rule by hand, max-vs-chosen target."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate
from tests.problems.test_rl_q_learning_update import HAND as Q_HAND
from tests.problems.test_rl_q_learning_update import random_step

ID = "rl.sarsa_update"


def test_matches_the_update_formula() -> None:
    rng = np.random.default_rng(18)
    cases = [instantiate(ID, seed=seed).params for seed in range(300)]
    for _ in range(900):
        step = random_step(rng)
        cases.append({**step, "a_next": int(rng.integers(len(step["q"][0])))})
    got = np.array([float(Fraction(instantiate(ID, params=c).answers["q_new"])) for c in cases])
    q_sa = np.array([c["q"][c["s"]][c["a"]] for c in cases])
    chosen = np.array([c["q"][c["s_next"]][c["a_next"]] for c in cases])
    r, alpha, gamma = (np.array([c[k] for c in cases]) for k in ("r", "alpha", "gamma"))
    done = np.array([c["terminal"] for c in cases])
    target = r + np.where(done, 0.0, gamma * chosen)
    np.testing.assert_allclose(got, q_sa + alpha * (target - q_sa), rtol=1e-12, atol=1e-12)
    assert len(cases) >= 1000 and done.any() and (~done).any()


def test_generator_mostly_explores() -> None:
    # SARSA differs from Q-learning only when the next action is not the greedy one; most instances show it.
    exploring = 0
    for seed in range(100):
        p = instantiate(ID, seed=seed).params
        row = p["q"][p["s_next"]]
        exploring += row[p["a_next"]] != max(row)
    assert exploring >= 50


# seeds/003 (SARSA: Q(s,a) <- Q(s,a) + alpha (r + gamma Q(s',a') - Q(s,a))), the Q-learning hand case with
# a' = a1: Q(s0,a0) <- 0.5 + 0.1*(1 + 0.9*1 - 0.5) = 0.64; Q-learning's max would give 0.73.
HAND: dict[str, Any] = {**Q_HAND, "a_next": 1}


@pytest.mark.parametrize("typed", ["0.64", "0.5 + 0.1*(1 + 0.9*1 - 0.5)", "16/25"])
def test_hand_worked_update(typed: str) -> None:
    assert grade_answers(instantiate(ID, params=HAND), {"q_new": typed}).score == 1.0


@pytest.mark.parametrize(
    ("params", "typed", "misconception"),
    [
        (HAND, "0.73", "max_in_sarsa"),
        (HAND, "0.5 + 0.1*(1 + 1 - 0.5)", "forgot_gamma"),  # 0.65
        (HAND, "0.55", "forgot_to_bootstrap"),
        (HAND, "0.1*(1 + 0.9*1)", "alpha_times_target"),  # 0.19
        (HAND, "1.9", "replaced_by_target"),
        ({**HAND, "terminal": True}, "0.64", "bootstrapped_from_terminal"),
    ],
)
def test_hand_worked_misconceptions(params: dict[str, Any], typed: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {"q_new": typed}).parts["q_new"]
    assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
    assert r.feedback


def test_a_near_miss_with_enough_figures_is_not_called_imprecise() -> None:
    # Q(0,1) = 1, target 1 + 0.9*Q(1,0) = 2.8, so Q(0,1) <- 1 + 0.5*(2.8 - 1) = 1.9 (by hand).
    # 1.85 is 2.6% off with three figures typed: wrong, not "keep at least 3 significant figures".
    step = {"q": [[0, 1], [2, 3]], "s": 0, "a": 1, "r": 1, "s_next": 1, "a_next": 0}
    inst = instantiate(ID, params={**step, "alpha": 0.5, "gamma": 0.9})
    assert float(Fraction(inst.answers["q_new"])) == pytest.approx(1.9)
    r = grade_answers(inst, {"q_new": "1.85"}).parts["q_new"]
    assert (r.correct, r.reason) == (False, "wrong"), r
    assert "accurate" not in r.feedback


# Q(0,2) = -0.3, r = -1, Q(s', a') = Q(0,1) = -0.1, alpha 0.1, gamma 0.8, by hand: target -1 - 0.08 = -1.08,
# Q(0,2) <- -0.3 + 0.1*(-1.08 + 0.3) = -0.378. Forgetting gamma: -0.3 + 0.1*(-1.1 + 0.3) = -0.38.
ROUNDS_LIKE_FORGOT_GAMMA = {
    "q": [[1.0, -0.1, -0.3], [2.7, 3.0, 1.1]],
    "s": 0,
    "a": 2,
    "r": -1.0,
    "s_next": 0,
    "a_next": 1,
    "alpha": 0.1,
    "gamma": 0.8,
}


@pytest.mark.parametrize(
    ("typed", "reason", "misconception"),
    [
        ("-0.378", None, None),
        ("-0.38", "precision", None),  # -0.378 to the two figures typed: no evidence of a forgotten gamma
        ("-0.380", "wrong", "forgot_gamma"),  # three figures: -0.378 would be -0.378
    ],
)
def test_a_rounded_answer_is_not_blamed_on_a_misconception(
    typed: str, reason: str | None, misconception: str | None
) -> None:
    inst = instantiate(ID, params=ROUNDS_LIKE_FORGOT_GAMMA)
    for lang, close in (("en", "Close, but not accurate enough"), ("zh", "很接近，但精度不够")):
        r = grade_answers(inst, {"q_new": typed}, lang).parts["q_new"]
        assert (r.correct, r.reason, r.misconception) == (reason is None, reason, misconception), r
        assert (close in r.feedback) is (reason == "precision"), r.feedback


def test_terminal_step_uses_the_reward_alone() -> None:
    assert instantiate(ID, params={**HAND, "terminal": True}).answers["q_new"] == "0.55"


@pytest.mark.parametrize(("change", "field"), [({"a_next": 2}, "a_next"), ({"a_next": -1}, "a_next")])
def test_bad_params_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={**HAND, **change})
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_a_next_is_required() -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=Q_HAND)
    assert any(e["loc"] == ["a_next"] for e in exc.value.errors)


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200
