"""concept.short_answer: an open question of the concept bank, graded by a TA against a rubric.

The items live in problems/data/concept_short_answer.yaml (docs/concept-bank.md). There is no
automatic reference: `solve` returns nothing, so the grader marks the answer for manual grading,
and the solution shows the TA the outline of a good answer and the rubric.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
from pydantic import Field, field_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Params, Part, Text, bi
from problems.concepts import (
    SHORT_ANSWER_FILE,
    ShortAnswerItem,
    get_short_answer_item,
    pick_item,
    short_answer_ids,
    short_answer_items,
    unknown_item_message,
)
from problems.registry import register
from problems.syllabus import CHAPTERS


class ConceptShortAnswerParams(Params):
    item: str = Field(
        min_length=1,
        max_length=80,
        description="id of an item of problems/data/concept_short_answer.yaml, e.g. rnn.lstm_gradients",
        json_schema_extra=lambda schema: schema.update(enum=list(short_answer_ids())),
    )

    @field_validator("item")
    @classmethod
    def _known_item(cls, item_id: str) -> str:
        if item_id not in short_answer_items():
            raise ValueError(unknown_item_message(item_id, short_answer_ids(), SHORT_ANSWER_FILE))
        return item_id


@register
class ConceptShortAnswer(Family[ConceptShortAnswerParams]):
    id = "concept.short_answer"
    version = 1
    title = bi("概念简答题（助教批改）", "Concept short-answer questions (graded by a TA)")
    difficulty = 2
    tags = ("ml_basics", "concept", "short_answer")
    Params = ConceptShortAnswerParams

    def generate(self, rng: np.random.Generator) -> ConceptShortAnswerParams:
        return self.generate_among(rng, short_answer_ids())

    def generate_among(self, rng: np.random.Generator, items: tuple[str, ...]) -> ConceptShortAnswerParams:
        return ConceptShortAnswerParams(item=pick_item(items, int(rng.integers(0, 2**63 - 1))))

    def form(self, p: ConceptShortAnswerParams) -> Hashable:
        # Every item is one text answer: the item's own difficulty is what tells two apart.
        return get_short_answer_item(p.item).difficulty

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> ConceptShortAnswerParams | None:
        items = short_answer_items()
        alike = tuple(i for i in short_answer_ids() if items[i].difficulty == form)
        return self.generate_among(rng, alike) if alike else None

    def parts(self, p: ConceptShortAnswerParams) -> list[Part]:
        return [
            Part(
                "answer",
                AnswerSpec("text"),
                bi("你的回答", "your answer"),
                bi(
                    "用几段话或分条作答；助教按评分标准批改",
                    "a few paragraphs or points; a TA grades it against a rubric",
                ),
            )
        ]

    def solve(self, p: ConceptShortAnswerParams) -> dict[str, str]:
        return {}  # graded by a TA: no automatic reference

    def bank_items(self) -> Mapping[str, ShortAnswerItem]:
        return short_answer_items()

    def rubric_points(self, p: ConceptShortAnswerParams) -> int:
        return get_short_answer_item(p.item).total_points

    def statement(self, p: ConceptShortAnswerParams) -> Text:
        item = get_short_answer_item(p.item)
        chapter = CHAPTERS[item.chapter]
        # No points here: on a paper the question's points are printed beside its number, and a
        # second figure from the rubric would contradict them. The rubric's weights are in the solution.
        return bi(
            f"**简答题** · {chapter['zh']}\n\n{item.question.zh}",
            f"**Short answer** · {chapter['en']}\n\n{item.question.en}",
        )

    def solution(self, p: ConceptShortAnswerParams) -> dict[str, list[str]]:
        item = get_short_answer_item(p.item)
        total = item.total_points
        steps: dict[str, list[str]] = {
            "zh": ["**参考要点**"],
            "en": ["**Key points of a good answer**"],
        }
        for n, point in enumerate(item.outline, start=1):
            steps["zh"].append(f"{n}. {point.zh}")
            steps["en"].append(f"{n}. {point.en}")
        steps["zh"].append(f"**评分标准**（共 {total} 分；试卷中按本题分值折算）")
        steps["en"].append(
            f"**Rubric** ({total} {plural(total, 'point', 'points')} in all; on a paper, scaled to the question's points)"
        )
        for line in item.rubric:
            steps["zh"].append(f"- {line.points} 分：{line.criterion.zh}")
            unit = "point" if line.points == 1 else "points"
            steps["en"].append(f"- {line.points} {unit}: {line.criterion.en}")
        return steps
