"""The problem catalogue as the API lists it (computed once per process)."""

from __future__ import annotations

from functools import cache
from typing import Any

import problems
from problems.syllabus import chapter_of


@cache
def list_problems() -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "title": dict(f.title),
            "tags": list(f.tags),
            "chapter": chapter_of(f.tags),
            "difficulty": f.difficulty,
            "version": f.version,
            "params_schema": f.Params.model_json_schema(),
            "parts": f.part_list(),
        }
        for f in problems.all_families()
    ]
