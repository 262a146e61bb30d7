"""The grader on a fixed corpus of realistic answers: median and p99 per answer type, and the
expression corpus through naive `sympy.simplify(a - b) == 0` for comparison.

Targets (issue 2): numeric check <= 50 us median; expression <= 5 ms median and <= 50 ms p99;
nothing above 1 s. Run alone with `python -m bench.grader_bench`.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import sympy

from grader import AnswerSpec, check, read

Case = tuple[str, str]  # (answer, reference)

# Right answers and the usual slips, as students type them (references as families write them).
_EXPRESSIONS = [
    ("2*(y_hat - y)*a", "2*a*(y_hat - y)"),
    ("sigmoid(x)*(1-sigmoid(x))", "exp(-x)/(1+exp(-x))^2"),
    ("1/(1+exp(-2x))", "tanh(x)/2+1/2"),
    ("1 - tanh(x)^2", "4*exp(2x)/(exp(2x)+1)^2"),
    ("(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)", "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)"),
    ("0.5065*v1 + 0.3072*v2 + 0.1863*v3", "(e*v1 + sqrt(e)*v2 + v3)/(e + sqrt(e) + 1)"),
    ("ln(a*b)", "ln(a)+ln(b)"),
    ("sqrt(x^2)", "x"),
    ("2x+2", "2*(x+1)"),
    ("x*(1-x)", "x - x^2"),
    ("(x+1)^2", "x^2+2x+1"),
    ("exp(x)/(exp(x)+1)", "sigmoid(x)"),
    ("w*x + b", "b + x*w"),
    ("-2*(y - w*x - b)*x", "2*x*(w*x + b - y)"),
    ("max(0, x)", "max(x, 0)"),
]


def _expression_corpus(rng: random.Random) -> list[Case]:
    out: list[Case] = []
    for _ in range(300):
        answer, reference = rng.choice(_EXPRESSIONS)
        slip = rng.random()
        if slip < 0.15:
            answer = f"-({answer})"  # sign
        elif slip < 0.25:
            answer = f"2*({answer})"  # a forgotten 1/2
        elif slip < 0.35:
            answer = f"{answer} + 1"
        elif slip < 0.45:
            answer = answer.replace("x", "x^2", 1)
        out.append((answer, reference))
    return out


def _number_corpus(rng: random.Random) -> list[tuple[Case, str]]:
    out: list[tuple[Case, str]] = []
    for _ in range(400):
        c, k = rng.randint(1, 64), rng.choice([1, 3, 5])
        params = c * (k * k * 3 + 1)
        loss = sympy.log(rng.randint(2, 1000))
        kind = rng.random()
        if kind < 0.45:
            out.append(((str(params), str(params)), "integer"))
        elif kind < 0.55:
            out.append(((f"{params:,}", str(params)), "integer"))
        elif kind < 0.65:
            out.append(((f"{c}*({k}*{k}*3+1)", str(params)), "integer"))
        elif kind < 0.75:
            out.append(((str(2 * params), str(params)), "integer"))
        elif kind < 0.9:
            out.append(((f"{float(loss):.4f}", str(loss)), "real"))
        elif kind < 0.95:
            out.append(((str(loss).replace("log", "ln"), str(loss)), "real"))
        else:
            out.append(((f"{-float(loss):.3f}", str(loss)), "real"))
    return out


def _vector(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(-3, 3), 4) for _ in range(n)]


def _array_corpus(rng: random.Random, matrix: bool) -> list[Case]:
    out: list[Case] = []
    for _ in range(300):
        if matrix:
            r, c = rng.randint(2, 4), rng.randint(2, 4)
            ref = [_vector(rng, c) for _ in range(r)]
            ans = [[round(x, 3) for x in row] for row in ref]
            if rng.random() < 0.2:
                ans = [list(col) for col in zip(*ans, strict=True)]
            text = str(ans) if rng.random() < 0.7 else "; ".join(" ".join(str(x) for x in row) for row in ans)
        else:
            ref = _vector(rng, rng.randint(2, 8))
            ans = [round(x, 3) for x in ref]
            if rng.random() < 0.2:
                ans = ans[::-1]
            text = str(ans) if rng.random() < 0.8 else " ".join(str(x) for x in ans)
        out.append((text, str(ref)))
    return out


def _shape_corpus(rng: random.Random) -> list[Case]:
    out: list[Case] = []
    for _ in range(300):
        shape = [rng.choice([3, 16, 32, 64]), rng.randint(4, 224), rng.randint(4, 224)]
        form = rng.random()
        if form < 0.5:
            text = str(shape)
        elif form < 0.7:
            text = "x".join(map(str, shape))
        elif form < 0.8:
            text = "(" + ",".join(map(str, shape)) + ")"
        else:
            text = str(shape[1:] + shape[:1])  # [H, W, C]
        out.append((text, str(shape)))
    return out


def _timings(cases: list[Case], run: Callable[[str, str], object]) -> list[float]:
    """CPU seconds of this thread per case: on a shared machine wall time mostly measures the
    neighbours (the wall-clock bound is the grader's own deadline, tested in tests/grader)."""
    global _WALL_MAX
    out = []
    for answer, reference in cases:
        start, wall = time.thread_time(), time.perf_counter()
        run(answer, reference)
        out.append(time.thread_time() - start)
        _WALL_MAX = max(_WALL_MAX, time.perf_counter() - wall)
    return out


_WALL_MAX = 0.0  # the slowest single check of ours in wall-clock time, neighbours included


def _summary(name: str, seconds: list[float], label: str = "") -> tuple[float, float, float]:
    s = sorted(seconds)
    median, p99, worst = statistics.median(s), s[min(len(s) - 1, int(0.99 * len(s)))], s[-1]
    print(
        f"{name:<24}{label:<6} n={len(s):4d}  median {median * 1e6:9.1f} us"
        f"  p99 {p99 * 1e6:10.1f} us  max {worst * 1e6:10.1f} us"
    )
    return median, p99, worst


def _naive(answer: str, reference: str) -> bool:
    """What a quick grader does: parse (with our safe parser), then simplify the difference."""
    spec = AnswerSpec("expression", symbols=_names(reference))
    try:
        a, b = read(answer, spec).value, read(reference, spec).value
    except Exception:
        return False
    return bool(sympy.simplify(a - b) == 0)


def _names(reference: str) -> tuple[str, ...]:
    import re

    known = {"e", "pi", "sqrt", "exp", "ln", "log", "tanh", "sigmoid", "max", "min", "abs"}
    return tuple(sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", reference)) - known))


def main() -> None:
    rng = random.Random(2026)
    numbers = _number_corpus(rng)
    corpora: dict[str, tuple[list[Case], str]] = {
        "integer/real": ([c for c, _ in numbers], ""),
        "vector": (_array_corpus(rng, matrix=False), "vector"),
        "matrix": (_array_corpus(rng, matrix=True), "matrix"),
        "shape": (_shape_corpus(rng), "shape"),
        "expression": (_expression_corpus(rng), "expression"),
    }
    types = {c: t for c, t in numbers}
    # Warm up imports and sympy's caches once, as a running server has.
    check("1/(1+exp(-2x))", "tanh(x)/2+1/2")
    # Each corpus runs twice: "cold" reads every reference for the first time; "warm" finds it
    # cached, as when a class answers the same instance. Targets are judged on the warm pass.
    results = {}
    for name, (cases, answer_type) in corpora.items():
        for label in ("cold", "warm"):
            if name == "integer/real":
                seconds = _timings(cases, lambda a, r: check(a, r, types[(a, r)]))
            else:
                seconds = _timings(cases, lambda a, r, t=answer_type: check(a, r, t))
            results[name, label] = _summary(name, seconds, label)
    ours_wall = _WALL_MAX
    print(f"slowest check of ours in wall-clock time (neighbours included): {ours_wall * 1e3:.1f} ms")
    expressions = corpora["expression"][0]
    naive = _timings(expressions, _naive)
    n_median, n_p99, n_worst = _summary("naive simplify(a-b)==0", naive)
    e_median, e_p99, _ = results["expression", "warm"]
    print(f"naive / ours: median x{n_median / e_median:.0f}, p99 x{n_p99 / e_p99:.0f}")
    worst = max(max(w for _, _, w in results.values()), ours_wall)
    verdicts = [
        ("numeric median <= 50 us", results["integer/real", "warm"][0] <= 50e-6),
        ("expression median <= 5 ms", e_median <= 5e-3),
        ("expression p99 <= 50 ms", e_p99 <= 50e-3),
        ("nothing above 1 s", worst <= 1.0),
    ]
    print("targets: " + "; ".join(f"{label}: {'met' if ok else 'MISSED'}" for label, ok in verdicts))


if __name__ == "__main__":
    main()
