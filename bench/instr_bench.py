"""Instructions per request, counted by valgrind's callgrind: GET /healthz, an anonymous POST .../check
and a known user's (its attempt stored), through the whole ASGI app in one process.

Why: the HTTP benchmark's throughput drifts by tens of percent from one minute to the next on these
machines (other work on the host), so a change of a few percent cannot be seen there. An instruction
count repeats to within about 1 % whatever else the machine does, so two commits can be compared
(run this in each). No sockets and no HTTP parsing are counted, grading is inline (no pool), and
the same mix of answers as bench.http_bench is sent, 16 requests at a time.

The driver runs under valgrind with instrumentation off; for each phase this process turns it on
with callgrind_control, lets the driver send its requests, turns it off and dumps the count.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.http_bench import ROOT, create_user, make_check_mix, migrate

REQUESTS = int(os.environ.get("BENCH_INSTR_REQUESTS", "300"))  # per phase; ~1 min in all
CONCURRENCY = 16
PHASES = ("GET /healthz", "POST /check, anonymous", "POST /check, known user")


def main() -> None:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed: instruction counts skipped (Debian: apt-get install valgrind)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/instr.db"
        env = {**os.environ, "DLGRADER_DATABASE_URL": db_url}
        migrate(db_url)
        tokens = [create_user(db_url, "instr_ta", "ta"), create_user(db_url, "instr_student", "student")]
        out = f"{tmp}/callgrind.out"
        driver = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
            + [sys.executable, "-m", "bench.instr_bench", "--drive", db_url, *tokens],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert driver.stdin is not None and driver.stdout is not None
        counts: dict[str, float] = {}
        try:
            for line in driver.stdout:  # the driver says READY <phase> before each phase, DONE after
                word, _, phase = line.strip().partition(" ")
                if word == "READY":
                    _control(driver.pid, "-i", "on")
                    time.sleep(1)  # callgrind takes the command at its next poll
                    driver.stdin.write("go\n")
                    driver.stdin.flush()
                elif word == "DONE":
                    _control(driver.pid, "-i", "off")
                    _control(driver.pid, "-d", phase.replace(" ", "_"))
                    counts[phase] = _dumped_total(out) / REQUESTS
                    driver.stdin.write("next\n")
                    driver.stdin.flush()
                elif word == "ERROR":
                    raise RuntimeError(line.strip())
        finally:
            driver.stdin.close()
            driver.wait(timeout=120)
        if len(counts) < len(PHASES):
            raise RuntimeError(f"the driver stopped after {len(counts)} of {len(PHASES)} phases")
    health = counts.get(PHASES[0])
    for phase in PHASES:
        if phase in counts:
            rel = f"  ({counts[phase] / health:.2f}x health)" if health else ""
            print(f"{phase:26s} {counts[phase] / 1e6:6.2f} M instructions/request{rel}")
    if health and PHASES[2] in counts:
        print(
            f"health/check instruction ratio: {health / counts[PHASES[2]]:.2f} "
            f"({REQUESTS} requests per phase, {CONCURRENCY} at a time, grading inline, SQLite)"
        )


def _control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=60)


def _dumped_total(out: str) -> float:
    """The count in the newest dump: callgrind writes each to <out>.<n>, counting from the last."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dumps = sorted(Path(out).parent.glob(Path(out).name + ".*"), key=lambda p: int(p.suffix[1:]))
        if dumps:
            found = re.search(r"^totals: (\d+)", dumps[-1].read_text(), re.M)
            if found:
                return float(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


def drive(db_url: str, ta: str, student: str) -> None:
    """Under valgrind: pose the mix (instrumentation off), then send each phase's requests when told."""
    import uvloop
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=db_url, secret_key="instr-bench", grading_workers=0))
    with TestClient(app, headers={"Authorization": f"Bearer {ta}"}) as c:
        mix = [(iid, json.dumps({"answers": a}).encode()) for iid, a in make_check_mix(c)]

    async def call(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers + [(b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # the client never disconnects
            return {"type": "http.disconnect"}

        status = 0

        async def send(message: dict[str, object]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])  # type: ignore[call-overload]

        await app(scope, receive, send)
        return status

    json_type = [(b"content-type", b"application/json")]
    known = [(b"authorization", f"Bearer {student}".encode()), *json_type]

    def request(phase: str, i: int):  # type: ignore[no-untyped-def]
        if phase == PHASES[0]:
            return call("GET", "/healthz", [])
        iid, body = mix[i % len(mix)]
        return call(
            "POST", f"/api/v1/instances/{iid}/check", known if phase == PHASES[2] else json_type, body
        )

    async def run() -> None:
        async with app.router.lifespan_context(app):
            # Each answer of the mix checked once, uncounted: the grader's caches (references read,
            # expressions compared) fill in the first phase that checks, which made the anonymous
            # phase the dearer one (5.5 M against 4.9 M for the known user's, who also stores an
            # attempt) and the health/check ratio a measure of cold caches.
            warm = [await request(PHASES[1], i) for i in range(len(mix))]
            if any(s >= 400 for s in warm):
                print(f"ERROR warm-up: statuses {sorted(set(warm))}", flush=True)
                return
            for phase in PHASES:
                print(f"READY {phase}", flush=True)
                sys.stdin.readline()
                statuses: list[int] = []

                async def client(k: int, phase: str = phase, statuses: list[int] = statuses) -> None:
                    for i in range(k, REQUESTS, CONCURRENCY):
                        statuses.append(await request(phase, i))

                await asyncio.gather(*(client(k) for k in range(CONCURRENCY)))
                if any(s >= 400 for s in statuses):
                    print(f"ERROR {phase}: statuses {sorted(set(statuses))}", flush=True)
                    return
                print(f"DONE {phase}", flush=True)
                sys.stdin.readline()

    uvloop.run(run())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--drive"]:
        drive(*sys.argv[2:5])
    else:
        main()
