"""Live preview: how an answer is read, typeset, or where it fails to parse (never graded, never stored)."""

from __future__ import annotations

from typing import Any

import grader
from app.rendering import math_html
from grader import limits
from problems import Instance


def preview(inst: Instance, part_name: str, text: str, lang: str) -> dict[str, Any]:
    part = inst.part(part_name)
    if part is None:
        return {"ok": False, "message": f"no part {part_name!r}", "position": None}
    if part.answer_type in ("text", "choice") or not text.strip():
        return {"ok": True, "interpreted": None, "html": None}
    try:
        reading = grader.read(text, part.spec)
    except limits.OutOfTime:
        return timed_out(lang, limits.CHECK_SECONDS)
    except grader.AnswerError as exc:
        # `text`: what the position counts in, the answer as read (x² is x^(2) there)
        return {
            "ok": False,
            "message": exc.message.get(lang, exc.message["en"]),
            "position": exc.position,
            "text": exc.text,
        }
    latex = getattr(reading, "latex", None)
    html = math_html(latex) if isinstance(latex, str) and len(latex) < 4000 else None
    return {"ok": True, "interpreted": reading.interpreted, "html": html}


_TIMED_OUT = {
    "zh": "这个答案读取超时（超过 {s} 秒）；请写得更简单些。",
    "en": "Reading this answer took longer than {s} s; please write it more simply.",
}


def timed_out(lang: str, seconds: float) -> dict[str, Any]:
    return {
        "ok": False,
        "message": _TIMED_OUT.get(lang, _TIMED_OUT["en"]).format(s=seconds),
        "position": None,
    }
