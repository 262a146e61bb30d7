"""attention.multihead_params against PyTorch's nn.MultiheadAttention, misconceptions, params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "attention.multihead_params"


def torch_count(torch: Any, embed_dim: int, num_heads: int, **options: Any) -> int:
    # The meta device builds the module without allocating its weights, so large E costs nothing.
    layer = torch.nn.MultiheadAttention(embed_dim, num_heads, **options, device="meta")
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
        case = {"embed_dim": e, "num_heads": int(rng.choice(divisors)), "bias": bool(rng.random() < 0.5)}
        if rng.random() < 0.5:
            case["kdim"] = int(rng.integers(1, 2049))
        if rng.random() < 0.5:
            case["vdim"] = int(rng.integers(1, 2049))
        if rng.random() < 0.3:
            case["add_bias_kv"] = True
        cases.append(case)
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
        # Cross-attention, E = 256 from a 512-wide encoder: q and out 256*256+256 = 65792 each,
        # k and v 256*512+256 = 131328 each: 394240; add_bias_kv adds 2*256.
        ({"embed_dim": 256, "num_heads": 8, "kdim": 512, "vdim": 512}, "394240", True, None),
        (
            {"embed_dim": 256, "num_heads": 8, "kdim": 512, "vdim": 512},
            "4*(256*256+256)",
            False,
            "square_kv_projections",
        ),
        (
            {"embed_dim": 256, "num_heads": 8, "kdim": 512, "vdim": 512, "add_bias_kv": True},
            "394240 + 2*256",
            True,
            None,
        ),
        (
            {"embed_dim": 256, "num_heads": 8, "kdim": 512, "vdim": 512, "add_bias_kv": True},
            "394240",
            False,
            "forgot_bias_kv",
        ),
        # A v1 instance (no kdim, vdim or add_bias_kv) keeps its answer.
        ({"embed_dim": 512, "num_heads": 8, "bias": True}, "1050624", True, None),
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
        ({"embed_dim": 8, "num_heads": 2, "kdim": 0}, "kdim"),
        ({"embed_dim": 8, "num_heads": 2, "vdim": 10**6}, "vdim"),
        ({"embed_dim": 8, "num_heads": 2, "dropout": 0.1}, "dropout"),
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


def test_seeds_draw_many_distinct_answers() -> None:
    # v1 drew 16 answers in all, so an exam's 40 variants repeated them.
    answers = {instantiate(ID, seed=seed).answers["num_params"] for seed in range(200)}
    assert len(answers) >= 100
