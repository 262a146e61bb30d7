"""GET /problems: the catalogue of families."""

from __future__ import annotations

from fastapi import APIRouter

from app.schemas.instances import ProblemPublic
from app.services.catalogue import list_problems

router = APIRouter(tags=["problems"])


@router.get("/problems", response_model=list[ProblemPublic])
def get_problems() -> list[dict]:
    """List every problem family with its params schema and parts."""
    return list_problems()
