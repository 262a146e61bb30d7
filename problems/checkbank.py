"""Self-test of the bank: every family over many seeds must pose, solve, render and grade itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from grader import grade
from problems.base import LANGS, Family, grade_answers
from problems.registry import all_families, get_family, instantiate


@dataclass
class FamilyReport:
    problem: str
    seeds: int = 0
    misconception_checks: int = 0
    failures: list[str] = field(default_factory=list)


def check_family(family: Family, seeds: Iterable[int]) -> FamilyReport:
    """Run one family over the seeds; collect every failure as a readable line."""
    rep = FamilyReport(family.id)
    for seed in seeds:
        rep.seeds += 1
        where = f"{family.id} seed={seed}"
        try:
            inst = instantiate(family.id, seed=seed)
            again = instantiate(family.id, params=inst.params)
            if again.answers != inst.answers:
                rep.failures.append(f"{where}: params round-trip changes the answers")
            steps = inst.solution()
            for lang in LANGS:
                if not inst.statement.get(lang, "").strip():
                    rep.failures.append(f"{where}: empty statement ({lang})")
                if not steps.get(lang):
                    rep.failures.append(f"{where}: empty solution ({lang})")
            names = {q.name for q in inst.parts}
            if set(inst.answers) - names:
                rep.failures.append(f"{where}: answers for unknown parts {set(inst.answers) - names}")
            for lang in LANGS:
                res = grade_answers(inst, inst.answers, lang)
                for name, r in res.parts.items():
                    if name in inst.answers and r.score != 1.0:
                        rep.failures.append(
                            f"{where}: reference of {name!r} scores {r.score} ({lang}): {r.feedback}"
                        )
            for m in family.misconceptions():
                alt = m.solve(inst.p)
                for name, text in alt.items():
                    part = inst.part(name)
                    ref = inst.answers.get(name)
                    if part is None or ref is None:
                        rep.failures.append(f"{where}: misconception {m.id} answers unknown part {name!r}")
                        continue
                    v = grade(text, ref, part.spec)
                    if v.correct or v.reason == "precision":
                        # it coincides with the right answer for this instance, or with it rounded
                        # to the figures written (then the answer is no evidence of the wrong way)
                        continue
                    rep.misconception_checks += 1
                    res = grade_answers(inst, {name: text}, "en")
                    r = res.parts[name]
                    if r.score != 0 or r.misconception is None:  # two wrong ways may coincide
                        rep.failures.append(
                            f"{where}: misconception {m.id} on {name!r} scores {r.score}, matched {r.misconception}"
                        )
        except Exception as exc:  # a self-test reports, it does not stop at the first crash
            rep.failures.append(f"{where}: {type(exc).__name__}: {exc}")
    return rep


def _check_by_id(problem_id: str, seeds: int) -> FamilyReport:
    return check_family(get_family(problem_id), range(seeds))


def check_bank(problem_ids: list[str] | None = None, seeds: int = 200, jobs: int = 1) -> list[FamilyReport]:
    """Check every family (or the ones named) over seeds 0..seeds-1, in `jobs` processes.

    Families are independent and the check is CPU-bound, so processes (not threads) share it out;
    the reports come back in the families' order whatever the order of completion.
    """
    ids = [get_family(i).id for i in problem_ids] if problem_ids else [f.id for f in all_families()]
    if jobs <= 1 or len(ids) <= 1:
        return [_check_by_id(i, seeds) for i in ids]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_check_by_id, ids, [seeds] * len(ids)))
