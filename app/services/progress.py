"""A student's accuracy per family and chapter, and which families to practise next."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attempt, User

RECENT = 10  # accuracy is the mean score of the last RECENT attempts of a family

# A short answer waiting for a TA has score 0 until it is graded: it is not yet a result, and
# counting it would show a weak spot that is not there.
_JUDGED = ~(Attempt.needs_manual.is_(True) & Attempt.graded_at.is_(None))


@dataclass(frozen=True)
class FamilyStat:
    problem: str
    attempts: int
    recent_accuracy: float
    last_at: datetime


def family_stats(session: Session, *, user: User) -> dict[str, FamilyStat]:
    rows = session.execute(
        select(Attempt.problem, Attempt.score, Attempt.created_at)
        .where(Attempt.user_id == user.id, _JUDGED)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())
        .limit(5000)
    ).all()
    by: dict[str, list[tuple[float, datetime]]] = defaultdict(list)
    for problem, score, at in rows:
        by[problem].append((score, at))
    return {
        p: FamilyStat(p, len(xs), sum(s for s, _ in xs[:RECENT]) / min(len(xs), RECENT), xs[0][1])
        for p, xs in by.items()
    }


def chapter_accuracy(stats: dict[str, FamilyStat], chapter_of_problem: dict[str, str]) -> dict[str, float]:
    """Mean of the families' recent accuracy within each chapter that has attempts."""
    by: dict[str, list[float]] = defaultdict(list)
    for p, s in stats.items():
        if p in chapter_of_problem:
            by[chapter_of_problem[p]].append(s.recent_accuracy)
    return {c: sum(xs) / len(xs) for c, xs in by.items()}


COOLDOWN_MINUTES = 15.0  # a family just practised waits this long before it is suggested again


def next_weak_spot(
    stats: dict[str, FamilyStat], families: list[str], now: datetime, tie_break: float = 0.0
) -> str:
    """The family to practise next: lowest recent accuracy first, spaced so a just-failed one waits.

    Untried families count as half-known. A family practised within COOLDOWN_MINUTES is held
    back (its priority grows back over an hour), so a student who just failed comes back to
    it later rather than at once; with nothing else left it is still offered.
    """

    def priority(p: str) -> float:
        s = stats.get(p)
        if s is None:
            return 0.5
        minutes = (now - s.last_at).total_seconds() / 60
        if minutes < COOLDOWN_MINUTES:
            return -1.0 + (1 - s.recent_accuracy) * 1e-3
        return (1 - s.recent_accuracy) * min(1.0, minutes / 60)

    ranked = sorted(families, key=lambda p: (-priority(p), hash((p, tie_break)) & 0xFFFF))
    return ranked[0]


def attempts_over_time(
    session: Session, *, user: User, limit: int = 500
) -> list[tuple[datetime, str, float]]:
    rows = session.execute(
        select(Attempt.created_at, Attempt.problem, Attempt.score)
        .where(Attempt.user_id == user.id, _JUDGED)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1], r[2]) for r in reversed(rows)]
