"""rl.bellman_expectation: one synchronous Bellman expectation backup of V under a policy (seeds/003 第十四章).

V'(s) = sum_a pi(a|s) sum_s' p(s'|s,a) [r(s,a,s') + gamma V(s')], every V' from the old V; V' = 0 at
terminal states.
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
    SYNCHRONOUS_NOTE,
    MdpParams,
    PolicyRows,
    Value,
    check_policy,
    check_values,
    exact,
    exact_policy,
    expectation_backup,
    in_place_sweep,
    mdp_description,
    mdp_form,
    mdp_of,
    optimality_backup,
    paren,
    policy_table,
    policy_value,
    q_line,
    q_value,
    random_mdp_params,
    random_policy,
    state_tex,
    tex,
    tex_approx,
    uniform_policy,
    values_tex,
    vector_text,
)
from problems.registry import register

BELLMAN = (
    "$$V_{\\text{new}}(s) = \\sum_{a} \\pi(a \\mid s) \\sum_{s'} p(s' \\mid s,a)\\left[r(s,a,s') + "
    "\\gamma V(s')\\right]$$"
)


class BellmanExpectationParams(MdpParams):
    policy: PolicyRows = Field(description="pi[s][a]: probability of action a in state s")
    values: list[Value] = Field(description="the current values V, one per state (0 at terminal states)")

    @model_validator(mode="after")
    def _check_policy_values(self) -> BellmanExpectationParams:
        check_policy(self.policy, len(self.states), len(self.actions))
        check_values("values", self.values, self)
        return self


def _values(p: BellmanExpectationParams) -> list[Fraction]:
    return [exact(v) for v in p.values]


def v_new(p: BellmanExpectationParams) -> list[Fraction]:
    return expectation_backup(mdp_of(p), exact_policy(p.policy), _values(p))


def answer(vs: Sequence[Fraction]) -> dict[str, str]:
    return {"v_new": vector_text(vs)}


@register
class BellmanExpectation(Family[BellmanExpectationParams]):
    id = "rl.bellman_expectation"
    version = 1
    title = bi("贝尔曼期望方程：一次同步备份", "Bellman expectation equation: one synchronous backup")
    difficulty = 2
    tags = ("rl", "bellman_equation", "policy_evaluation")
    Params = BellmanExpectationParams

    def generate(self, rng: np.random.Generator) -> BellmanExpectationParams:
        while True:
            n = int(rng.integers(2, 4))
            terminal = n - 1 if n == 3 and rng.random() < 0.4 else None
            params = random_mdp_params(rng, n, terminal)
            values = [float(x) for x in rng.integers(-2, 6, size=n)]
            if terminal is not None:
                values[terminal] = 0.0
            p = BellmanExpectationParams.model_validate(
                {**params, "policy": random_policy(rng, n), "values": values}
            )
            # The backup changes something, and the discount matters (some V(s') enters with p > 0).
            if v_new(p) != _values(p) and any(v != 0 for v in _values(p)):
                return p

    def form(self, p: BellmanExpectationParams) -> Hashable:
        return mdp_form(p)

    def parts(self, p: BellmanExpectationParams) -> list[Part]:
        n = len(p.states)
        return [
            Part(
                "v_new",
                AnswerSpec("vector"),
                bi(
                    f"备份后的值 $V_{{\\text{{new}}}}$（{n} 维，按状态编号）",
                    f"the backed-up values $V_{{\\text{{new}}}}$ ({n} {plural(n, 'entry', 'entries')}, in state order)",
                ),
                bi("向量，如 [1.5, 7/4] 或 [1.5, 1.75]", "a vector, e.g. [1.5, 7/4] or [1.5, 1.75]"),
            )
        ]

    def solve(self, p: BellmanExpectationParams) -> dict[str, str]:
        return answer(v_new(p))

    def statement(self, p: BellmanExpectationParams) -> dict[str, str]:
        mdp = mdp_description(p)
        pol = policy_table(p, p.policy)
        vals = values_tex(p, _values(p))
        return bi(
            f"{mdp['zh']}\n\n策略 $\\pi$ 为\n\n{pol}\n\n当前的状态值为 ${vals}$。用贝尔曼期望方程做一次备份\n\n"
            f"{BELLMAN}\n\n{SYNCHRONOUS_NOTE['zh']}求 $V_{{\\text{{new}}}}$。",
            f"{mdp['en']}\n\nThe policy $\\pi$ is\n\n{pol}\n\nThe current state values are ${vals}$. Do one "
            f"backup with the Bellman expectation equation\n\n{BELLMAN}\n\n{SYNCHRONOUS_NOTE['en']} Find "
            f"$V_{{\\text{{new}}}}$.",
        )

    def solution(self, p: BellmanExpectationParams) -> dict[str, list[str]]:
        mdp, policy, values = mdp_of(p), exact_policy(p.policy), _values(p)
        zh: list[str] = ["先用旧的 $V$ 算出每个 $Q(s,a)$，再按策略概率加权。"]
        en: list[str] = ["First every $Q(s,a)$ from the old $V$, then weight them by the policy."]
        for s in range(mdp.n_states):
            if mdp.terminal(s):
                zh.append(f"${state_tex(p, s)}$ 是终止状态：$V_{{\\text{{new}}}}({state_tex(p, s)}) = 0$。")
                en.append(f"${state_tex(p, s)}$ is terminal: $V_{{\\text{{new}}}}({state_tex(p, s)}) = 0$.")
                continue
            qs = "，".join(f"${q_line(p, mdp, s, a, values)}$" for a in range(mdp.n_actions))
            qs_en = ", ".join(f"${q_line(p, mdp, s, a, values)}$" for a in range(mdp.n_actions))
            weighted = " + ".join(
                f"{tex(policy[s][a])} \\cdot {paren(q_value(mdp, s, a, values))}"
                for a in range(mdp.n_actions)
            )
            v = f"V_{{\\text{{new}}}}({state_tex(p, s)}) = {weighted} = {tex_approx(policy_value(mdp, policy, s, values))}"
            zh.append(f"{qs}；${v}$。")
            en.append(f"{qs_en}; ${v}$.")
        result = vector_text(v_new(p))
        zh.append(f"所以 $V_{{\\text{{new}}}} = {result}$。")
        en.append(f"So $V_{{\\text{{new}}}} = {result}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[BellmanExpectationParams]]:
        return [
            Misconception(
                "ignored_policy",
                bi(
                    "要按策略的概率 π(a|s) 对各动作加权，而不是对各动作简单平均。",
                    "Weight the actions by the policy's probabilities π(a|s), not by a plain average.",
                ),
                lambda p: answer(expectation_backup(mdp_of(p), uniform_policy(mdp_of(p)), _values(p))),
            ),
            Misconception(
                "max_over_actions",
                bi(
                    "这是值迭代的最优备份（对动作取最大）；贝尔曼期望方程按策略 π 对动作求期望。",
                    "That is value iteration's optimality backup (max over actions); the Bellman expectation "
                    "equation averages over actions under the policy π.",
                ),
                lambda p: answer(optimality_backup(mdp_of(p), _values(p))),
            ),
            Misconception(
                "forgot_gamma",
                bi(
                    "下一状态的值要乘以折扣率 γ：r + γ·V(s')。",
                    "The next state's value is discounted: r + γ·V(s').",
                ),
                lambda p: answer(
                    expectation_backup(mdp_of(p, Fraction(1)), exact_policy(p.policy), _values(p))
                ),
            ),
            Misconception(
                "forgot_reward",
                bi(
                    "别漏了即时奖励：每个后继状态贡献 p(s'|s,a)·[r(s,a,s') + γ·V(s')]。",
                    "Do not leave out the reward: each next state contributes p(s'|s,a)·[r(s,a,s') + γ·V(s')].",
                ),
                lambda p: answer(
                    expectation_backup(
                        mdp_of(p.model_copy(update={"transitions": _zero_rewards(p)})),
                        exact_policy(p.policy),
                        _values(p),
                    )
                ),
            ),
            Misconception(
                "in_place_sweep",
                bi(
                    "这是原地（高斯-赛德尔式）更新：算后面的状态时用了刚更新的值。题目要求同步备份，右边全用旧的 V。",
                    "That is an in-place (Gauss-Seidel) sweep: later states used values just updated. The "
                    "backup here is synchronous: the right-hand side uses the old V only.",
                ),
                lambda p: answer(
                    in_place_sweep(
                        mdp_of(p),
                        _values(p),
                        lambda s, vs: policy_value(mdp_of(p), exact_policy(p.policy), s, vs),
                    )
                ),
            ),
        ]


def _zero_rewards(p: BellmanExpectationParams) -> list[list[list[tuple[int, float, float]]]]:
    return [[[(t, pr, 0.0) for t, pr, _ in outs] for outs in row] for row in p.transitions]
