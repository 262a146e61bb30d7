"""Exam items by tag: which families and concept-bank items a tag draws, and exams built before
tag items could draw concept items still build exactly as they did."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from sqlalchemy import select

# Built on main before `concepts` existed (b29e761): a spec without it must build the very same
# exam, codes and stored instances (family, version, seed, params) alike: a printed paper of it stays
# gradable, and its codes are salted by the plan. Like tests/problems/golden_seeds.json it moves with
# the concept bank's items (a new item takes the seeds it wins): re-pin then, on purpose.
OLD_SPEC = [
    {"tag": "rl", "count": 6},
    {"tag": "concept", "count": 5, "points": 2},
    {"tag": "ml_basics", "count": 2, "difficulty": [1, 2]},
    {"tag": "cnn", "count": 2},
    {"problem": "concept.choice", "params": {"item": "rl.q.1"}},
    {"problem": "concept.short_answer"},
]
OLD_CODES = ["M333", "V6KJ", "J6TZ", "WNSU"]
OLD_DIGEST = "03a9447238c26c9cba6b7c01f3aa814b0536d63f87c18b194747fac46beb6f48"


def _build(app, accounts, items, variants=4, seed=2025):  # type: ignore[no-untyped-def]
    """Build an exam through the service; return per variant its code and its questions' records."""
    from app.models import InstanceRecord, User
    from app.services import exams

    with app.state.session_factory() as s:
        ta = s.scalar(select(User).where(User.name == accounts["ta"].name))
        exam = exams.create_exam(
            s, title="t", items=items, variants=variants, seed=seed, lang="both", user=ta
        )
        out = []
        for v in exam.variants:
            records = [s.get(InstanceRecord, q.instance_id) for q in v.questions]
            out.append(
                (
                    v.code,
                    [
                        [r.problem, r.version, r.seed, r.params, q.points]
                        for r, q in zip(records, v.questions, strict=True)
                    ],
                )
            )
        return out


def test_a_spec_written_before_concepts_builds_the_same_exam(app, accounts) -> None:  # type: ignore[no-untyped-def]
    built = _build(app, accounts, OLD_SPEC)
    digest = hashlib.sha256(json.dumps(built, sort_keys=True).encode()).hexdigest()
    assert [code for code, _ in built] == OLD_CODES
    assert digest == OLD_DIGEST


def _chapter(problem: str, params: dict) -> str:  # type: ignore[type-arg]
    from problems.concepts import choice_items, short_answer_items

    bank = choice_items() if problem == "concept.choice" else short_answer_items()
    return bank[params["item"]].chapter


def test_a_chapter_tag_with_concepts_draws_concept_questions_of_that_chapter_only(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """'6 RL questions' never held an RL choice or short-answer question: a tag picked families, and
    the concept families' own tags name no chapter of their items."""
    from problems.registry import all_families

    rl = sorted(f.id for f in all_families() if "rl" in f.tags)
    count = 2 * (len(rl) + 2)  # every family twice, the two concept families among them
    built = _build(app, accounts, [{"tag": "rl", "count": count, "concepts": True}], variants=6)
    concept_items = set()
    for code, questions in built:
        asked = [p for p, *_ in questions]
        assert sorted(asked) == sorted((rl + ["concept.choice", "concept.short_answer"]) * 2), code
        concept = [(p, params) for p, _, seed, params, _ in questions if p.startswith("concept.")]
        for problem, params in concept:
            assert _chapter(problem, params) == "rl", (code, params)
            concept_items.add(params["item"])
        # never one item twice in a variant, and each posed by its item (no seed poses it)
        assert len({(p, params["item"]) for p, params in concept}) == len(concept), code
        assert all(seed is None for p, _, seed, _, _ in questions if p.startswith("concept.")), code
    assert len(concept_items) > 8, "variants draw other items of the chapter"


def test_without_concepts_a_chapter_tag_draws_no_concept_question(app, accounts) -> None:  # type: ignore[no-untyped-def]
    built = _build(app, accounts, [{"tag": "rl", "count": 14}])
    assert not [p for _, qs in built for p, *_ in qs if p.startswith("concept.")]


def test_concept_items_follow_the_difficulty_range_by_their_own_difficulty(app, accounts) -> None:  # type: ignore[no-untyped-def]
    from problems.concepts import choice_items
    from problems.registry import get_family

    # concept.choice is a difficulty-1 family, but its RL items of difficulty 2 are asked for here
    built = _build(app, accounts, [{"tag": "rl", "count": 12, "difficulty": [2, 2], "concepts": True}])
    for _, questions in built:
        for problem, _, _, params, _ in questions:
            if problem == "concept.choice":
                assert choice_items()[params["item"]].difficulty == 2
            elif problem != "concept.short_answer":
                assert get_family(problem).difficulty == 2
        assert "concept.choice" in [p for p, *_ in questions]


def test_auto_only_leaves_out_what_a_ta_grades(app, accounts) -> None:  # type: ignore[no-untyped-def]
    built = _build(app, accounts, [{"tag": "rl", "count": 16, "concepts": True, "auto_only": True}])
    asked = {p for _, qs in built for p, *_ in qs}
    assert "concept.choice" in asked and "concept.short_answer" not in asked
    # also on a tag that picks the concept families by their own tags
    built = _build(app, accounts, [{"tag": "concept", "count": 4, "auto_only": True}])
    assert {p for _, qs in built for p, *_ in qs} == {"concept.choice"}


def test_a_tag_that_is_no_chapter_draws_as_before_with_concepts(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """Items carry a chapter, no topic: 'q_learning' draws no item, 'concept' its families whole."""
    for items in ([{"tag": "q_learning", "count": 2}], [{"tag": "concept", "count": 3}]):
        with_concepts = [{**i, "concepts": True} for i in items]
        assert _build(app, accounts, with_concepts) == _build(app, accounts, items)


def test_the_mix_is_the_same_for_a_seed_and_another_for_another(app, accounts) -> None:  # type: ignore[no-untyped-def]
    items = [{"tag": "rl", "count": 5, "concepts": True}]
    first = _build(app, accounts, items, seed=11)
    assert _build(app, accounts, items, seed=11) == first
    other = _build(app, accounts, items, seed=12)
    assert [qs for _, qs in other] != [qs for _, qs in first]
    # what is asked salts the codes: the same seed without concepts is another exam
    without = _build(app, accounts, [{"tag": "rl", "count": 5}], seed=11)
    assert not {c for c, _ in without} & {c for c, _ in first}


@pytest.mark.parametrize(
    "item",
    [{"problem": "rl.discounted_return", "concepts": True}, {"problem": "concept.choice", "auto_only": True}],
)
def test_concepts_and_auto_only_go_with_a_tag(client, accounts, item) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/exams", json={"title": "t", "items": [item]}, headers=accounts["ta"].headers)
    assert r.status_code == 422 and "go with 'tag'" in r.text


def test_concept_questions_of_a_tag_print_in_both_languages_and_grade_from_a_class_csv(
    client, accounts
) -> None:  # type: ignore[no-untyped-def]
    from tests.app.test_exams import _key, _key_answers

    ta = accounts["ta"].headers
    body = {
        "title": "RL",
        "items": [{"tag": "rl", "count": 9, "concepts": True, "points": 2}],
        "variants": 2,
        "seed": 3,
    }
    exam = client.post("/api/v1/exams", json=body, headers=ta).json()
    key = _key_answers(_key(client, ta, exam["id"]))
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(["student", "code", "question", "part", "answer"])
    for n, v in enumerate(exam["variants"]):
        code = v["code"]
        posed = {
            q: client.get(f"/api/v1/instances/{iid}").json() for (c, q), (iid, _) in key.items() if c == code
        }
        choice = [q for q, p in posed.items() if p["problem"] == "concept.choice"]
        short = [q for q, p in posed.items() if p["problem"] == "concept.short_answer"]
        assert len(choice) == 1 and len(short) == 1, code
        url = f"/api/v1/exams/{exam['id']}/variants/{code}.html"
        zh, en = (client.get(f"{url}?lang={lang}", headers=ta).text for lang in ("zh", "en"))
        assert "第十四章 深度强化学习" in zh and "Ch. 14 Deep reinforcement learning" in en
        # the items' own words (a run of plain letters: the paper renders the math)
        stem = posed[choice[0]]["statement"]["en"].split("\n")[2]
        assert max(re.findall(r"[A-Za-z ,]{12,}", re.sub(r"\$[^$]*\$", "$", stem)), key=len).strip() in en
        question = posed[short[0]]["statement"]["zh"].split("\n")[2]
        assert re.findall(r"[\u4e00-\u9fff]{4,}", question)[0] in zh
        for (c, q), (_, parts) in key.items():
            if c == code and q != short[0]:
                rows.writerows([f"s{n}", code, q, part, answer] for part, answer in parts.items())
        rows.writerow([f"s{n}", code, short[0], "answer", "时序差分……"])
    r = client.post(
        f"/api/v1/exams/{exam['id']}/submissions",
        content=out.getvalue().encode(),
        headers={**ta, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    grades = list(
        csv.DictReader(io.StringIO(client.get(f"/api/v1/exams/{exam['id']}/grades.csv", headers=ta).text))
    )
    for g in grades:  # every question right from the key but the short answer, which waits for a TA
        assert float(g["total"]) == 2 * 8 and float(g["max"]) == 2 * 9 and g["pending_manual"] == "true"
