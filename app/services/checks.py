"""Check a student's answers to an instance and record the attempt of a known user."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session

from app.db import release_connection
from app.models import InstanceRecord, User
from app.services import attempts, instances
from app.services.errors import Invalid
from app.services.grading import Grader, Pending
from problems import GradeResult


async def check_off_the_loop(
    sessions: Callable[[], AbstractContextManager[Session]],
    *,
    grader: Grader,
    begin: Callable[[Session], Begun],
) -> tuple[Begun, dict[str, Any]]:
    """Run a check from the event loop: `begin` (the caller's begin_check) in a worker thread, the
    grading pool's part awaited with no thread held, the attempt stored in a thread again.
    `sessions()` gives each trip its session: the API opens and closes one in the trip itself (a
    session as a request dependency cost a check 5 % of its instructions, bench.instr_bench), a page
    passes its request's. Returns the check begun and the response body."""

    def begin_and_release() -> Begun:
        with sessions() as session:
            begun = begin(session)
            # Nothing is pending on the connection now (a known caller's attempt is committed): it
            # goes back before the wait for the pool (up to the check's time bound) and before the
            # next thread trip (an anonymous practice check held it across the page's rendering).
            release_connection(session)
            return begun

    def finish(result: GradeResult) -> dict[str, Any]:
        with sessions() as session:
            return finish_check(session, begun, result)

    begun = await anyio.to_thread.run_sync(begin_and_release)
    if begun.body is not None:
        return begun, begun.body
    assert begun.pending is not None  # no answer yet: the pool has a part to grade
    result = await grader.wait_async(begun.pending)
    return begun, await anyio.to_thread.run_sync(finish, result)


@dataclass
class Begun:
    """A check under way: `body` is the response once known (a replayed key, or nothing left for
    the grading pool); otherwise `pending` is the pool's work, and finish_check stores the result."""

    body: dict[str, Any] | None
    pending: Pending | None
    record: InstanceRecord
    user: User | None
    answers: dict[str, str]
    lang: str
    idempotency_key: str | None


def begin_check(
    session: Session,
    *,
    grader: Grader,
    record: InstanceRecord,
    user: User | None,
    answers: dict[str, str],
    lang: str,
    idempotency_key: str | None = None,
) -> Begun:
    """Check what can be checked now; when nothing is left for the pool, store it and answer."""
    # A blank header is no key: otherwise every client sending `Idempotency-Key:` would share one.
    idempotency_key = (idempotency_key or "").strip() or None
    if user is not None and idempotency_key is not None:
        earlier = attempts.find_by_key(session, user=user, key=idempotency_key)
        if earlier is not None:
            if earlier.instance_id != record.id or earlier.answers != answers:
                raise Invalid(
                    "Idempotency-Key: already used for a different request",
                    field="Idempotency-Key",
                    location="header",
                )
            return Begun(_replay(earlier), None, record, user, answers, lang, idempotency_key)
    inst = instances.build(record)
    known = {q.name for q in inst.parts}
    for name in answers:
        if name not in known:
            raise Invalid(
                f"answers.{name}: no such part (parts: {', '.join(sorted(known))})", field=f"answers.{name}"
            )
    pending = grader.begin(inst, answers, lang)
    begun = Begun(None, pending, record, user, answers, lang, idempotency_key)
    if pending.future is None:
        begun.body = finish_check(session, begun, pending.result)
    return begun


def finish_check(session: Session, begun: Begun, result: GradeResult) -> dict[str, Any]:
    """The response body; a known caller's attempt is committed first."""
    body = attempts.result_to_json(result)
    if begun.user is not None:
        body["attempt_id"] = attempts.record_attempt(
            session,
            user=begun.user,
            record=begun.record,
            answers=begun.answers,
            result=result,
            verdicts=body["parts"],
            lang=begun.lang,
            idempotency_key=begun.idempotency_key,
        )
    return body


def _replay(attempt: Any) -> dict[str, Any]:
    parts = {k: {kk: vv for kk, vv in v.items() if kk != "reason"} for k, v in attempt.parts.items()}
    return {"score": attempt.score, "parts": parts, "attempt_id": attempt.id}
