"""attention.multihead_params against PyTorch's nn.MultiheadAttention, misconceptions, params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "attention.multihead_params"


def torch_count(torch: Any, embed_dim: int, num_heads: int, bias: bool) -> int:
    # The meta device builds the module without allocating its weights, so large E costs nothing.
    layer = torch.nn.MultiheadAttention(embed_dim, num_heads, bias=bias, device="meta")
    return sum(t.numel() for t in layer.parameters())


@pytest.mark.torch
def test_matches_pytorch_parameter_count() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(11)
    cases = [instantiate(ID, seed=seed).params for seed in range(500)]
    while len(cases) < 1100:
        e = int(rng.integers(1, 2049))
        divisors = [h for h in range(1, min(e, 64) + 1) if e % h == 0]
        cases.append(
            {"embed_dim": e, "num_heads": int(rng.choice(divisors)), "bias": bool(rng.random() < 0.5)}
        )
    for params in cases:
        inst = instantiate(ID, params=params)
        assert int(inst.answers["num_params"]) == torch_count(torch, **inst.params), params


@pytest.mark.parametrize(
    ("params", "answer", "correct", "misconception"),
    [
        # E = 512, 8 heads, bias: 4 * (512*512 + 512) = 1050624.
        ({"embed_dim": 512, "num_heads": 8}, "4*(512*512+512)", True, None),
        ({"embed_dim": 512, "num_heads": 8}, "1,050,624", True, None),
        ({"embed_dim": 512, "num_heads": 8}, "3*(512*512+512)", False, "forgot_output_projection"),
        ({"embed_dim": 512, "num_heads": 8}, "4*512*512", False, "forgot_bias"),
        (
            {"embed_dim": 512, "num_heads": 8},
            "8*3*(512*512+512) + 512*512+512",
            False,
            "full_projections_per_head",
        ),
        ({"embed_dim": 64, "num_heads": 4, "bias": False}, "16384", True, None),
        ({"embed_dim": 64, "num_heads": 4, "bias": False}, "3*64*64", False, "forgot_output_projection"),
    ],
)
def test_answers_and_misconceptions(
    params: dict[str, Any], answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params=params), {"num_params": answer}).parts["num_params"]
    assert r.correct is correct and r.misconception == misconception
    if not correct:
        assert r.score == 0 and r.feedback


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"embed_dim": 10, "num_heads": 4}, "num_heads"),
        ({"embed_dim": 0, "num_heads": 1}, "embed_dim"),
        ({"embed_dim": 10**6, "num_heads": 1}, "embed_dim"),
        ({"embed_dim": 8, "num_heads": 0}, "num_heads"),
        ({"embed_dim": 8, "num_heads": 2, "bias": "maybe"}, "bias"),
        ({"embed_dim": 8, "num_heads": 2, "kdim": 4}, "kdim"),
        ({"num_heads": 2}, "embed_dim"),
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
