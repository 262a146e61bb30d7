"""Every API endpoint x every role: who may do what (table-driven; a new route must join the table)."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from tests.app.test_pages import _csrf, _login

FAMILY = "loss.uniform_prediction"
ROLES = ("anonymous", "student", "other", "ta", "instructor")

# (method, path template, expected status per role). {i} an instance, {a} an attempt of
# "student", {e} an exam, {c} a variant code, {s} a submission with a short answer to grade. 2xx
# means allowed.
A, S, O, T, I = ROLES
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/healthz", dict.fromkeys(ROLES, 200)),
    ("GET", "/favicon.ico", dict.fromkeys(ROLES, 200)),
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
    ("GET", "/api/v1/exams", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/exams", {A: 401, S: 403, O: 403, T: 201, I: 201}),
    ("GET", "/api/v1/exams/{e}/variants/{c}.json", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/variants/{c}.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/bundle.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/answer-key.html", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/exams/{e}/submissions", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/submissions", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/submissions/{s}", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/grades.csv", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/stats", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/api/v1/exams/{e}/manual", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/api/v1/exams/{e}/submissions/{s}/grade", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    # The matrix's exam is printed on paper: nobody takes it online.
    ("GET", "/api/v1/exams/{e}/mine", {A: 401, S: 404, O: 404, T: 404, I: 404}),
    ("POST", "/api/v1/exams/{e}/mine/answers", {A: 401, S: 404, O: 404, T: 404, I: 404}),
    ("POST", "/api/v1/exams/{e}/mine/preview", {A: 401, S: 404, O: 404, T: 404, I: 404}),
]

# The browser pages, with the session cookie of a logged-in browser. 303 from a page is a redirect:
# to /login for an anonymous visitor of a page that needs an account, to a fresh instance otherwise.
WEB_MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", dict.fromkeys(ROLES, 200)),
    ("GET", f"/practice/{FAMILY}", dict.fromkeys(ROLES, 303)),
    ("GET", f"/practice/{FAMILY}?i={{i}}", dict.fromkeys(ROLES, 200)),
    ("POST", f"/practice/{FAMILY}", dict.fromkeys(ROLES, 200)),
    # Only "student" has tried {i}: nobody else who is not staff sees its solution.
    ("GET", f"/practice/{FAMILY}/solution?i={{i}}", {A: 403, S: 200, O: 403, T: 200, I: 200}),
    ("GET", "/login", dict.fromkeys(ROLES, 200)),
    ("POST", "/login", dict.fromkeys(ROLES, 401)),  # wrong password for everyone
    ("POST", "/logout", dict.fromkeys(ROLES, 303)),
    ("GET", "/me", {A: 303, S: 200, O: 200, T: 200, I: 200}),
    ("GET", "/practice-next", dict.fromkeys(ROLES, 303)),
    ("GET", "/roster", {A: 303, S: 403, O: 403, T: 403, I: 200}),
    ("POST", "/roster", {A: 401, S: 403, O: 403, T: 403, I: 200}),
    # Registration is closed unless a course code is configured (it is not here).
    ("GET", "/register", dict.fromkeys(ROLES, 404)),
    ("POST", "/register", dict.fromkeys(ROLES, 404)),
    ("GET", "/exams", {A: 303, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/exams/{e}", {A: 303, S: 403, O: 403, T: 200, I: 200}),
    ("GET", "/exams/new", {A: 303, S: 403, O: 403, T: 200, I: 200}),
    ("POST", "/exams/new", {A: 401, S: 403, O: 403, T: 303, I: 303}),
    ("POST", "/exams/{e}/submissions", {A: 401, S: 403, O: 403, T: 200, I: 200}),
    # the TA grades the waiting answer; the instructor's form, after it, finds it graded (409)
    ("POST", "/exams/{e}/manual", {A: 401, S: 403, O: 403, T: 303, I: 409}),
    # A homework is opened and answered by whoever is logged in (as its API twin, /exams/{e}/mine).
    # Staff are sent to the exam's own page (opening this one would assign them a variant).
    ("GET", "/homework/{h}", {A: 303, S: 200, O: 200, T: 303, I: 303}),
    ("POST", "/homework/{h}/{q}", {A: 401, S: 303, O: 303, T: 303, I: 303}),
    ("POST", "/homework/{h}/start", {A: 401, S: 303, O: 303, T: 303, I: 303}),
    ("GET", "/grading", {A: 303, S: 403, O: 403, T: 200, I: 200}),
    # {a} is a numeric answer: no part waits for a TA, so staff find nothing to grade there
    ("POST", "/grading/{a}", {A: 401, S: 403, O: 403, T: 404, I: 404}),
]

FORMS = {
    f"/practice/{FAMILY}": {"instance_id": "{i}", "loss": "1"},
    "/login": {"name": "alice", "password": "wrong password"},
    "/logout": {},
    "/roster": {"roster_text": "学号,姓名\ns7,张三\n"},
    "/register": {"name": "newbie", "password": "long enough", "code": "x"},
    "/exams/new": {"title": "t", "item0.source": FAMILY},
    "/exams/{e}/submissions": {"csv_text": "student,code,question,part,answer\ns5,{c},1,loss,1\n"},
    "/homework/{h}/{q}": {"loss": "1"},
    "/exams/{e}/manual": {
        "submission": "{s}",
        "question": "2",
        "part": "answer",
        "score": "1",
        "comment": "ok",
    },
    "/homework/{h}/start": {},
    "/grading/{a}": {"score": "1", "comment": "ok"},
}

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
    "/api/v1/exams/{e}/mine/preview": {"question": 1, "part": "loss", "text": "1"},
    "/api/v1/exams/{e}/submissions/{s}/grade": {"question": 2, "part": "answer", "score": 1},
}


def _app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    # app.routes lists only the routes declared on the app itself; included routers' routes are
    # reached through iter_route_contexts (FastAPI >= 0.165).
    return {
        (m, ctx.path)
        for ctx in iter_route_contexts(app.router.routes)
        for m in (getattr(ctx, "methods", None) or ())
        if m != "HEAD" and not ctx.path.startswith(("/docs", "/redoc", "/openapi"))
    }


_TEMPLATE_NAMES = {
    "{i}": "{instance_id}",
    "{e}": "{exam_id}",
    "{a}": "{attempt_id}",
    "{s}": "{submission_id}",
    "{h}": "{exam_id}",
    "{q}": "{question}",
    f"/{FAMILY}": "/{problem_id}",
}
_SUFFIXES = {
    "/{c}.html": "/{filename}",
    "/bundle.html": "/bundle.{ext}",
    "/answer-key.html": "/answer-key.{ext}",
}


def _route_of(path: str) -> str:
    p = path.split("#")[0].split("?")[0]
    for short, full in {**_TEMPLATE_NAMES, **_SUFFIXES}.items():
        p = p.replace(short, full)
    return p


def test_every_route_is_in_a_matrix(app) -> None:  # type: ignore[no-untyped-def]
    routes = _app_routes(app)
    assert len(routes) > 40, "the route listing found the included routers"
    covered = {(m, _route_of(p)) for m, p, _ in MATRIX + WEB_MATRIX}
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
    items = [{"problem": FAMILY}, {"problem": "concept.short_answer"}]
    exam = client.post("/api/v1/exams", json={"title": "m", "items": items}, headers=ta).json()
    code = exam["variants"][0]["code"]
    sub = {"student": "s9", "code": code, "answers": {"2": {"answer": "梯度消失 / vanishing gradients"}}}
    assert client.post(f"/api/v1/exams/{exam['id']}/submissions", json=sub, headers=ta).status_code == 200
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta).json()
    assert [q["part"] for q in queue] == ["answer"]
    homework = {"title": "hw", "items": [{"problem": FAMILY}], "kind": "homework"}
    hw = client.post("/api/v1/exams", json=homework, headers=ta).json()
    return {
        "h": hw["id"],
        "q": "1",
        "i": inst["id"],
        "a": str(check["attempt_id"]),
        "e": exam["id"],
        "c": code,
        "s": str(queue[0]["submission"]),
    }


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


def _browser(app, account):  # type: ignore[no-untyped-def]
    """A browser with its own cookie jar, logged in through the login form unless anonymous."""
    from fastapi.testclient import TestClient

    c = TestClient(app)
    if account is not None:
        _login(c, account.name, account.password)
    return c


@pytest.mark.parametrize(
    ("method", "path", "expected"), WEB_MATRIX, ids=[f"{m} {p}" for m, p, _ in WEB_MATRIX]
)
def test_page_matrix(app, client, accounts, world, method, path, expected) -> None:  # type: ignore[no-untyped-def]
    for role in ROLES:
        browser = _browser(app, None if role == "anonymous" else accounts[role])
        url = path
        for k, v in world.items():
            url = url.replace("{" + k + "}", v)
        data = None
        if method == "POST":
            data = {}
            for k, v in FORMS[path].items():
                for name, value in world.items():
                    v = v.replace("{" + name + "}", value)
                data[k] = v
            data["csrf_token"] = _csrf(browser.get("/login").text)
        r = browser.request(method, url, data=data, follow_redirects=False)
        assert r.status_code == expected[role], f"{role}: {method} {url} -> {r.status_code} {r.text[:200]}"
        if (
            r.status_code == 303
            and role == "anonymous"
            and path in ("/me", "/roster", "/exams", "/exams/{e}")
        ):
            assert r.headers["location"].startswith("/login?next=/")
