"""attention.scaled_dot_product against PyTorch, the seed's questions (seeds/000 2.2), params validation."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy

from grader import AnswerSpec, read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "attention.scaled_dot_product"

# seeds/000 2.2 q2: d = 4 and the keys k1, k2, k3 of the homework.
SEED_KEYS = [[0, 1, -1, 0], [1, 0, 1, 1], [0, -1, 0, -1]]


def parse_matrix(text: str) -> np.ndarray:
    """Read our canonical matrix text ([[1/2, 0.25], [...]]) without the grader."""
    rows = re.findall(r"\[([^\[\]]*)\]", text)
    return np.array([[float(Fraction(x.strip())) for x in r.split(",")] for r in rows])


def torch_attention(torch: Any, q: list, k: list, v: list, causal: bool) -> tuple[np.ndarray, ...]:
    """Scores, weights and output as PyTorch computes them (float64)."""
    qt, kt, vt = (torch.tensor(x, dtype=torch.float64) for x in (q, k, v))
    scores = qt @ kt.T / math.sqrt(qt.shape[-1])
    if causal:
        keep = torch.ones(len(q), len(k), dtype=torch.bool).tril()
        weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
    else:
        weights = torch.softmax(scores, dim=-1)
    out = torch.nn.functional.scaled_dot_product_attention(qt[None], kt[None], vt[None], is_causal=causal)[0]
    return scores.numpy(), weights.numpy(), out.numpy()


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: decimals, any d (also non-square), larger sizes."""
    causal = bool(rng.random() < 0.5)
    n = int(rng.integers(1, 7))
    m = n if causal else int(rng.integers(1, 7))
    d = int(rng.integers(1, 9))
    decimals = int(rng.integers(0, 3))
    q = np.round(rng.uniform(-2, 2, size=(n, d)), decimals)
    k = np.round(rng.uniform(-2, 2, size=(m, d)), decimals)
    symbolic = bool(rng.random() < 0.3)
    v = None if symbolic else np.round(rng.uniform(-5, 5, size=(m, int(rng.integers(1, 5)))), 1).tolist()
    return {
        "Q": q.tolist(),
        "K": k.tolist(),
        "V": v,
        "symbolic_values": symbolic,
        "mask": "causal" if causal else "none",
    }


def symbolic_output(text: str, m: int, values: np.ndarray) -> np.ndarray:
    """Evaluate an expression in v1..vm (read by the grader) at value vectors, all coordinates at
    once (lambdify on our own reference text, never on a student's)."""
    names = tuple(f"v{j + 1}" for j in range(m))
    expr = read(text, AnswerSpec("expression", symbols=names)).value
    by_name = {s.name: s for s in expr.free_symbols}
    args = [by_name.get(n, sympy.Symbol(n)) for n in names]
    f = sympy.lambdify(args, expr, "numpy")
    return np.broadcast_to(np.asarray(f(*values), dtype=float), (values.shape[1],))


def compare_with_torch(torch: Any, inst: Any, rng: np.random.Generator, check_symbolic: bool) -> int:
    """Compare every part with PyTorch; return the number of values compared."""
    p = inst.params
    causal = p["mask"] == "causal"
    values = np.array(p["V"]) if p["V"] is not None else rng.uniform(-3, 3, size=(len(p["K"]), 2))
    scores, weights, out = torch_attention(torch, p["Q"], p["K"], values.tolist(), causal)
    np.testing.assert_allclose(parse_matrix(inst.answers["scores"]), scores, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(parse_matrix(inst.answers["weights"]), weights, rtol=1e-9, atol=1e-12)
    compared = scores.size + weights.size
    if not p["symbolic_values"]:
        np.testing.assert_allclose(parse_matrix(inst.answers["output"]), out, rtol=1e-9, atol=1e-10)
        compared += out.size
    elif check_symbolic:
        for i in range(len(p["Q"])):
            got = symbolic_output(inst.answers[f"output_{i + 1}"], len(p["K"]), values)
            np.testing.assert_allclose(got, out[i], rtol=1e-9, atol=1e-9)
            compared += got.size
    return compared


@pytest.mark.torch
def test_matches_pytorch_on_generated_and_random_instances() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(2024)
    instances = compared = symbolic = 0
    for seed in range(600):
        inst = instantiate(ID, seed=seed)
        compared += compare_with_torch(torch, inst, rng, check_symbolic=True)
        instances += 1
        symbolic += bool(inst.params["symbolic_values"])
    while instances < 1200 or symbolic < 1000:  # the symbolic outputs (in v1..vm) too, 1000 instances
        params = random_params(rng)
        if symbolic < 1000:
            params = {**params, "V": None, "symbolic_values": True}
        try:
            inst = instantiate(ID, params=params)
        except InvalidParams:
            continue  # random scores beyond the bound; the validation table covers that
        compared += compare_with_torch(torch, inst, rng, check_symbolic=True)
        instances += 1
        symbolic += bool(inst.params["symbolic_values"])
    assert instances >= 1200 and symbolic >= 1000 and compared >= 20000


def test_seed_000_q2_our_y3_is_right_and_the_seeds_y3_is_wrong() -> None:
    # q3 = (0, 1, 0, 0): q3.k = (1, 0, -1), so the scores are (1/2, 0, -1/2), not the seed's 1/2 (1, 0, 1, 1).
    inst = instantiate(ID, params={"Q": [[0, 1, 0, 0]], "K": SEED_KEYS, "symbolic_values": True})
    right = {
        "scores": "[[1/2, 0, -1/2]]",
        "weights": "[[0.5065, 0.3072, 0.1863]]",
        "output_1": "(e^(1/2)*v1 + v2 + e^(-1/2)*v3)/(e^(1/2) + 1 + e^(-1/2))",
    }
    assert grade_answers(inst, right).score == 1.0
    decimals = grade_answers(inst, {"output_1": "0.5065*v1 + 0.3072*v2 + 0.1863*v3"})
    assert decimals.parts["output_1"].score == 1.0
    seed = grade_answers(
        inst, {"output_1": "sqrt(e)/(3*sqrt(e)+1)*v1 + 1/(3*sqrt(e)+1)*v2 + 2*sqrt(e)/(3*sqrt(e)+1)*v3"}
    )
    assert seed.parts["output_1"].score == 0
    assert seed.parts["output_1"].feedback
    seed_scores = grade_answers(inst, {"scores": "[[1/2, 0, 1/2]]"})
    assert seed_scores.parts["scores"].score == 0


@pytest.mark.parametrize(
    "typed",
    [
        "(e*v_1 + sqrt(e)*v_2 + v_3)/(e+sqrt(e)+1)",  # subscripts as the statement prints them
        "(e*v₁ + sqrt(e)*v₂ + v₃)/(e+sqrt(e)+1)",
        "(e*v_{1} + e^{1/2}*v_{2} + v_{3})/(e + e^{1/2} + 1)",  # LaTeX grouping braces
        "(e v₁ + √e v₂ + v₃)/(e + √e + 1)",
    ],
)
def test_symbolic_output_with_subscripts_as_written(typed: str) -> None:
    # q = (1, 1, 0, 0), keys (1, 1, 0, 0), (1, 0, 0, 0), (0, 0, 1, 0): dots (2, 1, 0), / sqrt(4) = (1, 1/2, 0),
    # so the weights are (e, e^(1/2), 1)/(e + e^(1/2) + 1) (by hand).
    keys = [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]]
    inst = instantiate(ID, params={"Q": [[1, 1, 0, 0]], "K": keys, "symbolic_values": True})
    assert (
        grade_answers(inst, {"output_1": "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)"})
        .parts["output_1"]
        .correct
    )
    assert grade_answers(inst, {"output_1": typed}).parts["output_1"].correct


def test_seed_000_q3_per_head_outputs_of_the_seeds_q4_are_rejected() -> None:
    # q4 = (0, 1, 0, 0) split into heads of 2 dims (d_h = 2). Head 1: q = (0, 1) against the keys' dims 1-2
    # scores (1, 0, -1, 0)/sqrt(2); head 2: q = (0, 0) scores all 0, a plain average of v1..v4.
    alpha, beta = "e^0.5/(1 + 3*e^0.5)", "1/(1 + 3*e^0.5)"
    gamma, delta = "e/(2*(1 + 2*e))", "1/(3 + e)"
    head1 = instantiate(
        ID, params={"Q": [[0, 1]], "K": [[0, 1], [1, 0], [0, -1], [-1, 0]], "symbolic_values": True}
    )
    ours = "(e^(1/sqrt(2))*v1 + v2 + e^(-1/sqrt(2))*v3 + v4)/(e^(1/sqrt(2)) + 2 + e^(-1/sqrt(2)))"
    assert grade_answers(head1, {"output_1": ours}).parts["output_1"].correct
    seed1 = grade_answers(head1, {"output_1": f"{alpha}*v1 + {beta}*v2 + 2*{alpha}*v3"}).parts["output_1"]
    assert seed1.score == 0 and seed1.feedback
    head2 = instantiate(
        ID, params={"Q": [[0, 0]], "K": [[-1, 0], [1, 1], [0, -1], [-1, -1]], "symbolic_values": True}
    )
    assert head2.answers["output_1"] == "(v1 + v2 + v3 + v4)/4"
    seed2 = grade_answers(head2, {"output_1": f"{gamma}*v1 + {delta}*v2 + {gamma}*v3"}).parts["output_1"]
    assert seed2.score == 0 and seed2.feedback


@pytest.mark.parametrize(
    ("answer", "misconception"),
    [
        ("(e*v1 + v2 + e^(-1)*v3)/(e + 1 + e^(-1))", "forgot_scaling"),
        ("(e^(1/4)*v1 + v2 + e^(-1/4)*v3)/(e^(1/4) + 1 + e^(-1/4))", "divided_by_d"),
        ("v1 + v2 + v3", "softmax_over_columns"),  # one query: each column's softmax is 1
    ],
)
def test_seed_000_q2_misconceptions_get_feedback(answer: str, misconception: str) -> None:
    inst = instantiate(ID, params={"Q": [[0, 1, 0, 0]], "K": SEED_KEYS, "symbolic_values": True})
    r = grade_answers(inst, {"output_1": answer}).parts["output_1"]
    assert r.score == 0 and r.misconception == misconception


def test_seed_003_divide_by_d_k_is_a_misconception() -> None:
    """seeds/003 (self-attention, step 3) says to divide the dot products by the constant D_k (64 there).

    The seed is wrong: the scale is sqrt(D_k) (Vaswani et al.; 8 for D_k = 64). Here d = 16, so the right
    scores are q.k/4 and dividing by 16 must be caught as `divided_by_d`.
    """
    q = [[1.0] * 16]
    k = [[1.0] * 16, [0.0] * 16, [-1.0] * 8 + [0.0] * 8]
    inst = instantiate(ID, params={"Q": q, "K": k, "symbolic_values": True})
    assert read(inst.answers["scores"], "matrix").floats() == [[4, 0, -2]]  # 16/4, 0/4, -8/4
    right = grade_answers(inst, {"output_1": "(e^4*v1 + v2 + e^(-2)*v3)/(e^4 + 1 + e^(-2))"}).parts[
        "output_1"
    ]
    assert right.correct
    seed = grade_answers(inst, {"output_1": "(e*v1 + v2 + e^(-1/2)*v3)/(e + 1 + e^(-1/2))"}).parts["output_1"]
    assert (seed.correct, seed.misconception) == (False, "divided_by_d")


def test_seed_000_q1_causal_mask_row_i_attends_to_j_up_to_i() -> None:
    # The masked self-attention of q1: y_i = sum_{j<=i} exp(q_i.k_j/sqrt(d)) v_j / sum_{n<=i} exp(q_i.k_n/sqrt(d)).
    q = [[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]]
    inst = instantiate(ID, params={"Q": q, "K": SEED_KEYS, "symbolic_values": True, "mask": "causal"})
    # Scores q_i.k_j / 2 by hand: row 1 (-1/2, 1, 0), row 2 (1/2, 1/2, -1), row 3 (1/2, 1/2, -1/2).
    by_hand = {
        "scores": "[[-1/2, 1, 0], [1/2, 1/2, -1], [1/2, 1/2, -1/2]]",
        "weights": "[[1, 0, 0], [0.5, 0.5, 0], [0.4223, 0.4223, 0.1554]]",
        "output_1": "v1",
        "output_2": "(v1 + v2)/2",
        "output_3": "(e^(1/2)*v1 + e^(1/2)*v2 + e^(-1/2)*v3)/(2*e^(1/2) + e^(-1/2))",
    }
    res = grade_answers(inst, by_hand)
    assert res.score == 1.0, {k: v.feedback for k, v in res.parts.items()}
    unmasked = grade_answers(inst, {"output_1": "(e^(-1/2)*v1 + e*v2 + v3)/(e^(-1/2) + e + 1)"})
    assert unmasked.parts["output_1"].score == 0
    assert unmasked.parts["output_1"].misconception == "mask_not_applied"


def test_numeric_values_and_exact_reference_text() -> None:
    # Scores (2*1/2, 0) = (1, 0); weights (e, 1)/(e + 1) = (0.7311, 0.2689); V = I so Y = A.
    inst = instantiate(
        ID, params={"Q": [[2, 0, 0, 0]], "K": [[1, 0, 0, 0], [0, 0, 0, 0]], "V": [[1, 0], [0, 1]]}
    )
    assert inst.part("output") is not None and "1×2" in inst.part("output").label["en"]
    exact = {"scores": "[[1, 0]]", "weights": "[[e/(e+1), 1/(e+1)]]", "output": "[[0.7311, 0.2689]]"}
    assert grade_answers(inst, exact).score == 1.0
    # Scores (2, -2): weights (0.98201, 0.017986). Small entries need three decimals, not 3 significant figures.
    small = instantiate(
        ID, params={"Q": [[4, 0, 0, 0]], "K": [[1, 0, 0, 0], [-1, 0, 0, 0]], "V": [[1, 0], [0, 1]]}
    )
    near = grade_answers(small, {"weights": "[[0.982, 0.0176]]", "output": "[[0.982, 0.0172]]"})
    assert near.parts["weights"].correct and near.parts["output"].correct
    far = grade_answers(small, {"weights": "[[0.982, 0.017]]", "output": "[[0.982, 0.0165]]"})
    assert not far.parts["weights"].correct and not far.parts["output"].correct
    sym = instantiate(
        ID,
        params={
            "Q": [[2, 0, 0, 0]],
            "K": [[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]],
            "symbolic_values": True,
        },
    )
    assert sym.answers["output_1"] == "(exp(1)*v1 + v2 + exp(1)*v3)/(2*exp(1) + 1)"


def test_non_square_d_gives_exact_irrational_scores() -> None:
    inst = instantiate(ID, params={"Q": [[1, 1]], "K": [[1, 0], [0, 0]], "symbolic_values": True})
    assert inst.answers["output_1"] == "(exp(1/sqrt(2))*v1 + v2)/(exp(1/sqrt(2)) + 1)"
    res = grade_answers(
        inst,
        {"scores": "[[0.7071, 0]]", "weights": "[[0.6698, 0.3302]]", "output_1": "0.6698*v1 + 0.3302*v2"},
    )
    assert res.score == 1.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"Q": [[1, 0]], "K": [[1, 0, 0]], "V": [[1]]}, "K"),
        ({"Q": [[1, 0]], "K": [[1, 0]]}, "V"),
        ({"Q": [[1, 0]], "K": [[1, 0]], "V": [[1]], "symbolic_values": True}, "V"),
        ({"Q": [[1, 0]], "K": [[1, 0], [0, 1]], "V": [[1]]}, "V"),
        ({"Q": [[1, 0]], "K": [[1, 0]], "V": [[1]], "mask": "future"}, "mask"),
        ({"Q": [[1, 0]], "K": [[1, 0], [0, 1]], "symbolic_values": True, "mask": "causal"}, "mask"),
        ({"Q": [[10] * 16], "K": [[10] * 16], "V": [[1]]}, "Q"),
        ({"Q": [[0.12345]], "K": [[1]], "V": [[1]]}, "Q"),
        ({"Q": [[11]], "K": [[1]], "V": [[1]]}, "Q"),
        ({"Q": [[1]] * 7, "K": [[1]], "V": [[1]]}, "Q"),
        ({"Q": [[1]], "K": [[1]], "V": [[1]], "scale": 2}, "scale"),
        ({"Q": [], "K": [[1]], "V": [[1]]}, "Q"),
        ({"Q": [[1]], "K": [[float("nan")]], "V": [[1]]}, "K"),
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
