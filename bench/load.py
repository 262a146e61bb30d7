"""Bounded load test on loopback: simulated students against `dlgrader serve --workers 2`.

Each student opens a practice page, poses an instance, checks answers (some expressions,
a few deliberately slow ones) with an Idempotency-Key, thinks, and repeats. Afterwards every
acknowledged attempt is looked up in the database: it must be there exactly once.
Optional faults: kill one server worker mid-run (--kill-worker), stop PostgreSQL for a few
seconds (--stop-postgres). Traffic goes to 127.0.0.1 only; the run stops by itself.

    python -m bench.load --db sqlite --students 300 --seconds 60
    python -m bench.load --db postgres --students 300 --seconds 60 --kill-worker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/load.py` as well as `python -m bench.load`
    sys.path.insert(0, str(ROOT))

from bench.http_bench import _free_port, migrate  # noqa: E402

SLOW = "+".join(f"sin(x^{k})*cos(x^{k + 1})" for k in range(1, 40))  # long, but within the grader's limits


def _make_users(db_url: str, n: int) -> list[str]:
    from app.db import make_engine, make_session_factory
    from app.services import users

    engine = make_engine(db_url)
    tokens = []
    with make_session_factory(engine)() as s:
        for i in range(n):
            u = users.create_user(s, name=f"load{i:04d}", role="student")
            tokens.append(users.create_token(s, user=u))
        s.commit()
    engine.dispose()
    return tokens


def start_server(db_url: str, port: int, log_path: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    """`dlgrader serve` on loopback; its stderr goes to a file (an unread pipe fills up and stalls the
    server once a fault makes it log a warning per request)."""
    env = {**os.environ, "DLGRADER_DATABASE_URL": db_url, "DLGRADER_SECRET_KEY": "bench"}
    exe = str(Path(sys.executable).parent / "dlgrader")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--quiet"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    # Generous: on a shared 2-core machine the two workers' imports and warm-up took 48 s once.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become healthy in 180 s")


def server_workers(pid: int) -> list[int]:
    """The uvicorn worker processes of a server (children started by multiprocessing's spawn_main;
    not its resource tracker)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    workers = []
    for k in kids:
        try:
            cmdline = Path(f"/proc/{k}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(int(k))
    return workers


def tree_cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its live descendants (server, uvicorn workers, grading pools)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        kids = subprocess.run(["pgrep", "-P", str(p)], capture_output=True, text=True).stdout.split()
        todo.extend(int(k) for k in kids)
    return total


class Stats:
    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.acked: dict[str, int] = {}  # idempotency key -> attempt id acknowledged by the server
        self.t0 = time.monotonic()
        # 5-second windows: requests answered 2xx/3xx, 503, other statuses, connection errors.
        self.timeline: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.samples: dict[int, str] = {}  # one body per error status, to show what the client was told

    def add(self, name: str, dt: float, code: int, body: str = "") -> None:
        self.lat[name].append(dt)
        self.status[name][code] += 1
        kind = "ok" if code < 400 else "503" if code == 503 else "conn" if code == 599 else "other"
        self.timeline[int((time.monotonic() - self.t0) // 5)][kind] += 1
        if code >= 400 and code not in self.samples and body:
            self.samples[code] = body[:200]


async def student(
    client: aiohttp.ClientSession,
    token: str,
    families: list[str],
    stop: float,
    st: Stats,
    rng: random.Random,
    think: tuple[float, float],
    ramp: float,
) -> None:
    h = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, ramp))  # a class logs in over some seconds, not in one instant
    while time.monotonic() < stop:
        fam = rng.choice(families)
        try:
            t0 = time.perf_counter()
            async with client.get(f"/practice/{fam}", headers=h) as r:  # follows the redirect to ?i=
                st.add("GET /practice page", time.perf_counter() - t0, r.status, await r.text())
            t0 = time.perf_counter()
            async with client.post(
                "/api/v1/instances", json={"problem": fam, "seed": rng.randrange(10**9)}, headers=h
            ) as r:
                text = await r.text()
                st.add("POST /instances", time.perf_counter() - t0, r.status, text)
                if r.status != 201:
                    await asyncio.sleep(0.5)
                    continue
                inst = json.loads(text)
            answers = {}
            slow = False
            for p in inst["parts"]:
                kind = rng.random()
                if p["answer_type"] == "expression":
                    slow = slow or kind < 0.05
                    answers[p["name"]] = SLOW if kind < 0.05 else "2*x + 1"
                elif p["answer_type"] in ("vector", "matrix", "shape"):
                    answers[p["name"]] = "[1, 2, 3]"
                elif p["answer_type"] == "choice":
                    answers[p["name"]] = rng.choice("ABCD")
                else:
                    answers[p["name"]] = rng.choice(
                        ["0.5", "ln(5)", "32*(3*3*3+1)", "1/4", "sqrt(e)/(3*sqrt(e)+1)"]
                    )
            key = uuid.uuid4().hex
            name = "POST /check (slow expr)" if slow else "POST /check"
            for attempt in range(3):  # retry like a flaky phone would; the key makes it count once
                t0 = time.perf_counter()
                try:
                    async with client.post(
                        f"/api/v1/instances/{inst['id']}/check",
                        json={"answers": answers},
                        headers={**h, "Idempotency-Key": key},
                    ) as r:
                        text = await r.text()
                except (TimeoutError, aiohttp.ClientError) as exc:
                    st.add(name, time.perf_counter() - t0, 599, type(exc).__name__)
                    await asyncio.sleep(0.5)
                    continue
                st.add(name, time.perf_counter() - t0, r.status, text)
                if r.status == 200:
                    st.acked[key] = json.loads(text)["attempt_id"]
                    break
                await asyncio.sleep(0.5 * (attempt + 1))
        # A page or a pose failed (the check loop catches its own).
        except (TimeoutError, aiohttp.ClientError) as exc:
            st.add(f"failed: {type(exc).__name__}", 0.0, 599, type(exc).__name__)
        await asyncio.sleep(rng.uniform(*think))  # reading the question, typing the answer


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def verify(db_url: str, st: Stats) -> tuple[int, int, int]:
    """Every acknowledged attempt is stored exactly once: (acknowledged, found, duplicates)."""
    from sqlalchemy import func, select

    from app.db import make_engine, make_session_factory
    from app.models import Attempt

    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        keys = list(st.acked)
        found = dupes = 0
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows = s.execute(
                select(Attempt.idempotency_key, func.count(), func.min(Attempt.id))
                .where(Attempt.idempotency_key.in_(chunk))
                .group_by(Attempt.idempotency_key)
            ).all()
            for key, count, aid in rows:
                found += 1
                dupes += count - 1
                if st.acked[key] != aid:
                    dupes += 1
    engine.dispose()
    return len(keys), found, dupes


async def run(base: str, tokens: list[str], seconds: float, st: Stats, faults, think) -> None:  # type: ignore[no-untyped-def]
    families = [
        p["id"]
        for p in httpx.get(f"{base}/api/v1/problems", timeout=30).json()
        if not p["id"].startswith(("custom.", "concept.short"))
    ]
    stop = time.monotonic() + seconds
    # One connection per student, like one browser each: a smaller client pool would queue requests in
    # the load generator and count that wait as server latency. aiohttp, not httpx: httpx's async
    # client spent ~6 ms of CPU a request, on the same two cores as the server it measures.
    connector = aiohttp.TCPConnector(limit=len(tokens) + 10)
    ramp = min(10.0, seconds / 6)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:
        tasks = [
            asyncio.create_task(student(client, t, families, stop, st, random.Random(i), think, ramp))
            for i, t in enumerate(tokens)
        ]
        fault_tasks = [asyncio.create_task(f()) for f in faults]
        # Stop by itself: a student still inside a request or a retry at the deadline gets a short grace,
        # then is cancelled (an answer without a response is not acknowledged, so nothing is miscounted).
        await asyncio.wait(tasks, timeout=seconds + 20)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*fault_tasks)  # a fault always ends (PostgreSQL is started again)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument(
        "--kill-worker", action="store_true", help="SIGKILL one server worker a third of the way in"
    )
    ap.add_argument(
        "--stop-postgres", type=float, default=0, help="stop PostgreSQL for this many seconds mid-run"
    )
    ap.add_argument(
        "--think",
        default="3,10",
        help="seconds a student spends between questions, MIN,MAX (reading and typing); default 3,10",
    )
    args = ap.parse_args()
    think = tuple(float(x) for x in args.think.split(","))
    assert len(think) == 2 and 0 <= think[0] <= think[1], "--think MIN,MAX"
    args.seconds = min(args.seconds, 300)  # bounded, whatever is asked

    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.db == "sqlite":
            db_url = f"sqlite:///{tmp}/load.db"
        else:
            import psycopg

            schema = f"load_{uuid.uuid4().hex[:8]}"
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
                c.execute(f'CREATE SCHEMA "{schema}"')
            db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        migrate(db_url)
        tokens = _make_users(db_url, args.students)
        port = _free_port()
        log_path = Path(tmp) / "server.log"
        proc = start_server(db_url, port, log_path, workers=2)
        st = Stats()
        faults = []
        if args.kill_worker:

            async def kill() -> None:
                await asyncio.sleep(args.seconds / 3)
                workers = server_workers(proc.pid)
                if not workers:
                    print("kill-worker: no server worker found")
                    return
                os.kill(workers[-1], signal.SIGKILL)
                print(f"killed server worker {workers[-1]} (of {workers}) at t={args.seconds / 3:.0f}s")
                await asyncio.sleep(min(10.0, args.seconds / 3))
                print(f"server workers 10 s later: {server_workers(proc.pid)}")

            faults.append(kill)
        if args.stop_postgres and args.db == "postgres":

            async def pg_outage() -> None:
                await asyncio.sleep(args.seconds / 2)
                ver = os.listdir("/etc/postgresql")[0]
                ctl = ["pg_ctlcluster", "--skip-systemctl-redirect", ver, "main"]
                subprocess.run([*ctl, "stop", "-m", "fast"], check=False)
                print(f"PostgreSQL stopped at t={args.seconds / 2:.0f}s")
                try:
                    await asyncio.sleep(args.stop_postgres)
                finally:  # whatever happens, the server other people's tests use comes back
                    subprocess.run([*ctl, "start"], check=False)
                    print(f"PostgreSQL started again after {args.stop_postgres:.0f}s")

            faults.append(pg_outage)
        cpu0 = tree_cpu_seconds(proc.pid)
        t0 = time.monotonic()
        try:
            asyncio.run(run(f"http://127.0.0.1:{port}", tokens, args.seconds, st, faults, think))
        finally:
            elapsed = time.monotonic() - t0
            server_cpu = tree_cpu_seconds(proc.pid) - cpu0
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            if args.stop_postgres and args.db == "postgres":  # idempotent: make sure it is up again
                ver = os.listdir("/etc/postgresql")[0]
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", ver, "main", "start"],
                    check=False,
                    capture_output=True,
                )
        print(f"\n{args.students} students, {elapsed:.0f} s, database {args.db}, server workers 2")
        # The figures depend on what else runs on the machine: say how busy it was.
        print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f} (1 min)")
        print(f"{'endpoint':24s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses")
        for name, lat in sorted(st.lat.items()):
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(st.status[name].items()))
            print(
                f"{name:24s} {len(lat) / elapsed:8.1f} {_pct(lat, 0.5):8.1f} {_pct(lat, 0.99):8.1f}  {codes}"
            )
        print("timeline (5 s windows; ok / 503 / other errors / connection errors):")
        print(
            "  "
            + " | ".join(
                f"{w * 5}s {c['ok']}/{c['503']}/{c['other']}/{c['conn']}"
                for w, c in sorted(st.timeline.items())
            )
        )
        for code, body in sorted(st.samples.items()):
            print(f"  a {code} said: {body!r}")
        # CPU per request is what the figures mean on an idle machine: the latencies above also hold the
        # wait for a core on a shared one.
        answered = sum(n for codes in st.status.values() for c, n in codes.items() if c != 599)
        print(
            f"server CPU: {server_cpu:.0f} s for {answered} answered requests = "
            f"{1000 * server_cpu / max(answered, 1):.0f} ms per request ({server_cpu / elapsed:.2f} cores busy)"
        )
        log_lines = log_path.read_text(errors="replace").splitlines()
        print(f"server log: {len(log_lines)} lines; last: {log_lines[-1][:160] if log_lines else '-'}")
        acked, found, dupes = verify(db_url, st)
        print(
            f"acknowledged attempts: {acked}; found in the database: {found}; duplicates or mismatches: {dupes}"
        )
        if schema:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if found != acked or dupes:
            raise SystemExit("LOST OR DUPLICATED ATTEMPTS")


if __name__ == "__main__":
    main()
