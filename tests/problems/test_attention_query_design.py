"""attention.query_design: constraint grading, an independent check of our reference queries, seeds/000 2.2."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "attention.query_design"

# seeds/000 2.2: the keys of "他 | 喜欢 | 苹果", and k4 of the generated "He".
K1, K2, K3, K4 = [0, 1, -1, 0], [1, 0, 1, 1], [0, -1, 0, -1], [-1, 0, -1, -1]
SEED_Q2 = {"keys": [K1, K2, K3], "heads": [[0, 4]], "targets": [0], "max_norm": 1}
SEED_Q3 = {"keys": [K1, K2, K3, K4], "heads": [[0, 2], [2, 4]], "targets": [1, 3], "max_norm": 1}


def parse_vector(text: str) -> list[float]:
    return [float(Fraction(x.strip())) for x in re.sub(r"[\[\]]", "", text).split(",")]


def satisfies(params: dict[str, Any], q: list[float]) -> bool:
    """The conditions of the question, checked by plain loops (independent of the family's numpy code)."""
    keys, max_norm = params["keys"], params["max_norm"]
    if len(q) != len(keys[0]) or sum(x * x for x in q) ** 0.5 > max_norm * (1 + 1e-9):
        return False
    for (start, end), target in zip(params["heads"], params["targets"], strict=True):
        scores = [sum(q[c] * key[c] for c in range(start, end)) for key in keys]
        if any(scores[target] <= scores[j] + 1e-9 for j in range(len(keys)) if j != target):
            return False
    return True


def found_by_search(params: dict[str, Any], rng: np.random.Generator, tries: int = 4000) -> bool:
    """Look for a valid query by random directions, one head at a time (heads are disjoint)."""
    keys = np.array(params["keys"], dtype=float)
    for (start, end), target in zip(params["heads"], params["targets"], strict=True):
        dirs = rng.normal(size=(tries, end - start))
        scores = dirs @ keys[:, start:end].T
        others = np.delete(scores, target, axis=1).max(axis=1)
        if not np.any(scores[:, target] > others + 1e-9):
            return False
    return True


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    d = int(rng.integers(2, 9))
    m = int(rng.integers(2, 7))
    cuts = sorted(
        set(rng.choice(np.arange(1, d), size=int(rng.integers(0, min(3, d - 1) + 1)), replace=False).tolist())
    )
    bounds = [0, *cuts, d]
    heads = [[a, b] for a, b in zip(bounds, bounds[1:], strict=False)]
    if rng.random() < 0.3 and len(heads) > 1:
        heads.pop(int(rng.integers(len(heads))))  # a dimension no head uses
    return {
        "keys": np.round(rng.uniform(-2, 2, size=(m, d)), 1).tolist(),
        "heads": heads,
        "targets": [int(rng.integers(m)) for _ in heads],
        "max_norm": float(rng.choice([0.5, 1.0, 3.0])),
    }


def test_reference_query_is_valid_for_1000_generated_instances() -> None:
    for seed in range(1000):
        inst = instantiate(ID, seed=seed)
        assert satisfies(inst.params, parse_vector(inst.answers["query"])), (seed, inst.params)


def test_reference_grades_right_through_the_grader() -> None:
    for seed in range(150):
        inst = instantiate(ID, seed=seed)
        assert grade_answers(inst, inst.answers).score == 1.0, seed


def test_random_explicit_params_reference_is_valid_and_rejections_are_infeasible() -> None:
    rng = np.random.default_rng(7)
    accepted = rejected = 0
    for _ in range(1000):
        params = random_params(rng)
        try:
            inst = instantiate(ID, params=params)
        except InvalidParams as exc:
            assert "keys:" in str(exc), exc
            assert not found_by_search(params, rng), params
            rejected += 1
            continue
        assert satisfies(inst.params, parse_vector(inst.answers["query"])), params
        accepted += 1
    assert accepted > 300 and rejected > 50


def test_seed_000_q2_the_seeds_q3_is_valid() -> None:
    # q3 = (0, 1, 0, 0): q3.k_j = (1, 0, -1), token 1 (他) is strictly largest and |q3| = 1.
    inst = instantiate(ID, params=SEED_Q2)
    r = grade_answers(inst, {"query": "[0, 1, 0, 0]"}).parts["query"]
    assert r.correct and r.score == 1.0
    assert satisfies(inst.params, parse_vector(inst.answers["query"]))


@pytest.mark.parametrize(
    "typed",
    [
        "(0, 1, 0, 0)^T",
        "(0,1,0,0)ᵀ",
        "(0,1,0,0)^\\top",
        "(0,1,0,0)^{T}",
        "q3 = (0, 1, 0, 0)^T",
        "（0，1，0，0）ᵀ",
    ],
)
def test_seed_000_q2_the_key_writes_q3_transposed(typed: str) -> None:
    # The answer key writes q3 = (0,1,0,0)^T, as the statements print k_1 = (0,1,-1,0)^\top: a column.
    # q3.k_j = (1, 0, -1) by hand, so token 1 is strictly largest and |q3| = 1.
    assert satisfies(SEED_Q2, [0, 1, 0, 0])
    r = grade_answers(instantiate(ID, params=SEED_Q2), {"query": typed}).parts["query"]
    assert r.correct and r.score == 1.0, r


def test_seed_000_q3_the_seeds_q4_is_invalid_and_feedback_names_head_1() -> None:
    # Head 1 uses dims 1-2: q4[0:2] = (0, 1) scores the tokens (1, 0, -1, 0), so token 1 wins, not token 2.
    inst = instantiate(ID, params=SEED_Q3)
    for lang, head in (("en", "Head 1"), ("zh", "第 1 个头")):
        r = grade_answers(inst, {"query": "[0, 1, 0, 0]"}, lang).parts["query"]
        assert r.score == 0 and not r.correct
        assert head in r.feedback and "token 1" in r.feedback, r.feedback
        assert r.reason == "constraint"


def test_seed_000_q3_a_hand_derived_query_is_accepted() -> None:
    # Head 1 needs q[0] > 0 = q[1] direction (token 2's key (1, 0)); head 2 needs q[2], q[3] < 0 so that
    # k4 = (-1, -1) beats (-1, 0), (1, 1), (0, -1): q = (0.6, 0, -0.5, -0.5), |q| = sqrt(0.86) < 1.
    inst = instantiate(ID, params=SEED_Q3)
    assert grade_answers(inst, {"query": "[0.6, 0, -0.5, -0.5]"}).score == 1.0
    assert grade_answers(inst, {"query": "[0.6，0，－0.5，－0.5]"}).score == 1.0  # typed with a Chinese IME
    assert satisfies(inst.params, parse_vector(inst.answers["query"]))


@pytest.mark.parametrize(
    ("answer", "reason", "says"),
    [
        ("[0.6, 0, -0.6, -0.6]", "norm", "1.03923"),  # right directions, norm sqrt(1.08) > 1
        ("[0, 0, 0, 0]", "constraint", "ties"),  # every score 0: no token strictly largest
        ("[0.6, 0, -0.5]", "wrong_shape", "4 entries"),
        ("[0.6, 0, 0.5, -0.5]", "constraint", "Head 2"),
        ("[0.6, 0, -0.5, -0.5", "parse_error", ""),
    ],
)
def test_feedback_says_which_condition_fails(answer: str, reason: str, says: str) -> None:
    r = grade_answers(instantiate(ID, params=SEED_Q3), {"query": answer}).parts["query"]
    assert r.score == 0 and r.reason == reason
    assert says in r.feedback and r.feedback


def test_query_exactly_at_the_norm_bound_is_accepted() -> None:
    inst = instantiate(ID, params=SEED_Q2)
    assert grade_answers(inst, {"query": "[0, 1/sqrt(2), -1/sqrt(2), 0]"}).score == 1.0
    assert grade_answers(inst, {"query": "[0, 0.7072, -0.7072, 0]"}).parts["query"].reason == "norm"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"keys": [[1, 0], [0, 1, 1]], "heads": [[0, 2]], "targets": [0]}, "keys"),
        ({"keys": [[1, 0]], "heads": [[0, 2]], "targets": [0]}, "keys"),
        ({"keys": [[1, 0], [0, 1]], "heads": [[1, 1]], "targets": [0]}, "heads"),
        ({"keys": [[1, 0], [0, 1]], "heads": [[0, 3]], "targets": [0]}, "heads"),
        ({"keys": [[1, 0, 1], [0, 1, 0]], "heads": [[0, 2], [1, 3]], "targets": [0, 1]}, "heads"),
        ({"keys": [[1, 0], [0, 1]], "heads": [[0, 2]], "targets": [0, 1]}, "targets"),
        ({"keys": [[1, 0], [0, 1]], "heads": [[0, 2]], "targets": [2]}, "targets"),
        ({"keys": [[1, 0], [-1, 0], [0, 0]], "heads": [[0, 2]], "targets": [2]}, "keys"),  # in the hull
        ({"keys": [[1, 0], [1, 0]], "heads": [[0, 2]], "targets": [0]}, "keys"),  # a tie in every direction
        ({"keys": [[1, 0], [0, 1]], "heads": [[0, 2]], "targets": [0], "max_norm": 0}, "max_norm"),
        ({"keys": [[1, 0], [0, 1]], "heads": [[0, 2]], "targets": [0], "mask": "causal"}, "mask"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []


def test_steps_call_unscaled_values_dot_products() -> None:
    # The statement defines the score as q.k / sqrt(d_h); the steps listed q.k and called it the score.
    for seed in range(20):
        inst = instantiate(ID, seed=seed)
        q = np.array(json.loads(inst.answers["query"]))
        keys = np.array(inst.params["keys"], dtype=float)
        steps = inst.solution()
        for h, (start, end) in enumerate(inst.params["heads"], 1):
            zh, en = steps["zh"][h], steps["en"][h]
            assert "分数为" not in zh and "scores (" not in en
            listed = re.search(r"dot products \$[^$]*\$ \(([^)]*)\)", en)
            assert listed is not None and "点积" in zh, en
            dots = keys[:, start:end] @ q[start:end]  # the unscaled dot products, computed here
            assert [float(x) for x in listed.group(1).split(",")] == pytest.approx(dots.tolist(), abs=1e-3)
