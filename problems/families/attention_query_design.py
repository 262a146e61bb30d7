"""attention.query_design: design a query that puts the largest weight on given tokens, per head (seeds/000 2.2)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from typing import Annotated, cast

import numpy as np
from pydantic import Field, model_validator

from grader import AnswerError, AnswerSpec, Verdict, read
from grader.feedback import plural
from problems.base import Family, Params, Part, Text, bi, first_drawn
from problems.fmt import drop_round_off, num, tex_tuple, vec
from problems.registry import register

MAX_TOKENS = 6
MAX_DIM = 8
MAX_HEADS = 4
NORM_RTOL = 1e-9  # a query typed exactly at the bound (e.g. 1/sqrt(2) entries) may round a hair over it
SCORE_MARGIN = 1e-9  # "strictly largest" must survive float rounding
MIN_SEPARATION = 1e-4  # explicit params: how far the target key must be from the hull of the others

Entry = Annotated[int | float, Field(ge=-10, le=10, allow_inf_nan=False)]
Key = Annotated[list[Entry], Field(min_length=1, max_length=MAX_DIM)]
Slice = tuple[Annotated[int, Field(ge=0, le=MAX_DIM)], Annotated[int, Field(ge=0, le=MAX_DIM)]]


class QueryDesignParams(Params):
    keys: Annotated[list[Key], Field(min_length=2, max_length=MAX_TOKENS, description="key vectors k_1..k_m")]
    heads: Annotated[
        list[Slice],
        Field(min_length=1, max_length=MAX_HEADS, description="each head's [start, end) dimensions"),
    ]
    targets: Annotated[
        list[Annotated[int, Field(ge=0, lt=MAX_TOKENS)]],
        Field(min_length=1, max_length=MAX_HEADS, description="per head, the 0-based token that must win"),
    ]
    max_norm: float = Field(default=1.0, ge=0.1, le=100, description="bound on the query's 2-norm")

    @model_validator(mode="after")
    def _check(self) -> QueryDesignParams:
        d, m = len(self.keys[0]), len(self.keys)
        if any(len(k) != d for k in self.keys):
            raise ValueError(
                f"keys: every key must have d = {d} {plural(d, 'entry', 'entries')} (the length of the first key)"
            )
        taken: set[int] = set()
        for h, (start, end) in enumerate(self.heads, 1):
            if not start < end <= d:
                raise ValueError(
                    f"heads: head {h} slice [{start}, {end}) is empty or outside the {d} {plural(d, 'dimension', 'dimensions')}"
                )
            if taken & set(range(start, end)):
                raise ValueError(f"heads: head {h} overlaps an earlier head")
            taken |= set(range(start, end))
        if len(self.targets) != len(self.heads):
            raise ValueError(
                f"targets: give one target token per head ({len(self.heads)} {plural(len(self.heads), 'head', 'heads')})"
            )
        for h, t in enumerate(self.targets, 1):
            if t >= m:
                raise ValueError(
                    f"targets: head {h} names token index {t}, but there {plural(m, 'is', 'are')} {m} {plural(m, 'key', 'keys')} (0-based)"
                )
        for h, ((start, end), t) in enumerate(zip(self.heads, self.targets, strict=True), 1):
            sub = np.array(self.keys, dtype=float)[:, start:end]
            if np.linalg.norm(_closest_difference(sub, t)) <= MIN_SEPARATION * (1 + np.abs(sub).max()):
                raise ValueError(
                    f"keys: in head {h} no query can give token {t} the strictly largest score "
                    f"(its key lies in the convex hull of the other keys)"
                )
        return self


def _closest_difference(keys: np.ndarray, target: int) -> np.ndarray:
    """The point of conv{k_t - k_j : j != t} nearest the origin.

    If it is not 0, it is itself a valid direction: p . (k_t - k_j) >= |p|^2 > 0 for every j.
    Brute force over affinely independent subsets (at most 2^5 of them) keeps it exact and plain.
    """
    diffs = np.array([keys[target] - keys[j] for j in range(len(keys)) if j != target])
    best = diffs[int(np.argmin(np.linalg.norm(diffs, axis=1)))]
    for size in range(2, len(diffs) + 1):
        for subset in itertools.combinations(range(len(diffs)), size):
            pts = diffs[list(subset)]
            # Minimise |lam @ pts| subject to sum(lam) = 1 (KKT system of the affine hull).
            kkt = np.zeros((size + 1, size + 1))
            kkt[:size, :size] = pts @ pts.T
            kkt[:size, size] = kkt[size, :size] = 1
            rhs = np.zeros(size + 1)
            rhs[size] = 1
            if abs(np.linalg.det(kkt)) < 1e-12:
                continue  # affinely dependent: a smaller subset covers this face
            lam = np.linalg.solve(kkt, rhs)[:size]
            if lam.min() < -1e-12:
                continue  # the nearest point of the affine hull is outside the convex hull
            point = lam @ pts
            if np.linalg.norm(point) < np.linalg.norm(best):
                best = point
    return best


def _wins(direction: np.ndarray, keys: np.ndarray, target: int, margin: float) -> bool:
    scores = keys @ direction
    others = np.delete(scores, target)
    return bool(scores[target] - others.max() > margin * max(1.0, float(np.linalg.norm(direction))))


def _head_direction(keys: np.ndarray, target: int) -> tuple[str, np.ndarray]:
    """A direction for one head, the simplest that works: k_t, then k_t - mean(others), then the closest point."""
    own = keys[target]
    if _wins(own, keys, target, 1e-3):
        return "target_key", own
    contrast = own - np.delete(keys, target, axis=0).mean(axis=0)
    if _wins(contrast, keys, target, 1e-3):
        return "contrast", contrast
    return "closest", _closest_difference(keys, target)


def _reference_query(p: QueryDesignParams) -> tuple[np.ndarray, list[str]]:
    """A valid query: each head's direction normalised, scaled so |q| = max_norm."""
    keys = np.array(p.keys, dtype=float)
    q = np.zeros(keys.shape[1])
    how = []
    share = p.max_norm / math.sqrt(len(p.heads))
    for (start, end), t in zip(p.heads, p.targets, strict=True):
        kind, direction = _head_direction(keys[:, start:end], t)
        q[start:end] = direction / np.linalg.norm(direction) * share
        how.append(kind)
    return q, how


def violations(p: QueryDesignParams, q: Sequence[float]) -> list[tuple[str, Text]]:
    """Every constraint the query breaks, as (reason, bilingual feedback); empty when it is valid."""
    d = len(p.keys[0])
    if len(q) != d:
        return [
            (
                "wrong_shape",
                bi(
                    f"查询向量应有 d = {d} 个分量，你给了 {len(q)} 个。",
                    f"The query needs d = {d} {plural(d, 'entry', 'entries')}; you gave {len(q)}.",
                ),
            )
        ]
    qv = np.array(q, dtype=float)
    if not np.all(np.isfinite(qv)):
        return [
            (
                "not_finite",
                bi("查询向量的分量必须是有限数。", "Every entry of the query must be a finite number."),
            )
        ]
    found: list[tuple[str, Text]] = []
    norm = float(np.linalg.norm(qv))
    if norm > p.max_norm * (1 + NORM_RTOL):
        found.append(
            (
                "norm",
                bi(
                    f"‖q‖₂ = {num(norm, 6)}，超过了上限 {num(p.max_norm)}（注意四舍五入进位也可能超出）。",
                    f"‖q‖₂ = {num(norm, 6)} exceeds the bound {num(p.max_norm)} (rounding up can push it over).",
                ),
            )
        )
    keys = np.array(p.keys, dtype=float)
    for h, ((start, end), t) in enumerate(zip(p.heads, p.targets, strict=True), 1):
        scores = keys[:, start:end] @ qv[start:end]
        rivals = [j for j in range(len(keys)) if j != t and scores[j] >= scores[t] - SCORE_MARGIN]
        if rivals:
            j = max(rivals, key=lambda r: scores[r])
            listed = _score_list(scores)
            tie_zh = "并列最大" if abs(scores[j] - scores[t]) <= SCORE_MARGIN else "最大"
            tie_en = (
                "ties with the target" if abs(scores[j] - scores[t]) <= SCORE_MARGIN else "is the largest"
            )
            found.append(
                (
                    "constraint",
                    bi(
                        f"第 {h} 个头（第 {start + 1}–{end} 维）：点积 q·k_j = ({listed})，"
                        f"token {j + 1} 的点积{tie_zh}，而要求 token {t + 1} 严格最大（分数是点积除以 √d_h，大小顺序相同）。",
                        f"Head {h} (dimensions {start + 1}–{end}): the dot products q·k_j are ({listed}) (the scores divide them "
                        f"by √d_h, same order); "
                        f"token {j + 1} {tie_en}, but token {t + 1} must be strictly largest.",
                    ),
                )
            )
    return found


def _score_list(scores: np.ndarray) -> str:
    """Scores as a student writes them: a dot product that cancels is 0, not round-off like 1.11e-16."""
    return ", ".join(num(x, 4) for x in drop_round_off(scores.tolist(), atol=1e-9))


def _tex_vec(xs: Sequence[float]) -> str:
    """A column vector written inline as a transposed tuple."""
    return tex_tuple(xs, 4) + "^\\top"


Form = tuple[int, tuple[tuple[int, int], ...], int]  # width d, the heads' [start, end), keys m


@register
class QueryDesign(Family[QueryDesignParams]):
    id = "attention.query_design"
    version = 1
    title = bi("设计查询向量（多头注意力）", "Designing a query (multi-head attention)")
    difficulty = 3
    tags = ("attention", "self_attention", "multi_head")
    Params = QueryDesignParams

    def generate(self, rng: np.random.Generator) -> QueryDesignParams:
        while True:
            p = self._draw(rng)
            if p is not None:
                return p

    def form(self, p: QueryDesignParams) -> Hashable:
        # The width, the heads' slices, and the keys to beat in each.
        return len(p.keys[0]), tuple(tuple(h) for h in p.heads), len(p.keys)

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> QueryDesignParams | None:
        return first_drawn(lambda: self._draw(rng, cast(Form, form)))

    def _draw(self, rng: np.random.Generator, form: Form | None = None) -> QueryDesignParams | None:
        """One draw of `generate` (None: not clean); a given form keeps its width, heads and keys."""
        if form is None:
            d = int(rng.choice([4, 4, 6]))
            layouts = {
                4: [[(0, 4)], [(0, 2), (2, 4)]],
                6: [[(0, 6)], [(0, 3), (3, 6)], [(0, 2), (2, 4), (4, 6)]],
            }
            options = layouts[d]
            heads = options[int(rng.integers(len(options)))]
            m = int(rng.integers(3, 6))
        else:
            d, heads, m = form[0], list(form[1]), form[2]
        keys = rng.integers(-1, 2, size=(m, d))
        targets = [int(rng.integers(m)) for _ in heads]
        max_norm = float(rng.choice([1.0, 1.0, 1.0, 2.0, 0.5]))
        if self._clean(keys.astype(float), heads, targets):
            return QueryDesignParams(keys=keys.tolist(), heads=heads, targets=targets, max_norm=max_norm)
        return None

    @staticmethod
    def _clean(keys: np.ndarray, heads: list[tuple[int, int]], targets: list[int]) -> bool:
        """A generated instance has a clear solution in every head, and the all-ones guess fails somewhere."""
        lazy_guess_fails = False
        for (start, end), t in zip(heads, targets, strict=True):
            sub = keys[:, start:end]
            if len({tuple(r) for r in sub.tolist()}) < min(3, len(sub)) or not sub[t].any():
                return False
            if np.linalg.norm(_closest_difference(sub, t)) < 0.2:
                return False
            if _head_direction(sub, t)[0] == "closest":
                return False  # keep hand-work to the two simple constructions
            lazy_guess_fails |= not _wins(np.ones(end - start), sub, t, SCORE_MARGIN)
        return lazy_guess_fails

    def parts(self, p: QueryDesignParams) -> list[Part]:
        d = len(p.keys[0])
        return [
            Part(
                "query",
                AnswerSpec("vector"),
                bi(f"查询向量 $q$（{d} 维）", f"the query $q$ ({d} {plural(d, 'entry', 'entries')})"),
                bi(
                    f"满足条件的任一 {d} 维向量，如 [0.6, -0.8, …]（答案不唯一）",
                    f"any vector of {d} {plural(d, 'number', 'numbers')} meeting the conditions, e.g. [0.6, -0.8, …] (many are right)",
                ),
            )
        ]

    def solve(self, p: QueryDesignParams) -> dict[str, str]:
        q, _ = _reference_query(p)
        return {"query": vec(q.tolist())}

    def grade_part(self, p: QueryDesignParams, part: Part, answer: str, reference: str, lang: str) -> Verdict:
        lang = lang if lang in ("zh", "en") else "en"
        try:
            reading = read(answer, part.spec)
        except AnswerError as exc:
            return Verdict(False, 0.0, exc.message.get(lang, exc.message["en"]), None, reason="parse_error")
        values = reading.floats()
        if not isinstance(values, list) or any(isinstance(x, list) for x in values):
            msg = bi("请给出一个向量，如 [0, 0.6, -0.8, 0]。", "Give one vector, e.g. [0, 0.6, -0.8, 0].")
            return Verdict(False, 0.0, msg[lang], reading.interpreted, reason="wrong_shape")
        found = violations(p, values)
        if found:
            return Verdict(
                False, 0.0, " ".join(f[1][lang] for f in found), reading.interpreted, reason=found[0][0]
            )
        ok = bi(
            f"正确：‖q‖₂ ≤ {num(p.max_norm)}，且每个头中目标 token 的分数严格最大。",
            f"Correct: ‖q‖₂ ≤ {num(p.max_norm)} and the target token has the strictly largest score in every head.",
        )
        return Verdict(True, 1.0, ok[lang], reading.interpreted)

    def statement(self, p: QueryDesignParams) -> dict[str, str]:
        d, m = len(p.keys[0]), len(p.keys)
        keys = ", \\quad ".join(f"k_{{{j + 1}}} = {_tex_vec(k)}" for j, k in enumerate(p.keys))
        if len(p.heads) == 1 and p.heads[0] == (0, d):
            heads_zh = f"只有一个注意力头，使用全部 {d} 维"
            heads_en = f"There is a single head using all {d} {plural(d, 'dimension', 'dimensions')}"
        else:
            heads_zh = (
                "共 "
                + str(len(p.heads))
                + " 个注意力头，"
                + "；".join(f"第 {h} 个头使用第 {s + 1}–{e} 维" for h, (s, e) in enumerate(p.heads, 1))
            )
            heads_en = (
                f"There {plural(len(p.heads), 'is', 'are')} {len(p.heads)} {plural(len(p.heads), 'head', 'heads')}: "
                + "; ".join(f"head {h} uses dimensions {s + 1}–{e}" for h, (s, e) in enumerate(p.heads, 1))
            )
        want_zh = "；".join(
            f"第 {h} 个头中 token {t + 1} 的注意力权重最大" for h, t in enumerate(p.targets, 1)
        )
        want_en = "; ".join(
            f"in head {h}, token {t + 1} gets the largest weight" for h, t in enumerate(p.targets, 1)
        )
        return bi(
            f"自注意力层中 {m} 个 token 的键向量为（$d = {d}$，token 从 1 开始编号）：\n\n$${keys}$$\n\n"
            f"{heads_zh}。每个头只用自己那几维计算分数 $q^{{(h)}} \\cdot k_j^{{(h)}} / \\sqrt{{d_h}}$ 并做 softmax。"
            f"请写出一个查询向量 $q \\in \\mathbb{{R}}^{{{d}}}$，满足 $\\|q\\|_2 \\le {num(p.max_norm)}$，且{want_zh}"
            f"（严格大于其他 token）。答案不唯一。",
            f"In a self-attention layer the {m} {plural(m, 'token has the key', 'tokens have the keys')} ($d = {d}$, tokens numbered from 1):\n\n"
            f"$${keys}$$\n\n{heads_en}. Each head scores with its own dimensions only, "
            f"$q^{{(h)}} \\cdot k_j^{{(h)}} / \\sqrt{{d_h}}$, then takes a softmax. Write a query "
            f"$q \\in \\mathbb{{R}}^{{{d}}}$ with $\\|q\\|_2 \\le {num(p.max_norm)}$ such that {want_en} "
            f"(strictly larger than every other token's). Many answers are right.",
        )

    def solution(self, p: QueryDesignParams) -> dict[str, list[str]]:
        q, how = _reference_query(p)
        keys = np.array(p.keys, dtype=float)
        zh = [
            "softmax 是单调的：权重最大等价于分数 $q^{(h)} \\cdot k_j^{(h)} / \\sqrt{d_h}$ 最大，也就是点积 "
            "$q^{(h)} \\cdot k_j^{(h)}$ 最大（除以 $\\sqrt{d_h}$ 不改变大小顺序），下面只比较点积。"
            "各头的维度互不重叠，所以可以逐头构造，最后把整个向量缩放到范数上限以内（缩放不改变大小顺序）。"
        ]
        en = [
            "Softmax is monotone: the largest weight goes to the largest score $q^{(h)} \\cdot k_j^{(h)} / \\sqrt{d_h}$, "
            "that is to the largest dot product $q^{(h)} \\cdot k_j^{(h)}$ (dividing by $\\sqrt{d_h}$ keeps the order), "
            "so the steps compare dot products. The heads use disjoint dimensions, so build each head's part "
            "separately, then scale the whole vector to the norm bound (scaling keeps the order)."
        ]
        for h, ((start, end), t, kind) in enumerate(zip(p.heads, p.targets, how, strict=True), 1):
            scores = _score_list(keys[:, start:end] @ q[start:end])
            part = _tex_vec(q[start:end].tolist())
            if kind == "target_key":
                zh_why = f"取目标键本身的方向 $k_{{{t + 1}}}^{{({h})}}$"
                en_why = f"take the direction of the target key itself, $k_{{{t + 1}}}^{{({h})}}$"
            elif kind == "contrast":
                zh_why = f"取 $k_{{{t + 1}}}^{{({h})}}$ 减去其他键均值的方向"
                en_why = f"take $k_{{{t + 1}}}^{{({h})}}$ minus the mean of the other keys"
            else:
                zh_why = f"取差向量 $k_{{{t + 1}}} - k_j$ 凸包中离原点最近的点的方向"
                en_why = f"take the point of the convex hull of the differences $k_{{{t + 1}}} - k_j$ nearest the origin"
            zh.append(
                f"第 {h} 个头：{zh_why}，缩放后 $q^{{({h})}} = {part}$，点积 $q^{{({h})}} \\cdot k_j^{{({h})}}$ 为 ({scores})，"
                f"token {t + 1} 最大。"
            )
            en.append(
                f"Head {h}: {en_why}; scaled, $q^{{({h})}} = {part}$, dot products $q^{{({h})}} \\cdot k_j^{{({h})}}$ "
                f"({scores}): token {t + 1} is largest."
            )
        norm = num(float(np.linalg.norm(q)), 4)
        zh.append(f"合起来 $q = {_tex_vec(q.tolist())}$，$\\|q\\|_2 = {norm} \\le {num(p.max_norm)}$。")
        en.append(f"Together $q = {_tex_vec(q.tolist())}$ with $\\|q\\|_2 = {norm} \\le {num(p.max_norm)}$.")
        return {"zh": zh, "en": en}
