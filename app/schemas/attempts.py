"""Bodies of the attempt endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Points, Share, one_grade


class AttemptPublic(BaseModel):
    id: int
    instance_id: str
    problem: str
    score: float
    answers: dict[str, Any]
    parts: dict[str, Any]
    created_at: str
    needs_manual: bool = False
    manual_score: float | None = None
    manual_comment: str | None = None
    user: str | None = None


class AttemptList(BaseModel):
    data: list[AttemptPublic]
    count: int


class ManualGrade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Share | None = None  # a share of the question, 0..1
    points: Points | None = None  # or points out of its rubric's total (1 for a question with none)
    comment: str = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _one_grade(self) -> ManualGrade:
        one_grade(self.score, self.points)
        return self
