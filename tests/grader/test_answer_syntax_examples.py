"""Every example of answer-syntax.md, read and judged as a careful grader would (table-driven)."""

from __future__ import annotations

import pytest

from grader import AnswerSpec, check, grade, read

RIGHT = [
    # written as the seeds' notes and the statements write them (a student walk-through)
    ("ln3", "ln(3)", "real"),
    ("2ln3", "2*ln(3)", "real"),
    ("sqrt2/2", "sqrt(2)/2", "real"),
    ("ln(3) ≈ 1.0986", "ln(3)", "real"),
    ("σ(x)*(1-σ(x))", "sigmoid(x)*(1-sigmoid(x))", "expression"),
    ("log2(8)", "3", "real"),  # log2 is still the base-2 logarithm, not log(2)*8
    ("1.0986。", "ln(3)", "real"),  # a Chinese full stop ending the answer, not a decimal point
    ("27847680。", "27847680", "integer"),
    ("896", "896", "integer"),
    ("-0.5", "-1/2", "real"),
    ("1.6094", "log(5)", "real"),
    ("1.6094e0", "log(5)", "real"),
    ("7,411,500", "7411500", "integer"),
    ("1/4", "0.25", "real"),
    ("45.0", "45", "integer"),
    ("15*(9*9*3+1)", "3660", "integer"),
    ("(97-9)/2+1", "45", "integer"),
    ("ln(5)", "log(5)", "real"),
    ("log(5)", "ln(5)", "real"),
    ("sqrt(e)/(3*sqrt(e)+1)", "exp(1/2)/(3*exp(1/2)+1)", "real"),
    ("2^10", "1024", "integer"),
    ("2**10", "1024", "integer"),
    ("3sqrt(e)", "3*exp(1/2)", "real"),
    ("2·3×4", "24", "integer"),
    ("√4", "2", "integer"),
    ("π", "3.14159265", "real"),
    ("[32, 222, 222]", "[32, 222, 222]", "shape"),
    ("(32,222,222)", "[32, 222, 222]", "shape"),
    ("32x222x222", "[32, 222, 222]", "shape"),
    ("32×222×222", "[32, 222, 222]", "shape"),
    ("[4,]", "[4]", "shape"),
    ("[1, 2, 3]", "[1, 2, 3]", "vector"),
    ("[[1,2],[3,4]]", "[[1, 2], [3, 4]]", "matrix"),
    ("1 2; 3 4", "[[1, 2], [3, 4]]", "matrix"),
    ("2*(y_hat - y)*a", "2*a*(y_hat - y)", "expression"),
    (
        "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)",
        "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)",
        "expression",
    ),
    ("0.5065*v1 + 0.3072*v2 + 0.1863*v3", "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)", "expression"),
    ("sigmoid(x)*(1-sigmoid(x))", "exp(-x)/(1+exp(-x))^2", "expression"),
    ("ln(a*b)", "ln(a)+ln(b)", "expression"),
    ("sqrt(x^2)", "x", "expression"),
    ("2x", "2*x", "expression"),
    ("2(x+1)", "2*x+2", "expression"),
    ("（１＋２）＊３", "9", "integer"),
    ("１．５", "1.5", "real"),
    ("－3", "-3", "integer"),
    ("−3", "-3", "integer"),
    ("loss = 1.609", "log(5)", "real"),
    ("32*(3*3*3+1)=896", "896", "integer"),
    ("1/(1+exp(-2x))", "tanh(x)/2+1/2", "expression"),
    ("2.54692", "2.54692", "real"),
    # everyday IME input
    ("约1.609", "log(5)", "real"),
    ("大约 1.609", "log(5)", "real"),
    ("3660个", "3660", "integer"),
    ("3660 个参数", "3660", "integer"),
    ("2.5469 nats", "2.54692", "real"),
    ("根号2/2", "0.70711", "real"),
    ("0.5、0.25", "[0.5, 0.25]", "vector"),
    ("[0.5、0.25、1]", "[0.5, 0.25, 1]", "vector"),
]


@pytest.mark.parametrize(("answer", "reference", "answer_type"), RIGHT)
def test_right_answers_score_one(answer: str, reference: str, answer_type: str) -> None:
    v = check(answer, reference, answer_type)
    assert v.correct and v.score == 1.0, v.feedback


WRONG = [
    ("(x-a)^6000", "(x-a)^5999", "expression", None),
    ("1.05", "1", "real", None),
    ("[222, 222, 32]", "[32, 222, 222]", "shape", "order"),
    ("[32, 222]", "[32, 222, 222]", "shape", "wrong_shape"),
    ("-3660", "3660", "integer", "sign"),
    ("7320", "3660", "integer", "factor"),
    ("[[1,3],[2,4]]", "[[1, 2], [3, 4]]", "matrix", None),
    ("[1, 2]", "[1, 2, 3]", "vector", "wrong_shape"),
    ("log10(5)", "log(5)", "real", None),
    ("32*222*222", "[32, 222, 222]", "shape", "parse_error"),
]


@pytest.mark.parametrize(("answer", "reference", "answer_type", "reason"), WRONG)
def test_wrong_answers_say_why(answer: str, reference: str, answer_type: str, reason: str | None) -> None:
    v = check(answer, reference, answer_type)
    assert not v.correct and v.score == 0.0 and v.feedback
    if reason:
        assert v.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "(1+2",
        "1+2)",
        "__import__('os')",
        "x.y",
        "lambda: 1",
        "'abc'",
        "9**9**9**9",
        "1e999999",
        "factorial(100000)",
        "2" * 3000,
        "((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))",
        "exp(exp(exp(exp(10))))",
        "\x00",
        "🙂",
        "SELECT * FROM users",
        "<script>alert(1)</script>",
    ],
)
def test_hostile_or_broken_text_is_refused_with_a_message(text: str) -> None:
    v = check(text, "1", "real")
    assert not v.correct and v.feedback


def test_tolerance_boundary_is_inclusive_and_exact() -> None:
    assert check("1.05", "1", "real", rtol=0.05).correct
    assert not check("1.0500001", "1", "real", rtol=0.05).correct
    assert check("0.1+0.2", "0.3", "real", rtol=0, atol=0).correct  # exact rationals, no float noise


def test_unknown_name_suggests_the_symbol() -> None:
    v = grade("2*X", "2*x", AnswerSpec("expression", symbols=("x",)))
    assert not v.correct and "x" in v.feedback and v.reason == "parse_error"


def test_interpreted_reads_back_to_the_same_value() -> None:
    for text, t in [("ln(5)", "real"), ("2x+1", "expression"), ("[1/2, 3]", "vector"), ("1.609", "real")]:
        spec = AnswerSpec(t, symbols=("x",))
        first = read(text, spec)
        again = read(first.interpreted, spec)
        assert again.interpreted == first.interpreted


def test_feedback_in_chinese() -> None:
    assert "符号" in check("-3", "3", "integer", lang="zh").feedback


@pytest.mark.parametrize(
    ("answer", "reference", "choices"),
    [
        ("（A）", "A", "ABCD"),
        ("A.", "A", "ABCD"),
        ("选A", "A", "ABCD"),
        ("选择 B", "B", "ABCD"),
        ("A、C", "AC", "ABCD"),
        ("不对", "F", "TF"),
        ("不正确", "F", "TF"),
        ("不是", "F", "TF"),
        # true/false in the marks a choice takes (a walk-through: refused while (A) was read)
        ("（F）", "F", "TF"),
        ("(T)", "T", "TF"),
        ("F.", "F", "TF"),
        ("选F", "F", "TF"),
        ("（对）", "T", "TF"),
    ],
)
def test_choices_as_typed_from_an_ime(answer: str, reference: str, choices: str) -> None:
    v = grade(answer, reference, AnswerSpec("choice", choices=tuple(choices)))
    assert v.correct, v


@pytest.mark.parametrize(
    ("answer", "reference", "answer_type"),
    [
        ("3660个苹果", "3660", "integer"),  # a measure word, not a sentence
        ("个", "3660", "integer"),
        ("约", "1", "real"),
        ("2.5469 bits", "2.54692", "real"),  # another unit is another value
        ("0.5、0.25", "0.5", "real"),
        ("选", "A", "choice"),
        ("(不)对", "F", "choice"),  # a copied template or a hedge, not an answer (a review)
        ("不/对", "F", "choice"),
        ("AX", "A", "choice"),
        ("不", "F", "choice"),
    ],
)
def test_text_that_is_not_clearly_an_answer_is_still_refused(
    answer: str, reference: str, answer_type: str
) -> None:
    choices = ("T", "F") if reference == "F" else ("A", "B", "C", "D")
    v = grade(answer, reference, AnswerSpec(answer_type, choices=choices))  # type: ignore[arg-type]
    assert not v.correct and v.reason == "parse_error", v
