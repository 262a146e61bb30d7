"""cnn.network_table against the real torch.nn layers, the answer-key table of seeds/002, misconceptions, validation."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from grader import AnswerSpec, read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "cnn.network_table"


def build(torch: Any, spec: dict[str, Any]) -> Any:
    """The torch.nn module a layer dict names, with its kwargs as PyTorch takes them (pairs as tuples)."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "type"}
    return getattr(torch.nn, spec["type"])(**kwargs).eval()


def run(torch: Any, layers: list[Any], x: Any) -> tuple[list[tuple[list[int], int]], int | None]:
    """Each layer's per-sample output shape and parameter count, and the index of a layer PyTorch refuses."""
    rows: list[tuple[list[int], int]] = []
    for i, layer in enumerate(layers):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Softmax() without dim warns about the implicit choice
                x = layer(x)
        except (RuntimeError, ValueError, IndexError):
            return rows, i
        rows.append((list(x.shape[1:]), sum(t.numel() for t in layer.parameters())))
    return rows, None


def ours(inst: Any) -> list[tuple[list[int], int]]:
    a = inst.answers
    rows = []
    for i in range(1, len(inst.params["layers"]) + 1):
        shape = [int(v) for v in a[f"output_shape_{i}"].strip("[]").split(",")]
        rows.append((shape, int(a[f"num_params_{i}"])))
    assert int(a["total_params"]) == sum(n for _, n in rows)
    return rows


@pytest.mark.torch
def test_generated_tables_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    for seed in range(200):  # with the random nets below, well over a thousand tables
        inst = instantiate(ID, seed=seed)
        p = inst.params
        with torch.no_grad():
            layers = [build(torch, spec) for spec in p["layers"]]
            rows, refused = run(torch, layers, torch.zeros(1, *p["input_shape"]))
        assert refused is None and ours(inst) == rows, p


def random_layer(rng: np.random.Generator, shape: list[int]) -> dict[str, Any]:
    """A layer for an input of this per-sample shape, mostly sensible, sometimes wrong on purpose."""

    def arg(low: int, high: int) -> int | list[int]:
        if rng.random() < 0.7:
            return int(rng.integers(low, high + 1))
        return [int(rng.integers(low, high + 1)) for _ in range(2)]

    def off(n: int) -> int:
        return n + 1 if rng.random() < 0.08 else n

    kinds = ["ReLU", "Sigmoid", "Tanh", "Identity", "Dropout", "Softmax", "Linear"]
    if len(shape) == 3:
        kinds += ["Conv2d"] * 5 + ["BatchNorm2d", "MaxPool2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
        kinds += ["Flatten"] * 2
    kind = str(rng.choice(kinds))
    spec: dict[str, Any] = {"type": kind}
    if kind == "Conv2d":
        c = shape[0]
        groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0])) if rng.random() < 0.15 else 1
        spec |= {
            "in_channels": off(c),
            "out_channels": groups * int(rng.integers(1, 5)),
            "kernel_size": arg(1, 4),
        }
        for name, low, high, chance in (
            ("stride", 1, 3, 0.3),
            ("padding", 0, 2, 0.3),
            ("dilation", 1, 2, 0.15),
        ):
            if rng.random() < chance:
                spec[name] = arg(low, high)
        if rng.random() < 0.1:  # PyTorch's string paddings; "same" with a stride is refused
            spec["padding"] = str(rng.choice(["same", "valid"]))
        if groups > 1:
            spec["groups"] = groups
        if rng.random() < 0.3:
            spec["bias"] = bool(rng.random() < 0.5)
    elif kind == "BatchNorm2d":
        spec |= {"num_features": off(shape[0])}
        if rng.random() < 0.2:
            spec["affine"] = False
    elif kind in ("MaxPool2d", "AvgPool2d"):
        spec["kernel_size"] = arg(1, 4)
        if rng.random() < 0.5:
            spec["stride"] = arg(1, 3)
        if rng.random() < 0.3:
            spec["padding"] = arg(0, 2)
        if rng.random() < 0.2:
            spec["ceil_mode"] = True
        if kind == "MaxPool2d" and rng.random() < 0.15:
            spec["dilation"] = arg(1, 2)
        if kind == "AvgPool2d" and rng.random() < 0.15:
            spec["count_include_pad"] = False
    elif kind == "AdaptiveAvgPool2d":
        size = int(rng.integers(1, 5))
        spec["output_size"] = size if rng.random() < 0.6 else [size, None if rng.random() < 0.3 else size + 1]
    elif kind == "Flatten":
        # Never from dim 0 (the batch), which the table's per-sample shapes cannot show.
        spec |= {str(k): v for k, v in (("start_dim", int(rng.choice([1, 1, 2, -2]))),) if rng.random() < 0.4}
        if rng.random() < 0.2:
            spec["end_dim"] = int(rng.choice([2, 3, -1, -2]))
    elif kind == "Linear":
        spec |= {"in_features": off(shape[-1]), "out_features": int(rng.integers(1, 20))}
        if rng.random() < 0.2:
            spec["bias"] = False
    elif kind == "Softmax":
        dims = [None, 1, -1, 2, len(shape) + 1]  # the last one is out of range
        dim = dims[int(rng.integers(0, len(dims)))]
        if dim is not None:
            spec["dim"] = dim
    elif kind == "Dropout" and rng.random() < 0.5:
        spec["p"] = float(rng.choice([0.1, 0.25, 0.5]))
    return spec


@pytest.mark.torch
def test_random_nets_match_pytorch_and_fail_where_it_fails() -> None:
    """Nets built step by step against the real layers: PyTorch accepts them iff we do, with the same table."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(13)
    accepted = refused = 0
    while accepted < 900 or refused < 150:
        input_shape = [int(rng.integers(1, 5)), int(rng.integers(2, 17)), int(rng.integers(2, 17))]
        x = torch.zeros(1, *input_shape)
        specs: list[dict[str, Any]] = []
        expected: list[tuple[list[int], int]] = []
        failed_at = None
        for _ in range(int(rng.integers(1, 9))):
            spec = random_layer(rng, list(x.shape[1:]))
            specs.append(spec)
            try:
                layer = build(torch, spec)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x = layer(x)
            except (ValueError, RuntimeError, IndexError):  # refused when built (groups) or when run
                failed_at = len(specs) - 1
                break
            expected.append((list(x.shape[1:]), sum(t.numel() for t in layer.parameters())))
        params = {"input_shape": input_shape, "layers": specs}
        if failed_at is None:
            assert ours(instantiate(ID, params=params)) == expected, params
            accepted += 1
        else:
            with pytest.raises(InvalidParams) as exc:
                instantiate(ID, params=params)
            assert exc.value.errors[0]["loc"][:2] == ["layers", failed_at], (params, exc.value)
            refused += 1


# seeds/002 1.3, the answer key's table: 224x224 RGB, four classes.
TABLE_002 = {
    "input_shape": [3, 224, 224],
    "layers": [
        {"type": "Identity"},
        {"type": "Conv2d", "in_channels": 3, "out_channels": 32, "kernel_size": [3, 3]},
        {"type": "BatchNorm2d", "num_features": 32},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": [2, 2], "stride": 2},
        {"type": "Conv2d", "in_channels": 32, "out_channels": 1, "kernel_size": [1, 1]},
        {"type": "AdaptiveAvgPool2d", "output_size": [3, 3]},
        {"type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": [2, 2]},
        {"type": "Flatten"},
        {"type": "Softmax"},
    ],
}
# The key's cells as written there (its first row, Identity, is layer 1 here).
KEY_002 = {
    "output_shape_1": "[3,224,224]",
    "num_params_1": "0",
    "output_shape_2": "[32,222,222]",
    "num_params_2": "32*(3*3*3+1)=896",
    "output_shape_3": "[32,222,222]",
    "num_params_3": "32*2=64",
    "output_shape_4": "[32,222,222]",
    "num_params_4": "0",
    "output_shape_5": "[32,111,111]",
    "num_params_5": "0",
    "output_shape_6": "[1,111,111]",
    "num_params_6": "1*(1*1*32+1)=33",
    "output_shape_7": "[1,3,3]",
    "num_params_7": "0",
    "output_shape_8": "[1,2,2]",
    "num_params_8": "1*(2*2+1)=5",
    "output_shape_9": "[4,]",
    "num_params_9": "0",
    "output_shape_10": "[4,]",
    "num_params_10": "0",
    "total_params": "896+64+33+5",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_answer_key_002_scores_full_marks(lang: str) -> None:
    result = grade_answers(instantiate(ID, params=TABLE_002), KEY_002, lang)
    assert result.score == 1.0, {k: r.feedback for k, r in result.parts.items() if r.score < 1}


def test_002_net_has_four_outputs_not_five() -> None:
    """002 2.1 speaks of 5 classes, but the 1.3 net ends in [4]: a "5" is wrong."""
    r = grade_answers(instantiate(ID, params=TABLE_002), {"output_shape_10": "[5]"}).parts["output_shape_10"]
    assert r.score == 0


@pytest.mark.parametrize(
    ("part", "answer", "misconception"),
    [
        ("num_params_2", "32*3*3*3", "conv_forgot_bias"),
        ("num_params_2", "32*(3*3+1)", "conv_forgot_in_channels"),
        ("num_params_3", "32*4", "bn_counted_running_stats"),
        ("output_shape_2", "[32, 221, 221]", "forgot_plus_one"),
        ("num_params_6", "1*1*1*32", "conv_forgot_bias"),
        ("total_params", "896+128+33+5", "bn_counted_running_stats"),
        ("total_params", "32*27+32*2+32+4", "conv_forgot_bias"),
    ],
)
def test_misconceptions_on_the_002_table(part: str, answer: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=TABLE_002), {part: answer}, "zh").parts[part]
    assert r.score == 0 and r.misconception == misconception, r
    note = next(m.feedback["zh"] for m in get_family(ID).misconceptions() if m.id == misconception)
    assert note in r.feedback


LENET = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5, "padding": 2},
        {"type": "Sigmoid"},
        {"type": "AvgPool2d", "kernel_size": 2},
        {"type": "Conv2d", "in_channels": 6, "out_channels": 16, "kernel_size": 5},
        {"type": "Sigmoid"},
        {"type": "AvgPool2d", "kernel_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 400, "out_features": 120},
        {"type": "Dropout"},
        {"type": "Linear", "in_features": 120, "out_features": 10, "bias": False},
    ],
}


@pytest.mark.parametrize(
    ("part", "answer", "correct", "misconception"),
    [
        ("output_shape_1", "[6, 28, 28]", True, None),  # 28 + 2*2 - 5 + 1
        ("output_shape_1", "[6, 26, 26]", False, "padding_counted_once"),  # 28 + 2 - 5 + 1
        ("output_shape_3", "[6, 14, 14]", True, None),
        ("output_shape_3", "[6, 27, 27]", False, "pool_stride_defaults_to_one"),
        ("output_shape_6", "[16, 5, 5]", True, None),
        ("output_shape_7", "[400]", True, None),
        ("num_params_8", "400*120+120", True, None),
        ("num_params_8", "400*120", False, "linear_forgot_bias"),
        ("num_params_10", "1200", True, None),  # bias=False
        ("total_params", "156 + 2416 + 48120 + 1200", True, None),
    ],
)
def test_lenet_table(part: str, answer: str, correct: bool, misconception: str | None) -> None:
    r = grade_answers(instantiate(ID, params=LENET), {part: answer}).parts[part]
    assert r.correct is correct and r.misconception == misconception, r


def test_linear_acts_on_the_last_dimension() -> None:
    net = {"input_shape": [2, 3, 4], "layers": [{"type": "Linear", "in_features": 4, "out_features": 5}]}
    inst = instantiate(ID, params=net)
    assert grade_answers(
        inst, {"output_shape_1": "[2, 3, 5]", "num_params_1": "4*5+5"}
    ).score == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("layers", "where"),
    [
        ([{"type": "Conv3d", "in_channels": 3}], "layers.0.type"),
        ([{"in_channels": 3}], "layers.0.type"),
        (["ReLU"], "layers.0"),
        ([{"type": "ReLU"}, {"type": "Conv2d", "in_channels": 3, "out_channels": 8}], "layers.1.kernel_size"),
        ([{"type": "Conv2d", "in_channels": 4, "out_channels": 8, "kernel_size": 3}], "layers.0.in_channels"),
        (
            [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "device": "cuda"}],
            "layers.0.device",
        ),
        (
            [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 99}],
            "layers.0.kernel_size",
        ),
        (
            [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "groups": 2}],
            "layers.0.groups",
        ),
        (
            [{"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "stride": 0}],
            "layers.0.stride",
        ),
        ([{"type": "BatchNorm2d", "num_features": 8}], "layers.0.num_features"),
        ([{"type": "MaxPool2d", "kernel_size": 2, "padding": 2}], "layers.0.padding"),
        ([{"type": "MaxPool2d", "kernel_size": 40}], "layers.0.kernel_size"),
        ([{"type": "AdaptiveAvgPool2d", "output_size": 0}], "layers.0.output_size"),
        ([{"type": "Flatten", "start_dim": 0}], "layers.0.start_dim"),
        ([{"type": "Flatten", "start_dim": 3, "end_dim": 2}], "layers.0.start_dim"),
        (
            [{"type": "Flatten"}, {"type": "Linear", "in_features": 100, "out_features": 2}],
            "layers.1.in_features",
        ),
        (
            [{"type": "Flatten"}, {"type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 1}],
            "layers.1.type",
        ),
        ([{"type": "Flatten"}, {"type": "BatchNorm2d", "num_features": 3}], "layers.1.type"),
        ([{"type": "Dropout", "p": 1.5}], "layers.0.p"),
        ([{"type": "Softmax", "dim": 4}], "layers.0.dim"),
        ([{"type": "Linear", "in_features": 32, "out_features": 10**9}], "layers.0.out_features"),
        ([{"type": "ReLU"}] * 17, "layers"),
        ([], "layers"),
    ],
)
def test_bad_layers_name_the_field(layers: list[Any], where: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={"input_shape": [3, 32, 32], "layers": layers})
    locs = [".".join(str(x) for x in e["loc"]) for e in exc.value.errors]
    assert where in locs, exc.value
    assert str(exc.value).startswith(where)


@pytest.mark.parametrize(
    ("input_shape", "where"),
    [
        ([3, 32], "input_shape.2"),
        ([0, 32, 32], "input_shape.0"),
        ([3, 32, 10**5], "input_shape.2"),
        ("3x32x32", "input_shape"),
    ],
)
def test_bad_input_shape_names_the_field(input_shape: Any, where: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={"input_shape": input_shape, "layers": [{"type": "ReLU"}]})
    assert where in [".".join(str(x) for x in e["loc"]) for e in exc.value.errors], exc.value


def test_statement_shows_the_seeds_modules_and_defaults_are_left_out() -> None:
    zh = instantiate(ID, params=TABLE_002).statement["zh"]
    assert "`Conv2d(in_channels=3, out_channels=32, kernel_size=(3, 3))`" in zh
    assert "`MaxPool2d(kernel_size=(2, 2), stride=2)`" in zh
    assert "`Softmax()`" in zh and "| 10 |" in zh


def test_generator_makes_small_varied_nets() -> None:
    kinds: set[str] = set()
    for seed in range(300):
        p = instantiate(ID, seed=seed).params
        kinds |= {layer["type"] for layer in p["layers"]}
        assert 3 <= len(p["layers"]) <= 10
    assert kinds == {
        "Identity", "Conv2d", "BatchNorm2d", "ReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d",
        "AdaptiveAvgPool2d", "Flatten", "Linear", "Dropout", "Softmax",
    }  # fmt: skip


def test_generated_sizes_divide_exactly() -> None:
    """Every conv and pooling window fits its padded input exactly: integer sizes, no floor needed."""
    for seed in range(300):
        inst = instantiate(ID, seed=seed)
        shapes = [inst.params["input_shape"]]
        shapes += [[int(v) for v in inst.answers[f"output_shape_{i}"].strip("[]").split(",")] for i in range(1, 11)
                   if f"output_shape_{i}" in inst.answers]  # fmt: skip
        for layer, shape in zip(inst.params["layers"], shapes, strict=False):
            if layer["type"] in ("Conv2d", "MaxPool2d", "AvgPool2d"):
                k, q = layer["kernel_size"], layer.get("padding", 0)
                k, q = (k if isinstance(k, int) else k[0]), (q if isinstance(q, int) else q[0])
                s = layer.get("stride") or k
                assert (shape[1] + 2 * q - k) % s == 0, (seed, layer, shape)


def test_statements_and_solutions_render() -> None:
    from app.rendering import render

    for seed in range(30):
        inst = instantiate(ID, seed=seed)
        for text in [*inst.statement.values(), *(s for steps in inst.solution().values() for s in steps)]:
            assert 'class="tex"' not in str(render(text)), text
        assert "<table>" in str(render(inst.statement["en"]))


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 200


@pytest.mark.parametrize(
    ("padding", "stride", "shape", "hand"),
    [
        ("same", 1, "[2, 10, 10]", "10 + 2*2 - 5 + 1 = 10: dilated span 5 needs 2 on each side"),
        ("valid", 1, "[2, 6, 6]", "10 - 5 + 1 = 6"),
        ("valid", 2, "[2, 3, 3]", "floor((10 - 5)/2) + 1 = 3"),
    ],
)
def test_conv_string_padding_as_pytorch(padding: str, stride: int, shape: str, hand: str) -> None:
    conv = {"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "dilation": 2}
    params = {"input_shape": [1, 10, 10], "layers": [{**conv, "padding": padding, "stride": stride}]}
    inst = instantiate(ID, params=params)
    assert (inst.answers["output_shape_1"], inst.answers["num_params_1"]) == (shape, "20"), hand
    assert f"padding='{padding}'" in inst.statement["en"]
    assert grade_answers(inst, {"output_shape_1": shape}).parts["output_shape_1"].correct


def test_conv_same_padding_with_a_stride_is_refused_as_pytorch_does() -> None:
    layer = {
        "type": "Conv2d",
        "in_channels": 1,
        "out_channels": 2,
        "kernel_size": 3,
        "padding": "same",
        "stride": 2,
    }
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={"input_shape": [1, 10, 10], "layers": [layer]})
    assert exc.value.errors[0]["loc"] == ["layers", 0, "padding"]


# seeds/000 2.1: 55x55x1 -> Conv(3 filters 5x5, stride 2) -> MaxPool 2 -> ReLU -> FC 1024, no biases.
NET_000 = {
    "input_shape": [1, 55, 55],
    "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 3, "kernel_size": 5, "stride": 2, "bias": False},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "ReLU"},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 507, "out_features": 1024, "bias": False},
    ],
}


def test_seed_000_network_and_its_relu_count() -> None:
    """The seed's answers 75 and 13*13*3 hold. Its ReLU count, 26*26 + 13*13 + 1024 = 1869, does not:
    the one ReLU comes after the pool and acts on each of the 3*13*13 = 507 values once (it drops the
    channels, and counts a ReLU after the conv and after the FC layer that the network does not have)."""
    inst = instantiate(ID, params=NET_000)
    got = grade_answers(
        inst,
        {"num_params_1": "3 * 5 * 5 = 75", "output_shape_2": "13 * 13 * 3", "output_shape_3": "[3, 13, 13]"},
    ).parts
    assert got["num_params_1"].correct and got["output_shape_3"].correct
    # the seed writes H*W*C as a product; the feedback asks for the [C, H, W] list instead
    assert not got["output_shape_2"].correct and "[C, H, W]" in got["output_shape_2"].feedback
    relu_shape = read(inst.answers["output_shape_3"], AnswerSpec("shape")).value
    assert int(np.prod(relu_shape)) == 507 != 1869
    assert grade_answers(inst, {"total_params": "75 + 507*1024"}).score > 0


def test_lenet5_f6_layer() -> None:
    """LeNet-5 (the textbook figure): C5 gives 120 values, F6 is Linear(120, 84): 84*(120+1) = 10164
    parameters (and as many connections, one per weight and bias). S2/S4 of the original have a
    trainable coefficient and bias per map (12 and 32 parameters); PyTorch's AvgPool2d has none, and
    the catalogue's layer types are PyTorch's, so that variant is not posed here."""
    net = {
        "input_shape": [16, 5, 5],
        "layers": [
            {"type": "Conv2d", "in_channels": 16, "out_channels": 120, "kernel_size": 5},
            {"type": "Flatten"},
            {"type": "Linear", "in_features": 120, "out_features": 84},
        ],
    }
    got = grade_answers(
        instantiate(ID, params=net),
        {"num_params_1": "48120", "num_params_3": "10164", "output_shape_3": "[84]"},
    ).parts
    assert got["num_params_1"].correct and got["num_params_3"].correct and got["output_shape_3"].correct
