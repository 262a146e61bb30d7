"""The bank is loaded whole before any lookup answers, whichever thread asks first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_threads_asking_together_on_a_cold_process_all_find_the_family() -> None:
    """Server threads reach a cold worker together. The bank was marked loaded before its modules
    were imported, and 7 of 8 such threads got UnknownProblem (a 500). A fresh interpreter, so the
    bank is cold as in a new worker."""
    code = textwrap.dedent(
        """
        import threading
        from problems.registry import get_family
        errors = []
        def ask():
            try:
                get_family("rl.q_learning_update")
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(errors), errors[:1])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("0 "), out.stdout


def test_a_family_without_its_title_is_refused_when_registered() -> None:
    """A slip of an edit turned positional_encoding's title into a comment; the exam builder page
    then failed with a 500, far from the cause."""
    import pytest

    from problems.base import Family
    from problems.registry import register

    class Untitled(Family):  # type: ignore[type-arg]
        id = "test.untitled"

    with pytest.raises(RuntimeError, match="has no title"):
        register(Untitled)
