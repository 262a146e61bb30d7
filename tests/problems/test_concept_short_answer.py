"""concept.short_answer: open questions with an outline and a rubric, graded by a TA."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from problems import InvalidParams, grade_answers, instantiate
from problems.checkbank import check_family
from problems.registry import get_family

FAMILY = "concept.short_answer"
RAW = {
    entry["id"]: entry
    for entry in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "problems" / "data" / "concept_short_answer.yaml").read_text(
            "utf-8"
        )
    )
}


@pytest.mark.parametrize("item", sorted(RAW))
def test_every_item_renders_question_outline_and_rubric(item: str) -> None:
    inst = instantiate(FAMILY, params={"item": item})
    entry = RAW[item]
    total = sum(line["points"] for line in entry["rubric"])
    assert inst.answers == {}  # no automatic reference
    assert [q.name for q in inst.parts] == ["answer"] and inst.parts[0].answer_type == "text"
    steps = inst.solution()
    for lang, unit in (("zh", "分"), ("en", "points")):
        assert entry["question"][lang] in inst.statement[lang]
        assert not re.search(rf"\d\s*{unit}", inst.statement[lang]), (
            "points are the paper's: none in the statement"
        )
        text = "\n".join(steps[lang])
        assert f"{total} {unit}" in text
        for point in entry["outline"]:
            assert point[lang] in text
        for line in entry["rubric"]:
            assert line["criterion"][lang] in text


def test_an_answer_goes_to_manual_grading() -> None:
    inst = instantiate(FAMILY, params={"item": "rnn.lstm_gradients"})
    answer = "LSTM 通过遗忘门和记忆单元的加法更新缓解梯度消失，但不能解决梯度爆炸，需要梯度截断。"
    result = grade_answers(inst, {"answer": answer}, "zh").parts["answer"]
    assert result.reason == "manual" and result.score == 0.0 and not result.correct
    blank = grade_answers(inst, {}, "zh").parts["answer"]
    assert blank.reason == "blank"


def test_seeds_pick_many_items_deterministically() -> None:
    seen = set()
    for seed in range(300):
        a, b = instantiate(FAMILY, seed=seed), instantiate(FAMILY, seed=seed)
        assert a.params == b.params and a.statement == b.statement
        seen.add(a.params["item"])
    assert len(seen) >= 0.8 * len(RAW)


@pytest.mark.parametrize(
    ("item", "source"),
    [
        ("linear.cross_entropy_vs_absolute", "seeds/000 简答题 1"),
        ("ffn.mlp_vs_linear_deep_vs_wide", "seeds/000 简答题 2"),
        ("cnn.convolution_vs_cross_correlation", "seeds/000 简答题 3"),
        ("opt.gradient_accumulation_bn", "seeds/000 简答题 4"),
        ("cnn.residual", "seeds/000 简答题 5"),
        ("cnn.one_by_one", "seeds/001 A6.1"),
        ("rnn.lstm_gradients", "seeds/001 A6.3"),
        ("attn.long_range_complexity", "seeds/001 A6.4"),
        ("ml.nfl_ugly_duckling", "seeds/003 20级真题 问答题 3"),
        ("opt.momentum_nesterov", "seeds/003 20级真题 问答题 4"),
        ("opt.low_vs_high_dimension", "seeds/003 20级真题 问答题 5"),
        ("ml.sgd", "seeds/003 20级真题 简答题 1"),
        ("rl.dialogue_system", "seeds/003 20级真题 论述题"),
        ("attn.self_attention_process", "seeds/003 20级真题 问答题 2"),
        ("opt.bn_for_rnn", "seeds/003 习题 7-8"),
    ],
)
def test_the_seeds_open_questions_are_in_the_bank(item: str, source: str) -> None:
    assert source in RAW[item]["source"]


def test_exam_weights_follow_the_seed() -> None:
    # seeds/003: the LSTM question is worth 15 points, the dialogue-system essay 15.
    for item in ("rnn.lstm_gradients", "rl.dialogue_system", "attn.self_attention_process"):
        assert "15 points in all" in "\n".join(instantiate(FAMILY, params={"item": item}).solution()["en"])


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"item": "rnn.lstm_gradient"}, "item", "did you mean 'rnn.lstm_gradients'"),
        ({"item": "cnn.xcorr.1"}, "item", "concept_short_answer.yaml"),  # a choice item, not a short answer
        ({}, "item", "Field required"),
        ({"item": "rnn.lstm_gradients", "points": 20}, "points", "Extra inputs"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidParams) as err:
        instantiate(FAMILY, params=params)
    assert field in str(err.value) and words in str(err.value)


def test_check_bank_has_no_failures() -> None:
    report = check_family(get_family(FAMILY), range(50))
    assert report.failures == [] and report.seeds == 50
