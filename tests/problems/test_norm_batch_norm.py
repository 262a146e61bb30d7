"""norm.batch_norm against PyTorch's nn.BatchNorm1d (training mode), the seed's BN formula, params validation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader import read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "norm.batch_norm"


def torch_batch_norm(torch: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Batch mean, biased variance and the output of nn.BatchNorm1d in training mode, gamma/beta copied in."""
    f64 = torch.float64
    x = torch.tensor(p["x"], dtype=f64)
    gamma, beta = torch.tensor(p["gamma"], dtype=f64), torch.tensor(p["beta"], dtype=f64)
    mean, var = x.mean(dim=0), torch.var(x, dim=0, unbiased=False)
    with torch.no_grad():
        if p["eps"] > 0:
            layer = torch.nn.BatchNorm1d(x.shape[1], eps=p["eps"], affine=True, dtype=f64).train()
            layer.weight.copy_(gamma)
            layer.bias.copy_(beta)
            y = layer(x)
        else:
            # PyTorch refuses eps = 0 in training mode; the same normalisation in eval mode with the
            # batch's own statistics as the running ones.
            y = torch.nn.functional.batch_norm(x, mean, var, gamma, beta, training=False, eps=0.0)
    return {"mean": mean.tolist(), "var": var.tolist(), "output": y.tolist()}


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 8 x 8, two decimals, negative gamma, large eps."""
    b, d = int(rng.integers(2, 9)), int(rng.integers(1, 9))
    return {
        "x": np.round(rng.uniform(-10, 10, (b, d)), 2).tolist(),
        "gamma": np.round(rng.uniform(-2, 2, d), 2).tolist(),
        "beta": np.round(rng.uniform(-2, 2, d), 2).tolist(),
        "eps": float(rng.choice([1e-5, 1e-3, 0.1, 1.0])),
    }


@pytest.mark.torch
def test_matches_pytorch_batch_norm() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(12)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(650)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        expected = torch_batch_norm(torch, inst.params)
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


# seeds/003 (批量归一化): x^ = (x - mu) / sqrt(sigma^2 + eps) * gamma + beta, statistics per feature over the
# batch. Worked by hand: x = [[1, 2], [3, 6]], gamma = (2, 1), beta = (0, 1), eps = 0:
# mu = (2, 4), sigma^2 = (1, 4), x^ = [[-1, -1], [1, 1]], y = [[-2, 0], [2, 2]].
HAND = {"x": [[1, 2], [3, 6]], "gamma": [2, 1], "beta": [0, 1], "eps": 0}


@pytest.mark.parametrize(
    ("part", "answer", "correct", "misconception"),
    [
        ("mean", "[2, 4]", True, None),
        ("var", "[1, 4]", True, None),
        ("output", "[[-2, 0], [2, 2]]", True, None),
        ("output", "-2 0; 2 2", True, None),
        ("var", "[2, 8]", False, "unbiased_variance"),
        (
            "output",
            "[[-2*sqrt(2)/2, 1 - sqrt(2)/2], [2*sqrt(2)/2, 1 + sqrt(2)/2]]",
            False,
            "unbiased_variance",
        ),
        ("mean", "[1.5, 4.5]", False, "wrong_axis"),  # per sample: layer normalisation
        ("var", "[0.25, 2.25]", False, "wrong_axis"),
        ("output", "[[-2, 2], [-2, 2]]", False, "wrong_axis"),
        ("output", "[[-1, -1], [1, 1]]", False, "forgot_affine"),
        ("output", "[[-2, 0.5], [2, 1.5]]", False, "forgot_square_root"),
    ],
)
def test_seed_formula_by_hand(part: str, answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=HAND), {part: answer}).parts[part]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


def test_eps_matters_when_large() -> None:
    # x = (0, 0, 2, 2): mu = 1, sigma^2 = 1; eps = 0.44 gives sqrt(1.44) = 1.2 and x^ = -+1/1.2 = -+0.8333.
    params = {"x": [[0], [0], [2], [2]], "gamma": [1], "beta": [0], "eps": 0.44}
    inst = instantiate(ID, params=params)
    assert grade_answers(inst, {"output": "[[-1/1.2], [-1/1.2], [1/1.2], [1/1.2]]"}).parts["output"].correct
    r = grade_answers(inst, {"output": "[[-1], [-1], [1], [1]]"}).parts["output"]
    assert (r.correct, r.misconception) == (False, "forgot_eps")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**HAND, "x": [[1, 2]]}, "x"),  # one sample: no batch statistics
        ({**HAND, "x": [[1, 2], [3]]}, "x"),
        ({**HAND, "x": [[1, 2], [1, 6]]}, "eps"),  # a constant feature with eps = 0
        ({**HAND, "gamma": [1]}, "gamma"),
        ({**HAND, "beta": [0, 0, 0]}, "beta"),
        ({**HAND, "eps": -0.1}, "eps"),
        ({**HAND, "eps": 2}, "eps"),
        ({**HAND, "x": [[1, float("inf")], [3, 6]]}, "x"),
        ({**HAND, "x": [[1] * 9, [2] * 9]}, "x"),
        ({**HAND, "momentum": 0.1}, "momentum"),
        ({"x": [[1], [2]], "gamma": [1]}, "beta"),
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
