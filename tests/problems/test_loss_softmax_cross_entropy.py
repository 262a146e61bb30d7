"""loss.softmax_cross_entropy against PyTorch (F.cross_entropy, softmax, autograd), seeds/004 1.1, params."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "loss.softmax_cross_entropy"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 8 x 10, three decimals, logits up to +-20."""
    b, k = int(rng.integers(1, 9)), int(rng.integers(2, 11))
    return {
        "logits": np.round(rng.uniform(-20, 20, (b, k)), 3).tolist(),
        "labels": rng.integers(0, k, size=b).tolist(),
        "reduction": str(rng.choice(["sum", "mean"])),
    }


@pytest.mark.torch
def test_matches_pytorch_cross_entropy_and_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    functional = torch.nn.functional
    rng = np.random.default_rng(3)
    cases = [instantiate(ID, seed=seed).params for seed in range(450)]
    cases += [random_params(rng) for _ in range(600)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        logits = torch.tensor(params["logits"], dtype=torch.float64, requires_grad=True)
        labels = torch.tensor(params["labels"], dtype=torch.long)
        loss = functional.cross_entropy(logits, labels, reduction=params["reduction"])
        loss.backward()
        want = {
            "loss": loss.item(),
            "probabilities": functional.softmax(logits.detach(), dim=1).tolist(),
            "grad_logits": logits.grad.tolist(),
        }
        for name, expected in want.items():
            # Canonical text of a number or a matrix is plain JSON (the bank self-test reads it with the grader).
            got = json.loads(inst.answers[name])
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} {params}")
            compared += 1
    assert len(cases) >= 1000 and compared >= 3000


# seeds/004 1.1: three samples of classes 1, 2, 3 (0-based 0, 1, 2), losses summed; the seed's answer
# is 2.54692 (its equation (6)).
SEED_004 = {
    "logits": [[0.65, 0.43, 0.11], [0.05, 0.51, 0.18], [0.33, 0.21, 0.72]],
    "labels": [0, 1, 2],
    "reduction": "sum",
}
SEED_004_FORMULA = (
    "-(log(e^0.65/(e^0.65+e^0.43+e^0.11)) + log(e^0.51/(e^0.05+e^0.51+e^0.18))"
    " + log(e^0.72/(e^0.33+e^0.21+e^0.72)))"
)


@pytest.mark.torch
def test_seed_004_value_agrees_with_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    loss = torch.nn.functional.cross_entropy(
        torch.tensor(SEED_004["logits"], dtype=torch.float64),
        torch.tensor(SEED_004["labels"]),
        reduction="sum",
    )
    assert loss.item() == pytest.approx(2.54692, abs=5e-6)
    ours = read(instantiate(ID, params=SEED_004).answers["loss"], "real").floats()
    assert f"{ours:.3g}" == f"{2.54692:.3g}"


@pytest.mark.parametrize(
    ("answer", "correct", "misconception"),
    [
        ("2.54692", True, None),  # the seed's published value
        ("2.547", True, None),
        ("2.55", True, None),
        (SEED_004_FORMULA, True, None),  # the seed's equation (5), typed
        ("2.54692/3", False, "mean_instead_of_sum"),
        ("0.849", False, "mean_instead_of_sum"),
        ("1.106", False, "log_base_10"),
        ("-(log(0.65)+log(0.51)+log(0.72))", False, "forgot_softmax"),
        ("2.4", False, None),
    ],
)
def test_seed_004_loss(answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=SEED_004), {"loss": answer}).parts["loss"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    assert r.score == (1.0 if correct else 0.0)
    if not correct:
        assert r.feedback


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("2.4897", "wrong"),  # five figures, 2.2% below 2.54692: wrong, not "keep more figures"
        ("2.5", "precision"),  # 2.54692 rounded to two figures: too few for the tolerance
    ],
)
def test_seed_004_precision_is_said_only_of_a_rounded_value(answer: str, reason: str) -> None:
    r = grade_answers(instantiate(ID, params=SEED_004), {"loss": answer}).parts["loss"]
    assert not r.correct and r.reason == reason, r
    assert ("accurate" in r.feedback) is (reason == "precision"), r.feedback


# Worked by hand: logits [[0, log 3], [log 2, 0]] (written as such), labels [1, 1] (0-based).
# Row 1: softmax (1/4, 3/4); row 2: (2/3, 1/3). P - Y = [[1/4, -1/4], [2/3, -2/3]].
HAND = {"logits": [[0.0, 1.0986122886681098], [0.6931471805599453, 0.0]], "labels": [1, 1]}


@pytest.mark.parametrize(
    ("reduction", "part", "answer", "correct", "misconception"),
    [
        ("mean", "probabilities", "[[1/4, 3/4], [2/3, 1/3]]", True, None),
        ("mean", "probabilities", "[[0.25, 0.75], [0.667, 0.333]]", True, None),
        ("mean", "probabilities", "0.25 0.75; 0.667 0.333", True, None),
        ("mean", "probabilities", "[[0, 1.0986], [0.6931, 0]]", False, "forgot_softmax"),
        ("mean", "loss", "(log(4/3) + log(3))/2", True, None),
        ("mean", "loss", "log(4/3) + log(3)", False, "sum_instead_of_mean"),
        ("sum", "loss", "log(4/3) + log(3)", True, None),
        ("sum", "loss", "(log(4/3) + log(3))/2", False, "mean_instead_of_sum"),
        ("mean", "grad_logits", "[[1/8, -1/8], [1/3, -1/3]]", True, None),
        ("mean", "grad_logits", "[[0.125, -0.125], [0.333, -0.333]]", True, None),
        ("mean", "grad_logits", "[[1/4, -1/4], [2/3, -2/3]]", False, "grad_forgot_batch_mean"),
        ("mean", "grad_logits", "[[-1/8, 1/8], [-1/3, 1/3]]", False, "grad_sign"),
        ("mean", "grad_logits", "[[0, -2/3], [0, -3/2]]", False, "grad_wrt_probabilities"),
        ("sum", "grad_logits", "[[1/4, -1/4], [2/3, -2/3]]", True, None),
        ("sum", "grad_logits", "[[1/8, -1/8], [1/3, -1/3]]", False, "mean_instead_of_sum"),
        ("sum", "grad_logits", "[[-1/4, 1/4], [-2/3, 2/3]]", False, "grad_sign"),
        ("sum", "grad_logits", "[[1/4, 2/3], [-1/4, -2/3]]", False, None),  # transposed
    ],
)
def test_hand_worked_answers(
    reduction: str, part: str, answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params={**HAND, "reduction": reduction}), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


def test_reduction_defaults_to_sum_as_the_catalogue_says() -> None:
    """problem-catalogue.md: `reduction=sum|mean`, the first the default (like `kind=max|avg`), as seeds/004 sums."""
    inst = instantiate(ID, params=HAND)
    assert inst.params["reduction"] == "sum"
    assert inst.answers == instantiate(ID, params={**HAND, "reduction": "sum"}).answers
    seed = {k: v for k, v in SEED_004.items() if k != "reduction"}
    assert read(instantiate(ID, params=seed).answers["loss"], "real").floats() == pytest.approx(
        2.54692, abs=5e-6
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**SEED_004, "labels": [0, 1]}, "labels"),
        ({**SEED_004, "labels": [0, 1, 3]}, "labels"),
        ({**SEED_004, "labels": [0, 1, -1]}, "labels"),
        ({**SEED_004, "logits": [[0.65, 0.43, 0.11], [0.05, 0.51], [0.33, 0.21, 0.72]]}, "logits"),
        ({**SEED_004, "logits": [[0.1]] * 3}, "logits"),
        ({**SEED_004, "logits": [[1e6, 0, 0]] * 3}, "logits"),
        ({**SEED_004, "logits": [[float("inf"), 0, 0]] * 3}, "logits"),
        ({**SEED_004, "logits": [[0.0] * 11] * 3}, "logits"),
        ({"logits": [[0.0, 1.0]] * 9, "labels": [0] * 9}, "logits"),
        ({**SEED_004, "reduction": "none"}, "reduction"),
        ({**SEED_004, "weight": [1, 1, 1]}, "weight"),
        ({"labels": [0]}, "logits"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generated_instances_have_no_tied_logits() -> None:
    for seed in range(200):
        logits = instantiate(ID, seed=seed).params["logits"]
        assert all(len(set(r)) == len(r) for r in logits)


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200
