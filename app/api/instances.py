"""Instances: pose, read, check, and (for staff) the worked solution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.lang import pick_lang
from app.deps import InstanceDep, OptionalUser, SessionDep, StaffUser, resolve_caller
from app.models import InstanceRecord, User
from app.routing import OneTripRoute
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

router = APIRouter(route_class=OneTripRoute, tags=["instances"])


def _public(record: InstanceRecord, inst: Instance, user: User | None) -> dict[str, Any]:
    """The instance as its caller may see it: a custom question's answer is one of its params, shown
    to staff only (who see /solution too; a TA copies the params into an exam), never to a student."""
    hidden = () if user is not None and user.is_staff else inst.family.answer_params
    return {
        "id": record.id,
        "problem": record.problem,
        "version": record.version,
        "seed": record.seed,
        "params": {k: v for k, v in record.params.items() if k not in hidden},
        "statement": inst.statement,
        "parts": [{"name": q.name, "answer_type": q.answer_type} for q in inst.parts],
    }


@router.post("/instances", status_code=201, response_model=InstancePublic)
def create_instance(
    body: InstanceCreate, session: SessionDep, user: OptionalUser, request: Request
) -> dict[str, Any]:
    """Pose an instance from a seed, or (ta/instructor) from explicit params. Never contains an answer."""
    record, inst = instances.create_instance(
        session, problem=body.problem, seed=body.seed, params=body.params, user=user
    )
    request.app.state.records.put(record)  # its checks come next
    return _public(record, inst, user)


@router.get("/instances/{instance_id}", response_model=InstancePublic)
def get_instance(record: InstanceDep, user: OptionalUser) -> dict[str, Any]:
    """Read an instance back (statement and parts, no answers)."""
    return _public(record, instances.build(record), user)


@router.post("/instances/{instance_id}/check", response_model=CheckResponse)
async def check_instance(
    instance_id: Annotated[str, Path(max_length=64)],
    body: CheckRequest,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Grade the answers; a known caller's attempt is recorded before the response is sent.

    The hottest route, so it takes as few trips to a worker thread as it can: one when every part
    is graded in the thread, two when a part goes to the grading pool, which is awaited here
    with no thread held. The caller is looked up in the first trip: as a sync dependency it was a
    trip of its own, ~0.2 ms of CPU here, a tenth of a whole check (bench.http_bench). So is the
    instance, when this process has not cached it, and each trip opens and closes its own database
    session: as dependencies (InstanceDep, SessionDep, as the other routes have them) they cost 3 %
    and 5 % of a check's instructions (bench.instr_bench)."""
    grader = request.app.state.grader

    def begin(session: Session) -> checks.Begun:
        record = request.app.state.records.fetch(session, instance_id)
        user = resolve_caller(request, session, request.app.state.check_callers)
        return checks.begin_check(
            session,
            grader=grader,
            record=record,
            user=user,
            answers=body.answers,
            lang=pick_lang(request, body.lang, user),
            idempotency_key=idempotency_key,
        )

    sessions = request.app.state.session_factory
    _, response = await checks.check_off_the_loop(sessions, grader=grader, begin=begin)
    return response


@router.get("/instances/{instance_id}/solution", response_model=SolutionPublic)
def get_solution(record: InstanceDep, user: StaffUser, request: Request) -> dict[str, Any]:
    """The reference answers and worked steps (ta/instructor only)."""
    inst = instances.build(record)
    steps = inst.solution()
    lang = pick_lang(request, None, user)
    return {"answers": inst.answers, "steps": steps.get(lang, steps["en"]), "steps_by_lang": steps}


@router.post("/instances/{instance_id}/preview", response_model=PreviewResponse)
async def preview_answer(
    record: InstanceDep, body: PreviewRequest, user: OptionalUser, request: Request
) -> dict[str, Any]:
    """How one answer is read (typeset), or where it fails to parse. Not graded, not stored.
    Runs on every keystroke: a reading in the grading pool is awaited with no thread held."""
    lang = pick_lang(request, body.lang, user)
    inst = await run_in_threadpool(instances.build, record)  # a first build solves the instance: CPU
    result: dict[str, Any] = await request.app.state.grader.preview(inst, body.part, body.text, lang)
    return result
