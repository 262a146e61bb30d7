"""The problem bank: parameterized deep-learning problem families with reference solvers."""

from problems.base import (
    Family,
    GradeResult,
    Instance,
    InvalidParams,
    Misconception,
    Params,
    Part,
    PartResult,
    ProblemError,
    Text,
    UnknownProblem,
    bi,
    grade_answers,
)
from problems.registry import REGISTRY, all_families, get_family, instantiate, load_all, register

__all__ = [
    "REGISTRY",
    "Family",
    "GradeResult",
    "Instance",
    "InvalidParams",
    "Misconception",
    "Params",
    "Part",
    "PartResult",
    "ProblemError",
    "Text",
    "UnknownProblem",
    "all_families",
    "bi",
    "get_family",
    "grade_answers",
    "instantiate",
    "load_all",
    "register",
]
