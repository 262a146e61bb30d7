"""HTML to PDF with headless Chromium (a real engine: MathML, CJK fonts, CSS paged media)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from app.services.errors import ServiceError


class PdfUnavailable(ServiceError):
    status = 503


def chromium_path() -> str | None:
    for name in (os.environ.get("DLGRADER_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


def html_to_pdf(html: str, *, timeout: float = 180.0) -> bytes:
    """Print one HTML document to PDF; page size and breaks come from its @page CSS."""
    exe = chromium_path()
    if exe is None:
        raise PdfUnavailable("PDF output needs Chromium on the server (Debian package 'chromium')")
    with tempfile.TemporaryDirectory(prefix="dlg-pdf-") as tmp:
        src, out = Path(tmp) / "doc.html", Path(tmp) / "doc.pdf"
        src.write_text(html, encoding="utf-8")
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
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"printing the PDF took longer than {timeout:.0f} s") from None
        if not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace")[-400:]
            raise PdfUnavailable(f"Chromium did not produce a PDF (exit {proc.returncode}): {tail}")
        return out.read_bytes()
