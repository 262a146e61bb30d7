"""Instances: pose, read, check, and (for staff) the worked solution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from app.api.lang import pick_lang
from app.deps import InstanceDep, OptionalUser, SessionDep, StaffUser
from app.models import InstanceRecord
from app.schemas.instances import (
    CheckRequest,
    CheckResponse,
    InstanceCreate,
    InstancePublic,
    PreviewRequest,
    PreviewResponse,
    SolutionPublic,
)
from app.services import checks, instances
from problems import Instance

router = APIRouter(tags=["instances"])


def _public(record: InstanceRecord, inst: Instance) -> dict[str, Any]:
    return {
        "id": record.id,
        "problem": record.problem,
        "version": record.version,
        "seed": record.seed,
        "params": record.params,
        "statement": inst.statement,
        "parts": [{"name": q.name, "answer_type": q.answer_type} for q in inst.parts],
    }


@router.post("/instances", status_code=201, response_model=InstancePublic)
def create_instance(body: InstanceCreate, session: SessionDep, user: OptionalUser) -> dict[str, Any]:
    """Pose an instance from a seed, or (ta/instructor) from explicit params. Never contains an answer."""
    record, inst = instances.create_instance(
        session, problem=body.problem, seed=body.seed, params=body.params, user=user
    )
    return _public(record, inst)


@router.get("/instances/{instance_id}", response_model=InstancePublic)
def get_instance(record: InstanceDep) -> dict[str, Any]:
    """Read an instance back (statement and parts, no answers)."""
    return _public(record, instances.build(record))


@router.post("/instances/{instance_id}/check", response_model=CheckResponse)
def check_instance(
    record: InstanceDep,
    body: CheckRequest,
    session: SessionDep,
    user: OptionalUser,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Grade the answers; a known caller's attempt is recorded before the response is sent."""
    return checks.check_answers(
        session,
        grader=request.app.state.grader,
        record=record,
        user=user,
        answers=body.answers,
        lang=pick_lang(request, body.lang, user),
        idempotency_key=idempotency_key,
    )


@router.get("/instances/{instance_id}/solution", response_model=SolutionPublic)
def get_solution(record: InstanceDep, user: StaffUser, request: Request) -> dict[str, Any]:
    """The reference answers and worked steps (ta/instructor only)."""
    inst = instances.build(record)
    steps = inst.solution()
    lang = pick_lang(request, None, user)
    return {"answers": inst.answers, "steps": steps.get(lang, steps["en"]), "steps_by_lang": steps}


@router.post("/instances/{instance_id}/preview", response_model=PreviewResponse)
def preview_answer(
    record: InstanceDep, body: PreviewRequest, user: OptionalUser, request: Request
) -> dict[str, Any]:
    """How one answer is read (typeset), or where it fails to parse. Not graded, not stored."""
    lang = pick_lang(request, body.lang, user)
    return request.app.state.grader.preview(instances.build(record), body.part, body.text, lang)
