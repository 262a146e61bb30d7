"""The import rules of style.md hold (import-linter), and no code path evaluates text."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency"
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_eval_exec_sympify_or_parse_expr_in_code() -> None:
    bad = re.compile(r"\b(eval|exec|sympify|parse_expr)\s*\(")
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for pkg in ("grader", "problems", "app")
        for p in (ROOT / pkg).rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if bad.search(line) and not line.lstrip().startswith("#")
    ]
    assert hits == []
