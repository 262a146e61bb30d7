"""rl.value_iteration: a few synchronous sweeps of value iteration and the greedy policy (seeds/003 值迭代).

V_{k+1}(s) = max_a sum_s' p(s'|s,a) [r(s,a,s') + gamma V_k(s')], every V_{k+1} from V_k only; then
pi(s) = argmax_a Q(s,a) with Q computed from the final values. Terminal states keep V = 0 and get
action 0 in the greedy policy (they have no real choice).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Part, bi, first_drawn
from problems.families.rl_common import (
    SYNCHRONOUS_NOTE,
    Mdp,
    MdpParams,
    Value,
    best_value,
    check_values,
    exact,
    expectation_backup,
    expected_reward,
    has_terminal,
    in_place_sweep,
    mdp_description,
    mdp_form,
    mdp_of,
    optimality_backup,
    q_line,
    q_values,
    random_mdp_params,
    state_tex,
    tex_approx,
    uniform_policy,
    values_tex,
    vector_text,
)
from problems.registry import register

MAX_SWEEPS = 5
MARGIN = Fraction(1, 10)  # generated greedy choices win by at least this much: no near-ties

OPTIMALITY = "$$V_{k+1}(s) = \\max_{a} \\sum_{s'} p(s' \\mid s,a)\\left[r(s,a,s') + \\gamma V_k(s')\\right]$$"


class ValueIterationParams(MdpParams):
    values0: list[Value] = Field(description="the starting values V_0, one per state (0 at terminal states)")
    sweeps: Annotated[int, Field(ge=1, le=MAX_SWEEPS)] = Field(description="number of synchronous sweeps")

    @model_validator(mode="after")
    def _check_values_and_ties(self) -> ValueIterationParams:
        check_values("values0", self.values0, self)
        mdp = mdp_of(self)
        final = sweep_values(self)[-1]
        for s, margin in margins(mdp, final).items():
            if margin == 0:
                raise ValueError(
                    f"values0: after {self.sweeps} {plural(self.sweeps, 'sweep', 'sweeps')} state {s} has two best actions (a tie), so the "
                    f"greedy policy is not unique"
                )
        return self


def sweep_values(
    p: ValueIterationParams, mdp: Mdp | None = None, in_place: bool = False
) -> list[list[Fraction]]:
    """[V_0, V_1, ..., V_sweeps]."""
    mdp = mdp or mdp_of(p)
    return [list(v) for v in _history(mdp, tuple(exact(v) for v in p.values0), p.sweeps, in_place)]


@lru_cache(maxsize=256)  # validation, solve, statement and solution all need the same sweeps
def _history(
    mdp: Mdp, values0: tuple[Fraction, ...], sweeps: int, in_place: bool
) -> tuple[tuple[Fraction, ...], ...]:
    history = [list(values0)]
    for _ in range(sweeps):
        if in_place:
            history.append(in_place_sweep(mdp, history[-1], lambda s, vs: best_value(mdp, s, vs)))
        else:
            history.append(optimality_backup(mdp, history[-1]))
    return tuple(tuple(v) for v in history)


def greedy(mdp: Mdp, values: Sequence[Fraction]) -> list[int]:
    """argmax_a Q(s,a) from these values (the first best on a tie); 0 at terminal states."""
    return [
        0 if mdp.terminal(s) else max(range(len(qs)), key=qs.__getitem__)
        for s, qs in enumerate(q_values(mdp, values))
    ]


def margins(mdp: Mdp, values: Sequence[Fraction]) -> dict[int, Fraction]:
    """How much the best action beats the second best, per non-terminal state (one action: no rival)."""
    out = {}
    for s, qs in enumerate(q_values(mdp, values)):
        if not mdp.terminal(s) and len(qs) > 1:
            top = sorted(qs)
            out[s] = top[-1] - top[-2]
    return out


def answer(values: Sequence[Fraction] | None = None, policy: Sequence[int] | None = None) -> dict[str, str]:
    out = {}
    if values is not None:
        out["values"] = vector_text(values)
    if policy is not None:
        out["greedy_policy"] = "[" + ", ".join(str(a) for a in policy) + "]"
    return out


def _with_values(mdp: Mdp, values: Sequence[Fraction]) -> dict[str, str]:
    """A misconception's values and the greedy policy that follows from them."""
    return answer(values, greedy(mdp, values))


Form = tuple[int, int, int]  # states, terminal states (none or the last), sweeps


def _draw(rng: np.random.Generator, form: Form | None = None) -> ValueIterationParams | None:
    """One draw of `generate` (None: a tie or a close call); a given form keeps its states and sweeps."""
    if form is None:
        n = int(rng.integers(2, 4))
        terminal = n - 1 if n == 3 and rng.random() < 0.4 else None
    else:
        n, terminal = form[0], (form[0] - 1 if form[1] else None)
    params = random_mdp_params(rng, n, terminal)
    values0 = [0.0] * n if rng.random() < 0.5 else [float(x) for x in rng.integers(0, 4, size=n)]
    if terminal is not None:
        values0[terminal] = 0.0
    sweeps = int(rng.choice([1, 2, 2, 3])) if form is None else form[2]
    try:
        p = ValueIterationParams.model_validate({**params, "values0": values0, "sweeps": sweeps})
    except ValueError:
        return None  # a tie: draw again
    mdp = mdp_of(p)
    return p if min(margins(mdp, sweep_values(p)[-1]).values()) >= MARGIN else None


@register
class ValueIteration(Family[ValueIterationParams]):
    id = "rl.value_iteration"
    version = 1
    title = bi("值迭代与贪心策略", "Value iteration and the greedy policy")
    difficulty = 3
    tags = ("rl", "value_iteration", "bellman_optimality")
    Params = ValueIterationParams

    def generate(self, rng: np.random.Generator) -> ValueIterationParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: ValueIterationParams) -> Hashable:
        # Each sweep is a whole backup more: two sweeps are twice the work of one.
        return *mdp_form(p), p.sweeps

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> ValueIterationParams | None:
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: ValueIterationParams) -> list[Part]:
        n = len(p.states)
        return [
            Part(
                "values",
                AnswerSpec("vector"),
                bi(
                    f"{p.sweeps} 轮后的值 $V_{{{p.sweeps}}}$（{n} 维）",
                    f"the values $V_{{{p.sweeps}}}$ after {p.sweeps} {plural(p.sweeps, 'sweep', 'sweeps')} ({n} {plural(n, 'entry', 'entries')})",
                ),
                bi("向量，如 [4.2, 3.5]", "a vector, e.g. [4.2, 3.5]"),
            ),
            Part(
                "greedy_policy",
                AnswerSpec("vector", rtol=0, atol=0),
                bi(
                    "关于 $V_{" + str(p.sweeps) + "}$ 的贪心策略（每个状态的动作编号）",
                    "the greedy policy w.r.t. $V_{" + str(p.sweeps) + "}$ (an action index per state)",
                ),
                bi("动作编号（从 0 开始）的列表，如 [1, 0]", "a list of 0-based action indices, e.g. [1, 0]"),
            ),
        ]

    def solve(self, p: ValueIterationParams) -> dict[str, str]:
        mdp = mdp_of(p)
        final = sweep_values(p, mdp)[-1]
        return answer(final, greedy(mdp, final))

    def statement(self, p: ValueIterationParams) -> dict[str, str]:
        mdp = mdp_description(p)
        v0 = values_tex(p, [exact(v) for v in p.values0], "V_0")
        k = p.sweeps
        terminal = (
            bi("终止状态的动作写 0。", "For a terminal state write action 0.")
            if has_terminal(p)
            else bi("", "")
        )
        greedy_rule = (
            "$$\\pi(s) = \\arg\\max_{a} \\sum_{s'} p(s' \\mid s,a)\\left[r(s,a,s') + \\gamma V_{"
            + str(k)
            + "}(s')\\right]$$"
        )
        return bi(
            f"{mdp['zh']}\n\n从 ${v0}$ 出发做 {k} 轮值迭代\n\n{OPTIMALITY}\n\n{SYNCHRONOUS_NOTE['zh']}"
            f"求 $V_{{{k}}}$，以及关于 $V_{{{k}}}$ 的贪心策略\n\n{greedy_rule}\n\n（写每个状态所选动作的编号）。"
            f"{terminal['zh']}",
            f"{mdp['en']}\n\nStarting from ${v0}$, do {k} sweep{'s' if k > 1 else ''} of value iteration\n\n"
            f"{OPTIMALITY}\n\n{SYNCHRONOUS_NOTE['en']} Find $V_{{{k}}}$ and the greedy policy with respect to "
            f"$V_{{{k}}}$\n\n{greedy_rule}\n\n(the index of the chosen action in every state). {terminal['en']}".rstrip(),
        )

    def solution(self, p: ValueIterationParams) -> dict[str, list[str]]:
        mdp = mdp_of(p)
        history = sweep_values(p, mdp)
        zh: list[str] = []
        en: list[str] = []
        for k in range(1, len(history)):
            old = history[k - 1]
            zh.append(f"第 {k} 轮（全部用 $V_{{{k - 1}}}$）：")
            en.append(f"Sweep {k} (all from $V_{{{k - 1}}}$):")
            for s in range(mdp.n_states):
                if mdp.terminal(s):
                    continue
                qs = [f"${q_line(p, mdp, s, a, old)}$" for a in range(mdp.n_actions)]
                v = f"V_{{{k}}}({state_tex(p, s)}) = {tex_approx(history[k][s])}"
                zh.append(f"{'，'.join(qs)}，取最大：${v}$。")
                en.append(f"{', '.join(qs)}; the max: ${v}$.")
            zh.append(f"${values_tex(p, history[k], f'V_{k}')}$。")
            en.append(f"${values_tex(p, history[k], f'V_{k}')}$.")
        final = history[-1]
        policy = greedy(mdp, final)
        zh.append(f"贪心策略：用 $V_{{{p.sweeps}}}$ 再算一次每个 $Q(s,a)$，取最大的动作。")
        en.append(
            f"The greedy policy: every $Q(s,a)$ once more from $V_{{{p.sweeps}}}$, and the best action."
        )
        for s in range(mdp.n_states):
            if mdp.terminal(s):
                continue
            qs = [f"${q_line(p, mdp, s, a, final)}$" for a in range(mdp.n_actions)]
            zh.append(
                f"{'，'.join(qs)} → ${state_tex(p, s)}$ 选 {p.actions[policy[s]]}（编号 {policy[s]}）。"
            )
            en.append(
                f"{', '.join(qs)} → ${state_tex(p, s)}$ takes {p.actions[policy[s]]} (index {policy[s]})."
            )
        zh.append(
            f"所以 $V_{{{p.sweeps}}} = {vector_text(final)}$，贪心策略 $= {answer(policy=policy)['greedy_policy']}$。"
        )
        en.append(
            f"So $V_{{{p.sweeps}}} = {vector_text(final)}$ and the greedy policy is ${answer(policy=policy)['greedy_policy']}$."
        )
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[ValueIterationParams]]:
        def in_place(p: ValueIterationParams) -> dict[str, str]:
            mdp = mdp_of(p)
            return _with_values(mdp, sweep_values(p, mdp, in_place=True)[-1])

        def no_gamma(p: ValueIterationParams) -> dict[str, str]:
            mdp = mdp_of(p, Fraction(1))
            return _with_values(mdp, sweep_values(p, mdp)[-1])

        def averaged(p: ValueIterationParams) -> dict[str, str]:
            mdp = mdp_of(p)
            v = [exact(x) for x in p.values0]
            for _ in range(p.sweeps):
                v = expectation_backup(mdp, uniform_policy(mdp), v)
            return answer(values=v)

        def by_reward(p: ValueIterationParams) -> dict[str, str]:
            mdp = mdp_of(p)
            rewards = [
                [
                    expected_reward(mdp, s, a) if not mdp.terminal(s) else Fraction(0)
                    for a in range(mdp.n_actions)
                ]
                for s in range(mdp.n_states)
            ]
            return answer(
                policy=[
                    0 if mdp.terminal(s) else max(range(mdp.n_actions), key=row.__getitem__)
                    for s, row in enumerate(rewards)
                ]
            )

        def by_previous(p: ValueIterationParams) -> dict[str, str]:
            mdp = mdp_of(p)
            return answer(policy=greedy(mdp, sweep_values(p, mdp)[-2]))

        return [
            Misconception(
                "in_place_sweep",
                bi(
                    "这是原地（高斯-赛德尔式）更新：算后面的状态时用了本轮刚更新的值。题目要求同步更新，每轮右边全用上一轮的 V。",
                    "That is an in-place (Gauss-Seidel) sweep: later states used values updated in the same "
                    "sweep. Sweeps here are synchronous: the right-hand side uses the previous sweep's V only.",
                ),
                in_place,
            ),
            Misconception(
                "forgot_gamma",
                bi(
                    "下一状态的值要乘以折扣率 γ：r + γ·V(s')。",
                    "The next state's value is discounted: r + γ·V(s').",
                ),
                no_gamma,
            ),
            Misconception(
                "averaged_actions",
                bi(
                    "值迭代对动作取最大（贝尔曼最优方程），不是对动作求平均（那是评估均匀随机策略）。",
                    "Value iteration takes the max over actions (the Bellman optimality equation), not the "
                    "average (that evaluates the uniform random policy).",
                ),
                averaged,
            ),
            Misconception(
                "greedy_by_immediate_reward",
                bi(
                    "贪心策略要比较 Q(s,a) = Σ p·[r + γ·V(s')]，不能只比较即时奖励。",
                    "The greedy policy compares Q(s,a) = Σ p·[r + γ·V(s')], not the immediate rewards alone.",
                ),
                by_reward,
            ),
            Misconception(
                "greedy_from_previous_values",
                bi(
                    "这是关于上一轮值 V_(k-1) 的贪心动作（最后一轮里取到最大的动作）；题目要关于最终的 V_k 再算一次 Q 取最大。",
                    "Those are the greedy actions w.r.t. the previous values V_(k-1) (the maximisers of the last "
                    "sweep); the question asks for Q recomputed from the final V_k.",
                ),
                by_previous,
            ),
        ]
