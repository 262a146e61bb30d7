"""rl.policy_evaluation: the exact state values V^pi of a policy (seeds/003 第十四章 策略评估).

V^pi solves the Bellman expectation equation V = R_pi + gamma P_pi V, a linear system; we solve it in
exact Fractions (Gauss-Jordan), so 3/2 and 1.5 are both right, and terminal states have V = 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Part, bi
from problems.families.rl_common import (
    MdpParams,
    PolicyRows,
    check_policy,
    evaluate_policy,
    exact_policy,
    expectation_backup,
    has_terminal,
    mdp_description,
    mdp_form,
    mdp_of,
    policy_table,
    random_mdp_params,
    random_policy,
    state_tex,
    tex,
    tex_approx,
    uniform_policy,
    vector_text,
)
from problems.registry import register

MAX_DENOMINATOR = 200  # generated answers stay fractions a student can reach by hand

BELLMAN = (
    "$$V^{\\pi}(s) = \\sum_{a} \\pi(a \\mid s) \\sum_{s'} p(s' \\mid s,a)\\left[r(s,a,s') + "
    "\\gamma V^{\\pi}(s')\\right]$$"
)


class PolicyEvaluationParams(MdpParams):
    policy: PolicyRows = Field(description="pi[s][a]: probability of action a in state s")

    @model_validator(mode="after")
    def _check_policy_defines_values(self) -> PolicyEvaluationParams:
        check_policy(self.policy, len(self.states), len(self.actions))
        if evaluate_policy(mdp_of(self), exact_policy(self.policy)) is None:
            raise ValueError(
                "gamma: with this discount the values are undefined (some state never reaches a terminal "
                "state); use gamma < 1"
            )
        return self


def values(p: PolicyEvaluationParams) -> list[Fraction]:
    v = evaluate_policy(mdp_of(p), exact_policy(p.policy))
    assert v is not None  # the params validator refuses a singular system
    return v


def answer(vs: Sequence[Fraction]) -> dict[str, str]:
    return {"values": vector_text(vs)}


def _linear_form(p: PolicyEvaluationParams, s: int) -> tuple[Fraction, list[Fraction]]:
    """R_pi(s) and the row P_pi(s, .) of the equation V(s) = R_pi(s) + gamma sum_s' P_pi(s,s') V(s')."""
    mdp, policy = mdp_of(p), exact_policy(p.policy)
    reward = Fraction(0)
    row = [Fraction(0)] * mdp.n_states
    for a in range(mdp.n_actions):
        for s_next, prob, r in mdp.outcomes[s][a]:
            reward += policy[s][a] * prob * r
            row[s_next] += policy[s][a] * prob
    return reward, row


def _v(p: PolicyEvaluationParams, s: int) -> str:
    return f"V({state_tex(p, s)})"


def _rearranged(p: PolicyEvaluationParams, s: int) -> str:
    """The equation of state s as sum_t (1[s=t] - gamma P_pi(s,t)) V(t) = R_pi(s), over non-terminal t."""
    mdp = mdp_of(p)
    reward, row = _linear_form(p, s)
    terms = []
    for t, w in enumerate(row):
        c = Fraction(int(s == t)) - mdp.gamma * w
        if c == 0 or mdp.terminal(t):
            continue
        sign = "-" if c < 0 else "+"
        coef = "" if abs(c) == 1 else f"{tex(abs(c))}\\,"
        terms.append(f"{sign} {coef}{_v(p, t)}")
    lhs = " ".join(terms).removeprefix("+ ") if terms else "0"
    lhs = "-" + lhs[2:] if lhs.startswith("- ") else lhs
    return f"{lhs} = {tex(reward)}"


@register
class PolicyEvaluation(Family[PolicyEvaluationParams]):
    id = "rl.policy_evaluation"
    version = 1
    title = bi("策略评估：精确求解 $V^\\pi$", "Policy evaluation: the exact $V^\\pi$")
    difficulty = 3
    tags = ("rl", "policy_evaluation", "bellman_equation")
    Params = PolicyEvaluationParams

    def generate(self, rng: np.random.Generator) -> PolicyEvaluationParams:
        while True:
            # Two unknowns: two states, or three with one terminal.
            n = 2 if rng.random() < 0.7 else 3
            params = random_mdp_params(rng, n, terminal=2 if n == 3 else None)
            p = PolicyEvaluationParams.model_validate({**params, "policy": random_policy(rng, n)})
            v = values(p)
            if max(x.denominator for x in v) <= MAX_DENOMINATOR and any(x != 0 for x in v):
                return p

    def form(self, p: PolicyEvaluationParams) -> Hashable:
        return mdp_form(p)

    def parts(self, p: PolicyEvaluationParams) -> list[Part]:
        n = len(p.states)
        return [
            Part(
                "values",
                AnswerSpec("vector"),
                bi(
                    f"$V^{{\\pi}}$（{n} 维，按状态编号）",
                    f"$V^{{\\pi}}$ ({n} {plural(n, 'entry', 'entries')}, in state order)",
                ),
                bi("向量，可以写分数，如 [3/2, 7/4]", "a vector; fractions are fine, e.g. [3/2, 7/4]"),
            )
        ]

    def solve(self, p: PolicyEvaluationParams) -> dict[str, str]:
        return answer(values(p))

    def statement(self, p: PolicyEvaluationParams) -> dict[str, str]:
        mdp = mdp_description(p)
        pol = policy_table(p, p.policy)
        return bi(
            f"{mdp['zh']}\n\n策略 $\\pi$ 为\n\n{pol}\n\n求该策略的状态值函数 $V^{{\\pi}}$ 的精确值，"
            f"即贝尔曼期望方程\n\n{BELLMAN}\n\n的解（可以写分数）。",
            f"{mdp['en']}\n\nThe policy $\\pi$ is\n\n{pol}\n\nFind the exact state values $V^{{\\pi}}$ of this "
            f"policy, the solution of the Bellman expectation equation\n\n{BELLMAN}\n\n(fractions are fine).",
        )

    def solution(self, p: PolicyEvaluationParams) -> dict[str, list[str]]:
        mdp, v = mdp_of(p), values(p)
        gamma = tex(mdp.gamma)
        zh = ["对每个非终止状态写出贝尔曼期望方程（先按策略把动作合并成期望奖励与转移概率）："]
        en = [
            "Write the Bellman expectation equation of every non-terminal state (the policy first merges the "
            "actions into an expected reward and transition probabilities):"
        ]
        for s in range(mdp.n_states):
            if mdp.terminal(s):
                zh.append(f"${state_tex(p, s)}$ 是终止状态，${_v(p, s)} = 0$。")
                en.append(f"${state_tex(p, s)}$ is terminal, ${_v(p, s)} = 0$.")
                continue
            reward, row = _linear_form(p, s)
            mix = " + ".join(f"{tex(w)}\\,{_v(p, t)}" for t, w in enumerate(row) if w != 0)
            line = f"${_v(p, s)} = {tex(reward)} + {gamma}\\,({mix})$"
            zh.append(line)
            en.append(line)
        system = [f"${_rearranged(p, s)}$" for s in range(mdp.n_states) if not mdp.terminal(s)]
        note = (
            bi("（终止状态的 $V = 0$ 代入）", " (terminal states have $V = 0$)")
            if has_terminal(p)
            else bi("", "")
        )
        zh.append(f"移项{note['zh']}得线性方程组：" + "，".join(system) + "。")
        en.append(f"Moving the unknowns to the left{note['en']}: " + ", ".join(system) + ".")
        result = ", ".join(f"{_v(p, s)} = {tex_approx(x)}" for s, x in enumerate(v))
        zh.append(f"解这个线性方程组（代入消元）：${result}$。")
        en.append(f"Solving this linear system (by substitution): ${result}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[PolicyEvaluationParams]]:
        def with_gamma_1(p: PolicyEvaluationParams) -> dict[str, str]:
            v = evaluate_policy(mdp_of(p, Fraction(1)), exact_policy(p.policy))
            return {} if v is None else answer(v)

        def uniform(p: PolicyEvaluationParams) -> dict[str, str]:
            v = evaluate_policy(mdp_of(p), uniform_policy(mdp_of(p)))
            return {} if v is None else answer(v)

        return [
            Misconception(
                "ignored_policy",
                bi(
                    "要按策略的概率 π(a|s) 对各动作加权，而不是把各动作等概率平均。",
                    "Weight the actions by the policy's probabilities π(a|s), not equally.",
                ),
                uniform,
            ),
            Misconception(
                "one_backup_from_zero",
                bi(
                    "这只是从 V = 0 出发做一次备份（期望即时奖励）；V^π 是贝尔曼方程的不动点，要解整个线性方程组。",
                    "That is one backup from V = 0 (the expected immediate reward); V^π is the fixed point of "
                    "the Bellman equation: solve the whole linear system.",
                ),
                lambda p: answer(
                    expectation_backup(mdp_of(p), exact_policy(p.policy), [Fraction(0)] * len(p.states))
                ),
            ),
            Misconception(
                "forgot_gamma",
                bi(
                    "下一状态的值要乘以折扣率 γ：V(s) = R + γ·Σ P·V(s')。",
                    "The next state's value is discounted: V(s) = R + γ·Σ P·V(s').",
                ),
                with_gamma_1,
            ),
        ]
