"""Every API endpoint x every role: who may do what (table-driven; a new route must join the table)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

FAMILY = "loss.uniform_prediction"
ROLES = ("anonymous", "student", "other", "ta", "instructor")

# (method, path template, expected status per role). {i} an instance, {a} an attempt of
# "student", {e} an exam, {c} a variant code. 2xx means allowed.
A, S, O, T, I = ROLES
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/healthz", dict.fromkeys(ROLES, 200)),
    ("GET", "/api/v1/problems", dict.fromkeys(ROLES, 200)),
    ("POST", "/api/v1/instances#seed", dict.fromkeys(ROLES, 201)),
    ("POST", "/api/v1/instances#params", {A: 401, S: 403, O: 403, T: 201, I: 201}),
    ("GET", "/api/v1/instances/{i}", dict.fromkeys(ROLES, 200)),
    ("POST", "/api/v1/instances/{i}/check", dict.fromkeys(ROLES, 200)),
    ("POST", "/api/v1/instances/{i}/preview", dict.fromkeys(ROLES, 200)),
    ("GET", "/api/v1/instances/{i}/solution", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/me/attempts", {A: 401, S: 200, O: 200, T: 200, I: 200}),
    ("GET", "/api/v1/attempts", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/attempts/{a}/grade", {A: 401, S: 403, O: 403, T: 422, I: 422}),
    ("POST", "/api/v1/auth/token", dict.fromkeys(ROLES, 401)),  # wrong password for everyone
    ("DELETE", "/api/v1/auth/token", {A: 401, S: 204, O: 204, T: 204, I: 204}),
    ("GET", "/api/v1/me", {A: 401, S: 200, O: 200, T: 200, I: 200}),
    ("POST", "/api/v1/users", {A: 401, S: 403, O: 403, T: 403, I: 201}),
    ("POST", "/api/v1/exams", {A: 401, S: 403, O: 403, T: 201, I: 201}),
    ("GET", "/api/v1/exams/{e}", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/variants/{c}.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/bundle.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/answer-key.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/exams/{e}/submissions", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/grades.csv", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/stats", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/manual", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/exams/{e}/submissions/{a}/grade", {A: 401, S: 403, O: 403, T: 404, I: 404}),
    # The matrix's exam is printed on paper: nobody takes it online.
    ("GET", "/api/v1/exams/{e}/mine", {A: 401, S: 404, O: 404, T: 404, I: 404}),
    ("POST", "/api/v1/exams/{e}/mine/answers", {A: 401, S: 404, O: 404, T: 404, I: 404}),
]

BODIES = {
    "/api/v1/instances#seed": {"problem": FAMILY, "seed": 5},
    "/api/v1/instances#params": {"problem": FAMILY, "params": {"num_classes": 5}},
    "/api/v1/instances/{i}/check": {"answers": {"loss": "ln(5)"}},
    "/api/v1/instances/{i}/preview": {"part": "loss", "text": "ln(5)"},
    "/api/v1/attempts/{a}/grade": {"score": 1, "comment": "ok"},
    "/api/v1/auth/token": {"name": "alice", "password": "wrong password"},
    "/api/v1/users": {"name": "newbie", "role": "student"},
    "/api/v1/exams": {"title": "t", "items": [{"problem": FAMILY}]},
    "/api/v1/exams/{e}/submissions": {"student": "s1", "code": "{c}", "answers": {}},
    "/api/v1/exams/{e}/mine/answers": {"question": 1, "answers": {"loss": "1"}},
    "/api/v1/exams/{e}/submissions/{a}/grade": {"question": 1, "part": "loss", "score": 1},
}


def test_every_api_route_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    routes = {
        (m, r.path)
        for r in app.routes
        if isinstance(r, APIRoute) and r.path.startswith(("/api", "/healthz"))
        for m in r.methods
        if m != "HEAD"
    }
    generic = {
        "/api/v1/instances/{i}": "/api/v1/instances/{instance_id}",
        "/api/v1/attempts/{a}/grade": "/api/v1/attempts/{attempt_id}/grade",
        "/api/v1/exams/{e}": "/api/v1/exams/{exam_id}",
        "/api/v1/exams/{e}/variants/{c}.html": "/api/v1/exams/{exam_id}/variants/{filename}",
        "/api/v1/exams/{e}/bundle.html": "/api/v1/exams/{exam_id}/bundle.{ext}",
        "/api/v1/exams/{e}/answer-key.html": "/api/v1/exams/{exam_id}/answer-key.{ext}",
    }
    covered = set()
    for method, path, _ in MATRIX:
        p = path.split("#")[0]
        for short, full in generic.items():
            p = p.replace(short, full) if p == short else p
        p = p.replace("{i}", "{instance_id}").replace("{e}", "{exam_id}").replace("{a}", "{attempt_id}")
        covered.add((method, p))
    assert routes - covered == set(), "add these routes to the authorization matrix"


@pytest.fixture
def world(client, accounts):  # type: ignore[no-untyped-def]
    ta = accounts["ta"].headers
    inst = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 1}).json()
    check = client.post(
        f"/api/v1/instances/{inst['id']}/check",
        json={"answers": {"loss": "1"}},
        headers=accounts["student"].headers,
    ).json()
    exam = client.post(
        "/api/v1/exams", json={"title": "m", "items": [{"problem": FAMILY}]}, headers=ta
    ).json()
    return {"i": inst["id"], "a": str(check["attempt_id"]), "e": exam["id"], "c": exam["variants"][0]["code"]}


@pytest.mark.parametrize(("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_role_matrix(client, accounts, world, method, path, expected) -> None:  # type: ignore[no-untyped-def]
    import json

    for role in ROLES:
        headers = {} if role == "anonymous" else accounts[role].headers
        url = path.split("#")[0]
        body = BODIES.get(path)
        for k, v in world.items():
            url = url.replace("{" + k + "}", v)
        if body is not None:
            body = json.loads(json.dumps(body).replace("{c}", world["c"]))
        r = client.request(method, url, json=body, headers=headers)
        assert r.status_code == expected[role], f"{role}: {method} {url} -> {r.status_code} {r.text[:200]}"


def test_a_student_never_sees_another_students_attempts(client, accounts, world) -> None:  # type: ignore[no-untyped-def]
    bob = accounts["other"].headers
    mine = client.get("/api/v1/me/attempts", headers=bob).json()
    assert mine["count"] == 0
    assert client.get("/api/v1/attempts?user=alice", headers=bob).status_code == 403
    assert client.get(f"/api/v1/me/attempts?problem={FAMILY}", headers=bob).json()["count"] == 0


def test_a_revoked_token_stops_working(client, accounts) -> None:  # type: ignore[no-untyped-def]
    h = accounts["student"].headers
    assert client.delete("/api/v1/auth/token", headers=h).status_code == 204
    assert client.get("/api/v1/me", headers=h).status_code == 401
