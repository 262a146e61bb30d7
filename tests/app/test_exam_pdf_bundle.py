"""The whole-class PDF bundle: documents printed in parallel and joined in order; trivial math as text."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rendering import plain_math, render
from app.services import exam_render, pdf


@pytest.mark.parametrize(
    ("latex", "html"),
    [
        ("3", "3"),
        ("0.5", "0.5"),
        ("x", "<i>x</i>"),
        ("x_1", "<i>x</i><sub>1</sub>"),
        ("q_i", "<i>q</i><sub><i>i</i></sub>"),
        ("\\sigma^2", "<i>\u03c3</i><sup>2</sup>"),
        ("\\Sigma", "\u03a3"),  # capital Greek is upright in TeX
        ("\\mathbf{h}_{t-1}", "<b>h</b><sub><i>t</i>\u22121</sub>"),
        ("W \\times H", "<i>W</i> \u00d7 <i>H</i>"),
        ("d_k = 64", "<i>d</i><sub><i>k</i></sub> = 64"),
        ("a = -3", "<i>a</i> = \u22123"),  # a sign, not a binary minus: no spaces
        ("1,2", "1, 2"),
    ],
)
def test_trivial_formulas_are_plain_text(latex: str, html: str) -> None:
    assert plain_math(latex) == html


@pytest.mark.parametrize(
    "latex",
    [
        "\\frac{1}{2}",
        "ab",  # a product: spacing is TeX's business
        "x_12",  # TeX reads x_1 2
        "x^2_1",
        "s_{t+1} = ",
        "\\log",
        "\\timesx",
        "\\text{a}",
        "[32, 222, 222]",
        "x,",
        "+x",
        "",
    ],
)
def test_anything_else_stays_mathml(latex: str) -> None:
    assert plain_math(latex) is None


def test_render_mixes_plain_and_mathml() -> None:
    out = str(render("设 $x_1 = 3$，则 $\\frac{x_1}{2}$"))
    assert '<span class="math plain"><i>x</i><sub>1</sub> = 3</span>' in out
    assert out.count("<math") == 1 and "<mfrac>" in out


_PIECES = [*"xyW12_^{}<>&\"'=+-, \\", "\\times", "\\sigma", "\\mathbf{h}", "\\text{<b>}"]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_plain_math_emits_only_its_own_tags(latex: str) -> None:
    out = plain_math(latex)
    if out is not None:
        # Nothing of the student's or author's text passes through except letters, digits and operators.
        assert not re.search(r"[<>&\"'\\{}_^]", re.sub(r"</?(i|b|sub|sup)>", "", out))


def test_bundle_documents_keep_every_variant_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "print_workers", lambda: 2)
    variants = list(range(200))
    docs = exam_render._documents(variants)  # type: ignore[arg-type]
    assert [len(d) for d in docs] == [100, 100]
    assert [v for d in docs for v in d] == variants
    assert exam_render._documents(list(range(3))) == [[0, 1, 2]]  # type: ignore[arg-type]
    assert [len(d) for d in exam_render._documents(list(range(23)))] == [12, 11]
    assert [len(d) for d in exam_render._documents(list(range(15)))] == [10, 5]  # not below 10 a document  # type: ignore[arg-type]


@pytest.mark.skipif(
    pdf.chromium_path() is None or shutil.which("pdftotext") is None,
    reason="needs Debian's chromium and poppler-utils (installed by make test)",
)
def test_documents_are_printed_and_joined_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = "<!doctype html><meta charset=utf-8><style>@page {{ size: A4 }}</style><h1>{} 第{}份</h1>"
    names = ["ALPHA", "BRAVO", "CHARLIE"]
    # A generator, as exam_render passes it: printing starts before the last document exists.
    joined = pdf.htmls_to_pdf((page.format(n, i) for i, n in enumerate(names)), tagged=False, timeout=120)
    (tmp_path / "j.pdf").write_bytes(joined)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "j.pdf"), "-"], capture_output=True, text=True, check=True
    )
    pages = ["".join(p.split()) for p in text.stdout.split("\f") if p.strip()]  # pdftotext spaces freely
    assert pages == [f"{n}第{i}份" for i, n in enumerate(names)]
    assert b"/StructElem" not in joined  # untagged: print-only output
    assert b"/StructElem" in pdf.html_to_pdf(page.format("ONE", 1), timeout=120)  # tagged by default
