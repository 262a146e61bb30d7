"""Attack strings through every text field: a clear 4xx or a wrong verdict, stored as sent, shown escaped.

Each string goes through the API and the forms (answers of checks and online exams, exam submissions as
JSON and CSV, exam titles, custom questions, account names, roster import, registration, TA comments)
on SQLite and PostgreSQL. The service must never answer 500; what it accepts it must give back byte for
byte; and no HTML page may carry the markup unescaped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app.services.users import NAME_RE
from tests.conftest import Account, add_account, make_app

FAMILY = "loss.uniform_prediction"  # one part, "loss", a real number: every attack string is wrong
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# The raw markup that must never reach a page unescaped (the escaped text may and should appear).
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg onload", "<iframe")

ATTACKS: list[str] = [
    "__import__('os').system('id')",
    "eval(1)",
    "exec('import os')",
    "().__class__.__bases__[0].__subclasses__()",
    "(" * 4000 + "1" + ")" * 4000,  # deep nesting within the 10 000-character answer limit
    "9**9**9**9",
    "9^9^9^9",
    "1e999999",
    "factorial(100000)",
    "10**10**10",
    "\u202e1.609",  # right-to-left override
    "1\u200d.6\u200d0\u200d9",  # zero-width joiners
    "1\u0301.6\u0308",  # combining marks
    "1.609\x00",  # NUL: SQLite stores it, PostgreSQL text cannot hold it
    "\ud800",  # a lone surrogate (sent as the JSON escape): not text, always refused
    "🤖👍🏽 ln(🤖)",
    "'; DROP TABLE attempts; --",
    "1' OR '1'='1",
    SCRIPT,
    IMG,
    "<svg onload=alert(1)>",
    "{{7*7}}{% raw %}",
    "$\\text{<script>alert(1)</script>}$",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
]
TOO_BIG = ["(" * 10_000 + "1" + ")" * 10_000, "x" * 1_000_000]  # beyond every field's limit: a 4xx
# What no text field may refuse: hostile, but plain text.
PLAIN = re.compile("[\x00\ud800-\udfff]")


def must_accept(text: str) -> bool:
    return not PLAIN.search(text)


def post_json(client: TestClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    # ensure_ascii: a lone surrogate travels as the JSON escape \ud800 (it cannot be UTF-8 encoded)
    data = json.dumps(body, ensure_ascii=True).encode()
    return client.post(url, content=data, headers={**headers, "Content-Type": "application/json"})


def accepted(r: Any, text: str) -> bool:
    """True for a 2xx; otherwise the answer must be a clear 4xx (never a 500), and `text` not plain."""
    if 200 <= r.status_code < 300:
        return True
    assert 400 <= r.status_code < 500 and r.status_code != 404, (text[:40], r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        assert r.json()["detail"], r.text[:300]
    assert not must_accept(text) or len(text) > 10_000, (text[:40], "refused", r.text[:300])
    return False


def assert_escaped(html: str, shown: Any = ()) -> None:
    """No raw markup in the page; each string in `shown` appears in its escaped form."""
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped {marker!r} in the page"
    for text in shown:
        assert str(escape(text)) in html, f"{text[:60]!r} not shown (escaped) in the page"


def _pose(client: TestClient, ta: Account) -> dict[str, Any]:
    body = {"problem": FAMILY, "params": {"num_classes": 5}}
    r = post_json(client, "/api/v1/instances", body, ta.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# --- answers of checks: the API, the attempt history, the /me page -------------------------------------


def test_check_answers_are_wrong_verdicts_stored_exactly_and_shown_escaped(client, accounts) -> None:  # type: ignore[no-untyped-def]
    alice = accounts["student"]
    inst = _pose(client, accounts["ta"])
    url = f"/api/v1/instances/{inst['id']}/check"
    kept = []
    for text in ATTACKS + TOO_BIG:
        r = post_json(client, url, {"answers": {"loss": text}}, alice.headers)
        if accepted(r, text):
            part = r.json()["parts"]["loss"]
            assert part["correct"] is False and part["score"] == 0 and part["feedback"], (text[:40], part)
            kept.append(text)
    # An attack string as a part name: 422 naming it (JSON, so no markup is rendered), nothing stored.
    r = post_json(client, url, {"answers": {SCRIPT: "1", "loss": "ln(5)"}}, alice.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", f"answers.{SCRIPT}"]

    mine = client.get("/api/v1/me/attempts?limit=100", headers=alice.headers).json()
    assert [a["answers"]["loss"] for a in reversed(mine["data"])] == kept  # as sent, in order, once each
    page = client.get("/me", headers=alice.headers)
    assert page.status_code == 200
    assert_escaped(page.text, kept)


def test_preview_of_attack_strings_is_clear(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/instances", json={"problem": FAMILY, "seed": 1})
    url = f"/api/v1/instances/{r.json()['id']}/preview"
    for text in ATTACKS + TOO_BIG:
        r = post_json(client, url, {"part": "loss", "text": text}, {})
        if accepted(r, text) and r.json().get("html"):
            assert_escaped(r.json()["html"])


# --- the practice form ---------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has a CSRF token"
    return m.group(1)


def test_practice_form_keeps_answers_escaped_in_their_boxes(client) -> None:  # type: ignore[no-untyped-def]
    url = client.get(f"/practice/{FAMILY}", follow_redirects=False).headers["location"]
    iid, token = url.split("i=")[1], _csrf(client.get(url).text)
    for text in [t for t in ATTACKS if "\ud800" not in t]:  # a form cannot carry a lone surrogate
        data = {"csrf_token": token, "instance_id": iid, "loss": text}
        r = client.post(f"/practice/{FAMILY}", data=data)
        assert r.status_code == 200, (text[:40], r.status_code, r.text[:300])
        assert 'data-correct="false"' in r.text
        assert_escaped(r.text, [text])


# --- exams: titles, submissions as JSON and CSV, statistics, grades, TA queue and comments --------------


def _exam(client: TestClient, ta: Account, title: str, **extra: Any) -> Any:
    body = {"title": title, "items": [{"problem": FAMILY}], "variants": 1, "seed": 3, **extra}
    return post_json(client, "/api/v1/exams", body, ta.headers)


def test_exam_titles_are_stored_exactly_and_escaped_on_every_page(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"]
    made = []
    for title in [t for t in ATTACKS if len(t) <= 200] + TOO_BIG:  # titles: up to 200 characters
        r = _exam(client, ta, title)
        if accepted(r, title if len(title) <= 200 else "x" * 10_001):
            assert r.json()["title"] == title
            made.append((r.json(), title))
    listing = client.get("/exams", headers=ta.headers)
    assert listing.status_code == 200
    assert_escaped(listing.text, [t for _, t in made])
    for exam, title in made:
        assert client.get(f"/api/v1/exams/{exam['id']}", headers=ta.headers).json()["title"] == title
        if "<" not in title and "{" not in title:
            continue  # every title is on the listing above; the three pages of each are for markup
        code = exam["variants"][0]["code"]
        for url in (
            f"/exams/{exam['id']}",
            f"/api/v1/exams/{exam['id']}/variants/{code}.html",
            f"/api/v1/exams/{exam['id']}/answer-key.html",
        ):
            r = client.get(url, headers=ta.headers)
            assert r.status_code == 200, (url, r.status_code)
            assert_escaped(r.text, [title])


def _unguard(cell: str) -> str:
    """A cell that would start a spreadsheet formula is exported behind an apostrophe."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def test_exam_submissions_json_and_csv_store_names_and_answers_exactly(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"]
    exam = _exam(client, ta, "attacks").json()
    code = exam["variants"][0]["code"]
    url = f"/api/v1/exams/{exam['id']}/submissions"
    expected: dict[str, str] = {}  # student -> answer, as sent
    for n, text in enumerate(ATTACKS + TOO_BIG):
        student = f"{text[:50]}#{n}"
        body = {"student": student, "code": code, "answers": {"1": {"loss": text}}}
        r = post_json(client, url, body, ta.headers)
        if accepted(r, text):
            assert r.json()["student"] == student and r.json()["score"] == 0
            expected[student] = text
    for name in TOO_BIG:
        r = post_json(client, url, {"student": name, "code": code, "answers": {}}, ta.headers)
        assert r.status_code == 422 and "student" in r.text

    # The same through CSV: one class file, quoted by the csv module as a spreadsheet would.
    def class_file(rows: dict[str, str]) -> bytes:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["student", "code", "question", "part", "answer"])
        for student, text in rows.items():
            w.writerow([student, code, 1, "loss", text])
        return out.getvalue().encode("utf-8", "surrogatepass")

    csv_headers = {**ta.headers, "Content-Type": "text/csv"}
    plain = {f"csv {text[:40]}#{n}": text for n, text in enumerate(ATTACKS) if must_accept(text)}
    r = client.post(url, content=class_file(plain), headers=csv_headers)
    assert r.status_code == 200, r.text[:500]
    assert sorted(s["student"] for s in r.json()) == sorted(s.strip() for s in plain)
    expected.update({s.strip(): t for s, t in plain.items()})
    for n, text in enumerate([t for t in ATTACKS if not must_accept(t)] + TOO_BIG):
        for row in ({f"csv bad {n}": text}, {text: "1"}):
            r = client.post(url, content=class_file(row), headers=csv_headers)
            if accepted(r, text if len(text) <= 10_000 else "x" * 10_001):
                student, answer = next(iter(row.items()))
                expected[student.strip()] = answer

    # Read back: statistics (JSON), the statistics page, grades.csv.
    st = client.get(f"/api/v1/exams/{exam['id']}/stats", headers=ta.headers).json()
    assert {s["student"] for s in st["students"]} == set(expected)
    page = client.get(f"/exams/{exam['id']}", headers=ta.headers)
    assert page.status_code == 200
    assert_escaped(page.text, list(expected))
    grades = client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta.headers)
    rows = list(csv.DictReader(io.StringIO(grades.text)))
    assert {_unguard(r["student"]) for r in rows} == set(expected)
    for r in rows:  # a spreadsheet must not run a student name as a formula
        assert not r["student"].startswith(("=", "+", "-", "@")), r["student"]
    # Read back through the API a script uses: each name found by itself, each answer as it was sent.
    listed = client.get(url, params={"limit": 1000}, headers=ta.headers).json()
    assert listed["count"] == len(expected) and {s["student"] for s in listed["data"]} == set(expected)
    for student, text in expected.items():
        found = client.get(url, params={"student": student}, headers=ta.headers)
        assert found.status_code == 200 and [s["student"] for s in found.json()["data"]] == [student]
        shown = client.get(f"{url}/{found.json()['data'][0]['id']}", headers=ta.headers)
        assert shown.status_code == 200 and shown.json()["answers"] == {"1": {"loss": text}}, student


def test_short_answers_and_ta_comments_are_stored_exactly_and_escaped(client, accounts) -> None:  # type: ignore[no-untyped-def]
    from problems.concepts import short_answer_items

    ta, alice = accounts["ta"], accounts["student"]
    item = next(iter(short_answer_items()))
    exam_body = {
        "title": "hw",
        "items": [{"problem": "concept.short_answer", "params": {"item": item}}],
        "kind": "homework",
    }
    exam = post_json(client, "/api/v1/exams", exam_body, ta.headers).json()
    assert client.get(f"/api/v1/exams/{exam['id']}/mine", headers=alice.headers).status_code == 200
    url = f"/api/v1/exams/{exam['id']}/mine/answers"
    for text in [t for t in ATTACKS if not must_accept(t)] + TOO_BIG:
        r = post_json(client, url, {"question": 1, "answers": {"answer": text}}, alice.headers)
        accepted(r, text if len(text) <= 10_000 else "x" * 10_001)  # NUL: SQLite keeps it, PostgreSQL 422
    answer = "\n".join(t for t in ATTACKS if must_accept(t))
    r = post_json(client, url, {"question": 1, "answers": {"answer": answer}}, alice.headers)
    assert r.status_code == 200, r.text[:300]
    queue = client.get(f"/api/v1/exams/{exam['id']}/manual", headers=ta.headers).json()
    waiting = [q for q in queue if q["answer"] == answer]
    assert len(waiting) == 1, [q["answer"][:40] for q in queue]
    grade_url = f"/api/v1/exams/{exam['id']}/submissions/{waiting[0]['submission']}/grade"
    comment = ""
    for text in ATTACKS + TOO_BIG:
        body = {"question": 1, "part": "answer", "score": 0.5, "comment": text}
        if accepted(
            post_json(client, grade_url, body, ta.headers), text if len(text) <= 5000 else "x" * 10_001
        ):
            comment = text
    assert comment == ATTACKS[-1]
    page = client.get("/me", headers=alice.headers)
    assert page.status_code == 200
    assert_escaped(page.text)


# --- custom questions: the TA's statement and reference ------------------------------------------------


def test_custom_question_text_is_stored_exactly_and_rendered_escaped(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta = accounts["ta"]
    posed = []
    for text in ATTACKS + TOO_BIG:
        params = {"answer_type": "real", "reference": "2.5", "statement": {"zh": text, "en": text}}
        r = post_json(client, "/api/v1/instances", {"problem": "custom.answer", "params": params}, ta.headers)
        if accepted(r, text if len(text) <= 5000 else "x" * 10_001):
            assert r.json()["params"]["statement"] == {"zh": text, "en": text}
            posed.append((r.json()["id"], text))
    exam_items = []
    for iid, text in posed:
        again = client.get(
            f"/api/v1/instances/{iid}", headers=ta.headers
        ).json()  # a TA's copy: with its answer
        assert again["params"]["statement"]["en"] == text
        page = client.get(f"/practice/custom.answer?i={iid}")
        assert page.status_code == 200
        assert_escaped(page.text)
        exam_items.append({"problem": "custom.answer", "params": again["params"]})
    exam = post_json(client, "/api/v1/exams", {"title": "t", "items": exam_items[:60]}, ta.headers).json()
    code = exam["variants"][0]["code"]
    for url in (f"variants/{code}.html", "answer-key.html"):
        r = client.get(f"/api/v1/exams/{exam['id']}/{url}", headers=ta.headers)
        assert r.status_code == 200
        assert_escaped(r.text)
    # An attack string as the reference answer cannot be read: refused, naming the field.
    for text in ATTACKS:
        params = {"answer_type": "real", "reference": text, "statement": {"zh": "问", "en": "Q"}}
        r = post_json(client, "/api/v1/instances", {"problem": "custom.answer", "params": params}, ta.headers)
        assert r.status_code == 422 and "reference" in r.text, (text[:40], r.status_code)


# --- accounts: create-user, roster import, registration, login -----------------------------------------


def test_account_names_are_refused_and_display_names_kept(client, accounts) -> None:  # type: ignore[no-untyped-def]
    boss = accounts["instructor"]
    for n, text in enumerate(ATTACKS + TOO_BIG):
        r = post_json(client, "/api/v1/users", {"name": text, "role": "student"}, boss.headers)
        if NAME_RE.fullmatch(text):  # "1e999999" is a fine user name
            assert r.status_code == 201 and r.json()["name"] == text
        else:
            assert r.status_code == 422 and "name" in r.text, (text[:40], r.status_code)
        r = post_json(client, "/api/v1/users", {"name": f"u{n}", "display_name": text}, boss.headers)
        if accepted(r, text if len(text) <= 128 else "x" * 10_001):
            assert r.json()["display_name"] == text.strip()
        r = post_json(client, "/api/v1/auth/token", {"name": text[:64], "password": "x"}, {})
        assert r.status_code in (401, 422, 429), (text[:40], r.status_code)
    for text in ATTACKS:  # hostile text in query strings and paths: a clear 4xx, never a 500
        as_url = quote(text[:64], safe="", errors="surrogatepass")  # a lone surrogate as raw bytes
        r = client.get(f"/api/v1/attempts?user={as_url}", headers=boss.headers)
        assert r.status_code in (200, 404, 422), (text[:40], r.status_code)
        r = client.get(f"/api/v1/instances/{as_url[:90]}")
        assert 400 <= r.status_code < 500, (text[:40], r.status_code)


def test_roster_import_and_registration_echo_names_escaped(db_url) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, registration_code="course-2026")
    add_account(app, "ivan", "instructor")
    names = [t for t in ATTACKS if must_accept(t) and len(t) <= 128]
    with TestClient(app) as c:
        token = _csrf(c.get("/login").text)
        c.post("/login", data={"name": "ivan", "password": "correct horse battery", "csrf_token": token})
        form = c.get("/roster")
        assert form.status_code == 200
        token = _csrf(form.text)

        def roster(rows: list[list[str]]) -> str:
            out = io.StringIO()
            csv.writer(out).writerows([["学号", "姓名"], *rows])
            return out.getvalue()

        r = c.post(
            "/roster",
            data={"csrf_token": token, "roster_text": roster([[f"s{n}", t] for n, t in enumerate(names)])},
        )
        assert r.status_code == 200, r.text[:500]
        assert f'data-created="{len(names)}"' in r.text
        assert_escaped(r.text, [t.strip() for t in names])
        # Attack strings as student ids: refused, and the error echoes them escaped.
        r = c.post("/roster", data={"csrf_token": token, "roster_text": roster([[t, "x"] for t in names])})
        assert r.status_code == 422
        assert_escaped(r.text)
        r = c.post("/roster", data={"csrf_token": token, "roster_text": roster([["z1", "1\x00"]])})
        assert r.status_code in (200, 422), r.status_code
        assert_escaped(r.text)
        for huge in ("z2," + "x" * 200_000, "z3," + "x" * 1_000_000):  # over the csv field / form limits
            r = c.post("/roster", data={"csrf_token": token, "roster_text": huge})
            assert r.status_code == 422, r.status_code

    with TestClient(app) as c:  # a visitor registering with hostile names
        for text in [t for t in ATTACKS if "\ud800" not in t]:
            token = _csrf(c.get("/register").text)
            data = {
                "name": text[:64],
                "password": "long enough pw",
                "code": "course-2026",
                "csrf_token": token,
            }
            r = c.post("/register", data=data, follow_redirects=False)
            assert r.status_code == (303 if NAME_RE.fullmatch(text) else 422), (text[:40], r.status_code)
            assert_escaped(r.text)
            c.cookies.clear()
        token = _csrf(c.get("/login").text)
        r = c.post("/login", data={"name": SCRIPT, "password": "x", "csrf_token": token})
        assert r.status_code == 401
        assert_escaped(r.text, [SCRIPT])


def test_practice_short_answer_comment_is_stored_exactly_and_shown_escaped(client, accounts) -> None:  # type: ignore[no-untyped-def]
    from problems.concepts import short_answer_items

    ta, alice = accounts["ta"], accounts["student"]
    body = {"problem": "concept.short_answer", "params": {"item": next(iter(short_answer_items()))}}
    inst = post_json(client, "/api/v1/instances", body, ta.headers).json()
    r = post_json(
        client, f"/api/v1/instances/{inst['id']}/check", {"answers": {"answer": IMG}}, alice.headers
    )
    assert r.status_code == 200, r.text[:300]
    attempt_id = r.json()["attempt_id"]
    comment = ""
    for text in ATTACKS + TOO_BIG:
        body = {"score": 0.5, "comment": text}
        r = post_json(client, f"/api/v1/attempts/{attempt_id}/grade", body, ta.headers)
        if accepted(r, text if len(text) <= 5000 else "x" * 10_001):
            assert r.json()["manual_comment"] == text
            comment = text
    assert comment == ATTACKS[-1]
    page = client.get("/me", headers=alice.headers)
    assert_escaped(page.text, [IMG, comment])
    for bad_id in ("0", "-1", str(2**63), str(10**30)):  # ids beyond any integer column: 404 or 422
        r = post_json(client, f"/api/v1/attempts/{bad_id}/grade", {"score": 0.5}, ta.headers)
        assert r.status_code in (404, 422), (bad_id, r.status_code, r.text[:200])


@pytest.mark.parametrize("depth", [17, 300, 5000])
def test_deeply_nested_params_are_refused_with_a_422(client, accounts, depth) -> None:  # type: ignore[no-untyped-def]
    from app.schemas.common import MAX_PARAMS_DEPTH

    # Built as text: json.dumps of a 5000-deep dict would itself hit the recursion limit.
    nested = '{"a":' * depth + "1" + "}" * depth
    ta = accounts["ta"].headers
    bodies = {
        "/api/v1/exams": '{"title":"t","items":[{"problem":"loss.uniform_prediction","params":'
        + nested
        + "}]}",
        "/api/v1/instances": '{"problem":"loss.uniform_prediction","params":' + nested + "}",
    }
    for url, body in bodies.items():
        r = client.post(url, content=body, headers={**ta, "Content-Type": "application/json"})
        assert r.status_code in (400, 422), f"{url}: {r.status_code} {r.text[:200]}"
        detail = json.dumps(r.json())
        assert f"deeper than {MAX_PARAMS_DEPTH}" in detail or "nested too deeply" in detail, detail[:300]


# --- addresses, query strings and headers: the text a link or a script can carry -----------------------
def test_attack_strings_in_paths_queries_and_headers_are_clear_4xx_or_escaped(client, accounts) -> None:  # type: ignore[no-untyped-def]
    ta, alice = accounts["ta"], accounts["student"]
    inst = _pose(client, ta)
    for text in [*ATTACKS, "../../etc/passwd", "%00", "a" * 5000]:
        if not must_accept(text):
            continue
        q = quote(text, safe="")
        urls = [
            (f"/api/v1/instances/{q}", ta.headers),
            (f"/api/v1/instances/{q}/solution", ta.headers),
            (f"/api/v1/exams/{q}", ta.headers),
            (f"/api/v1/exams/{q}/variants/{q}.pdf", ta.headers),
            (f"/api/v1/attempts?user={q}&problem={q}", ta.headers),
            (f"/api/v1/me/attempts?problem={q}", alice.headers),
            (f"/api/v1/problems?tag={q}", {}),
            (f"/practice/{q}", {}),
            (f"/practice/{FAMILY}?i={q}", {}),
            (f"/practice/{FAMILY}/solution?i={q}", {}),
            (f"/?lang={q}", {}),
            (f"/login?next={q}", {}),
        ]
        for url, headers in urls:
            r = client.get(url, headers=headers, follow_redirects=False)
            assert r.status_code < 500, (url[:80], r.status_code, r.text[:200])
            assert r.status_code in (200, 303, 400, 403, 404, 405, 422), (url[:80], r.status_code)
            if r.headers.get("content-type", "").startswith("text/html"):
                assert_escaped(r.text)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/") and not r.headers["location"].startswith("//")
        # A header: the Idempotency-Key is the client's text, stored and compared, never interpreted.
        key = text[:128].encode("ascii", "ignore").decode().strip()
        if key and all(32 <= ord(c) < 127 for c in key):
            r = post_json(
                client,
                f"/api/v1/instances/{inst['id']}/check",
                {"answers": {"loss": "1"}},
                {**alice.headers, "Idempotency-Key": key},
            )
            assert r.status_code == 200, (key[:40], r.status_code, r.text[:200])


@pytest.mark.parametrize("depth", [3, 150, 600])
def test_answers_nested_in_answers_are_a_422_wherever_an_answer_goes(client, accounts, depth) -> None:  # type: ignore[no-untyped-def]
    """An answer is text (or a number): a dict in its place is refused naming it. Nested hundreds
    deep, the reading of numbers as text walked it to the recursion limit (a 500), with no login."""
    nested = '{"a":' * depth + "1" + "}" * depth
    inst = _pose(client, accounts["ta"])
    exam = client.post(
        "/api/v1/exams", json={"title": "t", "items": [{"problem": FAMILY}]}, headers=accounts["ta"].headers
    ).json()
    code = exam["variants"][0]["code"]
    bodies = {
        f"/api/v1/instances/{inst['id']}/check": '{"answers":{"loss":' + nested + "}}",
        f"/api/v1/instances/{inst['id']}/preview": '{"part":"loss","text":' + nested + "}",
        f"/api/v1/exams/{exam['id']}/submissions": '{"student":"s","code":"'
        + code
        + '","answers":{"1":{"loss":'
        + nested
        + "}}}",
    }
    for url, body in bodies.items():
        r = client.post(
            url, content=body, headers={**accounts["ta"].headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 422, f"{url}: {r.status_code} {r.text[:200]}"
        assert any(w in r.text for w in ("loss", "text", "JSON", "nested")), r.text[:300]
