"""JSON routes under /api/v1 for TAs, scripts and the browser's live preview."""

from fastapi import APIRouter

from app.api import attempts, auth, exams, instances, problems
from app.routing import OneTripRoute
from app.schemas.errors import ERROR_RESPONSES

router = APIRouter(route_class=OneTripRoute, prefix="/api/v1", responses=ERROR_RESPONSES)
for _m in (problems, instances, attempts, auth, exams):
    router.include_router(_m.router)
