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
    # Hard wall-clock bound for one check, enforced by killing the worker process.
    check_timeout: float = 1.0
    # Grading worker processes per server process; 0 grades in the request thread (tests).
    grading_workers: int = 2
    # Cookies marked Secure (set true behind HTTPS).
    secure_cookies: bool = False
    # Failed logins allowed per name and client address per minute.
    login_attempts_per_minute: int = 10
    # Largest request body accepted, in bytes (CSV uploads of a whole class fit easily).
    max_body_bytes: int = Field(default=2_000_000, ge=10_000)
    # Open self-registration with this course code (empty: closed).
    registration_code: str = ""

    def resolved_secret_key(self) -> str:
        """Return the configured key, or the one kept on disk (created on first use)."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.secret_key_file)
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            key = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(key)
            return key
        except FileExistsError:  # pragma: no cover - another worker won the race
            return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings (read once from the environment)."""
    return Settings()
