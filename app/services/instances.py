"""Pose instances and rebuild them exactly from what is stored."""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

import problems
from app.models import InstanceRecord, User
from app.services.errors import Forbidden, Gone, Invalid, NotFound, Unauthenticated

MAX_SEED = 2**63 - 1


def _new_id() -> str:
    return secrets.token_urlsafe(9)  # 12 url-safe characters, not guessable in sequence


@lru_cache(maxsize=4096)
def _build(problem: str, params_json: str) -> problems.Instance:
    return problems.instantiate(problem, params=json.loads(params_json))


def build_params(problem: str, params: dict[str, Any]) -> problems.Instance:
    """The instance of a family for given params, built once per process (Instances are immutable)."""
    return _build(problem, json.dumps(params, sort_keys=True))


def build(record: InstanceRecord) -> problems.Instance:
    """Rebuild the problem instance of a stored record (cached; identical every time).

    It is rebuilt from the stored params, never by re-running the generator on the seed:
    a data file (the concept bank) or a library may change what a seed generates, but the
    params posed to the student are what they answered.
    """
    family = problems.get_family(record.problem)
    if not (family.same_params_since or family.version) <= record.version <= family.version:
        raise Gone(
            f"instance {record.id} was posed with {record.problem} version {record.version}; "
            f"the bank now has version {family.version} and cannot reproduce it"
        )
    try:
        return build_params(record.problem, record.params)
    except problems.InvalidParams as exc:
        raise Gone(f"instance {record.id} can no longer be posed: {exc}") from None


def question_and_guide(inst: problems.Instance, lang: str) -> dict[str, Any]:
    """What a TA grades a hand-graded answer by: the question, and the worked solution (key points
    and rubric), in the reader's language."""
    steps = inst.solution()
    return {
        "statement": inst.statement.get(lang, inst.statement["en"]),
        "guide": steps.get(lang, steps["en"]),
    }


def full_marks(inst: problems.Instance) -> float:
    """What a TA grades a practised short answer out of: its rubric's points in all, else 1 (a
    share). An exam's part is graded out of its own points instead (exams.part_worth)."""
    return float(inst.family.rubric_points(inst.p) or 1)


def create_instance(
    session: Session,
    *,
    problem: str,
    seed: int | None,
    params: dict[str, Any] | None,
    user: User | None,
) -> tuple[InstanceRecord, problems.Instance]:
    """Pose an instance from a seed (anyone) or explicit params (TAs and instructors)."""
    if (seed is None) == (params is None):
        raise Invalid("give exactly one of seed or params", field="seed")
    if params is not None and user is None:
        raise Unauthenticated("explicit params need a logged-in ta or instructor")
    if params is not None and user is not None and not user.is_staff:
        raise Forbidden("explicit params need the ta or instructor role")
    if seed is not None and not (0 <= seed <= MAX_SEED):
        raise Invalid(f"seed: an integer from 0 to {MAX_SEED}", field="seed")
    try:
        problems.get_family(problem)
    except problems.UnknownProblem:
        raise Invalid(
            f"problem: unknown problem id {problem!r} (see GET /api/v1/problems)", field="problem"
        ) from None
    return pose(session, problem=problem, seed=seed, params=params, user=user, commit=True)


def pose(
    session: Session,
    *,
    problem: str,
    seed: int | None,
    params: dict[str, Any] | None,
    user: User | None,
    commit: bool = False,
    instance: problems.Instance | None = None,
) -> tuple[InstanceRecord, problems.Instance]:
    """Instantiate and add the record (validated); commit only when asked (exams add many at once).
    `instance`: the one the seed poses, when the caller has built it already."""
    family = problems.get_family(problem)
    try:
        inst = instance or (
            problems.instantiate(problem, seed=seed)
            if seed is not None
            else problems.instantiate(problem, params=params)
        )
    except problems.InvalidParams as exc:
        raise ParamsInvalid(exc.errors) from None
    record = InstanceRecord(
        id=_new_id(),
        problem=problem,
        version=family.version,
        seed=seed,
        params=inst.params,
        created_by=user.id if user else None,
    )
    session.add(record)
    if commit:
        session.commit()
    return record, inst


def get_record(session: Session, instance_id: str) -> InstanceRecord:
    # no id is that long or holds NUL (which PostgreSQL refuses even to look up: a 422, not the 404)
    record = (
        session.get(InstanceRecord, instance_id)
        if len(instance_id) <= 24 and "\x00" not in instance_id
        else None
    )
    if record is None:
        raise NotFound(f"no instance {instance_id!r}")
    return record


class RecordCache:
    """Posed instances by id, most recently used kept. A record is never changed or deleted once
    posed (regrading relies on it), so a hit is as good as the row and needs no query: the lookup
    was a tenth of a check's CPU on SQLite and more on PostgreSQL (bench.http_bench).

    What is cached is a copy attached to no session, so no request's session can expire or reload
    it under another request that reads it; callers only read it.
    """

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._records: OrderedDict[str, InstanceRecord] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, instance_id: str) -> InstanceRecord | None:
        with self._lock:
            record = self._records.get(instance_id)
            if record is not None:
                self._records.move_to_end(instance_id)
            return record

    def fetch(self, session: Session, instance_id: str) -> InstanceRecord:
        """The record from the cache, else read (NotFound if there is none) and kept."""
        return self.get(instance_id) or self.put(get_record(session, instance_id))

    def put(self, record: InstanceRecord) -> InstanceRecord:
        copy = InstanceRecord(
            id=record.id,
            problem=record.problem,
            version=record.version,
            seed=record.seed,
            params=record.params,
            created_by=record.created_by,
            created_at=record.created_at,
        )
        with self._lock:
            self._records[copy.id] = copy
            self._records.move_to_end(copy.id)
            while len(self._records) > self.size:
                self._records.popitem(last=False)
        return copy


class ParamsInvalid(Invalid):
    """Explicit params that fail the family's validation; `errors` name each field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        msg = "; ".join(f"params.{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors)
        super().__init__(msg, field="params")
        self.errors = errors
