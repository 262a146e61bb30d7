"""What a part asks for (AnswerSpec) and what the grader says about an answer (Verdict)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

AnswerType = Literal["integer", "real", "vector", "matrix", "shape", "expression", "choice", "text"]
ANSWER_TYPES: tuple[str, ...] = (
    "integer",
    "real",
    "vector",
    "matrix",
    "shape",
    "expression",
    "choice",
    "text",
)
ToleranceMode = Literal["rel_abs", "sigfig", "decimals"]


@dataclass(frozen=True)
class AnswerSpec:
    """How one part is read and judged.

    Left as None, tolerances take the documented defaults (docs/grading.md):
    reals agree to 3 significant figures (relative 0.5%), with an absolute floor
    for references at zero.
    """

    answer_type: AnswerType = "real"
    tolerance: ToleranceMode | None = None  # None: rel_abs, or sigfig when sigfigs is set
    rtol: float | None = None
    atol: float | None = None
    sigfigs: int | None = None
    decimals: int | None = None
    exact: bool = False  # an exact form is required (decimals that merely agree are refused)
    simplified: bool = False  # an expression must be no longer than the reference (count of operations)
    arithmetic: bool = True  # may the student write 15*(9*9*3+1) where a number is asked
    symbols: tuple[str, ...] = ()  # names allowed in an expression answer
    choices: tuple[str, ...] = ()  # option keys for a choice part, e.g. ("A", "B", "C", "D")
    symbols_real: bool = False  # symbols range over all reals instead of positive reals
    extra: tuple[tuple[str, str], ...] = field(default=())  # family-specific hints, e.g. (("order", "CHW"),)

    def __post_init__(self) -> None:
        # A family author's mistake, said at once rather than judged with another tolerance.
        if self.tolerance == "decimals" and self.decimals is None:
            raise ValueError("tolerance='decimals' needs decimals=d (places after the point)")
        if self.sigfigs is not None and self.sigfigs < 1:
            raise ValueError("sigfigs must be at least 1")

    def with_(self, **changes: object) -> AnswerSpec:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Verdict:
    """The grader's judgement of one answer. It never mutates anything."""

    correct: bool
    score: float
    feedback: str
    interpreted: str | None = None
    # Machine-readable reason for a wrong answer ("parse_error", "wrong_shape", "sign", ...),
    # so callers can count and group mistakes without parsing prose.
    reason: str | None = None
