"""A 200-variant, 10-question mock exam printed to one PDF bundle (target: <= 60 s on this machine).

The bundle is checked, not just timed: pdfinfo must read it, and pdftotext must show every
variant's code, in order, with no page holding two variants (a page break between variants).
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

VARIANTS = int(os.environ.get("BENCH_EXAM_VARIANTS", "200"))


class _Stopwatch:
    """Wraps a function and adds up the time spent in it (stages overlap, so wall time alone hides them)."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1


def adopt_grandchildren() -> None:
    """Become a child subreaper (Linux): Chromium's renderers are orphaned when their zygote
    exits, so without this their CPU time never reaches RUSAGE_CHILDREN."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def children_cpu() -> float:
    """CPU seconds of every finished descendant (after reaping the adopted ones)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def check_bundle(pdf: bytes, codes: list[str], title: str) -> tuple[int, int]:
    """Pages in the bundle and variants found; raises if a variant is missing, out of order or shares a page."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    wanted = set(codes)
    order: list[str] = []
    for n, page in enumerate(text.split("\f"), 1):
        # The code stands on its own line in the header box and ends the footer ("title · CODE").
        on_page = {w for w in re.findall(r"^(?:.*· )?([A-Z2-9]{4})$", page, re.M) if w in wanted}
        if len(on_page) > 1:
            raise AssertionError(f"page {n} holds variants {sorted(on_page)}: missing page break")
        if on_page and (not order or order[-1] not in on_page):
            order.append(on_page.pop())
    if order != codes:
        raise AssertionError(f"variants in the PDF {order[:5]}... differ from the exam's {codes[:5]}...")
    if text.count(title) < len(codes):
        raise AssertionError("a variant lost its (Chinese) title in the text layer")
    return pages, len(order)


def main() -> None:
    from alembic import command

    from app.cli import alembic_config
    from app.db import make_engine, make_session_factory
    from app.services import exam_render, exams, pdf, users
    from problems import all_families

    title = "深度学习期末模拟考试 Mock final"
    adopt_grandchildren()
    render = exam_render.paper_html = _Stopwatch(exam_render.paper_html)  # type: ignore[method-assign]
    join = pdf._join = _Stopwatch(pdf._join)  # type: ignore[method-assign]
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
                s, title=title, items=items, variants=VARIANTS, seed=2026, lang="both", user=teacher
            )
            t1 = time.perf_counter()
            bundle = exam_render.paper_pdf(s, exam, list(exam.variants), timeout=600)
            t2 = time.perf_counter()
            cpu_children = children_cpu()
            cpu_self = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            codes = [v.code for v in exam.variants]
        engine.dispose()
    pages, found = check_bundle(bundle, codes, title.split()[0])
    print(f"exam bundle: {VARIANTS} variants x 10 questions ({', '.join(i['problem'] for i in items)})")
    print(f"  build variants {t1 - t0:6.1f} s")
    print(
        f"  PDF bundle     {t2 - t1:6.1f} s: {render.calls} documents, "
        f"{pdf.print_workers()} Chromium at once; of which rendering HTML {render.seconds:.1f} s "
        f"(overlaps printing), joining {join.seconds:.1f} s"
    )
    print(f"  CPU: Chromium {cpu_children:.1f} s, this Python process {cpu_self:.1f} s (whole run)")
    print(f"  output: {len(bundle) / 1e6:.1f} MB, {pages} pages, {found}/{len(codes)} variant codes in order")
    print(
        f"  total {t2 - t0:6.1f} s (target <= 60 s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
