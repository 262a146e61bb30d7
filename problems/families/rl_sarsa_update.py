"""rl.sarsa_update: one SARSA update of a Q table (seeds/003 第十四章 SARSA, on-policy TD).

Q(s,a) <- Q(s,a) + alpha (r + gamma Q(s',a') - Q(s,a)) with a' the action actually chosen in s';
the target is r alone when s' is terminal.
"""

from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction

import numpy as np
from pydantic import Field, model_validator

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


class SarsaParams(TdParams):
    a_next: int = Field(ge=0, description="action index chosen in s_next (by the behaviour policy)")

    @model_validator(mode="after")
    def _check_a_next(self) -> SarsaParams:
        if self.a_next >= len(self.q[0]):
            raise ValueError(f"a_next: must be an action index below {len(self.q[0])}")
        return self


def chosen_next(p: SarsaParams) -> Fraction:
    """Q(s', a') of the action actually chosen next."""
    return exact(p.q[p.s_next][p.a_next])


def best_next(p: SarsaParams) -> Fraction:
    return max(exact(x) for x in p.q[p.s_next])


def q_new(p: SarsaParams) -> Fraction:
    tgt = exact(p.r) if p.terminal else exact(p.r) + exact(p.gamma) * chosen_next(p)
    return td_new(exact(p.q[p.s][p.a]), tgt, exact(p.alpha))


def answer(v: Fraction) -> dict[str, str]:
    return {"q_new": text(v)}


@register
class SarsaUpdate(Family[SarsaParams]):
    id = "rl.sarsa_update"
    version = 1
    title = bi("SARSA 的一步更新", "One SARSA update")
    difficulty = 2
    tags = ("rl", "sarsa", "temporal_difference")
    Params = SarsaParams

    def generate(self, rng: np.random.Generator) -> SarsaParams:
        while True:
            step = random_td_step(rng)
            row = [exact(x) for x in step["q"][step["s_next"]]]
            best = max(range(len(row)), key=row.__getitem__)
            others = [j for j in range(len(row)) if j != best]
            # Mostly an exploring next action, so SARSA's target differs from Q-learning's max.
            step["a_next"] = int(others[int(rng.integers(len(others)))]) if rng.random() < 0.7 else best
            p = SarsaParams.model_validate(step)
            ordered = sorted(row)
            if q_new(p) != exact(p.q[p.s][p.a]) and ordered[-1] != ordered[-2]:
                return p

    def form(self, p: SarsaParams) -> Hashable:
        # One entry of the table is read whatever its size; a terminal step reads none.
        return p.terminal

    def parts(self, p: SarsaParams) -> list[Part]:
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

    def solve(self, p: SarsaParams) -> dict[str, str]:
        return answer(q_new(p))

    def statement(self, p: SarsaParams) -> dict[str, str]:
        rule = "$$Q(s,a) \\leftarrow Q(s,a) + \\alpha\\left(r + \\gamma Q(s',a') - Q(s,a)\\right)$$"
        step = step_text(p)
        table = q_table(p.q)
        hyper = f"$\\alpha = {tex(exact(p.alpha))}$，$\\gamma = {tex(exact(p.gamma))}$"
        hyper_en = f"$\\alpha = {tex(exact(p.alpha))}$, $\\gamma = {tex(exact(p.gamma))}$"
        nxt = bi(
            f"随后智能体按其 $\\epsilon$-贪心策略在 s{p.s_next} 选择了动作 $a_{{t+1}} = \\text{{a{p.a_next}}}$",
            f"then, by its $\\epsilon$-greedy policy, the agent chose action $a_{{t+1}} = \\text{{a{p.a_next}}}$ in s{p.s_next}",
        )
        if p.terminal:
            nxt = bi(
                f"（表中仍列出 $a_{{t+1}} = \\text{{a{p.a_next}}}$，但回合已结束）",
                f"(the log still lists $a_{{t+1}} = \\text{{a{p.a_next}}}$, but the episode has ended)",
            )
        return bi(
            f"用 SARSA（同策略时序差分）学习 Q 函数，状态与动作从 0 开始编号。当前的 Q 表为\n\n{table}\n\n"
            f"智能体经历了一步：{step['zh']}；{nxt['zh']}。学习率与折扣率为 {hyper}。更新规则为\n\n{rule}\n\n"
            f"{TD_BOOTSTRAP_NOTE['zh']}求更新后的 $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$。",
            f"SARSA (on-policy temporal difference) learns a Q function; states and actions are numbered from 0. "
            f"The current Q table is\n\n{table}\n\nThe agent makes one step: {step['en']}; {nxt['en']}. The "
            f"learning rate and discount are {hyper_en}. The update rule is\n\n{rule}\n\n"
            f"{TD_BOOTSTRAP_NOTE['en']} Find the updated $Q(\\text{{s{p.s}}}, \\text{{a{p.a}}})$.",
        )

    def solution(self, p: SarsaParams) -> dict[str, list[str]]:
        line = f"${td_line(p, chosen_next(p))}$"
        if p.terminal:
            first = bi(
                f"s{p.s_next} 是终止状态，目标值只有 $r = {tex(exact(p.r))}$。",
                f"s{p.s_next} is terminal, so the target is just $r = {tex(exact(p.r))}$.",
            )
        else:
            q = f"Q(\\text{{s{p.s_next}}}, \\text{{a{p.a_next}}}) = {tex(chosen_next(p))}"
            first = bi(
                f"SARSA 用实际选择的下一动作的值：${q}$（不是下一状态的最大 Q 值）。",
                f"SARSA uses the value of the next action actually chosen: ${q}$ (not the best next value).",
            )
        return {
            "zh": [first["zh"], f"代入更新规则：{line}。"],
            "en": [first["en"], f"Into the update rule: {line}."],
        }

    def misconceptions(self) -> list[Misconception[SarsaParams]]:
        return [
            *td_misconceptions(chosen_next, answer),
            Misconception(
                "max_in_sarsa",
                bi(
                    "这是 Q 学习的目标（下一状态的最大 Q 值）；SARSA 用实际选择的下一动作：r + γ·Q(s', a')。",
                    "That is the Q-learning target (the best next value); SARSA uses the next action actually "
                    "chosen: r + γ·Q(s', a').",
                ),
                lambda p: (
                    {}
                    if p.terminal
                    else answer(
                        td_new(
                            exact(p.q[p.s][p.a]), exact(p.r) + exact(p.gamma) * best_next(p), exact(p.alpha)
                        )
                    )
                ),
            ),
        ]
