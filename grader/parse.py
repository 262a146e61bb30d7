"""Student text -> a small AST -> sympy. Never eval: a tokenizer and a Pratt parser with limits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from grader import feedback

MAX_LEN = 2000
MAX_TOKENS = 600
MAX_DEPTH = 40
MAX_DIGITS = 400
MAX_EXPONENT = 400  # 1e999999 is refused at once, before any big number is built


@dataclass
class AnswerError(Exception):
    """Text that cannot be read: a message {"zh", "en"}, and where (0-based, in `text`)."""

    message: dict[str, str]
    position: int | None = None
    text: str | None = None  # the (normalised) text the position points into

    def __str__(self) -> str:
        return self.message["en"]

    def caret(self) -> str | None:
        """The text with a ^ under the spot, on two lines (for a monospace box), if known."""
        if self.position is None or self.text is None:
            return None
        return feedback.caret(self.text, min(self.position, len(self.text)))

    def explain(self, lang: str) -> str:
        """The message in `lang`, the character it is about, and the caret lines."""
        text = self.message.get(lang) or self.message["en"]
        mark = self.caret()
        if mark is None:
            return text
        return text + feedback.say("at", lang, n=self.position + 1) + "\n" + mark  # type: ignore[operator]


def err(zh: str, en: str, pos: int | None = None) -> AnswerError:
    return AnswerError({"zh": zh, "en": en}, pos)


_TRANSLATE = {
    "−": "-",
    "–": "-",
    "—": "-",
    "×": "*",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "÷": "/",
    "√": "sqrt ",
    "π": "pi",
    "²": "^2",
    "³": "^3",
    "（": "(",
    "）": ")",
    "【": "[",
    "】": "]",
    "；": ";",
    "，": ",",
    "。": ".",
    "：": ":",
    "＝": "=",
    "≈": "=",  # ln(3) ≈ 1.0986: a chain, read as its last value
    "、": ", ",  # the IME's enumeration comma: 0.5、0.25 (a list, never 1、500 as a thousands group)
}
# Words an IME answer begins or ends with: 约1.609 is ≈1.609, 根号2 is √2; 3660个, 2.5469 nats
# Powers and roots said in words, as an IME user writes them: e的x次方 is e^(x), x的平方 is x^2,
# x的平方根 is sqrt(x), 8的3次方根 is 8^(1/(3)). The exponent is short and holds no other 的 (the
# base is what comes before, as on paper). The tokenizer reads them in the student's own text: a
# message then points into what was typed (rewritten first, x的平方根 was "unexpected 根" in x^2根).
_SAID_POWER = re.compile(r"的\s*(?:([^的次方]{1,40}?)\s*次方(根)?|(算术平方根|平方根|立方根|平方|立方))")
_SAID_EXPONENT = {"平方": "2", "立方": "3", "平方根": "(1/2)", "算术平方根": "(1/2)", "立方根": "(1/3)"}
_WORDS = re.compile("约等于|约为|大约|约|根号")
_WORD_SIGNS = {"约等于": "≈", "约为": "≈", "大约": "≈", "约": "≈", "根号": "√"}
# A measure word or a unit after a number is not part of its value (bits would be: not read)
_UNIT = re.compile(r"(?<=[\d)\]方根])\s*(?:个参数|参数|个|次|步|层|维|项|种|轮|条|张|nats?)$")


_TRANSLATE_TABLE = str.maketrans(_TRANSLATE)
_SIGMA_CALL = re.compile(r"σ\s*\(")
# ln3, sqrt2: a function and its number written together, as on paper (log2 and log10 are names)
_FUNCTION_AND_NUMBER = re.compile(r"(ln|lg|sqrt|exp|sin|cos|tan|tanh)(\d+(?:\.\d+)?)")
# log_2 5, log₂5, log_{2}(5), log_e 5: a base written as a subscript (2, 10 and e are the course's)
_LOG_BASE = re.compile(r"\blog_(?:\{\s*(2|10|e)\s*\}|(2|10|e)(?![A-Za-z0-9_]))")
_LOG_OF_BASE = {"2": "log2 ", "10": "log10 ", "e": "ln "}

# Letters too, as phones and IMEs offer them: e⁻ˣ is e^(-x), 2eˣ is 2*e^(x), xⁿ is x^(n)
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ˣⁿⁱᵗᵏ", "0123456789-+xnitk", strict=True))
_SUPERSCRIPT_RUN = re.compile("[" + "".join(_SUPERSCRIPTS) + "]+")
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
_SUBSCRIPT_RUN = re.compile("[" + "".join(_SUBSCRIPTS) + "]+")
# LaTeX grouping as the statements print it: e^{1/2} is e^(1/2), v_{1} is v_1
_BRACED_POWER = re.compile(r"\^\s*\{([^{}]*)\}")
_BRACED_SUBSCRIPT = re.compile(r"_\{\s*([A-Za-z0-9]+)\s*\}")
MAX_BRACES = 10  # nested e^{x^{2}} levels undone; deeper braces stay, and are refused as characters


def normalize(text: str) -> str:
    """Full-width IME characters are their ASCII forms; Unicode operators are ours."""
    if not text.isascii():  # nothing in this branch changes ASCII, and most answers are ASCII
        # A full stop ending the answer is the sentence's, not a decimal point: 1.0986。
        text = text.rstrip().removesuffix("。")
        # σ(x) is how the statements write the sigmoid; a bare σ (a standard deviation) stays unknown
        text = _SIGMA_CALL.sub("sigmoid(", text)
        text = text.replace("ᵀ", "^T")  # NFKC would make (0,1,0,0)ᵀ a product with a name T
        # Superscripts and subscripts first: NFKC would turn x² into x2, 10⁻³ into 10-3 (a
        # different value) and log₂5 into a name log25.
        text = _SUPERSCRIPT_RUN.sub(lambda m: "^(" + "".join(_SUPERSCRIPTS[c] for c in m.group()) + ")", text)
        text = _SUBSCRIPT_RUN.sub(lambda m: "_{" + "".join(_SUBSCRIPTS[c] for c in m.group()) + "}", text)
        text = _WORDS.sub(lambda m: _WORD_SIGNS[m.group()], text)
        # After NFKC, π的平方, ２的平方 and ｘ的平方 have their ASCII bases for the tokenizer.
        text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE_TABLE)
        text = _UNIT.sub("", text.rstrip())
    elif text.rstrip().endswith(("nat", "nats")):
        text = _UNIT.sub("", text.rstrip())
    if "log_" in text:
        text = _LOG_BASE.sub(lambda m: _LOG_OF_BASE[m[1] or m[2]], text)
    if "{" in text:
        text = _latex_grouping(text)
    return text.strip()


# A base: a whole run of letters and digits (the lookbehind keeps the search linear on a long run
# that is not at the end: a review measured 4 s on 2000 characters without it), or a bracket.
_POWER_BASE = re.compile(r"(?:(?<![A-Za-z0-9.])[A-Za-z0-9.]+|[)\]])\s*$")
# What may stand before a said power's base: there it is the whole base, as on paper. After a sign
# or an operator of lower precedence it is not: -1的平方 is (-1)^2 in words, -1^2 as written.
_BASE_STARTS_AFTER = set("([*/=,;") | {""}  # not after + - ^: a+b的平方 is (a+b)^2 to some


def _said_power(text: str, i: int) -> tuple[list[Tok], int] | None:
    """The power or root said in words at text[i] (a 的) as tokens, ^ and its exponent, each at
    the words it reads, and where the words end; None if none is said there or its base is unclear."""
    m = _SAID_POWER.match(text, i)
    if m is None or not _whole_base(text[:i]):
        return None
    _, root, words = m.groups()
    if words:
        return _said_tokens("^" + _SAID_EXPONENT[words], i), m.end()
    inner = tokenize(text, m.start(1), m.end(1))
    if not inner:
        return None
    opened, closed = ("^(1/(", "))") if root else ("^(", ")")
    at = m.end() - len("次方根" if root else "次方")  # a bracket left open is said to be missing there
    return _said_tokens(opened, i) + inner + _said_tokens(closed, at), m.end()


def _said_tokens(text: str, pos: int) -> list[Tok]:
    return [Tok("op" if c in "^()/" else "num", c, pos) for c in text]


def _whole_base(head: str) -> bool:
    """Does `head` end with a base that is plainly the whole base of a power said after it?"""
    base = _POWER_BASE.search(head)
    if base is None:
        return False
    if base.group().rstrip()[-1:] in ")]":
        start = _group_start(head.rstrip())
        if start is None:
            return False
        while start > 0 and head[start - 1].isalpha():  # a function's call is its whole: sin(x)的平方
            start -= 1
        before = head[:start].rstrip()[-1:]
    else:
        before = head[: base.start()].rstrip()[-1:]
    return before in _BASE_STARTS_AFTER  # not -1的平方, a+b的平方, 2^3的平方: brackets say which


def _group_start(text: str) -> int | None:
    """Where the bracketed group that ends `text` opens (None: it does not)."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += text[i] in ")]"
        depth -= text[i] in "(["
        if depth == 0:
            return i
    return None


def _latex_grouping(text: str) -> str:
    """Braces that only group: v_{1} -> v_1 (a space after, so v_{1}x stays two names), e^{1/2} -> e^(1/2)."""
    text = _BRACED_SUBSCRIPT.sub(r"_\1 ", text)
    for _ in range(MAX_BRACES):  # innermost first: e^{x^{2}}
        text, n = _BRACED_POWER.subn(r"^(\1)", text)
        if not n:
            break
    return text


def _bad_character(text: str, i: int) -> AnswerError:
    """Say what a character that starts no token probably is."""
    c = text[i]
    if c in "'\"`" or (c == "." and text[:i].rstrip()[-1:].isalpha()):
        return err("答案里不能有程序代码（字符串或属性）", f"code is not accepted as an answer ({c!r})", i)
    if c == "\\":
        return err(
            "请用纯文本书写，不要用 LaTeX（例如 sqrt(2)/2）",
            "write plain text, not LaTeX (e.g. sqrt(2)/2)",
            i,
        )
    if c == "|":
        return err("请用 abs(x) 表示绝对值", "write absolute values as abs(x)", i)
    if c == "⁄":
        return err("请用 / 写分数，例如 1/2", "write fractions with /, e.g. 1/2", i)
    if c in "平立次方根":  # said without 的, or apart: x平方, 平方根x, x的平方 根
        return err(
            "乘方请写成 x^2 或 x的平方，开方请写成 sqrt(x)、根号x 或 x的平方根",
            "write a power as x^2 or x的平方, and a root as sqrt(x), 根号x or x的平方根",
            i,
        )
    if c == "的":  # a power said in words whose base is not plain (see _said_power)
        return err(
            "“的…次方”的底数要用括号标明，例如 (-1)的平方、1+(e的x次方)，或写成 ^，例如 e^x",
            "put the base of a power said in words in brackets, e.g. (-1)的平方 or 1+(e的x次方), "
            "or write ^, e.g. e^x",
            i,
        )
    return err(f"无法识别的字符 {c!r}", f"unexpected character {c!r}", i)


_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),\[\];=%]))"
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Tok]:
    """The tokens of text[start:end], each at its place in `text`."""
    out: list[Tok] = []
    end = len(text) if end is None else end
    i = start
    while i < end:
        if text[i].isspace():
            i += 1
            continue
        said = _said_power(text, i) if text[i] == "的" else None
        if said is not None:
            out += said[0]
            if len(out) > MAX_TOKENS:
                raise err(*feedback.both("too_many_tokens", n=MAX_TOKENS), i)
            i = said[1]
            continue
        m = _TOKEN.match(text, i, end)
        if m is None or m.end() == i:
            raise _bad_character(text, i)
        kind = m.lastgroup or "op"
        tok = m.group(kind)
        if kind == "num" and len(tok) > MAX_DIGITS:  # Python refuses to print an int of 4300 digits
            raise err(*feedback.both("too_many_digits", n=MAX_DIGITS), m.start(kind))
        exp = re.search(r"[eE]([+-]?\d+)$", tok) if kind == "num" else None
        if exp and (len(exp.group(1)) > 6 or abs(int(exp.group(1))) > MAX_EXPONENT):
            raise err("数字的指数太大", "the exponent of this number is too large", m.start(kind))
        glued = _FUNCTION_AND_NUMBER.fullmatch(tok) if kind == "name" else None
        if glued:
            out.append(Tok("name", glued.group(1), m.start(kind)))
            kind, tok = "num", glued.group(2)
            out.append(Tok(kind, tok, m.start(kind) + len(glued.group(1))))
        else:
            out.append(Tok(kind, tok, m.start(kind)))
        if len(out) > MAX_TOKENS:
            raise err(*feedback.both("too_many_tokens", n=MAX_TOKENS), m.start(kind))
        i = m.end()
    return out


def to_fraction(text: str) -> Fraction:
    return Fraction(text)


# AST nodes: ("num", Fraction) ("name", str, pos) ("call", name, [args], pos) ("neg", x)
# ("bin", op, a, b) ("list", [items]) — built by a Pratt parser.

FUNCS = {
    "sqrt",
    "exp",
    "ln",
    "log",
    "lg",  # log10, as Chinese textbooks write it
    "log2",
    "log10",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sech",
    "sigmoid",
    "abs",
    "max",
    "min",
}
_PREFIX_CALLS = FUNCS - {"abs", "max", "min", "sigmoid"}  # ln 5, sqrt 2, log2 8, sin x: no brackets needed
CONSTS = {"e", "pi"}
_BP = {"+": 10, "-": 10, "*": 20, "/": 20, "^": 30, "**": 30}


class Parser:
    def __init__(self, toks: list[Tok], text: str) -> None:
        self.toks, self.i, self.text, self.depth = toks, 0, text, 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise err("答案不完整", "the answer ends too early", len(self.text))
        self.i += 1
        return t

    def expect(self, op: str) -> Tok:
        t = self.peek()
        if t is not None and t.text == "," and op == ")":
            raise _comma_in_a_value(t.pos)  # (1, 2)*3: a list where one value is asked
        if t is None or t.text != op:
            where = t.pos if t else len(self.text)
            raise err(f"这里缺少 {op!r}", f"expected {op!r} here", where)
        return self.take()

    def expr(self, rbp: int = 0):  # type: ignore[no-untyped-def]
        self.depth += 1
        if self.depth > MAX_DEPTH:
            nxt = self.peek()
            raise err(*feedback.both("too_deep", n=MAX_DEPTH), nxt.pos if nxt else None)
        left = self.prefix()
        while True:
            t = self.peek()
            if t is None:
                break
            if t.kind == "op" and t.text in _BP:
                bp = _BP[t.text]
                if bp <= rbp and not (t.text in ("^", "**") and bp == rbp):
                    break
                self.take()
                right = self.expr(bp - 1 if t.text in ("^", "**") else bp)  # powers are right-assoc
                left = ("bin", "^" if t.text == "**" else t.text, left, right)
            elif t.kind in ("num", "name") or t.text in ("(",):
                # implicit multiplication: 2x, 2(x+1), 3sqrt(e), (a)(b)
                if 20 <= rbp:
                    break
                before = self.toks[self.i - 1]
                if t.kind == "num" and before.kind == "num":
                    # `27 847 680` is one number with its digits grouped, not 27*847*680
                    pair = self.text[before.pos : t.pos + len(t.text)]
                    raise err(
                        f"两个数并排（{pair}）：一个数中间不要有空格；相乘请写 *",
                        f"two numbers side by side ({pair}): write one number without spaces, or * to multiply",
                        t.pos,
                    )
                right = self.expr(20)
                left = ("bin", "*", left, right)
            else:
                break
        self.depth -= 1
        return left

    def prefix(self):  # type: ignore[no-untyped-def]
        t = self.take()
        if t.kind == "num":
            return ("num", to_fraction(t.text))
        if t.kind == "name":
            nxt = self.peek()
            if t.text in FUNCS and nxt is not None and nxt.text == "(":
                self.take()
                args = [self.expr()]
                while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.take()
                    args.append(self.expr())
                self.expect(")")
                return ("call", t.text, args, t.pos)
            if t.text in _PREFIX_CALLS and nxt is not None and nxt.text in ("^", "**"):
                return self.function_power(t)
            if t.text in _PREFIX_CALLS and nxt is not None and nxt.kind in ("num", "name"):
                return ("call", t.text, [self.expr(25)], t.pos)  # ln 5, sqrt 2
            return ("name", t.text, t.pos)
        if t.text == "-":
            return ("neg", self.expr(25))
        if t.text == "+":
            return self.expr(25)
        if t.text == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        raise err(f"这里不应出现 {t.text!r}", f"unexpected {t.text!r}", t.pos)

    def function_power(self, t: Tok):  # type: ignore[no-untyped-def]
        """tanh^2(x), tanh²(x), sin^2 x: the power of the function's value, (tanh(x))^2."""
        self.take()
        power = self.prefix()
        if power[0] != "num":  # sin^-1(x) is arcsin to some, 1/sin(x) to others
            raise err(
                f"{t.text}^ 后面只能是正整数；倒数请写 1/{t.text}(x)",
                f"only a whole number may follow {t.text}^; write the reciprocal as 1/{t.text}(x)",
                t.pos,
            )
        nxt = self.peek()
        if nxt is None or not (nxt.text == "(" or nxt.kind in ("num", "name")):
            raise err(f"函数 {t.text} 后面要有括号", f"the function {t.text} needs brackets", t.pos)
        return ("bin", "^", ("call", t.text, [self.expr(25)], t.pos), power)


def parse_expression(text: str):  # type: ignore[no-untyped-def]
    try:
        return _parse_expression(text)
    except AnswerError as e:
        if e.text is None:
            e.text = text
        raise


def _parse_expression(text: str):  # type: ignore[no-untyped-def]
    toks = tokenize(text)
    if not toks:
        raise err("答案为空", "the answer is empty", 0)
    p = Parser(toks, text)
    node = p.expr()
    t = p.peek()
    if t is not None:
        if t.text == ",":
            raise _comma_in_a_value(t.pos)
        raise err(f"这里不应出现 {t.text!r}", f"unexpected {t.text!r}", t.pos)
    return node


def _comma_in_a_value(pos: int) -> AnswerError:
    return err(
        "这里只要一个数；逗号用于分隔列表元素（小数请用 “.”）",
        "a single value is asked; ',' separates list entries (write decimals with '.')",
        pos,
    )
