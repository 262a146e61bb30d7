"""Shared pieces of the rl.* families: exact numbers, small MDPs (params, generation, backups, tables).

Conventions every rl family states (Qiu ch. 14, seeds/003 第十四章):
- states and actions are numbered from 0 and written s0, s1, ... and a0, a1, ...;
- a transition is [s_next, p(s_next|s, a), r(s, a, s_next)];
- a terminal state has no actions (every action's transition list is empty); its value is 0 and an
  episode that reaches it ends, so nothing is bootstrapped from it;
- backups are synchronous: every new value is computed from the old values only.

All arithmetic is on Fractions so that answers are exact (V^pi as 3/2, not 1.4999999).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import numpy as np
from pydantic import Field, model_validator

from grader.feedback import plural
from problems.base import Misconception, Params, Text, bi
from problems.fmt import num

MAX_STATES = 6
MAX_ACTIONS = 4
MAX_OUTCOMES = 6

# A name is shown in statements and Markdown tables: letters and digits only (no markup, no `|`).
NAME = re.compile(r"^[^\W_]{1,16}$")

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Reward = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]
Value = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]
Transition = tuple[Annotated[int, Field(ge=0, lt=MAX_STATES)], Probability, Reward]
Outcomes = Annotated[list[Transition], Field(max_length=MAX_OUTCOMES)]
Names = Annotated[list[str], Field(min_length=1, max_length=MAX_STATES)]

GAMMAS = (0.5, 0.8, 0.9)


# --- exact numbers -----------------------------------------------------------------------


@lru_cache(maxsize=4096)  # the same few numbers recur in every backup of an instance
def exact(x: float) -> Fraction:
    """The number the user meant: 0.1 is 1/10 (its repr), and 0.3333333333333333 is 1/3."""
    f = Fraction(repr(float(x)))
    near = f.limit_denominator(1000)
    return near if abs(f - near) < Fraction(1, 10**12) else f


def text(v: Fraction) -> str:
    """Answer text: a short terminating decimal as a decimal (0.75), anything else as a fraction (10/3)."""
    q = v.denominator
    for f in (2, 5):
        while q % f == 0:
            q //= f
    if q == 1 and len(str(v.denominator)) <= 6:
        return num(float(v))
    exact_text = num(v)
    # Odd explicit params (gamma = 0.123456789) can give fractions of hundreds of digits: past what a
    # student could type or the grader would read, 12 significant figures say the same to any tolerance.
    return exact_text if len(exact_text) <= 40 else num(float(v))


def vector_text(vs: Sequence[Fraction]) -> str:
    return "[" + ", ".join(text(v) for v in vs) + "]"


def tex(v: Fraction) -> str:
    """A number in LaTeX: decimals as decimals, other rationals as \\frac."""
    t = text(v)
    if "/" not in t:
        return t
    sign = "-" if v < 0 else ""
    return f"{sign}\\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"


def tex_approx(v: Fraction) -> str:
    """An exact value, followed by its decimal when it is a fraction: \\frac{10}{3} \\approx 3.333."""
    t = tex(v)
    return f"{t} \\approx {num(float(v), 4)}" if "frac" in t else t


def paren(v: Fraction) -> str:
    """A number inside a product: negative ones in parentheses."""
    return f"({tex(v)})" if v < 0 else tex(v)


# --- the MDP -----------------------------------------------------------------------------


class MdpParams(Params):
    """A finite MDP as params: names, transitions[s][a] = list of [s_next, prob, reward], gamma."""

    states: Names = Field(description="state names, in index order (0-based)")
    actions: Annotated[list[str], Field(min_length=1, max_length=MAX_ACTIONS)] = Field(
        description="action names, in index order (0-based)"
    )
    transitions: Annotated[
        list[Annotated[list[Outcomes], Field(max_length=MAX_ACTIONS)]], Field(max_length=MAX_STATES)
    ] = Field(
        description="transitions[s][a]: list of [s_next_index, prob, reward]; all empty for a terminal state"
    )
    gamma: float = Field(ge=0, le=1, allow_inf_nan=False, description="discount factor")

    @model_validator(mode="after")
    def _check_mdp(self) -> MdpParams:
        n, m = len(self.states), len(self.actions)
        for field, names in (("states", self.states), ("actions", self.actions)):
            for name in names:
                if not NAME.match(name):
                    raise ValueError(f"{field}: {name!r} must be 1-16 letters or digits")
            if len(set(names)) != len(names):
                raise ValueError(f"{field}: names must be distinct")
        if len(self.transitions) != n:
            raise ValueError(f"transitions: needs one entry per state ({n})")
        for s, row in enumerate(self.transitions):
            if len(row) != m:
                raise ValueError(f"transitions: state {s} needs one list per action ({m})")
            if all(not outcomes for outcomes in row):
                continue  # a terminal state
            for a, outcomes in enumerate(row):
                if not outcomes:
                    raise ValueError(
                        f"transitions: state {s} action {a} has no outcome (a terminal state has none for every action)"
                    )
                for s_next, _, _ in outcomes:
                    if s_next >= n:
                        raise ValueError(f"transitions: state {s} action {a} goes to unknown state {s_next}")
                if len({o[0] for o in outcomes}) != len(outcomes):
                    raise ValueError(f"transitions: state {s} action {a} lists a next state twice")
                total = sum(exact(p) for _, p, _ in outcomes)
                if total != 1:
                    raise ValueError(
                        f"transitions: the probabilities of state {s} action {a} sum to {total}, not 1"
                    )
        if not any(any(row) for row in self.transitions):
            raise ValueError("transitions: every state is terminal")
        return self


@dataclass(frozen=True)
class Mdp:
    """The exact MDP of some params."""

    outcomes: tuple[tuple[tuple[tuple[int, Fraction, Fraction], ...], ...], ...]  # [s][a] -> (s', p, r)
    gamma: Fraction

    @property
    def n_states(self) -> int:
        return len(self.outcomes)

    @property
    def n_actions(self) -> int:
        return len(self.outcomes[0])

    def terminal(self, s: int) -> bool:
        return not any(self.outcomes[s])


def mdp_of(p: MdpParams, gamma: Fraction | None = None) -> Mdp:
    """The exact MDP (optionally with another discount, for misconceptions)."""
    outcomes = tuple(
        tuple(tuple((s_next, exact(prob), exact(r)) for s_next, prob, r in outs) for outs in row)
        for row in p.transitions
    )
    return Mdp(outcomes, exact(p.gamma) if gamma is None else gamma)


def q_value(mdp: Mdp, s: int, a: int, values: Sequence[Fraction]) -> Fraction:
    """Q(s,a) = sum_s' p(s'|s,a) [r(s,a,s') + gamma V(s')]."""
    return sum(
        (prob * (r + mdp.gamma * values[s_next]) for s_next, prob, r in mdp.outcomes[s][a]), Fraction(0)
    )


def expected_reward(mdp: Mdp, s: int, a: int) -> Fraction:
    return sum((prob * r for _, prob, r in mdp.outcomes[s][a]), Fraction(0))


def expectation_backup(
    mdp: Mdp, policy: Sequence[Sequence[Fraction]], values: Sequence[Fraction]
) -> list[Fraction]:
    """One synchronous Bellman expectation backup; terminal states stay 0."""
    return [
        Fraction(0)
        if mdp.terminal(s)
        else sum((policy[s][a] * q_value(mdp, s, a, values) for a in range(mdp.n_actions)), Fraction(0))
        for s in range(mdp.n_states)
    ]


def q_values(mdp: Mdp, values: Sequence[Fraction]) -> list[list[Fraction]]:
    return [[q_value(mdp, s, a, values) for a in range(mdp.n_actions)] for s in range(mdp.n_states)]


def optimality_backup(mdp: Mdp, values: Sequence[Fraction]) -> list[Fraction]:
    """One synchronous Bellman optimality backup (value iteration); terminal states stay 0."""
    return [Fraction(0) if mdp.terminal(s) else max(qs) for s, qs in enumerate(q_values(mdp, values))]


def solve_linear(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction] | None:
    """Solve a x = b exactly by Gauss-Jordan elimination; None when a is singular."""
    n = len(b)
    rows = [[*a[i], b[i]] for i in range(n)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [x / lead for x in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] for i in range(n)]


def evaluate_policy(mdp: Mdp, policy: Sequence[Sequence[Fraction]]) -> list[Fraction] | None:
    """Exact V^pi from (I - gamma P_pi) V = R_pi, V = 0 at terminal states; None when undefined."""
    n = mdp.n_states
    a = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    b = [Fraction(0)] * n
    for s in range(n):
        if mdp.terminal(s):
            continue
        for act in range(mdp.n_actions):
            for s_next, prob, r in mdp.outcomes[s][act]:
                w = policy[s][act] * prob
                a[s][s_next] -= mdp.gamma * w
                b[s] += w * r
    return solve_linear(a, b)


def uniform_policy(mdp: Mdp) -> list[list[Fraction]]:
    return [[Fraction(1, mdp.n_actions)] * mdp.n_actions for _ in range(mdp.n_states)]


# --- policies as params ------------------------------------------------------------------

PolicyRows = Annotated[
    list[Annotated[list[Probability], Field(min_length=1, max_length=MAX_ACTIONS)]],
    Field(min_length=1, max_length=MAX_STATES),
]


def check_policy(policy: Sequence[Sequence[float]], n_states: int, n_actions: int) -> None:
    """Raise ValueError naming `policy` unless it has a distribution over the actions for every state."""
    if len(policy) != n_states:
        raise ValueError(f"policy: needs one row per state ({n_states})")
    for s, row in enumerate(policy):
        if len(row) != n_actions:
            raise ValueError(f"policy: row {s} needs one probability per action ({n_actions})")
        total = sum(exact(x) for x in row)
        if total != 1:
            raise ValueError(f"policy: row {s} sums to {total}, not 1")


def exact_policy(policy: Sequence[Sequence[float]]) -> list[list[Fraction]]:
    return [[exact(x) for x in row] for row in policy]


# --- generation --------------------------------------------------------------------------

# Clean splits of probability 1 over two next states: tenths or quarters (probability of the first).
# Params hold them as floats; exact() reads each back as the same Fraction (they are short decimals).
SPLITS = tuple(Fraction(x) for x in ("1/2", "1/4", "3/4", "1/5", "2/5", "3/5", "4/5", "3/10", "7/10"))
# Probability of action 0 in a two-action policy row, deterministic rows included.
POLICY_FIRST = tuple(Fraction(x) for x in ("1", "0", "1/2", "1/4", "3/4", "1/5", "4/5", "2/5", "3/5"))


T = TypeVar("T")


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    return options[int(rng.integers(len(options)))]


def random_transitions(
    rng: np.random.Generator, n_states: int, n_actions: int, terminal: int | None = None
) -> list[list[list[tuple[int, float, float]]]]:
    """Each (s, a) goes to one or two next states with clean probabilities and small integer rewards."""
    rows: list[list[list[tuple[int, float, float]]]] = []
    for s in range(n_states):
        if s == terminal:
            rows.append([[] for _ in range(n_actions)])
            continue
        row = []
        for _ in range(n_actions):
            targets = sorted(int(x) for x in rng.permutation(n_states)[: pick(rng, (1, 2, 2))])
            if len(targets) == 1:
                probs = [Fraction(1)]
            else:
                first = pick(rng, SPLITS)
                probs = [first, 1 - first]
            row.append(
                [(t, float(pr), float(rng.integers(-2, 6))) for t, pr in zip(targets, probs, strict=True)]
            )
        rows.append(row)
    return rows


def random_policy(rng: np.random.Generator, n_states: int) -> list[list[float]]:
    """Two-action policy rows with clean probabilities."""
    rows = []
    for _ in range(n_states):
        first = pick(rng, POLICY_FIRST)
        rows.append([float(first), float(1 - first)])
    return rows


def names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


# --- rendering ---------------------------------------------------------------------------


def transitions_table(p: MdpParams) -> Text:
    """The MDP as a Markdown table, one row per (s, a, s')."""
    head_zh = "| 状态 $s$ | 动作 $a$ | 下一状态 $s'$ | $p(s' \\mid s,a)$ | 奖励 $r(s,a,s')$ |"
    head_en = "| state $s$ | action $a$ | next state $s'$ | $p(s' \\mid s,a)$ | reward $r(s,a,s')$ |"
    rule = "|---|---|---|---|---|"
    zh: list[str] = [head_zh, rule]
    en: list[str] = [head_en, rule]
    for s, row in enumerate(p.transitions):
        if not any(row):
            zh.append(f"| {p.states[s]} | — | 终止状态 | — | — |")
            en.append(f"| {p.states[s]} | — | terminal | — | — |")
            continue
        for a, outcomes in enumerate(row):
            for s_next, prob, r in outcomes:
                cells = f"| {p.states[s]} | {p.actions[a]} | {p.states[s_next]} | {text(exact(prob))} | {text(exact(r))} |"
                zh.append(cells)
                en.append(cells)
    return bi("\n".join(zh), "\n".join(en))


def policy_table(p: MdpParams, policy: Sequence[Sequence[float]]) -> str:
    head = "| $s$ | " + " | ".join(f"$\\pi(\\text{{{a}}} \\mid s)$" for a in p.actions) + " |"
    rule = "|---|" + "---|" * len(p.actions)
    rows = [
        f"| {p.states[s]} | " + " | ".join(text(exact(x)) for x in row) + " |" for s, row in enumerate(policy)
    ]
    return "\n".join([head, rule, *rows])


def index_note(p: MdpParams) -> Text:
    """How states and actions are numbered."""
    st = ", ".join(f"{name} = {i}" for i, name in enumerate(p.states))
    ac = ", ".join(f"{name} = {i}" for i, name in enumerate(p.actions))
    return bi(
        f"状态与动作都从 0 开始编号（状态 {st}；动作 {ac}）。",
        f"States and actions are numbered from 0 (states {st}; actions {ac}).",
    )


TERMINAL_NOTE = bi(
    "终止状态没有可选动作，其值恒为 0（到达后回合结束，不再有后续奖励）。",
    "A terminal state has no actions and its value is always 0 (the episode ends there; no further reward).",
)
SYNCHRONOUS_NOTE = bi(
    "采用同步更新：新一轮的每个值都只用上一轮的旧值计算。",
    "Backups are synchronous: every new value is computed from the previous round's values only.",
)


def has_terminal(p: MdpParams) -> bool:
    return any(not any(row) for row in p.transitions)


def q_terms(mdp: Mdp, s: int, a: int, values: Sequence[Fraction]) -> str:
    """The sum of Q(s,a) written out: 0.5(1 + 0.9·2) + 0.5(0 + 0.9·(-1))."""
    terms = [
        f"{tex(prob)}\\,({tex(r)} + {tex(mdp.gamma)} \\cdot {paren(values[s_next])})"
        if prob != 1
        else f"({tex(r)} + {tex(mdp.gamma)} \\cdot {paren(values[s_next])})"
        for s_next, prob, r in mdp.outcomes[s][a]
    ]
    return " + ".join(terms)


# --- one TD update on a Q table (rl.q_learning_update, rl.sarsa_update) -----------------

QRow = Annotated[list[Value], Field(min_length=1, max_length=MAX_ACTIONS)]


class TdParams(Params):
    """One observed step (s, a, r, s_next) and the Q table before the update."""

    q: Annotated[list[QRow], Field(min_length=1, max_length=MAX_STATES)] = Field(
        description="the Q table: one row per state, one entry per action (0-based)"
    )
    s: int = Field(ge=0, description="state index of the step")
    a: int = Field(ge=0, description="action index taken in s")
    r: Reward = Field(description="reward received")
    s_next: int = Field(ge=0, description="index of the next state")
    alpha: float = Field(gt=0, le=1, allow_inf_nan=False, description="learning rate")
    gamma: float = Field(ge=0, le=1, allow_inf_nan=False, description="discount factor")
    terminal: bool = Field(default=False, description="s_next is terminal: the target is r alone")

    @model_validator(mode="after")
    def _check_td(self) -> TdParams:
        n, m = len(self.q), len(self.q[0])
        if any(len(row) != m for row in self.q):
            raise ValueError(f"q: every row needs {m} {plural(m, 'entry', 'entries')} (one per action)")
        for field in ("s", "s_next"):
            if getattr(self, field) >= n:
                raise ValueError(f"{field}: must be a state index below {n}")
        if self.a >= m:
            raise ValueError(f"a: must be an action index below {m}")
        return self


def q_table(q: Sequence[Sequence[float]]) -> str:
    """The Q table as Markdown, states as rows and actions as columns."""
    m = len(q[0])
    head = "| $Q(s,a)$ | " + " | ".join(f"a{j}" for j in range(m)) + " |"
    rule = "|---|" + "---|" * m
    rows = [f"| s{i} | " + " | ".join(text(exact(x)) for x in row) + " |" for i, row in enumerate(q)]
    return "\n".join([head, rule, *rows])


def td_new(q_sa: Fraction, target: Fraction, alpha: Fraction) -> Fraction:
    """Q(s,a) + alpha (target - Q(s,a))."""
    return q_sa + alpha * (target - q_sa)


def random_q_table(rng: np.random.Generator, n_states: int, n_actions: int) -> list[list[float]]:
    """One-decimal entries in [-1, 3]: what a hand calculation wants."""
    return [[int(x) / 10 for x in row] for row in rng.integers(-10, 31, size=(n_states, n_actions))]


def random_td_step(rng: np.random.Generator) -> dict[str, Any]:
    """A Q table and one observed step with clean numbers; shared with rl.sarsa_update's generator."""
    n_states, n_actions = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    return {
        "q": random_q_table(rng, n_states, n_actions),
        "s": int(rng.integers(n_states)),
        "a": int(rng.integers(n_actions)),
        "r": float(rng.integers(-1, 4)),
        "s_next": int(rng.integers(n_states)),
        "alpha": float(pick(rng, (0.1, 0.2, 0.5))),
        "gamma": float(pick(rng, GAMMAS)),
        "terminal": bool(rng.random() < 0.25),
    }


def step_text(p: TdParams) -> Text:
    r = tex(exact(p.r))
    where = f"$s_t = \\text{{s{p.s}}}$，$a_t = \\text{{a{p.a}}}$，$r_{{t+1}} = {r}$，$s_{{t+1}} = \\text{{s{p.s_next}}}$"
    where_en = f"$s_t = \\text{{s{p.s}}}$, $a_t = \\text{{a{p.a}}}$, $r_{{t+1}} = {r}$, $s_{{t+1}} = \\text{{s{p.s_next}}}$"
    if p.terminal:
        return bi(f"{where}（终止状态）", f"{where_en} (a terminal state)")
    return bi(where, where_en)


def td_line(p: TdParams, bootstrap: Fraction) -> str:
    """Q(s,a) ← 0.5 + 0.1·(1 + 0.9·2 − 0.5) = 0.73, with the instance's numbers."""
    old = exact(p.q[p.s][p.a])
    alpha = tex(exact(p.alpha))
    r, gamma = exact(p.r), exact(p.gamma)
    tgt = tex(r) if p.terminal else f"{tex(r)} + {tex(gamma)} \\cdot {paren(bootstrap)}"
    new = td_new(old, r if p.terminal else r + gamma * bootstrap, exact(p.alpha))
    sign = "-" if old >= 0 else "+"
    return (
        f"Q(\\text{{s{p.s}}}, \\text{{a{p.a}}}) \\leftarrow {tex(old)} + {alpha} \\cdot "
        f"({tgt} {sign} {tex(abs(old))}) = {tex_approx(new)}"
    )


TD_BOOTSTRAP_NOTE = bi(
    "若下一状态是终止状态，回合结束，目标值只有 $r$（不再加 $\\gamma$ 乘以下一状态的 Q 值）。",
    "If the next state is terminal the episode ends and the target is $r$ alone (nothing is bootstrapped "
    "from the next state's Q values).",
)


TD = TypeVar("TD", bound=TdParams)


def td_misconceptions(
    bootstrap: Callable[[TD], Fraction], answer: Callable[[Fraction], dict[str, str]]
) -> list[Misconception[TD]]:
    """The wrong ways shared by Q-learning and SARSA; `bootstrap` gives the Q value the target uses."""

    def q_sa(p: TD) -> Fraction:
        return exact(p.q[p.s][p.a])

    def target(p: TD, gamma: Fraction, bootstrap_terminal: bool = False) -> Fraction:
        if p.terminal and not bootstrap_terminal:
            return exact(p.r)
        return exact(p.r) + gamma * bootstrap(p)

    def right_target(p: TD) -> Fraction:
        return target(p, exact(p.gamma))

    return [
        Misconception(
            "forgot_gamma",
            bi(
                "目标值中下一状态的 Q 值要乘以折扣率 γ：r + γ·Q(s', ·)。",
                "The next state's Q value in the target is discounted by γ: r + γ·Q(s', ·).",
            ),
            lambda p: {} if p.terminal else answer(td_new(q_sa(p), target(p, Fraction(1)), exact(p.alpha))),
        ),
        Misconception(
            "forgot_to_bootstrap",
            bi(
                "下一状态不是终止状态，目标值要自举：r + γ·Q(s', ·)，不能只用 r。",
                "The next state is not terminal, so the target bootstraps: r + γ·Q(s', ·), not r alone.",
            ),
            lambda p: {} if p.terminal else answer(td_new(q_sa(p), exact(p.r), exact(p.alpha))),
        ),
        Misconception(
            "bootstrapped_from_terminal",
            bi(
                "下一状态是终止状态，回合结束，目标值只有 r；不能再加 γ 乘以终止状态的 Q 值。",
                "The next state is terminal, so the episode ends and the target is r alone; do not add γ "
                "times the terminal state's Q value.",
            ),
            lambda p: (
                answer(td_new(q_sa(p), target(p, exact(p.gamma), True), exact(p.alpha))) if p.terminal else {}
            ),
        ),
        Misconception(
            "alpha_times_target",
            bi(
                "更新是增量式的：Q(s,a) ← Q(s,a) + α·(目标值 − Q(s,a))，不是 Q(s,a) ← α·目标值。",
                "The update is incremental: Q(s,a) ← Q(s,a) + α·(target − Q(s,a)), not Q(s,a) ← α·target.",
            ),
            lambda p: answer(exact(p.alpha) * right_target(p)),
        ),
        Misconception(
            "replaced_by_target",
            bi(
                "你直接把 Q(s,a) 换成了目标值；要按学习率 α 只走一部分：Q(s,a) + α·(目标值 − Q(s,a))。",
                "You replaced Q(s,a) by the target; the learning rate α moves it only part of the way: "
                "Q(s,a) + α·(target − Q(s,a)).",
            ),
            lambda p: answer(right_target(p)),
        ),
        Misconception(
            "increment_only",
            bi(
                "α·(目标值 − Q(s,a)) 只是增量，还要加上原来的 Q(s,a)。",
                "α·(target − Q(s,a)) is only the increment; add it to the old Q(s,a).",
            ),
            lambda p: answer(exact(p.alpha) * (right_target(p) - q_sa(p))),
        ),
    ]


# --- MDP statements and worked steps -----------------------------------------------------


def check_values(field: str, values: Sequence[float], p: MdpParams) -> None:
    """Raise ValueError naming `field` unless there is one value per state, 0 at terminal states."""
    if len(values) != len(p.states):
        raise ValueError(f"{field}: needs one value per state ({len(p.states)})")
    for s, row in enumerate(p.transitions):
        if not any(row) and values[s] != 0:
            raise ValueError(f"{field}: state {s} is terminal, so its value is 0")


def state_tex(p: MdpParams, s: int) -> str:
    return f"\\text{{{p.states[s]}}}"


def q_line(p: MdpParams, mdp: Mdp, s: int, a: int, values: Sequence[Fraction]) -> str:
    """Q(s,a) = sum written out = value (LaTeX, no dollars)."""
    q = q_value(mdp, s, a, values)
    return f"Q({state_tex(p, s)}, \\text{{{p.actions[a]}}}) = {q_terms(mdp, s, a, values)} = {tex_approx(q)}"


def values_tex(p: MdpParams, values: Sequence[Fraction], name: str = "V") -> str:
    """V = [V(s0), V(s1)] = [1, 2] in LaTeX."""
    inside = ", ".join(f"{name}({state_tex(p, s)})" for s in range(len(values)))
    return f"[{inside}] = [{', '.join(tex(v) for v in values)}]"


def mdp_description(p: MdpParams) -> Text:
    """The MDP: its table, the numbering, the discount, and what terminal means when there is one."""
    table = transitions_table(p)
    idx = index_note(p)
    gamma = tex(exact(p.gamma))
    term = TERMINAL_NOTE if has_terminal(p) else bi("", "")
    return bi(
        f"一个马尔可夫决策过程的状态转移概率与即时奖励如下：\n\n{table['zh']}\n\n"
        f"{idx['zh']}折扣率 $\\gamma = {gamma}$。{term['zh']}",
        f"A Markov decision process has these transition probabilities and rewards:\n\n{table['en']}\n\n"
        f"{idx['en']} The discount factor is $\\gamma = {gamma}$. {term['en']}".rstrip(),
    )


def mdp_form(p: MdpParams) -> tuple[int, int]:
    """What every MDP question's work grows with: its states, and how many of them are terminal (no
    backup to compute). Whether an action leads to one next state or two is a number drawn (a term
    more in a sum), not a form: counted, it would split the bank into dozens of rare forms."""
    return len(p.states), sum(not any(row) for row in p.transitions)


def random_mdp_params(
    rng: np.random.Generator, n_states: int, terminal: int | None = None, n_actions: int = 2
) -> dict[str, object]:
    return {
        "states": names("s", n_states),
        "actions": names("a", n_actions),
        "transitions": random_transitions(rng, n_states, n_actions, terminal),
        "gamma": float(pick(rng, GAMMAS)),
    }


def in_place_sweep(
    mdp: Mdp, values: Sequence[Fraction], backup: Callable[[int, Sequence[Fraction]], Fraction]
) -> list[Fraction]:
    """A Gauss-Seidel sweep (states in index order, each new value used at once): a misconception here."""
    current = list(values)
    for s in range(mdp.n_states):
        current[s] = Fraction(0) if mdp.terminal(s) else backup(s, current)
    return current


def policy_value(
    mdp: Mdp, policy: Sequence[Sequence[Fraction]], s: int, values: Sequence[Fraction]
) -> Fraction:
    """sum_a pi(a|s) Q(s,a) for one state."""
    return sum((policy[s][a] * q_value(mdp, s, a, values) for a in range(mdp.n_actions)), Fraction(0))


def best_value(mdp: Mdp, s: int, values: Sequence[Fraction]) -> Fraction:
    return max(q_value(mdp, s, a, values) for a in range(mdp.n_actions))
