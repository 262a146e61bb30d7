"""The `dlgrader` command: serve, migrate, create-user, check-bank, export, import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    from app.settings import get_settings

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (database_url or get_settings().database_url).replace("%", "%%"))
    return cfg


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command

    command.upgrade(alembic_config(), "head")
    print("database at head")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    cmd_migrate(args)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning" if args.quiet else "info",
        access_log=not args.quiet,
    )
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from app.db import make_engine, make_session_factory
    from app.services import users
    from app.services.errors import ServiceError
    from app.settings import get_settings

    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    engine = make_engine(get_settings().database_url)
    with make_session_factory(engine)() as session:
        try:
            user = users.create_user(
                session, name=args.name, role=args.role, password=password, display_name=args.display_name
            )
            token = users.create_token(session, user=user, label="cli")
            session.commit()
        except ServiceError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
    print(f"created {args.role} {args.name}; API token (shown once):")
    print(token)
    return 0


def cmd_check_bank(args: argparse.Namespace) -> int:
    from problems import UnknownProblem
    from problems.checkbank import check_bank

    try:
        reports = check_bank(args.problem or None, seeds=args.seeds, jobs=args.jobs)
    except UnknownProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for r in reports:
        status = "ok" if not r.failures else f"FAILED ({len(r.failures)})"
        print(f"{r.problem:36s} seeds={r.seeds:4d} misconception checks={r.misconception_checks:5d} {status}")
        for line in r.failures[:10]:
            print(f"    {line}")
        failed += bool(r.failures)
    print(f"{len(reports)} families, {sum(r.seeds for r in reports)} instances, {failed} failing")
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.services.backup import export_jsonl
    from app.settings import get_settings

    out = open(args.output, "w", encoding="utf-8") if args.output != "-" else sys.stdout
    try:
        counts = export_jsonl(get_settings().database_url, out)
    finally:
        if out is not sys.stdout:
            out.close()
    print(", ".join(f"{v} {k}" for k, v in counts.items()), file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from app.services.backup import import_jsonl
    from app.settings import get_settings

    with open(args.input, encoding="utf-8") if args.input != "-" else sys.stdin as f:
        counts = import_jsonl(get_settings().database_url, f)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="dlgrader", description="DL Grader: problems, grading, practice and exams."
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="migrate the database, then serve HTTP")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--quiet", action="store_true", help="no access log")
    s.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(func=cmd_migrate)

    u = sub.add_parser("create-user", help="create an account; prints its API token on the last line")
    u.add_argument("name")
    u.add_argument("--role", choices=["student", "ta", "instructor"], default="student")
    u.add_argument(
        "--password-stdin", action="store_true", help="read a password from the first line of stdin"
    )
    u.add_argument("--display-name", default="", help="the name shown on pages and in grades, e.g. 张三")
    u.set_defaults(func=cmd_create_user)

    c = sub.add_parser("check-bank", help="self-test every problem family; non-zero exit on failure")
    c.add_argument("--seeds", type=_positive, default=200)
    c.add_argument("--problem", action="append", help="only this family (repeatable)")
    c.add_argument("--jobs", "-j", type=_positive, default=1, help="processes to share the families out to")
    c.set_defaults(func=cmd_check_bank)

    e = sub.add_parser(
        "export", help="write users, instances, attempts, exams and exam submissions as JSONL (a backup)"
    )
    e.add_argument("--output", "-o", default="-")
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("import", help="read a JSONL backup written by export (idempotent)")
    i.add_argument("input", nargs="?", default="-")
    i.set_defaults(func=cmd_import)

    args = p.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (OSError, ValueError) as exc:  # a file that cannot be read or written, a bad backup line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if not isinstance(exc, (OperationalError, ProgrammingError)):
            raise
        if "no such table" in str(exc) or "does not exist" in str(exc):
            print("error: the database has no tables yet: run `dlgrader migrate` first", file=sys.stderr)
        else:
            print(f"error: the database cannot be used: {exc.orig}", file=sys.stderr)
        return 2


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n}: must be at least 1")
    return n


if __name__ == "__main__":
    raise SystemExit(main())
