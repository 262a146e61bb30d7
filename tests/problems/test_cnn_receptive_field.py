"""cnn.receptive_field against a brute-force PyTorch gradient and an interval walk, misconceptions, validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "cnn.receptive_field"


def random_layers(
    rng: np.random.Generator, max_layers: int, max_kernel: int, max_stride: int
) -> list[dict[str, int]]:
    return [
        {"kernel_size": int(rng.integers(1, max_kernel + 1)), "stride": int(rng.integers(1, max_stride + 1))}
        for _ in range(int(rng.integers(1, max_layers + 1)))
    ]


def torch_receptive_field(torch: Any, layers: list[dict[str, int]]) -> int:
    """The span of input pixels that reach output 0 of the last layer: the gradient of all-ones convolutions."""
    big = 1 + sum(x["kernel_size"] for x in layers) * int(np.prod([x["stride"] for x in layers]))
    x = torch.zeros(1, 1, big + 3, dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        ones = torch.ones(1, 1, layer["kernel_size"], dtype=torch.float64)
        y = torch.nn.functional.conv1d(y, ones, stride=layer["stride"])  # one axis: the field is square
    y[0, 0, 0].backward()
    touched = torch.nonzero(x.grad[0, 0]).flatten()
    span = int(touched[-1] - touched[0]) + 1
    if all(x["stride"] <= x["kernel_size"] for x in layers):
        # Windows overlap or abut, so the field has no holes (a stride above the kernel leaves gaps in it).
        assert span == len(touched)
    return span


def interval_receptive_field(layers: list[dict[str, int]]) -> int:
    """Walk one unit's span down the stack: units [a, b] of a layer read inputs [a*s, b*s + k - 1]."""
    low, high = 0, 0
    for layer in reversed(layers):
        low, high = low * layer["stride"], high * layer["stride"] + layer["kernel_size"] - 1
    return high - low + 1


@pytest.mark.torch
def test_matches_pytorch_gradient() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    cases = [instantiate(ID, seed=seed).params["layers"] for seed in range(500)]
    rng = np.random.default_rng(3)
    cases += [random_layers(rng, 6, 7, 3) for _ in range(600)]
    for layers in cases:
        answer = instantiate(ID, params={"layers": layers}).answers["receptive_field"]
        assert int(answer) == torch_receptive_field(torch, layers), layers


def test_matches_an_interval_walk_at_the_bounds() -> None:
    rng = np.random.default_rng(4)
    for _ in range(3000):
        layers = random_layers(rng, 12, 15, 8)
        answer = instantiate(ID, params={"layers": layers}).answers["receptive_field"]
        assert int(answer) == interval_receptive_field(layers), layers


@pytest.mark.parametrize(
    ("layers", "answer"),
    [
        # Two 3x3 convolutions see 5x5, three see 7x7 (the VGG argument of the course).
        ([(3, 1), (3, 1)], "5"),
        ([(3, 1), (3, 1), (3, 1)], "7"),
        # Two VGG blocks: 3, 5, 6 (pool, jump 2), 10, 14, 16 (pool, jump 4).
        ([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)], "16"),
        # AlexNet's first conv 11/4 and pool 3/2: 11 + (3 - 1) * 4 = 19.
        ([(11, 4), (3, 2)], "19"),
        ([(11, 4), (3, 2)], "11 + 2*4"),
        ([(3, 1), (3, 1), (3, 1)], "7×7"),  # the region, as the statement writes it
        ([(3, 1), (3, 1), (3, 1)], "7x7"),
        ([(3, 1), (3, 1), (3, 1)], "[7, 7]"),
    ],
)
def test_textbook_stacks(layers: list[tuple[int, int]], answer: str) -> None:
    params = {"layers": [{"kernel_size": k, "stride": s} for k, s in layers]}
    assert grade_answers(instantiate(ID, params=params), {"receptive_field": answer}).score == 1.0


@pytest.mark.parametrize(
    ("answer", "misconception"),
    [
        # [(3, 2), (3, 1)]: right is 1 + 2 + 2*2 = 7.
        ("1 + 2 + 2", "ignored_strides"),
        ("1 + 2*2 + 2*2", "included_own_stride"),
        ("3 + 3", "summed_kernels"),
        ("7*7", "area_not_side"),
        ("49", "area_not_side"),
    ],
)
def test_misconceptions_get_their_feedback(answer: str, misconception: str) -> None:
    inst = instantiate(
        ID, params={"layers": [{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "stride": 1}]}
    )
    assert inst.answers["receptive_field"] == "7"
    r = grade_answers(inst, {"receptive_field": answer}, "zh").parts["receptive_field"]
    assert r.score == 0 and r.misconception == misconception
    note = next(m.feedback["zh"] for m in get_family(ID).misconceptions() if m.id == misconception)
    assert note in r.feedback


@pytest.mark.parametrize(("answer", "reason"), [("7x5", "wrong"), ("5×5", "wrong"), ("7x", "parse_error")])
def test_region_answers_that_are_wrong(answer: str, reason: str) -> None:
    inst = instantiate(ID, params={"layers": [{"kernel_size": 3, "stride": 2}, {"kernel_size": 3}]})
    r = grade_answers(inst, {"receptive_field": answer}).parts["receptive_field"]
    assert r.score == 0 and r.reason == reason and r.feedback


def test_stride_defaults_to_one() -> None:
    inst = instantiate(ID, params={"layers": [{"kernel_size": 5}, {"kernel_size": 3}]})
    assert inst.answers["receptive_field"] == "7"


def test_generated_stacks_depend_on_their_strides() -> None:
    for seed in range(200):
        layers = instantiate(ID, seed=seed).params["layers"]
        ignoring = 1 + sum(x["kernel_size"] - 1 for x in layers)
        assert interval_receptive_field(layers) != ignoring, layers
        assert 2 <= len(layers) <= 6


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"layers": []}, "layers"),
        ({"layers": [{"kernel_size": 3}] * 13}, "layers"),
        ({"layers": [{"kernel_size": 0}]}, "layers.0.kernel_size"),
        ({"layers": [{"kernel_size": 3}, {"kernel_size": 16}]}, "layers.1.kernel_size"),
        ({"layers": [{"kernel_size": 3, "stride": 0}]}, "layers.0.stride"),
        ({"layers": [{"kernel_size": 3, "stride": 9}]}, "layers.0.stride"),
        ({"layers": [{"kernel_size": 3, "padding": 1}]}, "layers.0.padding"),
        ({"layers": [{"stride": 2}]}, "layers.0.kernel_size"),
        ({"layers": [{"kernel_size": 2.5}]}, "layers.0.kernel_size"),
        ({"layers": "3x3"}, "layers"),
        ({}, "layers"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(".".join(str(x) for x in e["loc"]) == where for e in exc.value.errors), exc.value


def test_statements_and_solutions_render() -> None:
    from app.rendering import render

    for seed in range(40):
        inst = instantiate(ID, seed=seed)
        for text in [*inst.statement.values(), *(s for steps in inst.solution().values() for s in steps)]:
            out = str(render(text))
            assert 'class="tex"' not in out, text
        assert "<table>" in str(render(inst.statement["zh"]))


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100
