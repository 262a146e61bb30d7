"""rnn.num_params against PyTorch's nn.RNN / nn.LSTM / nn.GRU, misconceptions, params validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from problems.base import InvalidParams, grade_answers
from problems.checkbank import check_family
from problems.registry import get_family, instantiate

ID = "rnn.num_params"
TORCH_CLASS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def torch_count(torch: Any, p: dict[str, Any]) -> int:
    """PyTorch's count; for the textbook form (one bias per gate) leave out every b_hh tensor."""
    cls = getattr(torch.nn, TORCH_CLASS[p["cell"]])
    # The meta device builds the module without allocating its weights, so large sizes cost nothing.
    layer = cls(
        p["input_size"],
        p["hidden_size"],
        num_layers=p["num_layers"],
        bias=p["bias_vectors"] > 0,
        bidirectional=p["bidirectional"],
        device="meta",
    )
    return sum(
        t.numel()
        for name, t in layer.named_parameters()
        if not (p["bias_vectors"] == 1 and name.startswith("bias_hh"))
    )


def random_params(rng: np.random.Generator) -> dict[str, Any]:
    """Explicit params unlike the generator's: any sizes, deep and bidirectional stacks, every bias form."""
    return {
        "cell": str(rng.choice(["rnn", "lstm", "gru"])),
        "input_size": int(rng.integers(1, 2000)),
        "hidden_size": int(rng.integers(1, 1000)),
        "bias_vectors": int(rng.integers(0, 3)),
        "num_layers": int(rng.choice([1, 1, 2, 3, 5])),
        "bidirectional": bool(rng.random() < 0.4),
    }


@pytest.mark.torch
def test_matches_pytorch_parameter_count() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rng = np.random.default_rng(4)
    cases = [instantiate(ID, seed=seed).params for seed in range(400)]
    cases += [random_params(rng) for _ in range(700)]
    for params in cases:
        inst = instantiate(ID, params=params)
        assert int(inst.answers["num_params"]) == torch_count(torch, inst.params), inst.params
    seen = {(p["cell"], p["bias_vectors"], p["num_layers"] > 1, p["bidirectional"]) for p in cases}
    assert len(seen) == 3 * 3 * 2 * 2  # every cell, bias form, depth and direction was compared


# Counts worked by hand from the gate equations (not from our solver):
#   LSTM(100 -> 128), PyTorch: 4 * (128*100 + 128*128 + 2*128) = 4 * 29440 = 117760
#   the same with one bias per gate (the textbook; also Keras' LSTM(128) on 100 features): 117248
#   GRU(10 -> 20), PyTorch: 3 * (20*10 + 20*20 + 40) = 1920; simple RNN(3 -> 4), one bias: 12 + 16 + 4 = 32
LSTM_PT = {"cell": "lstm", "input_size": 100, "hidden_size": 128, "bias_vectors": 2}
LSTM_TB = {"cell": "lstm", "input_size": 100, "hidden_size": 128, "bias_vectors": 1}
GRU_PT = {"cell": "gru", "input_size": 10, "hidden_size": 20, "bias_vectors": 2}
RNN_TB = {"cell": "rnn", "input_size": 3, "hidden_size": 4, "bias_vectors": 1}
# 2-layer bidirectional GRU(10 -> 20), PyTorch: layer 1: 2 * 1920 = 3840; layer 2 reads 2*20 = 40 features:
# 2 * 3 * (20*40 + 20*20 + 40) = 7440; total 11280.
GRU_DEEP = {**GRU_PT, "num_layers": 2, "bidirectional": True}


@pytest.mark.parametrize(
    ("params", "answer", "correct", "misconception"),
    [
        (LSTM_PT, "4*(128*100 + 128*128 + 2*128)", True, None),
        (LSTM_PT, "117,760", True, None),
        (LSTM_PT, "117248", False, "one_bias_instead_of_two"),
        (LSTM_PT, "4*(128*100+128*128)", False, "forgot_bias"),
        (LSTM_PT, "3*(128*100 + 128*128 + 2*128)", False, "gates_without_candidate"),
        (LSTM_PT, "4*(128*100 + 2*128)", False, "forgot_recurrent_weights"),
        (LSTM_PT, "128*100 + 128*128 + 2*128", False, "counted_as_simple_rnn"),
        (LSTM_TB, "4*(128*(100+128)+128)", True, None),
        (LSTM_TB, "117760", False, "two_biases_instead_of_one"),
        (GRU_PT, "1920", True, None),
        (GRU_PT, "2*(20*10 + 20*20 + 40)", False, "gates_without_candidate"),
        (RNN_TB, "32", True, None),
        (RNN_TB, "3*4 + 4", False, "forgot_recurrent_weights"),
        (GRU_DEEP, "11280", True, None),
        (GRU_DEEP, "2*1920 + 2*3*(20*10+20*20+40)", False, "later_layers_read_input_size"),
        (GRU_DEEP, "2*1920 + 2*3*(20*20+20*20+40)", False, "bidirectional_next_input_hidden"),
        (GRU_DEEP, "1920 + 3*(20*20+20*20+40)", False, "one_direction_only"),
    ],
)
def test_answers_and_misconceptions(
    params: dict[str, Any], answer: str, correct: bool, misconception: str | None
) -> None:
    r = grade_answers(instantiate(ID, params=params), {"num_params": answer}).parts["num_params"]
    assert (r.correct, r.misconception) == (correct, misconception), r
    if not correct:
        assert r.score == 0 and r.feedback


def test_statement_names_the_convention() -> None:
    pytorch = instantiate(ID, params=LSTM_PT).statement
    textbook = instantiate(ID, params=LSTM_TB).statement
    assert "nn.LSTM(input_size=100, hidden_size=128)" in pytorch["en"] and "b}_{hh}" in pytorch["zh"]
    assert "\\tilde{\\mathbf{c}}_t" in textbook["en"] and "一个偏置向量" in textbook["zh"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**LSTM_PT, "cell": "transformer"}, "cell"),
        ({**LSTM_PT, "input_size": 0}, "input_size"),
        ({**LSTM_PT, "hidden_size": 10**7}, "hidden_size"),
        ({**LSTM_PT, "bias_vectors": 3}, "bias_vectors"),
        ({**LSTM_PT, "num_layers": 0}, "num_layers"),
        ({**LSTM_PT, "num_layers": 100}, "num_layers"),
        ({**LSTM_PT, "bidirectional": "both"}, "bidirectional"),
        ({**LSTM_PT, "proj_size": 4}, "proj_size"),
        ({"cell": "gru", "hidden_size": 4}, "input_size"),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParams) as exc:
        instantiate(ID, params=params)
    assert any(e["loc"][:1] == [field] or f"{field}:" in e["msg"] for e in exc.value.errors), exc.value


def test_check_bank() -> None:
    report = check_family(get_family(ID), range(50))
    assert report.failures == []
    assert report.misconception_checks > 100


@pytest.mark.parametrize("bias_vectors", [0, 1, 2])
def test_steps_agree_about_the_bias(bias_vectors: int) -> None:
    # bias_vectors 0 used to say "1 weight group (W, U, b)" and then "no bias".
    inst = instantiate(
        "rnn.num_params",
        params={"cell": "rnn", "input_size": 10, "hidden_size": 4, "bias_vectors": bias_vectors},
    )
    assert inst.answers["num_params"] == str(4 * 10 + 4 * 4 + bias_vectors * 4)  # by hand
    steps = inst.solution()
    for lang, none in (("zh", "没有偏置"), ("en", "no bias")):
        text = "\n".join(steps[lang])
        assert ("\\mathbf{b}" in text) == (bias_vectors > 0), text
        assert (none in text) == (bias_vectors == 0), text
