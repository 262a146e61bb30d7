"""Bounded work: a cooperative deadline that works in any thread (no signals).

Every size limit is checked before the work it protects (parse.py, values.py), so hostile
text is refused at once instead of computed: `9**9**9**9`, `1e999999`, `factorial(100000)`.
What is left — building sympy objects from at most MAX_TOKENS tokens and evaluating them at
a few points — checks the deadline between steps, so one check ends within CHECK_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CHECK_SECONDS = 1.0  # hard bound of one check, sympy included


class OutOfTime(Exception):
    """The deadline of the current check has passed."""


class Deadline:
    """A wall-clock budget, checked between steps."""

    __slots__ = ("end",)

    def __init__(self, seconds: float = CHECK_SECONDS) -> None:
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise OutOfTime


# The deadline of the check running in this thread or task; a context variable rather than a
# global so that concurrent checks in a web server's threads each keep their own.
_CURRENT: ContextVar[Deadline | None] = ContextVar("grader_deadline", default=None)


@contextmanager
def bounded(seconds: float = CHECK_SECONDS) -> Iterator[Deadline]:
    """Run the body under a deadline; an enclosing deadline, if sooner, still holds."""
    outer = _CURRENT.get()
    mine = Deadline(seconds)
    if outer is not None and outer.end < mine.end:
        mine = outer
    token = _CURRENT.set(mine)
    try:
        yield mine
    finally:
        _CURRENT.reset(token)


def tick() -> None:
    """Raise OutOfTime if the current check's deadline has passed (cheap: one clock read)."""
    d = _CURRENT.get()
    if d is not None:
        d.check()
