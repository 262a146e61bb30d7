"""Mock exams and homework: build variants from one seed, grade submissions, export grades."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import numpy as np
from sqlalchemy import false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problems
from app.db import release_connection, utcnow
from app.models import Exam, ExamAssignment, ExamQuestion, ExamSubmission, ExamVariant, InstanceRecord, User
from app.schemas.exams import ExamCreate
from app.services import attempts, instances
from app.services.catalogue import list_problems
from app.services.csvtext import rows_with_lines
from app.services.errors import Conflict, Invalid, NotFound, Said, ServiceError, in_chinese, say
from app.services.grading import Grader, Pending
from app.services.handgrades import PointsOutOfRange, share_of
from grader.feedback import plural
from problems import GradeResult
from problems.base import build_instance, family_rng, validate_params
from problems.syllabus import CHAPTERS

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read off paper without doubt
MAX_VARIANTS = 500
MAX_QUESTIONS = 60


def _derived_seed(exam_seed: int, *path: int) -> int:
    """A seed per (variant, question) from the exam's seed: distinct, stable on every machine."""
    state = np.random.SeedSequence([exam_seed & 0xFFFFFFFFFFFFFFFF, *path]).generate_state(1, np.uint64)
    return int(state[0]) >> 1


@dataclass(frozen=True)
class PlannedItem:
    problem: str
    params: dict[str, Any] | None
    points: float
    among: tuple[str, ...] | None = None  # a tag's concept question: one of these bank items
    same_form: bool = False  # every variant asks it in variant 1's form: sizes, rule, steps, kind


@dataclass(frozen=True)
class SpecError:
    """One thing wrong with an exam's spec: where (("items", 2, "params", "num_classes"), ("items",))
    and what, in zh and en without the where: the API puts its field path before it, the builder's
    page its row and column as the TA sees them."""

    loc: tuple[str | int, ...]
    said: Said
    type: str = "value_error"

    @property
    def path(self) -> str:
        return ".".join(str(x) for x in self.loc)


class SpecInvalid(Invalid):
    """An exam's spec that cannot be built (422), with every error found: the first one alone made a
    TA fix and send the exam again for each."""

    def __init__(self, errors: list[SpecError]) -> None:
        lines = [{lang: f"{e.path}: {text}" for lang, text in e.said.items()} for e in errors]
        super().__init__("; ".join(line["en"] for line in lines), field=errors[0].path, said=lines)
        self.errors = errors


SPEC_SAID: dict[str, Said] = {
    "unknown_problem": {"zh": "没有题型 {problem!r}", "en": "unknown problem id {problem!r}"},
    "empty_tag": {
        "zh": "没有难度在 {lo}-{hi} 之间、带标签 {tag!r} 的题型{auto}",
        "en": "no problem family has tag {tag!r} at difficulty {lo}-{hi}{auto}",
    },
    "auto_only": {"zh": "（仅自动评分）", "en": " graded automatically"},
    "no_items": {"zh": "至少要有一题", "en": "at least one item"},
    "too_many": {
        "zh": "每份试卷最多 {n} 题，这里有 {m} 题",
        "en": "at most {n} questions per exam ({m} asked)",
    },
}


def item_errors(i: int, item: dict[str, Any]) -> list[SpecError]:
    """What stops item i of a spec (valid as ExamItem) from being posed: an unknown family, params it
    refuses (each field), a tag no family has."""
    if item.get("problem"):
        try:
            family = problems.get_family(item["problem"])
        except problems.UnknownProblem:
            return [
                SpecError(("items", i, "problem"), say(SPEC_SAID["unknown_problem"], problem=item["problem"]))
            ]
        if item.get("params") is None:
            return []
        try:  # once here, naming the item, not once per variant as "params"
            validate_params(family, item["params"])
        except problems.InvalidParams as exc:
            return [
                SpecError(
                    ("items", i, "params", *e["loc"]),
                    {"zh": in_chinese(e["msg"]), "en": e["msg"]},
                    e.get("type", "value_error"),
                )
                for e in exc.errors
            ]
        return []
    lo, hi = item.get("difficulty") or (1, 3)
    if _tag_pool(
        problems.all_families(),
        item["tag"],
        lo,
        hi,
        concepts=item.get("concepts", False),
        auto_only=item.get("auto_only", False),
    ):
        return []
    auto = SPEC_SAID["auto_only"] if item.get("auto_only") else {"zh": "", "en": ""}
    return [
        SpecError(("items", i, "tag"), say(SPEC_SAID["empty_tag"], tag=item["tag"], lo=lo, hi=hi, auto=auto))
    ]


def plan_items(items: list[dict[str, Any]], seed: int, same_form: bool = False) -> list[PlannedItem]:
    """Resolve items by family or by tag+count into the question list every variant shares; every
    item's errors at once (SpecInvalid). `same_form`: the exam's choice, which an item's own
    `same_form` overrides."""
    errors = [e for i, item in enumerate(items) for e in item_errors(i, item)]
    if not items:
        errors.append(SpecError(("items",), SPEC_SAID["no_items"]))
    if errors:
        raise SpecInvalid(errors)
    fams = problems.all_families()
    rng = np.random.default_rng(_derived_seed(seed, 0xE7A))
    planned: list[PlannedItem] = []
    for item in items:
        points = float(item.get("points", 1.0))
        if item.get("problem"):
            # Fixed params are one question in every variant already.
            alike = bool(item.get("same_form", same_form)) and item.get("params") is None
            planned.append(PlannedItem(item["problem"], item.get("params"), points, same_form=alike))
            continue
        tag, count = item["tag"], int(item.get("count", 1))
        lo, hi = item.get("difficulty") or (1, 3)
        pool = _tag_pool(
            fams, tag, lo, hi, concepts=item.get("concepts", False), auto_only=item.get("auto_only", False)
        )
        # Each family once before any twice: "6 concept questions" from 2 concept families is 3
        # of each, each a different instance (it was refused: tags pick families, not questions).
        rounds, rest = divmod(count, len(pool))
        picked = sorted(pool) * rounds + list(rng.choice(sorted(pool), size=rest, replace=False))
        # A tag picks its families once for the exam: question k asks the same family in every
        # variant, so keeping variant 1's form is keeping that family's form.
        alike = bool(item.get("same_form", same_form))
        for fid in sorted(picked):
            planned.append(PlannedItem(str(fid), None, points, pool[str(fid)], same_form=alike))
    if len(planned) > MAX_QUESTIONS:
        said = say(SPEC_SAID["too_many"], n=MAX_QUESTIONS, m=len(planned))
        raise SpecInvalid([SpecError(("items",), said)])
    return planned


def _tag_pool(
    fams: list[problems.Family[Any]], tag: str, lo: int, hi: int, *, concepts: bool, auto_only: bool
) -> dict[str, tuple[str, ...] | None]:
    """The families a tag item draws from, each with the bank items it may pose (None: whatever it
    generates). `concepts`: a family of bank items (the concept bank) joins a chapter's tag with its
    items of that chapter, by their own difficulty, and poses only those (an item has a chapter, no
    topic tags; by its own tags it would pose any chapter's item). `auto_only`: no family a TA grades."""
    # The catalogue's parts, listed once per process (part_list poses an example instance each call).
    by_hand = {p["id"] for p in list_problems() if any(q["answer_type"] == "text" for q in p["parts"])}
    pool: dict[str, tuple[str, ...] | None] = {}
    for f in fams:
        if f.id == "custom.answer" or (auto_only and f.id in by_hand):
            continue
        bank = f.bank_items() if concepts and tag in CHAPTERS else {}
        if bank:
            among = sorted(i for i, it in bank.items() if it.chapter == tag and lo <= it.difficulty <= hi)
            if among:
                pool[f.id] = tuple(among)
        elif tag in f.tags and lo <= f.difficulty <= hi:
            pool[f.id] = None
    return pool


def _codes(seed: int, n: int, planned: list[PlannedItem]) -> list[str]:
    """Variant codes from the seed and what is asked: the same exam built again has the same codes
    (its printed papers stay gradable), and two exams of one seed but other questions have others,
    so a class CSV sent to the wrong one is refused for its unknown codes rather than graded."""
    asked = json.dumps(
        [
            [
                i.problem,
                i.params,
                i.points,
                *([i.among] if i.among else []),
                *(["same_form"] if i.same_form else []),
            ]
            for i in planned
        ],
        sort_keys=True,
    ).encode()
    salt = int.from_bytes(hashlib.sha256(asked).digest()[:4], "big")
    rng = np.random.default_rng(_derived_seed(seed, 0xC0DE, salt))
    codes: list[str] = []
    while len(codes) < n:
        code = "".join(CODE_ALPHABET[int(k)] for k in rng.integers(0, len(CODE_ALPHABET), size=4))
        if code not in codes:
            codes.append(code)
    return codes


def create_exam(
    session: Session,
    *,
    title: str,
    items: list[dict[str, Any]],
    variants: int,
    seed: int,
    lang: str,
    user: User,
    kind: str = "paper",
    opens_at: Any = None,
    due_at: Any = None,
    time_limit_minutes: int | None = None,
    spec: dict[str, Any] | None = None,
    same_form: bool = False,
) -> Exam:
    """Build an exam: every variant gets its own instances, numbered from 1 as printed. With
    `same_form` (or an item's own), every variant asks a question in variant 1's form; a variant that
    could not be drawn in it is named in the exam's warnings."""
    if not 1 <= variants <= MAX_VARIANTS:
        raise Invalid(f"variants: 1 to {MAX_VARIANTS}", field="variants")
    planned = plan_items(items, seed, same_form)
    exam = Exam(
        id=secrets.token_urlsafe(9),
        title=title,
        seed=seed,
        lang=lang,
        spec=spec or {},
        kind=kind,
        opens_at=opens_at,
        due_at=due_at,
        time_limit_minutes=time_limit_minutes,
        created_by=user.id,
    )
    session.add(exam)
    answers_seen: dict[int, set[str] | None] = {q: set() for q in range(1, len(planned) + 1)}
    alike: dict[int, _Form] = {}  # question -> variant 1's form, for items asked in one form
    for v, code in enumerate(_codes(seed, variants, planned)):
        variant = ExamVariant(index=v, code=code)
        exam.variants.append(variant)
        posed: set[str] = set()
        for q, item in enumerate(planned, 1):
            qseed, drawn = None, None
            if item.params is None:
                qseed, drawn = _question_draw(item, seed, v, q, answers_seen, posed, alike.get(q), code)
                if item.same_form and v == 0:
                    alike[q] = _Form(problems.get_family(item.problem).form(drawn.p))
            record, _ = instances.pose(
                session, problem=item.problem, seed=qseed, params=item.params, user=user, instance=drawn
            )
            variant.questions.append(ExamQuestion(number=q, instance_id=record.id, points=item.points))
    exam.warnings = [
        _form_warning(q, planned[q - 1].problem, f.missed, variants) for q, f in alike.items() if f.missed
    ]
    session.commit()
    return exam


DRAWS_FOR_NEW_ANSWERS = 12
# Seeds a variant tries for variant 1's form before it is drawn as without the option. A family with
# a direct draw (Family.generate_in_form) needs one seed per candidate; the others match one seed in
# about as many as they have forms, a dozen or two.
SEEDS_FOR_SAME_FORM = 300
# A question stops searching for its form once this many variants missed it and they are more than a
# tenth of those that searched: the form is too rare to be worth a search per variant (a form found
# only by most of the tries costs most of them), and the rest are drawn without it.
MISSES_BEFORE_GIVING_UP = 3


@dataclass
class _Form:
    """Variant 1's form of a question, and the variants that could not be drawn in it."""

    form: Hashable
    missed: list[str] = field(default_factory=list)  # codes, for the exam's warnings
    searched: int = 0
    misses: int = 0

    def worth_searching(self) -> bool:
        return self.misses < MISSES_BEFORE_GIVING_UP or 10 * self.misses <= self.searched


def _question_draw(
    item: PlannedItem,
    exam_seed: int,
    v: int,
    q: int,
    seen: dict[int, set[str] | None],
    posed: set[str],
    alike: _Form | None,
    code: str,
) -> tuple[int | None, problems.Instance]:
    """Question q of variant v: in variant 1's form when the item asks for it (`alike`) and it can be
    found, otherwise drawn as without the option (and the variant's code noted)."""
    if alike is not None and alike.worth_searching():
        found = _new_answers_draw(
            item.problem, _form_draws(item, exam_seed, v, q, alike.form), q, seen, posed
        )
        alike.searched += 1
        if found:
            return found
        alike.misses += 1
    if alike is not None:
        alike.missed.append(code)
    drawn = _new_answers_draw(item.problem, _draws(item, exam_seed, v, q), q, seen, posed)
    assert drawn is not None  # twelve draws, never none
    return drawn


def _new_answers_draw(
    problem: str,
    draws: Iterable[tuple[int | None, problems.Instance]],
    q: int,
    seen: dict[int, set[str] | None],
    posed: set[str],
) -> tuple[int | None, problems.Instance] | None:
    """Of a question's draws (the seed that poses each, None if posed by its params, and the
    instance), the first whose answers no earlier variant has, so that a neighbour's answer sheet is
    no use (40 variants of one exam had 28 distinct receptive-field answers). When every draw
    repeats, the family has few answers (a choice): later variants stop trying. Never an instance
    this variant already poses (`posed`): a tag asked for more questions than it has families
    repeats them. None when there was no draw."""
    known = seen[q]
    new_here: tuple[int | None, problems.Instance] | None = None  # the first this variant has not posed
    last: tuple[int | None, problems.Instance] | None = None
    for last in draws:
        if _question_of(problem, last[1]) in posed:
            continue
        new_here = new_here or last
        key = json.dumps(last[1].answers, sort_keys=True)
        if known is None or key not in known:
            if known is not None:
                known.add(key)
            picked = last
            break
    else:
        if last is None:
            return None
        seen[q] = None
        picked = new_here or last  # every draw posed what this variant has: a family of few instances
    posed.add(_question_of(problem, picked[1]))
    return picked


def _draw_seed(exam_seed: int, v: int, q: int, draw: int) -> int:
    return _derived_seed(exam_seed, v, q) if draw == 0 else _derived_seed(exam_seed, v, q, draw)


def _draws(
    item: PlannedItem, exam_seed: int, v: int, q: int
) -> Iterator[tuple[int | None, problems.Instance]]:
    """The question's draws without a form: DRAWS_FOR_NEW_ANSWERS seeds, each its instance; with
    `among`, one of those bank items, drawn as the family draws and posed by its params."""
    family = problems.get_family(item.problem)
    for draw in range(DRAWS_FOR_NEW_ANSWERS):
        qseed = _draw_seed(exam_seed, v, q, draw)
        if item.among is None:
            yield qseed, problems.instantiate(item.problem, seed=qseed)
        else:
            p = family.generate_among(family_rng(item.problem, qseed), item.among)
            yield None, build_instance(family, seed=None, p=p)


def _form_draws(
    item: PlannedItem, exam_seed: int, v: int, q: int, form: Hashable
) -> Iterator[tuple[int | None, problems.Instance]]:
    """The question's draws in this form, DRAWS_FOR_NEW_ANSWERS at most among SEEDS_FOR_SAME_FORM
    seeds: each seed's direct draw in the form where the family has one (posed by its params), else
    the seed's own draw when it has the form. A direct draw that finds none (its tries are bounded)
    ends the search: the seeds' own draws, one family draw each, would not find it either."""
    family = problems.get_family(item.problem)
    direct = item.among is None
    matched = 0
    for draw in range(SEEDS_FOR_SAME_FORM):
        qseed = _draw_seed(exam_seed, v, q, draw)
        if direct:
            try:
                p = family.generate_in_form(family_rng(item.problem, qseed), form)
            except NotImplementedError:
                direct = False
            else:
                if p is None:
                    return
                yield None, build_instance(family, seed=None, p=p)
                matched += 1
                if matched == DRAWS_FOR_NEW_ANSWERS:
                    return
                continue
        if item.among is None:
            p, posed_by = family.generate(family_rng(item.problem, qseed)), qseed
        else:
            p, posed_by = family.generate_among(family_rng(item.problem, qseed), item.among), None
        if family.form(p) == form:
            yield posed_by, build_instance(family, seed=posed_by, p=p)
            matched += 1
            if matched == DRAWS_FOR_NEW_ANSWERS:
                return


def _form_warning(q: int, problem: str, missed: list[str], variants: int) -> dict[str, Any]:
    """What the exam's response and page say of a question some variants ask in another form."""
    codes = ", ".join(missed)
    return {
        "question": q,
        "problem": problem,
        "variants": missed,
        "message": {
            "zh": f"第 {q} 题（{problem}）：{len(missed)}/{variants} 套试卷没有找到与第 1 套结构相同的题目，"
            f"按未勾选“各套题型结构相同”时的方式出题，工作量可能不同：{codes}",
            "en": f"question {q} ({problem}): {len(missed)} of {variants} {plural(variants, 'variant', 'variants')} found "
            f"no question of variant 1's form and {plural(len(missed), 'was', 'were')} drawn as without the same-form option, so their work may differ: {codes}",
        },
    }


def _question_of(problem: str, inst: problems.Instance) -> str:
    """What makes two questions the same: a concept's bank item, whatever its options' order
    (a review found one choice item twice in a variant, shuffled); otherwise the params."""
    return json.dumps([problem, inst.params.get("item", inst.params)], sort_keys=True)


def create_from_spec(session: Session, spec: ExamCreate, user: User) -> Exam:
    """Build an exam from the API's body (the REST endpoint and the builder page both send one)."""
    return create_exam(
        session,
        title=spec.title,
        items=[i.model_dump(exclude_none=True) for i in spec.items],
        variants=spec.variants,
        seed=spec.seed,
        lang=spec.lang,
        user=user,
        kind=spec.kind,
        opens_at=spec.opens_at,
        due_at=spec.due_at,
        time_limit_minutes=spec.time_limit_minutes,
        spec=spec.model_dump(mode="json"),
        same_form=spec.same_form,
    )


def get_exam(session: Session, exam_id: str) -> Exam:
    exam = session.get(Exam, exam_id) if len(exam_id) <= 24 and "\x00" not in exam_id else None
    if exam is None:
        raise NotFound(f"no exam {exam_id!r}")
    return exam


def list_exams(session: Session, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Exams newest first, a page at a time, each with its times and its number of variants (one
    query: a script looking for an exam's id needs no variant or question loaded)."""
    variants = (
        select(func.count(ExamVariant.id))
        .where(ExamVariant.exam_id == Exam.id)
        .correlate(Exam)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Exam, variants).order_by(Exam.created_at.desc(), Exam.id).limit(limit).offset(offset)
    ).all()
    total = session.scalar(select(func.count(Exam.id))) or 0
    page = [
        {
            "id": e.id,
            "title": e.title,
            "kind": e.kind,
            "lang": e.lang,
            "opens_at": e.opens_at,
            "due_at": e.due_at,
            "time_limit_minutes": e.time_limit_minutes,
            "created_at": e.created_at,
            "variants": n,
        }
        for e, n in rows
    ]
    return page, total


def get_variant(exam: Exam, code: str) -> ExamVariant:
    for v in exam.variants:
        if v.code == code.strip().upper():
            return v
    raise NotFound(f"exam {exam.id} has no variant {code!r}")


def variant_map(session: Session, variant: ExamVariant) -> dict[str, Any]:
    """A variant's questions as a script writes a class CSV for them (tag items ask other families in
    other variants): number, points, family, instance, and each part's name and answer type."""
    return {
        "code": variant.code,
        "questions": [
            {
                "number": q.number,
                "points": q.points,
                "problem": inst.problem,
                "instance_id": q.instance_id,
                "parts": [{"name": p.name, "answer_type": p.answer_type} for p in inst.parts],
            }
            for q, inst in variant_instances(session, variant)
        ],
    }


def variant_instances(session: Session, variant: ExamVariant) -> list[tuple[ExamQuestion, problems.Instance]]:
    ids = [q.instance_id for q in variant.questions]
    records = {r.id: r for r in session.scalars(select(InstanceRecord).where(InstanceRecord.id.in_(ids)))}
    return [(q, instances.build(records[q.instance_id])) for q in variant.questions]


# --- submissions -----------------------------------------------------------------------

# What a submission's check says, in zh and en: a TA's page shows its own language; the API says
# the English, as it always has (app/errors.py: Chinese for a caller that asks for it).
SAID: dict[str, Said] = {
    "line": {"zh": "第 {n} 行", "en": "line {n}"},
    "no_submission": {
        "zh": "考试 {exam} 中没有第 {id} 号答卷",
        "en": "no submission {id} in exam {exam}",
    },
    "superseded": {
        "zh": "第 {old} 号答卷已被第 {new} 号取代，这一小题的答案已改，未评分；请给第 {new} 号评分。",
        "en": "submission {old} was replaced by submission {new}, whose answer to this part differs; "
        "nothing was graded: grade submission {new}",
    },
    "line_of": {"zh": "第 {n} 行（{student}）", "en": "line {n} ({student})"},
    "unknown_code": {"zh": "{where}：未知的卷号 {code!r}", "en": "{where}: unknown variant code {code!r}"},
    "no_question": {
        "zh": "{where}：没有第 {number} 题（题号 1-{n}）",
        "en": "{where}: question {number} does not exist (1-{n})",
    },
    "no_part": {
        "zh": "{where}：第 {number} 题没有小题 {part!r}（小题：{names}）",
        "en": "{where}: question {number} has no part {part!r} (parts: {names})",
    },
    "empty": {"zh": "CSV 是空的", "en": "csv: empty file"},
    "header": {
        "zh": "第 1 行的表头应是 {columns}",
        "en": "csv: line 1: the header must be {columns}",
    },
    "columns": {
        "zh": "{where}：应有 5 列，实有 {found} 列",
        "en": "{where}: expected 5 columns, found {found}",
    },
    "columns_quote": {
        "zh": "{where}：应有 5 列，实有 {found} 列，第 {column} 列是 {cell!r}"
        '（含逗号的答案要放在引号里："[9, 9, 9]"；末尾的空列无妨）',
        "en": "{where}: expected 5 columns, found {found}, column {column} holds {cell!r} (an answer "
        'holding commas goes in quotes: "[9, 9, 9]"; empty columns at the end are fine)',
    },
    "no_student": {"zh": "{where}：学生一栏是空的", "en": "{where}: empty student"},
    "too_long": {
        "zh": "{where}：学生超过 {student} 个字符，或答案超过 {answer} 个字符",
        "en": "{where}: student over {student} or answer over {answer} characters",
    },
    "question_nan": {
        "zh": "{where}：题号 {question!r} 不是数字",
        "en": "{where}: question {question!r} is not a number",
    },
    "lines": {"zh": "第 {n} 行", "en": "lines {n}"},
    "lines_of": {"zh": "第 {n} 行（{student}）", "en": "lines {n} ({student})"},
    "two_codes": {
        "zh": "{where}：学生 {student!r} 有两个卷号（{a} 和 {b}）：这里是 {b}，其余各行是 {a}",
        "en": "{where}: student {student!r} has two variant codes ({a} and {b}): {b} here, {a} on their "
        "other lines",
    },
    "unknown_code_beside": {
        "zh": "{where}：未知的卷号 {code!r}（该生其余各行的卷号是 {other}）",
        "en": "{where}: unknown variant code {code!r} (their other lines say {other})",
    },
    "twice": {
        "zh": "{where}：{student!r} 第 {question} 题的小题 {part!r} 出现了两次",
        "en": "{where}: question {question} part {part!r} of {student!r} appears twice",
    },
    "online": {
        "zh": "{who} 在线作答这场考试：答案由学生本人提交（简答在考试页面上批改）；未保存任何答卷",
        "en": "student: {who} answer this exam online: their answers are their own (a short answer is "
        "graded on the exam's page); nothing was stored",
    },
    "changed": {
        "zh": "{student} 的答案在批改期间变了（另一次上传）；未保存任何答卷，请再提交一次",
        "en": "{student}: their answers changed while these were graded (another upload); nothing was "
        "stored: send it again",
    },
}


def _check_shape(
    session: Session,
    exam: Exam,
    code: str,
    answers: dict[str, dict[str, str]],
    where: Said,
) -> tuple[ExamVariant, list[tuple[ExamQuestion, problems.Instance]], list[Said]]:
    """Validate a submission against its variant; return the problems found, one line each, said
    at `where` (the submission)."""
    try:
        variant = get_variant(exam, code)
    except NotFound:
        return None, [], [say(SAID["unknown_code"], where=where, code=code)]  # type: ignore[return-value]
    qs = variant_instances(session, variant)
    return variant, qs, [said for _, said in _shape_errors(qs, answers, lambda _key: where)]


def _shape_errors(
    qs: list[tuple[ExamQuestion, problems.Instance]],
    answers: dict[str, dict[str, str]],
    where: Callable[[tuple[str, str]], Said],
) -> list[tuple[tuple[str, str], Said]]:
    """Questions and parts answered that the variant does not have, each with its (question, part)
    and said at `where` of it."""
    errors: list[tuple[tuple[str, str], Said]] = []
    by_number = {str(q.number): inst for q, inst in qs}
    for number, parts in answers.items():
        inst = by_number.get(str(number))
        if inst is None:
            key = (number, next(iter(parts), ""))
            errors.append((key, say(SAID["no_question"], where=where(key), number=number, n=len(qs))))
            continue
        for part in parts:
            if inst.part(part) is None:
                names = ", ".join(p.name for p in inst.parts)
                key = (number, part)
                errors.append(
                    (key, say(SAID["no_part"], where=where(key), number=number, part=part, names=names))
                )
    return errors


@dataclass
class Grading:
    """An online answer's grading: the variant's questions, and the check begun of each one graded
    (the question answered; the others of a first answer are blank and graded in the thread)."""

    qs: list[tuple[ExamQuestion, problems.Instance]]
    pending: dict[str, Pending]


def begin_grading(
    grader: Grader,
    qs: list[tuple[ExamQuestion, problems.Instance]],
    answers: dict[str, dict[str, str]],
    lang: str,
    kept: dict[str, Any] | None = None,
) -> Grading:
    kept = kept or {}
    pending = {
        str(q.number): grader.begin(inst, answers.get(str(q.number), {}), lang)
        for q, inst in qs
        if str(q.number) not in kept
    }
    return Grading(qs, pending)


async def wait_for(grader: Grader, grading: Grading) -> dict[str, GradeResult]:
    """The pool's verdicts, awaited on the event loop: no request thread waits for a slow answer."""
    return {n: await grader.wait_async(p) for n, p in grading.pending.items()}


Totals = tuple[dict[str, Any], float, float, bool]


def tally(
    qs: list[tuple[ExamQuestion, problems.Instance]],
    graded: dict[str, GradeResult],
    kept: dict[str, Any] | None = None,
) -> Totals:
    """Per question score, points and part verdicts (`kept`: stored ones, else from `graded`); the
    total, the maximum, and whether a part waits for a TA."""
    results: dict[str, Any] = {}
    total = max_total = 0.0
    kept = kept or {}
    for q, _ in qs:
        number = str(q.number)
        if number in kept:
            results[number] = kept[number]
        else:
            res = graded[number]
            parts = {
                name: {**verdict, "manual": res.parts[name].reason == "manual"}
                for name, verdict in attempts.result_to_json(res)["parts"].items()
            }
            results[number] = {"score": res.score * q.points, "points": q.points, "parts": parts}
        total += results[number]["score"]
        max_total += q.points
    return results, total, max_total, _waits_for_ta(results)


def _waits_for_ta(results: dict[str, Any]) -> bool:
    """Is a part graded by hand still waiting? (one a TA has graded no longer waits)"""
    return any(p.get("manual") and not p.get("graded") for r in results.values() for p in r["parts"].values())


def _rescore(r: dict[str, Any]) -> None:
    """A question's score from its parts' scores (after a hand grade changed one)."""
    r["score"] = sum(p["score"] for p in r["parts"].values()) / len(r["parts"]) * r["points"]


@dataclass
class CheckedSubmissions:
    """Submissions whose shape is checked, to be graded (grade_in_turn) and stored (store_submissions)."""

    exam: Exam
    items: list[
        tuple[str, ExamVariant, list[tuple[ExamQuestion, problems.Instance]], dict[str, dict[str, str]]]
    ]
    lang: str
    # The stored submission each student's answers were laid over (None: none), to find one that
    # changed while they were graded: storing over it would drop that change.
    bases: dict[str, int | None] = field(default_factory=dict)


def feedback_lang(exam: Exam, asked: str | None, fallback: str) -> str:
    """The language stored verdicts are written in: the one asked for, else the exam's own (a zh
    exam answered through the API with no lang had English feedback on its Chinese page), else
    the caller's."""
    return asked or (exam.lang if exam.lang in ("zh", "en") else fallback)


ANSWERS: Said = {"zh": "answers", "en": "answers"}  # where a JSON submission's error is


def check_submission(
    session: Session,
    *,
    exam: Exam,
    student: str,
    code: str,
    answers: dict[str, dict[str, str]],
    lang: str = "en",
) -> CheckedSubmissions:
    """One student's submission (a TA enters it), checked against its variant."""
    if not any(v.code == code for v in exam.variants):
        known = ", ".join(v.code for v in exam.variants[:20])
        raise Invalid(f"code: unknown variant code {code!r} (this exam has {known})", field="code")
    variant, qs, errors = _check_shape(session, exam, code, answers, ANSWERS)
    if errors:
        raise Invalid.of(errors, field="answers")
    return _over_stored(session, exam, [(student, variant, qs, answers)], lang)


def _refuse_online_students(
    session: Session, exam: Exam, names: list[str], error: type[ServiceError]
) -> None:
    """A TA does not enter answers for a student who answers this exam online: stored beside the
    student's own (updated in place, under their lock), such an entry split the grade in two, lost
    answers sent while it was graded, and turned late answers on-time (two reviews). Their answers
    are theirs; a short answer of theirs is graded on the exam's page."""
    online = session.execute(
        select(User.name, ExamAssignment.variant_id)
        .join(ExamAssignment, ExamAssignment.user_id == User.id)
        .where(ExamAssignment.exam_id == exam.id, User.name.in_(set(names)))
    ).all()
    if online:
        who = ", ".join(f"{name} ({_code_of(exam, vid)})" for name, vid in sorted(online))
        raise error.of([say(SAID["online"], who=who)], field="student")


def _code_of(exam: Exam, variant_id: int) -> str:
    return next(v.code for v in exam.variants if v.id == variant_id)


def _over_stored(session: Session, exam: Exam, items: list[Any], lang: str) -> CheckedSubmissions:
    """Each student's new answers laid over what is stored for the same paper: a TA who uploads one
    corrected cell (or one question) changes that part, not the whole paper (a partial upload wiped
    every other answer, and the score with it). A blank cell clears its part; another variant
    code is another paper, and replaces it."""
    _refuse_online_students(session, exam, [item[0] for item in items], Invalid)
    before = {s.student: s for s in latest_submissions(session, exam)}
    merged = []
    bases: dict[str, int | None] = {}
    for student, variant, qs, answers in items:
        old = before.get(student)
        bases[student] = old.id if old is not None else None
        if old is not None and old.variant_id == variant.id:
            answers = {n: {**old.answers.get(n, {}), **answers.get(n, {})} for n in {*old.answers, *answers}}
        merged.append((student, variant, qs, answers))
    return CheckedSubmissions(exam, merged, lang, bases)


async def grade_in_turn(grader: Grader, checked: CheckedSubmissions) -> list[dict[str, GradeResult]]:
    """Grade the submissions question by question, each awaited before the next is begun, with no
    thread held while the pool works. One at a time, as bulk grading always went: a class's answers
    queued in the pool at once took its every worker, and the students' own checks waited behind
    them (a check beside an 8-student CSV of slow answers: 3.9 s, against 0.02 s)."""
    graded = []
    for _student, _variant, qs, answers in checked.items:
        mine: dict[str, GradeResult] = {}
        for q, inst in qs:
            given = answers.get(str(q.number), {})
            pending = await anyio.to_thread.run_sync(grader.begin, inst, given, checked.lang)
            mine[str(q.number)] = await grader.wait_async(pending)
        graded.append(mine)
    return graded


def store_submissions(
    session: Session, checked: CheckedSubmissions, graded: list[dict[str, GradeResult]]
) -> list[ExamSubmission]:
    """Store graded submissions in one transaction (late ones marked late: paper answers still count)."""
    exam = checked.exam
    late = exam.due_at is not None and utcnow() > exam.due_at
    # Read and written under the lock of the exam's papers, as a TA's grade is
    # (grade_manual_part): a grade stored between this read and the write stayed on the paper
    # replaced, and its answer was back in the TA's queue. As read now, not as this session
    # read it before the grading (objects it may still hold).
    _lock_papers(session, exam.id)
    before = {s.student: s for s in latest_submissions(session, exam, fresh=True)}
    subs = []
    for (student, variant, qs, answers), results_of in zip(checked.items, graded, strict=True):
        old = before.get(student)
        if student in checked.bases and checked.bases[student] != (old.id if old is not None else None):
            raise Conflict.of([say(SAID["changed"], student=student)], field="student")
        # A TA's entry over a stored paper is a correction and keeps its lateness: one cell, or a
        # mistyped variant code, fixed after the due time is not a paper handed in late (and a late
        # row after an on-time one would not count: latest_submissions).
        totals = _keep_ta_grades(tally(qs, results_of), answers, old, variant.id)
        subs.append(
            _new_submission(exam.id, variant.id, student, answers, totals, late=old.late if old else late)
        )
    # A student who opened the exam online meanwhile: their first answer would start a submission
    # of its own beside this one.
    _refuse_online_students(session, exam, [item[0] for item in checked.items], Conflict)
    session.add_all(subs)
    session.commit()
    return subs


def _keep_ta_grades(
    totals: Totals, answers: dict[str, dict[str, str]], before: ExamSubmission | None, variant_id: int
) -> Totals:
    """A part a TA graded by hand keeps that grade when it comes again with the same answer: a class
    CSV uploaded again (one typo fixed) put every student's short answers back in the TA's queue."""
    results, _, max_score, _ = totals
    if before is None or before.variant_id != variant_id:
        return totals
    for number, r in results.items():
        old = before.results.get(number, {}).get("parts", {})
        same = [
            name
            for name, part in r["parts"].items()
            if part.get("manual")
            and old.get(name, {}).get("graded")
            and answers.get(number, {}).get(name) == before.answers.get(number, {}).get(name)
        ]
        if same:
            r["parts"] = {**r["parts"], **{name: dict(old[name]) for name in same}}
            _rescore(r)
    return results, sum(r["score"] for r in results.values()), max_score, _waits_for_ta(results)


def _new_submission(
    exam_id: str,
    variant_id: int,
    student: str,
    answers: dict[str, Any],
    totals: Totals,
    *,
    late: bool,
    user_id: int | None = None,
) -> ExamSubmission:
    results, score, max_score, manual = totals
    return ExamSubmission(
        exam_id=exam_id,
        variant_id=variant_id,
        student=student,
        user_id=user_id,
        answers=answers,
        results=results,
        score=score,
        max_score=max_score,
        late=late,
        needs_manual=manual,
    )


CSV_COLUMNS = ("student", "code", "question", "part", "answer")
# The same limits as a JSON submission (app/schemas/exams.py): a student name fits its column everywhere.
MAX_STUDENT, MAX_ANSWER = 64, 10_000
# A cell starting with one of these is a formula in Excel/LibreOffice (=HYPERLINK, DDE): exported quoted.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def check_class_csv(session: Session, *, exam: Exam, text: str, lang: str = "en") -> CheckedSubmissions:
    """A whole class's CSV rows student,code,question,part,answer, checked: all rows or none.

    Every unreadable row is reported with its line number, in line order; nothing is stored unless
    every row is usable, so a re-upload after fixing the file never leaves half a class graded.
    Empty columns after the fifth (Excel saves a sheet's blank columns as `,,`) are no columns.
    """
    rows = rows_with_lines(text, field="csv")
    errors: list[tuple[int, Said]] = []  # (line, message): said in line order, whatever found them
    if not rows:
        raise Invalid.of([SAID["empty"]], field="csv")
    header = [h.strip().lower() for h in _without_empty_tail(rows[0][1])]
    if tuple(header) != CSV_COLUMNS:
        raise Invalid.of([say(SAID["header"], columns=",".join(CSV_COLUMNS))], field="csv")
    papers: dict[str, _CsvPaper] = {}
    for n, row in rows[1:]:
        if not row or not any(c.strip() for c in row):
            continue
        line = say(SAID["line"], n=n)
        cells = _without_empty_tail(row)
        if len(cells) < 5:
            errors.append((n, say(SAID["columns"], where=line, found=len(cells))))
            continue
        if len(cells) > 5:  # the first cell past the answer that is not empty: where to look
            column = next(i for i, c in enumerate(cells[5:], 6) if c.strip())
            said = say(
                SAID["columns_quote"], where=line, found=len(cells), column=column, cell=cells[column - 1]
            )
            errors.append((n, said))
            continue
        student, code, question, part = (c.strip() for c in cells[:4])
        answer = cells[4]
        if not student:
            errors.append((n, say(SAID["no_student"], where=line)))
            continue
        if len(student) > MAX_STUDENT or len(answer) > MAX_ANSWER:
            errors.append((n, say(SAID["too_long"], where=line, student=MAX_STUDENT, answer=MAX_ANSWER)))
            continue
        if not question.isdigit():
            errors.append((n, say(SAID["question_nan"], where=line, question=question)))
            continue
        code = code.upper()
        paper = papers.setdefault(student, _CsvPaper())
        if (code, question, part) in paper.rows:  # under another code it is that code's error
            errors.append((n, say(SAID["twice"], where=line, question=question, part=part, student=student)))
            continue
        paper.rows[(code, question, part)] = (n, answer)
    checked = []
    for student, paper in papers.items():
        code, code_errors = _paper_code(exam, student, paper)
        errors += code_errors
        if code is None:
            continue
        mine = {(q, p): line_answer for (c, q, p), line_answer in paper.rows.items() if c == code}
        answers: dict[str, dict[str, str]] = defaultdict(dict)
        for (question, part), (_, answer) in mine.items():
            answers[question][part] = answer
        variant = get_variant(exam, code)
        qs = variant_instances(session, variant)
        where = {key: say(SAID["line_of"], n=n, student=student) for key, (n, _) in mine.items()}
        errors += [(mine[key][0], said) for key, said in _shape_errors(qs, answers, where.__getitem__)]
        checked.append((student, variant, qs, dict(answers)))
    if errors:
        raise Invalid.of([said for _, said in sorted(errors, key=lambda e: e[0])], field="csv")
    return _over_stored(session, exam, checked, lang)


@dataclass
class _CsvPaper:
    """One student's rows of a class CSV: (variant code, question, part) -> (line, answer)."""

    rows: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)


def _without_empty_tail(row: list[str]) -> list[str]:
    """A row without the empty cells at its end past the fifth (a spreadsheet's blank columns)."""
    end = len(row)
    while end > len(CSV_COLUMNS) and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _paper_code(exam: Exam, student: str, paper: _CsvPaper) -> tuple[str | None, list[tuple[int, Said]]]:
    """The variant code of a student's rows, and one message for each code that differs from it,
    at the lines that have it. The student's code is the known one on most of their lines: a code
    mistyped on one line (DKCB for DKCR) is that line's error, and their other lines are not also
    blamed for "two codes" (44 messages on a TA's correct lines hid the typo). None: no known code."""
    known = {v.code for v in exam.variants}
    lines: dict[str, list[int]] = {}
    for n, code in sorted((n, code) for (code, _, _), (n, _) in paper.rows.items()):
        lines.setdefault(code, []).append(n)
    # the most lines; a tie goes to the code seen first
    ranked = sorted((c for c in lines if c in known), key=lambda c: (-len(lines[c]), lines[c][0]))
    main = ranked[0] if ranked else None
    errors = []
    for code, ns in lines.items():
        if code == main:
            continue
        where = say(SAID["line_of" if len(ns) == 1 else "lines_of"], n=_line_list(ns), student=student)
        if code not in known:
            said = (
                say(SAID["unknown_code_beside"], where=where, code=code, other=main)
                if main is not None
                else say(SAID["unknown_code"], where=where, code=code)
            )
        else:
            at = say(SAID["line" if len(ns) == 1 else "lines"], n=_line_list(ns))
            said = say(SAID["two_codes"], where=at, student=student, a=main, b=code)
        errors.append((ns[0], said))
    return main, errors


def _line_list(ns: list[int]) -> Said:
    """Line numbers as a reader scans them: 388, 412-415, 420 (388、412-415、420)."""
    runs: list[list[int]] = []
    for n in ns:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    spans = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return {"zh": "、".join(spans), "en": ", ".join(spans)}


def latest_submissions(
    session: Session, exam: Exam, *, fresh: bool = False, student: str | None = None
) -> list[ExamSubmission]:
    """The submission that counts, per student: the newest, except that a late one never replaces
    one on time (a refused late answer is kept, not counted). Judged by the row's own `late`: by
    its user_id, an answer whose user was deleted (or restored from a backup without them) counted
    again. A TA's entries are never late after an on-time one (store_submissions). `student`: that
    student's alone (the rule is per student: the others' rows need not be read)."""
    q = select(ExamSubmission).where(ExamSubmission.exam_id == exam.id).order_by(ExamSubmission.id)
    if student is not None:
        q = q.where(ExamSubmission.student == student)
    rows = session.scalars(q.execution_options(populate_existing=True) if fresh else q)
    latest = _counting(rows)
    return [latest[k] for k in sorted(latest)]


def _counting(rows: Iterable[ExamSubmission]) -> dict[str, ExamSubmission]:
    """Per student, the submission that counts among these (in id order): latest_submissions' rule."""
    latest: dict[str, ExamSubmission] = {}
    for s in rows:
        if s.late and s.student in latest and not latest[s.student].late:
            continue
        latest[s.student] = s
    return latest


def list_submissions(
    session: Session, *, exam: Exam, student: str | None = None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The submission that counts of each student (grades.csv's rows), newest first, a page at a time,
    and how many there are; `student`: that student's alone. Read as grades.csv reads them (the
    counting rule is latest_submissions'), and the page's display names in one more query."""
    if student is not None and "\x00" in student:
        return [], 0  # no name holds NUL (refused on every write); PostgreSQL refuses it in a query too
    subs = sorted(
        latest_submissions(session, exam, student=student), key=lambda s: (s.created_at, s.id), reverse=True
    )
    page = subs[offset : offset + limit]
    names = display_names(session, {s.student for s in page})
    return [submission_summary(exam, s, names.get(s.student, "")) for s in page], len(subs)


def submission_summary(exam: Exam, sub: ExamSubmission, display_name: str) -> dict[str, Any]:
    """A submission as the list shows it: who, which paper, the totals (hand grades given so far
    included), whether a part waits for a TA, and when it was stored (in UTC, as every time read:
    app/db.py's UTCDateTime)."""
    return {
        "id": sub.id,
        "student": sub.student,
        "display_name": display_name,
        "code": _code_of(exam, sub.variant_id),
        "score": sub.score,
        "max_score": sub.max_score,
        "late": sub.late,
        "pending_manual": sub.needs_manual,
        "submitted_at": sub.created_at,
    }


def get_submission(session: Session, *, exam: Exam, submission_id: int) -> ExamSubmission:
    """A submission of this exam; another exam's is not found either (its id says nothing here)."""
    sub = session.get(ExamSubmission, submission_id)
    if sub is None or sub.exam_id != exam.id:
        raise NotFound.of([say(SAID["no_submission"], id=submission_id, exam=exam.id)], field="submission_id")
    return sub


def submission_record(session: Session, *, exam: Exam, sub: ExamSubmission) -> dict[str, Any]:
    """One submission for a TA's script: its summary, the answers as typed (stored untouched), and
    whether another submission of the student counts in its place (`superseded_by`: that one; a
    later paper, or an on-time one that a late answer sent after it does not replace)."""
    counting = latest_submissions(session, exam, student=sub.student)[0]
    shown = display_names(session, {sub.student}).get(sub.student, "")
    return {
        **submission_summary(exam, sub, shown),
        "answers": sub.answers,
        "items": result_items(sub),
        "superseded": counting.id != sub.id,
        "superseded_by": counting.id if counting.id != sub.id else None,
    }


def result_items(sub: ExamSubmission) -> list[dict[str, Any]]:
    """Each question's score, points and part verdicts in printed order, as a submission's response
    says them (a hand-graded part: `manual`, once graded `graded`, its score and the TA's comment as
    `feedback`)."""
    return [{"question": int(k), **v} for k, v in sorted(sub.results.items(), key=lambda kv: int(kv[0]))]


def spreadsheet_safe(cell: str) -> str:
    """Quote text a spreadsheet would run as a formula (CSV injection); the stored name is unchanged."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def display_names(session: Session, students: set[str]) -> dict[str, str]:
    """The names TAs know students by (张三), from their accounts (one query); a paper under a name
    no account has is not in it."""
    if not students:
        return {}
    return {
        name: shown
        for name, shown in session.execute(
            select(User.name, User.display_name).where(User.name.in_(students))
        )
    }


def grades_csv(session: Session, exam: Exam) -> str:
    """One row per student: variant code, each question's score, total, maximum, late, pending, and
    the student's display name."""
    n = len(exam.variants[0].questions) if exam.variants else 0
    codes = {v.id: v.code for v in exam.variants}
    out = io.StringIO()
    w = csv.writer(out)
    header = [
        "student",
        "code",
        *[f"q{i}" for i in range(1, n + 1)],
        "total",
        "max",
        "late",
        "pending_manual",
    ]
    w.writerow([*header, "display_name"])  # last: scripts that read the columns by position keep working
    subs = latest_submissions(session, exam)
    names = display_names(session, {s.student for s in subs})
    for s in subs:
        scores = [round(float(s.results.get(str(i), {}).get("score", 0.0)), 4) for i in range(1, n + 1)]
        w.writerow(
            [
                spreadsheet_safe(s.student),
                codes.get(s.variant_id, ""),
                *scores,
                round(s.score, 4),
                s.max_score,
                str(s.late).lower(),
                str(s.needs_manual).lower(),
                spreadsheet_safe(names.get(s.student) or ""),
            ]
        )
    return out.getvalue()


def statistics(session: Session, exam: Exam, top: int = 5) -> dict[str, Any]:
    """Per question: the mean score, the commonest wrong answers and the misconceptions they
    matched; per variant: the same means (were the variants equally hard?); per student: totals
    (newest submission each).

    A part waiting for a TA is not a 0: a question (a paper, for the mean total) with a part still
    waiting is left out of its means and counted as `pending` instead (a short answer 241 papers
    had not been graded on showed a 1% mean). A mean of nothing is None. Wrong answers are counted
    per question posed: variants ask other numbers, and the same text is another mistake in each;
    `codes` are the variants that pose the question."""
    subs = latest_submissions(session, exam)
    n = len(exam.variants[0].questions) if exam.variants else 0
    points = {q.number: q.points for q in exam.variants[0].questions} if exam.variants else {}
    codes = {v.id: v.code for v in exam.variants}
    posed = _questions_posed(session, exam)
    asking: dict[tuple[int, str], list[str]] = defaultdict(list)  # (number, question posed) -> codes
    for (variant_id, number), what in posed.items():
        asking[(number, what)].append(codes[variant_id])
    per_q: list[dict[str, Any]] = []
    by_variant: dict[int, list[_Tally]] = {v.id: [_Tally() for _ in range(n)] for v in exam.variants}
    for i in range(1, n + 1):
        tally = _Tally()
        wrong: dict[tuple[str, str, str], int] = defaultdict(int)
        miscon: dict[str, int] = defaultdict(int)
        for s in subs:
            r = s.results.get(str(i))
            if r is None:
                continue
            waiting = _waits_for_ta({str(i): r})
            tally.add(float(r["score"]), waiting)
            by_variant[s.variant_id][i - 1].add(float(r["score"]), waiting)
            what = posed.get((s.variant_id, i), "")
            given = s.answers.get(str(i), {})
            for part, v in r["parts"].items():
                if not v["correct"] and not v.get("manual") and given.get(part, "").strip():
                    wrong[(what, part, given[part].strip())] += 1
                    if v.get("misconception"):
                        miscon[v["misconception"]] += 1
        commonest = sorted(wrong.items(), key=lambda kv: (-kv[1], sorted(asking[(i, kv[0][0])]), kv[0][1:]))
        per_q.append(
            {
                "question": i,
                "points": points.get(i, 1.0),
                **tally.said(),
                "common_wrong_answers": [
                    {"codes": sorted(asking[(i, what)]), "part": p, "answer": a, "count": c}
                    for (what, p, a), c in commonest[:top]
                ],
                "misconceptions": [
                    {"id": m, "count": c} for m, c in sorted(miscon.items(), key=lambda kv: -kv[1])
                ],
            }
        )
    papers = _Tally()
    for s in subs:
        papers.add(s.score, s.needs_manual)
    variants = []
    for v in exam.variants:
        mine = [s for s in subs if s.variant_id == v.id]
        if not mine:
            continue  # none sat it: a row of blanks (homework has a variant per student)
        total = _Tally()
        for s in mine:
            total.add(s.score, s.needs_manual)
        variants.append(
            {
                "code": v.code,
                **_renamed(total.said(), mean_score="mean_total"),
                "questions": [{"question": q, **t.said()} for q, t in enumerate(by_variant[v.id], 1)],
            }
        )
    students = [
        {
            "student": s.student,
            "code": codes.get(s.variant_id),
            "score": s.score,
            "max_score": s.max_score,
            "late": s.late,
            "pending_manual": s.needs_manual,
        }
        for s in subs
    ]
    return {
        "exam": exam.id,
        **_renamed(papers.said(), mean_score="mean_total"),
        "questions": per_q,
        "variants": variants,
        "students": students,
    }


@dataclass
class _Tally:
    """Scores counted toward a mean, and how many were left out waiting for a TA."""

    scores: list[float] = field(default_factory=list)
    pending: int = 0

    def add(self, score: float, waiting: bool) -> None:
        if waiting:
            self.pending += 1
        else:
            self.scores.append(score)

    def said(self) -> dict[str, Any]:
        """`submissions` (all), `graded` (in the mean), `pending` (left out), `mean_score`."""
        return {
            "submissions": len(self.scores) + self.pending,
            "graded": len(self.scores),
            "pending": self.pending,
            "mean_score": sum(self.scores) / len(self.scores) if self.scores else None,
        }


def _renamed(said: dict[str, Any], **names: str) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in said.items()}


def _questions_posed(session: Session, exam: Exam) -> dict[tuple[int, int], str]:
    """(variant id, question number) -> what that question poses (family and params), in one query:
    two variants posing the same (a question with fixed params) ask the same thing."""
    rows = session.execute(
        select(ExamQuestion.variant_id, ExamQuestion.number, InstanceRecord.problem, InstanceRecord.params)
        .join(ExamVariant, ExamVariant.id == ExamQuestion.variant_id)
        .join(InstanceRecord, InstanceRecord.id == ExamQuestion.instance_id)
        .where(ExamVariant.exam_id == exam.id)
    )
    return {
        (vid, number): json.dumps([problem, params], sort_keys=True) for vid, number, problem, params in rows
    }


# --- homework and exams taken online ----------------------------------------------------


class NotOpen(Invalid):
    """Too early, or (for answers) too late: a clear message; the request itself was fine."""

    status = 403


class NotYetOpen(NotOpen):
    """Opened before its opening time (403)."""

    def __init__(self, opens_at: datetime, kind: str) -> None:
        super().__init__(f"this {kind} opens at {opens_at.isoformat()}", field="exam")
        self.opens_at = opens_at


def opens_later(exam: Exam) -> bool:
    return exam.opens_at is not None and utcnow() < exam.opens_at


def has_started(session: Session, exam: Exam, user: User) -> bool:
    """Has the student opened this homework or exam (and so got a variant, and started its clock)?"""
    return _assignment(session, exam, user, create=False) is not None


class AlreadySubmitted(Invalid):
    """An exam's part sent a second time (422): an exam takes each part once."""

    def __init__(self, question: int, parts: list[str]) -> None:
        super().__init__(
            f"第 {question} 题的 {', '.join(parts)} 已经提交过（考试中每个小题只能提交一次）; "
            f"answers: part(s) {', '.join(parts)} of question {question} were already submitted",
            field="answers",
        )
        self.parts = parts


class Unreadable(Invalid):
    """An exam answer that cannot be read (422): not stored, so a typo does not use the part up.
    `parts`: each part's reading error, in the answer's language."""

    def __init__(self, parts: dict[str, str]) -> None:
        super().__init__(
            "; ".join(f"answers.{name}: {feedback}" for name, feedback in parts.items())
            + " (未保存，请改正后再提交 / nothing was stored: correct it and send it again)",
            field=f"answers.{next(iter(parts))}",
        )
        self.parts = parts


class TooLate(NotOpen):
    """An answer after the deadline: kept, marked late, and refused with this (403)."""

    def __init__(self, deadline: datetime, kind: str) -> None:
        super().__init__(
            f"too late: this {kind} closed at {deadline.isoformat()}; your answer was kept, marked late",
            field="answers",
        )
        self.deadline = deadline


def _assignment(session: Session, exam: Exam, user: User, *, create: bool) -> ExamAssignment | None:
    mine = select(ExamAssignment).where(ExamAssignment.exam_id == exam.id, ExamAssignment.user_id == user.id)
    a = session.scalar(mine)
    if a is None and create:
        # Give out variants evenly: the one with the fewest students so far (ties: lowest index).
        counts: dict[int, int] = defaultdict(int)
        for (vid,) in session.execute(
            select(ExamAssignment.variant_id).where(ExamAssignment.exam_id == exam.id)
        ):
            counts[vid] += 1
        variant = min(exam.variants, key=lambda v: (counts[v.id], v.index))
        a = ExamAssignment(exam_id=exam.id, user_id=user.id, variant_id=variant.id)
        session.add(a)
        try:
            session.commit()
        except IntegrityError:
            # The same student opened it twice at once (a double-clicked Start, two tabs): the other
            # request's assignment stands; this one reads it (it was a 500).
            session.rollback()
            a = session.scalar(mine)
    return a


def deadline(exam: Exam, a: ExamAssignment | None) -> Any:
    """The moment answers stop being accepted: the due time, or the end of the time limit if sooner."""
    ends = [t for t in (exam.due_at,) if t is not None]
    if a is not None and exam.time_limit_minutes:
        ends.append(a.started_at + timedelta(minutes=exam.time_limit_minutes))
    return min(ends) if ends else None


def closed(exam: Exam, a: ExamAssignment | None, at: datetime | None = None) -> bool:
    """Past the deadline now, or at the given moment (when an answer arrived)."""
    end = deadline(exam, a)
    return end is not None and (at or utcnow()) >= end


def over_for_all(exam: Exam, a: ExamAssignment | None) -> bool:
    """Everyone's time is over: the due time has passed. One student's time limit running out is
    not: the others are still sitting it (a walk-through let the clock run out and read every
    verdict and worked solution of its variant, to pass on). An online exam must have a due time
    now; one stored before that rule (or homework without one) is over when this student's is."""
    if exam.due_at is None:
        return closed(exam, a)
    return utcnow() >= exam.due_at


def feedback_visible(exam: Exam, a: ExamAssignment | None) -> bool:
    """Homework shows verdicts at once; an exam hides them until it is over for everyone."""
    return exam.kind != "exam" or over_for_all(exam, a)


def _online(session: Session, exam: Exam, user: User) -> ExamSubmission | None:
    return session.scalar(
        select(ExamSubmission)
        .where(
            ExamSubmission.exam_id == exam.id,
            ExamSubmission.user_id == user.id,
            ExamSubmission.late.is_(False),
        )
        .order_by(ExamSubmission.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)  # as stored now, not as this session last read it
    )


def assignments_of(session: Session, user: User) -> list[dict[str, Any]]:
    """The homework and online exams a student has opened, newest first, with their deadlines."""
    rows = session.execute(
        select(ExamAssignment, Exam)
        .join(Exam, Exam.id == ExamAssignment.exam_id)
        .where(ExamAssignment.user_id == user.id)
        .order_by(ExamAssignment.started_at.desc())
    ).all()
    out = []
    for a, e in rows:
        sub = _online(session, e, user) if feedback_visible(e, a) else None  # an exam's score: once closed
        out.append(
            {
                "exam": e.id,
                "title": e.title,
                "kind": e.kind,
                "deadline": deadline(e, a),
                "closed": closed(e, a),
                "score": (sub.score, sub.max_score) if sub else None,
            }
        )
    return out


def _late_answers(session: Session, exam: Exam, user: User) -> dict[str, dict[str, str]]:
    """A student's answers sent after the deadline, the newest per question: kept, not counted."""
    late: dict[str, dict[str, str]] = {}
    for s in session.scalars(
        select(ExamSubmission)
        .where(
            ExamSubmission.exam_id == exam.id,
            ExamSubmission.user_id == user.id,
            ExamSubmission.late.is_(True),
        )
        .order_by(ExamSubmission.id)
    ):
        for number, parts in s.answers.items():  # a question sent late part by part: every part
            late.setdefault(number, {}).update(parts)
    return late


def open_for_student(session: Session, *, exam: Exam, user: User) -> dict[str, Any]:
    """The student's own variant: questions without answers, what they submitted, and when it ends."""
    if exam.kind == "paper":
        raise NotFound(f"exam {exam.id} is printed on paper, not taken online")
    if opens_later(exam):
        raise NotYetOpen(exam.opens_at, exam.kind)
    a = _assignment(session, exam, user, create=True)
    assert a is not None
    variant = next(v for v in exam.variants if v.id == a.variant_id)
    sub = _online(session, exam, user)
    show = feedback_visible(exam, a)
    late = _late_answers(session, exam, user) if closed(exam, a) else {}
    questions = []
    for q, inst in variant_instances(session, variant):
        given = (sub.answers if sub else {}).get(str(q.number), {})
        results = (sub.results if sub else {}).get(str(q.number), {}).get("parts", {})
        questions.append(
            {
                "number": q.number,
                "points": q.points,
                "problem": inst.problem,
                "statement": inst.statement,
                "parts": [
                    {"name": p.name, "answer_type": p.answer_type, "label": p.label, "hint": p.hint}
                    for p in inst.parts
                ],
                "submitted": {
                    name: {
                        "answer": text,
                        **(
                            {k: results[name][k] for k in ("correct", "score", "feedback")}
                            # a part a TA grades: waiting, or graded (then feedback is the comment)
                            | {
                                "manual": bool(results[name].get("manual")),
                                "graded": bool(results[name].get("graded")),
                            }
                            if show and name in results
                            else {}
                        ),
                    }
                    for name, text in given.items()
                },
                "solution": inst.solution() if show and over_for_all(exam, a) else None,
                "late": late.get(str(q.number), {}),  # sent after the deadline: kept, not counted
            }
        )
    end = deadline(exam, a)
    return {
        "exam": exam.id,
        "title": exam.title,
        "kind": exam.kind,
        "code": variant.code,
        "started_at": a.started_at.isoformat(),
        "deadline": end.isoformat() if end else None,
        "time_limit_minutes": exam.time_limit_minutes,
        "closed": closed(exam, a),
        "feedback_visible": show,
        "results_at": exam.due_at.isoformat() if exam.due_at else None,  # when verdicts are out for all
        "questions": questions,
        "score": sub.score if (sub and show) else None,
        "max_score": sub.max_score if sub else None,
    }


def part_labels(session: Session, *, exam: Exam, number: int, user: User | None) -> dict[str, Any]:
    """The labels of question `number`'s parts ({"zh", "en"} by part name), to name answers shown
    back, as the student's variant poses them. None for a caller with no variant (logged out, never
    opened): labels of every variant told anyone with the exam's id, before it opened too, which
    families it asks and their sizes (and posed each variant's instance per request). It reads
    only: no variant is given out, no clock started."""
    a = _assignment(session, exam, user, create=False) if user is not None else None
    if a is None:
        return {}
    posed = (
        select(InstanceRecord)
        .join(ExamQuestion, ExamQuestion.instance_id == InstanceRecord.id)
        .join(ExamVariant, ExamVariant.id == ExamQuestion.variant_id)
        .where(ExamVariant.exam_id == exam.id, ExamQuestion.number == number)
    )
    posed = posed.where(ExamVariant.id == a.variant_id)
    record = session.scalar(posed)
    try:
        return {p.name: p.label for p in instances.build(record).parts} if record is not None else {}
    except ServiceError:  # its family changed version: it names nothing
        return {}


@dataclass
class BegunAnswer:
    """An online answer checked and being graded (begin_online_answer); stored by store_online_answer."""

    exam: Exam
    assignment: ExamAssignment
    variant: ExamVariant
    user: User
    question: int
    answers: dict[str, str]  # this request's parts
    before: dict[str, str]  # the parts of this question answered before, as read
    merged: dict[str, dict[str, str]]  # everything the student has answered, this included
    submission: ExamSubmission | None  # the one to update; None: a first answer, or a late one
    late: bool
    grading: Grading


def _opened_variant(session: Session, exam: Exam, user: User) -> tuple[ExamAssignment, ExamVariant]:
    """The student's assignment of an online exam and its variant (a paper: 404; not opened: 403)."""
    if exam.kind == "paper":
        raise NotFound(f"exam {exam.id} is printed on paper, not taken online")
    a = _assignment(session, exam, user, create=False)
    if a is None:
        raise NotOpen("open the assignment first", field="exam")
    return a, next(v for v in exam.variants if v.id == a.variant_id)


def my_question(session: Session, *, exam: Exam, user: User, question: int) -> problems.Instance:
    """A question of the student's own variant, for the live preview of how an answer is read (its
    instance id stays hidden: with it, a check would tell an exam's verdicts before it closes)."""
    _, variant = _opened_variant(session, exam, user)
    for q, inst in variant_instances(session, variant):
        if q.number == question:
            return inst
    raise NotFound(
        f"question {question}: this exam has {len(variant.questions)} {plural(len(variant.questions), 'question', 'questions')}"
    )


def begin_online_answer(
    session: Session,
    *,
    exam: Exam,
    grader: Grader,
    user: User,
    question: int,
    answers: dict[str, str],
    lang: str,
    received: datetime | None = None,
) -> BegunAnswer:
    """Check a student's online answer and begin grading it. Late (judged at `received`, when the
    answer arrived: a retry after AnsweredMeanwhile must not turn an on-time answer late): stored
    as late and refused with a message by store_online_answer. Exam mode: each part can be
    submitted once; verdicts stay hidden until the exam closes.

    Only the question answered is graded: the others keep their stored verdicts. Grading them all
    again cost the pool's time on every answer, and an answer that once ran out of time could come
    out differently the next time."""
    a, variant = _opened_variant(session, exam, user)
    qs = variant_instances(session, variant)
    _, _, errors = _check_shape(session, exam, variant.code, {str(question): answers}, ANSWERS)
    if errors:
        raise Invalid.of(errors, field="answers")
    if closed(exam, a, received):
        mine = {str(question): answers}
        grading = begin_grading(grader, qs, mine, lang)
        return BegunAnswer(exam, a, variant, user, question, answers, {}, mine, None, True, grading)
    sub = _online(session, exam, user)
    merged: dict[str, dict[str, str]] = {k: dict(v) for k, v in (sub.answers if sub else {}).items()}
    before = merged.get(str(question), {})
    if exam.kind == "exam":
        again = sorted(set(before) & set(answers))
        if again:
            raise AlreadySubmitted(question, again)
    merged[str(question)] = {**before, **answers}
    kept = {n: r for n, r in (sub.results if sub else {}).items() if n != str(question)}
    grading = begin_grading(grader, qs, merged, lang, kept)
    return BegunAnswer(exam, a, variant, user, question, answers, before, merged, sub, False, grading)


def _lock_answers(session: Session, exam_id: str, user_id: int) -> None:
    """Hold a student's answers to an exam until commit: their stores and a TA's grading go one at
    a time. A write first (a no-op UPDATE of the assignment): on SQLite it takes the write lock, on
    PostgreSQL the row's lock."""
    session.execute(
        update(ExamAssignment)
        .where(ExamAssignment.exam_id == exam_id, ExamAssignment.user_id == user_id)
        .values(variant_id=ExamAssignment.variant_id),
        execution_options={"synchronize_session": False},
    )


class AnsweredMeanwhile(Exception):
    """The same question was answered again while this answer was graded: grade it once more."""


async def answer_online(
    session: Session,
    *,
    grader: Grader,
    exam_id: str,
    user: User,
    question: int,
    answers: dict[str, str],
    lang: str | None,
    received: datetime,
    fallback_lang: str = "en",
) -> dict[str, Any]:
    """A student's online answer from the event loop (the API and the page): checked and stored in
    worker threads, the grading pool awaited with no thread held (a whole class answers at once).
    Graded again if the same question was answered meanwhile; `received` keeps it on time.
    Feedback is in `lang`, else the exam's language, else `fallback_lang`."""

    def begin() -> BegunAnswer:
        exam = get_exam(session, exam_id)
        begun = begin_online_answer(
            session,
            exam=exam,
            grader=grader,
            user=user,
            question=question,
            answers=answers,
            lang=feedback_lang(exam, lang, fallback_lang),
            received=received,
        )
        release_connection(session)  # only after success (app/deps.py, _read_record)
        return begun

    for _ in range(3):  # again only if the same question was answered while this one was graded
        begun = await anyio.to_thread.run_sync(begin)
        graded = await wait_for(grader, begun.grading)
        try:
            result: dict[str, Any] = await anyio.to_thread.run_sync(
                store_online_answer, session, begun, graded
            )
            return result
        except AnsweredMeanwhile:
            continue
    raise Conflict(
        f"第 {question} 题同时被再次作答，请再提交一次。"
        f"answers: question {question} was answered again at the same time; please send it once more",
        field="answers",
    )


def store_online_answer(
    session: Session, begun: BegunAnswer, graded: dict[str, GradeResult]
) -> dict[str, Any]:
    """Store a graded online answer; the response shows its verdicts where the exam allows.

    A student's answers to one exam are stored one at a time (the assignment's row is locked),
    merged into what is stored by then: an answer to another question, stored while this one was
    graded, is kept. If this very question changed meanwhile, raises AnsweredMeanwhile: the
    caller grades it again (in exam mode that refuses a part submitted twice)."""
    exam, a, question, number = begun.exam, begun.assignment, begun.question, str(begun.question)
    if begun.late:
        if _late_answers(session, exam, begun.user).get(number) != begun.merged[number]:
            # (the same late answer again, a reload of the refusal, is kept once)
            totals = tally(begun.grading.qs, graded)
            session.add(
                _new_submission(
                    exam.id,
                    begun.variant.id,
                    begun.user.name,
                    begun.merged,
                    totals,
                    late=True,
                    user_id=begun.user.id,
                )
            )
            session.commit()
        raise TooLate(deadline(exam, a), exam.kind)
    if exam.kind == "exam":
        # A part is taken once in an exam: text that cannot be read is not an answer yet, and a
        # typo must not use it up (the reading error says nothing about the verdict).
        unread = [
            (name, r.feedback)
            for name, r in graded[number].parts.items()
            if name in begun.answers and r.reason == "parse_error"
        ]
        if unread:
            raise Unreadable(dict(unread))
    _lock_answers(session, exam.id, begun.user.id)
    sub = _online(session, exam, begun.user)
    stored = sub.answers if sub else {}
    kept = {n: r for n, r in (sub.results if sub else {}).items() if n != number}
    if stored.get(number, {}) != begun.before or any(
        str(q.number) not in kept and str(q.number) not in graded for q, _ in begun.grading.qs
    ):
        session.rollback()
        raise AnsweredMeanwhile
    answers = {**{k: dict(v) for k, v in stored.items()}, number: begun.merged[number]}
    # the same short answer sent again keeps the TA's grade (a second click wiped it)
    totals = _keep_ta_grades(tally(begun.grading.qs, graded, kept), answers, sub, begun.variant.id)
    results, score, max_score, manual = totals
    if sub is None:
        session.add(
            _new_submission(
                exam.id, begun.variant.id, begun.user.name, answers, totals, late=False, user_id=begun.user.id
            )
        )
    else:
        sub.answers, sub.results, sub.score, sub.max_score, sub.needs_manual = (
            answers,
            results,
            score,
            max_score,
            manual,
        )
    session.commit()
    if not feedback_visible(exam, a):
        return {"recorded": True, "question": question, "parts": sorted(begun.answers)}
    return {"recorded": True, "question": question, **results[number]}


def manual_queue(session: Session, exam: Exam, lang: str = "en") -> list[dict[str, Any]]:
    """Parts graded by hand (short answers) still waiting for a TA, newest submissions only, each
    with its question and the worked solution (outline and rubric) to grade against: without them
    a TA graded with the answer key open beside the queue (an instructor walk-through)."""
    out = []
    posed: dict[int, dict[str, problems.Instance]] = {}  # variant id -> question number -> instance
    variants = {v.id: v for v in exam.variants}
    for s in latest_submissions(session, exam):
        for number, r in sorted(s.results.items(), key=lambda kv: int(kv[0])):
            for part, v in r["parts"].items():
                if v.get("manual") and not v.get("graded"):
                    if s.variant_id not in posed:
                        qs = variant_instances(session, variants[s.variant_id])
                        posed[s.variant_id] = {str(q.number): inst for q, inst in qs}
                    out.append(
                        {
                            "submission": s.id,
                            "student": s.student,
                            "question": int(number),
                            "part": part,
                            "answer": s.answers.get(number, {}).get(part, ""),
                            "points": r["points"],
                            "part_points": r["points"] / len(r["parts"]),  # what it is graded out of
                            **instances.question_and_guide(posed[s.variant_id][number], lang),
                        }
                    )
    return out


class Superseded(Conflict):
    """A hand grade for a paper a newer one replaced, whose answer to that part differs (409): the
    grade would land where it no longer counts (a correction sent while a TA graded from the queue)."""

    def __init__(self, submission_id: int, current_id: int) -> None:
        said = say(SAID["superseded"], old=submission_id, new=current_id)
        super().__init__(said["en"], field="submission", said=[said])
        self.current_id = current_id


class GradedAlready(Conflict):
    """A part to be graded for the first time was graded meanwhile (409): nothing changed. `score`:
    the grade given (a share), `worth`: the part's points (a page says the grade in points)."""

    def __init__(self, score: float, worth: float | None = None) -> None:
        super().__init__(
            f"这个答案已评分（{score:g}），未作修改。This answer was graded already ({score:g}); nothing changed.",
            field="part",
        )
        self.score = score
        self.worth = worth


def part_worth(sub: ExamSubmission, question: int, part: str) -> float | None:
    """The points a hand-graded part of a paper is worth: its question's points shared among its
    parts, as the question's score is their mean (_rescore); None if it is no such part."""
    r = sub.results.get(str(question), {})
    if not r.get("parts", {}).get(part, {}).get("manual"):
        return None
    return float(r["points"]) / len(r["parts"])


def hand_graded_worth(session: Session, *, exam: Exam, submission_id: int, question: int, part: str) -> float:
    """part_worth of a submission of this exam (NotFound: no such paper; Invalid: no such part
    graded by hand), for a page that reads a TA's points before grading them."""
    worth = part_worth(get_submission(session, exam=exam, submission_id=submission_id), question, part)
    if worth is None:
        raise Invalid(f"question {question} part {part!r} is not graded by hand", field="part")
    return worth


def grade_manual_part(
    session: Session,
    *,
    exam: Exam,
    submission_id: int,
    question: int,
    part: str,
    score: float | None = None,
    points: float | None = None,
    comment: str,
    if_waiting: bool = False,
) -> ExamSubmission:
    """A TA scores one hand-graded part, as a share of it (`score`, 0..1) or in points out of what it
    is worth (`points`, as its rubric counts them); totals are recomputed. `if_waiting`: only a part
    still waiting for a TA, else GradedAlready (a second TA at the same moment, a form left open);
    without it a given grade is replaced, deliberately.

    Read, checked and written under the lock of the student's submissions: two TAs' grades go one
    at a time, each over the other's. Read and written in two steps, the second TA's grade of the
    same part replaced the first's, and a grade of another part of the same paper was dropped."""
    if (score is None) == (points is None):
        raise Invalid("give either score (a share, 0 to 1) or points, not both", field="score")
    sub = get_submission(session, exam=exam, submission_id=submission_id)
    _lock_grades(session, sub)
    # As stored now: a colleague's grade committed before the lock was taken is seen. The class sent
    # again meanwhile (or since the TA's queue page was loaded): the grade belongs to the same answer
    # in the newer submissions too, or it lands on one that no longer counts.
    everything = list(
        session.scalars(
            select(ExamSubmission)
            .where(ExamSubmission.exam_id == exam.id, ExamSubmission.student == sub.student)
            .order_by(ExamSubmission.id)
            .execution_options(populate_existing=True)
        )
    )
    number = str(question)
    answer = sub.answers.get(number, {}).get(part)
    same = [s for s in everything if s.id >= sub.id and s.answers.get(number, {}).get(part) == answer]
    current = _counting(everything)[sub.student]
    if current not in same:
        session.rollback()
        raise Superseded(sub.id, current.id)
    given = [g for g in (_hand_grade(s, number, part) for s in same) if g is not None]
    worth = part_worth(sub, question, part)
    if if_waiting and given:
        session.rollback()
        raise GradedAlready(given[-1], worth)
    if points is not None and worth is not None:
        score = share_of(points, worth)
        if score is None:
            session.rollback()
            what = {"zh": f"第 {question} 题小题 {part!r} ", "en": f"question {question} part {part!r}"}
            raise PointsOutOfRange(points, worth, what)
    if score is None or not _set_manual_grade(sub, number, part, score, comment):
        session.rollback()
        raise Invalid(f"question {question} part {part!r} is not graded by hand", field="part")
    for later in same[1:]:
        _set_manual_grade(later, number, part, score, comment)
    session.commit()
    return sub


def _lock_grades(session: Session, sub: ExamSubmission) -> None:
    """Hold a student's submissions to an exam until commit (_lock_papers): a TA's grade waits for
    another TA's, and for a class being stored. Answered online, the student's answers are locked first, as
    store_online_answer does: the student may be storing an answer right now."""
    if sub.user_id is not None:
        _lock_answers(session, sub.exam_id, sub.user_id)
    _lock_papers(session, sub.exam_id, sub.student)


def _lock_papers(session: Session, exam_id: str, student: str | None = None) -> None:
    """Hold an exam's submissions (one student's, if named) until commit: a TA's grade and a class's
    store go one at a time. On PostgreSQL the rows are locked in id order (SELECT ... FOR UPDATE),
    one order for every locker, so two never wait for each other in a circle (a no-op UPDATE
    locked them in the order it found them, and a row graded since has moved). SQLite has no FOR
    UPDATE (there that SELECT is a plain read): it takes its write lock for a write, even one of no
    row, which PostgreSQL does not write at all."""
    mine = [ExamSubmission.exam_id == exam_id]
    if student is not None:
        mine.append(ExamSubmission.student == student)
    session.execute(select(ExamSubmission.id).where(*mine).order_by(ExamSubmission.id).with_for_update())
    session.execute(
        update(ExamSubmission).where(false()).values(student=ExamSubmission.student),
        execution_options={"synchronize_session": False},
    )


def _hand_grade(sub: ExamSubmission, number: str, part: str) -> float | None:
    """The score a TA gave this part, or None while it waits (or if it is no such part)."""
    p = sub.results.get(number, {}).get("parts", {}).get(part, {})
    return float(p["score"]) if p.get("manual") and p.get("graded") else None


def _set_manual_grade(sub: ExamSubmission, number: str, part: str, score: float, comment: str) -> bool:
    """Give a hand-graded part its score and comment and total again; False if it is no such part."""
    results = {
        k: {**v, "parts": {pk: dict(pv) for pk, pv in v["parts"].items()}} for k, v in sub.results.items()
    }
    r = results.get(number)
    if r is None or part not in r["parts"] or not r["parts"][part].get("manual"):
        return False
    r["parts"][part].update(score=score, correct=score >= 1.0, feedback=comment, graded=True)
    _rescore(r)
    sub.results = results
    sub.score = sum(v["score"] for v in results.values())
    sub.needs_manual = _waits_for_ta(results)
    return True
