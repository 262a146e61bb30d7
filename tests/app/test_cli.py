"""The dlgrader command: migrate, create-user (token on the last line), check-bank, export/import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from problems.base import Family, Params, Part, bi
from problems.checkbank import check_family

EXE = str(Path(sys.executable).parent / "dlgrader")
ROOT = Path(__file__).resolve().parent.parent.parent


def run(args: list[str], url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DLGRADER_DATABASE_URL": url}
    return subprocess.run(
        [EXE, *args], env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_migrate_create_user_and_use_the_token(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/cli.db"
    assert run(["migrate"], url).returncode == 0
    r = run(["create-user", "tina", "--role", "ta", "--password-stdin"], url, stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("dlg_") and " " not in token
    dup = run(["create-user", "tina"], url)
    assert dup.returncode == 2 and "exists" in dup.stderr
    # A Chinese name is a display name: the login name stays an id (an instructor tried 张三).
    chinese = run(["create-user", "张三"], url)
    assert chinese.returncode == 2 and "display name" in chinese.stderr
    zs = run(["create-user", "2022012345", "--display-name", "张三"], url)
    assert zs.returncode == 0, zs.stderr

    from fastapi.testclient import TestClient

    from tests.conftest import make_app

    with TestClient(make_app(url)) as c:
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "ta"
        zs_token = zs.stdout.strip().splitlines()[-1]
        assert (
            c.get("/api/v1/me", headers={"Authorization": f"Bearer {zs_token}"}).json()["display_name"]
            == "张三"
        )
        login = c.post("/api/v1/auth/token", json={"name": "tina", "password": "a long password"})
        assert login.status_code == 201


def test_export_import_round_trips(db_url, tmp_path, app) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.conftest import add_account, make_app

    alice = add_account(app, "alice", "student")
    ta = add_account(app, "tina", "ta")
    with TestClient(app) as c:
        inst = c.post("/api/v1/instances", json={"problem": "loss.uniform_prediction", "seed": 9}).json()
        for answer in ("1", "ln(2)", "中文答案"):
            c.post(
                f"/api/v1/instances/{inst['id']}/check",
                json={"answers": {"loss": answer}},
                headers=alice.headers,
            )
        # A printed exam graded from a class's answers, and homework a student has started online.
        items = [{"problem": "loss.uniform_prediction"}, {"problem": "concept.short_answer"}]
        paper = c.post(
            "/api/v1/exams", json={"title": "期中 mock", "items": items, "variants": 2}, headers=ta.headers
        ).json()
        sub = {
            "student": "s1",
            "code": paper["variants"][1]["code"],
            "answers": {"1": {"loss": "1"}, "2": {"answer": "梯度"}},
        }
        assert (
            c.post(f"/api/v1/exams/{paper['id']}/submissions", json=sub, headers=ta.headers).status_code
            == 200
        )
        homework = c.post(
            "/api/v1/exams", json={"title": "hw", "items": items[:1], "kind": "homework"}, headers=ta.headers
        ).json()
        assert c.get(f"/api/v1/exams/{homework['id']}/mine", headers=alice.headers).status_code == 200
        mine = {"question": 1, "answers": {"loss": "2"}}
        r = c.post(f"/api/v1/exams/{homework['id']}/mine/answers", json=mine, headers=alice.headers)
        assert r.status_code == 200, r.text
    backup = tmp_path / "backup.jsonl"
    r = run(["export", "-o", str(backup)], db_url)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in backup.read_text(encoding="utf-8").splitlines()]
    kinds = [x["kind"] for x in lines]
    assert kinds.count("attempt") == 3, r.stderr
    assert kinds.count("exam") == 2 and kinds.count("exam_assignment") == 1, (r.stderr, kinds)
    assert kinds.count("exam_submission") == 2
    fresh = f"sqlite:///{tmp_path}/restored.db"
    assert run(["migrate"], fresh).returncode == 0
    assert run(["import", str(backup)], fresh).returncode == 0
    again = run(["import", str(backup)], fresh)  # idempotent
    assert "0 attempts" in again.stdout and "0 exams" in again.stdout and "0 exam_submissions" in again.stdout
    second = tmp_path / "second.jsonl"
    assert run(["export", "-o", str(second)], fresh).returncode == 0
    assert second.read_text(encoding="utf-8") == backup.read_text(encoding="utf-8")
    with TestClient(make_app(fresh)) as c:  # the restored exam grades and prints as before
        restored_ta = c.post("/api/v1/auth/token", json={"name": "tina", "password": ta.password}).json()
        h = {"Authorization": f"Bearer {restored_ta['token']}"}
        grades = c.get(f"/api/v1/exams/{paper['id']}/grades.csv", headers=h)
        assert grades.status_code == 200 and "s1" in grades.text
        assert c.get(f"/api/v1/exams/{paper['id']}/answer-key.html", headers=h).status_code == 200


class _BrokenParams(Params):
    k: int = Field(default=2, ge=1, le=3)


class _Broken(Family[_BrokenParams]):
    """A family whose reference answer is wrong on purpose: check-bank must catch it."""

    id = "test.broken"
    title = bi("坏", "broken")
    difficulty = 1
    tags = ("ffn",)
    Params = _BrokenParams

    def generate(self, rng: np.random.Generator) -> _BrokenParams:
        return _BrokenParams(k=int(rng.integers(1, 4)))

    def parts(self, p: _BrokenParams) -> list[Part]:
        from grader import AnswerSpec

        return [Part("n", AnswerSpec("integer"), bi("n", "n"))]

    def solve(self, p: _BrokenParams) -> dict[str, str]:
        return {"n": "not a number ("}

    def statement(self, p: _BrokenParams) -> dict[str, str]:
        return bi("?", "?")

    def solution(self, p: _BrokenParams) -> dict[str, list[str]]:
        return {"zh": [], "en": ["x"]}


def test_check_bank_reports_a_broken_family() -> None:
    from problems.registry import REGISTRY

    REGISTRY["test.broken"] = _Broken()
    try:
        report = check_family(REGISTRY["test.broken"], range(3))
    finally:
        REGISTRY.pop("test.broken")
    assert any("empty solution (zh)" in f for f in report.failures)
    assert any("reference of 'n' scores 0" in f for f in report.failures)


@pytest.mark.parametrize(
    "args",
    [
        ["check-bank", "--seeds", "3", "--problem", "loss.uniform_prediction"],
        # shared out to two processes, the reports still come back in the order asked
        [
            "check-bank",
            "--seeds",
            "3",
            "--jobs",
            "2",
            "--problem",
            "rl.epsilon_greedy",
            "--problem",
            "cnn.pool2d",
        ],
    ],
)
def test_check_bank_command_passes_on_a_good_family(args, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = run(args, f"sqlite:///{tmp_path}/x.db")
    assert r.returncode == 0 and "0 failing" in r.stdout
    named = [args[i + 1] for i, a in enumerate(args) if a == "--problem"]
    listed = [line.split()[0] for line in r.stdout.splitlines() if "seeds=" in line]
    assert listed == named
    bad = run(["check-bank", "--problem", "nope.nope"], f"sqlite:///{tmp_path}/x.db")
    assert bad.returncode != 0


def test_mistakes_at_the_command_line_get_one_line_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/fresh.db"
    cases = [
        (["create-user", "bob"], None, "run `dlgrader migrate` first"),  # a database never migrated
        (["import", str(tmp_path / "missing.jsonl")], None, "No such file"),
        (["import"], "not json\n", "line 1: not a backup record"),
        (["export", "-o", str(tmp_path / "no" / "dir" / "x.jsonl")], None, "No such file"),
        (["check-bank", "--seeds", "0"], None, "must be at least 1"),  # it said "ok", having tested nothing
    ]
    for i, (args, stdin, words) in enumerate(cases):
        if i == 1:
            assert run(["migrate"], url).returncode == 0
        r = run(args, url, stdin=stdin)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
