"""Grading off the request thread's critical path, with a hard time bound per check.

Plain numeric answers (digits, signs, brackets) are graded in the calling thread: the
grader bounds them by construction and they take microseconds. Anything with names,
powers or an expression part goes to a pool of worker processes (pebble), where a
check that overruns its bound is stopped by killing its worker. Signal alarms cannot
do this inside a web server's threads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessExpired, ProcessPool

import problems
from problems import GradeResult, PartResult

_PLAIN = re.compile(r"^[\s0-9.,;:+\-−/()\[\]（）［］，．－＋／０-９eE×xX]*$")

_TIMEOUT = {
    "zh": "这个答案检查超时（超过 {s} 秒），已记录但判为不正确；请写得更简单些。",
    "en": "Checking this answer took longer than {s} s; it is recorded but marked wrong. Please simplify it.",
}


def _is_plain(text: str) -> bool:
    return len(text) <= 400 and bool(_PLAIN.match(text))


def _grade_in_worker(problem: str, params: dict[str, Any], answers: dict[str, str], lang: str) -> GradeResult:
    inst = problems.instantiate(problem, params=params)  # the params as posed, never a re-run of the seed
    return problems.grade_answers(inst, answers, lang)


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

    def grade(self, inst: problems.Instance, answers: Mapping[str, str], lang: str) -> GradeResult:
        """Grade every part of an instance within the time bound; never raises for any text."""
        isolated_types = {"expression"}
        plain = {k: v for k, v in answers.items() if _plain_part(inst, k, v, isolated_types)}
        rest = {k: v for k, v in answers.items() if k not in plain}
        result = problems.grade_answers(inst, plain, lang)
        if not rest:
            return result
        merged = dict(result.parts)
        if self.pool is None:
            merged.update(
                {k: v for k, v in problems.grade_answers(inst, rest, lang).parts.items() if k in rest}
            )
        else:
            future = self.pool.schedule(
                _grade_in_worker, (inst.problem, inst.params, rest, lang), timeout=self.timeout
            )
            try:
                isolated = future.result()
                merged.update({k: v for k, v in isolated.parts.items() if k in rest})
            except (FutureTimeout, ProcessExpired):
                msg = _TIMEOUT.get(lang, _TIMEOUT["en"]).format(s=self.timeout)
                for k in rest:
                    if k in merged:
                        merged[k] = PartResult(False, 0.0, msg, None, None, "timeout")
        score = sum(r.score for r in merged.values()) / len(merged) if merged else 0.0
        return GradeResult(score=score, parts=merged)


def _plain_part(inst: problems.Instance, name: str, text: str, isolated_types: set[str]) -> bool:
    part = inst.part(name)
    if part is None:
        return True  # an unknown part is ignored by grade_answers; nothing to compute
    return part.answer_type not in isolated_types and _is_plain(str(text))
