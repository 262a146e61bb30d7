"""Progress: what counts towards a student's accuracy, and which family to practise next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import User
from app.services import progress

SHORT = "concept.short_answer"
LOSS = "loss.uniform_prediction"


def _stats(app, name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    with app.state.session_factory() as s:
        user = s.scalar(select(User).where(User.name == name))
        return progress.family_stats(s, user=user), progress.attempts_over_time(s, user=user)


def test_a_short_answer_waiting_for_a_ta_is_not_a_zero(app, client, accounts) -> None:  # type: ignore[no-untyped-def]
    alice, ta = accounts["student"].headers, accounts["ta"].headers
    inst = client.post("/api/v1/instances", json={"problem": SHORT, "seed": 3}).json()
    r = client.post(
        f"/api/v1/instances/{inst['id']}/check", json={"answers": {"answer": "梯度消失"}}, headers=alice
    )
    assert r.status_code == 200
    attempt = r.json()["attempt_id"]
    loss = client.post("/api/v1/instances", json={"problem": LOSS, "seed": 3}).json()
    client.post(f"/api/v1/instances/{loss['id']}/check", json={"answers": {"loss": "1"}}, headers=alice)

    stats, series = _stats(app, "alice")
    assert SHORT not in stats, "pending: no accuracy yet"
    assert [p for _, p, _ in series] == [LOSS]

    g = client.post(f"/api/v1/attempts/{attempt}/grade", json={"score": 0.75, "comment": "好"}, headers=ta)
    assert g.status_code == 200, g.text
    stats, series = _stats(app, "alice")
    assert stats[SHORT].attempts == 1 and stats[SHORT].recent_accuracy == 0.75
    assert [(p, s) for _, p, s in series if p == SHORT] == [(SHORT, 0.75)]


def _stat(problem: str, accuracy: float, minutes_ago: float, now: datetime) -> progress.FamilyStat:
    return progress.FamilyStat(problem, 5, accuracy, now - timedelta(minutes=minutes_ago))


def test_weak_spots_come_first_and_a_just_failed_family_waits() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    stats = {
        "a": _stat("a", 0.9, 120, now),  # known well
        "b": _stat("b", 0.2, 120, now),  # weak, practised long ago
        "c": _stat("c", 0.0, 2, now),  # failed two minutes ago: cooling down
        "d": _stat("d", 0.4, 120, now),
    }
    families = ["a", "b", "c", "d", "e"]  # e never tried: half known
    order = []
    remaining = list(families)
    while remaining:
        pick = progress.next_weak_spot({k: v for k, v in stats.items() if k in remaining}, remaining, now)
        order.append(pick)
        remaining.remove(pick)
    assert order == ["b", "d", "e", "a", "c"]
    # After the cooldown the failed family is the weakest spot again.
    later = now + timedelta(hours=2)
    assert progress.next_weak_spot(stats, families, later) == "c"
    # With nothing else left, a cooling family is still offered.
    assert progress.next_weak_spot(stats, ["c"], now) == "c"


def test_a_family_just_practised_grows_back_over_an_hour() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    # Equal accuracy: the one practised longer ago comes first.
    stats = {"x": _stat("x", 0.5, 20, now), "y": _stat("y", 0.5, 50, now)}
    assert progress.next_weak_spot(stats, ["x", "y"], now) == "y"
