"""The problem catalogue as the API lists it (computed once per process)."""

from __future__ import annotations

from functools import cache
from typing import Any

import problems
from app.rendering import plain_text
from problems.syllabus import chapter_of


@cache
def list_problems() -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            # Plain text, as it always was (a script prints it): "Vπ"; the typeset one is title_md.
            "title": {lang: plain_text(t) for lang, t in f.title.items()},
            "title_md": dict(f.title),
            "tags": list(f.tags),
            "chapter": chapter_of(f.tags),
            "difficulty": f.difficulty,
            "version": f.version,
            "params_schema": f.Params.model_json_schema(),
            "parts": f.part_list(),
        }
        for f in problems.all_families()
    ]
