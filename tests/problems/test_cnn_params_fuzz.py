"""The CNN families take any garbage as params: InvalidParams naming a field, or a whole instance; never a crash."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from problems.base import InvalidParams
from problems.registry import get_family, instantiate

FAMILIES = ["cnn.conv2d", "cnn.pool2d", "cnn.network_table", "cnn.receptive_field", "cnn.cross_correlation"]
JUNK: list[Any] = [
    None, -1, 0, 1, 2, 3, 64, 65, 4096, 10**12, -(10**12), 1.5, 1e-300, float("nan"), float("inf"), True, False,
    "", "3", "Conv2d", [], [1], [1, 2], [1, 2, 3], [[1]], [None, None], {}, {"type": "ReLU"},
]  # fmt: skip


def paths(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, the root excepted."""
    if path:
        yield path
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        yield from paths(value, (*path, key))


def replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(obj)
    holder = out
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return out


@pytest.mark.parametrize("problem", FAMILIES)
def test_mangled_params_are_refused_cleanly_or_posed_whole(problem: str) -> None:
    family = get_family(problem)
    json.dumps(family.Params.model_json_schema())  # the API lists it
    rng = random.Random(problem)
    refused = posed = 0
    for seed in range(60):
        params = instantiate(problem, seed=seed).params
        for _ in range(10):
            mangled = params
            for _ in range(rng.randint(1, 2)):
                where = rng.choice(list(paths(mangled)))
                mangled = replaced(mangled, where, copy.deepcopy(rng.choice(JUNK)))
            try:
                inst = instantiate(problem, params=mangled)
            except InvalidParams as exc:
                assert exc.errors and str(exc), mangled
                refused += 1
                continue
            # Accepted: every answer, the steps and every misconception must come out.
            assert inst.answers and all(inst.statement.values()) and all(inst.solution().values())
            for m in family.misconceptions():
                m.solve(inst.p)
            posed += 1
    assert refused > 100 and posed > 0
