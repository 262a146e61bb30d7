"""Each rule of issue 2, table-driven, with values worked by hand."""

from __future__ import annotations

import pytest

from grader import AnswerSpec, check, read

# --- bug (a): a bare row is split at spaces only when every piece reads alone -------------------------


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("0.5*2 + 0.5*tanh(0.5)", "vector", ["1.23105857863000"]),  # 1 + tanh(0.5)/2, by hand
        ("1 2 3", "vector", ["1", "2", "3"]),
        ("1 -2 3", "vector", ["1", "-2", "3"]),
        ("[1 2 3]", "vector", ["1", "2", "3"]),  # not 1*2*3 by implicit multiplication
        ("[1 - 2]", "vector", ["-1"]),
        ("1/2 2^3", "vector", ["0.5", "8"]),
        ("1 + 1; 2 3", "matrix", [["2"], ["2", "3"]]),
    ],
)
def test_rows_split_at_spaces_only_between_whole_values(text: str, answer_type: str, expected: list) -> None:
    value = read(text, AnswerSpec(answer_type)).floats()

    def approx(x: object) -> object:
        return [approx(y) for y in x] if isinstance(x, list) else pytest.approx(float(x), rel=1e-12)  # type: ignore[arg-type]

    assert value == approx(expected)


# --- bug (b): whole numbers are decided exactly, never through a float ----------------------------------


@pytest.mark.parametrize(
    ("answer", "reference", "correct"),
    [
        ("2^64 - 1", "18446744073709551615", True),
        ("2^64", "18446744073709551615", False),
        ("18446744073709551616", "18446744073709551615", False),
        ("2^53 + 1", "9007199254740993", True),  # 2^53+1 is not a float
        ("10^30 + 1", "1000000000000000000000000000001", True),
        ("sqrt(16)", "4", True),
        ("log(8)/log(2)", "3", True),
    ],
)
def test_integers_are_exact(answer: str, reference: str, correct: bool) -> None:
    v = check(answer, reference, "integer")
    assert v.correct is correct, v.feedback
    assert v.reason != "not_integer"


@pytest.mark.parametrize("answer", ["2^64 - 1/2", "10^20 + 0.5", "sqrt(2)", "7/2"])
def test_non_integers_are_named(answer: str) -> None:
    v = check(answer, "3", "integer")
    assert not v.correct and v.reason == "not_integer"


# --- bug (c): a transposed square matrix is named ------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reference", "reason"),
    [
        ("[[1,3],[2,4]]", "[[1,2],[3,4]]", "transposed"),
        ("[[1,4,7],[2,5,8],[3,6,9]]", "[[1,2,3],[4,5,6],[7,8,9]]", "transposed"),
        ("[[1,2,3],[4,5,6]]", "[[1,4],[2,5],[3,6]]", "transposed"),
        ("[[1,2],[3,5]]", "[[1,2],[3,4]]", "wrong"),
    ],
)
def test_transposed_matrix_is_named(answer: str, reference: str, reason: str) -> None:
    v = check(answer, reference, "matrix")
    assert not v.correct and v.reason == reason, v.feedback


def test_symmetric_matrix_is_simply_right() -> None:
    assert check("[[1,2],[2,1]]", "[[1,2],[2,1]]", "matrix").correct
