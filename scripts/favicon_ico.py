"""Write app/web/static/favicon.ico from favicon.svg beside it: Chromium draws the SVG at 16, 32
and 48 px, and the ICO holds those PNGs (no image library needed). Run after editing the SVG:
    .venv/bin/python scripts/favicon_ico.py
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "app" / "web" / "static"
SIZES = (16, 32, 48)


def main() -> None:
    svg = (STATIC / "favicon.svg").read_text()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    pngs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                f"<style>html,body{{margin:0;background:transparent}}"
                f"svg{{display:block;width:{size}px;height:{size}px}}</style>{svg}"
            )
            pngs.append((size, page.screenshot(omit_background=True)))
        browser.close()
    # ICONDIR, then one ICONDIRENTRY per image (width, height, colours, reserved, planes, bits,
    # bytes, offset), then the PNGs themselves.
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    (STATIC / "favicon.ico").write_bytes(struct.pack("<HHH", 0, 1, len(pngs)) + entries + data)


if __name__ == "__main__":
    main()
