"""Plain `def` routes in one trip to a worker thread, their response checked on the event loop."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def _in_one_thread_trip(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters and types through __wrapped__
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class OneTripRoute(APIRoute):
    """A route whose plain `def` endpoint runs in a worker thread as usual, but whose response is
    validated on the event loop.

    FastAPI validates a sync endpoint's response model in a second trip to the thread pool, and
    the request's database connection is held until the response is sent. Once every pool thread
    was waiting for a connection and every connection for a thread to validate its response, the
    worker stood still until the pool's timeout gave 503s (reproduced with 4 threads and 32
    clients; with 40 threads it needs more than 40 requests at once, which 300 students on one
    worker are). Checking a response is microseconds of pydantic: the loop does it, and the trip it
    saved was ~0.2 ms of CPU per request here.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_one_thread_trip(endpoint)
        super().__init__(path, endpoint, **kwargs)
