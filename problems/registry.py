"""The problem bank: a plain dict of families filled by an explicit decorator. No I/O."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TypeVar

from problems.base import (
    Family,
    Instance,
    Params,
    UnknownProblem,
    build_instance,
    family_rng,
    validate_params,
)

REGISTRY: dict[str, Family[Any]] = {}

F = TypeVar("F", bound=type[Family[Any]])


def register(cls: F) -> F:
    """Add a family to the bank under its stable id; a duplicate id fails at import."""
    fid = cls.id
    if fid in REGISTRY:
        raise RuntimeError(f"duplicate problem id {fid!r}")
    missing = [name for name in ("title", "difficulty", "tags", "Params") if not hasattr(cls, name)]
    if missing:  # else a page listing the bank fails later, far from the cause
        raise RuntimeError(f"problem {fid!r} has no {', '.join(missing)}")
    REGISTRY[fid] = cls()
    return cls


def get_family(problem_id: str) -> Family[Any]:
    """Return the family with this id, or raise UnknownProblem."""
    load_all()
    try:
        return REGISTRY[problem_id]
    except KeyError:
        raise UnknownProblem(problem_id) from None


def all_families() -> list[Family[Any]]:
    """Return every family, sorted by id."""
    load_all()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def instantiate(
    problem_id: str, *, seed: int | None = None, params: Mapping[str, Any] | Params | None = None
) -> Instance:
    """Pose an instance from a seed (random but sensible) or from explicit, validated params."""
    family = get_family(problem_id)
    if params is not None:
        p = validate_params(family, params)
        return build_instance(family, seed=None, p=p)
    if seed is None:
        raise ValueError("give a seed or params")
    return build_instance(family, seed=seed, p=family.generate(family_rng(problem_id, seed)))


_loaded = False
_loading = threading.RLock()


def load_all() -> None:
    """Import every family module once (each registers itself).

    Marked loaded only once every module is in: it was marked first, and a server's request
    threads arriving together on a cold worker found half a bank (UnknownProblem, a 500)."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        import importlib
        import pkgutil

        import problems.families as pkg

        for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
            importlib.import_module(f"problems.families.{mod}")
        _loaded = True
