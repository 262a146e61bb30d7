"""reg.dropout against an independent computation and PyTorch's nn.Dropout; the seed's 2^n (not 2n) subnetworks."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "reg.dropout"


def parse_vector(text: str) -> list[Fraction]:
    """Read our canonical vector text ([1.5, 10/3, 0]) exactly, without the grader."""
    inner = text.strip()[1:-1]
    return [Fraction(item.strip()) for item in inner.split(",")] if inner.strip() else []


def expected(p: dict[str, Any]) -> dict[str, Any]:
    """Written independently of the family: decimals as exact fractions, each convention from its definition."""
    keep = Fraction(str(p["keep_prob"]))
    xs = [Fraction(str(v)) for v in p["x"]]
    if p["inverted"]:
        train = [v / keep if m else Fraction(0) for v, m in zip(xs, p["mask"], strict=True)]
        test = xs
    else:
        train = [v if m else Fraction(0) for v, m in zip(xs, p["mask"], strict=True)]
        test = [keep * v for v in xs]
    n = p["num_units"]
    # Brute force for small layers: every keep/drop pattern is one subnetwork.
    count = len(set(itertools.product((0, 1), repeat=n))) if n <= 12 else 1 << n
    return {"train_output": train, "test_output": test, "num_subnetworks": count}


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 64 units, any keep probability, two decimals."""
    n = int(rng.integers(1, 65))
    return {
        "keep_prob": float(rng.choice([round(float(rng.uniform(0.01, 1)), 2), 1.0, 0.3])),
        "num_units": n,
        "x": np.round(rng.uniform(-20, 20, n), 2).tolist(),
        "mask": rng.integers(0, 2, n).tolist(),
        "inverted": bool(rng.random() < 0.5),
    }


def check_against(inst: Any, want: dict[str, Any]) -> int:
    for name in ("train_output", "test_output"):
        got = parse_vector(inst.answers[name])
        assert len(got) == len(want[name])
        for a, b in zip(got, want[name], strict=True):
            # Exact where the value is a terminating decimal or a fraction; 12 digits otherwise.
            assert abs(a - b) <= abs(b) * Fraction(1, 10**11), (name, inst.params)
    assert int(inst.answers["num_subnetworks"]) == want["num_subnetworks"]
    return 2 * inst.p.num_units + 1


def test_matches_independent_computation() -> None:
    rng = np.random.default_rng(14)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(650)]
    compared = sum(check_against(instantiate(ID, params=params), expected(params)) for params in cases)
    assert len(cases) >= 1000 and compared > 20000


@pytest.mark.torch
def test_inverted_dropout_matches_pytorch() -> None:
    """nn.Dropout draws its own mask; read it back from the output and pose that instance."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(15)
    for _ in range(1000):
        n = int(rng.integers(1, 65))
        keep = float(rng.choice([0.5, 0.8, 0.9, 0.25, 0.6]))
        x = (
            rng.integers(1, 200, n) * rng.choice([-1, 1], n) / 10
        ).tolist()  # nonzero: a zero output is a drop
        xt = torch.tensor(x, dtype=torch.float64)
        layer = torch.nn.Dropout(p=1 - keep)
        train = layer.train()(xt)
        test = layer.eval()(xt)
        mask = (train != 0).int().tolist()
        inst = instantiate(
            ID, params={"keep_prob": keep, "num_units": n, "x": x, "mask": mask, "inverted": True}
        )
        np.testing.assert_allclose(
            [float(v) for v in parse_vector(inst.answers["train_output"])], train.tolist(), rtol=1e-12
        )
        np.testing.assert_allclose(
            [float(v) for v in parse_vector(inst.answers["test_output"])], test.tolist(), rtol=1e-12
        )
        # The formula x * mask / p on PyTorch's side as well.
        by_formula = xt * torch.tensor(mask, dtype=torch.float64) / keep
        np.testing.assert_allclose(train.numpy(), by_formula.numpy(), rtol=1e-12)


# seeds/003 (Dropout): mask(x) = m x at training time, p x at test time; 2^n subnetworks, and the slide's 2n
# is wrong. Worked by hand: x = (2, -1, 4), m = (1, 0, 1), p = 0.5.
TEXTBOOK = {"keep_prob": 0.5, "num_units": 3, "x": [2, -1, 4], "mask": [1, 0, 1], "inverted": False}
INVERTED = {**TEXTBOOK, "inverted": True}
KEEP_08 = {**TEXTBOOK, "keep_prob": 0.8}


@pytest.mark.parametrize(
    ("params", "part", "answer", "correct", "misconception"),
    [
        (TEXTBOOK, "train_output", "[2, 0, 4]", True, None),
        (TEXTBOOK, "test_output", "[1, -0.5, 2]", True, None),
        (TEXTBOOK, "test_output", "0.5*2, -0.5, 2", True, None),
        (TEXTBOOK, "num_subnetworks", "8", True, None),
        (TEXTBOOK, "num_subnetworks", "2^3", True, None),
        (TEXTBOOK, "num_subnetworks", "6", False, "subnetworks_2n"),
        (TEXTBOOK, "num_subnetworks", "2*3", False, "subnetworks_2n"),
        (TEXTBOOK, "num_subnetworks", "9", False, "subnetworks_n_squared"),
        (TEXTBOOK, "test_output", "[2, -1, 4]", False, "test_not_scaled"),
        (TEXTBOOK, "train_output", "[4, 0, 8]", False, "other_convention"),
        (INVERTED, "train_output", "[4, 0, 8]", True, None),
        (INVERTED, "train_output", "[2/0.5, 0, 4/0.5]", True, None),
        (INVERTED, "test_output", "[2, -1, 4]", True, None),
        (INVERTED, "train_output", "[1, 0, 2]", False, "multiplied_by_p_when_training"),
        (INVERTED, "test_output", "[1, -0.5, 2]", False, "other_convention"),
        (KEEP_08, "test_output", "[1.6, -0.8, 3.2]", True, None),
        (KEEP_08, "test_output", "[0.4, -0.2, 0.8]", False, "drop_prob_instead_of_keep_prob"),
        ({**KEEP_08, "inverted": True}, "train_output", "[2.5, 0, 5]", True, None),
        (
            {**KEEP_08, "inverted": True},
            "train_output",
            "[10, 0, 20]",
            False,
            "drop_prob_instead_of_keep_prob",
        ),
    ],
)
def test_seed_by_hand(
    params: dict[str, Any], part: str, answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params=params), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_slide_2n_is_rejected_with_the_textbook_reason(lang: str) -> None:
    params = {"keep_prob": 0.5, "num_units": 64, "x": [1.0] * 64, "mask": [1, 0] * 32, "inverted": False}
    inst = instantiate(ID, params=params)
    for right in ("2^64", "2**64", "18446744073709551616", "18,446,744,073,709,551,616"):
        assert grade_answers(inst, {"num_subnetworks": right}, lang).parts["num_subnetworks"].correct, right
    r = grade_answers(inst, {"num_subnetworks": "2*64"}, lang).parts["num_subnetworks"]
    assert (r.correct, r.misconception) == (False, "subnetworks_2n")
    assert "2^n" in r.feedback and "2n" in r.feedback
    for near in ("2^64 - 1", "2^63", "1.8e19"):
        assert not grade_answers(inst, {"num_subnetworks": near}, lang).parts["num_subnetworks"].correct, near


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**TEXTBOOK, "keep_prob": 0}, "keep_prob"),
        ({**TEXTBOOK, "keep_prob": 1.5}, "keep_prob"),
        ({**TEXTBOOK, "num_units": 65}, "num_units"),
        ({**TEXTBOOK, "num_units": 4}, "x"),
        ({**TEXTBOOK, "x": [2, -1]}, "x"),
        ({**TEXTBOOK, "mask": [1, 0]}, "mask"),
        ({**TEXTBOOK, "mask": [1, 2, 0]}, "mask"),
        ({**TEXTBOOK, "x": [2, float("inf"), 4]}, "x"),
        ({**TEXTBOOK, "inverted": "sometimes"}, "inverted"),
        ({**TEXTBOOK, "p": 0.5}, "p"),
        ({k: v for k, v in TEXTBOOK.items() if k != "keep_prob"}, "keep_prob"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 150
