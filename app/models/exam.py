"""Mock exams and homework: variants (each its own instances), submissions and their grades."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class Exam(Base):
    __tablename__ = "exams"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int] = mapped_column(BigInteger)
    lang: Mapped[str] = mapped_column(String(4), default="both")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the request that built it, kept for the record
    # What the build could not do as asked: [{"question", "problem", "variants": [codes], "message": {"zh", "en"}}]
    # for variants not drawn in variant 1's form (services.exams._form_warning).
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    kind: Mapped[str] = mapped_column(String(16), default="paper")  # paper | homework | exam
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    variants: Mapped[list[ExamVariant]] = relationship(
        back_populates="exam", cascade="all, delete-orphan", order_by="ExamVariant.index"
    )


class ExamVariant(Base):
    __tablename__ = "exam_variants"
    __table_args__ = (UniqueConstraint("exam_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    # Homework: the student this variant belongs to (None for paper exams).
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    exam: Mapped[Exam] = relationship(back_populates="variants")
    questions: Mapped[list[ExamQuestion]] = relationship(
        back_populates="variant", cascade="all, delete-orphan", order_by="ExamQuestion.number"
    )


class ExamQuestion(Base):
    __tablename__ = "exam_questions"
    __table_args__ = (UniqueConstraint("variant_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("exam_variants.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1-based, as printed
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    points: Mapped[float] = mapped_column(Float, default=1.0)

    variant: Mapped[ExamVariant] = relationship(back_populates="questions")


class ExamAssignment(Base):
    """Homework and exams taken online: which variant a student got, and when they started."""

    __tablename__ = "exam_assignments"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("exam_variants.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExamSubmission(Base):
    """One student's answers to one variant; the newest submission of a student counts."""

    __tablename__ = "exam_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("exam_variants.id", ondelete="CASCADE"))
    student: Mapped[str] = mapped_column(String(64), index=True)
    # Set when the student submitted online (homework/exam); None for answers a TA entered.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"1": {part: text}}, as typed
    results: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"1": {"score", "points", "parts": {...}}}
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_manual: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
