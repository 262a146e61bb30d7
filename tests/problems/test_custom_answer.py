"""custom.answer: a TA's question is graded exactly as the grader's `check` grades it; params validation."""

from __future__ import annotations

from typing import Any

import pytest

from grader import check
from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "custom.answer"
STATEMENT = {"zh": "求值。", "en": "Find the value."}


def pose(**params: Any) -> Any:
    return instantiate(ID, params={"statement": STATEMENT, **params})


@pytest.mark.parametrize(
    ("params", "answer", "correct"),
    [
        ({"answer_type": "real", "reference": "log(5)"}, "1.609", True),
        ({"answer_type": "real", "reference": "log(5)"}, "1.7", False),
        ({"answer_type": "real", "reference": "0.25", "rtol": 0.1}, "0.27", True),
        ({"answer_type": "real", "reference": "0.25", "rtol": 0.1}, "0.3", False),
        ({"answer_type": "real", "reference": "0.25", "atol": 0.1}, "0.34", True),
        ({"answer_type": "real", "reference": "0.25", "atol": 0.1}, "0.36", False),
        ({"answer_type": "real", "reference": "1/3", "sigfigs": 2}, "0.33", True),
        ({"answer_type": "real", "reference": "1/3", "sigfigs": 2}, "0.4", False),
        ({"answer_type": "real", "reference": "1/3", "sigfigs": 4}, "0.3333", True),
        ({"answer_type": "real", "reference": "1/3", "sigfigs": 4}, "0.3330", False),
        ({"answer_type": "integer", "reference": "15*(9*9*3+1)"}, "3660", True),
        ({"answer_type": "integer", "reference": "3660"}, "3661", False),
        (
            {"answer_type": "vector", "reference": "[0.09, 0.24, 0.67]", "rtol": 0.05},
            "[0.092, 0.245, 0.665]",
            True,
        ),
        (
            {"answer_type": "vector", "reference": "[0.09, 0.24, 0.67]", "rtol": 0.05},
            "[0.1, 0.24, 0.67]",
            False,
        ),
        ({"answer_type": "matrix", "reference": "[[1, 2], [3, 4]]"}, "1 2; 3 4", True),
        ({"answer_type": "shape", "reference": "[32, 222, 222]"}, "32x222x222", True),
        ({"answer_type": "shape", "reference": "[32, 222, 222]"}, "[32, 224, 224]", False),
        ({"answer_type": "expression", "reference": "2*(y_hat - y)*a"}, "2a(y_hat-y)", True),
        ({"answer_type": "expression", "reference": "2*(y_hat - y)*a"}, "2*(y - y_hat)*a", False),
        ({"answer_type": "expression", "reference": "x^2", "symbols": ["x"]}, "x*x", True),
    ],
)
def test_graded_as_the_grader_checks(params: dict[str, Any], answer: str, correct: bool) -> None:
    inst = pose(**params)
    r = grade_answers(inst, {"answer": answer}).parts["answer"]
    tolerances = {k: params.get(k) for k in ("rtol", "atol", "sigfigs")}
    by_check = check(answer, params["reference"], answer_type=params["answer_type"], **tolerances)
    assert r.correct is correct, r.feedback
    assert (r.correct, r.score) == (by_check.correct, by_check.score)
    assert r.feedback


def test_reference_scores_full_marks_in_both_languages() -> None:
    inst = pose(answer_type="real", reference="sqrt(e)/(3*sqrt(e)+1)", sigfigs=3)
    for lang in ("zh", "en"):
        assert grade_answers(inst, inst.answers, lang).score == 1.0
    assert inst.statement == STATEMENT


@pytest.mark.parametrize(
    ("params", "answer", "correct"),
    [
        ({"answer_type": "choice", "reference": "B"}, "B", True),
        ({"answer_type": "choice", "reference": "B"}, "b", True),
        ({"answer_type": "choice", "reference": "B"}, "C", False),
        ({"answer_type": "choice", "reference": "AC"}, "A, C", True),
        ({"answer_type": "choice", "reference": "AC"}, "A", False),
        ({"answer_type": "choice", "reference": "T", "choices": ["T", "F"]}, "对", True),
        ({"answer_type": "choice", "reference": "T", "choices": ["T", "F"]}, "F", False),
    ],
)
def test_choice_questions(params: dict[str, Any], answer: str, correct: bool) -> None:
    r = grade_answers(pose(**params), {"answer": answer}).parts["answer"]
    assert r.correct is correct and r.score == (1.0 if correct else 0.0), r.feedback


def test_text_answer_is_left_to_a_ta() -> None:
    inst = pose(answer_type="text", reference="Momentum accumulates past gradients; Nesterov looks ahead.")
    assert inst.answers == {}
    r = grade_answers(inst, {"answer": "动量法累积历史梯度"}).parts["answer"]
    assert not r.correct and r.score == 0 and r.feedback
    assert "Momentum accumulates" in " ".join(inst.solution()["en"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"answer_type": "number", "reference": "1"}, "answer_type"),
        ({"answer_type": "real", "reference": "1/(2"}, "reference"),
        ({"answer_type": "real", "reference": "foo(2)"}, "reference"),
        ({"answer_type": "real", "reference": "__import__('os')"}, "reference"),
        ({"answer_type": "vector", "reference": "[1, 2"}, "reference"),
        ({"answer_type": "expression", "reference": "x + y", "symbols": ["x"]}, "reference"),
        ({"answer_type": "real", "reference": "   "}, "reference"),
        ({"answer_type": "real", "reference": "1" * 3000}, "reference"),
        ({"answer_type": "integer", "reference": "3", "rtol": 0.1}, "rtol"),
        ({"answer_type": "shape", "reference": "[3, 4]", "sigfigs": 3}, "sigfigs"),
        ({"answer_type": "real", "reference": "3", "sigfigs": 0}, "sigfigs"),
        ({"answer_type": "real", "reference": "3", "sigfigs": 3, "rtol": 0.01}, "sigfigs"),
        ({"answer_type": "real", "reference": "3", "rtol": -0.1}, "rtol"),
        ({"answer_type": "real", "reference": "3", "atol": float("inf")}, "atol"),
        ({"answer_type": "real", "reference": "3", "symbols": ["x"]}, "symbols"),
        ({"answer_type": "expression", "reference": "x", "symbols": ["x y"]}, "symbols"),
        ({"answer_type": "real", "reference": "3", "tolerance": "sigfig"}, "tolerance"),
        ({"answer_type": "choice", "reference": "E"}, "reference"),
        ({"answer_type": "choice", "reference": "A", "choices": ["A"]}, "choices"),
        ({"answer_type": "choice", "reference": "a", "choices": ["a", "b"]}, "choices"),
        ({"answer_type": "real", "reference": "1", "choices": ["A", "B"]}, "choices"),
        ({"answer_type": "expression", "reference": "log(-x)"}, "reference"),
        ({"answer_type": "real", "reference": "3", "statement": {"zh": "求值。"}}, "statement"),
        ({"answer_type": "real", "reference": "3", "statement": {"zh": " ", "en": "Find it."}}, "statement"),
        ({"answer_type": "real", "reference": "3", "statement": {"zh": "x" * 6000, "en": "y"}}, "statement"),
        ({"answer_type": "real", "reference": "3", "statement": "Find it."}, "statement"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params={"statement": STATEMENT, **params})
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_unreadable_reference_carries_the_graders_message() -> None:
    with pytest.raises(InvalidParams) as exc:
        pose(answer_type="vector", reference="[1, 2")
    (error,) = exc.value.errors
    assert error["loc"] == ["reference"] and "vector" in error["msg"] and len(error["msg"]) > 30


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []


@pytest.mark.parametrize(
    ("answer_type", "reference", "words"),
    [
        ("matrix", "[[1, 2], [3]]", "rows differ in length"),  # was posed, and then matched only itself
        ("vector", "[[1, 2], [3, 4]]", "a vector is one row or column"),
    ],
)
def test_a_reference_without_a_shape_is_refused(answer_type: str, reference: str, words: str) -> None:
    with pytest.raises(InvalidParams) as info:
        instantiate(ID, params={"answer_type": answer_type, "reference": reference, "statement": STATEMENT})
    assert words in str(info.value.errors)


@pytest.mark.parametrize("reference", ["[[1, 2, 3]]", "1; 2; 3", "[1, 2, 3]"])
def test_a_vector_reference_may_be_a_row_or_a_column(reference: str) -> None:
    """Refusing these (a review found) took down stored homework whose reference was `1; 2; 3`."""
    inst = instantiate(ID, params={"answer_type": "vector", "reference": reference, "statement": STATEMENT})
    for answer in ("[1, 2, 3]", "[[1, 2, 3]]", "1; 2; 3"):
        assert grade_answers(inst, {inst.parts[0].name: answer}).parts[inst.parts[0].name].correct, answer
