"""HTTP benchmark on loopback: a real `dlgrader serve --workers 2`, POST .../check (a realistic mix) vs GET /healthz.

Prints requests/s and p50/p99 latency of both and their ratio (target: check >= 0.5x health).
Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
DURATION = float(os.environ.get("BENCH_SECONDS", "12"))  # per endpoint, over all rounds
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
RAMP = 0.005  # s between two clients' first connections


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DLGRADER_DATABASE_URL": db_url, "DLGRADER_SECRET_KEY": "bench"}
    exe = str(Path(sys.executable).parent / "dlgrader")
    # The server's log goes to a file: a pipe nobody reads fills up, and a worker that then logs
    # an error blocks in write() and never exits (seen: the bench hung at the end).
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--workers", str(workers), "--quiet"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become healthy in 60 s")


def migrate(db_url: str) -> None:
    """A fresh database at `db_url`, migrated by the CLI as `make run` does."""
    subprocess.run(
        [str(Path(sys.executable).parent / "dlgrader"), "migrate"],
        cwd=ROOT,
        env={**os.environ, "DLGRADER_DATABASE_URL": db_url},
        check=True,
        capture_output=True,
    )


def create_user(db_url: str, name: str, role: str) -> str:
    env = {**os.environ, "DLGRADER_DATABASE_URL": db_url}
    exe = str(Path(sys.executable).parent / "dlgrader")
    out = subprocess.run(
        [exe, "create-user", name, "--role", role],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def make_check_mix(c: httpx.Client, n_instances: int = 60, seed: int = 1) -> list[tuple[str, dict[str, str]]]:
    """Pose instances across families; answers: right, slightly off, wrong, and unreadable.
    `c` sends a TA's token (a client of the served app, or a TestClient of it: bench.instr_bench)."""
    rng = random.Random(seed)
    families = [p["id"] for p in c.get("/api/v1/problems").json() if not p["id"].startswith("concept.short")]
    mix = []
    for i in range(n_instances):
        fam = families[i % len(families)]
        inst = c.post("/api/v1/instances", json={"problem": fam, "seed": rng.randrange(10**6)}).json()
        sol = c.get(f"/api/v1/instances/{inst['id']}/solution").json()["answers"]
        kind = rng.random()
        if kind < 0.6:
            answers = dict(sol)
        elif kind < 0.85:
            answers = {k: "0" for k in sol}
        else:
            answers = {k: v + ")(" for k, v in sol.items()}
        mix.append((inst["id"], answers))
    return mix


async def _run(base: str, make_request, duration: float) -> tuple[int, list[float], int]:  # type: ignore[no-untyped-def]
    """Closed-loop load: CONCURRENCY clients, each sends its next request when the last one is answered.

    aiohttp, not httpx: httpx's async client spent ~6 ms of CPU per request on this machine, more than
    the server did, so it measured itself; aiohttp spends a small fraction of that.
    """
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + duration
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:

        async def worker(wid: int) -> None:
            nonlocal errors
            i = wid
            # The clients start RAMP apart (over CONCURRENCY * RAMP s), as load ramps up in use, so
            # their connections open one after another. All at once, one uvicorn worker accepted
            # every connection (the workers share one listening socket, and the first one woken
            # accepts all that are queued): a round then measured one core, and a third of the rounds
            # did (the CPU split printed below; docs/deploy.md). The ramp's idle client time counts
            # in the round: both endpoints' req/s come out ~2 % low, their ratio the same.
            await asyncio.sleep(wid * RAMP)
            while time.monotonic() < stop:
                method, url, kwargs = make_request(i)
                t0 = time.perf_counter()
                try:
                    async with client.request(method, url, **kwargs) as r:
                        await r.read()
                        if r.status >= 500:
                            errors += 1
                except (TimeoutError, aiohttp.ClientError):  # counted, not fatal: the figure must still print
                    errors += 1
                latencies.append(time.perf_counter() - t0)
                i += CONCURRENCY

        await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    return len(latencies), latencies, errors


def worker_cpu_seconds(proc: subprocess.Popen[bytes]) -> list[float]:
    """CPU time so far of each uvicorn worker with its grading pool (the pool's processes are its
    children), in a fixed order: the figures per round show how evenly the kernel spread the load."""
    totals = []
    for worker in sorted(psutil.Process(proc.pid).children(), key=lambda p: p.pid):
        if "spawn_main" not in " ".join(worker.cmdline()):
            continue  # the resource tracker
        total = 0.0
        for p in [worker, *worker.children(recursive=True)]:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
        totals.append(total)
    return totals


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def main() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.db"
        migrate(db_url)
        ta = create_user(db_url, "bench_ta", "ta")
        student = create_user(db_url, "bench_student", "student")
        proc = start_server(db_url, port)
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ta}"}, timeout=30) as c:
                mix = make_check_mix(c)
            sh = {"Authorization": f"Bearer {student}"}

            def health(i: int):  # type: ignore[no-untyped-def]
                return "GET", "/healthz", {}

            def check(i: int):  # type: ignore[no-untyped-def]
                iid, answers = mix[i % len(mix)]
                return "POST", f"/api/v1/instances/{iid}/check", {"json": {"answers": answers}, "headers": sh}

            asyncio.run(_run(base, health, 1.0))  # warm up both paths
            asyncio.run(_run(base, check, 1.0))
            # Alternating rounds, medians reported: this machine's speed drifts by tens of percent
            # from one minute to the next, and both endpoints should see the same drift.
            rounds: dict[str, list[tuple[float, float, float, float, int, int, list[float]]]] = {
                "GET /healthz": [],
                "POST /check": [],
            }
            for _ in range(ROUNDS):
                for name, fn in (("GET /healthz", health), ("POST /check", check)):
                    cpu0 = worker_cpu_seconds(proc)
                    n, lat, errs = asyncio.run(_run(base, fn, DURATION / ROUNDS))
                    spent = [b - a for a, b in zip(cpu0, worker_cpu_seconds(proc), strict=False)]
                    rounds[name].append(
                        (
                            n / (DURATION / ROUNDS),
                            _pct(lat, 0.5),
                            _pct(lat, 0.99),
                            sum(spent) / max(n, 1) * 1000,
                            errs,
                            n,
                            [x / max(sum(spent), 1e-9) for x in spent[:2]],
                        )
                    )
            results = {}
            for name, rs in rounds.items():
                med = [statistics.median(r[i] for r in rs) for i in range(4)]
                results[name] = med[0]
                split = " / ".join(f"{100 * r[6][0]:.0f}:{100 * r[6][1]:.0f}" for r in rs if len(r[6]) == 2)
                print(
                    f"{name:14s} {med[0]:8.0f} req/s  p50 {med[1]:6.1f} ms  p99 {med[2]:6.1f} ms  "
                    f"server CPU {med[3]:5.2f} ms/req  5xx/timeouts {sum(r[4] for r in rs)}  "
                    f"(medians of {ROUNDS} rounds, n={sum(r[5] for r in rs)}, concurrency {CONCURRENCY}; "
                    f"CPU split between the 2 workers per round: {split})"
                )
            ratio = results["POST /check"] / results["GET /healthz"]
            print(
                f"check/health throughput ratio: {ratio:.2f} (target >= 0.5); attempts recorded per check (known user)"
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
