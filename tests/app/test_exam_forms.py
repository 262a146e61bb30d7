"""Exams whose variants ask each question in one form (`same_form`): the same optimizer, steps,
dimensions, layers, numeric or symbolic values, kind of choice item, with other numbers.

Oracle: the form is read off each variant's stored params with numpy shapes and the concept bank's
raw YAML (tests/problems/test_forms.py), never with the family's own `form`; the exam the option off
builds is pinned as it was built before the option existed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Exam, InstanceRecord, User
from app.services import exams
from tests.problems.test_forms import STRUCTURE

MIDTERM = [
    {"problem": "cnn.network_table"},
    {"problem": "optim.step"},
    {"problem": "attention.scaled_dot_product"},
    {"problem": "loss.softmax_cross_entropy"},
    {"problem": "concept.choice"},
]


def _ta(s, accounts) -> User:  # type: ignore[no-untyped-def]
    user = s.scalar(select(User).where(User.name == accounts["ta"].name))
    assert user is not None
    return user


def _build(s, accounts, items, variants=30, seed=7, **extra) -> Exam:  # type: ignore[no-untyped-def]
    return exams.create_exam(
        s,
        title="期中",
        items=items,
        variants=variants,
        seed=seed,
        lang="both",
        user=_ta(s, accounts),
        **extra,
    )


def _posed(s, exam: Exam) -> list[list[InstanceRecord]]:  # type: ignore[no-untyped-def]
    """Each variant's stored instances, question by question."""
    return [[s.get(InstanceRecord, q.instance_id) for q in v.questions] for v in exam.variants]


def _structures(posed: list[list[InstanceRecord]], q: int) -> list[Any]:
    return [repr(STRUCTURE[v[q].problem](v[q].params)) for v in posed]


def test_every_variant_asks_the_midterm_in_variant_1s_form(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """The instructor's midterm: 4 to 10 layers, Adam 1 step 1-D against Nesterov 3 steps 3-D, 1x2
    symbolic against 3x4 numeric attention, 2x2 to 4x5 softmax, true/false against multi-select."""
    with app.state.session_factory() as s:
        mixed = _posed(s, _build(s, accounts, MIDTERM))
        same = _build(s, accounts, MIDTERM, same_form=True)
        assert same.warnings == []
        alike = _posed(s, same)
    for q in range(len(MIDTERM)):
        assert len(set(_structures(alike, q))) == 1, MIDTERM[q]
        # other numbers in each variant (a choice item may come back, its options shuffled)
        params = {json.dumps(v[q].params, sort_keys=True) for v in alike}
        assert len(params) >= (10 if MIDTERM[q]["problem"] == "concept.choice" else 30), MIDTERM[q]
    # Without the option the same seed's variants had their own forms: the counterfactual.
    assert all(len(set(_structures(mixed, q))) > 1 for q in range(len(MIDTERM)))
    # Variant 1 is drawn as without the option; the others are posed by their params.
    assert [r.params for r in alike[0]] == [r.params for r in mixed[0]]
    assert all(r.seed is None for v in alike[1:] for r in v)


def test_the_same_spec_builds_the_same_exam(app, accounts) -> None:  # type: ignore[no-untyped-def]
    with app.state.session_factory() as s:
        first = _build(s, accounts, MIDTERM, variants=12, same_form=True)
        again = _build(s, accounts, MIDTERM, variants=12, same_form=True)
        off = _build(s, accounts, MIDTERM, variants=12)
        assert [v.code for v in first.variants] == [v.code for v in again.variants]
        assert [[r.params for r in v] for v in _posed(s, first)] == [
            [r.params for r in v] for v in _posed(s, again)
        ]
        # Other questions than the option off asks: other codes, so one's class CSV is refused by the other.
        assert not {v.code for v in first.variants} & {v.code for v in off.variants}


# Built by the code before the option existed (main at 09d072e): a spec without it, or with it
# off, must build exactly this exam still (its printed papers stay gradable).
BEFORE = {
    "codes": ["C3EE", "A79B", "5URE", "JBPH"],
    "params": ["f622e05b6f269638", "d54b012234710095", "41e8861330b4de3f", "9182b750faabf12c"],
}


@pytest.mark.parametrize("extra", [{}, {"same_form": False}])
def test_the_option_off_builds_the_exam_built_before_it(app, accounts, extra) -> None:  # type: ignore[no-untyped-def]
    items = [
        {"problem": "cnn.network_table"},
        {"problem": "optim.step"},
        {"problem": "concept.choice"},
        {"tag": "rnn", "count": 2, "concepts": True},
    ]
    with app.state.session_factory() as s:
        exam = _build(s, accounts, items, variants=4, seed=2024, **extra)
        digests = [
            hashlib.sha256(json.dumps([r.params for r in v], sort_keys=True).encode()).hexdigest()[:16]
            for v in _posed(s, exam)
        ]
    assert [v.code for v in exam.variants] == BEFORE["codes"]
    assert digests == BEFORE["params"]


def test_an_item_overrides_the_exams_choice(app, accounts) -> None:  # type: ignore[no-untyped-def]
    with app.state.session_factory() as s:
        on = _posed(
            s,
            _build(
                s,
                accounts,
                [{"problem": "optim.step", "same_form": False}, {"problem": "cnn.network_table"}],
                variants=20,
                same_form=True,
            ),
        )
        off = _posed(
            s,
            _build(
                s,
                accounts,
                [{"problem": "optim.step"}, {"problem": "cnn.network_table", "same_form": True}],
                variants=20,
            ),
        )
    assert len(set(_structures(on, 0))) > 1 and len(set(_structures(on, 1))) == 1
    assert len(set(_structures(off, 0))) > 1 and len(set(_structures(off, 1))) == 1


def test_a_tags_questions_keep_their_family_and_form(app, accounts) -> None:  # type: ignore[no-untyped-def]
    """A tag picks its families once for the exam; with the option, each question also keeps variant 1's
    form, and a chapter's concept items keep their kind and difficulty."""
    items = [
        {"tag": "attention", "count": 5, "concepts": True, "auto_only": True}
    ]  # its 4 families and choice items
    with app.state.session_factory() as s:
        posed = _posed(s, _build(s, accounts, items, variants=15, seed=3, same_form=True))
    for q in range(len(posed[0])):
        assert len({v[q].problem for v in posed}) == 1
        if posed[0][q].problem in STRUCTURE:
            assert len(set(_structures(posed, q))) == 1, posed[0][q].problem
    assert "concept.choice" in {r.problem for r in posed[0]}


def test_a_form_that_cannot_be_found_falls_back_and_says_so(app, client, accounts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A form no other draw has (here the exact numbers of variant 1): the variants are drawn as without
    the option, after a bounded search, and the exam names them."""
    from problems.registry import get_family

    family = get_family("rl.discounted_return")
    monkeypatch.setattr(type(family), "form", lambda self, p: json.dumps(p.model_dump(mode="json")))
    generated = 0
    plain = type(family).generate

    def counted(self, rng):  # type: ignore[no-untyped-def]
        nonlocal generated
        generated += 1
        return plain(self, rng)

    monkeypatch.setattr(type(family), "generate", counted)
    body = {"title": "t", "items": [{"problem": "optim.step"}, {"problem": family.id}], "variants": 20}
    r = client.post("/api/v1/exams", json={**body, "same_form": True}, headers=accounts["ta"].headers)
    assert r.status_code == 201, r.text
    exam = r.json()
    codes = [v["code"] for v in exam["variants"]]
    with app.state.session_factory() as s:
        posed = _posed(s, s.get(Exam, exam["id"]))
    unlike = [c for c, v in zip(codes, posed, strict=True) if v[1].params != posed[0][1].params]
    assert len(unlike) == 19
    [warning] = exam["warnings"]
    assert (warning["question"], warning["problem"], warning["variants"]) == (2, family.id, unlike)
    assert unlike[0] in warning["message"]["en"] and unlike[0] in warning["message"]["zh"]
    # given up after three variants searched in vain; then a dozen draws a variant at most
    assert (
        generated
        <= exams.MISSES_BEFORE_GIVING_UP * exams.SEEDS_FOR_SAME_FORM + 20 * exams.DRAWS_FOR_NEW_ANSWERS
    )
    assert client.get(f"/api/v1/exams/{exam['id']}", headers=accounts["ta"].headers).json()["warnings"] == [
        warning
    ]


def test_an_exam_built_without_the_option_warns_of_nothing(client, accounts) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/exams", json={"title": "t", "items": MIDTERM, "variants": 3}, headers=accounts["ta"].headers
    )
    assert r.status_code == 201 and r.json()["warnings"] == []


@pytest.mark.parametrize("value", ["maybe", 2, None])
def test_a_bad_same_form_is_422(client, accounts, value) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/exams",
        json={"title": "t", "items": [{"problem": "optim.step"}], "same_form": value},
        headers=accounts["ta"].headers,
    )
    assert r.status_code == 422 and "same_form" in r.text
