"""Bodies of the exam endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.schemas.common import Answers, Params, PartName, Points, Share, one_grade


def _refused(kind: str, field: str, en: str, zh: str) -> PydanticCustomError:
    """A check across the body's fields, failed: the message names the field in English, as the API
    has always said it; ctx holds the field and the words in both languages, for the builder's page
    and for an API caller who asks for Chinese (app/errors.py)."""
    return PydanticCustomError(kind, f"{field}: {en}", {"field": field, "en": en, "zh": zh})


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
            raise _refused(
                "one_kind", "problem", "give either 'problem' or 'tag'", "problem 与 tag 须给出一个"
            )
        if self.params is not None and self.problem is None:
            raise _refused(
                "params_without_problem", "params", "'params' goes with 'problem'", "params 只用于 problem"
            )
        if (self.concepts or self.auto_only) and self.tag is None:
            raise _refused(
                "options_without_tag",
                "concepts",
                "'concepts' and 'auto_only' go with 'tag'",
                "concepts 与 auto_only 只用于 tag",
            )
        if self.difficulty is not None and not (1 <= self.difficulty[0] <= self.difficulty[1] <= 3):
            raise _refused(
                "difficulty_range",
                "difficulty",
                "[low, high] within 1..3",
                "应在 1 到 3 之间，且最低不高于最高",
            )
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
    # checked even when not given (an online exam needs one), and against kind and opens_at as read
    due_at: datetime | None = Field(default=None, validate_default=True)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    # Every variant asks each question in variant 1's form (the same sizes, rule, steps, kind of item)
    # with other numbers. Off by default: a spec written before it builds the same exam.
    same_form: bool = False

    @field_validator("due_at")
    @classmethod
    def _due(cls, due_at: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field's check, not the whole model's: pydantic runs that one only once every field is
        # valid, and a builder's bad row hid the missing due time until it was fixed and sent again.
        # An exam's verdicts and solutions are shown when it is over for everyone: with no due time
        # that would be never (one student's time limit running out is not the end: the others sit it).
        opens_at = info.data.get("opens_at")
        if info.data.get("kind") == "exam" and due_at is None:
            raise _refused(
                "due_at_missing",
                "due_at",
                "an online exam needs a due time; its verdicts and solutions are shown to everyone after it",
                "在线考试需要截止时间，所有人截止后才公布成绩与解答",
            )
        if opens_at is not None and due_at is not None and _utc(due_at) <= _utc(opens_at):
            raise _refused("due_before_open", "due_at", "must be after opens_at", "应晚于开放时间")
        return due_at


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
    score: Share | None = None  # a share of the part, 0..1
    points: Points | None = None  # or points out of what the part is worth (its question's points / parts)
    comment: str = Field(default="", max_length=5000)
    # True: only a part still waiting for a TA (409 if graded meanwhile, as the exam's page); False:
    # a given grade is replaced (a deliberate change)
    if_waiting: bool = False

    @model_validator(mode="after")
    def _one_grade(self) -> ManualPartGrade:
        one_grade(self.score, self.points)
        return self
