"""cnn.conv2d against PyTorch's nn.Conv2d and FLOP counter, the seeds' exam numbers, misconceptions, validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "cnn.conv2d"


def _arg(rng: np.random.Generator, low: int, high: int) -> int | list[int]:
    """An int, or (as PyTorch also accepts) a pair."""
    if rng.random() < 0.6:
        return int(rng.integers(low, high + 1))
    return [int(rng.integers(low, high + 1)) for _ in range(2)]


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params drawn independently of the family's generator; some are impossible on purpose."""
    return {
        "in_channels": int(rng.integers(1, 9)),
        "height": int(rng.integers(1, 41)),
        "width": int(rng.integers(1, 41)),
        "out_channels": int(rng.integers(1, 9)),
        "kernel_size": _arg(rng, 1, 9),
        "stride": _arg(rng, 1, 4),
        "padding": _arg(rng, 0, 3),
        "dilation": _arg(rng, 1, 3),
        "bias": bool(rng.random() < 0.7),
    }


def torch_conv(torch: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    """Shape, parameter count and MACs of the real layer; None when PyTorch refuses the input."""
    from torch.utils.flop_counter import FlopCounterMode

    def tup(v: int | list[int]) -> int | tuple[int, ...]:
        return tuple(v) if isinstance(v, list) else v

    layer = torch.nn.Conv2d(
        params["in_channels"],
        params["out_channels"],
        tup(params["kernel_size"]),
        stride=tup(params.get("stride", 1)),
        padding=tup(params.get("padding", 0)),
        dilation=tup(params.get("dilation", 1)),
        bias=params.get("bias", True),
        device="meta",  # PyTorch's own shape rules without computing anything
    )
    x = torch.empty(1, params["in_channels"], params["height"], params["width"], device="meta")
    try:
        with FlopCounterMode(display=False) as counter:
            y = layer(x)
    except RuntimeError:
        return None
    n = sum(t.numel() for t in layer.parameters())
    _, c, h, w = y.shape
    return {
        "output_shape": [c, h, w],
        "num_params": n,
        "num_connections": n * h * w,  # the textbook convention: parameters x output plane
        "macs": counter.get_total_flops() // 2,  # the counter counts a multiply-add as 2 FLOPs, bias excluded
    }


def ours(inst: Any) -> dict[str, Any]:
    a = inst.answers
    return {
        "output_shape": [int(x) for x in a["output_shape"].strip("[]").split(",")],
        "num_params": int(a["num_params"]),
        "num_connections": int(a["num_connections"]),
        "macs": int(a["macs"]),
    }


@pytest.mark.torch
def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    compared = refused = 0
    for seed in range(600):
        inst = instantiate(ID, seed=seed)
        assert ours(inst) == torch_conv(torch, inst.params), inst.params
        compared += 1
    rng = np.random.default_rng(2024)
    while compared < 1300:
        params = random_params(rng)
        expected = torch_conv(torch, params)
        if expected is None:
            # PyTorch refuses it, so must we, with the field named.
            with pytest.raises(InvalidParams, match="kernel_size"):
                instantiate(ID, params=params)
            refused += 1
            continue
        assert ours(instantiate(ID, params=params)) == expected, params
        compared += 1
    assert refused > 50  # the random params did probe the boundary


@pytest.mark.torch
def test_small_layers_on_real_tensors() -> None:
    """The meta device's shapes are those of a real CPU convolution (a few tiny cases)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(5)
    checked = 0
    while checked < 40:
        params = random_params(rng)
        expected = torch_conv(torch, params)
        if expected is None:
            continue
        layer = torch.nn.Conv2d(
            params["in_channels"],
            params["out_channels"],
            tuple(params["kernel_size"])
            if isinstance(params["kernel_size"], list)
            else params["kernel_size"],
            stride=tuple(params["stride"]) if isinstance(params["stride"], list) else params["stride"],
            padding=tuple(params["padding"]) if isinstance(params["padding"], list) else params["padding"],
            dilation=tuple(params["dilation"])
            if isinstance(params["dilation"], list)
            else params["dilation"],
        )
        y = layer(torch.zeros(1, params["in_channels"], params["height"], params["width"]))
        assert list(y.shape[1:]) == expected["output_shape"]
        checked += 1


# seeds/003 (exam): 97x97x3 input, 15 filters 9x9, no padding, stride 2.
EXAM = {"in_channels": 3, "height": 97, "width": 97, "out_channels": 15, "kernel_size": 9, "stride": 2}
# seeds/003 (LeNet-5 as taught): C1 6 filters 5x5 on 32x32; C3 with every map connected; C5.
# The textbook's C3 (1516 parameters, 151600 connections) joins each output map to only some input
# maps by a hand-made table: that is not an nn.Conv2d (nor groups), so it is not a param set here;
# the fully connected C3 below is what a Conv2d(6, 16, 5) has.
LENET_C1 = {"in_channels": 1, "height": 32, "width": 32, "out_channels": 6, "kernel_size": 5}
LENET_C3 = {"in_channels": 6, "height": 14, "width": 14, "out_channels": 16, "kernel_size": 5}
LENET_C5 = {"in_channels": 16, "height": 5, "width": 5, "out_channels": 120, "kernel_size": 5}
# seeds/000 2.1: 55x55x1, 3 filters 5x5, stride 2, no biases anywhere.
DILATED = {"in_channels": 1, "height": 20, "width": 20, "out_channels": 4, "kernel_size": 3, "dilation": 3}
HW_000 = {
    "in_channels": 1,
    "height": 55,
    "width": 55,
    "out_channels": 3,
    "kernel_size": 5,
    "stride": 2,
    "bias": False,
}


@pytest.mark.parametrize(
    ("params", "part", "answer"),
    [
        (EXAM, "output_shape", "[15, 45, 45]"),
        (EXAM, "output_shape", "15x45x45"),
        (EXAM, "output_shape", "(15，45，45)"),  # full-width commas from an IME
        (EXAM, "num_params", "15*(9*9*3+1)"),
        (EXAM, "num_params", "3660"),
        (EXAM, "num_connections", "3660*45*45"),
        (EXAM, "num_connections", "7,411,500"),
        (EXAM, "macs", "15*45*45*3*9*9"),
        (LENET_C1, "output_shape", "[6, 28, 28]"),
        (LENET_C1, "num_params", "6*(5*5+1)"),
        (LENET_C1, "num_params", "156"),
        (LENET_C1, "num_connections", "122,304"),
        (LENET_C1, "num_connections", "156*28*28"),
        (LENET_C3, "output_shape", "[16, 10, 10]"),
        (LENET_C3, "num_params", "16*(6*5*5+1)"),
        (LENET_C3, "num_connections", "2416*10*10"),
        (LENET_C5, "output_shape", "[120, 1, 1]"),
        (LENET_C5, "num_params", "120*(16*25+1)"),
        (LENET_C5, "num_connections", "48120"),
        (HW_000, "num_params", "3 * 5 * 5 = 75"),
        (HW_000, "output_shape", "[3, 26, 26]"),
        (HW_000, "output_shape", "3×26×26"),
    ],
)
def test_seed_answers_score_full_marks(params: dict[str, Any], part: str, answer: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {part: answer}).parts[part]
    assert r.score == 1.0, r.feedback


def test_height_width_channels_order_is_rejected_with_a_reason() -> None:
    """The seeds write 97*97*3 (H, W, C); our shapes are [C, H, W], and the feedback says so."""
    r = grade_answers(instantiate(ID, params=EXAM), {"output_shape": "45x45x15"}).parts["output_shape"]
    assert r.score == 0 and "[C, H, W]" in r.feedback


@pytest.mark.parametrize(
    ("params", "part", "answer", "misconception"),
    [
        (EXAM, "num_params", "15*9*9*3", "forgot_bias"),
        (EXAM, "num_params", "15*(9*9+1)", "forgot_in_channels"),
        (EXAM, "output_shape", "[15, 89, 89]", "ignored_stride"),  # 97 - 9 + 1
        (EXAM, "output_shape", "[15, 44, 44]", "forgot_plus_one"),  # (97 - 9)/2
        (EXAM, "num_connections", "15*9*9*3*45*45", "connections_without_bias"),
        (EXAM, "num_connections", "3660*45*45*15", "connections_times_out_channels"),
        (EXAM, "macs", "2*15*45*45*3*9*9", "macs_as_flops"),
        (EXAM, "macs", "15*45*45*(3*9*9+1)", "macs_counted_bias"),
        (LENET_C1, "num_connections", "6*5*5*28*28", "connections_without_bias"),
        # 32x32 input, 5x5 kernel, padding 2: the size stays 32.
        (
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 16, "kernel_size": 5, "padding": 2},
            "output_shape",
            "[16, 30, 30]",  # 32 + 2 - 5 + 1
            "padding_counted_once",
        ),
        # 20x20 input, 3x3 kernel with dilation 3 spans 7: 20 - 7 + 1 = 14.
        (DILATED, "output_shape", "[4, 18, 18]", "ignored_dilation"),  # 20 - 3 + 1
        (DILATED, "output_shape", "[4, 12, 12]", "dilation_times_kernel"),  # 20 - 9 + 1
        (DILATED, "output_shape", "[4, 13, 13]", "forgot_plus_one"),  # 20 - 7
        # With dilation 2 and stride 1, d*k and a forgotten +1 agree; the dilation is named.
        ({**DILATED, "dilation": 2}, "output_shape", "[4, 15, 15]", "dilation_times_kernel"),
    ],
)
def test_misconceptions_get_their_feedback(
    params: dict[str, Any], part: str, answer: str, misconception: str
) -> None:
    for lang in ("zh", "en"):
        r = grade_answers(instantiate(ID, params=params), {part: answer}, lang).parts[part]
        assert r.score == 0 and r.misconception == misconception, r
        fam = get_family(ID)
        note = next(m.feedback[lang] for m in fam.misconceptions() if m.id == misconception)
        assert note in r.feedback


@pytest.mark.parametrize(
    ("answer", "says_exact"),
    [
        ("7.41e6", True),  # EXAM: 3660 parameters x 45 x 45 = 7,411,500 connections, to three figures
        ("7.4e6", True),
        ("7.41×10^6", True),  # not one plain number: its figures are not known, it is within 0.5%
        ("7.4115e6", None),  # that is 7411500 exactly: right
        ("7.42e6", False),  # 7411500 to three figures is 7.41e6
        ("7410000", False),  # a whole number typed in full is a count, wrong
    ],
)
def test_a_rounded_connection_count_is_told_an_exact_integer_is_asked(
    answer: str, says_exact: bool | None
) -> None:
    inst = instantiate(ID, params=EXAM)
    for lang, words in (("en", "an exact whole number is asked"), ("zh", "这里要精确的整数")):
        r = grade_answers(inst, {"num_connections": answer}, lang).parts["num_connections"]
        assert r.correct is (says_exact is None), r
        assert (words in r.feedback) is bool(says_exact), r.feedback


def test_no_bias_layer_names_an_added_bias() -> None:
    """000 2.1 has no biases: 3*5*5 = 75 is right, and 3*(5*5+1) = 78 adds biases that are not there."""
    inst = instantiate(ID, params=HW_000)
    assert grade_answers(inst, {"num_params": "75"}).parts["num_params"].score == 1.0
    for lang in ("zh", "en"):
        r = grade_answers(inst, {"num_params": "78"}, lang).parts["num_params"]
        assert r.score == 0 and r.misconception == "added_missing_bias"
        assert "bias=False" in r.feedback
    # its connections follow: (75 + 3) biased parameters x 26 x 26 output positions
    r = grade_answers(inst, {"num_connections": str(78 * 26 * 26)}).parts["num_connections"]
    assert r.score == 0 and r.misconception == "added_missing_bias"
    # with biases the same count is right, and nothing names it
    biased = instantiate(ID, params={**HW_000, "bias": True})
    assert grade_answers(biased, {"num_params": "78"}).parts["num_params"].score == 1.0


def test_rounding_the_size_up_is_named() -> None:
    # 224x224, 3x3 kernel, stride 2, no padding: (224 - 3)/2 = 110.5, floor + 1 = 111; ceil + 1 = 112.
    params = {"in_channels": 3, "height": 224, "width": 224, "out_channels": 8, "kernel_size": 3, "stride": 2}
    inst = instantiate(ID, params=params)
    assert inst.answers["output_shape"] == "[8, 111, 111]"
    for lang in ("zh", "en"):
        r = grade_answers(inst, {"output_shape": "[8, 112, 112]"}, lang).parts["output_shape"]
        assert r.score == 0 and r.misconception == "rounded_up"
    r = grade_answers(inst, {"macs": str(8 * 112 * 112 * 3 * 3 * 3)}).parts["macs"]
    assert r.score == 0 and r.misconception == "rounded_up"
    # where the stride fits exactly, rounding up changes nothing and nothing is named
    fits = instantiate(ID, params={**params, "height": 225, "width": 225})
    rounded = [alt for m, alt in fits.wrong_ways if m.id == "rounded_up"]
    assert rounded and all(alt["output_shape"] == fits.answers["output_shape"] for alt in rounded)


def test_pairs_and_ints_mean_the_same_layer() -> None:
    a = instantiate(ID, params={**EXAM, "kernel_size": [9, 9], "stride": [2, 2], "padding": [0, 0]})
    assert a.answers == instantiate(ID, params=EXAM).answers


def test_rectangular_kernel() -> None:
    # 3x32x64 input, 3x5 kernel, stride (1, 2), padding (1, 2): H' = 32 + 2 - 3 + 1 = 32, W' = (64 + 4 - 5)/2 + 1 = 32.
    inst = instantiate(
        ID,
        params={
            "in_channels": 3,
            "height": 32,
            "width": 64,
            "out_channels": 8,
            "kernel_size": [3, 5],
            "stride": [1, 2],
            "padding": [1, 2],
        },
    )
    answers = {"output_shape": "[8, 32, 32]", "num_params": "8*(3*3*5+1)", "macs": "8*32*32*3*3*5"}
    answers["num_connections"] = "8*(3*3*5+1)*32*32"
    assert grade_answers(inst, answers).score == 1.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**EXAM, "kernel_size": 99}, "kernel_size"),  # 99 > 97
        ({**EXAM, "height": 5, "width": 5, "kernel_size": 3, "dilation": 3}, "kernel_size"),  # spans 7 > 5
        ({**EXAM, "kernel_size": [3]}, "kernel_size"),
        ({**EXAM, "kernel_size": [3, 3, 3]}, "kernel_size"),
        ({**EXAM, "kernel_size": 0}, "kernel_size"),
        ({**EXAM, "stride": 0}, "stride"),
        ({**EXAM, "padding": -1}, "padding"),
        ({**EXAM, "padding": 10**6}, "padding"),
        ({**EXAM, "dilation": 0}, "dilation"),
        ({**EXAM, "height": 0}, "height"),
        ({**EXAM, "width": 10**7}, "width"),
        ({**EXAM, "in_channels": 3.5}, "in_channels"),
        ({**EXAM, "in_channels": "3"}, "in_channels"),
        ({**EXAM, "out_channels": True}, "out_channels"),
        ({**EXAM, "bias": "yes"}, "bias"),
        ({**EXAM, "groups": 3}, "groups"),
        ({k: v for k, v in EXAM.items() if k != "out_channels"}, "out_channels"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generator_gives_whole_sizes_and_variety() -> None:
    seen_dilation = seen_pair = seen_no_bias = 0
    for seed in range(300):
        p = instantiate(ID, seed=seed).params
        for axis, n in ((0, p["height"]), (1, p["width"])):
            k, s, q, d = (
                v if isinstance(v, int) else v[axis]
                for v in (p["kernel_size"], p["stride"], p["padding"], p["dilation"])
            )
            assert (n + 2 * q - d * (k - 1) - 1) % s == 0, p
        seen_dilation += p["dilation"] != 1
        seen_pair += isinstance(p["kernel_size"], list)
        seen_no_bias += not p["bias"]
    assert min(seen_dilation, seen_pair, seen_no_bias) > 10


def test_statements_and_solutions_render() -> None:
    from app.rendering import render

    for seed in range(40):
        inst = instantiate(ID, seed=seed)
        texts = [*inst.statement.values(), *(s for steps in inst.solution().values() for s in steps)]
        for text in texts:
            assert 'class="tex"' not in str(render(text)), text


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200
