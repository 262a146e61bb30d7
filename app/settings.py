"""Configuration from the environment (DLGRADER_*); injected, never read as a global."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DLGRADER_", extra="ignore")

    database_url: str = "sqlite:///./dlgrader.db"
    # Signs session cookies and CSRF tokens. Left empty, a random key is kept in
    # `secret_key_file` so that every worker process and every restart agree on it.
    secret_key: str = ""
    secret_key_file: str = ".dlgrader-secret"
    # Hard wall-clock bound for one check: a cooperative deadline for plain numbers graded in the
    # request thread, and killing the worker process for everything else (app/services/grading.py).
    check_timeout: float = 1.0
    # Grading worker processes per server process; 0 grades in the request thread (tests).
    grading_workers: int = 2
    # Request threads per server process (the database and template work of a request). Few are
    # best: requests are CPU work under one GIL, and 40 threads (AnyIO's default) cost a check
    # 3.7 ms of CPU against 2.1 ms with 4 at 32 clients, and 1 s of p99 against 0.1 s
    # (bench.http_bench, one worker). Waits for the grading pool hold no thread.
    threads: int = Field(default=4, ge=1, le=256)
    # How long POST .../check remembers whom an API token belongs to (0: it asks the database each
    # time). Only that route, where a token grants nothing an anonymous caller lacks; a token revoked
    # in another worker process still has its checks recorded for up to this long (users.CheckCallers).
    check_caller_seconds: float = Field(default=10.0, ge=0, le=300)
    # Cookies marked Secure (set true behind HTTPS).
    secure_cookies: bool = False
    # Failed logins allowed per name and client address per minute.
    login_attempts_per_minute: int = 10
    # Largest request body accepted, in bytes (CSV uploads of a whole class fit easily).
    max_body_bytes: int = Field(default=2_000_000, ge=10_000)
    # Open self-registration with this course code (empty: closed).
    registration_code: str = ""
    # The course's clock: the exam builder page reads open and due times in it (China: UTC+8, no DST).
    course_utc_offset_hours: float = Field(default=8.0, ge=-12, le=14)

    def resolved_secret_key(self) -> str:
        """Return the configured key, or the one kept on disk (created on first use).

        Workers start together, so the file is written under a private name and linked into place:
        a link never replaces an existing file, and nobody ever reads a half-written key.
        """
        if self.secret_key:
            return self.secret_key
        path = Path(self.secret_key_file)
        try:
            return _read_key(path)
        except FileNotFoundError:
            pass
        key = secrets.token_urlsafe(48)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:
            return _read_key(path)  # another worker won the race: everyone uses its key
        finally:
            tmp.unlink(missing_ok=True)
        return key


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"the secret key file {path} is empty: delete it or set DLGRADER_SECRET_KEY")
    return key


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings (read once from the environment)."""
    return Settings()
