"""The concept bank: multiple-choice and short-answer items kept as YAML data, validated at load.

TAs edit problems/data/concept_choice.yaml and problems/data/concept_short_answer.yaml
(docs/concept-bank.md). A malformed item fails loudly, naming the file, the item and the field,
so `dlgrader check-bank` catches it before the service poses it to anyone.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from grader.feedback import plural
from problems.syllabus import CHAPTERS

CHOICE_FILE = "concept_choice.yaml"
SHORT_ANSWER_FILE = "concept_short_answer.yaml"
MIN_OPTIONS, MAX_OPTIONS = 2, 6
LETTERS = "ABCDEF"  # one letter per option, MAX_OPTIONS of them

ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ConceptBankError(ValueError):
    """A malformed bank file; the message names the file, the item and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BiText(_Strict):
    """A text in both languages of the course; neither may be empty."""

    zh: NonEmpty
    en: NonEmpty

    def text(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class Option(BiText):
    """One option of a choice item; a distractor may say why it is wrong (single-choice items)."""

    why_wrong: BiText | None = None


def _known_chapter(chapter: str) -> str:
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; use one of {', '.join(CHAPTERS)}")
    return chapter


class ChoiceItem(_Strict):
    """A single-choice, multiple-choice or true/false item."""

    id: ItemId
    chapter: str
    kind: Literal["single", "multi", "true_false"]
    difficulty: int = Field(ge=1, le=3)
    stem: BiText
    options: tuple[Option, ...] = ()
    # single: an option index; multi: a list of option indices; true_false: true or false.
    # Checked per kind in _choice_problems, which says plainly what is expected.
    answer: Any
    explanation: BiText
    source: str | None = None  # where the item comes from, e.g. "seeds/003 第七章"

    _chapter = field_validator("chapter")(_known_chapter)

    @property
    def correct(self) -> tuple[int, ...]:
        """Return the 0-based indices of the correct options (empty for true/false)."""
        if isinstance(self.answer, bool):
            return ()
        if isinstance(self.answer, int):
            return (self.answer,)
        return tuple(sorted(self.answer))


class RubricLine(_Strict):
    points: int = Field(ge=1, le=50)
    criterion: BiText


class ShortAnswerItem(_Strict):
    """An open question graded by a TA against a rubric; the outline lists the key points."""

    id: ItemId
    chapter: str
    difficulty: int = Field(ge=1, le=3)
    question: BiText
    outline: tuple[BiText, ...] = Field(min_length=1, max_length=12)
    rubric: tuple[RubricLine, ...] = Field(min_length=1, max_length=12)
    source: str | None = None

    _chapter = field_validator("chapter")(_known_chapter)

    @property
    def total_points(self) -> int:
        return sum(r.points for r in self.rubric)


# --- checks that need the whole item (pydantic checks the types and bounds first) -----------


def _is_index(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _choice_problems(item: ChoiceItem) -> list[tuple[str, str]]:
    """Return (field, message) for every rule of its kind the item breaks."""
    n = len(item.options)
    answer = item.answer
    found: list[tuple[str, str]] = []
    if item.kind == "true_false":
        if n:
            found.append(("options", "a true_false item has no options (its choices are T and F)"))
        if not isinstance(answer, bool):
            found.append(("answer", "a true_false item's answer is true or false"))
        return found
    if not MIN_OPTIONS <= n <= MAX_OPTIONS:
        found.append(
            (
                "options",
                f"{n} {plural(n, 'option', 'options')}; a {item.kind} item has {MIN_OPTIONS} to {MAX_OPTIONS}",
            )
        )
    for field in ("zh", "en"):
        texts = [getattr(o, field) for o in item.options]
        if len(set(texts)) != len(texts):
            found.append((f"options.{field}", "two options have the same text"))
    if item.kind == "single":
        if not _is_index(answer):
            found.append(("answer", "a single item's answer is one option index (0-based)"))
            return found
        indices: tuple[int, ...] = (answer,)
    else:
        if not isinstance(answer, tuple) or not answer or not all(_is_index(i) for i in answer):
            found.append(("answer", "a multi item's answer is a list of option indices (0-based)"))
            return found
        indices = answer
        if len(set(indices)) != len(indices):
            found.append(("answer", "an option index appears twice"))
        for i, o in enumerate(item.options):
            if o.why_wrong is not None:
                found.append((f"options.{i}.why_wrong", "only single items take why_wrong"))
    for i in indices:
        if not 0 <= i < n:
            found.append(("answer", f"option index {i} is out of range 0..{n - 1} (indices are 0-based)"))
    for i in indices:
        if 0 <= i < n and item.options[i].why_wrong is not None:
            found.append((f"options.{i}.why_wrong", "the correct option cannot have why_wrong"))
    return found


def _short_answer_problems(item: ShortAnswerItem) -> list[tuple[str, str]]:
    if item.total_points > 100:
        return [("rubric", f"the points add up to {item.total_points}; at most 100")]
    return []


# --- loading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

M = TypeVar("M", ChoiceItem, ShortAnswerItem)


def _read(name: str, path: Path | str | None) -> tuple[str, str]:
    """Return (label, text) of a bank file: the packaged one, or the one at path (tests, TAs)."""
    if path is None:
        return f"problems/data/{name}", resources.files("problems").joinpath("data", name).read_text("utf-8")
    return str(path), Path(path).read_text("utf-8")


def _load(label: str, text: str, model: type[M]) -> dict[str, M]:
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConceptBankError(f"{label}: not valid YAML: {exc}") from None
    if not isinstance(raw, list):
        raise ConceptBankError(
            f"{label}: the file must be a YAML list of items (lines starting with '- id:')"
        )
    check = _choice_problems if model is ChoiceItem else _short_answer_problems
    items: dict[str, M] = {}
    for n, entry in enumerate(raw, start=1):
        name = repr(entry.get("id")) if isinstance(entry, dict) and entry.get("id") else f"#{n}"
        where = f"{label}: item {name} (item #{n})"
        if not isinstance(entry, dict):
            raise ConceptBankError(f"{where}: an item is a mapping of fields (id, chapter, ...)")
        # YAML gives lists; the models keep tuples (immutable). Strict mode needs the exact type.
        entry = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        try:
            item = model.model_validate(entry)
        except ValidationError as exc:
            lines = [
                f"field '{'.'.join(str(x) for x in e['loc']) or 'item'}': {e['msg']}"
                for e in exc.errors(include_url=False)
            ]
            raise ConceptBankError(f"{where}: " + "; ".join(lines)) from None
        problems = check(item)  # type: ignore[arg-type]
        if problems:
            raise ConceptBankError(f"{where}: " + "; ".join(f"field '{f}': {m}" for f, m in problems))
        if item.id in items:
            raise ConceptBankError(f"{where}: field 'id': duplicate id {item.id!r}")
        items[item.id] = item
    if not items:
        raise ConceptBankError(f"{label}: no items")
    return items


def load_choice_items(path: Path | str | None = None) -> dict[str, ChoiceItem]:
    """Load and validate a choice bank file (the packaged one by default)."""
    return _load(*_read(CHOICE_FILE, path), ChoiceItem)


def load_short_answer_items(path: Path | str | None = None) -> dict[str, ShortAnswerItem]:
    """Load and validate a short-answer bank file (the packaged one by default)."""
    return _load(*_read(SHORT_ANSWER_FILE, path), ShortAnswerItem)


@functools.cache
def choice_items() -> Mapping[str, ChoiceItem]:
    """Return the packaged choice items by id (loaded once)."""
    return MappingProxyType(load_choice_items())


@functools.cache
def short_answer_items() -> Mapping[str, ShortAnswerItem]:
    """Return the packaged short-answer items by id (loaded once)."""
    return MappingProxyType(load_short_answer_items())


def choice_ids() -> tuple[str, ...]:
    return tuple(sorted(choice_items()))


def short_answer_ids() -> tuple[str, ...]:
    return tuple(sorted(short_answer_items()))


def unknown_item_message(item_id: str, known: tuple[str, ...], file: str) -> str:
    """Say that an item id is unknown, suggest close ids and where the ids are listed."""
    close = difflib.get_close_matches(item_id, known, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return (
        f"unknown concept item {item_id!r}{hint}. The ids are the 'id:' fields of problems/data/{file} "
        f"(GET /api/v1/problems shows them in the params schema; {len(known)} items)"
    )


def get_choice_item(item_id: str) -> ChoiceItem:
    """Return a choice item by id; raise KeyError with a helpful message."""
    try:
        return choice_items()[item_id]
    except KeyError:
        raise KeyError(unknown_item_message(item_id, choice_ids(), CHOICE_FILE)) from None


def get_short_answer_item(item_id: str) -> ShortAnswerItem:
    """Return a short-answer item by id; raise KeyError with a helpful message."""
    try:
        return short_answer_items()[item_id]
    except KeyError:
        raise KeyError(unknown_item_message(item_id, short_answer_ids(), SHORT_ANSWER_FILE)) from None


def pick_item(ids: tuple[str, ...], key: int) -> str:
    """Pick an item by highest hash weight (rendezvous hashing) rather than by position.

    Adding an item to the bank then moves only the seeds that now land on the new item;
    every other seed keeps its question, so a TA's edit does not reshuffle the whole bank.
    """
    return max(ids, key=lambda i: hashlib.sha256(f"{key}:{i}".encode()).digest())


def items_by_chapter(items: Mapping[str, ChoiceItem | ShortAnswerItem]) -> dict[str, list[str]]:
    """Group item ids by chapter, in teaching order (the service may filter on it)."""
    out: dict[str, list[str]] = {c: [] for c in CHAPTERS}
    for item_id in sorted(items):
        out[items[item_id].chapter].append(item_id)
    return out
