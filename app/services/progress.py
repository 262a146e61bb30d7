"""A student's accuracy per family and chapter, and which families to practise next."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import case, select
from sqlalchemy.orm import Session

import problems
from app.models import Attempt, InstanceRecord, User
from problems.syllabus import chapter_of

RECENT = 10  # accuracy is the mean score of the last RECENT attempts of a family

# A short answer waiting for a TA has score 0 until it is graded: it is not yet a result, and
# counting it would show a weak spot that is not there.
_JUDGED = ~(Attempt.needs_manual.is_(True) & Attempt.graded_at.is_(None))
Judged = tuple[str, str | None, float, datetime]  # family, bank item posed (or None), score, when


@dataclass(frozen=True)
class FamilyStat:
    problem: str
    attempts: int
    recent_accuracy: float
    last_at: datetime


@cache
def _item_families() -> tuple[str, ...]:
    """The families that pose a bank item (an `item` param), which may be of another chapter."""
    return tuple(f.id for f in problems.all_families() if "item" in f.Params.model_fields)


def judged_attempts(session: Session, *, user: User) -> list[Judged]:
    """The user's judged attempts, newest first (at most 5000): family, the bank item it posed
    (None for a family without items), score and when.

    The item is read from the stored params in the query, no instance rebuilt, and only for the
    families that have items: reading every attempt's params (a JSON parse a row) made the query
    of a 5000-attempt history about twice as slow, on SQLite and on PostgreSQL.
    """
    item = case(
        (
            Attempt.problem.in_(_item_families()),
            select(InstanceRecord.params["item"].as_string())
            .where(InstanceRecord.id == Attempt.instance_id)
            .scalar_subquery(),
        )
    )
    rows = session.execute(
        select(Attempt.problem, item, Attempt.score, Attempt.created_at)
        .where(Attempt.user_id == user.id, _JUDGED)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())
        .limit(5000)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def family_stats(attempts: list[Judged]) -> dict[str, FamilyStat]:
    """Each family's attempts, recent accuracy and last attempt (`attempts` newest first)."""
    by: dict[str, list[tuple[float, datetime]]] = defaultdict(list)
    for problem, _, score, at in attempts:
        by[problem].append((score, at))
    return {
        p: FamilyStat(p, len(xs), sum(s for s, _ in xs[:RECENT]) / min(len(xs), RECENT), xs[0][1])
        for p, xs in by.items()
    }


@lru_cache(maxsize=4096)
def chapter_of_question(problem: str, item: str | None) -> str | None:
    """The chapter of what an instance asked: its bank item's when the family poses items of their
    own chapters (a concept question on RL is RL), else the family's; None for a family gone."""
    try:
        family = problems.get_family(problem)
    except problems.UnknownProblem:
        return None
    return (item is not None and family.item_chapter(item)) or chapter_of(family.tags)


def chapter_accuracy(attempts: list[Judged]) -> dict[str, float]:
    """Mean recent accuracy of the families practised in each chapter, an attempt counted under the
    chapter of what it asked: a concept family's attempts under their items' chapters."""
    recent: dict[tuple[str, str], list[float]] = defaultdict(list)
    for problem, item, score, _ in attempts:
        chapter = chapter_of_question(problem, item)
        if chapter is not None and len(recent[problem, chapter]) < RECENT:
            recent[problem, chapter].append(score)
    by: dict[str, list[float]] = defaultdict(list)
    for (_, chapter), scores in recent.items():
        by[chapter].append(sum(scores) / len(scores))
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
