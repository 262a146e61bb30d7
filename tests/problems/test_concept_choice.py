"""concept.choice: the letters follow the shuffle, every item grades itself, bad params are named.

Oracle: the expected letters are found by reading the raw YAML (yaml.safe_load, not our loader)
and the rendered statement (which letter shows which option text), never from the family's code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from problems import InvalidParams, grade_answers, instantiate
from problems.checkbank import check_family
from problems.registry import get_family

FAMILY = "concept.choice"
RAW = {
    entry["id"]: entry
    for entry in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "problems" / "data" / "concept_choice.yaml").read_text("utf-8")
    )
}
OPTION_LINE = re.compile(r"^- \*\*([A-F])\.\*\* (.*)$", re.MULTILINE)
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFTF"}  # A -> Ａ


def shown_letters(statement: str) -> dict[str, str]:
    """Return {letter: option text} as the statement shows them."""
    return dict(OPTION_LINE.findall(statement))


def expected_answer(item_id: str, statement_en: str) -> str:
    """Find the correct letters from the raw bank entry and the rendered statement."""
    entry = RAW[item_id]
    if entry["kind"] == "true_false":
        return "T" if entry["answer"] else "F"
    wanted = [entry["answer"]] if entry["kind"] == "single" else entry["answer"]
    texts = {entry["options"][i]["en"] for i in wanted}
    return "".join(sorted(letter for letter, text in shown_letters(statement_en).items() if text in texts))


def test_expected_answer_finds_a_known_item() -> None:
    # cnn.xcorr.1: option 0 (cross-correlation) is correct; shown second, it is B.
    inst = instantiate(FAMILY, params={"item": "cnn.xcorr.1", "option_order": [1, 0, 2, 3]})
    assert shown_letters(inst.statement["en"])["B"].startswith("a cross-correlation")
    assert expected_answer("cnn.xcorr.1", inst.statement["en"]) == "B"


# --- oracle: seeds and explicit random orders -------------------------------------------------


def test_seeded_instances_match_the_raw_bank() -> None:
    items_seen = set()
    for seed in range(1000):
        inst = instantiate(FAMILY, seed=seed)
        item = inst.params["item"]
        items_seen.add(item)
        assert inst.answers["choice"] == expected_answer(item, inst.statement["en"]), (seed, item)
        # Both languages show the same options under the same letters.
        zh, en = shown_letters(inst.statement["zh"]), shown_letters(inst.statement["en"])
        assert zh.keys() == en.keys()
        assert {RAW[item]["options"][i]["zh"] for i in range(len(zh))} == set(zh.values())
    assert len(items_seen) >= 0.8 * len(RAW)  # the generator reaches (nearly) the whole bank


def test_explicit_random_orders_match_the_raw_bank() -> None:
    rng = np.random.default_rng(2024)
    checked = 0
    for item, entry in RAW.items():
        n = len(entry.get("options", []))
        orders: list[Any] = (
            [None] if n == 0 else [list(range(n))] + [rng.permutation(n).tolist() for _ in range(10)]
        )
        for order in orders:
            params = {"item": item} if order is None else {"item": item, "option_order": order}
            inst = instantiate(FAMILY, params=params)
            assert inst.answers["choice"] == expected_answer(item, inst.statement["en"]), params
            checked += 1
    assert checked >= 1000


def test_shuffling_is_deterministic_and_really_shuffles() -> None:
    identity = 0
    for seed in range(300):
        a, b = instantiate(FAMILY, seed=seed), instantiate(FAMILY, seed=seed)
        assert a.params == b.params and a.answers == b.answers and a.statement == b.statement
        order = a.params["option_order"]
        if order is None:
            assert RAW[a.params["item"]]["kind"] == "true_false"  # true/false is never shuffled
        elif order == sorted(order):
            identity += 1
    assert identity < 300 * 0.2  # most shown orders differ from the bank's order
    # The correct letter of single items is not stuck at A (the bank stores every answer at 0).
    letters = {instantiate(FAMILY, seed=s).answers["choice"] for s in range(300)}
    assert {"A", "B", "C", "D"} <= letters


# --- grading through the grader ---------------------------------------------------------------


def _all_instances() -> list[Any]:
    """Every item once, with a fixed non-trivial order."""
    out = []
    for item, entry in RAW.items():
        n = len(entry.get("options", []))
        order = None if n == 0 else [(i + 1) % n for i in range(n)]
        out.append(instantiate(FAMILY, params={"item": item, "option_order": order}))
    return out


INSTANCES = _all_instances()


@pytest.mark.parametrize("inst", INSTANCES, ids=lambda i: i.params["item"])
def test_reference_scores_one_and_every_distractor_scores_zero(inst: Any) -> None:
    ref = inst.answers["choice"]
    for lang in ("zh", "en"):
        assert grade_answers(inst, {"choice": ref}, lang).score == 1.0
    multi = RAW[inst.params["item"]]["kind"] == "multi"
    for letter in inst.part("choice").spec.choices:
        if letter in ref:
            continue
        # A distractor alone is wrong; for a multiple-choice item, so is adding it to the right set.
        for typed in [letter] + (["".join(sorted(ref + letter))] if multi else []):
            result = grade_answers(inst, {"choice": typed}, "en").parts["choice"]
            assert result.score == 0.0 and not result.correct, typed


@pytest.mark.parametrize("inst", INSTANCES[::7], ids=lambda i: i.params["item"])
def test_lowercase_and_full_width_letters_are_accepted(inst: Any) -> None:
    ref = inst.answers["choice"]
    for typed in (ref.lower(), "".join(FULL_WIDTH[c] for c in ref), f" {ref} "):
        assert grade_answers(inst, {"choice": typed}, "zh").score == 1.0, typed


def test_multi_answers_may_come_in_any_order() -> None:
    multi = [i for i in INSTANCES if RAW[i.params["item"]]["kind"] == "multi"]
    assert multi
    for inst in multi:
        ref = inst.answers["choice"]
        assert grade_answers(inst, {"choice": ref[::-1]}, "en").score == 1.0
        # Leaving one correct option out is wrong.
        assert grade_answers(inst, {"choice": ref[1:]}, "en").parts["choice"].correct is False


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_wrong_multiple_choice_says_missing_or_wrong_options_but_not_which(lang: str) -> None:
    multi = [
        i for i in INSTANCES if RAW[i.params["item"]]["kind"] == "multi" and len(i.answers["choice"]) >= 2
    ]
    assert multi
    missing = {"zh": "正确的选项没有选", "en": "right option is missing"}[lang]
    chosen_wrong = {"zh": "你选的选项中有不正确的", "en": "option you chose is wrong"}[lang]
    for inst in multi:
        ref = expected_answer(inst.params["item"], inst.statement["en"])
        others = [c for c in inst.part("choice").spec.choices if c not in ref]
        cases = [(ref[1:], True, False)]  # one right option left out
        if others:
            cases += [(ref + others[0], False, True), (ref[1:] + others[0], True, True)]
        for typed, says_missing, says_wrong in cases:
            r = grade_answers(inst, {"choice": typed}, lang).parts["choice"]
            assert r.score == 0.0 and (missing in r.feedback) is says_missing, (typed, r.feedback)
            assert (chosen_wrong in r.feedback) is says_wrong, (typed, r.feedback)
            assert not re.search(r"\b[A-F]\b", r.feedback.split("。")[0]), r.feedback  # no letter named


def test_unreadable_answers_are_wrong_not_errors() -> None:
    inst = instantiate(FAMILY, params={"item": "cnn.xcorr.1"})
    for typed in ("G", "Z", "__import__('os')", "A" * 500):
        result = grade_answers(inst, {"choice": typed}, "zh").parts["choice"]
        assert result.score == 0.0 and result.feedback


def _why_wrong_cases() -> list[tuple[str, int, str]]:
    return [
        (item, i, option["why_wrong"]["en"])
        for item, entry in RAW.items()
        for i, option in enumerate(entry.get("options", []))
        if "why_wrong" in option
    ]


@pytest.mark.parametrize(("item", "option", "why"), _why_wrong_cases())
def test_a_distractor_with_feedback_is_matched(item: str, option: int, why: str) -> None:
    n = len(RAW[item]["options"])
    order = [(i + 2) % n for i in range(n)]
    inst = instantiate(FAMILY, params={"item": item, "option_order": order})
    letter = "ABCDEF"[order.index(option)]
    result = grade_answers(inst, {"choice": letter}, "en").parts["choice"]
    assert result.score == 0.0
    assert result.misconception == f"{item}.option{option}"
    assert why in result.feedback
    zh = grade_answers(inst, {"choice": letter}, "zh").parts["choice"]
    assert RAW[item]["options"][option]["why_wrong"]["zh"] in zh.feedback


# --- the seeds' questions ---------------------------------------------------------------------

SEED_CASES = [
    # (item, the seed's answer as option text index, expected score, misconception or None)
    ("cnn.xcorr.1", 0, 1.0, None),  # seeds/000 简答题 3: CNNs compute cross-correlation
    ("ffn.max_grad.1", 0, 1.0, None),  # seeds/001 A6.2: gradient of max
    ("ml.nfl.1", 0, 1.0, None),  # seeds/003: NFL
    ("cnn.one_by_one.1", [0, 1, 2], 1.0, None),  # seeds/001 A6.1
    ("rnn.lstm.forget_gate.1", 0, 1.0, None),  # seeds/003: the three gates
    ("opt.bn_rnn.1", [0, 1, 2], 1.0, None),  # seeds/003 exercise 7-8
    # seeds/003 says dropout gives "2n" sub-networks (a typo on the slides): rejected, explained.
    ("opt.dropout.subnetworks.1", 1, 0.0, "opt.dropout.subnetworks.1.option1"),
    # seeds/003 says the squared loss is "not differentiable" with a sigmoid: rejected, explained.
    ("linear.squared_loss.1", 1, 0.0, "linear.squared_loss.1.option1"),
    # seeds/000 简答题 4 blames the optimiser for the gradient-accumulation difference: rejected, explained.
    ("opt.grad_accumulation.1", 2, 0.0, "opt.grad_accumulation.1.option2"),
]


@pytest.mark.parametrize(("item", "seed_answer", "score", "misconception"), SEED_CASES)
def test_seed_answers(
    item: str, seed_answer: int | list[int], score: float, misconception: str | None
) -> None:
    inst = instantiate(FAMILY, params={"item": item})  # the bank's order: option i is letter i
    picked = [seed_answer] if isinstance(seed_answer, int) else seed_answer
    typed = "".join("ABCDEF"[i] for i in picked)
    result = grade_answers(inst, {"choice": typed}, "zh").parts["choice"]
    assert result.score == score
    assert result.misconception == misconception


@pytest.mark.parametrize(
    ("item", "seed_says", "score"),
    [
        ("rnn.lstm.vanishing.1", "T", 0.0),  # seeds/003 exam: LSTM does not stop exploding gradients
        (
            "attn.decoder_parallel.1",
            "F",
            0.0,
        ),  # seeds/003: "the decoder must run serially" (only at inference)
        ("rnn.lstm.vanishing.1", "F", 1.0),
        ("opt.dropout.test.1", "F", 1.0),  # seeds/004 实践题 1-2: dropout is off at prediction time
    ],
)
def test_seed_true_false_claims(item: str, seed_says: str, score: float) -> None:
    inst = instantiate(FAMILY, params={"item": item})
    assert grade_answers(inst, {"choice": seed_says}, "en").score == score


# --- keys corrected after review ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "typed", "score"),
    [
        # DQN stabilises training with experience replay (B) and a target network (C). Approximating Q
        # with a network (A) is what makes it unstable, so a student who leaves A out is right.
        ("rl.dqn.1", "BC", 1.0),
        ("rl.dqn.1", "ABC", 0.0),
        ("rl.dqn.1", "AB", 0.0),
    ],
)
def test_reviewed_keys(item: str, typed: str, score: float) -> None:
    inst = instantiate(FAMILY, params={"item": item})  # the bank's order: option i is letter i
    assert grade_answers(inst, {"choice": typed}, "en").score == score


def test_dqn_explanation_says_why_function_approximation_is_not_a_stabiliser() -> None:
    solution = instantiate(FAMILY, params={"item": "rl.dqn.1"}).solution()
    assert "source of the instability" in "\n".join(solution["en"])
    assert "不稳定的来源" in "\n".join(solution["zh"])


def test_dropout_explanation_keeps_one_meaning_of_p() -> None:
    # The textbook's p is the keep rate; PyTorch's nn.Dropout(p) takes the drop rate. The explanation
    # must not divide by 1 - p right after calling p the keep rate.
    text = RAW["opt.dropout.test.1"]["explanation"]
    assert "1-p" not in text["zh"] and "1-p" not in text["en"]
    assert "丢弃率" in text["zh"] and "drop probability" in text["en"]


# --- params validation ------------------------------------------------------------------------

BAD_PARAMS = [
    ({"item": "cnn.weight_sharng.1"}, "item", "did you mean 'cnn.weight_sharing.1'"),
    ({"item": "nothing.like.it"}, "item", "concept_choice.yaml"),
    ({"item": ""}, "item", "at least 1 character"),
    ({"item": "x" * 81}, "item", "at most 80 characters"),
    ({}, "item", "Field required"),
    ({"item": "cnn.xcorr.1", "option_order": [0, 1, 2]}, "option_order", "permutation of 0..3"),
    ({"item": "cnn.xcorr.1", "option_order": [0, 1, 1, 2]}, "option_order", "permutation of 0..3"),
    ({"item": "cnn.xcorr.1", "option_order": [1, 2, 3, 4]}, "option_order", "permutation of 0..3"),
    ({"item": "cnn.xcorr.1", "option_order": [0, 1, 2, 3, 4, 5, 6]}, "option_order", "at most 6 items"),
    ({"item": "cnn.xcorr.1", "option_order": "ABCD"}, "option_order", "valid list"),
    ({"item": "cnn.pooling.2", "option_order": [0, 1]}, "option_order", "true/false item has no options"),
    ({"item": "cnn.xcorr.1", "shuffle": True}, "shuffle", "Extra inputs"),
]


@pytest.mark.parametrize(("params", "field", "words"), BAD_PARAMS)
def test_bad_params_name_the_field(params: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidParams) as err:
        instantiate(FAMILY, params=params)
    assert field in str(err.value) and words in str(err.value)


def test_params_schema_lists_the_item_ids() -> None:
    schema = get_family(FAMILY).Params.model_json_schema()
    assert set(schema["properties"]["item"]["enum"]) == set(RAW)


# --- the bank self-test -----------------------------------------------------------------------


def test_check_bank_has_no_failures() -> None:
    report = check_family(get_family(FAMILY), range(200))
    assert report.failures == []
    assert report.seeds == 200 and report.misconception_checks > 0


def test_every_items_explanation_is_in_its_worked_solution() -> None:
    """The explanation is what a student reads after answering (the solution view)."""
    from problems.concepts import choice_items

    for item_id, item in choice_items().items():
        steps = instantiate("concept.choice", params={"item": item_id}).solution()
        assert item.explanation.zh in steps["zh"] and item.explanation.en in steps["en"], item_id
