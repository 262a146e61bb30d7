"""The course syllabus by chapter (seeds/003 review notes); a family's first tag is its chapter."""

from __future__ import annotations

from problems.base import Text, bi

# Chapter tag -> bilingual title, in teaching order.
CHAPTERS: dict[str, Text] = {
    "ml_basics": bi("第二章 机器学习概述", "Ch. 2 Machine-learning basics"),
    "linear_models": bi("第三章 线性模型", "Ch. 3 Linear models"),
    "ffn": bi("第四章 前馈神经网络", "Ch. 4 Feed-forward networks"),
    "cnn": bi("第五章 卷积神经网络", "Ch. 5 Convolutional networks"),
    "rnn": bi("第六章 循环神经网络", "Ch. 6 Recurrent networks"),
    "optimization": bi("第七章 网络优化与正则化", "Ch. 7 Optimisation and regularisation"),
    "attention": bi("第八章 注意力机制", "Ch. 8 Attention and transformers"),
    "rl": bi("第十四章 深度强化学习", "Ch. 14 Deep reinforcement learning"),
}


def chapter_of(tags: tuple[str, ...]) -> str:
    """Return the chapter tag of a family (its first tag that is a chapter)."""
    for t in tags:
        if t in CHAPTERS:
            return t
    raise ValueError(f"no chapter tag among {tags}")
