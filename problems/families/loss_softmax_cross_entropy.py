"""loss.softmax_cross_entropy: softmax probabilities, the batch cross-entropy and its gradient (seeds/004 1.1)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Literal, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, bi, first_drawn
from problems.families.backprop_common import decimals, log_softmax_rows, softmax_rows
from problems.fmt import mat, num, tex_matrix, tex_tuple
from problems.registry import register

MAX_BATCH = 8
MAX_CLASSES = 10
# Probabilities and gradients are worked by hand to three or four decimals; entries near 0 get
# this absolute floor instead of 3 significant figures.
ENTRY_ATOL = 5e-4

Logit = Annotated[float, Field(ge=-50, le=50, allow_inf_nan=False)]
LogitRow = Annotated[list[Logit], Field(min_length=2, max_length=MAX_CLASSES)]
Label = Annotated[int, Field(ge=0, lt=MAX_CLASSES)]


class SoftmaxCrossEntropyParams(Params):
    logits: Annotated[list[LogitRow], Field(min_length=1, max_length=MAX_BATCH)] = Field(
        description="network outputs before softmax, B x K (one row per sample)"
    )
    labels: Annotated[list[Label], Field(min_length=1, max_length=MAX_BATCH)] = Field(
        description="the true class of every sample, 0-based"
    )
    # The catalogue fixes `reduction=sum|mean`: sum unless asked (as `kind=max|avg` defaults to max), which is
    # also how seeds/004 adds up its batch. PyTorch's default would be mean; a question states it either way.
    # No version bump: stored params carry `reduction` explicitly and the generator always draws it.
    reduction: Literal["sum", "mean"] = Field(default="sum", description="how the batch losses are combined")

    @model_validator(mode="after")
    def _check(self) -> SoftmaxCrossEntropyParams:
        k = len(self.logits[0])
        if any(len(r) != k for r in self.logits):
            raise ValueError("logits: every row must have the same number of classes K")
        if len(self.labels) != len(self.logits):
            raise ValueError(
                f"labels: needs {len(self.logits)} {plural(len(self.logits), 'entry', 'entries')}, one per row of logits"
            )
        if any(c >= k for c in self.labels):
            raise ValueError(f"labels: a label must be a 0-based class index below K = {k}")
        return self


def _arrays(p: SoftmaxCrossEntropyParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return logits Z, one-hot labels Y and the batch index range."""
    z = np.array(p.logits, dtype=float)
    y = np.zeros_like(z)
    rows = np.arange(len(p.labels))
    y[rows, p.labels] = 1.0
    return z, y, rows


def _reduce(per_sample: np.ndarray, reduction: str) -> float:
    return float(per_sample.sum() if reduction == "sum" else per_sample.mean())


def _grad(p: SoftmaxCrossEntropyParams, reduction: str) -> np.ndarray:
    z, y, _ = _arrays(p)
    g = softmax_rows(z) - y
    return g if reduction == "sum" else g / len(p.labels)


def _loss(p: SoftmaxCrossEntropyParams, reduction: str, log_base: float | None = None) -> float:
    z, _, rows = _arrays(p)
    per_sample = -log_softmax_rows(z)[rows, p.labels]
    if log_base is not None:
        per_sample = per_sample / np.log(log_base)
    return _reduce(per_sample, reduction)


def _other(reduction: str) -> str:
    return "mean" if reduction == "sum" else "sum"


def _forgot_softmax(p: SoftmaxCrossEntropyParams) -> dict[str, str]:
    """The logits used as probabilities: -log z_{i,c_i} (only defined when those logits are positive)."""
    z, _, rows = _arrays(p)
    out = {"probabilities": mat(z.tolist())}
    picked = z[rows, p.labels]
    if (picked > 0).all():
        out["loss"] = num(_reduce(-np.log(picked), p.reduction))
    return out


def _grad_wrt_probabilities(p: SoftmaxCrossEntropyParams) -> dict[str, str]:
    """dL/dP instead of dL/dZ: -1/p at the true class, 0 elsewhere."""
    z, y, _ = _arrays(p)
    g = -y / softmax_rows(z)
    if p.reduction == "mean":
        g = g / len(p.labels)
    return {"grad_logits": mat(g.tolist())}


def _softmax_over_batch(p: SoftmaxCrossEntropyParams) -> dict[str, str]:
    if len(p.labels) < 2:
        return {}
    z, _, _ = _arrays(p)
    return {"probabilities": mat(softmax_rows(z.T).T.tolist())}


Form = tuple[int, int, Literal["sum", "mean"]]  # batch, classes, reduction


def _draw(rng: np.random.Generator, form: Form | None = None) -> SoftmaxCrossEntropyParams | None:
    """One draw of `generate` (None: tied logits); a given form keeps its sizes and reduction."""
    if form is None:
        batch = int(rng.choice([2, 3, 3, 4]))
        k = int(rng.choice([2, 3, 3, 4, 5]))
    else:
        batch, k, _ = form
    if rng.random() < 0.4:  # network outputs in (0, 1) with two decimals, as in seeds/004
        z = decimals(rng, 0.01, 0.99, (batch, k), places=2)
    else:
        z = decimals(rng, -3.0, 3.0, (batch, k))
    # No tied logits within a sample: a tie makes the probabilities look like a trick question.
    if any(len(set(r)) < k for r in z.tolist()):
        return None
    labels = rng.integers(0, k, size=batch).tolist()
    reduction: Literal["sum", "mean"]
    if form is None:
        reduction = "sum" if rng.random() < 0.5 else "mean"
    else:
        reduction = form[2]
    return SoftmaxCrossEntropyParams(logits=z.tolist(), labels=labels, reduction=reduction)


@register
class SoftmaxCrossEntropy(Family[SoftmaxCrossEntropyParams]):
    id = "loss.softmax_cross_entropy"
    version = 1
    title = bi("Softmax 交叉熵损失及其梯度", "Softmax cross-entropy loss and its gradient")
    difficulty = 2
    tags = ("linear_models", "loss", "cross_entropy", "softmax", "gradient")
    Params = SoftmaxCrossEntropyParams

    def generate(self, rng: np.random.Generator) -> SoftmaxCrossEntropyParams:
        while True:
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: SoftmaxCrossEntropyParams) -> Hashable:
        # A 4x5 batch is five times the softmaxes and gradients of a 2x2 one; the reduction is a step.
        return len(p.logits), len(p.logits[0]), p.reduction

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> SoftmaxCrossEntropyParams | None:
        return first_drawn(lambda: _draw(rng, cast(Form, form)))

    def parts(self, p: SoftmaxCrossEntropyParams) -> list[Part]:
        b, k = len(p.logits), len(p.logits[0])
        return [
            Part(
                "loss",
                AnswerSpec("real"),
                bi("该 batch 的交叉熵损失 $\\mathcal{L}$", "the batch's cross-entropy loss $\\mathcal{L}$"),
                bi("一个数，如 2.547", "a number, e.g. 2.547"),
            ),
            Part(
                "probabilities",
                AnswerSpec("matrix", atol=ENTRY_ATOL),
                bi(
                    f"softmax 概率矩阵 $P$（{b}×{k}，每行一个样本）",
                    f"the softmax probabilities $P$ ({b}×{k}, one row per sample)",
                ),
                bi(
                    "矩阵，按行写，如 [[0.42, 0.33, 0.25], [0.26, 0.41, 0.33]]，保留 3 位小数即可",
                    "a matrix by rows, e.g. [[0.42, 0.33, 0.25], [0.26, 0.41, 0.33]]; three decimals are enough",
                ),
            ),
            Part(
                "grad_logits",
                AnswerSpec("matrix", atol=ENTRY_ATOL),
                bi(
                    f"梯度 $\\partial \\mathcal{{L}} / \\partial Z$（{b}×{k}）",
                    f"the gradient $\\partial \\mathcal{{L}} / \\partial Z$ ({b}×{k})",
                ),
                bi(
                    "矩阵，按行写，与 Z 同形状，保留 3 位小数即可",
                    "a matrix by rows, the shape of Z; three decimals are enough",
                ),
            ),
        ]

    def solve(self, p: SoftmaxCrossEntropyParams) -> dict[str, str]:
        z, _, _ = _arrays(p)
        return {
            "loss": num(_loss(p, p.reduction)),
            "probabilities": mat(softmax_rows(z).tolist()),
            "grad_logits": mat(_grad(p, p.reduction).tolist()),
        }

    def statement(self, p: SoftmaxCrossEntropyParams) -> dict[str, str]:
        b, k = len(p.logits), len(p.logits[0])
        classes = ", ".join(str(c + 1) for c in p.labels)
        if p.reduction == "sum":
            formula = "\\mathcal{L} = -\\sum_{i=1}^{B} \\log P_{i,c_i}"
            how_zh, how_en = "对 batch 内各样本求和", "summed over the batch"
        else:
            formula = "\\mathcal{L} = -\\frac{1}{B}\\sum_{i=1}^{B} \\log P_{i,c_i}"
            how_zh, how_en = "对 batch 内各样本取平均", "averaged over the batch"
        given = f"$$Z = {tex_matrix(p.logits)}$$"
        return bi(
            f"一个 {k} 分类网络在一个含 $B = {b}$ 个样本的 batch 上的输出（softmax 之前的 logits）如下，"
            f"第 $i$ 行是第 $i$ 个样本的输出：\n\n{given}\n\n"
            f"各样本的真实类别依次为第 {classes.replace(', ', '、')} 类（类别从 1 开始编号），采用单热向量编码。"
            f"每行经 softmax 得到概率 $P_{{ij}} = \\frac{{e^{{Z_{{ij}}}}}}{{\\sum_{{k}} e^{{Z_{{ik}}}}}}$，"
            f"交叉熵损失{how_zh}：\n\n$${formula}$$\n\n"
            f"求：(1) 损失 $\\mathcal{{L}}$；(2) 概率矩阵 $P$；(3) 损失对 logits 的梯度 "
            f"$\\partial \\mathcal{{L}} / \\partial Z$。（$\\log$ 为自然对数）",
            f"A {k}-class network gives these outputs (logits, before softmax) on a batch of $B = {b}$ {plural(b, 'sample', 'samples')}; "
            f"row $i$ belongs to sample $i$:\n\n{given}\n\n"
            f"The true classes are {classes} in turn (classes numbered from 1), one-hot encoded. "
            f"Softmax turns each row into probabilities $P_{{ij}} = \\frac{{e^{{Z_{{ij}}}}}}{{\\sum_{{k}} e^{{Z_{{ik}}}}}}$, "
            f"and the cross-entropy loss is {how_en}:\n\n$${formula}$$\n\n"
            f"Find (1) the loss $\\mathcal{{L}}$; (2) the probabilities $P$; (3) the gradient of the loss "
            f"with respect to the logits, $\\partial \\mathcal{{L}} / \\partial Z$. ($\\log$ is the natural log.)",
        )

    def solution(self, p: SoftmaxCrossEntropyParams) -> dict[str, list[str]]:
        z, _, rows = _arrays(p)
        probs = softmax_rows(z)
        terms = -log_softmax_rows(z)[rows, p.labels]
        zh: list[str] = []
        en: list[str] = []
        for i, (zr, c) in enumerate(zip(p.logits, p.labels, strict=True)):
            denom = " + ".join(f"e^{{{num(v)}}}" for v in zr)
            total = float(np.exp(np.array(zr)).sum())
            line = (
                f"$\\sum_k e^{{Z_{{{i + 1}k}}}} = {denom} = {num(total, 4)}$，"
                f"$\\mathbf{{p}}_{{{i + 1}}} = {tex_tuple(probs[i].tolist(), 4)}$，"
                f"$-\\log P_{{{i + 1},{c + 1}}} = -\\log {num(probs[i, c], 4)} = {num(terms[i], 4)}$"
            )
            zh.append(f"样本 {i + 1}（第 {c + 1} 类）：{line}。")
            en.append(f"Sample {i + 1} (class {c + 1}): {line.replace('，', ', ')}.")
        added = " + ".join(num(t, 4) for t in terms)
        loss = _loss(p, p.reduction)
        if p.reduction == "sum":
            zh.append(f"求和：$\\mathcal{{L}} = {added} = {num(loss, 6)}$。")
            en.append(f"Sum: $\\mathcal{{L}} = {added} = {num(loss, 6)}$.")
            grad_rule = "P - Y"
        else:
            b = len(p.labels)
            zh.append(f"取平均：$\\mathcal{{L}} = \\frac{{1}}{{{b}}}({added}) = {num(loss, 6)}$。")
            en.append(f"Average: $\\mathcal{{L}} = \\frac{{1}}{{{b}}}({added}) = {num(loss, 6)}$.")
            grad_rule = f"\\frac{{1}}{{{b}}}(P - Y)"
        grad = tex_matrix(_grad(p, p.reduction).tolist(), 4)
        zh.append(
            f"softmax 与交叉熵合在一起求导，每个样本的梯度是 $\\mathbf{{p}}_i - \\mathbf{{y}}_i$（$\\mathbf{{y}}_i$ 为单热标签），"
            f"所以 $\\frac{{\\partial \\mathcal{{L}}}}{{\\partial Z}} = {grad_rule} = {grad}$。"
        )
        en.append(
            f"Softmax and cross-entropy differentiate together to $\\mathbf{{p}}_i - \\mathbf{{y}}_i$ per sample "
            f"($\\mathbf{{y}}_i$ the one-hot label), so $\\frac{{\\partial \\mathcal{{L}}}}{{\\partial Z}} = {grad_rule} = {grad}$."
        )
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[SoftmaxCrossEntropyParams]]:
        return [
            Misconception(
                "grad_forgot_batch_mean",
                bi(
                    "损失是 batch 平均，梯度也要除以 B：∂L/∂Z = (P - Y)/B。",
                    "The loss is a batch mean, so the gradient is divided by B too: dL/dZ = (P - Y)/B.",
                ),
                lambda p: (
                    {"grad_logits": mat(_grad(p, "sum").tolist())}
                    if p.reduction == "mean" and len(p.labels) > 1
                    else {}
                ),
            ),
            Misconception(
                "sum_instead_of_mean",
                bi(
                    "题目要的是 batch 内损失的平均值，你求的是总和；再除以 B。",
                    "The loss asked is the mean over the batch; you gave the sum. Divide by B.",
                ),
                lambda p: {"loss": num(_loss(p, "sum"))} if p.reduction == "mean" else {},
            ),
            Misconception(
                "mean_instead_of_sum",
                bi(
                    "题目要的是 batch 内损失的总和（梯度为 P - Y），你除以了 B。",
                    "The loss asked is the sum over the batch (gradient P - Y); you divided by B.",
                ),
                lambda p: (
                    {"loss": num(_loss(p, "mean")), "grad_logits": mat(_grad(p, "mean").tolist())}
                    if p.reduction == "sum"
                    else {}
                ),
            ),
            Misconception(
                "log_base_10",
                bi(
                    "你用了以 10 为底的对数；本课程与 PyTorch 一致，log 指自然对数 ln。",
                    "You used log base 10; in this course, as in PyTorch, log is the natural log ln.",
                ),
                lambda p: {"loss": num(_loss(p, p.reduction, log_base=10))},
            ),
            Misconception(
                "forgot_softmax",
                bi(
                    "网络输出是 logits，不是概率：先对每行做 softmax，再取真实类别概率的负对数。",
                    "The outputs are logits, not probabilities: apply softmax to each row first, "
                    "then take minus the log of the true class's probability.",
                ),
                _forgot_softmax,
            ),
            Misconception(
                "softmax_over_batch",
                bi(
                    "softmax 要在每个样本的各类别上（按行）归一化，而不是在 batch 内按列归一化。",
                    "Softmax normalises over the classes of each sample (each row), not down a column of the batch.",
                ),
                _softmax_over_batch,
            ),
            Misconception(
                "grad_sign",
                bi(
                    "梯度的符号反了：∂L/∂Z 是 P - Y（预测减标签），不是 Y - P。",
                    "The sign is reversed: dL/dZ is P - Y (prediction minus label), not Y - P.",
                ),
                lambda p: {"grad_logits": mat((-_grad(p, p.reduction)).tolist())},
            ),
            Misconception(
                "grad_wrt_probabilities",
                bi(
                    "这是损失对概率 P 的导数 -1/p；题目问的是对 logits Z 的梯度，要经过 softmax 求导，结果是 P - Y。",
                    "That is the derivative with respect to the probabilities, -1/p; the gradient with respect to the "
                    "logits goes through softmax and gives P - Y.",
                ),
                _grad_wrt_probabilities,
            ),
        ]
