"""AST -> sympy values with bounded work; arrays, shapes and choices read from text."""

from __future__ import annotations

import difflib
import math
import re
from fractions import Fraction
from typing import Any

import sympy

from grader import numeric
from grader.feedback import both
from grader.limits import tick
from grader.parse import CONSTS, FUNCS, AnswerError, err, normalize, parse_expression
from grader.scalars import plain_number

MAX_POW_DIGITS = 400  # a power whose value would have more digits than this is refused
MAX_ELEMENTS = 400
MAX_ROOT_BITS = 200  # sympy simplifies roots of exact numbers up to this size; beyond, left as they are
CODE_WORDS = {"lambda", "import", "eval", "exec", "open", "os", "sys", "print", "def", "class", "return"}
MAX_EXACT_BITS = 4000  # an exact number above ~1,200 digits (10^399*10^399*10^399*10^399) is refused

_SYMBOLS: dict[tuple[str, bool], sympy.Symbol] = {}


def symbol(name: str, real: bool) -> sympy.Symbol:
    key = (name, real)
    if key not in _SYMBOLS:
        _SYMBOLS[key] = sympy.Symbol(name, real=True) if real else sympy.Symbol(name, positive=True)
    return _SYMBOLS[key]


def _magnitude_digits(base: sympy.Expr, exp: sympy.Expr) -> float:
    """log10 of |base^exp| estimated cheaply (base and exp numeric), inf when unknown."""
    b, e = _rough(base), _rough(exp)
    if b is None or e is None:
        return math.inf
    if b == 0 or abs(b) == 1:
        return 0.0
    return abs(e * math.log10(abs(b)))


def _too_big(rough: float | None, limit: float) -> bool:
    return rough is None or abs(rough) > limit


def _rough(x: sympy.Expr) -> float | None:
    """A number's value to 15 digits by bounded mpmath work (sympy.N adapts its precision
    without bound on hidden zeros); None when it is not a finite real number."""
    v = numeric.value(x, 15)
    try:
        return None if v is None else float(v)
    except OverflowError:
        return None


def _exact_power_bits(base: sympy.Expr, exp: sympy.Expr) -> float:
    """Bits of the exact rational sympy would compute for base^exp. A value near 1 can be small
    while its exact form is huge: 1.0000001^(10^8) is about e^10, but its numerator has 2.3e9
    bits, and one sympy power call computing it holds the GIL for minutes."""
    if not (base.is_Rational and exp.is_Rational) or base in (0, 1, -1):
        return 0.0
    bits = max(int(base.p).bit_length(), int(base.q).bit_length())  # type: ignore[attr-defined]
    return abs(float(exp)) * bits


def build(node: Any, symbols: tuple[str, ...], real: bool) -> sympy.Expr:
    value = _build(node, symbols, real)
    if value.is_Rational and max(int(value.p).bit_length(), int(value.q).bit_length()) > MAX_EXACT_BITS:
        raise err("这个数太大了", "this number is too large to work with")
    return value


def _build(node: Any, symbols: tuple[str, ...], real: bool) -> sympy.Expr:
    tick()  # a cooperative deadline: building is bounded by the token limit, but checks anyway
    kind = node[0]
    if kind == "num":
        f: Fraction = node[1]
        return sympy.Rational(f.numerator, f.denominator)
    if kind == "name":
        name, pos = node[1], node[2]
        if name == "e":
            return sympy.E
        if name == "pi":
            return sympy.pi
        if name in symbols:
            return symbol(name, real)
        alias = _subscript_alias(name, symbols)
        if alias is not None:
            return symbol(alias, real)
        if name.lower() in ("inf", "infinity", "nan", "oo"):
            raise err(
                f"答案必须是有限的数，不能是 {name}", f"the answer must be a finite number, not {name}", pos
            )
        if name.startswith("_") or name in CODE_WORDS:
            raise err(f"答案里不能有程序代码（{name}）", f"code is not accepted as an answer ({name})", pos)
        # Same letters in another case first (X for x); then a close spelling, of a function
        # only for names long enough to be one (x is not "max").
        known = list(symbols) + sorted(CONSTS) + (sorted(FUNCS) if len(name) >= 3 else [])
        close = [k for k in known if k.lower() == name.lower()] or difflib.get_close_matches(
            name, known, n=1, cutoff=0.6
        )
        hint_zh = f"（你是想写 {close[0]} 吗？）" if close else ""
        hint_en = f" (did you mean {close[0]}?)" if close else ""
        if name in FUNCS:
            return _raise(err(f"函数 {name} 后面要有括号", f"the function {name} needs brackets", pos))
        return _raise(err(f"未知的名字 {name}{hint_zh}", f"unknown name {name}{hint_en}", pos))
    if kind == "neg":
        x = build(node[1], symbols, real)
        return sympy.Mul(-1, x, evaluate=False) if _as_written(x) else -x
    if kind == "bin":
        op, a, b = node[1], build(node[2], symbols, real), build(node[3], symbols, real)
        if op == "/" and b == 0:
            raise err("除以零", "division by zero")
        if op in "+-*/" and _as_written(a, b):
            return _unevaluated(op, a, b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "^":
            if not a.free_symbols and not b.free_symbols:
                if _magnitude_digits(a, b) > MAX_POW_DIGITS:
                    raise err("这个数太大了", "this number is too large to work with")
                if _exact_power_bits(a, b) > MAX_EXACT_BITS:
                    raise err(
                        "这个幂的精确值太长了，请写出它的小数值",
                        "the exact value of this power is too long to work with; give its decimal value",
                    )
            elif b.is_number and _too_big(_rough(b), 10000):
                raise err("指数太大", "the exponent is too large")
            if _as_written(a, b):
                return sympy.Pow(a, b, evaluate=False)
            return _power(a, b)
    if kind == "call":
        name, args, pos = node[1], [build(x, symbols, real) for x in node[2]], node[3]
        if name in ("max", "min"):
            # Unevaluated: sympy would decide the order of numbers by ever more precise
            # evaluation (0.2 s for max(sqrt(2)+sqrt(3), sqrt(5+2*sqrt(6)))); mpmath does it.
            return (sympy.Max if name == "max" else sympy.Min)(*args, evaluate=False)
        if len(args) != 1:
            raise err(f"{name} 只接受一个参数", f"{name} takes one argument", pos)
        x = args[0]
        if x.is_number and name in ("exp", "sigmoid", "sin", "cos", "tan", "tanh", "sech"):
            rough = _rough(x)
            if rough is not None and abs(rough) > 1e4:
                raise err("参数太大", "the argument is too large", pos)
        table = {
            "sqrt": lambda v: _power(v, sympy.S.Half),
            "exp": sympy.exp,
            "ln": sympy.log,
            "log": sympy.log,
            "log2": lambda v: sympy.log(v, 2),
            "log10": lambda v: sympy.log(v, 10),
            "lg": lambda v: sympy.log(v, 10),
            "sin": sympy.sin,
            "cos": sympy.cos,
            "tan": sympy.tan,
            "tanh": sympy.tanh,
            "sech": lambda v: 2 / (sympy.exp(v) + sympy.exp(-v)),  # from exp: the evaluator knows it
            "sigmoid": lambda v: 1 / (1 + sympy.exp(-v)),
            "abs": lambda v: sympy.Abs(v, evaluate=False) if v.is_number else sympy.Abs(v),
        }
        if x.is_number and not x.is_Rational and name in _UNEVALUATED:
            # Built as written: on a number such as a sum of radicals sympy's automatic
            # evaluation looks for exact values (minimal polynomials, multiples of pi) with no
            # bound on work (seconds for sin of a hidden zero). mpmath evaluates them (numeric.py).
            return _UNEVALUATED[name](x)
        return table[name](x)
    raise err("无法识别", "cannot read this")


def _subscript_alias(name: str, symbols: tuple[str, ...]) -> str | None:
    """v_1 (and v₁, v_{1}) where the symbol is v1, or v1 where it is v_1: one subscript, two spellings."""
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    if m is None:
        return None
    return next((s for s in (m[1] + m[2], m[1] + "_" + m[2]) if s in symbols), None)


def _as_written(*values: sympy.Expr) -> bool:
    """Numbers that are not all rational are combined as written, never simplified: sympy's
    automatic evaluation asks questions of them (is it zero? rational?) that it answers with
    unbounded work on hidden zeros such as sqrt(2)+sqrt(3)-sqrt(5+2*sqrt(6)) (seconds, measured).
    Their value is computed by mpmath in numeric.py; rationals are still combined exactly."""
    return all(v.is_number for v in values) and not all(v.is_Rational for v in values)


def _unevaluated(op: str, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    if op == "+":
        return sympy.Add(a, b, evaluate=False)
    if op == "-":
        return sympy.Add(a, sympy.Mul(-1, b, evaluate=False), evaluate=False)
    if op == "*":
        return sympy.Mul(a, b, evaluate=False)
    return sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False)


_UNEVALUATED = {
    "exp": lambda v: sympy.exp(v, evaluate=False),
    "ln": lambda v: sympy.log(v, evaluate=False),
    "log": lambda v: sympy.log(v, evaluate=False),
    "log2": lambda v: sympy.Mul(sympy.log(v, evaluate=False), 1 / sympy.log(2), evaluate=False),
    "log10": lambda v: sympy.Mul(sympy.log(v, evaluate=False), 1 / sympy.log(10), evaluate=False),
    "lg": lambda v: sympy.Mul(sympy.log(v, evaluate=False), 1 / sympy.log(10), evaluate=False),
    "sin": lambda v: sympy.sin(v, evaluate=False),
    "cos": lambda v: sympy.cos(v, evaluate=False),
    "tan": lambda v: sympy.tan(v, evaluate=False),
    "tanh": lambda v: sympy.tanh(v, evaluate=False),
    "sech": lambda v: sympy.Mul(
        2,
        sympy.Pow(
            sympy.Add(
                sympy.exp(v, evaluate=False),
                sympy.exp(sympy.Mul(-1, v, evaluate=False), evaluate=False),
                evaluate=False,
            ),
            -1,
            evaluate=False,
        ),
        evaluate=False,
    ),
    "sigmoid": lambda v: sympy.Pow(
        sympy.Add(1, sympy.exp(sympy.Mul(-1, v, evaluate=False), evaluate=False), evaluate=False),
        -1,
        evaluate=False,
    ),
}


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """base^exponent; a root of a big exact number is left unevaluated, because sympy would
    look for perfect powers in it (0.7 s for sqrt of a 1,200-digit number). mpmath evaluates it."""
    if (
        base.is_Rational
        and not exponent.is_Integer
        and max(int(base.p).bit_length(), int(base.q).bit_length()) > MAX_ROOT_BITS  # type: ignore[attr-defined]
    ):
        return sympy.Pow(base, exponent, evaluate=False)
    return base**exponent


def _raise(e: AnswerError) -> sympy.Expr:
    raise e


def strip_assignment(text: str) -> str:
    """`y = 3` and `32*(3*3*3+1) = 896` are read as their last value."""
    depth = 0
    last = 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "=" and depth == 0:
            last = i + 1
    return text[last:].strip() if last else text


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def read_scalar(text: str, symbols: tuple[str, ...] = (), real: bool = False) -> sympy.Expr:
    text = strip_assignment(normalize(text))
    if not text:
        raise err("答案为空", "the answer is empty", 0)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    quick = plain_number(text)
    if quick is not None:  # a plain number needs no parser (most entries of a vector or matrix)
        return sympy.Rational(quick.numerator, quick.denominator)
    if text.endswith("%") and text.count("%") == 1:
        return read_scalar(text[:-1], symbols, real) / 100
    node = parse_expression(text)
    try:
        return build(node, symbols, real)
    except AnswerError as e:
        if e.text is None and e.position is not None:
            e.text = text  # positions of unknown names point into this text
        raise


def split_top(text: str, seps: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in text:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth < 0:
                raise err("括号不匹配", "unbalanced brackets")
        if c in seps and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if depth != 0:
        raise err("括号不匹配", "unbalanced brackets", len(text))
    out.append("".join(cur))
    return out


_TRANSPOSED = re.compile(r"\s*\^\s*[({]?\s*(?:T|\\top)\s*[)}]?\s*$")


def split_transpose(text: str) -> tuple[str, bool]:
    """`(0, 1, 0, 0)^T` (also `^{T}`, `^\\top`, `ᵀ`) -> the array's text, and whether it was transposed."""
    t = strip_assignment(normalize(text))
    m = _TRANSPOSED.search(t)
    return (t[: m.start()], True) if m else (t, False)


def read_array(text: str, symbols: tuple[str, ...] = (), real: bool = False) -> list[Any]:
    """`[1, 2]`, `(1, 2)`, `[[1,2],[3,4]]`, `1 2; 3 4`, `1, 2, 3` -> nested lists of sympy values."""
    text = strip_assignment(normalize(text))
    if not text:
        raise err("答案为空", "the answer is empty", 0)
    m = _PRINTED_ARRAY.fullmatch(text)
    if m:  # as numpy and torch print an array: array([[1, 2], [3, 4]]), tensor([...])
        text = m.group(1).strip()
    if "\n" in text or "\r" in text:
        text = _rows_by_line(text)
    if ";" in text and not text.startswith("[["):
        body = text.strip()
        if body[:1] in "[(" and body[-1:] in "])" and _matching(body):
            body = body[1:-1]  # one pair around the rows: [1 2; 3 4]; not the ) of sqrt(4)
        rows = [r.strip() for r in split_top(body, ";") if r.strip()]
        # a row in its own brackets, one a line as numpy or a list of lists prints: [1, 2] / [3, 4]
        rows = [r[1:-1] if r[:1] == "[" and r[-1:] == "]" and _matching(r) else r for r in rows]
        return [_row_entries(r, symbols, real) for r in rows]
    if text[0] in "[(" and text[-1] in "])" and _matching(text):
        inner = text[1:-1].strip()
        if not inner:
            return []
        items = split_top(inner, ",")
        if len(items) == 1 and inner[:1] == "[":
            # numpy prints rows side by side with no comma: [[0.1 0.8] [0.2 0.3]]
            groups = _split_spaces(inner)
            if len(groups) > 1 and all(g[:1] == "[" for g in groups):
                items = groups
        if len(items) == 1 and not _is_row(inner):
            return _row_entries(inner, symbols, real)  # [1 2 3] is three entries, [1 - 2] one
        if items and not items[-1].strip():
            items = items[:-1]  # [4,] is [4]
        if any(not x.strip() for x in items):
            raise err("列表中有空项", "an empty entry in the list")
        if len(items) > MAX_ELEMENTS:
            raise err(*both("too_many_entries", n=MAX_ELEMENTS))
        if not any(_is_row(x) for x in items):
            return _entries(items, symbols, real)
        return [read_array(x, symbols, real) if _is_row(x) else read_scalar(x, symbols, real) for x in items]
    try:
        return _row_entries(text, symbols, real)
    except AnswerError as e:
        raise _after_the_list(text) or e from None


def _after_the_list(text: str) -> AnswerError | None:
    """Text after a list closed at its bracket (`[8, 8, 8]1`, `(8, 8) x`): the error is at what
    follows, not at the list (read as one value, it was "unexpected '['" at character 1). None
    when the text does not start with a closed list, or goes on with a comma or semicolon (rows
    left without their outer brackets are another mistake); `(1+2)*3` is one value, not a list."""
    depth, end = 0, None
    for i, c in enumerate(text):
        depth += c in "(["
        depth -= c in ")]"
        if depth == 0:
            end = i + 1
            break
    if end is None or end == 1 or text[0] not in "[(":
        return None
    if text[0] == "(" and len(split_top(text[1 : end - 1], ",")) < 2:
        return None
    rest = text[end:]
    pos = end + len(rest) - len(rest.lstrip())
    if pos >= len(text) or text[pos] in ",;":
        return None
    c, close = text[pos], text[end - 1]
    e = err(
        f"这里不应出现 {c!r}：列表在前面的 {close!r} 处已经结束",
        f"unexpected {c!r}: the list ended at the {close!r} before it",
        pos,
    )
    e.text = text
    return e


_PRINTED_ARRAY = re.compile(r"(?:(?:np|numpy|torch)\.)?(?:array|tensor)\((.*)\)", re.S)


def _rows_by_line(text: str) -> str:
    """Line breaks of rows pasted one a line (from a PDF or a spreadsheet: a 3x3 matrix so pasted
    was read as 1x9) become ';'. A break parts rows outside brackets, or inside one pair that
    holds no brackets of its own ([1 2 / 3 4]); elsewhere, and beside a comma or a bracket, it
    is layout ([[1, 2], / [3, 4]], a list broken after its commas)."""
    # a ( inside is an entry's (sqrt(4), e^(-1)), not a row's: only a [ makes the rows bracketed
    flat = text[:1] in "[(" and text[-1:] in "])" and _matching(text) and "[" not in text[1:-1]
    out: list[str] = []
    depth = 0
    before = ""  # the last character written that is not a space
    for i, c in enumerate(text):
        if c in "\r\n":
            after = text[i + 1 : i + 200].lstrip()[:1]
            parts_rows = depth == 0 or (depth == 1 and flat)
            c = ";" if parts_rows and before and before not in ",;[(" and after not in ",;])" else " "
        else:
            depth += c in "(["
            depth -= c in ")]"
        out.append(c)
        if not c.isspace():
            before = c
    return "".join(out)


def _row_entries(row: str, symbols: tuple[str, ...], real: bool) -> list[Any]:
    """The entries of one row: split at top-level commas; else at spaces, but only when every
    piece reads alone (`1 2 -3` is three entries, `0.5*2 + 0.5*tanh(0.5)` is one)."""
    pieces = split_top(row, ",")
    if len(pieces) > 1:
        if any(not p.strip() for p in pieces[:-1]):
            raise err("列表中有空项", "an empty entry in the list")
        return _entries(pieces, symbols, real)
    words = _split_spaces(row)
    if len(words) > 1:
        try:
            return [read_scalar(w, symbols, real) for w in words]
        except AnswerError:
            pass  # some piece is not a value alone: the row is one expression
    return [read_scalar(row, symbols, real)]


def _entries(pieces: list[str], symbols: tuple[str, ...], real: bool) -> list[Any]:
    """Comma-separated entries. One holding two numbers (`1 2, 3 4`, `[1 2, 3 4]`, `1, 2 3`) is
    rows parted by commas, or a comma left out: say how to write either, not "one number"."""
    try:
        return [read_scalar(p, symbols, real) for p in pieces if p.strip()]
    except AnswerError:
        if any(len(_split_spaces(p)) > 1 for p in pieces):
            raise err(
                "一个元素里有两个数：元素之间用逗号分隔，矩阵的行之间用分号（例如 1 2; 3 4 或 [[1, 2], [3, 4]]）",
                "two numbers in one entry: separate entries with ',' and the rows of a matrix with ';' "
                "(e.g. 1 2; 3 4, or [[1, 2], [3, 4]])",
            ) from None
        raise


def _split_spaces(row: str) -> list[str]:
    """Split at whitespace outside brackets (`(1 + 2) 3` is two pieces)."""
    return [w for w in split_top(re.sub(r"\s+", " ", row.strip()), " ") if w]


def _is_row(item: str) -> bool:
    """An entry that is itself a row: `[...]` always, `(...)` only with a comma inside."""
    t = item.strip()
    if t[:1] == "[":
        return True
    return t[:1] == "(" and t[-1:] == ")" and _matching(t) and len(split_top(t[1:-1], ",")) > 1


def _matching(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        depth += c in "(["
        depth -= c in ")]"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def read_shape(text: str) -> tuple[int, ...]:
    t = normalize(text.replace("×", "x"))  # in a shape, × separates dimensions
    t = strip_assignment(t)
    if re.fullmatch(r"\s*\d+(\s*[xX]\s*\d+)+\s*", t):
        return tuple(int(x) for x in re.split(r"\s*[xX]\s*", t.strip()))
    if re.fullmatch(r"\s*\d+(\s*\*\s*\d+)+\s*", t):
        raise err("形状请写成 [C, H, W]，而不是乘积", "write the shape as [C, H, W], not as a product")
    values = read_array(t)
    dims = []
    for v in values:
        if isinstance(v, list) or not v.is_integer or v < 0:
            raise err("形状的每一维都应是非负整数", "every dimension of a shape is a non-negative integer")
        dims.append(int(v))
    return tuple(dims)
