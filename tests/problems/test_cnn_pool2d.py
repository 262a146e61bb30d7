"""cnn.pool2d against PyTorch's nn.MaxPool2d / nn.AvgPool2d, the seeds' pooling answers, misconceptions, validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "cnn.pool2d"


def _arg(rng: np.random.Generator, low: int, high: int) -> int | list[int]:
    if rng.random() < 0.7:
        return int(rng.integers(low, high + 1))
    return [int(rng.integers(low, high + 1)) for _ in range(2)]


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params drawn independently of the family's generator; some are impossible on purpose."""
    params: dict[str, Any] = {
        "in_channels": int(rng.integers(1, 9)),
        "height": int(rng.integers(1, 40)),
        "width": int(rng.integers(1, 40)),
        "kernel_size": _arg(rng, 1, 7),
        "padding": _arg(rng, 0, 3),
        "kind": str(rng.choice(["max", "avg"])),
    }
    if rng.random() < 0.6:
        params["stride"] = _arg(rng, 1, 5)
    return params


def torch_pool(torch: Any, params: dict[str, Any]) -> tuple[list[int], int] | None:
    """Output shape and parameter count of the real layer; None when PyTorch refuses."""

    def tup(v: Any) -> Any:
        return tuple(v) if isinstance(v, list) else v

    cls = torch.nn.MaxPool2d if params.get("kind", "max") == "max" else torch.nn.AvgPool2d
    layer = cls(
        tup(params["kernel_size"]), stride=tup(params.get("stride")), padding=tup(params.get("padding", 0))
    )
    x = torch.empty(1, params["in_channels"], params["height"], params["width"], device="meta")
    try:
        y = layer(x)
    except RuntimeError:
        return None
    return list(y.shape[1:]), sum(t.numel() for t in layer.parameters())


def ours(inst: Any) -> tuple[list[int], int]:
    shape = [int(x) for x in inst.answers["output_shape"].strip("[]").split(",")]
    return shape, int(inst.answers["num_params"])


@pytest.mark.torch
def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    compared = refused = 0
    for seed in range(600):
        inst = instantiate(ID, seed=seed)
        assert ours(inst) == torch_pool(torch, inst.params), inst.params
        compared += 1
    rng = np.random.default_rng(7)
    while compared < 1300:
        params = random_params(rng)
        expected = torch_pool(torch, params)
        if expected is None:
            with pytest.raises(InvalidParams, match="padding|kernel_size"):
                instantiate(ID, params=params)
            refused += 1
            continue
        assert ours(instantiate(ID, params=params)) == expected, params
        compared += 1
    assert refused > 50


@pytest.mark.torch
def test_real_tensors_agree_on_a_few() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    for seed in range(30):
        p = instantiate(ID, seed=seed).params
        if p["height"] * p["width"] * p["in_channels"] > 200_000:
            continue
        cls = torch.nn.MaxPool2d if p["kind"] == "max" else torch.nn.AvgPool2d
        tup = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
        y = cls(tup(p["kernel_size"]), stride=tup(p["stride"]), padding=tup(p["padding"]))(
            torch.zeros(1, p["in_channels"], p["height"], p["width"])
        )
        assert ours(instantiate(ID, seed=seed))[0] == list(y.shape[1:])


# seeds/000 2.1: the 3x26x26 conv output, max pooling 2x2 stride 2.
HW_000 = {"in_channels": 3, "height": 26, "width": 26, "kernel_size": 2, "stride": 2}
# seeds/002 1.3: MaxPool2d(kernel_size=(2,2), stride=2) on [32, 222, 222].
TABLE_002 = {"in_channels": 32, "height": 222, "width": 222, "kernel_size": [2, 2], "stride": 2}


@pytest.mark.parametrize(
    ("params", "part", "answer"),
    [
        (HW_000, "output_shape", "[3, 13, 13]"),
        (HW_000, "output_shape", "3x13x13"),
        (HW_000, "num_params", "0"),
        (TABLE_002, "output_shape", "[32,111,111]"),
        (TABLE_002, "num_params", "0"),
        ({**TABLE_002, "stride": None}, "output_shape", "[32, 111, 111]"),  # the default stride is the kernel
        ({**HW_000, "kind": "avg"}, "output_shape", "(3, 13, 13)"),
    ],
)
def test_seed_answers_score_full_marks(params: dict[str, Any], part: str, answer: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {part: answer}).parts[part]
    assert r.score == 1.0, r.feedback


@pytest.mark.parametrize("answer", ["13x13x3", "13×13×3"])
def test_seed_000_writes_height_width_channels(answer: str) -> None:
    """000 answers "13 * 13 * 3" (H, W, C); our shapes are [C, H, W] and the feedback says so."""
    r = grade_answers(instantiate(ID, params=HW_000), {"output_shape": answer}).parts["output_shape"]
    assert r.score == 0 and "[C, H, W]" in r.feedback


def test_seed_000_product_form_is_explained() -> None:
    """Typed as in the seed, 13 * 13 * 3 is a product, not a shape: the part is wrong, with a reason."""
    r = grade_answers(instantiate(ID, params=HW_000), {"output_shape": "13 * 13 * 3"}).parts["output_shape"]
    assert r.score == 0 and r.feedback and r.reason == "parse_error"


@pytest.mark.parametrize(
    ("params", "answer", "misconception"),
    [
        ({**TABLE_002, "stride": None}, "[32, 221, 221]", "stride_defaults_to_one"),  # 222 - 2 + 1
        (TABLE_002, "[32, 110, 110]", "forgot_plus_one"),  # (222 - 2)/2
        (TABLE_002, "[1, 111, 111]", "channels_changed"),
        # 27x27, 2x2 stride 2: PyTorch floors (27 - 2)/2 + 1 = 13.5 to 13.
        ({"in_channels": 8, "height": 27, "width": 27, "kernel_size": 2}, "[8, 14, 14]", "rounded_up"),
        # 16x16, 5x5 stride 1 padding 2 keeps 16; padding once: 16 + 2 - 5 + 1 = 14 (a lost +1 gives 15).
        (
            {"in_channels": 8, "height": 16, "width": 16, "kernel_size": 5, "stride": 1, "padding": 2},
            "[8, 14, 14]",
            "padding_counted_once",
        ),
    ],
)
def test_misconceptions_get_their_feedback(params: dict[str, Any], answer: str, misconception: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {"output_shape": answer}, "zh").parts["output_shape"]
    assert r.score == 0 and r.misconception == misconception, r
    note = next(m.feedback["zh"] for m in get_family(ID).misconceptions() if m.id == misconception)
    assert note in r.feedback


@pytest.mark.parametrize("answer", ["4", "3*2*2", "12", "3*(2*2+1)"])
def test_any_parameter_count_but_zero_is_explained(answer: str) -> None:
    for lang, word in (("zh", "没有可学习参数"), ("en", "no learnable parameters")):
        r = grade_answers(instantiate(ID, params=HW_000), {"num_params": answer}, lang).parts["num_params"]
        assert r.score == 0 and word in r.feedback and r.reason == "pooling_has_params"


def test_unreadable_count_is_not_called_a_pooling_mistake() -> None:
    r = grade_answers(instantiate(ID, params=HW_000), {"num_params": "zero"}).parts["num_params"]
    assert r.score == 0 and r.reason == "parse_error"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**HW_000, "padding": 2}, "padding"),  # more than half of 2
        ({**HW_000, "kernel_size": 30}, "kernel_size"),  # 30 > 26
        ({**HW_000, "kernel_size": 0}, "kernel_size"),
        ({**HW_000, "kernel_size": [2, 2, 2]}, "kernel_size"),
        ({**HW_000, "stride": 0}, "stride"),
        ({**HW_000, "kind": "min"}, "kind"),
        ({**HW_000, "height": -1}, "height"),
        ({**HW_000, "in_channels": 0}, "in_channels"),
        ({**HW_000, "ceil_mode": True}, "ceil_mode"),
        ({k: v for k, v in HW_000.items() if k != "kernel_size"}, "kernel_size"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generator_varies_and_mostly_fits() -> None:
    kinds, defaults, leftover = set(), 0, 0
    for seed in range(300):
        p = instantiate(ID, seed=seed).params
        kinds.add(p["kind"])
        defaults += p["stride"] is None
        k = p["kernel_size"] if isinstance(p["kernel_size"], int) else p["kernel_size"][0]
        s = k if p["stride"] is None else p["stride"]
        leftover += (p["height"] + 2 * p["padding"] - k) % s != 0
    assert kinds == {"max", "avg"} and defaults > 30 and 0 < leftover < 60


def test_statements_and_solutions_render() -> None:
    from app.rendering import render

    for seed in range(40):
        inst = instantiate(ID, seed=seed)
        for text in [*inst.statement.values(), *(s for steps in inst.solution().values() for s in steps)]:
            assert 'class="tex"' not in str(render(text)), text


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 50
