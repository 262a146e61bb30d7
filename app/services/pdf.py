"""HTML to PDF with headless Chromium (a real engine: MathML, CJK fonts, CSS paged media).

A large document (a whole class's exam bundle: hundreds of variants, over a thousand pages) is
printed as several smaller documents by parallel Chromium processes and joined with pikepdf
(qpdf). Chromium lays out one document on one renderer main thread, so one huge document
leaves a second core mostly idle; and the caller can render the next document's HTML while
the previous ones print.

A bundle printed double-sided needs each variant to start on a right-hand (odd) page, and
Chromium ignores `break-before: right` (it breaks to the next page, left or right: checked with
Chromium 156): the join puts a blank page in where one is needed (`Recto`).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from app.services.errors import ServiceError
from grader.feedback import plural


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


@dataclass(frozen=True)
class Recto:
    """Start every section of a printed bundle on a right-hand (odd) page of the joined PDF.

    A section is found by its named destination: an element whose id starts with `prefix` and that
    a link in the document targets (Chromium writes a destination for a link's target only; an
    empty `<a href="#id"></a>` draws nothing). `sections`: how many there are (a document that says
    otherwise is an error, not a silently single-sided bundle). `blank_html`: the page put in.
    The joined PDF has a bookmark per section, named by its id less the prefix.
    """

    prefix: str
    sections: int
    blank_html: str


def html_to_pdf(html: str, *, timeout: float = 180.0, tagged: bool = True) -> bytes:
    """Print one HTML document to PDF."""
    return htmls_to_pdf([html], timeout=timeout, tagged=tagged)


def htmls_to_pdf(
    documents: Iterable[str],
    *,
    timeout: float = 180.0,
    tagged: bool = True,
    workers: int | None = None,
    recto: Recto | None = None,
) -> bytes:
    """Print each HTML document and join the PDFs in order into one (each document starts a page).

    `documents` may be a generator: each document is handed to a printer as soon as it is made,
    so producing the next one overlaps with printing the previous ones. `tagged=False` leaves
    out the accessibility structure (for print-only output: much smaller and faster). `recto`:
    every section starts on an odd page, a blank page before it where needed.
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
        blank = Path(tmp) / "blank" / "doc.pdf"
        try:
            if recto is not None:
                blank.parent.mkdir()
                if (kept := _blank_pages.get(recto.blank_html)) is not None:
                    blank.write_bytes(kept)
                else:  # printed once per server process and language, first: the join waits for it
                    src = blank.parent / "doc.html"
                    src.write_text(_for_print(recto.blank_html), encoding="utf-8")
                    jobs.append(pool.submit(_print_file, exe, src, blank, deadline, False))
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
        if len(outputs) == 1 and recto is None:
            return outputs[0].read_bytes()
        if recto is not None:
            _blank_pages.setdefault(recto.blank_html, blank.read_bytes())
        return _join(outputs, recto, blank)


_blank_pages: dict[str, bytes] = {}  # a Recto's blank page as printed, by its HTML (a few languages)


def section_starts(doc: pikepdf.Pdf, prefix: str) -> dict[int, str]:
    """The pages (from 0) where the document's sections start: its named destinations whose name
    starts with `prefix`, each page with the rest of the name."""
    page_of = {page.objgen: i for i, page in enumerate(doc.pages)}
    starts: dict[int, str] = {}
    dests = doc.Root.get("/Dests")
    for name, dest in dests.items() if isinstance(dests, pikepdf.Dictionary) else []:
        if name.startswith("/" + prefix) and isinstance(dest, pikepdf.Array) and len(dest):
            starts[page_of[dest[0].objgen]] = name[1 + len(prefix) :]
    return starts


def _join(parts: list[Path], recto: Recto | None, blank: Path) -> bytes:
    """The documents' pages in order in one PDF; with `recto`, a blank page before every section
    that would start on an even page, and a bookmark for each section."""
    with ExitStack() as stack, pikepdf.new() as out:
        # The sources stay open until the output is written: their pages' streams are read then.
        marks: list[tuple[str, int]] = []
        blank_page = None
        if recto is not None:
            blank_page = out.copy_foreign(stack.enter_context(pikepdf.open(blank)).pages[0].obj)
        for part in parts:
            doc = stack.enter_context(pikepdf.open(part))
            starts = section_starts(doc, recto.prefix) if recto is not None else {}
            if recto is not None and 0 not in starts:
                raise PdfUnavailable(f"a printed document does not start with a section ({recto.prefix}...)")
            for i, page in enumerate(doc.pages):
                if i in starts:
                    if len(out.pages) % 2 == 1 and blank_page is not None:
                        # A page of its own (the same content and resources): a page object may be
                        # in the page tree once only.
                        out.pages.append(pikepdf.Page(out.make_indirect(pikepdf.Dictionary(blank_page))))
                    marks.append((starts[i], len(out.pages)))
                out.pages.append(page)
        if recto is not None and len(marks) != recto.sections:
            raise PdfUnavailable(
                f"found {len(marks)} of the {recto.sections} {plural(recto.sections, 'section', 'sections')} in the printed PDF"
            )
        if marks:
            with out.open_outline() as outline:
                outline.root.extend(pikepdf.OutlineItem(title, page) for title, page in marks)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
