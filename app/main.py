"""The application factory: create_app(settings) -> FastAPI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import problems
from app import errors, web
from app.api import router as api_router
from app.db import make_engine, make_session_factory
from app.deps import SessionDep
from app.routing import OneTripRoute
from app.schemas.errors import ERROR_RESPONSES
from app.services import users
from app.services.grading import Grader
from app.services.instances import RecordCache
from app.services.ratelimit import LoginLimiter
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


class BodyLimit:
    """Refuse request bodies over a size with 413 before reading them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, receive, send, self.max_bytes)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return msg

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send, self.max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    resp = JSONResponse({"detail": f"request body over {limit} bytes"}, status_code=413)
    await resp(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for the given settings (tests pass their own)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, connections=settings.threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The request threads of this worker (AnyIO's default limiter, which FastAPI uses).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        problems.load_all()  # the whole bank before the first request, not during it
        grader = Grader(settings.grading_workers, settings.check_timeout)
        grader.warm_up()
        app.state.grader = grader
        try:
            yield
        finally:
            grader.close()
            engine.dispose()

    # FastAPIOffline: /docs and /redoc with their scripts served by the app. FastAPI's own pages load
    # them from cdn.jsdelivr.net, often blocked or slow on Chinese campus networks (/docs was blank).
    app = FastAPIOffline(
        title="DL Grader",
        version="0.1.0",
        description="Parameterized deep-learning problems, a safe answer grader, attempts and mock exams.",
        lifespan=lifespan,
    )
    app.router.route_class = OneTripRoute  # /healthz; the API and page routers set their own
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.login_limiter = LoginLimiter(settings.login_attempts_per_minute)
    app.state.records = RecordCache()
    app.state.check_callers = users.CheckCallers(settings.check_caller_seconds)
    app.state.check_callers.watch(app.state.session_factory)
    # Before the first lifespan run (e.g. a TestClient used without `with`), grade inline.
    app.state.grader = Grader(0, settings.check_timeout)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="dlgrader_session",
        same_site="lax",
        https_only=settings.secure_cookies,
        max_age=14 * 24 * 3600,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    errors.install(app)

    @app.get("/healthz", tags=["health"], responses={503: ERROR_RESPONSES[503]})
    def healthz(session: SessionDep) -> dict[str, str]:
        """200 once the database answers (503 otherwise)."""
        session.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.include_router(api_router)
    web.mount(app)
    return app


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
