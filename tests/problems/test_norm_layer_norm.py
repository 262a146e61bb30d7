"""norm.layer_norm against PyTorch's nn.LayerNorm, the seed's LN formula (seeds/003), params validation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "norm.layer_norm"


def torch_layer_norm(torch: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Per-sample mean, biased variance and the output of nn.LayerNorm(D) with gamma/beta copied in."""
    f64 = torch.float64
    x = torch.tensor(p["x"], dtype=f64)
    layer = torch.nn.LayerNorm(x.shape[1], eps=p["eps"], elementwise_affine=True, dtype=f64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(p["gamma"], dtype=f64))
        layer.bias.copy_(torch.tensor(p["beta"], dtype=f64))
        y = layer(x)
    return {
        "mean": x.mean(dim=1).tolist(),
        "var": torch.var(x, dim=1, unbiased=False).tolist(),
        "output": y.tolist(),
    }


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 8 x 8, two decimals, negative gamma, eps from 0 to 1."""
    b, d = int(rng.integers(1, 9)), int(rng.integers(2, 9))
    return {
        "x": np.round(rng.uniform(-10, 10, (b, d)), 2).tolist(),
        "gamma": np.round(rng.uniform(-2, 2, d), 2).tolist(),
        "beta": np.round(rng.uniform(-2, 2, d), 2).tolist(),
        "eps": float(rng.choice([0.0, 1e-5, 1e-3, 0.1, 1.0])),
    }


@pytest.mark.torch
def test_matches_pytorch_layer_norm() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(13)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(650)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        expected = torch_layer_norm(torch, inst.params)
        for name in ("mean", "var", "output"):
            part = inst.part(name)
            assert part is not None
            text = inst.answers[name]
            # Means and variances may be exact fractions (7/3): the grader reads them. The output is plain
            # decimals, so JSON reads it (faster than the grader, and independent of it).
            got = json.loads(text) if name == "output" else read(text, part.spec).floats()
            np.testing.assert_allclose(
                got, expected[name], rtol=1e-9, atol=1e-12, err_msg=f"{name} {inst.params}"
            )
            compared += np.size(got)
    assert len(cases) >= 1000 and compared > 10000


# seeds/003 (Transformer, 层归一化): LN(x_i) = alpha (x_i - mu_i) / sqrt(sigma^2 + xi) + beta, statistics over
# one sample's features. Worked by hand: x = [[1, 2], [3, 6]], gamma = (2, 1), beta = (0, 1), eps = 0:
# mu = (1.5, 4.5), sigma^2 = (0.25, 2.25), x^ = [[-1, 1], [-1, 1]], y = [[-2, 2], [-2, 2]].
HAND = {"x": [[1, 2], [3, 6]], "gamma": [2, 1], "beta": [0, 1], "eps": 0}
# One sample x = (1, 2, 3): mu = 2, sigma^2 = 2/3, y = (x - 2)/sqrt(2/3) = (-sqrt(1.5), 0, sqrt(1.5)).
ONE_SAMPLE = {"x": [[1, 2, 3]], "gamma": [1, 1, 1], "beta": [0, 0, 0], "eps": 0}


@pytest.mark.parametrize(
    ("params", "part", "answer", "correct", "misconception"),
    [
        (HAND, "mean", "[1.5, 4.5]", True, None),
        (HAND, "var", "[1/4, 2.25]", True, None),
        (HAND, "output", "[[-2, 2], [-2, 2]]", True, None),
        (HAND, "mean", "[2, 4]", False, "wrong_axis"),  # per feature over the batch: batch normalisation
        (HAND, "output", "[[-2, 0], [2, 2]]", False, "wrong_axis"),
        (HAND, "var", "[0.5, 4.5]", False, "unbiased_variance"),
        (HAND, "output", "[[-1, 1], [-1, 1]]", False, "forgot_affine"),
        (ONE_SAMPLE, "mean", "2", True, None),
        (ONE_SAMPLE, "var", "[2/3]", True, None),
        (ONE_SAMPLE, "output", "[[-sqrt(1.5), 0, sqrt(1.5)]]", True, None),
        (ONE_SAMPLE, "output", "[[-1.225, 0, 1.225]]", True, None),
        (ONE_SAMPLE, "var", "1", False, "unbiased_variance"),
        # -sqrt(1.5) = -1.2247 to the one figure typed is -1, so [[-1, 0, 1]] is no evidence of the
        # unbiased variance (it gets the precision message); to two figures the reference is -1.2
        (ONE_SAMPLE, "output", "[[-1, 0, 1]]", False, None),
        (ONE_SAMPLE, "output", "[[-1.0, 0, 1.0]]", False, "unbiased_variance"),
        (ONE_SAMPLE, "output", "[[-1.5, 0, 1.5]]", False, "forgot_square_root"),
    ],
)
def test_seed_formula_by_hand(
    params: dict[str, Any], part: str, answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params=params), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"x": [[1], [2]], "gamma": [1], "beta": [0]}, "x"),  # one feature: nothing to normalise over
        ({**HAND, "x": [[1, 2], [3]]}, "x"),
        ({**HAND, "x": [[1, 2], [3, 3]]}, "eps"),  # a constant sample with eps = 0
        ({**HAND, "gamma": [1, 1, 1]}, "gamma"),
        ({**HAND, "beta": [0]}, "beta"),
        ({**HAND, "eps": float("nan")}, "eps"),
        ({**HAND, "x": [[1, 2]] * 9}, "x"),
        ({**HAND, "x": []}, "x"),
        ({**HAND, "elementwise_affine": False}, "elementwise_affine"),
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


@pytest.mark.parametrize(("family_id", "size"), [("norm.layer_norm", "D"), ("norm.batch_norm", "B")])
def test_variance_label_divides_by_what_the_statement_names(family_id: str, size: str) -> None:
    # The layer-norm statement divides by D; its answer box said "divide by N" (a letter it never defines).
    inst = instantiate(family_id, seed=0)
    assert f"除以 ${size}$" in inst.statement["zh"] and f"divided by ${size}$" in inst.statement["en"]
    label = next(part.label for part in inst.parts if part.name == "var")
    assert f"除以 ${size}$" in label["zh"] and f"divide by ${size}$" in label["en"]
    assert " N" not in label["zh"] + label["en"]
