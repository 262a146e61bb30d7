"""rl.epsilon_greedy: the action probabilities of an epsilon-greedy policy (seeds/003 第十四章 ε 贪心法).

With probability 1 - epsilon the greedy action, with probability epsilon a uniformly random action
(the greedy one included): pi(a*) = 1 - epsilon + epsilon/|A|, pi(a) = epsilon/|A| otherwise.
The seed's notes say "ε 的概率选择其它动作, 每个动作 ε/|A|", which mixes the two conventions;
Qiu's book and Sutton & Barto draw the random action from all of A, as here.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.rl_common import MAX_ACTIONS, Value, exact, pick, tex, vector_text
from problems.registry import register

MAX_ACTIONS_HERE = 2 * MAX_ACTIONS


class EpsilonGreedyParams(Params):
    q_values: Annotated[list[Value], Field(min_length=2, max_length=MAX_ACTIONS_HERE)] = Field(
        description="Q(s, a) for every action a of the state, 0-based"
    )
    epsilon: float = Field(ge=0, le=1, allow_inf_nan=False, description="exploration probability")

    @model_validator(mode="after")
    def _unique_greedy(self) -> EpsilonGreedyParams:
        qs = [exact(x) for x in self.q_values]
        if qs.count(max(qs)) > 1:
            raise ValueError(
                "q_values: the largest value must be unique (a tie leaves the greedy action undefined)"
            )
        return self


def greedy(p: EpsilonGreedyParams) -> int:
    qs = [exact(x) for x in p.q_values]
    return qs.index(max(qs))


def probabilities(p: EpsilonGreedyParams, greedy_share: str = "right") -> list[Fraction]:
    """Every action's probability; the other shares are misconceptions."""
    n, eps, best = len(p.q_values), exact(p.epsilon), greedy(p)
    if greedy_share == "others_only":  # epsilon spread over the non-greedy actions only
        return [1 - eps if a == best else eps / (n - 1) for a in range(n)]
    base = eps / n
    top = 1 - eps if greedy_share == "forgot_exploration_share" else 1 - eps + base
    return [top if a == best else base for a in range(n)]


def answer(ps: Sequence[Fraction]) -> dict[str, str]:
    return {"probabilities": vector_text(ps)}


@register
class EpsilonGreedy(Family[EpsilonGreedyParams]):
    id = "rl.epsilon_greedy"
    version = 1
    title = bi("ε-贪心策略的动作概率", "Action probabilities of an ε-greedy policy")
    difficulty = 1
    tags = ("rl", "exploration", "epsilon_greedy")
    Params = EpsilonGreedyParams

    def generate(self, rng: np.random.Generator) -> EpsilonGreedyParams:
        while True:
            n = int(rng.integers(2, 5))
            qs = (rng.integers(-10, 31, size=n) / 10).tolist()
            eps = float(pick(rng, (0.1, 0.2, 0.3, 0.4, 0.5)))
            if qs.count(max(qs)) == 1:
                return EpsilonGreedyParams(q_values=qs, epsilon=eps)

    def parts(self, p: EpsilonGreedyParams) -> list[Part]:
        n = len(p.q_values)
        return [
            Part(
                "probabilities",
                AnswerSpec("vector"),
                bi(
                    f"每个动作被选中的概率 $[\\pi(a_0 \\mid s), \\dots, \\pi(a_{{{n - 1}}} \\mid s)]$",
                    f"the probability of each action $[\\pi(a_0 \\mid s), \\dots, \\pi(a_{{{n - 1}}} \\mid s)]$",
                ),
                bi(
                    "向量，按动作编号排列，如 [0.95, 0.05] 或 [19/20, 1/20]",
                    "a vector in action order, e.g. [0.95, 0.05] or [19/20, 1/20]",
                ),
            )
        ]

    def solve(self, p: EpsilonGreedyParams) -> dict[str, str]:
        return answer(probabilities(p))

    def statement(self, p: EpsilonGreedyParams) -> dict[str, str]:
        n = len(p.q_values)
        qs = ", ".join(f"Q(s, a_{{{a}}}) = {tex(exact(x))}" for a, x in enumerate(p.q_values))
        eps = tex(exact(p.epsilon))
        return bi(
            f"某状态 $s$ 下有 $|\\mathcal A| = {n}$ 个动作（从 0 开始编号），其 Q 值为 ${qs}$。"
            f"智能体采用 $\\epsilon$-贪心策略，$\\epsilon = {eps}$：以 $1-\\epsilon$ 的概率选 Q 值最大的动作，"
            f"以 $\\epsilon$ 的概率从全部 $|\\mathcal A|$ 个动作（包括 Q 值最大的那个）中均匀随机选一个。"
            f"求每个动作被选中的概率。",
            f"In a state $s$ there are $|\\mathcal A| = {n}$ {plural(n, 'action', 'actions')} (numbered from 0) with Q values ${qs}$. "
            f"The agent follows an $\\epsilon$-greedy policy with $\\epsilon = {eps}$: with probability "
            f"$1-\\epsilon$ it takes the action of largest Q value, and with probability $\\epsilon$ an action "
            f"drawn uniformly from all $|\\mathcal A|$ actions (the greedy one included). Find the probability "
            f"of each action.",
        )

    def solution(self, p: EpsilonGreedyParams) -> dict[str, list[str]]:
        n, eps, best = len(p.q_values), exact(p.epsilon), greedy(p)
        ps = probabilities(p)
        base = f"\\frac{{\\epsilon}}{{|\\mathcal A|}} = \\frac{{{tex(eps)}}}{{{n}}} = {tex(eps / n)}"
        top = f"1 - \\epsilon + \\frac{{\\epsilon}}{{|\\mathcal A|}} = 1 - {tex(eps)} + {tex(eps / n)} = {tex(ps[best])}"
        check = " + ".join(tex(x) for x in ps)
        return {
            "zh": [
                f"Q 值最大的动作是 $a_{{{best}}}$（$Q = {tex(exact(p.q_values[best]))}$）。",
                f"每个动作在随机探索时被选中的概率：${base}$。",
                f"贪心动作还要加上利用的概率：$\\pi(a_{{{best}}} \\mid s) = {top}$。",
                f"结果 ${vector_text(ps)}$，检验：${check} = 1$。",
            ],
            "en": [
                f"The greedy action is $a_{{{best}}}$ ($Q = {tex(exact(p.q_values[best]))}$).",
                f"Every action gets its share of exploration: ${base}$.",
                f"The greedy action also gets the exploitation probability: $\\pi(a_{{{best}}} \\mid s) = {top}$.",
                f"So ${vector_text(ps)}$; check: ${check} = 1$.",
            ],
        }

    def misconceptions(self) -> list[Misconception[EpsilonGreedyParams]]:
        return [
            Misconception(
                "greedy_gets_one_minus_epsilon",
                bi(
                    "随机探索时贪心动作也可能被抽中，所以它的概率是 (1−ε) + ε/|A|，不是 1−ε；你的概率加起来不等于 1。",
                    "Exploration can draw the greedy action too, so its probability is (1−ε) + ε/|A|, not "
                    "1−ε; your probabilities do not sum to 1.",
                ),
                lambda p: answer(probabilities(p, "forgot_exploration_share")),
            ),
            Misconception(
                "epsilon_split_among_others",
                bi(
                    "这里的 ε 是从全部 |A| 个动作中均匀随机选（包括贪心动作），每个动作得 ε/|A|，而不是只在其余动作间分 ε。",
                    "Here ε draws uniformly from all |A| actions (the greedy one included), ε/|A| each, rather "
                    "than splitting ε among the other actions only.",
                ),
                lambda p: answer(probabilities(p, "others_only")),
            ),
            Misconception(
                "greedy_is_smallest_q",
                bi(
                    "贪心动作是 Q 值最大的动作（Q 是回报，越大越好），不是最小的。",
                    "The greedy action has the largest Q value (Q is a return: larger is better), not the smallest.",
                ),
                lambda p: (
                    answer(
                        probabilities(
                            EpsilonGreedyParams(q_values=[-x for x in p.q_values], epsilon=p.epsilon)
                        )
                    )
                    if [-x for x in p.q_values].count(max(-x for x in p.q_values)) == 1
                    else {}
                ),
            ),
        ]
