"""English text agrees with its counts: an instance posed with a count of 1 says "1 entry", "1 feature",
"after 1 sweep", never "1 entries" (part labels, statements, worked solutions and params errors).
Chinese has no plural, so only the English text is read."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import pytest

from grader import AnswerSpec
from grader.scalars import figures_needed, tolerances
from problems.base import InvalidParams, validate_params
from problems.registry import get_family, instantiate

# The plural nouns the families write after a count; "1 " before any of them is the defect.
PLURALS = (
    "entries|rows|columns|features|samples|units|inputs|neurons|keys|tokens|heads|dimensions|numbers"
    "|channels|filters|pixels|sweeps|layers|actions|steps|options|points|questions|variants|sections"
)
ONE_WITH_A_PLURAL = re.compile(rf"(?<![\d.])1\$? (?:(?:input|hidden|parameter) )?(?:{PLURALS})\b")

# Params whose counts are 1: one entry, one sample, one feature, one head, one sweep, one step...
ONES: list[tuple[str, dict[str, Any]]] = [
    ("reg.dropout", {"keep_prob": 0.5, "num_units": 1, "x": [2.0], "mask": [1]}),
    ("loss.binary_cross_entropy", {"w": [-0.5], "b": -0.8, "x": [3.0], "y": 1}),
    ("loss.softmax_cross_entropy", {"logits": [[0.6, 0.1, 0.3]], "labels": [0], "reduction": "mean"}),
    (
        "backprop.mlp_regression",
        {"x": [-1.4], "W": [[-0.8]], "b": [-0.1], "U": [[-1.1]], "d": -0.1, "y": 2.0},
    ),
    ("norm.layer_norm", {"x": [[-2.0, 1.0, 4.0]], "gamma": [1.7, 0.7, 0.9], "beta": [0.7, 0.8, -0.9]}),
    ("norm.batch_norm", {"x": [[-1.9], [1.1], [1.8]], "gamma": [1.6], "beta": [-1.0]}),
    ("attention.multihead_params", {"embed_dim": 8, "num_heads": 1, "bias": True}),
    ("attention.multihead_params", {"embed_dim": 4, "num_heads": 4, "bias": False}),
    (
        "attention.query_design",
        {"keys": [[1, 0], [-1, 1]], "heads": [[0, 1], [1, 2]], "targets": [0, 1], "max_norm": 1.0},
    ),
    (
        "rl.value_iteration",
        {
            "states": ["s0"],
            "actions": ["a0"],
            "transitions": [[[[0, 1.0, 2.0]]]],
            "gamma": 0.9,
            "values0": [0.0],
            "sweeps": 1,
        },
    ),
    (
        "rl.bellman_expectation",
        {
            "states": ["s0"],
            "actions": ["a0", "a1"],
            "transitions": [[[[0, 1.0, 2.0]], [[0, 1.0, -1.0]]]],
            "gamma": 0.5,
            "policy": [[0.5, 0.5]],
            "values": [1.0],
        },
    ),
    ("rl.discounted_return", {"rewards": [3.0], "gamma": 0.9}),
    ("optim.lr_schedule", {"schedule": "step", "lr": 1.0, "t": 3, "step_size": 1, "gamma": 0.5}),
    (
        "cnn.conv2d",
        {
            "in_channels": 1,
            "height": 5,
            "width": 5,
            "out_channels": 1,
            "kernel_size": [1, 1],
            "stride": 1,
            "padding": 0,
            "dilation": 1,
            "bias": True,
        },
    ),
    (
        "cnn.cross_correlation",
        {"input": [[1, 5], [3, 0]], "kernel": [[2, 1], [1, 1]], "stride": 1, "padding": 0},
    ),
    (
        "rnn.num_params",
        {
            "cell": "lstm",
            "input_size": 1,
            "hidden_size": 1,
            "bias_vectors": 2,
            "num_layers": 2,
            "bidirectional": False,
        },
    ),
]


def english(family_id: str, params: dict[str, Any]) -> list[str]:
    inst = instantiate(family_id, params=params)
    texts = [inst.statement["en"], *inst.solution()["en"]]
    for part in inst.parts:
        texts.append(part.label["en"])
        if part.hint is not None:
            texts.append(part.hint["en"])
    return texts


@pytest.mark.parametrize(("family_id", "params"), ONES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(ONES)])
def test_a_count_of_one_takes_the_singular(family_id: str, params: dict[str, Any]) -> None:
    bad = [
        m.group(0) + f" in {t[:120]!r}"
        for t in english(family_id, params)
        for m in ONE_WITH_A_PLURAL.finditer(t)
    ]
    assert not bad, "\n".join(bad)


def test_the_check_itself() -> None:
    assert ONE_WITH_A_PLURAL.search("output at test time (1 entries)")
    assert ONE_WITH_A_PLURAL.search("after 1 sweeps")
    assert ONE_WITH_A_PLURAL.search("$n = 1$ input features")
    assert not ONE_WITH_A_PLURAL.search("(1 entry)")
    assert not ONE_WITH_A_PLURAL.search("(11 entries), 0.1 steps, 21 heads")


# Params errors that name a count of 1.
BAD_ONES: list[tuple[str, dict[str, Any]]] = [
    ("reg.dropout", {"keep_prob": 0.5, "num_units": 1, "x": [2.0, 1.0], "mask": [1]}),
    ("loss.binary_cross_entropy", {"w": [-0.5], "b": -0.8, "x": [3.0, 1.0], "y": 1}),
    (
        "backprop.mlp_regression",
        {"x": [-1.4], "W": [[-0.8]], "b": [-0.1, 0.2], "U": [[-1.1]], "d": -0.1, "y": 2.0},
    ),
    ("norm.batch_norm", {"x": [[-1.9], [1.1]], "gamma": [1.6, 1.0], "beta": [-1.0]}),
    ("cnn.cross_correlation", {"input": [[1], [3, 0]], "kernel": [[1]], "stride": 1, "padding": 0}),
]


@pytest.mark.parametrize(("family_id", "params"), BAD_ONES, ids=[f for f, _ in BAD_ONES])
def test_params_errors_agree_with_a_count_of_one(family_id: str, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParams) as caught:
        validate_params(get_family(family_id), params)
    message = str(caught.value)
    assert "1 entry" in message or "1 row" in message, message
    assert not ONE_WITH_A_PLURAL.search(message), message


def test_optim_step_hint_asks_for_the_figures_the_grader_asks_for() -> None:
    """The hint says 4 significant figures, as the precision message does, and 4 always suffice."""
    inst = instantiate("optim.step", seed=0)
    spec: AnswerSpec = inst.parts[0].spec
    tol = tolerances(spec)
    for part in inst.parts:
        assert part.hint is not None
        assert "4 significant figures" in part.hint["en"] and "4 位有效数字" in part.hint["zh"]
    for k in range(-4, 5):
        for mantissa in ("1", "1.0005", "2.5", "4.999", "5", "9.999"):
            x = Fraction(mantissa) * Fraction(10) ** k
            assert figures_needed(x, tol) <= 4, x
