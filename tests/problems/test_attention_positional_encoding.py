"""attention.positional_encoding against an independent table of the Vaswani encoding, misconceptions, params."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from grader import AnswerSpec, grade, read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "attention.positional_encoding"


def encoding_table(max_pos: int, d_model: int) -> np.ndarray:
    """The whole table at once, as in the PyTorch tutorial: frequencies exp(-2k ln(10000)/d), sin/cos interleaved."""
    position = np.arange(max_pos + 1)[:, None]
    frequency = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = np.zeros((max_pos + 1, d_model))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)
    return table


def test_matches_an_independent_table() -> None:
    rng = np.random.default_rng(3)
    # 500 + 500 cases: each answer is read back by the grader (sympy), the costly part of this test.
    cases = [instantiate(ID, seed=seed).params for seed in range(500)]
    for _ in range(500):
        d = 2 * int(rng.integers(1, 1025))
        cases.append({"pos": int(rng.integers(0, 201)), "i": int(rng.integers(0, d)), "d_model": d})
    tables: dict[int, np.ndarray] = {}
    spec = AnswerSpec("real")
    for params in cases:
        inst = instantiate(ID, params=params)
        d = params["d_model"]
        if d not in tables:
            tables[d] = encoding_table(200, d)
        ours = read(inst.answers["value"], spec).floats()
        assert ours == pytest.approx(tables[d][params["pos"], params["i"]], rel=1e-9, abs=1e-9), params
    assert len(cases) >= 1000


@pytest.mark.parametrize(
    ("params", "answer", "correct", "misconception"),
    [
        # pos 1, i 0: sin(1) = 0.8415; i 1: cos(1) = 0.5403 (dimension 1 shares the frequency of 0).
        ({"pos": 1, "i": 0, "d_model": 4}, "0.8415", True, None),
        ({"pos": 1, "i": 1, "d_model": 4}, "cos(1)", True, None),
        ({"pos": 1, "i": 0, "d_model": 4}, "cos(1)", False, "sin_cos_swapped"),
        # pos 2, i 3, d 4: k = 1, angle 2/10000^(2/4) = 0.02, cos(0.02) = 0.9998.
        ({"pos": 2, "i": 3, "d_model": 4}, "0.9998", True, None),
        ({"pos": 2, "i": 3, "d_model": 4}, "sin(0.02)", False, "sin_cos_swapped"),
        # pos 30, i 5, d 8: right angle 30/10000^(4/8) = 0.3; i/d gives 30/10000^(5/8) = 0.09487.
        ({"pos": 30, "i": 5, "d_model": 8}, "cos(0.3)", True, None),
        ({"pos": 30, "i": 5, "d_model": 8}, "cos(30/10000^(5/8))", False, "odd_index_in_exponent"),
        ({"pos": 30, "i": 4, "d_model": 8}, "sin(30/10000^(8/8))", False, "doubled_index"),
        ({"pos": 30, "i": 4, "d_model": 8}, "sin(30/10000^(2/8))", False, "forgot_factor_two"),
        # Degrees: sin(5 deg) = 0.08716 instead of sin(5 rad) = -0.9589.
        ({"pos": 5, "i": 0, "d_model": 16}, "-0.9589", True, None),
        ({"pos": 5, "i": 0, "d_model": 16}, "0.08716", False, "degrees"),
    ],
)
def test_answers_and_misconceptions(
    params: dict[str, Any], answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params=params), {"value": answer}).parts["value"]
    assert r.correct is correct and r.misconception == misconception, r.feedback
    if not correct:
        assert r.score == 0 and r.feedback


def test_seeds_pose_instances_that_tell_the_answer_from_guesses_and_slips() -> None:
    """Version 1 drew high dimensions whose angle was tiny: cos of it was 1 to 4 figures, so "1"
    and the i/d_model slip were marked right (seed 11: pos 22, i 13, d_model 16, 0.99976)."""
    spec = AnswerSpec("real")
    for seed in range(300):
        inst = instantiate(ID, seed=seed)
        ref = inst.answers["value"]
        for guess in ("1", "-1", "0"):
            assert not grade(guess, ref, spec).correct, (seed, inst.params, guess)
        for m, alt in inst.wrong_ways:
            if alt["value"] != ref:
                r = grade_answers(inst, {"value": alt["value"]}).parts["value"]
                # named, though two slips may land on the same number (cos of two small angles)
                assert not r.correct and r.misconception is not None, (seed, inst.params, m.id)
    assert instantiate(ID, params={"pos": 22, "i": 13, "d_model": 16}).answers["value"]  # still posable


def test_statement_states_the_index_convention() -> None:
    st = instantiate(ID, params={"pos": 3, "i": 5, "d_model": 8}).statement
    assert "从 0 开始" in st["zh"] and "start at 0" in st["en"]
    assert "radians" in st["en"] and "弧度" in st["zh"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pos": 1, "i": 8, "d_model": 8}, "i"),
        ({"pos": 1, "i": 0, "d_model": 7}, "d_model"),
        ({"pos": -1, "i": 0, "d_model": 8}, "pos"),
        ({"pos": 1, "i": -1, "d_model": 8}, "i"),
        ({"pos": 1, "i": 0, "d_model": 0}, "d_model"),
        ({"pos": 10**9, "i": 0, "d_model": 8}, "pos"),
        ({"pos": 1.5, "i": 0, "d_model": 8}, "pos"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 50
