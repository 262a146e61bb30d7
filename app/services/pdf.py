"""HTML to PDF with headless Chromium (a real engine: MathML, CJK fonts, CSS paged media).

A large document (a whole class's exam bundle: hundreds of variants, over a thousand pages) is
printed as several smaller documents by parallel Chromium processes and joined with poppler's
`pdfunite`. Chromium lays out one document on one renderer main thread, so one huge document
leaves a second core mostly idle; and the caller can render the next document's HTML while
the previous ones print.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from app.services.errors import ServiceError


class PdfUnavailable(ServiceError):
    status = 503


def chromium_path() -> str | None:
    for name in (os.environ.get("DLGRADER_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


def print_workers() -> int:
    """How many Chromium processes print at once: one per core, at most 3 (each holds
    300-450 MB), and at least 2 so that even on one core rendering and printing overlap."""
    return max(2, min(3, os.cpu_count() or 1))


# Chromium lays a page out for its (invisible) screen when it loads, then again for print.
# Hiding the screen rendering makes the first pass trivial: ~15% less CPU for an exam bundle
# (measured), and the printed pages are the same (print media shows everything again).
_SKIP_SCREEN_LAYOUT = "<style>@media screen { html { display: none; } }</style>"


def _for_print(html: str) -> str:
    """The document with _SKIP_SCREEN_LAYOUT at the end of its head (unchanged without one)."""
    at = html.lower().find("</head>")
    return html if at < 0 else html[:at] + _SKIP_SCREEN_LAYOUT + html[at:]


def _print_file(exe: str, src: Path, out: Path, deadline: float, tagged: bool) -> None:
    """Print one HTML file to `out`; page size and breaks come from its @page CSS."""
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        "--run-all-compositor-stages-before-draw",
        "--no-pdf-header-footer",
        f"--user-data-dir={src.parent}/profile",
        f"--print-to-pdf={out}",
        # A tagged (accessible) PDF carries a structure element per HTML and MathML node: for
        # a math-heavy exam that was 9 of every 10 objects, 8x the file size and ~40% of
        # Chromium's CPU time. Worth it for a document read on screen, not for paper.
        *([] if tagged else ["--disable-pdf-tagging"]),
        src.as_uri(),
    ]
    try:
        # The deadline is the whole job's: a document that waited in the queue gets what is left.
        timeout = max(deadline - time.monotonic(), 1.0)
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PdfUnavailable("printing the PDF took too long") from None
    if not out.exists() or out.stat().st_size == 0:
        tail = proc.stderr.decode(errors="replace")[-400:]
        raise PdfUnavailable(f"Chromium did not produce a PDF (exit {proc.returncode}): {tail}")


def html_to_pdf(html: str, *, timeout: float = 180.0, tagged: bool = True) -> bytes:
    """Print one HTML document to PDF."""
    return htmls_to_pdf([html], timeout=timeout, tagged=tagged)


def htmls_to_pdf(
    documents: Iterable[str], *, timeout: float = 180.0, tagged: bool = True, workers: int | None = None
) -> bytes:
    """Print each HTML document and join the PDFs in order into one (each document starts a page).

    `documents` may be a generator: each document is handed to a printer as soon as it is made,
    so producing the next one overlaps with printing the previous ones. `tagged=False` leaves
    out the accessibility structure (for print-only output: much smaller and faster).
    """
    exe = chromium_path()
    if exe is None:
        raise PdfUnavailable("PDF output needs Chromium on the server (Debian package 'chromium')")
    deadline = time.monotonic() + timeout
    with (
        tempfile.TemporaryDirectory(prefix="dlg-pdf-") as tmp,
        ThreadPoolExecutor(workers or print_workers()) as pool,
    ):
        outputs: list[Path] = []
        jobs: list[Future[None]] = []
        try:
            for i, html in enumerate(documents):
                # Every job gets its own directory: Chromium locks its profile directory.
                job = Path(tmp) / f"{i:04d}"
                job.mkdir()
                src, out = job / "doc.html", job / "doc.pdf"
                src.write_text(_for_print(html), encoding="utf-8")
                outputs.append(out)
                jobs.append(pool.submit(_print_file, exe, src, out, deadline, tagged))
            for f in jobs:
                f.result()  # re-raises the first printer's failure
        except BaseException:
            for f in jobs:
                f.cancel()
            raise
        if not outputs:
            raise ValueError("nothing to print")
        if len(outputs) == 1:
            return outputs[0].read_bytes()
        return _join(outputs, Path(tmp) / "joined.pdf", deadline - time.monotonic())


def _join(parts: list[Path], out: Path, timeout: float) -> bytes:
    exe = shutil.which("pdfunite")
    if exe is None:
        raise PdfUnavailable("joining PDFs needs poppler's pdfunite (Debian package 'poppler-utils')")
    try:
        proc = subprocess.run(
            [exe, *map(str, parts), str(out)], capture_output=True, timeout=max(timeout, 1.0), check=False
        )
    except subprocess.TimeoutExpired:
        raise PdfUnavailable("joining the PDF took too long") from None
    if proc.returncode != 0 or not out.exists():
        raise PdfUnavailable(
            f"pdfunite failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-400:]}"
        )
    return out.read_bytes()
