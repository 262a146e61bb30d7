"""reg.dropout: dropout at training and test time (textbook or inverted) and the number of subnetworks (seeds/003)."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi
from problems.fmt import exact, exact_vec, num, tex_tuple
from problems.registry import register

MAX_UNITS = 64  # 2^64 subnetworks is still an exact integer for the grader

Entry = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]


class DropoutParams(Params):
    keep_prob: float = Field(gt=0, le=1, allow_inf_nan=False, description="keep probability p (Qiu's 保留率)")
    num_units: int = Field(ge=1, le=MAX_UNITS, description="neurons n in the layer")
    x: Annotated[list[Entry], Field(min_length=1, max_length=MAX_UNITS)] = Field(
        description="the layer's input"
    )
    mask: Annotated[list[Literal[0, 1]], Field(min_length=1, max_length=MAX_UNITS)] = Field(
        description="the training mask m (1 keep, 0 drop)"
    )
    inverted: bool = Field(
        default=False,
        description="false: textbook (train m*x, test p*x); true: inverted (train m*x/p, test x)",
    )

    @model_validator(mode="after")
    def _check(self) -> DropoutParams:
        if len(self.x) != self.num_units:
            raise ValueError(
                f"x: needs num_units = {self.num_units} {plural(self.num_units, 'entry', 'entries')}"
            )
        if len(self.mask) != self.num_units:
            raise ValueError(
                f"mask: needs num_units = {self.num_units} {plural(self.num_units, 'entry', 'entries')}"
            )
        return self


def _outputs(
    p: DropoutParams, inverted: bool, keep: Fraction | None = None, divide: bool = True
) -> dict[str, str]:
    """Train and test outputs under a convention; `keep` and `divide` let misconceptions get p wrong."""
    prob = exact(p.keep_prob) if keep is None else keep
    xs = [exact(v) for v in p.x]
    if inverted:
        scale = 1 / prob if divide else prob
        train = [m * v * scale for m, v in zip(p.mask, xs, strict=True)]
        test = xs
    else:
        train = [m * v for m, v in zip(p.mask, xs, strict=True)]
        test = [prob * v for v in xs]
    return {"train_output": exact_vec(train), "test_output": exact_vec(test)}


@register
class Dropout(Family[DropoutParams]):
    id = "reg.dropout"
    version = 1
    title = bi("丢弃法（Dropout）", "Dropout")
    difficulty = 1
    tags = ("optimization", "regularization", "dropout")
    Params = DropoutParams

    def generate(self, rng: np.random.Generator) -> DropoutParams:
        while True:
            n = int(rng.integers(3, 7))
            keep = float(rng.choice([0.5, 0.5, 0.8, 0.75, 0.6, 0.9, 0.4]))
            x = rng.integers(-5, 11, size=n) / (1 if rng.random() < 0.6 else 2)
            mask = (rng.random(n) < keep).astype(int)
            # Some units kept and some dropped, and no zero input (a dropped zero shows nothing).
            if 0 < mask.sum() < n and np.all(x != 0):
                return DropoutParams(
                    keep_prob=keep,
                    num_units=n,
                    x=x.tolist(),
                    mask=mask.tolist(),
                    inverted=bool(rng.random() < 0.4),
                )

    def parts(self, p: DropoutParams) -> list[Part]:
        n = p.num_units
        return [
            Part(
                "train_output",
                AnswerSpec("vector"),
                bi(
                    f"训练阶段的输出（{n} 维）",
                    f"output at training time ({n} {plural(n, 'entry', 'entries')})",
                ),
                bi("向量，如 [2, 0, -1.5]", "a vector, e.g. [2, 0, -1.5]"),
            ),
            Part(
                "test_output",
                AnswerSpec("vector"),
                bi(f"测试阶段的输出（{n} 维）", f"output at test time ({n} {plural(n, 'entry', 'entries')})"),
                bi("向量，如 [1, 0.5, -0.75]", "a vector, e.g. [1, 0.5, -0.75]"),
            ),
            Part(
                "num_subnetworks",
                AnswerSpec("integer"),
                bi(
                    f"这 {n} 个神经元上的丢弃法共可采样出多少个不同的子网络",
                    f"how many distinct subnetworks dropout on {plural(n, 'this', 'these')} {n} {plural(n, 'neuron', 'neurons')} can sample",
                ),
                bi("一个整数，可写成幂，如 2^10", "an integer; a power is fine, e.g. 2^10"),
            ),
        ]

    def solve(self, p: DropoutParams) -> dict[str, str]:
        return {**_outputs(p, p.inverted), "num_subnetworks": str(2**p.num_units)}

    def statement(self, p: DropoutParams) -> dict[str, str]:
        n, keep = p.num_units, num(p.keep_prob)
        given = f"$$\\mathbf{{x}} = {tex_tuple(p.x)}, \\quad \\mathbf{{m}} = {tex_tuple(p.mask)}$$"
        if p.inverted:
            rule = (
                "$$\\text{train: } \\mathbf{y} = \\frac{\\mathbf{m} \\odot \\mathbf{x}}{p}, \\qquad "
                "\\text{test: } \\mathbf{y} = \\mathbf{x}$$"
            )
            how_zh = "采用反向丢弃法（inverted dropout，PyTorch `nn.Dropout` 的做法）：训练时把保留下来的神经元除以 $p$，测试时不做任何缩放："
            how_en = (
                "Use inverted dropout (what PyTorch's `nn.Dropout` does): at training time the kept neurons are "
                "divided by $p$, and at test time nothing is scaled:"
            )
        else:
            rule = (
                "$$\\text{train: } \\mathbf{y} = \\mathbf{m} \\odot \\mathbf{x}, \\qquad "
                "\\text{test: } \\mathbf{y} = p\\,\\mathbf{x}$$"
            )
            how_zh = "采用教材（邱锡鹏）的写法：训练时乘以掩码，测试时把输入乘以保留率 $p$："
            how_en = (
                "Use the textbook (Qiu) form: multiply by the mask at training time, and by the keep "
                "probability $p$ at test time:"
            )
        return bi(
            f"某一层有 $n = {n}$ 个神经元，对其输入 $\\mathbf{{x}}$ 使用丢弃法，保留率 $p = {keep}$"
            f"（每个神经元以概率 $p$ 被保留）。训练时这一次采样得到的掩码为 $\\mathbf{{m}}$（1 保留，0 丢弃）。"
            f"{how_zh}\n\n{rule}\n\n{given}\n\n"
            f"求训练阶段和测试阶段的输出；并回答：在这 {n} 个神经元上使用丢弃法，共可以采样出多少个不同的子网络？",
            f"A layer has $n = {n}$ {plural(n, 'neuron', 'neurons')} and applies dropout to its input $\\mathbf{{x}}$ with keep probability "
            f"$p = {keep}$ (each neuron is kept with probability $p$). At training time this sample's mask is "
            f"$\\mathbf{{m}}$ (1 keep, 0 drop). {how_en}\n\n{rule}\n\n{given}\n\n"
            f"Find the outputs at training and at test time. Also: how many distinct subnetworks can dropout on "
            f"{plural(n, 'this', 'these')} {n} {plural(n, 'neuron', 'neurons')} sample?",
        )

    def solution(self, p: DropoutParams) -> dict[str, list[str]]:
        out = _outputs(p, p.inverted)
        n, keep = p.num_units, num(p.keep_prob)
        if p.inverted:
            train_zh = f"训练：保留的神经元除以 $p = {keep}$，丢弃的置 0：`{out['train_output']}`。"
            train_en = f"Training: kept neurons are divided by $p = {keep}$, dropped ones are 0: `{out['train_output']}`."
            test_zh = f"测试：反向丢弃法在测试时不缩放，输出就是 $\\mathbf{{x}}$：`{out['test_output']}`。"
            test_en = f"Test: inverted dropout does not scale at test time; the output is $\\mathbf{{x}}$: `{out['test_output']}`."
        else:
            train_zh = (
                f"训练：$\\mathbf{{m}} \\odot \\mathbf{{x}}$，掩码为 0 的位置置 0：`{out['train_output']}`。"
            )
            train_en = f"Training: $\\mathbf{{m}} \\odot \\mathbf{{x}}$ zeroes the dropped neurons: `{out['train_output']}`."
            test_zh = (
                f"测试：所有神经元都参与，为了与训练时的期望一致，乘以 $p = {keep}$：`{out['test_output']}`。"
            )
            test_en = (
                f"Test: every neuron is active, so multiply by $p = {keep}$ to match the training-time "
                f"expectation: `{out['test_output']}`."
            )
        return {
            "zh": [
                train_zh,
                test_zh,
                f"每个神经元有保留、丢弃两种状态，{n} 个神经元共 $2^{{{n}}} = {2**n}$ 种掩码，即 $2^n$ 个子网络"
                f"（不是课件上的 $2n = {2 * n}$）。",
            ],
            "en": [
                train_en,
                test_en,
                f"Each neuron is either kept or dropped, so {n} {plural(n, 'neuron gives', 'neurons give')} $2^{{{n}}} = {2**n}$ masks, i.e. "
                f"$2^n$ subnetworks (not the slide's $2n = {2 * n}$).",
            ],
        }

    def misconceptions(self) -> list[Misconception[DropoutParams]]:
        return [
            Misconception(
                "subnetworks_2n",
                bi(
                    "子网络个数是 2^n 而不是 2n：每个神经元独立地保留或丢弃，n 个神经元有 2^n 种组合"
                    "（课件上的 2n 是笔误，邱锡鹏教材中为 2^n）。",
                    "The number of subnetworks is 2^n, not 2n: each neuron is kept or dropped independently, "
                    "giving 2^n combinations (the slide's 2n is a typo; Qiu's textbook has 2^n).",
                ),
                lambda p: {"num_subnetworks": str(2 * p.num_units)},
            ),
            Misconception(
                "subnetworks_n_squared",
                bi(
                    "子网络个数是 2^n（每个神经元保留或丢弃两种状态），不是 n^2。",
                    "The number of subnetworks is 2^n (each neuron kept or dropped), not n^2.",
                ),
                lambda p: {"num_subnetworks": str(p.num_units**2)},
            ),
            Misconception(
                "drop_prob_instead_of_keep_prob",
                bi(
                    "p 是保留率（神经元被保留的概率），你用了丢弃率 1 - p。",
                    "p is the keep probability (a neuron is kept with probability p); you used the drop "
                    "probability 1 - p.",
                ),
                lambda p: _outputs(p, p.inverted, keep=1 - exact(p.keep_prob)) if p.keep_prob < 1 else {},
            ),
            Misconception(
                "multiplied_by_p_when_training",
                bi(
                    "反向丢弃法在训练时除以 p（使期望不变），不是乘以 p。",
                    "Inverted dropout divides by p at training time (to keep the expectation), it does not "
                    "multiply by p.",
                ),
                lambda p: (
                    {"train_output": _outputs(p, True, divide=False)["train_output"]} if p.inverted else {}
                ),
            ),
            Misconception(
                "test_not_scaled",
                bi(
                    "教材写法中测试时所有神经元都参与，要把输入乘以保留率 p，使输出与训练时的期望一致。",
                    "In the textbook form every neuron is active at test time, so the input is multiplied by "
                    "the keep probability p to match the training-time expectation.",
                ),
                lambda p: {"test_output": _outputs(p, True)["test_output"]} if not p.inverted else {},
            ),
            Misconception(
                "other_convention",
                bi(
                    "你用了另一种约定。教材写法：训练 m⊙x，测试 p·x；反向丢弃法（PyTorch）：训练 m⊙x/p，测试 x。"
                    "请按题目指定的写法计算。",
                    "You used the other convention. Textbook: train m⊙x, test p·x; inverted dropout (PyTorch): "
                    "train m⊙x/p, test x. Use the one the question names.",
                ),
                lambda p: _outputs(p, not p.inverted),
            ),
        ]
