"""A matched misconception's explanation is said once, without the grader's generic words before it."""

from __future__ import annotations

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
