"""cnn.cross_correlation against torch.nn.functional.conv2d (and torch.flip), the seeds' Jacobian, misconceptions."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader import AnswerSpec, read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "cnn.cross_correlation"


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params independent of the family's generator: decimals too; some impossible on purpose."""
    h, w = (int(x) for x in rng.integers(1, 9, size=2))
    kh, kw = (int(x) for x in rng.integers(1, 6, size=2))

    def entries(rows: int, cols: int) -> list[list[int | float]]:
        if rng.random() < 0.5:
            return rng.integers(-9, 10, size=(rows, cols)).tolist()
        return [
            [round(float(v), 2) for v in row] for row in rng.integers(-999, 1000, size=(rows, cols)) / 100
        ]

    return {
        "input": entries(h, w),
        "kernel": entries(kh, kw),
        "stride": int(rng.integers(1, 5)),
        "padding": int(rng.integers(0, 4)),
        "flip": bool(rng.random() < 0.5),
    }


def torch_output(torch: Any, params: dict[str, Any]) -> list[list[float]] | None:
    x = torch.tensor(params["input"], dtype=torch.float64)[None, None]
    k = torch.tensor(params["kernel"], dtype=torch.float64)
    if params.get("flip", False):
        k = torch.flip(k, dims=[0, 1])
    try:
        y = torch.nn.functional.conv2d(
            x, k[None, None], stride=params.get("stride", 1), padding=params.get("padding", 0)
        )
    except RuntimeError:
        return None
    return y[0, 0].tolist()


def ours(inst: Any) -> np.ndarray:
    # The canonical text is a JSON-compatible list of rows; the grader reads it the same (checked below).
    return np.array(json.loads(inst.answers["output"]), dtype=float)


@pytest.mark.torch
def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    compared = refused = 0
    for seed in range(500):
        inst = instantiate(ID, seed=seed)
        expected = np.array(torch_output(torch, inst.params))
        assert ours(inst).shape == expected.shape and np.array_equal(ours(inst), expected), inst.params
        compared += 1
    rng = np.random.default_rng(8)
    while compared < 1200:
        params = random_params(rng)
        out = torch_output(torch, params)
        if out is None:
            with pytest.raises(InvalidParams, match="kernel"):
                instantiate(ID, params=params)
            refused += 1
            continue
        got, expected = ours(instantiate(ID, params=params)), np.array(out)
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-11, atol=1e-11), params
        compared += 1
    assert refused > 30


# Dive into Deep Learning's example: X = 0..8, K = [[0, 1], [2, 3]], cross-correlation [[19, 25], [37, 43]].
D2L = {"input": [[0, 1, 2], [3, 4, 5], [6, 7, 8]], "kernel": [[0, 1], [2, 3]]}


def test_seed_002_jacobian_of_the_conv_output() -> None:
    """seeds/002 1.2: dy/dw for a 3x3 input and 2x2 kernel; y = J w row-major, so J gives the output."""
    values = [[3, 1, 4], [1, 5, 9], [2, 6, 5]]
    x = {(i + 1, j + 1): values[i][j] for i in range(3) for j in range(3)}  # x_{i,j}, 1-based as in the seed
    jacobian = [  # the published matrix, entry by entry
        [x[1, 1], x[1, 2], x[2, 1], x[2, 2]],
        [x[1, 2], x[1, 3], x[2, 2], x[2, 3]],
        [x[2, 1], x[2, 2], x[3, 1], x[3, 2]],
        [x[2, 2], x[2, 3], x[3, 2], x[3, 3]],
    ]
    w = [2, -1, 0, 3]  # w11, w12, w21, w22
    y = [sum(a * b for a, b in zip(row, w, strict=True)) for row in jacobian]
    params = {"input": values, "kernel": [[2, -1], [0, 3]]}
    answer = f"[[{y[0]}, {y[1]}], [{y[2]}, {y[3]}]]"
    assert grade_answers(instantiate(ID, params=params), {"output": answer}).score == 1.0


@pytest.mark.parametrize(
    ("params", "answer"),
    [
        (D2L, "[[19, 25], [37, 43]]"),
        (D2L, "19 25; 37 43"),
        (D2L, "[[0*0+1*1+3*2+4*3, 25], [37, 43]]"),
        # The convolution rotates K to [[3, 2], [1, 0]]: 0*3 + 1*2 + 3*1 + 4*0 = 5, ...
        ({**D2L, "flip": True}, "[[5, 11], [23, 29]]"),
        # Stride 2 with padding 1 on the same X: windows [[0,0],[0,0]], [[0,0],[1,2]], [[0,3],[0,6]], [[4,5],[7,8]].
        ({**D2L, "padding": 1, "stride": 2}, "[[0, 1*2+2*3], [3*1+6*3, 5*1+7*2+8*3]]"),
    ],
)
def test_published_and_hand_worked_examples(params: dict[str, Any], answer: str) -> None:
    r = grade_answers(instantiate(ID, params=params), {"output": answer}).parts["output"]
    assert r.score == 1.0, r.feedback


@pytest.mark.parametrize(
    ("params", "answer", "misconception"),
    [
        # seeds/000 简答题 3: CNNs compute a cross-correlation; flipping the kernel is the mistake.
        (D2L, "[[5, 11], [23, 29]]", "flipped_kernel"),
        ({**D2L, "flip": True}, "[[19, 25], [37, 43]]", "did_not_flip"),
        ({**D2L, "flip": True}, "[[7, 13], [25, 31]]", "flipped_up_down_only"),  # K -> [[2, 3], [0, 1]]
        ({**D2L, "flip": True}, "[[17, 23], [35, 41]]", "flipped_left_right_only"),  # K -> [[1, 0], [3, 2]]
        ({**D2L, "padding": 1}, "[[19, 25], [37, 43]]", "ignored_padding"),
        ({**D2L, "stride": 2}, "[[19, 25], [37, 43]]", "ignored_stride"),
    ],
)
def test_misconceptions_get_their_feedback(params: dict[str, Any], answer: str, misconception: str) -> None:
    for lang in ("zh", "en"):
        r = grade_answers(instantiate(ID, params=params), {"output": answer}, lang).parts["output"]
        assert r.score == 0 and r.misconception == misconception, r
        note = next(m.feedback[lang] for m in get_family(ID).misconceptions() if m.id == misconception)
        assert note in r.feedback


def test_the_grader_reads_the_canonical_text_as_json_does() -> None:
    for seed in range(30):
        text = instantiate(ID, params=random_params(np.random.default_rng(seed)) | {"padding": 3}).answers[
            "output"
        ]
        assert read(text, AnswerSpec("matrix")).floats() == json.loads(text)


def test_decimals_are_exact() -> None:
    inst = instantiate(ID, params={"input": [[0.1, 0.2], [0.3, 0.4]], "kernel": [[0.1, 0.2]]})
    assert inst.answers["output"] == "[[0.05], [0.11]]"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**D2L, "input": [[1, 2, 3], [4, 5]]}, "input"),
        ({**D2L, "kernel": [[1, 2], [3]]}, "kernel"),
        ({**D2L, "kernel": [[1] * 4] * 4}, "kernel"),  # 4x4 > 3x3
        ({**D2L, "input": []}, "input"),
        ({**D2L, "kernel": [[]]}, "kernel"),
        ({**D2L, "input": [[1e9]]}, "input"),
        ({**D2L, "kernel": [[float("nan")]]}, "kernel"),
        ({**D2L, "input": [[1] * 11]}, "input"),
        ({**D2L, "input": "[[1, 2], [3, 4]]"}, "input"),
        ({**D2L, "stride": 0}, "stride"),
        ({**D2L, "padding": 4}, "padding"),
        ({**D2L, "flip": "yes"}, "flip"),
        ({**D2L, "dilation": 2}, "dilation"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generated_kernels_are_not_symmetric_under_the_flip() -> None:
    flips = 0
    for seed in range(200):
        p = instantiate(ID, seed=seed).params
        k = np.array(p["kernel"])
        assert not np.array_equal(k, k[::-1, ::-1]), p
        flips += p["flip"]
    assert 30 < flips < 120


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
