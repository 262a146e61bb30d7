"""The family framework: what every problem family declares, and how an instance is made and graded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from grader import AnswerSpec, Verdict, grade, limits, matches, reading_once
from grader.feedback import say

Text = dict[str, str]  # {"zh": ..., "en": ...}
LANGS = ("zh", "en")


def bi(zh: str, en: str) -> Text:
    """Return a bilingual text."""
    return {"zh": zh, "en": en}


class Params(BaseModel):
    """Base of every family's params model: strict, immutable, JSON-schema exportable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)


class BankItem(Protocol):
    """A question kept as data (problems/data): what an exam's tag item filters it by."""

    @property
    def chapter(self) -> str: ...

    @property
    def difficulty(self) -> int: ...


@dataclass(frozen=True)
class Part:
    """One answer box of an instance."""

    name: str
    spec: AnswerSpec
    label: Text
    hint: Text | None = None  # the expected form, e.g. "[C, H, W]" or "an expression in x"

    @property
    def answer_type(self) -> str:
        return self.spec.answer_type


@dataclass(frozen=True)
class Misconception(Generic[P]):
    """A named wrong way to solve the family; its answers get targeted feedback."""

    id: str
    feedback: Text
    solve: Callable[[P], Mapping[str, str]]  # params -> answers (only the parts it changes)


class Family(Generic[P]):
    """A parameterized problem family. Subclass it in one module and decorate with @register."""

    id: ClassVar[str]
    version: ClassVar[int] = 1
    # The oldest version whose params pose this version's instance (statement, parts, answers):
    # lower than `version` when only `generate` changed (what a seed draws), so instances stored
    # with their params still rebuild exactly. None: this version only.
    same_params_since: ClassVar[int | None] = None
    title: ClassVar[Text]
    difficulty: ClassVar[int]  # 1..3
    tags: ClassVar[tuple[str, ...]]  # first tag is the chapter (see problems.syllabus)
    Params: ClassVar[type[Params]]
    # Params that hold the answer itself (a TA's own question's reference): never shown with the
    # instance (GET/POST /instances), only with its solution.
    answer_params: ClassVar[tuple[str, ...]] = ()

    def generate(self, rng: np.random.Generator) -> P:
        """Return sensible random params (clean numbers, integer sizes, no ties)."""
        raise NotImplementedError

    def parts(self, p: P) -> list[Part]:
        """Return the answer parts of an instance."""
        raise NotImplementedError

    def solve(self, p: P) -> dict[str, str]:
        """Return every part's reference answer as canonical text in the student syntax."""
        raise NotImplementedError

    def statement(self, p: P) -> Text:
        """Return the question (Markdown with $LaTeX$ math) in zh and en."""
        raise NotImplementedError

    def solution(self, p: P) -> dict[str, list[str]]:
        """Return the worked steps (Markdown with $LaTeX$) in zh and en, with the instance's numbers."""
        raise NotImplementedError

    def misconceptions(self) -> Sequence[Misconception[P]]:
        """Return the known wrong ways to solve this family."""
        return ()

    def bank_items(self) -> Mapping[str, BankItem]:
        """Return the bank items this family poses (its `item` param) by id; empty when it poses none."""
        return {}

    def generate_among(self, rng: np.random.Generator, items: tuple[str, ...]) -> P:
        """Return params posing one of these bank items, drawn as `generate` draws from the whole bank."""
        raise NotImplementedError

    def form(self, p: P) -> Hashable:
        """Return what every variant of an exam question shares when the exam asks for one form: the
        structure and amount of work (which rule, how many steps, what sizes), not the numbers.
        Override where `standard_form` counts what costs no work or misses what does."""
        return standard_form(self, p)

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> P | None:
        """Return params of this form drawn directly, or None when none turned up within a bounded
        number of tries (a form too rare to find). Not implemented by default: the exam then draws
        seeds until one poses the form, one seed in about as many as the family has forms; a family
        of dozens of forms implements it."""
        raise NotImplementedError

    def item_chapter(self, item: str) -> str | None:
        """Return the chapter of the bank item an instance poses (its `item` param); None when the
        family poses no items, or no longer has this one: its questions are in the family's chapter."""
        found = self.bank_items().get(item)
        return found.chapter if found else None

    def rubric_points(self, p: P) -> int | None:
        """Return the points a TA's rubric awards in all (a question graded by hand), None if it has none."""
        return None

    def grade_part(self, p: P, part: Part, answer: str, reference: str, lang: str) -> Verdict:
        """Judge one part; override for parts graded by checking constraints."""
        return grade(answer, reference, part.spec, lang=lang)

    def example(self) -> P:
        """Return a typical instance's params (used to list the parts of the family)."""
        return self.generate(np.random.default_rng(0))

    def part_list(self) -> list[dict[str, str]]:
        """List the parts of a typical instance, for the problem catalogue."""
        return [{"name": q.name, "answer_type": q.answer_type} for q in self.parts(self.example())]


# --- forms -----------------------------------------------------------------------------

# How many draws a family's generate_in_form makes before giving up: enough for a form of one draw in
# a few hundred; a rarer one is given up (the exam warns) rather than holding up an exam's build.
DRAWS_IN_FORM = 1000


def first_drawn(draw: Callable[[], P | None], tries: int = DRAWS_IN_FORM) -> P | None:
    """The first draw that is not None, or None after `tries` draws: a bounded `while True`."""
    for _ in range(tries):
        p = draw()
        if p is not None:
            return p
    return None


def standard_form(family: Family[Any], p: Params) -> Hashable:
    """The form of an instance as the bank's conventions tell it without knowing the family: each
    part with its answer type and the shape of its reference answer, and each param as a kind
    (words and flags as they are, arrays by their shape, a number as a number, None as None)."""
    answers = family.solve(p)
    parts = tuple((q.name, q.answer_type, text_dims(answers.get(q.name, ""))) for q in family.parts(p))
    params = tuple((name, _param_kind(v)) for name, v in sorted(p.model_dump(mode="json").items()))
    return parts, params


def _param_kind(v: Any) -> Hashable:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, list):
        return ("array", _dims(v))
    if isinstance(v, dict):
        return tuple((k, _param_kind(x)) for k, x in sorted(v.items()))
    return "number"


def _dims(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list):
        return ()
    return (len(v), *_dims(v[0])) if v else (0,)


def text_dims(text: str) -> tuple[int, ...]:
    """The shape of an array written in the canonical syntax (`[[1, 2], [3, 4]]` is (2, 2)); () for
    anything else. Counted on the text, without reading the numbers: forms are compared on many
    draws. Commas inside parentheses (`max(a, b)`) separate nothing."""
    text = text.strip()
    if not text.startswith("["):
        return ()
    depth = paren = 0
    count, first_end = 1, 0
    for i, ch in enumerate(text):
        if ch == "(":
            paren += 1
        elif ch == ")":
            paren -= 1
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                first_end = first_end or i
                break
        elif ch == "," and depth == 1 and paren == 0:
            count += 1
            first_end = first_end or i
    first = text[1:first_end].strip()
    return (count, *text_dims(first)) if first else (0,)


# --- instances -------------------------------------------------------------------------


class ProblemError(Exception):
    """Base of the errors a caller can cause by naming a problem or params."""


class UnknownProblem(ProblemError):
    def __init__(self, problem_id: str) -> None:
        super().__init__(f"unknown problem id {problem_id!r}")
        self.problem_id = problem_id


class InvalidParams(ProblemError):
    """Params that fail validation; `errors` are pydantic-style dicts with `loc` and `msg`."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'params'}: {e['msg']}" for e in errors)
        super().__init__(msg)
        self.errors = errors


@dataclass(frozen=True)
class Instance:
    """One posed question: a family, its version, the seed or params, and everything derived."""

    family: Family[Any]
    seed: int | None
    p: Params
    parts: list[Part]
    answers: dict[str, str]
    statement: Text

    @property
    def problem(self) -> str:
        return self.family.id

    @property
    def version(self) -> int:
        return self.family.version

    @property
    def params(self) -> dict[str, Any]:
        return self.p.model_dump(mode="json")

    def part(self, name: str) -> Part | None:
        return next((q for q in self.parts if q.name == name), None)

    def solution(self) -> dict[str, list[str]]:
        return self.family.solution(self.p)

    @cached_property
    def wrong_ways(self) -> list[tuple[Misconception[Any], Mapping[str, str]]]:
        """Each misconception with the answers it gives here: solved once per instance, which the
        service keeps cached, instead of once per wrong answer checked."""
        return [(m, m.solve(self.p)) for m in self.family.misconceptions()]


@dataclass(frozen=True)
class PartResult:
    correct: bool
    score: float
    feedback: str
    interpreted: str | None
    misconception: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class GradeResult:
    score: float
    parts: dict[str, PartResult] = field(default_factory=dict)


def family_rng(problem_id: str, seed: int) -> np.random.Generator:
    """Return the generator for (family, seed): stable across machines, distinct across families."""
    salt = int.from_bytes(hashlib.sha256(problem_id.encode()).digest()[:8], "little")
    return np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, salt])


def validate_params(family: Family[Any], params: Mapping[str, Any] | Params) -> Params:
    """Validate explicit params; raise InvalidParams naming the field."""
    from pydantic import ValidationError

    if isinstance(params, family.Params):
        return params
    try:
        return family.Params.model_validate(params)
    except ValidationError as exc:
        errors = [
            _located(family, {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]})
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise InvalidParams(errors) from None


def _located(family: Family[Any], error: dict[str, Any]) -> dict[str, Any]:
    """A check across fields has no loc in pydantic; its message starts with the field it blames.

    Families write those messages as "field: what is wrong" (a convention the params tests hold),
    so the field becomes the loc, and a form or an API client can point at it.
    """
    if error["loc"]:
        return error
    msg = error["msg"].removeprefix("Value error, ")
    name, sep, _ = msg.partition(":")
    head = name.split("[")[0].split(".")[0].strip()
    if sep and head in family.Params.model_fields:
        return {**error, "loc": [head], "msg": msg}
    return {**error, "msg": msg}


def build_instance(family: Family[Any], *, seed: int | None, p: Params) -> Instance:
    """Derive parts, answers and statement of an instance from its params."""
    return Instance(
        family=family,
        seed=seed,
        p=p,
        parts=family.parts(p),
        answers=family.solve(p),
        statement=family.statement(p),
    )


def grade_answers(instance: Instance, answers: Mapping[str, str], lang: str = "en") -> GradeResult:
    """Grade every part; a part left out scores 0; a matched misconception adds its feedback."""
    results: dict[str, PartResult] = {}
    fam, p = instance.family, instance.p
    for part in instance.parts:
        text = answers.get(part.name)
        if text is None or not str(text).strip():
            results[part.name] = PartResult(
                False, 0.0, _LEFT_BLANK[lang if lang in _LEFT_BLANK else "en"], None, reason="blank"
            )
            continue
        ref = instance.answers.get(part.name)
        with reading_once():  # what was typed is read once, for the reference and each wrong way
            if ref is None:  # a manually graded part (text)
                v = grade(str(text), "", part.spec, lang=lang)
            else:
                try:
                    v = fam.grade_part(p, part, str(text), ref, lang)
                except limits.OutOfTime:  # a family's own grading ran past the check's shared deadline
                    v = Verdict(False, 0.0, say("timeout", lang), None, "timeout")
            matched = None
            feedback = v.feedback
            # "precision": the answer is the reference rounded to the figures typed, so it is no
            # evidence of a wrong way that rounds the same (-2.8 for -2.80328, ε inside the root
            # giving -2.80028): a misconception is claimed only where the answer tells them apart.
            if not v.correct and ref is not None and v.reason not in ("parse_error", "timeout", "precision"):
                for m, alt in instance.wrong_ways:
                    alt_ref = alt.get(part.name)
                    if alt_ref is None or alt_ref == ref:
                        continue
                    if matches(str(text), alt_ref, part.spec):
                        matched = m.id
                        feedback = _with_misconception(v, m.feedback.get(lang, m.feedback["en"]), lang)
                        break
        results[part.name] = PartResult(v.correct, v.score, feedback, v.interpreted, matched, v.reason)
    total = sum(r.score for r in results.values()) / len(results) if results else 0.0
    return GradeResult(score=total, parts=results)


_LEFT_BLANK = {"zh": "未作答。", "en": "No answer given."}

# The grader's generic words that a matched misconception says better: the page already shows
# "✗ wrong", and "the sign is wrong" before "you reversed the sign because ..." says it twice.
_SAID_BY_MISCONCEPTION = ("sign", "factor", "log_base")


def _with_misconception(v: Verdict, explanation: str, lang: str) -> str:
    """The misconception's explanation; where the grader located the error (entries, dimensions), that first."""
    if v.reason in _SAID_BY_MISCONCEPTION or v.feedback.strip() in (
        "",
        say("wrong", lang),
        say("not_equivalent", lang),
    ):
        return explanation
    return f"{v.feedback} {explanation}".strip()
