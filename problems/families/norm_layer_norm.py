"""norm.layer_norm: layer normalisation of each sample (row) over its D features, as nn.LayerNorm(D) (seeds/003)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

import numpy as np
from pydantic import model_validator

from grader.feedback import plural
from problems.base import Family, Misconception, Part, bi
from problems.families.norm_batch_norm import (
    FEATURES,
    NormParams,
    answers,
    eps_tex,
    generate_norm,
    norm_misconceptions,
    norm_parts,
    norm_solution,
)
from problems.fmt import tex_matrix, tex_tuple
from problems.registry import register


class LayerNormParams(NormParams):
    @model_validator(mode="after")
    def _check(self) -> LayerNormParams:
        self.check_shapes(FEATURES)
        return self


@register
class LayerNorm(Family[LayerNormParams]):
    id = "norm.layer_norm"
    version = 1
    title = bi("层归一化", "Layer normalisation")
    difficulty = 2
    tags = ("optimization", "normalization", "layer_norm")
    Params = LayerNormParams

    def generate(self, rng: np.random.Generator) -> LayerNormParams:
        p = generate_norm(rng, rows=[1, 2, 2, 3], cols=[3, 3, 4], axis=FEATURES)
        return LayerNormParams.model_validate(p.model_dump())

    def form(self, p: LayerNormParams) -> Hashable:
        return len(p.x), len(p.x[0])  # B x D: every number of the output is one more step

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> LayerNormParams | None:
        rows, cols = cast(tuple[int, int], form)
        return LayerNormParams.model_validate(generate_norm(rng, [rows], [cols], axis=FEATURES).model_dump())

    def parts(self, p: LayerNormParams) -> list[Part]:
        return norm_parts(p, FEATURES)

    def solve(self, p: LayerNormParams) -> dict[str, str]:
        return answers(p, FEATURES)

    def statement(self, p: LayerNormParams) -> dict[str, str]:
        b, d = len(p.x), len(p.x[0])
        given = (
            f"$$X = {tex_matrix(p.x)}, \\quad \\gamma = {tex_tuple(p.gamma)}, \\quad \\beta = {tex_tuple(p.beta)}, "
            f"\\quad \\epsilon = {eps_tex(p.eps)}$$"
        )
        return bi(
            f"{b} 个样本、每个样本 $D = {d}$ 个特征（神经元），按行排成矩阵 $X$（第 $i$ 行是第 $i$ 个样本）。"
            f"对每个样本做层归一化（如 PyTorch 的 `nn.LayerNorm({d})`）：\n\n"
            f"$$\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}, \\quad \\mathbf{{y}} = \\gamma \\hat{{x}} + \\beta$$\n\n"
            f"其中 $\\mu$、$\\sigma^2$ 是同一个样本的 {d} 个特征的均值和方差（除以 $D$ 的有偏方差），"
            f"$\\gamma$、$\\beta$ 逐特征作用。\n\n{given}\n\n"
            f"求每个样本的均值 $\\mu$、方差 $\\sigma^2$ 和输出 $\\mathbf{{y}}$（{b}×{d}）。",
            f"{b} {plural(b, 'sample', 'samples')} with $D = {d}$ {plural(d, 'feature', 'features')} (neurons) each, stacked by rows into $X$ "
            f"(row $i$ is sample $i$). Apply layer normalisation to each sample (as PyTorch's "
            f"`nn.LayerNorm({d})`):\n\n"
            f"$$\\hat{{x}} = \\frac{{x - \\mu}}{{\\sqrt{{\\sigma^2 + \\epsilon}}}}, \\quad \\mathbf{{y}} = \\gamma \\hat{{x}} + \\beta$$\n\n"
            f"where $\\mu$ and $\\sigma^2$ are the mean and variance of one sample's {d} {plural(d, 'feature', 'features')} (the biased "
            f"variance, divided by $D$) and $\\gamma$, $\\beta$ act per feature.\n\n{given}\n\n"
            f"Find each sample's mean $\\mu$ and variance $\\sigma^2$, and the output $\\mathbf{{y}}$ ({b}×{d}).",
        )

    def solution(self, p: LayerNormParams) -> dict[str, list[str]]:
        return norm_solution(p, FEATURES)

    def misconceptions(self) -> list[Misconception[LayerNormParams]]:
        return norm_misconceptions(FEATURES)
