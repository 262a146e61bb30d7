"""rl.q_learning_update: one Q-learning update of a Q table (seeds/003 第十四章 Q-Learning, off-policy TD).

Q(s,a) <- Q(s,a) + alpha (r + gamma max_a' Q(s',a') - Q(s,a)); the target is r alone when s' is terminal.
"""

from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction

import numpy as np

from grader import AnswerSpec
from problems.base import Family, Misconception, Part, bi
from problems.families.rl_common import (
    TD_BOOTSTRAP_NOTE,
    TdParams,
    exact,
    q_table,
    random_td_step,
    step_text,
    td_line,
    td_misconceptions,
    td_new,
    tex,
    text,
)
from problems.registry import register


class QLearningParams(TdParams):
    pass


def best_next(p: QLearningParams) -> Fraction:
    """max_a' Q(s', a')."""
    return max(exact(x) for x in p.q[p.s_next])


def target(p: QLearningParams) -> Fraction:
    return exact(p.r) if p.terminal else exact(p.r) + exact(p.gamma) * best_next(p)


def q_new(p: QLearningParams) -> Fraction:
    return td_new(exact(p.q[p.s][p.a]), target(p), exact(p.alpha))


def answer(v: Fraction) -> dict[str, str]:
    return {"q_new": text(v)}


@register
class QLearningUpdate(Family[QLearningParams]):
    id = "rl.q_learning_update"
    version = 1
    title = bi("Q 学习的一步更新", "One Q-learning update")
    difficulty = 2
    tags = ("rl", "q_learning", "temporal_difference")
    Params = QLearningParams

    def generate(self, rng: np.random.Generator) -> QLearningParams:
        while True:
            p = QLearningParams.model_validate(random_td_step(rng))
            # A real change (nonzero TD error) and a unique best next action.
            row = sorted(exact(x) for x in p.q[p.s_next])
            if target(p) != exact(p.q[p.s][p.a]) and row[-1] != row[-2]:
                return p

    def form(self, p: QLearningParams) -> Hashable:
        # The max runs over the next state's actions, and a terminal step has none; the table's other
        # rows are only read.
        return len(p.q[0]), p.terminal

    def parts(self, p: QLearningParams) -> list[Part]:
        return [
            Part(
                "q_new",
                AnswerSpec("real"),
                bi(
                    f"更新后的 $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$",
                    f"the updated $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$",
                ),
                bi("一个数，如 0.73", "a number, e.g. 0.73"),
            )
        ]

    def solve(self, p: QLearningParams) -> dict[str, str]:
        return answer(q_new(p))

    def statement(self, p: QLearningParams) -> dict[str, str]:
        rule = (
            "$$Q(s,a) \\leftarrow Q(s,a) + \\alpha\\left(r + \\gamma \\max_{a'} Q(s',a') - Q(s,a)\\right)$$"
        )
        step = step_text(p)
        table = q_table(p.q)
        hyper = f"$\\alpha = {tex(exact(p.alpha))}$，$\\gamma = {tex(exact(p.gamma))}$"
        hyper_en = f"$\\alpha = {tex(exact(p.alpha))}$, $\\gamma = {tex(exact(p.gamma))}$"
        return bi(
            f"用 Q 学习（异策略时序差分）学习 Q 函数，状态与动作从 0 开始编号。当前的 Q 表为\n\n{table}\n\n"
            f"智能体经历了一步：{step['zh']}。学习率与折扣率为 {hyper}。更新规则为\n\n{rule}\n\n"
            f"{TD_BOOTSTRAP_NOTE['zh']}求更新后的 $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$。",
            f"Q-learning (off-policy temporal difference) learns a Q function; states and actions are numbered "
            f"from 0. The current Q table is\n\n{table}\n\nThe agent makes one step: {step['en']}. The learning "
            f"rate and discount are {hyper_en}. The update rule is\n\n{rule}\n\n{TD_BOOTSTRAP_NOTE['en']} "
            f"Find the updated $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$.",
        )

    def solution(self, p: QLearningParams) -> dict[str, list[str]]:
        best = best_next(p)
        row = ", ".join(tex(exact(x)) for x in p.q[p.s_next])
        line = f"${td_line(p, best)}$"
        if p.terminal:
            first = bi(
                f"s{p.s_next} 是终止状态，目标值只有 $r = {tex(exact(p.r))}$。",
                f"s{p.s_next} is terminal, so the target is just $r = {tex(exact(p.r))}$.",
            )
        else:
            first = bi(
                f"下一状态 s{p.s_next} 的最大 Q 值：$\\max_{{a'}} Q(\\text{{s{p.s_next}}}, a') = \\max({row}) = {tex(best)}$"
                f"（Q 学习取最大值，与实际下一步选哪个动作无关）。",
                f"The best Q value of the next state s{p.s_next}: $\\max_{{a'}} Q(\\text{{s{p.s_next}}}, a') = "
                f"\\max({row}) = {tex(best)}$ (Q-learning takes the max, whatever action is taken next).",
            )
        return {
            "zh": [first["zh"], f"代入更新规则：{line}。"],
            "en": [first["en"], f"Into the update rule: {line}."],
        }

    def misconceptions(self) -> list[Misconception[QLearningParams]]:
        return [
            *td_misconceptions(best_next, answer),
            Misconception(
                "bootstrapped_from_taken_action",
                bi(
                    "Q 学习的目标值用下一状态的最大 Q 值 max_a' Q(s', a')；用 Q(s', a)（某个具体动作的值）是 SARSA 式的目标。",
                    "The Q-learning target uses the best next value max_a' Q(s', a'); using Q(s', a), the value "
                    "of one particular action, is a SARSA-style target.",
                ),
                lambda p: (
                    {}
                    if p.terminal or p.a >= len(p.q[p.s_next])
                    else answer(
                        td_new(
                            exact(p.q[p.s][p.a]),
                            exact(p.r) + exact(p.gamma) * exact(p.q[p.s_next][p.a]),
                            exact(p.alpha),
                        )
                    )
                ),
            ),
        ]
