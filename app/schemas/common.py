"""Field types the request bodies share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

# An answer is kept as typed; the grader refuses over-long text itself, this only stops abuse.
MAX_ANSWER_CHARS = 10_000
AnswerText = Annotated[str, StringConstraints(max_length=MAX_ANSWER_CHARS)]
PartName = Annotated[str, StringConstraints(min_length=1, max_length=64)]

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
