"""Field types the request bodies share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

# An answer is kept as typed; the grader refuses over-long text itself, this only stops abuse.
MAX_ANSWER_CHARS = 10_000
AnswerText = Annotated[str, StringConstraints(max_length=MAX_ANSWER_CHARS)]
PartName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def numbers_as_text(value: Any) -> Any:
    """An answer sent as a JSON number (scripts often send 896 rather than "896"), as its text; the
    values of a dict of answers too, one level (a body nested deeper is refused as it was, never
    walked: it reached the recursion limit, a 500). true is no number. Used before a whole field or
    body is validated, never on one string: pydantic then skipped its own check of the text (a lone
    surrogate got through and broke the response)."""
    if isinstance(value, dict):
        return {k: _number_as_text(v) for k, v in value.items()}
    return _number_as_text(value)


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Answers = Annotated[dict[PartName, AnswerText], BeforeValidator(numbers_as_text)]

# No family's params nest deeper than a list of layer dicts (depth 3); a body nested hundreds
# of levels deep would only reach the recursion limit of the serializer and the database driver.
MAX_PARAMS_DEPTH = 16
MAX_PARAMS_NODES = 20_000


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > MAX_PARAMS_DEPTH:
            raise ValueError(f"params nest deeper than {MAX_PARAMS_DEPTH} levels")
        if nodes > MAX_PARAMS_NODES:
            raise ValueError(f"params hold more than {MAX_PARAMS_NODES} values")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return value


Params = Annotated[dict[str, Any], AfterValidator(_bounded)]


def _a_share(score: float) -> float:
    # Not `le=1`: its "less than or equal to 1" left a TA who typed 7 (of 10 points) guessing.
    if score > 1:
        raise PydanticCustomError(
            "share_over_one",
            "score is a share of the part, 0 to 1 ({score} given); to grade in points (e.g. 7 of 10) "
            "send `points` instead (score 是比例，0 到 1；按分数给分请用 points)",
            {"score": score},
        )
    return score


# A hand grade: a share of the part, as the API has always taken it, or points out of what it is
# worth (as a rubric counts them); exactly one (HandGrade).
Share = Annotated[float, Field(ge=0, json_schema_extra={"maximum": 1}), AfterValidator(_a_share)]
Points = Annotated[float, Field(ge=0, le=1000)]


def one_grade(score: float | None, points: float | None) -> None:
    """A hand grade's body gives `score` or `points`, never both, never neither."""
    if score is not None and points is not None:
        raise PydanticCustomError(
            "grade_twice",
            "give either `score` (a share, 0 to 1) or `points`, not both (score 与 points 只能给一个)",
        )
    if score is None and points is None:
        raise PydanticCustomError(
            "grade_missing",
            "give `score` (a share of the part, 0 to 1) or `points` (out of what it is worth) "
            "(请给出 score 或 points)",
        )
