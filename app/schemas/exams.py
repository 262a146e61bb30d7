"""Bodies of the exam endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.schemas.common import Answers, Params, PartName


class ExamItem(BaseModel):
    """A question by family (optionally with fixed params), or `count` families with a tag; a tag's
    `concepts` also draws the concept bank's items of that chapter, `auto_only` leaves out what a TA
    grades (short answers). Both off by default: a spec written before them builds the same exam.
    `same_form`: this item's own choice (ExamCreate.same_form); None: the exam's."""

    model_config = ConfigDict(extra="forbid")

    problem: str | None = Field(default=None, min_length=1, max_length=64)
    params: Params | None = None
    tag: str | None = Field(default=None, min_length=1, max_length=64)
    count: int = Field(default=1, ge=1, le=60)
    difficulty: tuple[int, int] | None = None
    concepts: bool = False
    auto_only: bool = False
    points: float = Field(default=1.0, gt=0, le=1000)
    same_form: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ExamItem:
        if (self.problem is None) == (self.tag is None):
            raise ValueError("give either 'problem' or 'tag'")
        if self.params is not None and self.problem is None:
            raise ValueError("'params' goes with 'problem'")
        if (self.concepts or self.auto_only) and self.tag is None:
            raise ValueError("'concepts' and 'auto_only' go with 'tag'")
        if self.difficulty is not None and not (1 <= self.difficulty[0] <= self.difficulty[1] <= 3):
            raise ValueError("difficulty: [low, high] within 1..3")
        return self


class ExamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    items: list[ExamItem] = Field(min_length=1, max_length=60)
    variants: int = Field(default=1, ge=1, le=500)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    lang: Literal["zh", "en", "both"] = "both"
    kind: Literal["paper", "homework", "exam"] = "paper"
    opens_at: datetime | None = None
    due_at: datetime | None = None
    time_limit_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    # Every variant asks each question in variant 1's form (the same sizes, rule, steps, kind of item)
    # with other numbers. Off by default: a spec written before it builds the same exam.
    same_form: bool = False

    @model_validator(mode="after")
    def _times(self) -> ExamCreate:
        # An exam's verdicts and solutions are shown when it is over for everyone: with no due time
        # that would be never (one student's time limit running out is not the end: the others sit it).
        if self.kind == "exam" and self.due_at is None:
            raise PydanticCustomError(
                "due_at_missing",
                "due_at: an online exam needs a due time; its verdicts and solutions are shown to "
                "everyone after it (在线考试需要截止时间：所有人截止后才公布成绩与解答)",
            )
        if self.opens_at is not None and self.due_at is not None and _utc(self.due_at) <= _utc(self.opens_at):
            raise PydanticCustomError(
                "due_before_open", "due_at: must be after opens_at (截止时间应晚于开放时间)"
            )
        return self


def _utc(moment: datetime) -> datetime:
    """A time with no zone is UTC, as the service stores it (comparing it with a zoned one was a 500)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class VariantRef(BaseModel):
    code: str


class ExamWarning(BaseModel):
    """A question some variants ask in another form than variant 1's (none was found in its form)."""

    question: int
    problem: str
    variants: list[str]  # their codes
    message: dict[str, str]  # {"zh", "en"}


class ExamPublic(BaseModel):
    id: str
    title: str
    lang: str
    kind: str
    variants: list[VariantRef]
    questions: int
    warnings: list[ExamWarning] = []


class ExamSummary(BaseModel):
    id: str
    title: str
    kind: str
    lang: str
    opens_at: datetime | None
    due_at: datetime | None
    time_limit_minutes: int | None
    created_at: datetime
    variants: int


class ExamList(BaseModel):
    data: list[ExamSummary]
    count: int  # all exams, not this page's


class SubmissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=16)
    answers: dict[PartName, Answers] = Field(max_length=60)
    lang: Literal["zh", "en"] | None = None  # the feedback's; None: the exam's language


class SubmissionResult(BaseModel):
    id: int
    student: str
    code: str
    score: float
    max_score: float
    late: bool
    pending_manual: bool
    items: list[dict[str, Any]]


class SubmissionSummary(BaseModel):
    """A stored submission as GET .../submissions lists it (the totals as SubmissionResult says them)."""

    id: int
    student: str
    display_name: str  # of the student's account; empty for a paper under a name no account has
    code: str
    score: float  # automatic verdicts and the hand grades given so far
    max_score: float
    late: bool
    pending_manual: bool  # a part graded by hand still waits for a TA
    submitted_at: datetime  # UTC; answered online: the first answer (later ones update it)


class SubmissionList(BaseModel):
    data: list[SubmissionSummary]
    count: int  # every student's counting submission (that match), not this page's


class PartVerdict(BaseModel):
    correct: bool
    score: float
    feedback: str = ""  # a part graded by hand: the TA's comment once graded
    interpreted: str | None = None
    misconception: str | None = None
    manual: bool = False  # graded by a TA, not automatically
    graded: bool = False  # a manual part the TA has graded


class QuestionVerdict(BaseModel):
    question: int
    score: float
    points: float
    parts: dict[str, PartVerdict]


class SubmissionDetail(SubmissionSummary):
    answers: dict[str, dict[str, str]]  # {"1": {part: text}}, exactly as typed
    items: list[QuestionVerdict]
    superseded: bool  # another submission of the student counts in grades.csv, not this one
    superseded_by: int | None  # that one's id


class OnlineAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: int = Field(ge=1, le=60)
    answers: Answers = Field(min_length=1, max_length=32)
    lang: Literal["zh", "en"] | None = None  # the feedback's; None: the exam's language


class ManualPartGrade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: int = Field(ge=1, le=60)
    part: PartName
    score: float = Field(ge=0, le=1)
    comment: str = Field(default="", max_length=5000)
    # True: only a part still waiting for a TA (409 if graded meanwhile, as the exam's page); False:
    # a given grade is replaced (a deliberate change)
    if_waiting: bool = False
