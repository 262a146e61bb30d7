"""loss.uniform_prediction: the first-batch loss of an untrained K-class classifier (seeds/002 2.1)."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from grader import AnswerSpec
from problems.base import Family, Misconception, Params, Part, bi
from problems.fmt import num
from problems.registry import register


class UniformPredictionParams(Params):
    num_classes: int = Field(ge=2, le=1000, description="number of classes K")


@register
class UniformPrediction(Family[UniformPredictionParams]):
    id = "loss.uniform_prediction"
    version = 2
    same_params_since = 1  # v2 draws from more class counts (v1 had 6 answers in all); params as v1
    title = bi("未训练分类器的初始交叉熵损失", "Initial cross-entropy loss of an untrained classifier")
    difficulty = 1
    tags = ("linear_models", "loss", "cross_entropy")
    Params = UniformPredictionParams

    def generate(self, rng: np.random.Generator) -> UniformPredictionParams:
        # Class counts of real tasks (binary, digits, letters, CIFAR-100, ImageNet...) and some between.
        counts = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 20, 26, 32, 43, 50, 64, 100, 128, 200, 256, 500, 1000]
        return UniformPredictionParams(num_classes=int(rng.choice(counts)))

    def parts(self, p: UniformPredictionParams) -> list[Part]:
        return [
            Part(
                "loss",
                AnswerSpec("real"),
                bi("第一个 batch 的平均损失", "mean loss of the first batch"),
                bi("一个数，如 ln(5) 或 1.609", "a number, e.g. ln(5) or 1.609"),
            )
        ]

    def solve(self, p: UniformPredictionParams) -> dict[str, str]:
        # Exact form: -log(1/K) = log(K); the grader compares it numerically to the tolerance.
        return {"loss": f"log({p.num_classes})"}

    def statement(self, p: UniformPredictionParams) -> dict[str, str]:
        k = p.num_classes
        return bi(
            f"一个 {k} 分类网络使用交叉熵损失 $\\mathcal{{L}} = -\\mathbf{{y}}^\\top \\log \\hat{{\\mathbf{{y}}}}$。"
            f"假设网络未训练时对每个类别的预测概率都相等，且数据集各类别均衡。"
            f"第一个 batch 的损失均值应是多少？（$\\log$ 为自然对数）",
            f"A {k}-class network is trained with the cross-entropy loss "
            f"$\\mathcal{{L}} = -\\mathbf{{y}}^\\top \\log \\hat{{\\mathbf{{y}}}}$. Before training it predicts "
            f"every class with equal probability, and the classes are balanced. What is the mean loss of the "
            f"first batch? ($\\log$ is the natural log.)",
        )

    def solution(self, p: UniformPredictionParams) -> dict[str, list[str]]:
        k = p.num_classes
        v = math.log(k)
        return {
            "zh": [
                f"每个类别的预测概率都是 $\\frac{{1}}{{{k}}}$，单热标签只取出真实类别那一项。",
                f"$\\mathcal{{L}} = -\\log \\frac{{1}}{{{k}}} = \\ln {k} \\approx {num(v, 4)}$，与类别无关，所以均值也是它。",
            ],
            "en": [
                f"Every class gets probability $\\frac{{1}}{{{k}}}$; the one-hot label picks the true class's term.",
                f"$\\mathcal{{L}} = -\\log \\frac{{1}}{{{k}}} = \\ln {k} \\approx {num(v, 4)}$ for every sample, so the mean is the same.",
            ],
        }

    def misconceptions(self) -> list[Misconception[UniformPredictionParams]]:
        return [
            Misconception(
                "log_base_10",
                bi(
                    "你用了以 10 为底的对数；本课程与 PyTorch 一致，log 指自然对数 ln。",
                    "You used log base 10; in this course, as in PyTorch, log is the natural log ln.",
                ),
                lambda p: {"loss": f"log10({p.num_classes})"},
            ),
            Misconception(
                "log_base_2",
                bi(
                    "你用了以 2 为底的对数（比特）；这里 log 指自然对数 ln。",
                    "You used log base 2 (bits); here log is the natural log ln.",
                ),
                lambda p: {"loss": f"log2({p.num_classes})"},
            ),
            Misconception(
                "probability_not_loss",
                bi(
                    "这是每个类别的预测概率 1/K，而不是损失 -log(1/K)。",
                    "That is the predicted probability 1/K, not the loss -log(1/K).",
                ),
                lambda p: {"loss": f"1/{p.num_classes}"},
            ),
        ]
