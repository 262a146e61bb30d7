"""optim.grad_clip against torch.nn.utils.clip_grad_norm_ / clip_grad_value_ / torch.clamp, seeds/003, params."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "optim.grad_clip"
TORCH_NORM_GUARD = 1e-6  # clip_grad_norm_ scales by max_norm / (total_norm + 1e-6)


def torch_clipped(torch: Any, p: dict[str, Any]) -> list[float]:
    """The clipped gradient as PyTorch computes it, with the family's convention for the norm guard."""
    g = torch.tensor(p["g"], dtype=torch.float64)
    if p["mode"] == "value":
        if p.get("threshold") is not None:
            param = torch.zeros_like(g, requires_grad=True)
            param.grad = g.clone()
            torch.nn.utils.clip_grad_value_([param], clip_value=p["threshold"])
            return param.grad.tolist()
        return torch.clamp(g, min=p["min"], max=p["max"]).tolist()
    # One parameter per tensor, each holding its slice of g as .grad: clip_grad_norm_ takes their global norm.
    params = []
    for piece in torch.split(g, p.get("tensor_sizes") or [len(p["g"])]):
        param = torch.zeros_like(piece, requires_grad=True)
        param.grad = piece.clone()
        params.append(param)
    total = float(torch.nn.utils.clip_grad_norm_(params, max_norm=p["threshold"]))
    out = torch.cat([q.grad for q in params])
    if total > p["threshold"]:
        # Undo the guard with torch's own norm: out = g * b/(N + 1e-6), the statement's g * b/N is out * (N + 1e-6)/N.
        out = out * (total + TORCH_NORM_GUARD) / total
    return out.tolist()


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: up to 16 entries, 2 decimals, up to 4 tensors, any bounds."""
    dim = int(rng.integers(1, 17))
    g = np.round(rng.uniform(-50, 50, dim), 2)
    if rng.random() < 0.5:
        n = float(np.linalg.norm(g))
        b = round(float(rng.uniform(0.05, 1.5)) * n, 3)
        if n == 0 or abs(n - b) < 1e-3:  # torch's 1e-6 guard decides a norm this close to b
            b = round(n + 1, 3)
        cuts = sorted(
            rng.choice(np.arange(1, dim), size=min(dim - 1, int(rng.integers(0, 4))), replace=False)
        )
        sizes = np.diff([0, *cuts, dim]).tolist()
        return {
            "g": g.tolist(),
            "mode": "norm",
            "threshold": b,
            "tensor_sizes": sizes if len(sizes) > 1 else None,
        }
    if rng.random() < 0.5:
        return {"g": g.tolist(), "mode": "value", "threshold": round(float(rng.uniform(0.1, 40)), 2)}
    lo, hi = sorted(np.round(rng.uniform(-40, 40, 2), 2).tolist())
    return {"g": g.tolist(), "mode": "value", "min": lo, "max": hi + 0.01}


@pytest.mark.torch
def test_matches_torch_clipping() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(6)
    instances = [instantiate(ID, seed=seed) for seed in range(600)]
    instances += [instantiate(ID, params=random_params(rng)) for _ in range(600)]
    seen: set[tuple[str, bool, bool]] = set()
    for inst in instances:
        p = inst.params
        got = json.loads(inst.answers["clipped"])  # the canonical text is a JSON list of decimals
        np.testing.assert_allclose(got, torch_clipped(torch, p), rtol=1e-10, atol=1e-12, err_msg=str(p))
        seen.add((p["mode"], got != p["g"], len(p.get("tensor_sizes") or []) > 1))
    # Every case was met: each mode, clipped and untouched, one tensor and several.
    assert len(instances) >= 1000
    assert {
        ("value", True, False),
        ("norm", True, False),
        ("norm", False, False),
        ("norm", True, True),
    } <= seen


# seeds/003 梯度截断: by value g = max(min(g, b), a) ("如 >15 就 =15"); by norm g = b g / ||g||.
W_AND_B = {"g": [1.0, 2.0, 2.0, 4.0], "mode": "norm", "threshold": 1.0, "tensor_sizes": [3, 1]}
SEED_CASES = [
    ({"g": [20.0, -3.0, 7.0], "mode": "value", "threshold": 15.0}, "[15, -3, 7]"),
    ({"g": [20.0, -30.0, 7.0], "mode": "value", "threshold": 15.0}, "[15, -15, 7]"),
    ({"g": [3.0, -4.0, 0.5], "mode": "value", "min": -1.0, "max": 2.0}, "[2, -1, 0.5]"),
    ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0}, "[0.6, 0.8]"),
    ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0}, "[3/5, 4/5]"),
    ({"g": [3.0, 4.0], "mode": "norm", "threshold": 10.0}, "[3, 4]"),
    ({"g": [3.0, 4.0], "mode": "norm", "threshold": 5.0}, "[3, 4]"),  # ||g|| = b: nothing to clip
    (W_AND_B, "[0.2, 0.4, 0.4, 0.8]"),  # global norm sqrt(1 + 4 + 4 + 16) = 5
]


@pytest.mark.parametrize(("params", "answer"), SEED_CASES)
def test_seed_formulas_by_hand(params: dict[str, Any], answer: str) -> None:
    res = grade_answers(instantiate(ID, params=params), {"clipped": answer})
    assert res.score == 1.0, res


@pytest.mark.parametrize(
    ("params", "answer", "misconception"),
    [
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 10.0}, "[6, 8]", "rescaled_below_threshold"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0}, "[1, 1]", "clipped_entries_in_norm_mode"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0}, "[0.12, 0.16]", "divided_by_squared_norm"),
        # 15 * g / ||g||, ||g|| = sqrt(458) = 21.400935.
        (
            {"g": [20.0, -3.0, 7.0], "mode": "value", "threshold": 15.0},
            "[14.01808, -2.10271, 4.90633]",
            "rescaled_in_value_mode",
        ),
        (
            {"g": [3.0, -4.0, 0.5], "mode": "value", "min": -1.0, "max": 2.0},
            "[2, -4, 0.5]",
            "only_upper_bound",
        ),
        # Each tensor by its own norm: (1,2,2)/3 and 4/4.
        (W_AND_B, "[1/3, 2/3, 2/3, 1]", "per_tensor_norm"),
    ],
)
def test_misconceptions_get_their_feedback(params: dict[str, Any], answer: str, misconception: str) -> None:
    for lang in ("en", "zh"):
        r = grade_answers(instantiate(ID, params=params), {"clipped": answer}, lang).parts["clipped"]
        assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
        assert len(r.feedback) > 20


def test_statement_and_solution_for_two_tensors() -> None:
    inst = instantiate(ID, params=W_AND_B)
    assert "clip_grad_norm_" in inst.statement["en"] and "[4]" in inst.statement["zh"]
    steps = inst.solution()
    assert "= 5" in steps["en"][0] and "[0.2, 0.4, 0.4, 0.8]" in steps["zh"][-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"g": [3.0, 4.0], "mode": "l2", "threshold": 1.0}, "mode"),
        ({"g": [3.0, 4.0], "mode": "norm"}, "threshold"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 0.0}, "threshold"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1e-300}, "threshold"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0, "min": -1.0}, "min"),
        ({"g": [3.0, 4.0], "mode": "value"}, "min"),
        ({"g": [3.0, 4.0], "mode": "value", "min": -1.0}, "max"),
        ({"g": [3.0, 4.0], "mode": "value", "min": 1.0, "max": 1.0}, "min"),
        ({"g": [3.0, 4.0], "mode": "value", "threshold": 1.0, "max": 2.0}, "threshold"),
        ({"g": [], "mode": "norm", "threshold": 1.0}, "g"),
        ({"g": [1.0] * 17, "mode": "norm", "threshold": 1.0}, "g"),
        ({"g": [float("nan")], "mode": "norm", "threshold": 1.0}, "g"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0, "tensor_sizes": [1, 2]}, "tensor_sizes"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0, "tensor_sizes": [0, 2]}, "tensor_sizes"),
        ({"g": [3.0, 4.0], "mode": "value", "threshold": 1.0, "tensor_sizes": [1, 1]}, "tensor_sizes"),
        ({"g": [3.0, 4.0], "mode": "norm", "threshold": 1.0, "norm_type": 1}, "norm_type"),
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


def test_extreme_params_never_crash_a_solver() -> None:
    # Every right and wrong way must give finite numbers at the corners of the params box: a crash in a
    # misconception's solver would turn a wrong answer into a 500. ||g||^2 of g = [1e-200] underflows to 0,
    # which the threshold's floor keeps out of the b/||g||^2 answer.
    fam = get_family(ID)
    gs = [[1e-200], [1e4] * 16, [-1e4, 1e-200, 0.0, 1e4], [0.0, 0.0]]
    cases: list[dict[str, Any]] = []
    for g in gs:
        for b in (1e-6, 1e4):
            cases.append({"g": g, "mode": "norm", "threshold": b})
            cases.append({"g": g, "mode": "value", "threshold": b})
            if len(g) > 1:
                cases.append({"g": g, "mode": "norm", "threshold": b, "tensor_sizes": [1, len(g) - 1]})
        cases.append({"g": g, "mode": "value", "min": -1e4, "max": 1e4})
        cases.append({"g": g, "mode": "value", "min": 9999.0, "max": 1e4})
    for params in cases:
        inst = instantiate(ID, params=params)
        texts = [inst.answers["clipped"]] + [
            v for m in fam.misconceptions() for v in m.solve(inst.p).values()
        ]
        assert all("nan" not in x and "inf" not in x for x in texts), params
    # hypot keeps a tiny gradient's norm: [1e-200] clipped to b = 1e-6 is itself (its norm is below b).
    assert json.loads(instantiate(ID, params=cases[0]).answers["clipped"]) == [1e-200]
