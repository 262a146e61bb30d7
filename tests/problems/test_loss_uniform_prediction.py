"""loss.uniform_prediction against PyTorch (cross-entropy of equal logits), seeds/002 2.1, params."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "loss.uniform_prediction"


@pytest.mark.torch
def test_matches_pytorch_cross_entropy_of_equal_logits() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(2)
    cases = [instantiate(ID, seed=seed).params for seed in range(100)]
    cases += [{"num_classes": k} for k in range(2, 1001)]
    compared = 0
    for params in cases:
        k = params["num_classes"]
        inst = instantiate(ID, params=params)
        # An untrained network: the same logit (any value) for every class; a balanced batch of labels.
        batch = 4
        logits = torch.full((batch, k), float(rng.uniform(-3, 3)), dtype=torch.float64)
        labels = torch.tensor(rng.integers(0, k, size=batch), dtype=torch.long)
        want = torch.nn.functional.cross_entropy(logits, labels).item()
        part = inst.part("loss")
        assert part is not None
        got = read(inst.answers["loss"], part.spec).floats()
        assert got == pytest.approx(want, rel=1e-12), params
        compared += 1
    assert compared >= 1000


# seeds/002 2.1: 5 classes, "以上结果为 1.609" (log 5, natural log); the key notes that any log base was
# accepted when it was graded, but the course follows PyTorch: log is ln.
@pytest.mark.parametrize(
    ("answer", "correct", "misconception"),
    [
        ("ln(5)", True, None),
        ("log(5)", True, None),
        ("1.609", True, None),
        ("1.6094", True, None),
        ("1.61", True, None),
        ("-log(1/5)", True, None),
        ("ｌｎ（５）", True, None),  # full-width, from an IME
        ("约1.609", True, None),  # "about", as ≈
        ("1.609 nats", True, None),  # the unit of a natural-log loss
        ("log10(5)", False, "log_base_10"),
        ("0.699", False, "log_base_10"),
        ("log2(5)", False, "log_base_2"),
        ("2.32", False, "log_base_2"),
        ("lg5", False, "log_base_10"),  # lg is log10 in Chinese textbooks
        ("lg(5)", False, "log_base_10"),
        ("log₂5", False, "log_base_2"),  # a subscript base, not a name log25
        ("log_2 5", False, "log_base_2"),
        ("log_{2}(5)", False, "log_base_2"),
        ("log_e 5", True, None),
        ("0.2", False, "probability_not_loss"),
        ("1/5", False, "probability_not_loss"),
        ("1.5", False, None),
    ],
)
# seeds/002 2.1 says the homework uses a 3-class subset, then asks for "the 5-class task": the key
# answers for 5 classes (ln 5 = 1.609), so 5 is the instance; for the 3-class subset it would be ln 3.
def test_seed_002_five_classes(answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params={"num_classes": 5}), {"loss": answer}).parts["loss"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    assert r.score == (1.0 if correct else 0.0)
    if misconception:
        assert "ln" in r.feedback or "1/K" in r.feedback


def test_seed_002_feedback_in_chinese() -> None:
    r = grade_answers(instantiate(ID, params={"num_classes": 5}), {"loss": "log10(5)"}, lang="zh").parts[
        "loss"
    ]
    assert r.misconception == "log_base_10" and "自然对数" in r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": 1001}, "num_classes"),
        ({"num_classes": 2.5}, "num_classes"),
        ({"num_classes": "many"}, "num_classes"),
        ({}, "num_classes"),
        ({"num_classes": 5, "batch_size": 4}, "batch_size"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks >= 100


def test_seeds_draw_many_class_counts() -> None:
    # v1 drew 6 answers in all, so an exam's variants repeated them.
    counts = {instantiate(ID, seed=seed).params["num_classes"] for seed in range(300)}
    assert len(counts) >= 20 and min(counts) == 2
