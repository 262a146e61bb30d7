"""A 200-variant, 10-question mock exam printed to one PDF bundle (target: <= 60 s on this machine)."""

from __future__ import annotations

import os
import tempfile
import time

VARIANTS = int(os.environ.get("BENCH_EXAM_VARIANTS", "200"))


def main() -> None:
    from alembic import command

    from app.cli import alembic_config
    from app.db import make_engine, make_session_factory
    from app.services import exam_render, exams, users
    from problems import all_families

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/exam.db"
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        families = [f.id for f in all_families() if not f.id.startswith(("custom.", "concept.short"))]
        items = [{"problem": families[i * len(families) // 10]} for i in range(10)]
        with make_session_factory(engine)() as s:
            teacher = users.create_user(s, name="bench", role="instructor")
            s.commit()
            t0 = time.perf_counter()
            exam = exams.create_exam(
                s,
                title="深度学习期末模拟考试 Mock final",
                items=items,
                variants=VARIANTS,
                seed=2026,
                lang="both",
                user=teacher,
            )
            t1 = time.perf_counter()
            html = exam_render.paper_html(s, exam, list(exam.variants))
            t2 = time.perf_counter()
            pdf = exam_render.pdf.html_to_pdf(html, timeout=300)
            t3 = time.perf_counter()
        engine.dispose()
    print(f"exam bundle: {VARIANTS} variants x 10 questions ({', '.join(i['problem'] for i in items)})")
    print(
        f"  build variants {t1 - t0:6.1f} s, render HTML {t2 - t1:6.1f} s ({len(html) / 1e6:.1f} MB), "
        f"print PDF {t3 - t2:6.1f} s ({len(pdf) / 1e6:.1f} MB)"
    )
    print(f"  total {t3 - t0:6.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()
