"""SQLAlchemy models, one file per aggregate; imported here so Alembic sees all tables."""

from app.models.attempt import Attempt
from app.models.exam import Exam, ExamAssignment, ExamQuestion, ExamSubmission, ExamVariant
from app.models.instance import InstanceRecord
from app.models.user import ApiToken, User

__all__ = [
    "ApiToken",
    "Attempt",
    "Exam",
    "ExamAssignment",
    "ExamQuestion",
    "ExamSubmission",
    "ExamVariant",
    "InstanceRecord",
    "User",
]
