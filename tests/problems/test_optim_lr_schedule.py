"""optim.lr_schedule against torch.optim.lr_scheduler stepped t times, seeds/003 (学习率预热, 学习率衰减), params."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from problems.base import Instance, InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "optim.lr_schedule"
# LinearLR cannot start at exactly 0; from 1e-12 * lr its rates differ from t/T * lr by about T * 1e-12.
WARMUP_START = 1e-12


def scheduler_key(p: dict[str, Any]) -> tuple[Any, ...]:
    """Instances that can share one torch scheduler (its knobs are per scheduler; lr is per param group)."""
    knobs = {"warmup_linear": ("warmup_steps",), "step": ("step_size", "gamma"), "exponential": ("gamma",)}
    knobs.update(cosine=("T_max", "eta_min"), inverse_time=())
    return (p["schedule"], *(p[k] for k in knobs[p["schedule"]]))


def torch_scheduler(torch: Any, optimizer: Any, cases: list[dict[str, Any]]) -> Any:
    sched, p = torch.optim.lr_scheduler, cases[0]
    kind = p["schedule"]
    if kind == "warmup_linear":
        return sched.LinearLR(
            optimizer, start_factor=WARMUP_START, end_factor=1.0, total_iters=p["warmup_steps"]
        )
    if kind == "step":
        return sched.StepLR(optimizer, step_size=p["step_size"], gamma=p["gamma"])
    if kind == "exponential":
        return sched.ExponentialLR(optimizer, gamma=p["gamma"])
    if kind == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=p["T_max"], eta_min=p["eta_min"])
    # Inverse-time decay (TensorFlow's InverseTimeDecay) has no torch class: LambdaLR with the seed's
    # formula alpha_0 / (1 + beta t), one lambda per param group.
    return sched.LambdaLR(optimizer, [lambda t, beta=q["decay_rate"]: 1 / (1 + beta * t) for q in cases])


def torch_rates(torch: Any, cases: list[dict[str, Any]]) -> list[float]:
    """The lr of every case after its t scheduler steps; the cases share one scheduler, one param group each."""
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": p["lr"]} for p in cases]
    optimizer = torch.optim.SGD(groups, lr=1.0)
    scheduler = torch_scheduler(torch, optimizer, cases)
    optimizer.step()  # no gradients: a no-op, so the scheduler does not warn about the call order
    wanted: dict[int, list[int]] = defaultdict(list)
    for k, p in enumerate(cases):
        wanted[p["t"]].append(k)
    out = [float("nan")] * len(cases)
    for t in range(max(wanted) + 1):
        if t > 0:
            scheduler.step()
        for k in wanted.get(t, []):
            out[k] = scheduler.get_last_lr()[k]
    return out


def random_configs(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Explicit params unlike the generator's: odd knobs, 3-decimal rates, t from 0 to well past any period."""
    cases = []
    for kind in ("warmup_linear", "step", "exponential", "cosine", "inverse_time"):
        for _ in range(8):
            knobs: dict[str, Any]
            lo = 0.0
            if kind == "warmup_linear":
                knobs, t_end = {"warmup_steps": int(rng.integers(1, 101))}, 0
                t_end = 2 * knobs["warmup_steps"]
            elif kind == "step":
                knobs = {
                    "step_size": int(rng.integers(1, 31)),
                    "gamma": round(float(rng.uniform(0.05, 1)), 3),
                }
                t_end = 5 * knobs["step_size"]
            elif kind == "exponential":
                knobs, t_end = {"gamma": round(float(rng.uniform(0.5, 1)), 3)}, 100
            elif kind == "cosine":
                lo = round(float(rng.uniform(0, 0.01)), 4) if rng.random() < 0.5 else 0.0
                knobs = {"T_max": int(rng.integers(1, 101)), "eta_min": lo}
                t_end = 3 * knobs["T_max"]  # past T_max the rate climbs back, as CosineAnnealingLR does
            else:
                knobs, t_end = {}, 200
            for _ in range(15):
                more = {"decay_rate": round(float(rng.uniform(0.01, 2)), 3)} if kind == "inverse_time" else {}
                lr = round(float(rng.uniform(max(lo, 0.001), 2)), 3)
                cases.append(
                    {"schedule": kind, "lr": lr, "t": int(rng.integers(0, t_end + 1)), **knobs, **more}
                )
    return cases


@pytest.mark.torch
def test_matches_torch_lr_scheduler() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(5)
    instances = [instantiate(ID, seed=seed) for seed in range(500)]
    instances += [instantiate(ID, params=p) for p in random_configs(rng)]
    by_key: dict[tuple[Any, ...], list[Instance]] = defaultdict(list)
    for inst in instances:
        by_key[scheduler_key(inst.params)].append(inst)
    kinds: set[str] = set()
    for key, group in by_key.items():
        expected = torch_rates(torch, [inst.params for inst in group])
        for inst, want in zip(group, expected, strict=True):
            got = float(inst.answers["lr"])  # the canonical text is a plain decimal
            if key[0] == "warmup_linear":
                assert got == pytest.approx(want, rel=1e-8, abs=2 * WARMUP_START * inst.params["lr"]), (
                    inst.params
                )
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-15), inst.params
            kinds.add(key[0])
    assert len(instances) >= 1000 and len(kinds) == 5


def test_large_t_against_closed_forms() -> None:
    # t up to 100000 is allowed; the closed forms (seeds/003) written out here, apart from the family.
    cases = [
        ({"schedule": "step", "lr": 0.1, "t": 99_999, "step_size": 10_000, "gamma": 0.5}, 0.1 * 0.5**9),
        ({"schedule": "exponential", "lr": 1.0, "t": 100_000, "gamma": 0.9999}, 0.9999**100_000),
        (
            {"schedule": "cosine", "lr": 0.1, "t": 75_000, "T_max": 100_000, "eta_min": 0.0},
            0.05 * (1 - 2**-0.5),
        ),
        ({"schedule": "inverse_time", "lr": 0.5, "t": 100_000, "decay_rate": 0.01}, 0.5 / 1001),
        ({"schedule": "warmup_linear", "lr": 0.5, "t": 100_000, "warmup_steps": 100_000}, 0.5),
    ]
    for params, want in cases:
        assert float(instantiate(ID, params=params).answers["lr"]) == pytest.approx(want, rel=1e-9), params


def warmup(t: int, big_t: int = 10, lr: float = 0.1) -> dict[str, Any]:
    return {"schedule": "warmup_linear", "lr": lr, "t": t, "warmup_steps": big_t}


# seeds/003 学习率预热: alpha_t = t/T * alpha_0 (T the warm-up length), then constant. T = 10, alpha_0 = 0.1:
# t = 3 gives 0.03, t = 10 gives 0.1, t = 15 stays 0.1. Decay (nndl 7.2): inverse time alpha_0/(1 + beta t),
# exponential alpha_0 beta^t, cosine 1/2 alpha_0 (1 + cos(t pi / T)); step: StepLR's piecewise constant.
SEED_CASES = [
    (warmup(3), "0.03"),
    (warmup(3), "3/10*0.1"),
    (warmup(10), "0.1"),
    (warmup(15), "0.1"),
    (warmup(0), "0"),
    ({"schedule": "inverse_time", "lr": 0.1, "t": 10, "decay_rate": 0.1}, "0.05"),
    ({"schedule": "exponential", "lr": 0.1, "t": 3, "gamma": 0.5}, "0.0125"),
    ({"schedule": "cosine", "lr": 0.1, "t": 5, "T_max": 10}, "0.05"),
    ({"schedule": "cosine", "lr": 0.1, "t": 5, "T_max": 10, "eta_min": 0.01}, "0.055"),
    ({"schedule": "step", "lr": 0.1, "t": 25, "step_size": 10, "gamma": 0.1}, "0.001"),
    ({"schedule": "step", "lr": 0.1, "t": 9, "step_size": 10}, "0.1"),
]


@pytest.mark.parametrize(("params", "answer"), SEED_CASES)
def test_seed_formulas_by_hand(params: dict[str, Any], answer: str) -> None:
    res = grade_answers(instantiate(ID, params=params), {"lr": answer})
    assert res.score == 1.0, res


@pytest.mark.parametrize(
    ("params", "answer", "misconception"),
    [
        (warmup(15), "0.15", "warmup_not_capped"),
        (warmup(3), "0.04", "warmup_off_by_one"),
        (
            {"schedule": "step", "lr": 0.1, "t": 25, "step_size": 10, "gamma": 0.1},
            "0.1*0.1^2.5",
            "step_no_floor",
        ),
        (
            {"schedule": "step", "lr": 0.1, "t": 25, "step_size": 10, "gamma": 0.5},
            "0.1*0.5^25",
            "step_as_exponential",
        ),
        # cos(5/10) without pi: 0.05 * (1 + cos(0.5)) = 0.093879.
        ({"schedule": "cosine", "lr": 0.1, "t": 5, "T_max": 10}, "0.093879", "cosine_forgot_pi"),
        ({"schedule": "cosine", "lr": 0.1, "t": 3, "T_max": 10}, "0.1*(1 + cos(0.3*pi))", "cosine_no_half"),
        # 0.01 + 0.045 = 0.055 is right; without subtracting eta_min, 0.01 + 0.05 = 0.06. Typed "0.06" is
        # also 0.055 rounded to one figure (no evidence of either); "0.060" is not.
        (
            {"schedule": "cosine", "lr": 0.1, "t": 5, "T_max": 10, "eta_min": 0.01},
            "0.060",
            "cosine_eta_min_not_subtracted",
        ),
        (
            {"schedule": "inverse_time", "lr": 0.1, "t": 10, "decay_rate": 0.1},
            "0.1",
            "inverse_time_forgot_one",
        ),
    ],
)
def test_misconceptions_get_their_feedback(params: dict[str, Any], answer: str, misconception: str) -> None:
    for lang in ("en", "zh"):
        r = grade_answers(instantiate(ID, params=params), {"lr": answer}, lang).parts["lr"]
        assert (r.correct, r.score, r.misconception) == (False, 0.0, misconception), r
        assert len(r.feedback) > 20


def test_the_reference_rounded_is_not_blamed_on_a_misconception() -> None:
    # cosine, eta_min 0.01, t = T_max/2: 0.01 + 0.5*0.09*(1 + cos(pi/2)) = 0.055 by hand; 0.06 is it to one figure
    inst = instantiate(ID, params={"schedule": "cosine", "lr": 0.1, "t": 5, "T_max": 10, "eta_min": 0.01})
    for lang, close in (("en", "not accurate enough"), ("zh", "精度不够")):
        r = grade_answers(inst, {"lr": "0.06"}, lang).parts["lr"]
        assert (r.correct, r.reason, r.misconception) == (False, "precision", None), r
        assert close in r.feedback


def test_statement_and_solution_carry_the_numbers() -> None:
    inst = instantiate(ID, params=warmup(3))
    assert "T = 10" in inst.statement["en"] and "T = 10" in inst.statement["zh"]
    steps = inst.solution()
    assert "0.03" in steps["en"][-1] and "0.03" in steps["zh"][-1]


@pytest.mark.parametrize(
    ("params", "rate_at_0"),
    [
        # Independent values at t = 0: the warm-up alpha_t = (t/T) alpha_0 starts from 0, every decay from alpha_0.
        ({"schedule": "warmup_linear", "lr": 0.1, "t": 3, "warmup_steps": 10}, "0"),
        ({"schedule": "step", "lr": 0.1, "t": 3, "step_size": 2, "gamma": 0.5}, "alpha_0"),
        ({"schedule": "exponential", "lr": 0.1, "t": 3, "gamma": 0.9}, "alpha_0"),
        ({"schedule": "cosine", "lr": 0.1, "t": 3, "T_max": 10}, "alpha_0"),
        ({"schedule": "inverse_time", "lr": 0.1, "t": 3, "decay_rate": 0.5}, "alpha_0"),
    ],
)
def test_statement_says_what_t_0_gives_for_its_own_schedule(params: dict[str, Any], rate_at_0: str) -> None:
    # The warm-up statement used to say both alpha_t = (t/T) alpha_0 and "t = 0 gives alpha_0".
    st = instantiate(ID, params=params).statement
    says_alpha_0 = ("$t = 0$ gives $\\alpha_0$" in st["en"], "$t = 0$ 时为 $\\alpha_0$" in st["zh"])
    says_zero = ("$t = 0$ gives a rate of 0" in st["en"], "$t = 0$ 时学习率为 0" in st["zh"])
    assert says_alpha_0 == ((rate_at_0 == "alpha_0"),) * 2
    assert says_zero == ((rate_at_0 == "0"),) * 2
    # The torch check above pins the values; the statement's claim agrees with the reference at t = 0.
    at_0 = float(instantiate(ID, params={**params, "t": 0}).answers["lr"])
    assert at_0 == (0.0 if rate_at_0 == "0" else params["lr"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**warmup(3), "schedule": "linear"}, "schedule"),
        ({**warmup(3), "schedule": ["warmup_linear"]}, "schedule"),
        ({**warmup(3), "lr": 0}, "lr"),
        ({**warmup(3), "lr": float("inf")}, "lr"),
        ({**warmup(3), "t": -1}, "t"),
        ({**warmup(3), "t": 10**6}, "t"),
        ({**warmup(3), "warmup_steps": 0}, "warmup_steps"),
        ({k: v for k, v in warmup(3).items() if k != "warmup_steps"}, "warmup_steps"),
        ({**warmup(3), "gamma": 0.5}, "gamma"),
        ({"schedule": "step", "lr": 0.1, "t": 3, "gamma": 0.5}, "step_size"),
        ({"schedule": "exponential", "lr": 0.1, "t": 3, "gamma": 1.5}, "gamma"),
        ({"schedule": "exponential", "lr": 0.1, "t": 3}, "gamma"),
        ({"schedule": "cosine", "lr": 0.1, "t": 3, "T_max": 10, "eta_min": 0.2}, "eta_min"),
        ({"schedule": "cosine", "lr": 0.1, "t": 3}, "T_max"),
        ({"schedule": "inverse_time", "lr": 0.1, "t": 3, "decay_rate": -1}, "decay_rate"),
        ({"schedule": "inverse_time", "lr": 0.1, "t": 3, "decay_rate": 1e-320}, "decay_rate"),
        ({"schedule": "inverse_time", "lr": 0.1, "t": 3, "decay_rate": 1, "T_max": 5}, "T_max"),
        ({**warmup(3), "momentum": 0.9}, "momentum"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 40


@pytest.mark.torch
def test_left_out_knobs_are_pytorchs_defaults() -> None:
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    step = instantiate(ID, params={"schedule": "step", "lr": 0.1, "t": 1, "step_size": 5}).params
    cosine = instantiate(ID, params={"schedule": "cosine", "lr": 0.1, "t": 1, "T_max": 5}).params
    assert step["gamma"] == torch.optim.lr_scheduler.StepLR(optimizer, step_size=5).gamma
    assert cosine["eta_min"] == torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5).eta_min


def test_extreme_params_never_crash_a_solver() -> None:
    # Every right and wrong way must give a finite rate at the corners of the params box: a crash in a
    # misconception's solver would turn a wrong answer into a 500. Before decay_rate had a floor,
    # 1e-320 made the "forgot the 1" answer alpha_0/(beta t) infinite.
    fam = get_family(ID)
    knobs: list[dict[str, Any]] = [
        *({"schedule": "warmup_linear", "warmup_steps": n} for n in (1, 100_000)),
        *({"schedule": "step", "step_size": n, "gamma": g} for n in (1, 100_000) for g in (5e-324, 1.0)),
        *({"schedule": "exponential", "gamma": g} for g in (5e-324, 1.0)),
        *({"schedule": "cosine", "T_max": n, "eta_min": 0.0} for n in (1, 100_000)),
        *({"schedule": "inverse_time", "decay_rate": b} for b in (1e-6, 100.0)),
    ]
    for knob in knobs:
        for lr in (5e-324, 10.0):
            for t in (0, 1, 99_999, 100_000):
                inst = instantiate(ID, params={**knob, "lr": lr, "t": t})
                texts = [inst.answers["lr"]] + [
                    v for m in fam.misconceptions() for v in m.solve(inst.p).values()
                ]
                assert all("nan" not in x and "inf" not in x for x in texts), (knob, lr, t)
