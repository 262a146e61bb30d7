"""The concept bank data files and their loader: size, coverage, and loud failures on bad items."""

from __future__ import annotations

import copy
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from problems.concepts import (
    ConceptBankError,
    choice_items,
    items_by_chapter,
    load_choice_items,
    load_short_answer_items,
    pick_item,
    short_answer_items,
)
from problems.syllabus import CHAPTERS

DATA = Path(__file__).resolve().parents[2] / "problems" / "data"


# --- the packaged banks ---------------------------------------------------------------------


def test_bank_sizes() -> None:
    assert len(choice_items()) >= 80
    assert len(short_answer_items()) >= 25


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_every_chapter_has_items(chapter: str) -> None:
    assert len(items_by_chapter(choice_items())[chapter]) >= 5
    assert len(items_by_chapter(short_answer_items())[chapter]) >= 2


def test_item_kinds_are_mixed_and_true_false_is_not_guessable() -> None:
    kinds = Counter(item.kind for item in choice_items().values())
    assert kinds["single"] >= 40 and kinds["multi"] >= 10 and kinds["true_false"] >= 20
    answers = Counter(item.answer for item in choice_items().values() if item.kind == "true_false")
    # Always answering T (or F) must not pass: both answers are common.
    assert min(answers[True], answers[False]) / kinds["true_false"] >= 0.3


def test_packaged_files_are_what_the_loader_reads() -> None:
    # The cached bank is the packaged data file, read through the same validation as any file.
    assert load_choice_items(DATA / "concept_choice.yaml").keys() == choice_items().keys()
    assert load_short_answer_items(DATA / "concept_short_answer.yaml").keys() == short_answer_items().keys()


def test_raw_files_agree_with_the_models() -> None:
    # Read the YAML without our loader: every item's answer indexes its own options.
    raw = yaml.safe_load((DATA / "concept_choice.yaml").read_text("utf-8"))
    assert len(raw) == len(choice_items())
    for entry in raw:
        options = entry.get("options", [])
        answer = entry["answer"]
        if entry["kind"] == "true_false":
            assert isinstance(answer, bool) and not options, entry["id"]
        else:
            wanted = [answer] if entry["kind"] == "single" else answer
            assert all(0 <= i < len(options) for i in wanted), entry["id"]
            assert sorted(choice_items()[entry["id"]].correct) == sorted(wanted)


def test_short_answer_rubrics_add_up() -> None:
    for item in short_answer_items().values():
        assert item.total_points in (5, 10, 15, 20), item.id
        assert item.outline and item.rubric


# --- pick_item: seeds keep their question when the bank grows -------------------------------


def test_adding_an_item_moves_only_the_seeds_that_land_on_it() -> None:
    ids = tuple(sorted(choice_items()))
    grown = (*ids, "zz.new_item.1")
    moved = 0
    for key in range(3000):
        before, after = pick_item(ids, key), pick_item(grown, key)
        if before != after:
            assert after == "zz.new_item.1"
            moved += 1
    # About 1/(n+1) of the seeds move to the new item; the rest keep their question.
    assert 0 < moved < 3000 * 3 / len(grown)


# --- malformed files ------------------------------------------------------------------------


def _single() -> dict[str, Any]:
    return {
        "id": "cnn.example.1",
        "chapter": "cnn",
        "kind": "single",
        "difficulty": 1,
        "stem": {"zh": "题干", "en": "stem"},
        "options": [
            {"zh": "甲", "en": "one"},
            {"zh": "乙", "en": "two", "why_wrong": {"zh": "因为", "en": "because"}},
            {"zh": "丙", "en": "three"},
        ],
        "answer": 0,
        "explanation": {"zh": "解释", "en": "explanation"},
    }


def _short() -> dict[str, Any]:
    return {
        "id": "rnn.example",
        "chapter": "rnn",
        "difficulty": 2,
        "question": {"zh": "问题", "en": "question"},
        "outline": [{"zh": "要点", "en": "point"}],
        "rubric": [{"points": 10, "criterion": {"zh": "标准", "en": "criterion"}}],
    }


def _write(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    tf = {**_single(), "id": "cnn.example.2", "kind": "true_false", "answer": False}
    del tf["options"]
    multi = {**_single(), "id": "cnn.example.3", "kind": "multi", "answer": [0, 2]}
    multi["options"] = [{k: v for k, v in o.items() if k != "why_wrong"} for o in multi["options"]]
    items = load_choice_items(_write(tmp_path, [_single(), tf, multi]))
    assert items["cnn.example.1"].correct == (0,)
    assert items["cnn.example.2"].answer is False
    assert items["cnn.example.3"].correct == (0, 2)
    assert load_short_answer_items(_write(tmp_path, [_short()]))["rnn.example"].total_points == 10


def _set(path: str, value: Any) -> Any:
    """Return a mutation that sets (or with value=DELETE removes) a dotted path of an item."""

    def mutate(item: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = item
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


DELETE = object()

BAD_CHOICE = [
    # (mutation, field named in the message, words of the message)
    (_set("answer", 3), "answer", "out of range"),
    (_set("answer", -1), "answer", "out of range"),
    (_set("answer", [0]), "answer", "one option index"),
    (_set("answer", True), "answer", "one option index"),
    (_set("stem.zh", DELETE), "stem.zh", "required"),
    (_set("stem.zh", "   "), "stem.zh", "at least 1 character"),
    (_set("explanation.en", ""), "explanation.en", "at least 1 character"),
    (_set("options.2.en", DELETE), "options.2.en", "required"),
    (_set("chapter", "transformers"), "chapter", "unknown chapter"),
    (_set("kind", "essay"), "kind", "single"),
    (_set("difficulty", 4), "difficulty", "less than or equal to 3"),
    (_set("id", "Bad Id"), "id", "pattern"),
    (_set("colour", "red"), "colour", "Extra inputs"),
    (_set("options", [{"zh": "甲", "en": "one"}]), "options", "2 to 6"),
    (_set("options", [{"zh": f"选项{i}", "en": f"option {i}"} for i in range(7)]), "options", "2 to 6"),
    (_set("options.2.zh", "甲"), "options.zh", "same text"),
    (_set("options.0.why_wrong", {"zh": "错", "en": "wrong"}), "options.0.why_wrong", "correct option"),
    (_set("options.1.why_wrong", {"zh": "错"}), "options.1.why_wrong.en", "required"),
    (_set("stem.en", False), "stem.en", "string"),  # an unquoted `No` in YAML is a boolean
]


@pytest.mark.parametrize(("mutate", "field", "words"), BAD_CHOICE)
def test_a_bad_choice_item_is_named_with_its_field(
    tmp_path: Path, mutate: Any, field: str, words: str
) -> None:
    good = {**_single(), "id": "cnn.fine.1"}
    bad = copy.deepcopy(_single())
    mutate(bad)
    path = _write(tmp_path, [good, bad])
    with pytest.raises(ConceptBankError) as err:
        load_choice_items(path)
    msg = str(err.value)
    assert str(path) in msg and "item #2" in msg
    assert f"field '{field}'" in msg and words in msg


BAD_KIND = [
    ({"kind": "true_false", "answer": True}, "options", "no options"),
    ({"kind": "true_false", "answer": 1, "options": []}, "answer", "true or false"),
    ({"kind": "multi", "answer": 1}, "answer", "list of option indices"),
    ({"kind": "multi", "answer": [0, 0]}, "answer", "appears twice"),
    ({"kind": "multi", "answer": [0, 5]}, "answer", "out of range"),
    ({"kind": "multi", "answer": []}, "answer", "list of option indices"),
    ({"kind": "multi", "answer": [0, 2]}, "options.1.why_wrong", "only single items"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_KIND)
def test_kind_specific_rules(tmp_path: Path, changes: dict[str, Any], field: str, words: str) -> None:
    bad = {**_single(), **changes}
    with pytest.raises(ConceptBankError) as err:
        load_choice_items(_write(tmp_path, [bad]))
    assert "'cnn.example.1'" in str(err.value)
    assert f"field '{field}'" in str(err.value) and words in str(err.value)


def test_duplicate_id_names_the_second_item(tmp_path: Path) -> None:
    path = _write(tmp_path, [_single(), _single()])
    with pytest.raises(ConceptBankError, match=r"item 'cnn.example.1' \(item #2\): field 'id': duplicate id"):
        load_choice_items(path)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    # PyYAML would silently keep the second `answer:`; a TA's slip must not change the key.
    text = yaml.safe_dump([_single()], allow_unicode=True, sort_keys=False).replace(
        "  answer: 0\n", "  answer: 0\n  answer: 2\n"
    )
    path = tmp_path / "bank.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConceptBankError, match="appears twice"):
        load_choice_items(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- id: a.b\n  stem: [unclosed\n", "not valid YAML"),
        ("id: a.b\n", "a YAML list of items"),
        ("[]\n", "no items"),
        ("- just a string\n", "item #1"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConceptBankError, match=words):
        load_choice_items(path)


BAD_SHORT = [
    (_set("rubric", []), "rubric", "at least 1 item"),
    (_set("rubric.0.points", 0), "rubric.0.points", "greater than or equal to 1"),
    (_set("rubric.0.criterion.zh", DELETE), "rubric.0.criterion.zh", "required"),
    (_set("outline", []), "outline", "at least 1 item"),
    (_set("question.en", DELETE), "question.en", "required"),
    (_set("chapter", "gnn"), "chapter", "unknown chapter"),
    (
        _set("rubric", [{"points": 50, "criterion": {"zh": "甲", "en": "a"}}] * 3),
        "rubric",
        "add up to 150",
    ),
]


@pytest.mark.parametrize(("mutate", "field", "words"), BAD_SHORT)
def test_a_bad_short_answer_item_is_named_with_its_field(
    tmp_path: Path, mutate: Any, field: str, words: str
) -> None:
    bad = copy.deepcopy(_short())
    mutate(bad)
    with pytest.raises(ConceptBankError) as err:
        load_short_answer_items(_write(tmp_path, [bad]))
    msg = str(err.value)
    assert "'rnn.example'" in msg and f"field '{field}'" in msg and words in msg


# Each topic the issue names for the concept bank, with words (zh or en) an item about it uses.
TOPICS: dict[str, tuple[str, ...]] = {
    "no free lunch": ("没有免费午餐", "No Free Lunch", "no free lunch"),
    "ugly duckling": ("丑小鸭",),
    "Occam's razor": ("奥卡姆", "Occam"),
    "SGD vs batch GD": ("随机梯度下降", "stochastic gradient"),
    "L1/L2": ("L1", "ℓ1", "\\ell_1"),
    "dropout": ("dropout", "Dropout", "丢弃"),
    "activations": ("ReLU", "Sigmoid", "sigmoid"),
    "CNN properties": ("局部连接", "权重共享", "weight sharing"),
    "pooling": ("汇聚", "池化", "pooling"),
    "1x1 convolutions": ("1×1", "1x1", "1\\times1", "1 \\times 1"),
    "residual connections": ("残差", "residual"),
    "RNN gradient problems": ("梯度消失", "梯度爆炸", "vanishing"),
    "LSTM gates": ("遗忘门", "forget gate"),
    "GRU": ("GRU",),
    "Adagrad/RMSProp/Adam": ("Adagrad", "RMSProp", "RMSprop", "Adam"),
    "momentum vs Nesterov": ("Nesterov",),
    "BN vs LN": ("层归一化", "layer normalization", "Layer Norm", "LayerNorm"),
    "attention": ("注意力", "attention"),
    "multi-head": ("多头", "multi-head"),
    "transformer parts": ("Transformer",),
    "RL five elements": ("五要素", "五个要素", "five elements"),
    "value functions": ("值函数", "value function"),
    "SARSA vs Q-learning": ("SARSA",),
}


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_syllabus_topic_has_a_choice_item(topic: str) -> None:
    def text(item: Any) -> str:
        return " ".join([item.stem.zh, item.stem.en, item.explanation.zh, item.explanation.en])

    hits = [i.id for i in choice_items().values() if any(w in text(i) for w in TOPICS[topic])]
    assert hits, f"no concept.choice item covers {topic}"


# --- citations of the seeds -------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
# The course's real homework, keys and notes sit beside the checkout (../shared/seeds); a worktree
# elsewhere can point at them with DLGRADER_SEEDS.
SEEDS = Path(os.environ.get("DLGRADER_SEEDS") or REPO.parent / "shared" / "seeds")
CITATION = re.compile(r"seeds/(\d{3}) ([^,;)\n]+)")


def _citations() -> list[tuple[str, str, str]]:
    """(where, seed number, label) of every 'seeds/NNN label' in the banks' sources and family docstrings."""
    found = []
    for item in [*choice_items().values(), *short_answer_items().values()]:
        found += [(item.id, n, label) for n, label in CITATION.findall(item.source or "")]
    for module in sorted((REPO / "problems" / "families").glob("*.py")):
        doc = module.read_text("utf-8").split('"""')[1] if '"""' in module.read_text("utf-8") else ""
        found += [(module.name, n, label) for n, label in CITATION.findall(doc)]
    return found


def test_citations_name_a_section_of_the_cited_seed() -> None:
    """'seeds/004 A6.1' once cited the wrong file (A6 is in seeds/001, 实践题 in seeds/004): the first
    word of each citation (A6.1, 实践题, 简答题, 1.2, 第七章, ...) must occur in the seed it names."""
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} is not beside this checkout (set DLGRADER_SEEDS)")
    texts = {p.name[:3]: re.sub(r"\s+", "", p.read_text("utf-8")) for p in SEEDS.glob("*.txt")}
    citations = _citations()
    assert len(citations) >= 80
    wrong = [
        f"{where}: seeds/{n} {label}"
        for where, n, label in citations
        if n not in texts or label.split()[0] not in texts[n]
    ]
    assert not wrong, wrong
