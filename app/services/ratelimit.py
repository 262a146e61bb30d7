"""A small in-process limiter of failed logins (per name and client address)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from app.services.errors import TooManyRequests


class LoginLimiter:
    """Refuse a key after `limit` failures within `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def check(self, key: str) -> None:
        with self._lock:
            if len(self._prune(key, time.monotonic())) >= self.limit:
                raise TooManyRequests("too many failed logins; wait a minute and try again")

    def fail(self, key: str) -> None:
        with self._lock:
            self._prune(key, time.monotonic()).append(time.monotonic())
            if len(self._fails) > 100_000:  # bound memory under a spray of names
                self._fails.clear()
