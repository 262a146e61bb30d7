"""Accounts, passwords (Argon2) and API tokens (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.models import ApiToken, User
from app.models.user import ROLES
from app.services.csvtext import rows_with_lines
from app.services.errors import Conflict, Invalid, NotFound, Said, say

_hasher = PasswordHasher()
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# Verifying against a fixed hash keeps the time of a login for an unknown name
# the same as for a known one (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-password")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.fullmatch(name):
        raise Invalid(
            "name: 1-64 letters A-Z a-z, digits or _ . @ - (a login name such as a student id; "
            "a Chinese name goes in the display name)",
            field="name",
        )
    return name


def create_user(
    session: Session,
    *,
    name: str,
    role: str = "student",
    password: str | None = None,
    display_name: str = "",
) -> User:
    """Create an account; the name is unique."""
    name = validate_name(name)
    if role not in ROLES:
        raise Invalid(f"role: one of {', '.join(ROLES)}", field="role")
    if password is not None and not (8 <= len(password) <= 256):
        raise Invalid("password: 8 to 256 characters", field="password")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} exists", field="name")
    user = User(
        name=name,
        role=role,
        display_name=display_name.strip()[:128],
        password_hash=_hasher.hash(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_name(session: Session, name: str) -> User:
    # no name holds NUL, and PostgreSQL refuses even to look one up (a 422, not the 404)
    user = session.scalar(select(User).where(User.name == name)) if "\x00" not in name else None
    if user is None:
        raise NotFound(f"no user {name!r}", field="user")
    return user


def authenticate(session: Session, *, name: str, password: str) -> User | None:
    """Return the user if the password is right, else None (same work either way)."""
    # No name holds NUL (PostgreSQL refuses even to look one up): the same "wrong name or password"
    user = session.scalar(select(User).where(User.name == name.strip())) if "\x00" not in name else None
    stored = user.password_hash if user is not None and user.active and user.password_hash else _DUMMY_HASH
    try:
        ok: bool = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or stored is _DUMMY_HASH:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    if not (8 <= len(password) <= 256):
        raise Invalid("password: 8 to 256 characters", field="password")
    user.password_hash = _hasher.hash(password)


def create_token(session: Session, *, user: User, label: str = "") -> str:
    """Issue a new API token; the caller shows it once, only its hash is kept."""
    token = "dlg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), label=label[:64]))
    session.flush()
    return token


# Built once: every API call runs it, and building the statement cost as much as running it
# (0.24 -> 0.14 ms per call, SQLite, measured).
_USER_FOR_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user a live token belongs to, or None."""
    if not token.startswith("dlg_") or len(token) > 100:
        return None
    user = session.scalar(_USER_FOR_TOKEN, {"token_hash": _hash_token(token)})
    if user is None or not user.active:
        return None
    return user


class CheckCallers:
    """Who a live API token belongs to, remembered for `ttl` seconds: for POST .../check only.

    Why there: a check is open to anonymous callers, so a token grants nothing on that route; it
    only names whose attempt is recorded. Looking the token up was an eighth of a known caller's
    check (0.53 of 4.58 M instructions, bench.instr_bench), and a TA's script or a class of students
    sends the same token check after check.

    What a revocation costs: in this process none, since a commit through the ORM that changed a
    user or a token forgets every caller (watch; a bulk UPDATE of those tables would have to call
    forget() itself: none exists); in another worker process or app server the token still has its
    checks recorded for up to `ttl` seconds, and nothing else: every other route reads the token
    from the database each time. What is kept is a copy attached to no session (no password hash),
    only read, as with the posed instances (instances.RecordCache).
    """

    def __init__(self, ttl: float, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._callers: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by every forget(): a lookup that read the database before a revocation committed
        # must not be kept after it (put() compares the generation its caller began with).
        self.generation = 0

    def get(self, token: str) -> User | None:
        if self.ttl <= 0:
            return None
        key = _hash_token(token)
        with self._lock:
            hit = self._callers.get(key)
            if hit is None:
                return None
            if hit[0] <= self.clock():
                del self._callers[key]
                return None
            return hit[1]

    def put(self, token: str, user: User, generation: int) -> None:
        if self.ttl <= 0:
            return
        copy = User(
            id=user.id,
            name=user.name,
            display_name=user.display_name,
            role=user.role,
            active=user.active,
            lang=user.lang,
            created_at=user.created_at,
        )
        with self._lock:
            if generation != self.generation:
                return
            self._callers[_hash_token(token)] = (self.clock() + self.ttl, copy)
            while len(self._callers) > self.size:
                self._callers.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._callers.clear()

    def watch(self, factory: sessionmaker[Session]) -> None:
        """Forget every caller when a session of `factory` commits a change to a user or a token
        (a revocation, a role, a deactivation; over-forgetting costs one lookup per token)."""

        def flushed(session: Session, _context: object) -> None:
            changed = (*session.dirty, *session.deleted)  # a new token or user changes no one's
            if any(isinstance(o, User | ApiToken) for o in changed):
                session.info["callers_changed"] = True
                self.forget()  # now too: a lookup racing the commit must not be kept

        def committed(session: Session) -> None:
            if session.info.pop("callers_changed", False):
                self.forget()

        event.listen(factory, "after_flush", flushed)
        event.listen(factory, "after_commit", committed)


def revoke_token(
    session: Session, *, user: User, token: str | None = None, token_id: int | None = None
) -> int:
    """Revoke one token (by value or id) or, with neither, every token of the user; return the count."""
    q = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token is not None:
        q = q.where(ApiToken.token_hash == _hash_token(token))
    if token_id is not None:
        q = q.where(ApiToken.id == token_id)
    rows = list(session.scalars(q))
    for t in rows:
        t.revoked_at = utcnow()
    return len(rows)


def names_by_id(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


# A roster's errors, said on the instructor's page in its language (the English as it always was).
_ROSTER = {
    "bad_id": {
        "zh": "第 {n} 行：学号 {sid} 只能由 1–64 个字母、数字或 _ . @ - 组成",
        "en": "line {n}: student id {sid} must be 1-64 letters, digits or _ . @ -",
    },
    "twice": {"zh": "第 {n} 行：学号 {sid} 出现了两次", "en": "line {n}: student id {sid} appears twice"},
    "exists": {
        "zh": "第 {n} 行：学号 {sid} 已有账号",
        "en": "line {n}: student id {sid} already has an account",
    },
    "empty": {
        "zh": "名单中没有学生（两列：学号, 姓名）",
        "en": "roster: no students found (columns: student id, name)",
    },
}


def import_roster(session: Session, csv_text: str) -> list[tuple[str, str, str]]:
    """Create student accounts from a CSV roster (student id, name); all or nothing.

    Returns (student id, name, initial password) per new student; the passwords are shown
    once to the instructor. A header row is recognised and skipped; a student id that
    exists already is an error naming its line, so nothing is half-applied.
    """
    rows = rows_with_lines(csv_text, field="roster")
    if (
        rows
        and rows[0][1]
        and rows[0][1][0].strip().lower() in ("student id", "student_id", "id", "学号", "name")
    ):
        rows = rows[1:]
    errors: list[Said] = []
    seen: set[str] = set()
    plan: list[tuple[str, str]] = []
    for n, row in rows:
        if not row or not any(c.strip() for c in row):
            continue
        sid = row[0].strip()
        display = row[1].strip() if len(row) > 1 else ""
        if not NAME_RE.fullmatch(sid):
            errors.append(say(_ROSTER["bad_id"], n=n, sid=repr(sid)))
        elif sid in seen:
            errors.append(say(_ROSTER["twice"], n=n, sid=repr(sid)))
        elif session.scalar(select(User.id).where(User.name == sid)) is not None:
            errors.append(say(_ROSTER["exists"], n=n, sid=repr(sid)))
        seen.add(sid)
        plan.append((sid, display[:128]))
    if errors:
        raise Invalid.of(errors, field="roster")
    if not plan:
        raise Invalid.of([_ROSTER["empty"]], field="roster")
    created = []
    for sid, display in plan:
        password = secrets.token_urlsafe(9)
        create_user(session, name=sid, role="student", password=password, display_name=display)
        created.append((sid, display, password))
    return created
