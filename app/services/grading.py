"""Grading off the request thread's critical path, with a hard time bound per check.

Plain numeric answers (digits, signs, brackets, no names and no powers) are graded in the
request's thread, under one cooperative deadline for the whole check (every part and every
misconception compared): the grader bounds them by construction and they take microseconds.
Anything else goes to a pool of worker processes (pebble), where a check that overruns its
bound is stopped by killing its worker. The cooperative deadline alone is not enough there:
one sympy call can run long between two deadline checks while holding the GIL (measured:
powers whose exact value is huge, hidden-zero radicals inside functions), and a thread
cannot be stopped. Signal alarms cannot do this inside a web server's threads either.
The live preview reads answers the same way, so it is routed the same way.

The routes await the pool's answer on the event loop (wait_async, preview): a thread that waited
for it would be one of the worker's few request threads (settings.threads) held for up to the
bound, and a handful of slow checks would stall every other request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from pebble import ProcessExpired, ProcessPool

import problems
from app.services import instances
from app.services import preview as preview_service
from grader import limits
from problems import GradeResult, PartResult

# What a plain answer may contain: no letters (names, functions, exponents in e-notation are
# letters too, except e/E, x/X and ×, which are only shape or scientific-notation marks here).
_PLAIN = re.compile(r"^[\s0-9.,;:+\-−/()\[\]（）［］，．－＋／０-９eE×xX%％]*$")
_PLAIN_MAX = 400

_TIMEOUT = {
    "zh": "这个答案检查超时（超过 {s} 秒），已记录但判为不正确；请写得更简单些。",
    "en": "Checking this answer took longer than {s} s; it is recorded but marked wrong. Please simplify it.",
}


def _is_plain(text: str) -> bool:
    return len(text) <= _PLAIN_MAX and bool(_PLAIN.match(text))


def _worker_instance(problem: str, params: dict[str, Any]) -> problems.Instance:
    # The params as posed, never a re-run of the seed; cached per worker like the service's own
    # copy, so an instance's misconceptions are solved once per worker, not once per check.
    return instances.build_params(problem, params)


def _grade_in_worker(problem: str, params: dict[str, Any], answers: dict[str, str], lang: str) -> GradeResult:
    inst = _worker_instance(problem, params)
    return problems.grade_answers(inst, answers, lang)


def _preview_in_worker(
    problem: str, params: dict[str, Any], part: str, text: str, lang: str
) -> dict[str, Any]:
    inst = _worker_instance(problem, params)
    return preview_service.preview(inst, part, text, lang)


class Grader:
    """Grades instances; owns the worker pool (or none, grading inline)."""

    def __init__(self, workers: int, timeout: float) -> None:
        self.timeout = timeout
        self.pool: ProcessPool | None = ProcessPool(max_workers=workers) if workers > 0 else None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool.join(timeout=5)
            self.pool = None

    def warm_up(self) -> None:
        """Start every worker (imports sympy and the bank) before the first request needs one."""
        if self.pool is None:
            return
        fam = problems.all_families()[0]
        params = problems.instantiate(fam.id, seed=0).params
        futures = [self.pool.schedule(_grade_in_worker, (fam.id, params, {}, "en")) for _ in range(4)]
        for f in futures:
            try:
                f.result(timeout=60)
            except Exception:  # warm-up is best effort
                pass

    async def preview(self, inst: problems.Instance, part: str, text: str, lang: str) -> dict[str, Any]:
        """How an answer is read (app/services/preview.py), under the same bound as a check. A
        reading in the pool is awaited: no thread waits for it (previews come with every keystroke)."""
        future = self._schedule_preview(inst, part, text, lang)
        if future is None:
            return await anyio.to_thread.run_sync(self._preview_inline, inst, part, text, lang)
        try:
            result: dict[str, Any] = await asyncio.wrap_future(future)
            return result
        except (FutureTimeout, ProcessExpired):
            return preview_service.timed_out(lang, self.timeout)

    def _preview_inline(self, inst: problems.Instance, part: str, text: str, lang: str) -> dict[str, Any]:
        with limits.bounded(self.timeout):
            return preview_service.preview(inst, part, text, lang)

    def _schedule_preview(
        self, inst: problems.Instance, part: str, text: str, lang: str
    ) -> Future[Any] | None:
        if self.pool is None or _is_plain(text):
            return None
        return self.pool.schedule(
            _preview_in_worker, (inst.problem, inst.params, part, text, lang), timeout=self.timeout
        )

    def grade(self, inst: problems.Instance, answers: Mapping[str, str], lang: str) -> GradeResult:
        """Grade every part of an instance within the time bound; never raises for any text."""
        return self.wait(self.begin(inst, answers, lang))

    def begin(self, inst: problems.Instance, answers: Mapping[str, str], lang: str) -> Pending:
        """Grade the parts that are bounded by construction here, and send the rest to the pool."""
        rest = {k: v for k, v in answers.items() if _isolated(inst, k, str(v))}
        inline = {k: v for k, v in answers.items() if k not in rest}
        with limits.bounded(self.timeout):  # one budget for the whole check, misconceptions included
            result = problems.grade_answers(inst, inline, lang)
        if not rest:
            return Pending(result, (), None, lang)
        if self.pool is None:
            isolated = problems.grade_answers(inst, rest, lang)
            return Pending(_merge(result, tuple(rest), isolated, lang, self.timeout), (), None, lang)
        future = self.pool.schedule(
            _grade_in_worker, (inst.problem, inst.params, rest, lang), timeout=self.timeout
        )
        return Pending(result, tuple(rest), future, lang)

    def wait(self, pending: Pending) -> GradeResult:
        """The whole result of a check begun, waiting in this thread for the pool's part."""
        if pending.future is None:
            return pending.result
        try:
            isolated: GradeResult | None = pending.future.result()
        except (FutureTimeout, ProcessExpired):
            isolated = None
        return _merge(pending.result, pending.rest, isolated, pending.lang, self.timeout)

    async def wait_async(self, pending: Pending) -> GradeResult:
        """wait() for the event loop: no thread is held while the pool grades (a few slow checks
        would otherwise take every request thread of the worker for a second each)."""
        if pending.future is None:
            return pending.result
        try:
            isolated: GradeResult | None = await asyncio.wrap_future(pending.future)
        except (FutureTimeout, ProcessExpired):
            isolated = None
        return _merge(pending.result, pending.rest, isolated, pending.lang, self.timeout)


@dataclass
class Pending:
    """A check begun: the parts graded in the request's thread, and the pool's work on the rest."""

    result: GradeResult
    rest: tuple[str, ...]
    future: Future[Any] | None
    lang: str


def _merge(
    result: GradeResult, rest: tuple[str, ...], isolated: GradeResult | None, lang: str, timeout: float
) -> GradeResult:
    """The thread's verdicts with the pool's for `rest` (None: the pool ran out of time)."""
    merged = dict(result.parts)
    if isolated is not None:
        merged.update({k: v for k, v in isolated.parts.items() if k in rest})
    else:
        msg = _TIMEOUT.get(lang, _TIMEOUT["en"]).format(s=timeout)
        for k in rest:
            if k in merged:
                merged[k] = PartResult(False, 0.0, msg, None, None, "timeout")
    score = sum(r.score for r in merged.values()) / len(merged) if merged else 0.0
    return GradeResult(score=score, parts=merged)


# Read without sympy and bounded by their size: option letters, and text a TA grades by hand.
_ALWAYS_INLINE = ("choice", "text")


def _isolated(inst: problems.Instance, name: str, text: str) -> bool:
    """Whether a part's check goes to the pool: every expression part, and any answer that is
    not plain numeric text (except choices and hand-graded text: a round trip to the pool costs
    more than reading them). An unknown part is ignored by grade_answers; nothing to compute."""
    part = inst.part(name)
    if part is None or part.answer_type in _ALWAYS_INLINE:
        return False
    return part.answer_type == "expression" or not _is_plain(text)
