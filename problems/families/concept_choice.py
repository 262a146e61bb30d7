"""concept.choice: a single-choice, multiple-choice or true/false item of the concept bank.

The items live in problems/data/concept_choice.yaml (docs/concept-bank.md); this module poses
one of them with its options shuffled and lettered A, B, C, ... in the shown order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping

import numpy as np
from pydantic import Field, field_validator, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, Text, bi
from problems.concepts import (
    CHOICE_FILE,
    LETTERS,
    ChoiceItem,
    choice_ids,
    choice_items,
    get_choice_item,
    pick_item,
    unknown_item_message,
)
from problems.registry import register
from problems.syllabus import CHAPTERS

TRUE_FALSE = ("T", "F")


class ConceptChoiceParams(Params):
    item: str = Field(
        min_length=1,
        max_length=80,
        description="id of an item of problems/data/concept_choice.yaml, e.g. cnn.weight_sharing.1",
        json_schema_extra=lambda schema: schema.update(enum=list(choice_ids())),
    )
    option_order: list[int] | None = Field(
        default=None,
        max_length=6,
        description="the options in the order shown (0-based indices into the item's options); "
        "omitted: the bank's order; must be omitted for a true/false item",
    )

    @field_validator("item")
    @classmethod
    def _known_item(cls, item_id: str) -> str:
        if item_id not in choice_items():
            raise ValueError(unknown_item_message(item_id, choice_ids(), CHOICE_FILE))
        return item_id

    @model_validator(mode="after")
    def _order_is_a_permutation(self) -> ConceptChoiceParams:
        if self.option_order is None:
            return self
        n = len(get_choice_item(self.item).options)
        if n == 0:
            raise ValueError("option_order: a true/false item has no options to order; omit it")
        if sorted(self.option_order) != list(range(n)):
            raise ValueError(
                f"option_order: must be a permutation of 0..{n - 1} (item {self.item!r} has {n} {plural(n, 'option', 'options')})"
            )
        return self


def shown_order(p: ConceptChoiceParams) -> list[int]:
    """Return the item's option indices in the order shown (identity when not given)."""
    n = len(get_choice_item(p.item).options)
    return list(p.option_order) if p.option_order is not None else list(range(n))


def letter_of(p: ConceptChoiceParams, option: int) -> str:
    """Return the letter under which an option (0-based index in the bank) is shown."""
    return LETTERS[shown_order(p).index(option)]


def reference_letters(p: ConceptChoiceParams) -> str:
    """Return the correct answer as the student writes it: "B", "AC" (sorted) or "T"/"F"."""
    item = get_choice_item(p.item)
    if item.kind == "true_false":
        return "T" if item.answer else "F"
    return "".join(sorted(letter_of(p, i) for i in item.correct))


_KIND_TITLE = {
    "single": bi("单选题", "Single choice"),
    "multi": bi("多选题", "Multiple choice"),
    "true_false": bi("判断题", "True or false"),
}
_KIND_ASK = {
    "single": bi(
        "请填写正确选项的字母（只有一个正确选项）。",
        "Give the letter of the correct option (exactly one is correct).",
    ),
    "multi": bi(
        "请填写所有正确选项的字母（至少一个），如 `AC`。",
        "Give the letters of all correct options (at least one), e.g. `AC`.",
    ),
    "true_false": bi("正确填 `T`，错误填 `F`。", "Answer `T` if the statement is true, `F` if it is false."),
}
_VERDICT = {"zh": {True: "（正确）", False: "（错误）"}, "en": {True: " (true)", False: " (false)"}}
_SAYS = {
    "answer": {"zh": "答案：{}", "en": "Answer: {}"},
    "wrong": {"zh": "为什么不选 {}：{}", "en": "Why not {}: {}"},
}
_HINT = {
    "single": bi("一个字母，如 B", "one letter, e.g. B"),
    "multi": bi("所有正确选项的字母，如 AC", "the letters of all correct options, e.g. AC"),
    "true_false": bi("T（正确）或 F（错误）", "T (true) or F (false)"),
}


@register
class ConceptChoice(Family[ConceptChoiceParams]):
    id = "concept.choice"
    version = 1
    title = bi("概念选择题与判断题", "Concept questions: multiple choice and true/false")
    difficulty = 1
    tags = ("ml_basics", "concept", "choice")
    Params = ConceptChoiceParams

    def generate(self, rng: np.random.Generator) -> ConceptChoiceParams:
        return self.generate_among(rng, choice_ids())

    def generate_among(self, rng: np.random.Generator, items: tuple[str, ...]) -> ConceptChoiceParams:
        item_id = pick_item(items, int(rng.integers(0, 2**63 - 1)))
        n = len(get_choice_item(item_id).options)
        order = [int(i) for i in rng.permutation(n)] if n else None  # true/false: not shuffled
        return ConceptChoiceParams(item=item_id, option_order=order)

    def form(self, p: ConceptChoiceParams) -> Hashable:
        # The kind (true/false, one answer, several) and the item's own difficulty; the item itself
        # is what differs between variants.
        item = get_choice_item(p.item)
        return item.kind, item.difficulty

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> ConceptChoiceParams | None:
        items = choice_items()
        alike = tuple(i for i in choice_ids() if (items[i].kind, items[i].difficulty) == form)
        return self.generate_among(rng, alike) if alike else None

    def parts(self, p: ConceptChoiceParams) -> list[Part]:
        item = get_choice_item(p.item)
        choices = TRUE_FALSE if item.kind == "true_false" else tuple(LETTERS[: len(item.options)])
        return [Part("choice", AnswerSpec("choice", choices=choices), bi("答案", "answer"), _HINT[item.kind])]

    def solve(self, p: ConceptChoiceParams) -> dict[str, str]:
        return {"choice": reference_letters(p)}

    def statement(self, p: ConceptChoiceParams) -> Text:
        item = get_choice_item(p.item)
        chapter = CHAPTERS[item.chapter]
        out = {}
        for lang in ("zh", "en"):
            lines = [
                f"**{_KIND_TITLE[item.kind][lang]}** · {chapter[lang]}",
                "",
                getattr(item.stem, lang),
                "",
            ]
            for pos, i in enumerate(shown_order(p)):
                lines.append(f"- **{LETTERS[pos]}.** {getattr(item.options[i], lang)}")
            if item.options:
                lines.append("")
            lines.append(_KIND_ASK[item.kind][lang])
            out[lang] = "\n".join(lines)
        return out

    def solution(self, p: ConceptChoiceParams) -> dict[str, list[str]]:
        item = get_choice_item(p.item)
        answer = reference_letters(p)
        in_order = sorted(range(len(item.options)), key=lambda i: letter_of(p, i))
        steps: dict[str, list[str]] = {}
        for lang in ("zh", "en"):
            if item.kind == "true_false":
                verdict = _VERDICT[lang][bool(item.answer)]
                lines = [_SAYS["answer"][lang].format(f"**{answer}**{verdict}")]
            else:
                lines = [_SAYS["answer"][lang].format(f"**{answer}**")]
                lines += [
                    f"**{letter_of(p, i)}.** {getattr(item.options[i], lang)}"
                    for i in in_order
                    if i in item.correct
                ]
            lines.append(getattr(item.explanation, lang))
            for i in in_order:
                why = item.options[i].why_wrong
                if why is not None:
                    lines.append(_SAYS["wrong"][lang].format(letter_of(p, i), getattr(why, lang)))
            steps[lang] = lines
        return steps

    def misconceptions(self) -> list[Misconception[ConceptChoiceParams]]:
        return list(_distractor_misconceptions())

    def bank_items(self) -> Mapping[str, ChoiceItem]:
        return choice_items()


@functools.cache
def _distractor_misconceptions() -> tuple[Misconception[ConceptChoiceParams], ...]:
    """One misconception per distractor that says why it is wrong; it answers only for its own item."""
    out = []
    for item in choice_items().values():
        for i, option in enumerate(item.options):
            if option.why_wrong is not None:
                out.append(Misconception(f"{item.id}.option{i}", option.why_wrong.text(), _picks(item.id, i)))
    return tuple(out)


def _picks(item_id: str, option: int) -> Callable[[ConceptChoiceParams], dict[str, str]]:
    def solve(p: ConceptChoiceParams) -> dict[str, str]:
        return {"choice": letter_of(p, option)} if p.item == item_id else {}

    return solve
