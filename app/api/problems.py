"""GET /problems: the catalogue of families."""

from __future__ import annotations

from fastapi import APIRouter

from app.routing import OneTripRoute
from app.schemas.instances import ProblemPublic
from app.services.catalogue import list_problems

router = APIRouter(route_class=OneTripRoute, tags=["problems"])


@router.get("/problems", response_model=list[ProblemPublic])
def get_problems() -> list[dict]:
    """List every problem family with its params schema and parts."""
    return list_problems()
