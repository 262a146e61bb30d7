"""Bodies of the attempt endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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

    score: float = Field(ge=0, le=1)
    comment: str = Field(default="", max_length=5000)
