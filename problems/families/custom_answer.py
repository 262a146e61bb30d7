"""custom.answer: a TA's own question and reference answer, graded by the grader library (api-contract.md)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from grader import AnswerSpec, grade, read
from problems.base import Family, Params, Part, bi
from problems.fmt import num, shape, vec
from problems.registry import register

AnswerType = Literal["integer", "real", "vector", "matrix", "shape", "expression", "choice", "text"]
TOLERANT_TYPES = ("real", "vector", "matrix", "expression")  # the types that rtol/atol/sigfigs apply to
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_STATEMENT = 5000
MAX_REFERENCE = 2000


class BilingualStatement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1, max_length=MAX_STATEMENT)
    en: str = Field(min_length=1, max_length=MAX_STATEMENT)

    @field_validator("zh", "en")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("must not be blank")
        return text


class CustomAnswerParams(Params):
    answer_type: AnswerType
    # Extensions of the catalogue's params (optional): the names an expression may use, the option keys of
    # a choice. Declared before `reference` so that its validator can read the reference with them.
    symbols: (
        Annotated[
            list[Annotated[str, Field(pattern=f"^{NAME.pattern}$", max_length=20)]], Field(max_length=10)
        ]
        | None
    ) = Field(default=None, description="expression answers: the allowed symbol names")
    choices: (
        Annotated[list[Annotated[str, Field(pattern="^[A-Z]$")]], Field(min_length=2, max_length=10)] | None
    ) = Field(
        default=None,
        description='choice answers: one capital letter per option, e.g. ["A", "B", "C", "D"] or ["T", "F"]',
    )
    reference: str = Field(
        min_length=1, max_length=MAX_REFERENCE, description="reference answer in the student syntax"
    )
    rtol: float | None = Field(default=None, gt=0, le=1)
    atol: float | None = Field(default=None, ge=0, le=1e12)
    sigfigs: int | None = Field(default=None, ge=1, le=12)
    statement: BilingualStatement

    @field_validator("reference")
    @classmethod
    def _gradable(cls, reference: str, info: ValidationInfo) -> str:
        if not reference.strip():
            raise ValueError("must not be blank")
        kind = info.data.get("answer_type")
        if kind is None or kind == "text" or (kind == "expression" and "symbols" not in info.data):
            return reference  # an earlier field failed, or a text answer (an outline for the TA)
        # The reference must read, and score full marks against itself: otherwise no answer could.
        spec = _spec(kind, info.data.get("symbols"), info.data.get("choices"), reference)
        verdict = grade(reference, reference, spec)
        if not verdict.correct:
            raise ValueError(f"cannot be read as {kind}: {verdict.feedback}")
        if kind == "vector" and any(isinstance(v, list) for v in read(reference, spec).value):
            # a row or a column reads as the vector; a table does not
            raise ValueError(
                "a vector is one row or column of numbers, e.g. [1, 2, 3]; a table of them is a matrix"
            )
        return reference

    @model_validator(mode="after")
    def _check(self) -> CustomAnswerParams:
        for name in ("rtol", "atol", "sigfigs"):
            if getattr(self, name) is not None and self.answer_type not in TOLERANT_TYPES:
                raise ValueError(f"{name}: a tolerance applies only to {', '.join(TOLERANT_TYPES)} answers")
        if self.sigfigs is not None and self.rtol is not None:
            raise ValueError("sigfigs: give either sigfigs or rtol, not both")
        if self.symbols is not None and self.answer_type != "expression":
            raise ValueError("symbols: only for expression answers")
        if self.choices is not None and self.answer_type != "choice":
            raise ValueError("choices: only for choice answers")
        return self


def _symbols(symbols: list[str] | None, reference: str) -> tuple[str, ...]:
    """The symbols of an expression: as given, else the names in the reference that are not function calls."""
    if symbols is not None:
        return tuple(symbols)
    names = {m.group() for m in NAME.finditer(reference) if not reference[m.end() :].lstrip().startswith("(")}
    return tuple(sorted(names - {"e", "pi"}))


def _spec(
    kind: str, symbols: list[str] | None, choices: list[str] | None, reference: str, **tolerance: object
) -> AnswerSpec:
    return AnswerSpec(
        kind,  # type: ignore[arg-type]  # one of AnswerType, checked by the params model
        symbols=_symbols(symbols, reference) if kind == "expression" else (),
        choices=tuple(choices) if choices else (("A", "B", "C", "D") if kind == "choice" else ()),
        **tolerance,  # type: ignore[arg-type]
    )


def _statement(zh: str, en: str) -> BilingualStatement:
    return BilingualStatement(zh=zh, en=en)


# --- sample questions for generate(): genuine course questions with their computed references -------------


def _linear_params(rng: np.random.Generator) -> CustomAnswerParams:
    n, m = int(rng.choice([64, 128, 256, 784])), int(rng.choice([10, 32, 100, 128]))
    return CustomAnswerParams(
        answer_type="integer",
        reference=str(n * m + m),
        statement=_statement(
            f"全连接层 `nn.Linear({n}, {m})`（带偏置）有多少个可学习参数？",
            f"How many learnable parameters does the fully connected layer `nn.Linear({n}, {m})` (with bias) have?",
        ),
    )


def _sigmoid_value(rng: np.random.Generator) -> CustomAnswerParams:
    x = float(rng.choice([-2.0, -1.5, -0.5, 0.5, 1.0, 1.5, 2.5]))
    return CustomAnswerParams(
        answer_type="real",
        reference=f"1/(1+exp({-x}))",
        sigfigs=3,
        statement=_statement(
            f"计算 $\\sigma({num(x)})$，其中 $\\sigma(x) = \\frac{{1}}{{1+e^{{-x}}}}$，保留 3 位有效数字。",
            f"Compute $\\sigma({num(x)})$ where $\\sigma(x) = \\frac{{1}}{{1+e^{{-x}}}}$, to 3 significant figures.",
        ),
    )


def _softmax_vector(rng: np.random.Generator) -> CustomAnswerParams:
    z = rng.choice([-1, 0, 1, 2, 3], size=3, replace=False).astype(float)
    probs = np.exp(z) / np.exp(z).sum()
    return CustomAnswerParams(
        answer_type="vector",
        reference=vec(probs.tolist()),
        rtol=0.01,
        statement=_statement(
            f"求 $\\mathrm{{softmax}}({', '.join(num(x) for x in z)})$（结果为向量，相对误差 1% 以内即可）。",
            f"Find $\\mathrm{{softmax}}({', '.join(num(x) for x in z)})$ (a vector; within 1% is fine).",
        ),
    )


def _power_derivative(rng: np.random.Generator) -> CustomAnswerParams:
    a, n = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    return CustomAnswerParams(
        answer_type="expression",
        symbols=["x"],
        reference=f"{a * n}*x^{n - 1}",
        statement=_statement(
            f"求 $f(x) = {a}x^{{{n}}}$ 的导数 $f'(x)$（用 x 表示）。",
            f"Find the derivative $f'(x)$ of $f(x) = {a}x^{{{n}}}$ (in x).",
        ),
    )


def _pool_shape(rng: np.random.Generator) -> CustomAnswerParams:
    c, h = int(rng.choice([3, 16, 32, 64])), 2 * int(rng.integers(7, 33))
    return CustomAnswerParams(
        answer_type="shape",
        reference=shape([c, h // 2, h // 2]),
        statement=_statement(
            f"输入形状为 $[{c}, {h}, {h}]$（$[C, H, W]$），经过 `nn.MaxPool2d(2)` 后输出形状是什么？",
            f"An input of shape $[{c}, {h}, {h}]$ ($[C, H, W]$) goes through `nn.MaxPool2d(2)`. What is the output shape?",
        ),
    )


def _scaling_outline(rng: np.random.Generator) -> CustomAnswerParams:
    d = int(rng.choice([16, 64, 512]))
    return CustomAnswerParams(
        answer_type="text",
        reference=(
            f"q·k 的方差约为 d = {d}，分数过大使 softmax 饱和、梯度很小；除以 sqrt(d) 使方差回到 1。 / "
            f"q·k has variance about d = {d}; large scores saturate the softmax and its gradients vanish; "
            f"dividing by sqrt(d) brings the variance back to 1."
        ),
        statement=_statement(
            f"在 $d = {d}$ 的缩放点积注意力中，为什么要把 $q \\cdot k$ 除以 $\\sqrt{{d}}$？（简答，由助教评分）",
            f"In scaled dot-product attention with $d = {d}$, why is $q \\cdot k$ divided by $\\sqrt{{d}}$? "
            f"(short answer, graded by a TA)",
        ),
    )


def _activation_choice(rng: np.random.Generator) -> CustomAnswerParams:
    names = ["ReLU", "sigmoid", "tanh", "Leaky ReLU"]
    order = [int(i) for i in rng.permutation(len(names))]
    options = {key: names[i] for key, i in zip("ABCD", order, strict=True)}
    answer = next(key for key, name in options.items() if name == "sigmoid")
    listed = "; ".join(f"{key}. {name}" for key, name in options.items())
    return CustomAnswerParams(
        answer_type="choice",
        reference=answer,
        statement=_statement(
            f"下列激活函数中，哪一个的输出恒为正、不以 0 为中心，且在两端饱和？{listed}",
            f"Which of these activations has outputs that are always positive, not zero-centred, and saturating at "
            f"both ends? {listed}",
        ),
    )


SAMPLES = (
    _activation_choice,
    _linear_params,
    _sigmoid_value,
    _softmax_vector,
    _power_derivative,
    _pool_shape,
    _scaling_outline,
)


@register
class CustomAnswer(Family[CustomAnswerParams]):
    id = "custom.answer"
    version = 1
    title = bi("自定义题目", "Custom question")
    difficulty = 1
    tags = ("ml_basics", "custom")  # a chapter tag is required; a TA's question belongs to no chapter
    Params = CustomAnswerParams
    answer_params = ("reference",)

    def generate(self, rng: np.random.Generator) -> CustomAnswerParams:
        return SAMPLES[int(rng.integers(len(SAMPLES)))](rng)

    def parts(self, p: CustomAnswerParams) -> list[Part]:
        tolerance = {"rtol": p.rtol, "atol": p.atol, "sigfigs": p.sigfigs}
        spec = _spec(p.answer_type, p.symbols, p.choices, p.reference, **tolerance)
        hints = {
            "integer": bi("一个整数", "an integer"),
            "real": bi("一个数", "a number"),
            "vector": bi("向量，如 [1, 2, 3]", "a vector, e.g. [1, 2, 3]"),
            "matrix": bi("矩阵，按行写，如 [[1, 2], [3, 4]]", "a matrix by rows, e.g. [[1, 2], [3, 4]]"),
            "shape": bi("形状，如 [32, 222, 222]", "a shape, e.g. [32, 222, 222]"),
            "expression": bi(
                f"关于 {', '.join(spec.symbols) or '常数'} 的表达式",
                f"an expression in {', '.join(spec.symbols) or 'constants'}",
            ),
            "choice": bi(f"选项：{' / '.join(spec.choices)}", f"one of {' / '.join(spec.choices)}"),
            "text": bi("文字回答，由助教评分", "a written answer, graded by a TA"),
        }
        return [Part("answer", spec, bi("答案", "answer"), hints[p.answer_type])]

    def solve(self, p: CustomAnswerParams) -> dict[str, str]:
        # A text answer is graded by hand: no reference here, so grade_answers asks the grader for the
        # manual verdict; the outline is shown to the TA in the worked solution.
        return {} if p.answer_type == "text" else {"answer": p.reference}

    def statement(self, p: CustomAnswerParams) -> dict[str, str]:
        return bi(p.statement.zh, p.statement.en)

    def solution(self, p: CustomAnswerParams) -> dict[str, list[str]]:
        if p.answer_type == "text":
            return {
                "zh": [f"参考要点（由助教评分）：{p.reference}"],
                "en": [f"Outline for the TA: {p.reference}"],
            }
        return {"zh": [f"参考答案：`{p.reference}`"], "en": [f"Reference answer: `{p.reference}`"]}
