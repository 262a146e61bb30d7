"""Shared by the CNN families: PyTorch's output-size rule, int-or-pair arguments, errors that name a field.

No family lives here; the registry imports this module like the others and finds nothing to register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Pair = tuple[int, int]


def pair(v: int | Sequence[int]) -> Pair:
    """Return (height, width) of an argument PyTorch accepts as an int or a pair."""
    if isinstance(v, int):
        return (v, v)
    return (int(v[0]), int(v[1]))


def effective_kernel(k: int, d: int) -> int:
    """Span of a dilated kernel: d*(k-1)+1."""
    return d * (k - 1) + 1


def conv_out(n: int, k: int, s: int, p: int, d: int = 1) -> int:
    """Output length along one axis, PyTorch's rule: floor((n + 2p - d(k-1) - 1)/s) + 1 (< 1: no output)."""
    return (n + 2 * p - effective_kernel(k, d)) // s + 1


def pool_out(n: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False) -> int:
    """Output length of max/avg pooling along one axis, PyTorch's rule (pooling_output_shape)."""
    span = n + 2 * p - effective_kernel(k, d)
    out = -(-span // s) + 1 if ceil_mode else span // s + 1
    # With ceil_mode the last window must still start inside the input or its left padding.
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def divides(n: int, k: int, s: int, p: int, d: int = 1) -> bool:
    """Does the stride fit the padded input exactly (no rows or columns left over)?"""
    return (n + 2 * p - effective_kernel(k, d)) % s == 0


def py_arg(v: int | Sequence[int] | None) -> str:
    """Write an argument the way it is written in Python: 3 or (3, 3)."""
    if v is None or isinstance(v, int):
        return str(v)
    return "(" + ", ".join(str(x) for x in v) + ")"


def size_rule(n: str = "H") -> str:
    """The size rule as the solutions write it, along the axis of length `n` (K is the kernel's span,
    d(k-1)+1 when dilated)."""
    return f"\\lfloor \\frac{{{n} + 2P - K}}{{S}} \\rfloor + 1"


SIZE_RULE = size_rule("H")


def size_formula(n: int, k: int, s: int, q: int, d: int = 1, ceil_mode: bool = False) -> str:
    """One axis of the size rule with the instance's numbers, as a student writes it: (97 - 9)/2 + 1 = 45."""
    span = effective_kernel(k, d)
    inside = f"{n} + 2 \\times {q} - {span}" if q else f"{n} - {span}"
    out = pool_out(n, k, s, q, d, ceil_mode)
    if s == 1:
        return f"{inside} + 1 = {out}"
    frac = f"\\frac{{{inside}}}{{{s}}}"
    if divides(n, k, s, q, d):
        return f"{frac} + 1 = {out}"
    if ceil_mode:
        # PyTorch drops a last window that would start in the right padding: then the +1 goes.
        plus = " + 1" if out == -(-(n + 2 * q - span) // s) + 1 else ""
        return f"\\lceil {frac} \\rceil{plus} = {out}"
    return f"\\lfloor {frac} \\rfloor + 1 = {out}"


def fail(loc: tuple[str | int, ...], message: str) -> NoReturn:
    """Reject params with an error located at `loc` (e.g. ("layers", 2, "in_channels")).

    Pydantic merges a ValidationError raised inside a validator into its own report,
    so the caller's InvalidParams names the exact field rather than the whole model.
    """
    error = PydanticCustomError("invalid_params", "{message}", {"message": message})
    raise ValidationError.from_exception_data("Params", [InitErrorDetails(type=error, loc=loc, input=None)])
