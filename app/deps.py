"""Request context as Annotated dependencies: database session, the caller, role checks, lookups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import release_connection
from app.models import InstanceRecord, User
from app.services import instances, users
from app.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request. Opening one does no I/O, so it happens on the event loop; closing
    one that still holds a connection (a rollback, or the pool's reset) is I/O and goes to a
    worker thread. Every thread hop costs about as much as a small query, and a check made two
    of them here for nothing (measured with bench.http_bench).

    The close never waits for a place among the request threads: those may all be waiting for a
    pooled connection, which only this close gives back. With 4 threads and 32 clients that
    deadlocked until the pool's timeout (FastAPI runs its own exits the same way, for this reason)."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db)]

_UNAUTH = {"WWW-Authenticate": "Bearer"}


def get_optional_user(request: Request, session: SessionDep) -> User | None:
    """The caller: a Bearer token (API) or the session cookie (browser); None when anonymous."""
    user = resolve_caller(request, session)
    release_connection(session)
    return user


def resolve_caller(
    request: Request, session: Session, callers: users.CheckCallers | None = None
) -> User | None:
    """What get_optional_user answers, callable from a thread that is already doing the request's
    database work (the check route: each dependency that does I/O is a thread hop of its own).
    `callers`: the check route's remembered token holders (users.CheckCallers says why only there)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "Authorization header must be 'Bearer <token>'", headers=_UNAUTH)
        user = callers.get(token) if callers is not None else None
        if user is None:
            generation = callers.generation if callers is not None else 0
            user = users.user_for_token(session, token)
            if user is None:
                raise HTTPException(401, "invalid or revoked token", headers=_UNAUTH)
            if callers is not None:
                callers.put(token, user, generation)
        request.state.auth = "token"
        return user
    uid = request.session.get("uid") if "session" in request.scope else None
    if isinstance(uid, int):
        user = session.get(User, uid)
        if user is not None and user.active and request.session.get("sv") == _session_version(user):
            request.state.auth = "cookie"
            return user
        request.session.clear()
    return None


def _session_version(user: User) -> str:
    # A password change invalidates every session cookie issued before it.
    return (user.password_hash or "")[-12:]


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise HTTPException(401, "log in or send 'Authorization: Bearer <token>'", headers=_UNAUTH)
    return user


async def require_staff(user: Annotated[User, Depends(get_current_user)]) -> User:
    if not user.is_staff:
        raise HTTPException(403, "this needs the ta or instructor role")
    return user


async def require_instructor(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role != "instructor":
        raise HTTPException(403, "this needs the instructor role")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]
StaffUser = Annotated[User, Depends(require_staff)]
InstructorUser = Annotated[User, Depends(require_instructor)]


async def get_instance_record(
    request: Request, session: SessionDep, instance_id: Annotated[str, Path(max_length=64)]
) -> InstanceRecord:
    """The posed instance: from the process's cache when it has it (no I/O, so no thread hop),
    else read in a worker thread and kept."""
    cache: instances.RecordCache = request.app.state.records
    return cache.get(instance_id) or await run_in_threadpool(_read_record, cache, session, instance_id)


def _read_record(cache: instances.RecordCache, session: Session, instance_id: str) -> InstanceRecord:
    record = cache.fetch(session, instance_id)
    # Only after success: a commit after a lost connection raised PendingRollbackError in place of
    # the OperationalError (a 500, not the 503); after an error the session's close rolls back.
    release_connection(session)
    return record


InstanceDep = Annotated[InstanceRecord, Depends(get_instance_record)]


def start_session(request: Request, user: User) -> None:
    """Log a browser in: a fresh signed session naming the user."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["sv"] = _session_version(user)
