"""Every message the grader can say, in Chinese and English, in one table."""

from __future__ import annotations

import string
from fractions import Fraction

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # verdicts
    "correct": ("正确。", "Correct."),
    "wrong": ("不正确。", "Not correct."),
    "empty": ("答案为空。", "The answer is empty."),
    "manual": ("此题由助教人工评分。", "A TA will grade this answer."),
    "timeout": (
        "判分超时，无法判断这个答案；请化简后再提交。",
        "This answer could not be checked in time; simplify it and submit again.",
    ),
    "internal": ("无法判断这个答案。", "This answer could not be judged."),
    "not_finite": ("答案必须是有限的实数。", "The answer must be a finite real number."),
    "sign": ("符号反了。", "The sign is wrong."),
    "factor": ("你的答案是正确答案的 {k} 倍。", "Your answer is {k} times the right one."),
    "factor_inverse": ("你的答案是正确答案的 1/{k}。", "Your answer is 1/{k} of the right one."),
    "off_by_one": ("差了 1。", "Off by one."),
    "log_base": (
        "看起来你用了以 {b} 为底的对数；这里 log 指自然对数 ln（与 PyTorch、NumPy 一致）。",
        "It looks like a base-{b} logarithm; log here is the natural log ln (as in PyTorch and NumPy).",
    ),
    "precision": (
        "很接近，但精度不够：请保留至少 {n} 位有效数字（不要过早四舍五入）。",
        "Close, but not accurate enough: keep at least {n} significant {n:figure|figures} (do not round too early).",
    ),
    "integer_rounded": (
        "很接近，但这里要精确的整数：请写出完整的整数，不要四舍五入，也不要写成科学计数法的近似值。",
        "Close, but an exact whole number is asked: write it out in full, not rounded or in scientific notation.",
    ),
    "not_integer": ("这里的答案应是整数。", "The answer here is a whole number."),
    "arithmetic": ("请给出数值，而不是算式。", "Give the value, not an expression."),
    "exact_required": (
        "数值接近，但这里要求精确形式（如 ln(5)、sqrt(2)/2 或分数），不要用小数近似。",
        "Close in value, but an exact form is asked (like ln(5), sqrt(2)/2 or a fraction), "
        "not a decimal approximation.",
    ),
    "symbols_not_here": ("这里要一个数，不能含有 {names}。", "A number is asked; it cannot contain {names}."),
    "numbers_here": ("这里要的是数。", "Numbers are asked here."),
    "not_simplified": (
        "与正确答案等价，但这里要求化简后的形式（约去公因式、合并同类项）。",
        "Equivalent to the right answer, but a simplified form is asked (cancel common factors, collect terms).",
    ),
    "not_equivalent": ("与正确答案不等价。", "Not equivalent to the right answer."),
    "undecided": (
        "无法在足够多的点上计算这个表达式（可能超出定义域），按不正确处理。",
        "This expression could not be evaluated at enough points (outside its domain?), so it is not accepted.",
    ),
    "missing_symbol": (
        "正确答案与 {names} 有关，你的答案却不含它。",
        "The right answer depends on {names}; yours does not.",
    ),
    "extra_symbol": ("正确答案与 {names} 无关。", "The right answer does not depend on {names}."),
    # arrays and shapes
    "wrong_length": (
        "应有 {n} 个元素，你给了 {m} 个。",
        "{n} {n:entry is|entries are} expected; you gave {m}.",
    ),
    "vector_expected": (
        "这里要的是 {n} 个元素的向量，你给的是 {shape}。",
        "A vector of {n} {n:entry|entries} is expected; you gave {shape}.",
    ),
    "wrong_matrix_shape": (
        "矩阵应为 {r}×{c}，你给的是 {shape}。",
        "A {r}×{c} matrix is expected; you gave {shape}.",
    ),
    "transposed": ("矩阵转置了（行和列对调了）。", "The matrix is transposed (rows and columns swapped)."),
    "order": ("数值对了，但顺序不对。", "The right numbers, but in the wrong order."),
    "entries_wrong": (
        "{k}/{n} 个元素不正确（第 {where} 个）。",
        "{k} of {n} {n:entry|entries} {k:is|are} wrong ({k:entry|entries} {where}).",
    ),
    "entries_wrong_many": ("{k}/{n} 个元素不正确。", "{k} of {n} {n:entry|entries} {k:is|are} wrong."),
    # the same closeness as "precision": each wrong entry is the reference rounded to the figures typed
    "entries_precision": (
        "第 {where} 个元素很接近，但精度不够：请保留至少 {f} 位有效数字（不要过早四舍五入）。",
        "{k:Entry|Entries} {where} {k:is|are} close, but not accurate enough: keep at least {f} significant "
        "{f:figure|figures} (do not round too early).",
    ),
    "entries_precision_many": (
        "{k}/{n} 个元素很接近，但精度不够：请保留至少 {f} 位有效数字（不要过早四舍五入）。",
        "{k} of {n} {n:entry|entries} {k:is|are} close, but not accurate enough: keep at least {f} significant "
        "{f:figure|figures} (do not round too early).",
    ),
    "shape_dims": (
        "形状应有 {n} 维，你给了 {m} 维。",
        "The shape has {n} {n:dimension|dimensions}; you gave {m}.",
    ),
    "shape_order": (
        "各维的大小对了，但顺序不对：应按 {want} 的顺序书写，你给的是 {given}。",
        "The right sizes in the wrong order: the shape is written {want}; yours is {given}.",
    ),
    "shape_dim_wrong": ("第 {where} 维不正确。", "{k:Dimension|Dimensions} {where} {k:is|are} wrong."),
    # multiple choice: what kind of slip, never which options (that would give the answer away)
    "choice_missing": ("漏选了：还有正确的选项没有选。", "At least one right option is missing."),
    "choice_extra": ("选错了：你选的选项中有不正确的。", "At least one option you chose is wrong."),
    "choice_extra_and_missing": (
        "你选的选项中有不正确的，而且还有正确的选项没有选。",
        "At least one option you chose is wrong, and at least one right option is missing.",
    ),
    # limits (parse.py, values.py): the student can only shorten the answer knowing by how much
    "too_long": ("答案太长：最多 {n} 个字符", "the answer is too long: at most {n} characters"),
    "too_many_tokens": (
        "答案太长：最多 {n} 个数、名字、运算符和括号",
        "the answer is too long: at most {n} numbers, names, operators and brackets",
    ),
    "too_many_entries": ("元素太多：最多 {n} 个", "too many entries: at most {n}"),
    "too_many_digits": ("这个数的位数太多：最多 {n} 位", "this number has too many digits: at most {n}"),
    "too_deep": ("嵌套太深：最多 {n} 层括号", "too deeply nested: at most {n} levels of brackets"),
    # reading
    "at": ("（第 {n} 个字符）", " (at character {n})"),
}


def plural(n: object, one: str, many: str) -> str:
    """The English word that agrees with the count n (1 entry, 2 entries); Chinese has no plural."""
    return one if n == 1 else many


class _Counted(string.Formatter):
    """`{n:entry|entries}` in a message is the word that agrees with n (the count is written apart)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            return plural(value, *format_spec.split("|", 1))
        return str(super().format_field(value, format_spec))


_COUNTED = _Counted()


def say(key: str, lang: str = "en", **kw: object) -> str:
    """The message `key` in `lang` (Chinese for "zh", English otherwise), with its fields filled."""
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    # string.Formatter is Python, str.format is C: every verdict says a message, most count nothing.
    return _COUNTED.format(text, **kw) if "|" in text else text.format(**kw)


def both(key: str, **kw: object) -> tuple[str, str]:
    """The message `key` in Chinese and English, for an AnswerError (parse.err)."""
    return say(key, "zh", **kw), say(key, "en", **kw)


# Factors a slip typically produces: a forgotten 1/2, the batch size, a decimal slip, a percentage.
NAMED_FACTORS = (2, 3, 4, 5, 10, 100, 1000)


def factor_message(k: Fraction, lang: str) -> str:
    """`k` times the right answer, said as "k times" or "1/k of"."""
    if k.denominator == 1:
        return say("factor", lang, k=k.numerator)
    return say("factor_inverse", lang, k=k.denominator)


def caret(text: str, position: int, width: int = 40) -> str:
    """Two lines: the text around `position`, and a ^ under that character (for a monospace box)."""
    line = text.replace("\n", " ").replace("\t", " ")
    start = max(0, position - width)
    end = min(len(line), position + width)
    shown = ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")
    offset = position - start + (1 if start else 0)
    return shown + "\n" + " " * offset + "^"
