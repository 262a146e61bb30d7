"""Building exams with and without `same_form` (every variant in variant 1's form): 30 and 300 variants
of the instructor's midterm and of ten families across the bank, on a fresh SQLite database.

Each build is checked, not just timed: with the option every variant's question has variant 1's form,
or is named in the exam's warnings.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

SEEDS = [int(x) for x in os.environ.get("BENCH_SAME_FORM_SEEDS", "1,2,3").split(",")]
MIDTERM = [
    "cnn.network_table",
    "optim.step",
    "attention.scaled_dot_product",
    "loss.softmax_cross_entropy",
    "concept.choice",
    "cnn.conv2d",
    "rnn.srn_forward",
    "norm.batch_norm",
]


def _checked(session: Any, exam: Any) -> int:
    """Variants whose question differs in form from variant 1's; raises unless the warnings name them."""
    from app.services import exams
    from problems.registry import get_family

    firsts = None
    unlike: set[tuple[int, str]] = set()
    for v in exam.variants:
        forms = [get_family(i.problem).form(i.p) for _, i in exams.variant_instances(session, v)]
        firsts = firsts or forms
        unlike |= {(q, v.code) for q, (a, b) in enumerate(zip(firsts, forms, strict=True), 1) if a != b}
    warned = {(w["question"], code) for w in exam.warnings for code in w["variants"]}
    if not unlike <= warned:
        raise AssertionError(f"variants in another form, not warned of: {sorted(unlike - warned)[:5]}")
    return len(warned)


def main() -> None:
    from alembic import command

    from app.cli import alembic_config
    from app.db import make_engine, make_session_factory
    from app.services import exams, users
    from problems import all_families

    auto = [f.id for f in all_families() if not f.id.startswith(("custom.", "concept.short"))]
    spread = [auto[i * len(auto) // 10] for i in range(10)]
    print(
        f"same-form builds, seeds {SEEDS} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/exam.db"
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with make_session_factory(engine)() as s:
            teacher = users.create_user(s, name="bench", role="instructor")
            s.commit()
            for name, families in (("midterm", MIDTERM), ("ten families", spread)):
                items = [{"problem": f} for f in families]
                for variants in (30, 300):
                    line = f"  {name:12s} {len(items):2d} questions x {variants:3d} variants:"
                    for same_form in (False, True):
                        took, warned = [], 0
                        for seed in SEEDS:
                            t = time.perf_counter()
                            exam = exams.create_exam(
                                s, title="b", items=items, variants=variants, seed=seed, lang="both",
                                user=teacher, same_form=same_form,
                            )  # fmt: skip
                            took.append(time.perf_counter() - t)
                            warned += _checked(s, exam) if same_form else 0
                        label = "same form" if same_form else "plain"
                        line += f"  {label} " + " ".join(f"{t:5.2f}" for t in took) + " s"
                        line += f" ({warned} variant-questions warned)" if same_form else ""
                    print(line, flush=True)
            print(f"  ten families: {', '.join(spread)}")
        engine.dispose()


if __name__ == "__main__":
    main()
