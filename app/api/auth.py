"""Tokens for scripts, and accounts (created by instructors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.deps import CurrentUser, InstructorUser, SessionDep
from app.routing import OneTripRoute
from app.schemas.users import TokenRequest, TokenResponse, UserCreate, UserPublic
from app.services import users
from app.services.errors import Unauthenticated

router = APIRouter(route_class=OneTripRoute, tags=["auth"])


@router.post("/auth/token", response_model=TokenResponse, status_code=201)
def issue_token(body: TokenRequest, session: SessionDep, request: Request) -> dict[str, Any]:
    """Exchange a name and password for a new API token (shown once)."""
    key = f"{body.name.strip().lower()}|{request.client.host if request.client else '-'}"
    limiter = request.app.state.login_limiter
    limiter.check(key)
    user = users.authenticate(session, name=body.name, password=body.password)
    if user is None:
        limiter.fail(key)
        raise Unauthenticated("wrong name or password")
    token = users.create_token(session, user=user, label=body.label)
    session.commit()
    return {"token": token, "token_type": "bearer"}


@router.delete("/auth/token", status_code=204)
def revoke_token(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Revoke the token this request was made with."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip()
    if token:
        users.revoke_token(session, user=user, token=token)
        session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> Any:
    """Who the caller is."""
    return user


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, instructor: InstructorUser) -> Any:
    """Create an account (instructor only)."""
    user = users.create_user(
        session, name=body.name, role=body.role, password=body.password, display_name=body.display_name
    )
    session.commit()
    return user
