"""Bodies of the problem, instance and check endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Answers, AnswerText, Params, PartName, numbers_as_text

Lang = Literal["zh", "en"]


class Bilingual(BaseModel):
    zh: str
    en: str


class PartPublic(BaseModel):
    name: str
    answer_type: str


class ProblemPublic(BaseModel):
    id: str
    title: Bilingual  # plain text
    title_md: Bilingual  # Markdown with $LaTeX$, as statements
    tags: list[str]
    chapter: str
    difficulty: int
    version: int
    params_schema: dict[str, Any]
    parts: list[PartPublic]


class InstanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem: str = Field(min_length=1, max_length=64)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    params: Params | None = None

    @model_validator(mode="after")
    def _one_source(self) -> InstanceCreate:
        if (self.seed is None) == (self.params is None):
            raise ValueError("give exactly one of 'seed' or 'params'")
        return self


class InstancePublic(BaseModel):
    id: str
    problem: str
    version: int
    seed: int | None
    params: dict[str, Any]
    statement: Bilingual
    parts: list[PartPublic]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: Answers = Field(max_length=256)
    lang: Lang | None = None


class PartVerdict(BaseModel):
    correct: bool
    score: float
    feedback: str
    interpreted: str | None
    misconception: str | None = None


class CheckResponse(BaseModel):
    score: float
    parts: dict[str, PartVerdict]
    attempt_id: int | None = None


class SolutionPublic(BaseModel):
    answers: dict[str, str]
    steps: list[str]
    steps_by_lang: dict[str, list[str]]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part: PartName
    text: AnswerText
    lang: Lang | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and "text" in data:
            return {**data, "text": numbers_as_text(data["text"])}
        return data


class QuestionPreviewRequest(PreviewRequest):
    """A preview of an answer to a question of the caller's own homework or exam variant."""

    question: int = Field(ge=1, le=60)


class PreviewResponse(BaseModel):
    ok: bool
    interpreted: str | None = None
    html: str | None = None
    message: str | None = None
    position: int | None = None
    text: str | None = Field(
        default=None,
        description="the answer as read (x² as x^(2), full-width as ASCII): what position counts in",
    )
