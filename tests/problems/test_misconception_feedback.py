"""A matched misconception's explanation is said once, without the grader's generic words before it."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from grader.feedback import say
from problems.base import grade_answers
from problems.registry import all_families, instantiate


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_misconception_feedback_is_said_once(lang: str) -> None:
    generic = {say(k, lang) for k in ("wrong", "not_equivalent")}
    matched = 0
    for fam in all_families():
        for seed in range(6):
            inst = instantiate(fam.id, seed=seed)
            for m, alt in inst.wrong_ways:
                for part, text in alt.items():
                    if inst.answers.get(part) in (None, text) or not isinstance(text, str):
                        continue
                    r = grade_answers(inst, {part: text}, lang).parts[part]
                    if r.misconception != m.id:
                        continue
                    matched += 1
                    explanation = m.feedback[lang]
                    where = f"{fam.id} seed {seed} {m.id}: {r.feedback!r}"
                    assert r.feedback.count(explanation) == 1, where
                    assert r.feedback.endswith(explanation), where
                    before = r.feedback[: -len(explanation)].strip()
                    assert before not in generic, where
                    if r.reason in ("sign", "factor"):
                        assert before == "", where
    assert matched > 300, "the sweep reached the bank's misconceptions"


def test_matching_a_misconception_agrees_with_grading_against_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """grader.matches (which skips saying what is wrong) answers as grade(...).correct does, for
    every pair of the bank's references and wrong ways, plus answers that are near, off and odd."""
    from grader import grade, limits, matches

    # About the answers, not the machine: on a loaded one, either call alone ran past the 1 s bound.
    bounded = limits.bounded
    monkeypatch.setattr(limits, "bounded", lambda seconds=60.0: bounded(seconds))

    compared = agreed_right = 0
    for fam in all_families():
        for seed in range(3):
            inst = instantiate(fam.id, seed=seed)
            for part in inst.parts:
                ref = inst.answers.get(part.name)
                if ref is None:
                    continue
                refs = [ref] + [alt[part.name] for _, alt in inst.wrong_ways if alt.get(part.name)]
                texts = refs + ["0", "-" + ref, f"2*({ref})", f"({ref}))", "x", f"{ref}, 1"]
                for text in texts:
                    for against in refs:
                        want = grade(text, against, part.spec).correct
                        assert matches(text, against, part.spec) is want, (
                            fam.id,
                            seed,
                            part.name,
                            text,
                            against,
                        )
                        compared += 1
                        agreed_right += want
    assert compared > 5000 and agreed_right > 500, (compared, agreed_right)


def test_a_wrong_answer_is_diagnosed_once_not_once_per_misconception(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saying what is wrong (sign, a factor, ...) is for the reference only: against each wrong way
    only a match matters, and diagnosing each was most of a wrong answer's grading time."""
    from grader import scalars

    inst = instantiate("cnn.conv2d", seed=0)
    assert len(inst.wrong_ways) >= 3
    calls: list[object] = []
    real_why = scalars.why
    monkeypatch.setattr(scalars, "why", lambda *a, **k: calls.append(a) or real_why(*a, **k))
    r = grade_answers(inst, {"num_params": "987654"}, "en").parts["num_params"]
    assert not r.correct and r.misconception is None
    assert len(calls) == 1


def test_a_wrong_answer_is_read_once_not_once_per_misconception(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each wrong way is matched against what the student typed: it was read again for each (a
    matrix at ~0.1 ms a time; a wrong layer-norm answer took 2.5 ms)."""
    import grader

    inst = instantiate("norm.layer_norm", seed=1)
    part = "output"
    alts = {alt[part] for _, alt in inst.wrong_ways if alt.get(part) not in (None, inst.answers[part])}
    assert len(alts) >= 2
    typed = "[[0.1234567, 1, 1], [1, 1, 1], [1, 1, 1]]"
    reads: list[str] = []
    real_read = grader.read
    monkeypatch.setattr(grader, "read", lambda text, spec: reads.append(text) or real_read(text, spec))
    r = grade_answers(inst, {part: typed}, "en").parts[part]
    assert not r.correct and r.misconception is None
    assert reads.count(typed) == 1
    grade_answers(inst, {part: typed}, "en")  # and a check is never answered from another's readings
    assert reads.count(typed) == 2


def _rounded(x: float, figures: int) -> str:
    """x to `figures` significant figures, a half away from zero as students round (四舍五入), by the
    decimal module rather than the grader."""
    d = Decimal(repr(x))
    if d == 0:
        return "0"
    place = d.adjusted() - figures + 1
    r = d.quantize(Decimal(1).scaleb(place), rounding=ROUND_HALF_UP)
    if r.adjusted() > d.adjusted():  # 0.0952 carried to 0.10: one figure is 0.1
        r = r.quantize(Decimal(1).scaleb(place + 1))
    return str(r)


def test_a_rounded_reference_is_never_blamed_on_a_misconception() -> None:
    """The reference rounded to the figures typed is no evidence of a wrong way that rounds the same
    (a walk-through: Adam's -2.8 for -2.80328 was called "ε inside the root", -2.80028): across the
    bank, such an answer is right, or wrong with the precision message and no misconception."""
    told = 0
    for fam in all_families():
        for seed in range(4):
            inst = instantiate(fam.id, seed=seed)
            for part in inst.parts:
                ref = inst.answers.get(part.name)
                if ref is None or part.answer_type not in ("real", "vector") or not inst.wrong_ways:
                    continue
                try:
                    values = json.loads(ref) if part.answer_type == "vector" else [float(Fraction(ref))]
                except ValueError:
                    continue  # an exact form (log(5), 1/3): no decimals to round
                if not all(isinstance(v, (int, float)) for v in values):
                    continue
                for figures in (1, 2, 3):
                    typed = ", ".join(_rounded(v, figures) for v in values)
                    typed = f"[{typed}]" if part.answer_type == "vector" else typed
                    r = grade_answers(inst, {part.name: typed}, "en").parts[part.name]
                    where = f"{fam.id} seed {seed} {part.name} {typed!r}: {r}"
                    assert r.misconception is None, where
                    if not r.correct:
                        assert r.reason == "precision" and "not accurate enough" in r.feedback, where
                        told += 1
    assert told > 100, "the sweep reached rounded answers that are wrong"
