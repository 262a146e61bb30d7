"""Shared by the loss, backprop and RNN families: clean random numbers and a stable softmax.

LaTeX and answer text live in problems.fmt.

No family lives here; the registry imports this module like the others and finds nothing to register.
"""

from __future__ import annotations

import numpy as np


def decimals(
    rng: np.random.Generator, low: float, high: float, size: int | tuple[int, ...], places: int = 1
) -> np.ndarray:
    """Numbers with `places` decimals in [low, high]: what a hand calculation wants."""
    scale = 10**places
    return rng.integers(round(low * scale), round(high * scale) + 1, size=size) / scale


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Softmax of every row, shifted by the row maximum so that exp never overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log softmax of every row, computed as z - logsumexp(z) (exact even when a probability underflows)."""
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
