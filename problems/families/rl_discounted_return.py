"""rl.discounted_return: the return of one episode, G = sum_t gamma^t r_{t+1} (seeds/003 第十四章, G(tau))."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Annotated

import numpy as np
from pydantic import Field

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.families.rl_common import GAMMAS, Reward, exact, paren, pick, tex, tex_approx, text
from problems.registry import register

MAX_STEPS = 20


class DiscountedReturnParams(Params):
    rewards: Annotated[list[Reward], Field(min_length=1, max_length=MAX_STEPS)] = Field(
        description="the rewards r_1 .. r_T of one episode, in order"
    )
    gamma: float = Field(ge=0, le=1, allow_inf_nan=False, description="discount factor")


def discounted(rewards: Sequence[Fraction], gamma: Fraction, first_power: int = 0) -> Fraction:
    """sum_t gamma^(t + first_power) r_{t+1}; the right answer has first_power 0."""
    return sum((gamma ** (t + first_power) * r for t, r in enumerate(rewards)), Fraction(0))


def _rewards(p: DiscountedReturnParams) -> list[Fraction]:
    return [exact(r) for r in p.rewards]


def _answer(v: Fraction) -> dict[str, str]:
    return {"return": text(v)}


@register
class DiscountedReturn(Family[DiscountedReturnParams]):
    id = "rl.discounted_return"
    version = 1
    title = bi("折扣回报", "The discounted return of an episode")
    difficulty = 1
    tags = ("rl", "return", "discount")
    Params = DiscountedReturnParams

    def generate(self, rng: np.random.Generator) -> DiscountedReturnParams:
        while True:
            steps = int(rng.integers(3, 6))
            rewards = [float(x) for x in rng.integers(-1, 6, size=steps)]
            # Mostly a textbook discount; sometimes gamma = 1 (the seed's default when none is given).
            gamma = float(pick(rng, GAMMAS)) if rng.random() < 0.9 else 1.0
            p = DiscountedReturnParams(rewards=rewards, gamma=gamma)
            # The first and the last reward count, so every wrong discount shows.
            if rewards[0] != 0 and rewards[-1] != 0 and discounted(_rewards(p), exact(gamma)) != 0:
                return p

    def parts(self, p: DiscountedReturnParams) -> list[Part]:
        return [
            Part(
                "return",
                AnswerSpec("real"),
                bi("回报 $G$", "the return $G$"),
                bi("一个数，如 4.62 或 1+0.9*2", "a number, e.g. 4.62 or 1+0.9*2"),
            )
        ]

    def solve(self, p: DiscountedReturnParams) -> dict[str, str]:
        return _answer(discounted(_rewards(p), exact(p.gamma)))

    def statement(self, p: DiscountedReturnParams) -> dict[str, str]:
        t = len(p.rewards)
        rs = ", ".join(f"r_{{{i + 1}}} = {tex(r)}" for i, r in enumerate(_rewards(p)))
        formula = "$$G(\\tau) = \\sum_{t=0}^{T-1} \\gamma^{t}\\, r_{t+1}$$"
        return bi(
            f"智能体在一个回合中走了 $T = {t}$ 步后到达终止状态，依次得到的即时奖励为 ${rs}$。"
            f"折扣率 $\\gamma = {tex(exact(p.gamma))}$，回报定义为\n\n{formula}\n\n"
            f"（第一个奖励 $r_1$ 不打折扣。）求这个回合的回报 $G$。",
            f"In one episode an agent takes $T = {t}$ {plural(t, 'step', 'steps')} and then reaches a terminal state; the rewards it "
            f"receives are, in order, ${rs}$. With discount factor $\\gamma = {tex(exact(p.gamma))}$ the "
            f"return is\n\n{formula}\n\n(the first reward $r_1$ is not discounted). Find the return $G$ of "
            f"this episode.",
        )

    def solution(self, p: DiscountedReturnParams) -> dict[str, list[str]]:
        rewards, gamma = _rewards(p), exact(p.gamma)
        g = tex(gamma)
        symbolic = " + ".join(
            "r_1" if i == 0 else f"\\gamma{'' if i == 1 else f'^{i}'} r_{{{i + 1}}}"
            for i in range(len(rewards))
        )
        numbers = " + ".join(
            paren(r) if i == 0 else f"{g}{'' if i == 1 else f'^{i}'} \\cdot {paren(r)}"
            for i, r in enumerate(rewards)
        )
        terms = " + ".join(paren(gamma**i * r) for i, r in enumerate(rewards))
        total = tex_approx(discounted(rewards, gamma))
        line = f"$G = {symbolic} = {numbers} = {terms} = {total}$"
        return {
            "zh": [
                "第 $t$ 步的奖励 $r_{t+1}$ 乘以 $\\gamma^{t}$，第一个奖励乘以 $\\gamma^0 = 1$。",
                f"{line}。",
            ],
            "en": [
                "The reward $r_{t+1}$ of step $t$ is multiplied by $\\gamma^{t}$; the first one by $\\gamma^0 = 1$.",
                f"{line}.",
            ],
        }

    def misconceptions(self) -> list[Misconception[DiscountedReturnParams]]:
        return [
            Misconception(
                "discount_from_gamma_1",
                bi(
                    "第一个奖励 r_1 不打折扣：G = r_1 + γ r_2 + γ² r_3 + …，折扣从 γ⁰ = 1 开始，而不是从 γ¹ 开始。",
                    "The first reward r_1 is not discounted: G = r_1 + γ r_2 + γ² r_3 + …; the discount starts "
                    "at γ⁰ = 1, not at γ¹.",
                ),
                lambda p: _answer(discounted(_rewards(p), exact(p.gamma), first_power=1)),
            ),
            Misconception(
                "forgot_gamma",
                bi(
                    "你把奖励直接相加了；后面的奖励要乘以 γ^t 打折扣。",
                    "You added the rewards as they are; later rewards are discounted by γ^t.",
                ),
                lambda p: _answer(sum(_rewards(p), Fraction(0))),
            ),
            Misconception(
                "reversed_discount",
                bi(
                    "折扣方向反了：越晚得到的奖励折扣越多，r_{t+1} 乘以 γ^t，而最后一个奖励折扣最多。",
                    "The discount runs the other way: the later a reward, the more it is discounted; r_{t+1} "
                    "gets γ^t, so the last reward is discounted most.",
                ),
                lambda p: _answer(discounted(_rewards(p)[::-1], exact(p.gamma))),
            ),
        ]
