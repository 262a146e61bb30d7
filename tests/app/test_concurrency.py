"""A worker with more requests at once than it has request threads and pooled connections answers
every one of them: no request holds a connection while it waits for a thread (app/routing.py,
app/deps.py). Before, 32 clients against 4 threads stood still until the pool's timeout (503s)."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import add_account, make_app

FAMILY = "loss.uniform_prediction"


def test_more_requests_than_threads_and_connections_are_all_answered(db_url) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, threads=2)  # 2 threads, and so 2 (+2 overflow) pooled connections
    student = add_account(app, "ann", "student")
    h = student.headers

    async def burst() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
                posed = await c.post("/api/v1/instances", json={"problem": FAMILY, "seed": 1}, headers=h)
                iid, k = posed.json()["id"], posed.json()["params"]["num_classes"]
                check = {"answers": {"loss": f"ln({k})"}}
                return await asyncio.gather(
                    *(c.get("/healthz") for _ in range(12)),  # a sync route with a response model
                    *(c.get("/api/v1/me", headers=h) for _ in range(12)),  # a sync dependency, then the route
                    *(c.post(f"/api/v1/instances/{iid}/check", json=check, headers=h) for _ in range(12)),
                    *(c.get(f"/practice/{FAMILY}?i={iid}", headers=h) for _ in range(12)),  # a page
                )

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 48, [
        r.text[:120] for r in responses if r.status_code != 200
    ]
    assert all(r.json()["score"] == 1.0 for r in responses[24:36])
