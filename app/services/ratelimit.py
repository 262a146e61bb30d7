"""A small in-process limiter of failed logins (per name and client address)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from app.services.errors import TooManyRequests

MESSAGE = "登录失败次数过多，请一分钟后再试。Too many failed logins; wait a minute and try again."


class LoginLimiter:
    """Refuse a key after `limit` failures within `window` seconds.

    Keys are kept in order of their last failure, so when a spray of names fills the table the
    keys dropped are the ones quiet longest: a name under attack stays locked however many other
    names are tried. Checking a key never adds it (a successful login costs no memory).
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def check(self, key: str) -> None:
        with self._lock:
            q = self._fails.get(key)
            if q is None:
                return
            if not self._prune(q, self._clock()):
                del self._fails[key]
            elif len(q) >= self.limit:
                raise TooManyRequests(MESSAGE)

    def fail(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            q = self._prune(self._fails.pop(key, deque()), now)
            q.append(now)
            self._fails[key] = q  # re-inserted: now the most recent
            while len(self._fails) > self.max_keys:
                self._fails.popitem(last=False)

    def __len__(self) -> int:
        return len(self._fails)
