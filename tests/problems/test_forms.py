"""Forms: what every variant of an exam question keeps when the exam asks for one form (the rule, the
sizes, the steps, the kind of item), and the direct draws of families with many forms.

Oracle: the structure is read off the params with numpy shapes, the concept bank's raw YAML and the
grader's own reading of the reference answers, never with the family's `form`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader import read
from problems import grade_answers, instantiate
from problems.base import Family, family_rng, standard_form, text_dims
from problems.registry import all_families, get_family

RAW_CHOICE = {
    e["id"]: e
    for e in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "problems/data/concept_choice.yaml").read_text("utf-8")
    )
}
RAW_SHORT = {
    e["id"]: e
    for e in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "problems/data/concept_short_answer.yaml").read_text("utf-8")
    )
}


def _layer_counts(layers: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    kinds = Counter(layer["type"] for layer in layers)
    return len(layers), kinds["Conv2d"], kinds["MaxPool2d"] + kinds["AvgPool2d"], kinds["Linear"]


# The structure of an instance as a reader of its params sees it: the same for two instances of one
# form, whatever their numbers.
STRUCTURE = {
    "optim.step": lambda p: (p["optimizer"], np.shape(p["theta0"]), p["steps"]),
    "attention.scaled_dot_product": lambda p: (
        p["mask"],
        np.shape(p["Q"]),
        np.shape(p["K"]),
        None if p["V"] is None else np.shape(p["V"]),
        p["symbolic_values"],
    ),
    "cnn.network_table": lambda p: _layer_counts(p["layers"]),
    "loss.softmax_cross_entropy": lambda p: (np.shape(p["logits"]), p["reduction"]),
    "cnn.cross_correlation": lambda p: (
        np.shape(p["input"]),
        np.shape(p["kernel"]),
        p["stride"],
        p["padding"],
        p["flip"],
    ),
    "rnn.srn_forward": lambda p: (np.shape(p["U"]), np.shape(p["W"]), np.shape(p["xs"]), p["h0"] is None),
    "attention.query_design": lambda p: (np.shape(p["keys"]), json.dumps(p["heads"])),
    "rl.value_iteration": lambda p: (
        len(p["states"]),
        sum(all(not outcomes for outcomes in row) for row in p["transitions"]),
        p["sweeps"],
    ),
    "rnn.gru_step": lambda p: (np.shape(p["W_r"]), p["b_hr"] is None),
    "rnn.lstm_step": lambda p: np.shape(p["W_i"]),
    "norm.batch_norm": lambda p: np.shape(p["x"]),
    "norm.layer_norm": lambda p: np.shape(p["x"]),
    "concept.choice": lambda p: (RAW_CHOICE[p["item"]]["kind"], RAW_CHOICE[p["item"]]["difficulty"]),
    "concept.short_answer": lambda p: RAW_SHORT[p["item"]]["difficulty"],
}


@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("[1, 2, 3]", (3,)),
        ("[[1, 2], [3, 4], [5, 6]]", (3, 2)),
        ("[32, 222, 222]", (3,)),
        ("[[1/4, sqrt(2), -0.5]]", (1, 3)),
        ("[max(a, b), 2]", (2,)),  # a comma inside a call separates nothing
        ("[]", (0,)),
        ("7", ()),
        ("(e*v1 + sqrt(e)*v2)/(e + sqrt(e))", ()),
    ],
)
def test_text_dims_reads_the_shape_of_an_array(text: str, dims: tuple[int, ...]) -> None:
    assert text_dims(text) == dims


def test_text_dims_agrees_with_the_grader_on_every_reference_array() -> None:
    """The standard form counts shapes on the text; the grader's reading is the authority."""
    checked = 0
    for family in all_families():
        if family.id == "custom.answer":
            continue
        for seed in range(8):
            inst = instantiate(family.id, seed=seed)
            for part in inst.parts:
                ref = inst.answers.get(part.name)
                if ref is None or part.answer_type not in ("vector", "matrix"):
                    continue
                assert text_dims(ref) == np.shape(read(ref, part.spec).value), (family.id, seed, ref)
                checked += 1
    assert checked > 300


def _form(problem: str, params: dict[str, Any]) -> Any:
    family = get_family(problem)
    return family.form(family.Params.model_validate(params))


@pytest.mark.parametrize(
    ("problem", "a", "b", "same"),
    [
        # The standard form: numbers differ, the same form; a longer list or another word, another.
        (
            "rl.discounted_return",
            {"rewards": [1, 2, 3], "gamma": 0.9},
            {"rewards": [4, -1, 2], "gamma": 0.5},
            True,
        ),
        (
            "rl.discounted_return",
            {"rewards": [1, 2, 3], "gamma": 0.9},
            {"rewards": [1, 2, 3, 4], "gamma": 0.9},
            False,
        ),
        (
            "backprop.activation_grad",
            {"activation": "tanh", "x": 0.5},
            {"activation": "tanh", "x": -1.2},
            True,
        ),
        (
            "backprop.activation_grad",
            {"activation": "tanh", "x": 0.5},
            {"activation": "sigmoid", "x": 0.5},
            False,
        ),
        # Overrides: notation is no work, dilation and a second size formula are.
        (
            "cnn.conv2d",
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 8, "kernel_size": 3},
            {
                "in_channels": 1,
                "height": 28,
                "width": 28,
                "out_channels": 6,
                "kernel_size": [5, 5],
                "padding": 2,
            },
            True,
        ),
        (
            "cnn.conv2d",
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 8, "kernel_size": 3},
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 8, "kernel_size": [3, 5]},
            False,
        ),
        (
            "cnn.conv2d",
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 8, "kernel_size": 3},
            {"in_channels": 3, "height": 32, "width": 32, "out_channels": 8, "kernel_size": 3, "dilation": 2},
            False,
        ),
        (
            "cnn.pool2d",
            {"in_channels": 3, "height": 32, "width": 32, "kernel_size": 2},
            {"in_channels": 8, "height": 28, "width": 28, "kernel_size": [2, 2]},
            True,
        ),
        (
            "cnn.pool2d",  # a stride left to its default is the question's trap
            {"in_channels": 3, "height": 32, "width": 32, "kernel_size": 2},
            {"in_channels": 3, "height": 32, "width": 32, "kernel_size": 2, "stride": 2},
            False,
        ),
        (
            "rnn.num_params",
            {"cell": "lstm", "input_size": 10, "hidden_size": 20, "num_layers": 2},
            {"cell": "lstm", "input_size": 64, "hidden_size": 128, "num_layers": 3},
            True,
        ),
        (
            "rnn.num_params",
            {"cell": "lstm", "input_size": 10, "hidden_size": 20},
            {"cell": "lstm", "input_size": 10, "hidden_size": 20, "num_layers": 2},
            False,
        ),
    ],
)
def test_forms_tell_work_from_numbers(problem: str, a: dict[str, Any], b: dict[str, Any], same: bool) -> None:
    assert (_form(problem, a) == _form(problem, b)) is same


def test_every_form_is_hashable_and_a_function_of_the_params() -> None:
    for family in all_families():
        if family.id == "custom.answer":
            continue
        for seed in range(10):
            p = family.generate(family_rng(family.id, seed))
            again = family.Params.model_validate(json.loads(json.dumps(p.model_dump(mode="json"))))
            assert hash(family.form(p)) == hash(family.form(again)), family.id
            assert family.form(p) == family.form(again), family.id


def test_the_standard_form_sees_parts_answer_shapes_and_words() -> None:
    family = get_family("optim.step")  # overrides it; the standard form still applies to its params
    two_steps = family.Params.model_validate(
        {"optimizer": "sgd", "a": [1, 2], "c": [1, 1], "theta0": [0, 1], "steps": 2, "lr": 0.1}
    )
    three = two_steps.model_copy(update={"steps": 3})
    other_rule = family.Params.model_validate(
        {"optimizer": "adagrad", "a": [1, 2], "c": [1, 1], "theta0": [0, 1], "steps": 2, "lr": 0.1}
    )
    other_numbers = family.Params.model_validate(
        {"optimizer": "sgd", "a": [3, 1], "c": [-2, 4], "theta0": [2, -1], "steps": 2, "lr": 0.2}
    )
    form = standard_form(family, two_steps)
    assert standard_form(family, other_numbers) == form
    assert standard_form(family, three) != form and standard_form(family, other_rule) != form


@pytest.mark.parametrize("problem", sorted(STRUCTURE))
def test_a_direct_draw_in_a_form_keeps_its_structure_and_changes_its_numbers(problem: str) -> None:
    family = get_family(problem)
    differ = 0
    for seed in range(40):
        p = family.generate(family_rng(problem, seed))
        q = family.generate_in_form(family_rng(problem, 10_000 + seed), family.form(p))
        assert q is not None, (problem, seed)
        a, b = p.model_dump(mode="json"), q.model_dump(mode="json")
        assert STRUCTURE[problem](b) == STRUCTURE[problem](a), (problem, seed)
        differ += a != b
        # as sensible as a seed's instance: valid params whose reference answers score 1
        inst = instantiate(problem, params=b)
        if inst.answers:
            assert grade_answers(inst, inst.answers).score == 1.0, (problem, seed)
    assert differ >= 30, problem


def test_a_form_no_draw_reaches_is_given_up_not_hung() -> None:
    family = get_family("cnn.network_table")
    start = time.perf_counter()
    assert family.generate_in_form(family_rng(family.id, 1), (99, 0, 0, 0)) is None
    assert time.perf_counter() - start < 10


def test_families_without_a_direct_draw_say_so() -> None:
    """The exam then draws seeds until one has the form (app/services/exams.py)."""
    family = get_family("rl.discounted_return")
    p = family.generate(family_rng(family.id, 0))
    with pytest.raises(NotImplementedError):
        family.generate_in_form(family_rng(family.id, 0), family.form(p))


def test_every_family_with_a_direct_draw_is_checked_above() -> None:
    direct = {f.id for f in all_families() if type(f).generate_in_form is not Family.generate_in_form}
    assert direct == set(STRUCTURE)
