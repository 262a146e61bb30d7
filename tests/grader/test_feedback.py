"""Feedback that teaches: why a wrong answer is wrong, in zh and en, and where text cannot be read."""

from __future__ import annotations

import re

import pytest

from grader import AnswerError, AnswerSpec, check, grade, read

WHY = [
    # (answer, reference, type, reason, words the English feedback must contain)
    ("-3660", "3660", "integer", "sign", "sign"),
    ("7320", "3660", "integer", "factor", "2 times"),
    ("1830", "3660", "integer", "factor", "1/2"),
    ("36600", "3660", "integer", "factor", "10 times"),
    ("3661", "3660", "integer", "off_by_one", "Off by one"),
    ("0.2", "0.5*0.4", "real", None, ""),  # right: 0.2 is 0.5*0.4 exactly
    ("1.61", "log(5)", "real", None, ""),  # right to 3 significant figures
    ("1.6", "log(5)", "real", "precision", "3 significant figures"),  # ln(5) = 1.609 rounded too early
    ("1.63", "log(5)", "real", "wrong", "Not correct"),  # three figures, and they are not ln(5)'s
    ("2.4897", "2.54692", "real", "wrong", "Not correct"),  # 2.2% off with five figures: not "imprecise"
    ("2.5", "2.54692", "real", "precision", "3 significant figures"),
    ("3.1", "pi", "real", "precision", "3 significant figures"),
    ("3.12", "pi", "real", "wrong", "Not correct"),  # 0.7% off, with the three figures a right answer needs
    ("3000", "3162", "real", "precision", "3 significant figures"),  # one figure: trailing zeros do not count
    ("1", "0.96", "real", "precision", "3 significant figures"),  # 0.96 to one figure is 1
    ("1", "0.7311", "real", "wrong", "Not correct"),  # 0.7311 to one figure is 0.7, not 1
    ("2", "1.5", "real", "precision", "3 significant figures"),  # a half rounds away from zero (四舍五入)
    ("4", "4.5", "real", "wrong", "Not correct"),  # 4.5 to one figure is 5: 4 has lost the half
    # an integer part: a value rounded in scientific notation is not the exact count asked
    ("9.96e6", "9961920", "integer", "precision", "exact whole number"),
    ("1e7", "9961920", "integer", "precision", "exact whole number"),  # one figure: 1e7
    ("9.96*10^6", "9961920", "integer", "precision", "exact whole number"),  # within 0.5%
    ("9.97e6", "9961920", "integer", "wrong", "Not correct"),  # 9961920 to 3 figures is 9.96e6
    ("9960000", "9961920", "integer", "wrong", "Not correct"),  # written as a whole number: a count
    ("3660.5", "3660", "integer", "not_integer", "The answer here is a whole number."),
    ("-1.609", "log(5)", "real", "sign", "sign"),
    ("160.9", "log(5)", "real", "factor", "100 times"),
    ("[1, 2]", "[1, 2, 3]", "vector", "wrong_shape", "3 entries are expected; you gave 2"),
    ("[[1, 2, 3]]", "[1, 2, 3]", "vector", None, ""),  # a vector written as a row is the vector
    ("1; 2; 3", "[1, 2, 3]", "vector", None, ""),  # and as a column
    ("[[1], [2], [4]]", "[1, 2, 3]", "vector", "wrong", "1 of 3 entries is wrong (entry 3)"),
    ("[[1, 2], [3, 4], [5, 6]]", "[1, 2, 3, 4, 5, 6]", "vector", "wrong_shape", "you gave a 3×2 matrix"),
    ("[[1, 2, 3]]", "[[1, 2], [3, 4]]", "matrix", "wrong_shape", "2×2 matrix"),
    ("[3, 1, 2]", "[1, 2, 3]", "vector", "order", "wrong order"),
    ("[-1, -2, 3]", "[1, 2, -3]", "vector", "sign", "sign"),
    ("[2, 4, 6]", "[1, 2, 3]", "vector", "factor", "2 times"),
    ("[0.5, 1, 1.5]", "[1, 2, 3]", "vector", "factor", "1/2"),
    ("[1, 2, 4]", "[1, 2, 3]", "vector", "wrong", "1 of 3 entries is wrong (entry 3)"),
    ("[[1, 2], [3, 5]]", "[[1, 2], [3, 4]]", "matrix", "wrong", "entry (2, 2)"),
    ("[[1, 3], [2, 4]]", "[[1, 2], [3, 4]]", "matrix", "transposed", "transposed"),
    ("[222, 222, 32]", "[32, 222, 222]", "shape", "order", "[H, W, C]"),
    ("[8, 32, 222, 222]", "[32, 222, 222]", "shape", "wrong_shape", "3 dimensions"),
    ("[32, 220, 222]", "[32, 222, 222]", "shape", "wrong", "Dimension 2"),
    ("-2*x", "2*x", "expression", "sign", "sign"),
    ("4*x*y", "2*x*y", "expression", "factor", "2 times"),
    ("x/10", "x", "expression", "factor", "1/10"),
    ("x^2", "x^2*y", "expression", "wrong", "depends on y"),
    ("x^3", "x^2", "expression", "wrong", "Not equivalent"),
]


@pytest.mark.parametrize(("answer", "reference", "answer_type", "reason", "words"), WHY)
def test_feedback_names_the_slip(
    answer: str, reference: str, answer_type: str, reason: str | None, words: str
) -> None:
    v = check(answer, reference, answer_type)
    if reason is None:
        assert v.correct, v.feedback
        return
    assert not v.correct and v.reason == reason, (v.reason, v.feedback)
    assert words in v.feedback


@pytest.mark.parametrize(
    ("answer", "reference", "answer_type", "zh_words"),
    [
        ("-3", "3", "integer", "符号"),
        ("6", "3", "integer", "2 倍"),
        ("[1, 2]", "[1, 2, 3]", "vector", "应有 3 个元素"),
        ("[[1, 2], [3, 4]]", "[1, 2, 3, 4]", "vector", "你给的是 2×2 的矩阵"),
        ("[222, 222, 32]", "[32, 222, 222]", "shape", "顺序"),
        ("[[1, 3], [2, 4]]", "[[1, 2], [3, 4]]", "matrix", "转置"),
        ("1+*2", "3", "real", "这里不应出现"),
        ("", "3", "real", "答案为空"),
    ],
)
def test_feedback_in_chinese(answer: str, reference: str, answer_type: str, zh_words: str) -> None:
    assert zh_words in check(answer, reference, answer_type, lang="zh").feedback


@pytest.mark.parametrize(
    ("text", "position", "caret"),
    [
        ("1+*2", 2, "1+*2\n  ^"),
        ("(1+2", 4, "(1+2\n    ^"),
        ("2*X", 2, "2*X\n  ^"),
        ("3 $ 4", 2, "3 $ 4\n  ^"),
    ],
)
def test_parse_errors_carry_position_and_caret(text: str, position: int, caret: str) -> None:
    with pytest.raises(AnswerError) as info:
        read(text, AnswerSpec("expression", symbols=("x",)))
    assert info.value.position == position
    assert info.value.caret() == caret
    v = grade(text, "2*x", AnswerSpec("expression", symbols=("x",)))
    assert v.reason == "parse_error" and caret in v.feedback and f"character {position + 1}" in v.feedback


@pytest.mark.parametrize(
    ("text", "answer_type", "position", "what"),
    [
        # (text, type, 0-based position of the first character after the list, that character)
        ("[8, 8, 8]1", "shape", 9, "1"),  # a TA's report: it said '[' at character 1
        ("[8, 8, 8] 1", "vector", 10, "1"),  # after a space: the 1, not the space
        ("[8, 8, 8]x", "vector", 9, "x"),
        ("[[1, 2], [3, 4]]5", "matrix", 16, "5"),
        ("(8, 8)1", "shape", 6, "1"),  # a list in round brackets too; it said "a single value is asked"
        ("[8, 8, 8][1]", "vector", 9, "["),
        ("[8, 8, 8]]", "vector", 9, "]"),  # it said "unbalanced brackets", nowhere
    ],
)
def test_text_after_a_closed_list_is_pointed_at(
    text: str, answer_type: str, position: int, what: str
) -> None:
    with pytest.raises(AnswerError) as info:
        read(text, AnswerSpec(answer_type))
    assert info.value.position == position and info.value.text == text
    assert info.value.caret() == text + "\n" + " " * position + "^"
    zh = check(text, "[8, 8, 8]", answer_type, lang="zh").feedback
    assert f"这里不应出现 {what!r}" in zh and f"（第 {position + 1} 个字符）" in zh, zh
    en = check(text, "[8, 8, 8]", answer_type).feedback
    assert f"unexpected {what!r}" in en and f"(at character {position + 1})" in en, en


@pytest.mark.parametrize(
    ("text", "answer_type", "reference"),
    [
        ("(1+2)*3", "vector", "[9]"),  # a bracket that is not a list: one value, read as before
        ("[1, 2]^T", "vector", "[1, 2]"),
        ("y = [8, 8, 8]", "shape", "[8, 8, 8]"),
    ],
)
def test_a_bracket_then_more_that_reads_is_still_read(text: str, answer_type: str, reference: str) -> None:
    v = check(text, reference, answer_type)
    assert v.correct, v.feedback


@pytest.mark.parametrize(
    ("answer", "suggestion"),
    [("2*X", "x"), ("sigmod(x)", "sigmoid"), ("2*pii", "pi"), ("y_hatt - y", "y_hat")],
)
def test_unknown_names_get_a_did_you_mean(answer: str, suggestion: str) -> None:
    v = grade(answer, "x", AnswerSpec("expression", symbols=("x", "y", "y_hat")))
    assert v.reason == "parse_error" and f"did you mean {suggestion}?" in v.feedback, v.feedback


def test_exact_form_required_says_so() -> None:
    spec = AnswerSpec("expression", symbols=("v1", "v2"), exact=True)
    v = grade("0.7311*v1 + 0.2689*v2", "(e*v1 + v2)/(e + 1)", spec)
    assert not v.correct and v.reason == "exact_required" and "exact form" in v.feedback
    assert grade("(e*v1 + v2)/(1 + e)", "(e*v1 + v2)/(e + 1)", spec).correct
    real = AnswerSpec("real", exact=True)
    assert grade("1.6094", "ln(5)", real).reason == "exact_required"
    assert grade("ln(5)", "ln(5)", real).correct
    assert grade("0.25", "1/4", real).correct  # a terminating decimal is the exact value


def test_decimals_in_an_expression_are_accepted_to_the_tolerance() -> None:
    assert check("0.7311*v1 + 0.2689*v2", "(e*v1 + v2)/(e + 1)", "expression").correct
    assert not check("0.75*v1 + 0.25*v2", "(e*v1 + v2)/(e + 1)", "expression").correct


@pytest.mark.parametrize(
    ("text", "answer_type", "interpreted"),
    [
        ("2x", "expression", "2*x"),
        ("ln(5)", "real", "log(5)"),
        ("7,411,500", "integer", "7411500"),
        ("loss = 1.609", "real", "1.609"),
        ("１．５", "real", "1.5"),
        ("32×222×222", "shape", "[32, 222, 222]"),
        ("1 2; 3 4", "matrix", "[[1, 2], [3, 4]]"),
        ("√4", "integer", "2"),
        ("1/3", "real", "1/3"),
    ],
)
def test_interpreted_echoes_the_reading_in_plain_syntax(
    text: str, answer_type: str, interpreted: str
) -> None:
    v = grade(text, "1", AnswerSpec(answer_type, symbols=("x",)))
    assert v.interpreted == interpreted


@pytest.mark.parametrize(
    ("text", "answer_type", "interpreted"),
    [
        # 0.1*0.95^36 = 0.01577786... read exactly was echoed as 47 digits over 48 (a student's report)
        ("0.1*0.95^36", "real", "≈ 0.0157779"),
        ("-0.1*0.95^36", "real", "≈ -0.0157779"),
        ("0.95^10", "real", "≈ 0.598737"),  # 0.59873693923837890625: exact, but 20 figures
        ("1/7^30", "real", "≈ 4.43669e-26"),  # 7^30 = 22539340290692258087863249
        ("123456789/7", "real", "≈ 1.76367e+7"),  # 17636684.14...
        ("10^350/3", "real", "≈ 3.33333e+349"),  # past a float's range
        ("-10^399/7", "real", "≈ -1.42857e+398"),
        ("[0.1*0.95^36, 1/3]", "vector", "≈ [0.0157779, 1/3]"),
        ("0.1*0.95^36*x", "expression", "≈ 0.0157779*x"),
        ("x - 1/7^30", "expression", "≈ x - 4.43669e-26"),
        ("1/4194304", "real", "2.384185791015625e-07"),  # 2^-22: long, but a short exact decimal
        ("0.1*0.95^3", "real", "0.0857375"),  # exact: no ≈
        ("355/113", "real", "355/113"),  # short fractions stay
        ("3/8", "real", "0.375"),
        ("2^64 - 1", "integer", "18446744073709551615"),  # a whole number is never rounded
    ],
)
def test_a_long_fraction_is_echoed_as_a_decimal(text: str, answer_type: str, interpreted: str) -> None:
    spec = AnswerSpec(answer_type, symbols=("x",))
    assert read(text, spec).interpreted == interpreted
    assert grade(text, "1", spec).interpreted == interpreted  # the check's echo as the preview's


def test_the_echo_rounds_only_what_is_shown() -> None:
    """The value judged is still exact: 0.0157779 is not 0.1*0.95^36 when no tolerance is allowed."""
    exact = AnswerSpec("real", rtol=0, atol=0)
    assert grade("0.1*0.95^36", "0.1*0.95^36", exact).correct
    assert not grade("0.0157779", "0.1*0.95^36", exact).correct
    assert grade("0.0157779", "0.1*0.95^36", AnswerSpec("real")).correct
    assert f"{0.1 * 0.95**36:.6g}" == "0.0157779"  # the figures shown, by Python's own float formatting


@pytest.mark.parametrize(
    ("text", "interpreted"),
    [
        ("0.5065*v1 + 0.3072*v2", "0.5065*v1 + 0.3072*v2"),  # decimals stay decimals
        ("-0.5*v1*v2", "-0.5*v1*v2"),
        ("v1/3", "v1/3"),
        ("exp(-0.5*v1)", "exp(-0.5*v1)"),
    ],
)
def test_interpreted_keeps_decimal_coefficients(text: str, interpreted: str) -> None:
    assert read(text, AnswerSpec("expression", symbols=("v1", "v2"))).interpreted == interpreted


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os')", "code is not accepted"),
        ("x.y", "code is not accepted"),
        ("'abc'", "code is not accepted"),
        ("\\frac{1}{2}", "not LaTeX"),
        ("|x|", "abs(x)"),
        ("½", "fractions with /"),
        ("inf", "finite number"),
        ("nan", "finite number"),
        ("1,5", "write decimals with '.'"),
        ("2*y", "unknown name y"),  # no far-fetched suggestion for a one-letter name
        # digits grouped with spaces were read as a product: 27 847 680 as 27*847*680
        ("27 847 680", "two numbers side by side (27 847)"),
        ("2 3", "or * to multiply"),
        # was "could not be judged": Python will not print 4300 digits
        ("1" * 1000, "too many digits: at most 400"),
        ("1" * 5000, "too long: at most 2000 characters"),
        ("1+" * 400 + "1", "too long: at most 600 numbers, names, operators and brackets"),
        ("(" * 50 + "1" + ")" * 50, "too deeply nested: at most 40 levels of brackets"),
    ],
)
def test_refusals_say_what_to_write_instead(text: str, words: str) -> None:
    v = check(text, "1", "real")
    assert not v.correct and v.reason == "parse_error" and words in v.feedback, v.feedback
    assert "did you mean" not in v.feedback or len(text) > 3


def test_matrix_rows_parted_by_commas_are_refused_with_the_way_to_write_them() -> None:
    reference = "[[1, 3, -1], [-0.357, 0.965, -0.322]]"
    v = check("1 3 -1, -0.357 0.965 -0.322", reference, "matrix")  # was read as [[2, -0.667, -0.187]]
    assert v.reason == "parse_error" and "the rows of a matrix with ';'" in v.feedback, v.feedback
    assert check("1 3 -1; -0.357 0.965 -0.322", reference, "matrix").correct
    assert check("2 x", "2*x", "expression").correct  # a number beside a name still multiplies
    for text, answer_type in (("[1 3 -1, -0.357 0.965 -0.322]", "matrix"), ("1, 2 3", "vector")):
        v = check(text, reference if answer_type == "matrix" else "[1, 2, 3]", answer_type)
        assert "two numbers in one entry" in v.feedback and "write one number" not in v.feedback, v.feedback


@pytest.mark.parametrize(
    ("text", "reference", "answer_type"),
    [("10⁻³", "0.001", "real"), ("x²+2x", "x^2+2*x", "expression"), ("2³", "8", "integer")],
)
def test_superscripts_are_powers(text: str, reference: str, answer_type: str) -> None:
    assert check(text, reference, answer_type).correct  # not 10-3 = 7, not a name x2


@pytest.mark.parametrize(
    ("text", "reference", "answer_type", "en", "zh"),
    [
        ("1" * 5000, "1", "real", "too long: at most 2000 characters", "答案太长：最多 2000 个字符"),
        ("1+" * 400 + "1", "1", "real", "at most 600 numbers", "答案太长：最多 600 个数、名字、运算符和括号"),
        (
            "[" + ", ".join(["1"] * 401) + "]",
            "[1]",
            "vector",
            "too many entries: at most 400",
            "元素太多：最多 400 个",
        ),
        ("1" * 1000, "1", "real", "too many digits: at most 400", "这个数的位数太多：最多 400 位"),
    ],
)
def test_a_limit_is_said_with_its_size(text: str, reference: str, answer_type: str, en: str, zh: str) -> None:
    """A limit is said with its size: "too long" alone left a student guessing how much to cut."""
    for lang, words in (("en", en), ("zh", zh)):
        v = check(text, reference, answer_type, lang=lang)
        assert v.reason == "parse_error" and words in v.feedback, v.feedback


@pytest.mark.parametrize(
    ("answer", "reference", "answer_type", "words"),
    [
        ("[1, 2]", "[5]", "vector", "1 entry is expected; you gave 2."),
        ("[1]", "[1, 2]", "vector", "2 entries are expected; you gave 1."),
        ("[7]", "[3]", "vector", "1 of 1 entry is wrong (entry 1)."),
        ("[1, 2, 4]", "[1, 2, 3]", "vector", "1 of 3 entries is wrong (entry 3)."),
        ("[1, 5, 7]", "[1, 2, 3]", "vector", "2 of 3 entries are wrong (entries 2, 3)."),
        ("[[1, 2], [3, 4]]", "[1]", "vector", "A vector of 1 entry is expected"),
        ("[5, 5]", "[7]", "shape", "The shape has 1 dimension; you gave 2."),
        ("[3]", "[32, 222, 222]", "shape", "The shape has 3 dimensions; you gave 1."),
        ("[32, 220, 221]", "[32, 222, 222]", "shape", "Dimensions 2, 3 are wrong."),
        ("[32, 220, 222]", "[32, 222, 222]", "shape", "Dimension 2 is wrong."),
        ("[[1], [2, 3]]", "[[1, 2], [3, 4]]", "matrix", "row 1 has 1 entry, row 2 has 2"),
        ("[[1, 2], [3]]", "[[1, 2], [3, 4]]", "matrix", "row 1 has 2 entries, row 2 has 1"),
    ],
)
def test_english_counts_agree_with_their_nouns(
    answer: str, reference: str, answer_type: str, words: str
) -> None:
    v = check(answer, reference, answer_type)
    assert not v.correct and words in v.feedback, v.feedback


def test_no_message_says_one_with_a_plural() -> None:
    """Every message of the table, its counts set to 1: no "1 entries", "1 dimensions", "1 figures"."""
    from grader.feedback import MESSAGES, say

    for key, (_, en) in MESSAGES.items():
        fields = {name: 1 for name in re.findall(r"{(\w+)", en)}
        text = say(key, "en", **fields)
        assert not re.search(
            r"\b1 (entries|dimensions|figures)\b|\b(entries|Entries|Dimensions) 1\b|\b1 are\b", text
        ), text


@pytest.mark.parametrize(
    ("answer", "reference", "answer_type", "reason", "en", "zh"),
    [
        # ln(5) = 1.6094: 1.6 is it rounded to the two figures typed, too few for 0.5%
        (
            "[1.6, 2]",
            "[log(5), 2]",
            "vector",
            "precision",
            "Entry 1 is close, but not accurate enough: keep at least 3 significant figures",
            "第 1 个元素很接近，但精度不够：请保留至少 3 位有效数字",
        ),
        (
            "[1.6, 2.5]",
            "[log(5), 2.54692]",
            "vector",
            "precision",
            "Entries 1, 2 are close",
            "第 1, 2 个元素很接近",
        ),
        (
            "[[1.6, 1], [1, 1]]",
            "[[log(5), 1], [1, 1]]",
            "matrix",
            "precision",
            "Entry (1, 1) is close",
            "第 (1, 1) 个",
        ),
        (
            "[1.6, 2.5, 1.6, 2.5]",
            "[log(5), 2.54692, log(5), 2.54692]",
            "vector",
            "precision",
            "4 of 4 entries are close",
            "4/4 个元素很接近",
        ),
        # 1.63 has the three figures the tolerance needs, and they are not ln(5)'s
        (
            "[1.63, 2.5]",
            "[log(5), 2.54692]",
            "vector",
            "wrong",
            "2 of 2 entries are wrong",
            "2/2 个元素不正确",
        ),
        # arithmetic: the figures are not known, so closeness is not claimed
        (
            "[16/10, 2]",
            "[log(5), 2]",
            "vector",
            "wrong",
            "1 of 2 entries is wrong (entry 1)",
            "1/2 个元素不正确",
        ),
    ],
)
def test_an_array_of_rounded_entries_is_told_to_keep_more_figures(
    answer: str, reference: str, answer_type: str, reason: str, en: str, zh: str
) -> None:
    v = check(answer, reference, answer_type)
    assert not v.correct and v.reason == reason and en in v.feedback, v.feedback
    assert zh in check(answer, reference, answer_type, lang="zh").feedback


CHOICES = ("A", "B", "C", "D")


@pytest.mark.parametrize(
    ("answer", "reference", "reason", "en", "zh"),
    [
        ("AC", "ACD", "missing_option", "At least one right option is missing.", "漏选了"),
        ("ACDB", "ACD", "wrong_option", "At least one option you chose is wrong.", "你选的选项中有不正确的"),
        (
            "AB",
            "ACD",
            "wrong_option",
            "option you chose is wrong, and at least one right option is missing",
            "而且还有正确的选项没有选",
        ),
        ("B", "ACD", "wrong_option", "and at least one right option is missing", "而且还有正确的选项没有选"),
        ("B", "A", "wrong", "Not correct.", "不正确。"),  # one letter for another: nothing more to say
    ],
)
def test_multiple_choice_says_missing_or_wrong_options_not_which(
    answer: str, reference: str, reason: str, en: str, zh: str
) -> None:
    v = check(answer, reference, "choice", choices=CHOICES)
    assert not v.correct and v.reason == reason and en in v.feedback, v.feedback
    v_zh = check(answer, reference, "choice", choices=CHOICES, lang="zh")
    assert zh in v_zh.feedback, v_zh.feedback
    for feedback in (v.feedback, v_zh.feedback):
        assert not re.search(r"\b[A-D]\b|[A-D]、|选项 ?[A-D]", feedback), feedback  # no option is named
