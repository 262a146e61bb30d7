"""Progress: what counts towards a student's accuracy, and which family to practise next."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import problems
from app.models import User
from app.services import progress
from problems.concepts import choice_items, items_by_chapter, short_answer_items
from problems.syllabus import CHAPTERS

CHOICE = "concept.choice"
SHORT = "concept.short_answer"
LOSS = "loss.uniform_prediction"


def _stats(app, name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    with app.state.session_factory() as s:
        user = s.scalar(select(User).where(User.name == name))
        stats = progress.family_stats(progress.judged_attempts(s, user=user))
        return stats, progress.attempts_over_time(s, user=user)


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


def _chapter_chart(html: str) -> list[tuple[str, int]]:
    """The /me chapter chart's bars as (label, percent), top to bottom."""
    chart = html.split('<svg class="chart"')[1].split("</svg>")[0]
    labels = re.findall(r'<text x="0" [^>]*><title>([^<]+)</title>', chart)
    percents = [int(x) for x in re.findall(r">(\d+)%</text>", chart)]
    return list(zip(labels, percents, strict=True))


def _pose(client, ta, problem: str, params: dict) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/instances", json={"problem": problem, "params": params}, headers=ta)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_concept_item_counts_under_its_own_chapter(app, client, accounts, lang) -> None:  # type: ignore[no-untyped-def]
    """The concept families are filed under ml_basics; their items are of every chapter, and an
    attempt at one is progress in the item's chapter, not in the family's."""
    alice, ta = accounts["student"].headers, accounts["ta"].headers
    rl_item = items_by_chapter(choice_items())["rl"][0]
    cnn_item = items_by_chapter(choice_items())["cnn"][0]
    attention_item = items_by_chapter(short_answer_items())["attention"][0]
    right = problems.instantiate(CHOICE, params={"item": rl_item}).answers["choice"]
    cnn = problems.instantiate(CHOICE, params={"item": cnn_item})
    wrong = next(c for c in cnn.parts[0].spec.choices if c != cnn.answers["choice"])
    for problem, item, answers in [
        (CHOICE, rl_item, {"choice": right}),
        (CHOICE, cnn_item, {"choice": wrong}),
        (SHORT, attention_item, {"answer": "注意力权重由查询与键的相似度决定"}),
    ]:
        iid = _pose(client, ta, problem, {"item": item})
        r = client.post(f"/api/v1/instances/{iid}/check", json={"answers": answers}, headers=alice)
        assert r.status_code == 200, r.text
    short_attempt = r.json()["attempt_id"]
    g = client.post(
        f"/api/v1/attempts/{short_attempt}/grade", json={"score": 0.75, "comment": "ok"}, headers=ta
    )
    assert g.status_code == 200, g.text

    loss = client.post("/api/v1/instances", json={"problem": LOSS, "seed": 3}).json()
    client.post(f"/api/v1/instances/{loss['id']}/check", json={"answers": {"loss": "1"}}, headers=alice)

    me = client.get(f"/me?lang={lang}", headers=alice)
    assert me.status_code == 200
    assert _chapter_chart(me.text) == [
        (CHAPTERS["linear_models"][lang], 0),  # a family without items: its own chapter
        (CHAPTERS["cnn"][lang], 0),
        (CHAPTERS["attention"][lang], 75),
        (CHAPTERS["rl"][lang], 100),
    ]


@pytest.mark.parametrize(
    "problem,item,chapter",
    [
        (CHOICE, items_by_chapter(choice_items())["rnn"][0], "rnn"),
        (SHORT, items_by_chapter(short_answer_items())["cnn"][0], "cnn"),
        (CHOICE, "cnn.no_longer_in_the_bank", "ml_basics"),  # an item a TA removed: the family's
        (LOSS, None, "linear_models"),  # a family without items
        ("gone.family", None, None),  # a family no longer in the bank: not counted
    ],
)
def test_the_chapter_of_a_question(problem: str, item: str | None, chapter: str | None) -> None:
    assert progress.chapter_of_question(problem, item) == chapter
