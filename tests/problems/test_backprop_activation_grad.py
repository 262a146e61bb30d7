"""backprop.activation_grad against PyTorch activations and autograd, expressions included; params."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
import sympy

from grader import AnswerSpec, read
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "backprop.activation_grad"
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]


def torch_value_and_derivative(torch: Any, p: dict[str, Any], x: float) -> tuple[float, float]:
    functional = torch.nn.functional
    fn = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": functional.relu,
        "leaky_relu": lambda t: functional.leaky_relu(t, negative_slope=p["negative_slope"] or 0.01),
        "elu": lambda t: functional.elu(t, alpha=p["alpha"] or 1.0),
        "softplus": functional.softplus,
    }[p["activation"]]
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.backward()
    return y.item(), t.grad.item()


@lru_cache(maxsize=64)
def expression(text: str, spec: AnswerSpec) -> sympy.Expr:
    """Our reference expression read by the grader (a sympy expression in x, or a constant)."""
    return read(text, spec).value


def evaluate(expr: sympy.Expr, x: float) -> float:
    point = {s: sympy.Float(x, 30) for s in expr.free_symbols}
    return float(sympy.N(expr.xreplace(point), 20))


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: x anywhere in [-10, 10] with two decimals, other slopes and alphas."""
    activation = str(rng.choice(ACTIVATIONS))
    x = 0.0
    while x == 0.0:
        x = round(float(rng.uniform(-10, 10)), 2)
    p: dict[str, Any] = {"activation": activation, "x": x}
    if activation == "leaky_relu" and rng.random() < 0.7:
        p["negative_slope"] = round(float(rng.uniform(0.001, 0.5)), 3)
    if activation == "elu" and rng.random() < 0.7:
        p["alpha"] = round(float(rng.uniform(0.1, 3)), 2)
    return p


@pytest.mark.torch
def test_matches_pytorch_activations_and_autograd() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(13)
    cases = [instantiate(ID, seed=seed).params for seed in range(500)]
    cases += [random_params(rng) for _ in range(600)]
    compared = 0
    for params in cases:
        inst = instantiate(ID, params=params)
        p = inst.params
        value, derivative = torch_value_and_derivative(torch, p, p["x"])
        np.testing.assert_allclose(
            json.loads(inst.answers["value"]), value, rtol=1e-9, atol=1e-12, err_msg=str(p)
        )
        np.testing.assert_allclose(
            json.loads(inst.answers["derivative"]), derivative, rtol=1e-9, atol=1e-12, err_msg=str(p)
        )
        # The expression must give torch's derivative at x and at other points on x's side of 0
        # (for the piecewise functions it only claims that side).
        part = inst.part("derivative_expr")
        assert part is not None
        expr = expression(inst.answers["derivative_expr"], part.spec)
        for at in (p["x"], p["x"] / 3, p["x"] * 1.5 if abs(p["x"]) < 6 else p["x"] * 0.7):
            want = torch_value_and_derivative(torch, p, at)[1]
            assert evaluate(expr, at) == pytest.approx(want, rel=1e-9, abs=1e-12), (p, at)
            compared += 1
    assert len(cases) >= 1000 and compared >= 3000
    assert {c["activation"] for c in cases} == set(ACTIVATIONS)


def grade_one(params: dict[str, Any], part: str, answer: str) -> Any:
    return grade_answers(instantiate(ID, params=params), {part: answer}).parts[part]


@pytest.mark.parametrize(
    ("params", "answer", "correct", "misconception"),
    [
        ({"activation": "sigmoid", "x": 0.5}, "sigmoid(x)*(1-sigmoid(x))", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "exp(-x)/(1+exp(-x))^2", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "sigmoid(x)*sigmoid(-x)", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "x*(1-x)", False, "input_instead_of_output"),
        ({"activation": "sigmoid", "x": 0.5}, "sigmoid(x)", False, "value_not_derivative"),
        ({"activation": "tanh", "x": -1.2}, "1-tanh(x)^2", True, None),
        ({"activation": "tanh", "x": -1.2}, "4/(exp(x)+exp(-x))^2", True, None),
        ({"activation": "tanh", "x": -1.2}, "1-tanh²(x)", True, None),  # powers of a function, as on paper
        ({"activation": "tanh", "x": -1.2}, "1-tanh^2(x)", True, None),
        ({"activation": "tanh", "x": -1.2}, "1 - tanh^2 x", True, None),
        ({"activation": "tanh", "x": -1.2}, "sech^2(x)", True, None),  # 1/cosh^2 = 1 - tanh^2
        ({"activation": "tanh", "x": -1.2}, "sech(x)", False, None),
        ({"activation": "tanh", "x": -1.2}, "1-x^2", False, "input_instead_of_output"),
        ({"activation": "tanh", "x": -1.2}, "1-tanh(x)", False, "tanh_forgot_square"),
        ({"activation": "softplus", "x": 1.5}, "exp(x)/(1+exp(x))", True, None),
        ({"activation": "softplus", "x": 1.5}, "sigmoid(x)", True, None),
        ({"activation": "softplus", "x": 1.5}, "1/(1+exp(x))", False, "softplus_chain_rule"),
        ({"activation": "softplus", "x": 1.5}, "log(1+exp(x))", False, "value_not_derivative"),
        ({"activation": "relu", "x": 2}, "1", True, None),
        ({"activation": "relu", "x": 2}, "x/abs(x)", True, None),  # right for x > 0, all that is asked
        ({"activation": "relu", "x": 2}, "0", False, "wrong_side"),
        ({"activation": "relu", "x": 2}, "x", False, "value_not_derivative"),
        ({"activation": "relu", "x": -1.5}, "0", True, None),
        ({"activation": "relu", "x": -1.5}, "(1+x/abs(x))/2", True, None),  # one formula for both sides
        ({"activation": "relu", "x": -1.5}, "1", False, "wrong_side"),
        ({"activation": "leaky_relu", "x": -2}, "0.01", True, None),
        ({"activation": "leaky_relu", "x": -2}, "1/100", True, None),
        ({"activation": "leaky_relu", "x": -2}, "0", False, "leaky_as_relu"),
        ({"activation": "leaky_relu", "x": -2}, "0.01*x", False, "value_not_derivative"),
        ({"activation": "leaky_relu", "x": -2, "negative_slope": 0.2}, "0.2", True, None),
        ({"activation": "leaky_relu", "x": 0.3, "negative_slope": 0.2}, "0.2", False, "wrong_side"),
        ({"activation": "elu", "x": -1}, "exp(x)", True, None),
        ({"activation": "elu", "x": -1}, "exp(min(x, 0))", True, None),  # ELU with alpha = 1, both sides
        ({"activation": "elu", "x": -1}, "exp(x)-1", False, "value_not_derivative"),
        ({"activation": "elu", "x": -1, "alpha": 2}, "2*exp(x)", True, None),
        ({"activation": "elu", "x": -1, "alpha": 2}, "exp(x)", False, "elu_forgot_alpha"),
        ({"activation": "elu", "x": 1, "alpha": 2}, "1", True, None),
        ({"activation": "elu", "x": 1, "alpha": 2}, "2*exp(x)", False, "wrong_side"),
    ],
)
def test_derivative_expressions(
    params: dict[str, Any], answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_one(params, "derivative_expr", answer)
    assert (r.correct, r.misconception) == (correct, misconception), r
    assert r.score == (1.0 if correct else 0.0)
    if not correct:
        assert r.feedback


# Worked by hand: sigmoid(0.5) = 0.6225, sigmoid'(0.5) = 0.6225 * 0.3775 = 0.2350;
# tanh(-1.2) = -0.8337, tanh'(-1.2) = 1 - 0.6950 = 0.3050; softplus(1.5) = log(1 + e^1.5) = 1.7014,
# softplus'(1.5) = sigmoid(1.5) = 0.8176; ELU(-1) = e^-1 - 1 = -0.6321, ELU'(-1) = e^-1 = 0.3679.
@pytest.mark.parametrize(
    ("params", "part", "answer", "correct", "misconception"),
    [
        ({"activation": "sigmoid", "x": 0.5}, "value", "0.6225", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "derivative", "0.235", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "derivative", "sigmoid(0.5)*(1-sigmoid(0.5))", True, None),
        ({"activation": "sigmoid", "x": 0.5}, "derivative", "0.25", False, "input_instead_of_output"),
        ({"activation": "tanh", "x": -1.2}, "value", "-0.8337", True, None),
        ({"activation": "tanh", "x": -1.2}, "derivative", "0.305", True, None),
        ({"activation": "tanh", "x": -1.2}, "derivative", "1-1.44", False, "input_instead_of_output"),
        ({"activation": "softplus", "x": 1.5}, "value", "1.7014", True, None),
        ({"activation": "softplus", "x": 1.5}, "derivative", "0.8176", True, None),
        ({"activation": "elu", "x": -1}, "value", "-0.6321", True, None),
        ({"activation": "elu", "x": -1}, "derivative", "0.3679", True, None),
        ({"activation": "leaky_relu", "x": -2}, "value", "-0.02", True, None),
        ({"activation": "leaky_relu", "x": -2}, "value", "0", False, "leaky_as_relu"),
        ({"activation": "relu", "x": -1.5}, "derivative", "0", True, None),
        ({"activation": "relu", "x": 2.5}, "derivative", "2.5", False, "value_not_derivative"),
    ],
)
def test_numbers(
    params: dict[str, Any], part: str, answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_one(params, part, answer)
    assert (r.correct, r.misconception) == (correct, misconception), r


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_pytorch_defaults_for_slope_and_alpha(activation: str) -> None:
    inst = instantiate(ID, params={"activation": activation, "x": -1})
    assert inst.params["negative_slope"] is None and inst.params["alpha"] is None
    if activation == "leaky_relu":
        assert grade_answers(inst, {"derivative": "0.01"}).parts["derivative"].correct
    if activation == "elu":
        assert grade_answers(inst, {"derivative": "exp(-1)"}).parts["derivative"].correct


def test_piecewise_statement_names_the_side() -> None:
    neg = instantiate(ID, params={"activation": "relu", "x": -1.5}).statement
    pos = instantiate(ID, params={"activation": "relu", "x": 1.5}).statement
    assert "x < 0" in neg["en"] and "x < 0" in neg["zh"]
    assert "x > 0" in pos["en"] and "x > 0" in pos["zh"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"activation": "gelu", "x": 1}, "activation"),
        ({"activation": "relu", "x": 0}, "x"),
        ({"activation": "leaky_relu", "x": 0.0}, "x"),
        ({"activation": "elu", "x": 0}, "x"),
        ({"activation": "sigmoid", "x": 11}, "x"),
        ({"activation": "softplus", "x": -30}, "x"),
        ({"activation": "tanh", "x": float("nan")}, "x"),
        ({"activation": "sigmoid", "x": 1, "negative_slope": 0.1}, "negative_slope"),
        ({"activation": "relu", "x": 1, "alpha": 1.0}, "alpha"),
        ({"activation": "leaky_relu", "x": 1, "negative_slope": 1.5}, "negative_slope"),
        ({"activation": "leaky_relu", "x": 1, "negative_slope": 0}, "negative_slope"),
        ({"activation": "elu", "x": 1, "alpha": -1}, "alpha"),
        ({"activation": "sigmoid"}, "x"),
        ({"x": 1}, "activation"),
        ({"activation": "softplus", "x": 1, "beta": 2}, "beta"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_generator_covers_every_activation_and_avoids_zero() -> None:
    seen = set()
    for seed in range(200):
        p = instantiate(ID, seed=seed).params
        seen.add(p["activation"])
        assert p["x"] != 0
    assert seen == set(ACTIVATIONS)


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(60))
    assert report.failures == []
    assert report.misconception_checks > 100
