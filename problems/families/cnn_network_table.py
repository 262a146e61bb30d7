"""cnn.network_table: fill in each layer's output shape and parameter count of a small PyTorch net (seeds/002 1.3)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from grader import AnswerSpec
from grader.feedback import plural
from problems.base import Family, Misconception, Params, Part, Text, bi, first_drawn
from problems.families.cnn_common import (
    SIZE_RULE,
    conv_out,
    effective_kernel,
    fail,
    pair,
    pool_out,
    py_arg,
    size_formula,
)
from problems.fmt import shape as shape_text
from problems.registry import register

MAX_LAYERS = 16
MAX_SIZE = 1024
MAX_CHANNELS = 4096
MAX_FEATURES = 1_000_000
MAX_KERNEL = 64
MAX_GENERATED_PARAMS = 300_000

Shape = tuple[int, ...]  # one sample, no batch dimension

Channels = Annotated[int, Field(strict=True, ge=1, le=MAX_CHANNELS)]
KernelInt = Annotated[int, Field(strict=True, ge=1, le=MAX_KERNEL)]
StrideInt = Annotated[int, Field(strict=True, ge=1, le=MAX_KERNEL)]
PaddingInt = Annotated[int, Field(strict=True, ge=0, le=MAX_KERNEL)]
DilationInt = Annotated[int, Field(strict=True, ge=1, le=16)]
Features = Annotated[int, Field(strict=True, ge=1, le=MAX_FEATURES)]
OutSize = Annotated[int, Field(strict=True, ge=1, le=MAX_SIZE)]
Dim = Annotated[int, Field(strict=True, ge=-5, le=4)]


class LayerError(Exception):
    """A layer that cannot take its input; `field` is the kwarg to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _need_chw(name: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError("type", f"{name} needs a [C, H, W] input, but its input is {list(shape)}")
    return shape[0], shape[1], shape[2]


def _kwargs(layer: Params, order: Sequence[str]) -> str:
    """The constructor's arguments that differ from PyTorch's defaults, in signature order."""
    fields = type(layer).model_fields
    shown = []
    for name in order:
        value = getattr(layer, name)
        if fields[name].is_required() or value != fields[name].default:
            shown.append(f"{name}={py_arg(value) if isinstance(value, tuple) else repr(value)}")
    return ", ".join(shown)


class Identity(Params):
    type: Literal["Identity"]

    def forward(self, shape: Shape) -> Shape:
        return shape

    def num_params(self) -> int:
        return 0

    def code(self) -> str:
        return "Identity()"


class Conv2d(Params):
    type: Literal["Conv2d"]
    in_channels: Channels
    out_channels: Channels
    kernel_size: KernelInt | tuple[KernelInt, KernelInt]
    stride: StrideInt | tuple[StrideInt, StrideInt] = 1
    # PyTorch also takes padding="valid" (none) and "same" (output as large as the input, stride 1 only).
    padding: PaddingInt | tuple[PaddingInt, PaddingInt] | Literal["same", "valid"] = 0
    dilation: DilationInt | tuple[DilationInt, DilationInt] = 1
    groups: Channels = 1
    bias: bool = Field(default=True, strict=True)

    def forward(self, shape: Shape) -> Shape:
        c, h, w = _need_chw("Conv2d", shape)
        if self.in_channels != c:
            raise LayerError(
                "in_channels",
                f"its input {list(shape)} has {c} {plural(c, 'channel', 'channels')}, so in_channels must be {c}",
            )
        for name, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise LayerError("groups", f"{name} = {n} is not divisible by groups = {self.groups}")
        if self.padding == "same" and pair(self.stride) != (1, 1):
            raise LayerError(
                "padding", "padding='same' is not supported for strided convolutions (PyTorch rule)"
            )
        out = self.spatial(h, w, conv_out)
        if min(out) < 1:
            raise LayerError("kernel_size", f"the kernel is larger than the padded input {list(shape)}")
        return (self.out_channels, *out)

    def pads(self) -> tuple[int, int]:
        """Padding per side as numbers; "same" has none to give (PyTorch may pad one side more)."""
        if self.padding == "same":
            raise ValueError("padding='same' has no per-side number")
        return (0, 0) if self.padding == "valid" else pair(self.padding)

    def spatial(self, h: int, w: int, rule: Callable[[int, int, int, int, int], int]) -> tuple[int, int]:
        if self.padding == "same":
            return h, w  # whatever the size rule a student uses: "same" means the input's size
        k, s, p, d = pair(self.kernel_size), pair(self.stride), self.pads(), pair(self.dilation)
        return rule(h, k[0], s[0], p[0], d[0]), rule(w, k[1], s[1], p[1], d[1])

    def weights(self) -> int:
        kh, kw = pair(self.kernel_size)
        return self.out_channels * (self.in_channels // self.groups) * kh * kw

    def num_params(self) -> int:
        return self.weights() + (self.out_channels if self.bias else 0)

    def code(self) -> str:
        order = (
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
        )
        return f"Conv2d({_kwargs(self, order)})"


class BatchNorm2d(Params):
    type: Literal["BatchNorm2d"]
    num_features: Channels
    eps: float = Field(default=1e-5, gt=0, le=1)
    momentum: float | None = Field(default=0.1, ge=0, le=1)
    affine: bool = Field(default=True, strict=True)
    track_running_stats: bool = Field(default=True, strict=True)

    def forward(self, shape: Shape) -> Shape:
        c, _, _ = _need_chw("BatchNorm2d", shape)
        if self.num_features != c:
            raise LayerError(
                "num_features",
                f"its input {list(shape)} has {c} {plural(c, 'channel', 'channels')}, so num_features must be {c}",
            )
        return shape

    def num_params(self) -> int:
        return 2 * self.num_features if self.affine else 0  # gamma and beta; running stats are buffers

    def code(self) -> str:
        return f"BatchNorm2d({_kwargs(self, ('num_features', 'eps', 'momentum', 'affine', 'track_running_stats'))})"


class _Elementwise(Params):
    """Layers that keep the shape and have no parameters."""

    def forward(self, shape: Shape) -> Shape:
        return shape

    def num_params(self) -> int:
        return 0


class ReLU(_Elementwise):
    type: Literal["ReLU"]
    inplace: bool = Field(default=False, strict=True)

    def code(self) -> str:
        return f"ReLU({_kwargs(self, ('inplace',))})"


class Sigmoid(_Elementwise):
    type: Literal["Sigmoid"]

    def code(self) -> str:
        return "Sigmoid()"


class Tanh(_Elementwise):
    type: Literal["Tanh"]

    def code(self) -> str:
        return "Tanh()"


class Dropout(_Elementwise):
    type: Literal["Dropout"]
    p: float = Field(default=0.5, ge=0, le=1)
    inplace: bool = Field(default=False, strict=True)

    def code(self) -> str:
        return f"Dropout({_kwargs(self, ('p', 'inplace'))})"


class _Pool(Params):
    kernel_size: KernelInt | tuple[KernelInt, KernelInt]
    stride: StrideInt | tuple[StrideInt, StrideInt] | None = None
    padding: PaddingInt | tuple[PaddingInt, PaddingInt] = 0
    ceil_mode: bool = Field(default=False, strict=True)

    def dilation_pair(self) -> tuple[int, int]:
        return (1, 1)

    def steps(self) -> tuple[int, int]:
        return pair(self.kernel_size if self.stride is None else self.stride)

    def spatial(self, h: int, w: int, rule: Callable[..., int] = pool_out) -> tuple[int, int]:
        k, s, p, d = pair(self.kernel_size), self.steps(), pair(self.padding), self.dilation_pair()
        return rule(h, k[0], s[0], p[0], d[0], self.ceil_mode), rule(
            w, k[1], s[1], p[1], d[1], self.ceil_mode
        )

    def forward(self, shape: Shape) -> Shape:
        name = type(self).__name__
        c, h, w = _need_chw(name, shape)
        k, p = pair(self.kernel_size), pair(self.padding)
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise LayerError(
                "padding", f"{name} allows padding of at most half the kernel size (PyTorch rule)"
            )
        out = self.spatial(h, w)
        if min(out) < 1:
            raise LayerError("kernel_size", f"the window is larger than the padded input {list(shape)}")
        return (c, *out)

    def num_params(self) -> int:
        return 0


class MaxPool2d(_Pool):
    type: Literal["MaxPool2d"]
    dilation: DilationInt | tuple[DilationInt, DilationInt] = 1

    def dilation_pair(self) -> tuple[int, int]:
        return pair(self.dilation)

    def code(self) -> str:
        return f"MaxPool2d({_kwargs(self, ('kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode'))})"


class AvgPool2d(_Pool):
    type: Literal["AvgPool2d"]
    count_include_pad: bool = Field(default=True, strict=True)
    divisor_override: Annotated[int, Field(strict=True, ge=1, le=MAX_KERNEL**2)] | None = None

    def code(self) -> str:
        order = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
        return f"AvgPool2d({_kwargs(self, order)})"


class AdaptiveAvgPool2d(Params):
    type: Literal["AdaptiveAvgPool2d"]
    output_size: OutSize | tuple[OutSize | None, OutSize | None]

    def forward(self, shape: Shape) -> Shape:
        c, h, w = _need_chw("AdaptiveAvgPool2d", shape)
        oh, ow = (
            (self.output_size, self.output_size) if isinstance(self.output_size, int) else self.output_size
        )
        return (c, h if oh is None else oh, w if ow is None else ow)  # None keeps that size (PyTorch)

    def num_params(self) -> int:
        return 0

    def code(self) -> str:
        return f"AdaptiveAvgPool2d({_kwargs(self, ('output_size',))})"


class Flatten(Params):
    type: Literal["Flatten"]
    start_dim: Dim = 1
    end_dim: Dim = -1

    def span(self, shape: Shape) -> tuple[int, int]:
        """The flattened dims as indices into the sample's shape (the batched tensor has one more dim in front)."""
        rank = len(shape) + 1
        start, end = (d + rank if d < 0 else d for d in (self.start_dim, self.end_dim))
        if not 0 <= start < rank:
            raise LayerError("start_dim", f"out of range for the batched input of rank {rank}")
        if not 0 <= end < rank:
            raise LayerError("end_dim", f"out of range for the batched input of rank {rank}")
        if start == 0:
            raise LayerError(
                "start_dim", "dimension 0 is the batch; the table's shapes are per sample, so start at 1"
            )
        if start > end:
            raise LayerError("start_dim", "start_dim comes after end_dim")
        return start - 1, end - 1

    def forward(self, shape: Shape) -> Shape:
        a, b = self.span(shape)
        return (*shape[:a], math.prod(shape[a : b + 1]), *shape[b + 1 :])

    def num_params(self) -> int:
        return 0

    def code(self) -> str:
        return f"Flatten({_kwargs(self, ('start_dim', 'end_dim'))})"


class Linear(Params):
    type: Literal["Linear"]
    in_features: Features
    out_features: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    bias: bool = Field(default=True, strict=True)

    def forward(self, shape: Shape) -> Shape:
        if shape[-1] != self.in_features:
            raise LayerError(
                "in_features",
                f"Linear acts on the last dimension of its input {list(shape)}, so in_features must be {shape[-1]}",
            )
        return (*shape[:-1], self.out_features)

    def num_params(self) -> int:
        return self.in_features * self.out_features + (self.out_features if self.bias else 0)

    def code(self) -> str:
        return f"Linear({_kwargs(self, ('in_features', 'out_features', 'bias'))})"


class Softmax(_Elementwise):
    type: Literal["Softmax"]
    dim: Dim | None = None

    def forward(self, shape: Shape) -> Shape:
        rank = len(shape) + 1
        if self.dim is not None and not -rank <= self.dim < rank:
            raise LayerError("dim", f"out of range for the batched input of rank {rank}")
        return shape

    def code(self) -> str:
        return f"Softmax({_kwargs(self, ('dim',))})"


AnyLayer = (
    Identity
    | Conv2d
    | BatchNorm2d
    | ReLU
    | Sigmoid
    | Tanh
    | MaxPool2d
    | AvgPool2d
    | AdaptiveAvgPool2d
    | Flatten
    | Linear
    | Dropout
    | Softmax
)
LAYER_TYPES = tuple(cls.__name__ for cls in get_args(AnyLayer))  # each class is named after its type
Layer = Annotated[AnyLayer, Field(discriminator="type")]


class NetworkTableParams(Params):
    input_shape: tuple[Channels, OutSize, OutSize] = Field(description="one input sample [C, H, W]")
    layers: Annotated[
        list[Layer],
        Field(
            min_length=1, max_length=MAX_LAYERS, description='layers in order: {"type": T, ...PyTorch kwargs}'
        ),
    ]

    @field_validator("layers", mode="wrap")
    @classmethod
    def _locate(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Report layers.<i>.<field>, without pydantic's union tag in the middle (layers.<i>.Conv2d.<field>)."""
        try:
            return handler(value)
        except ValidationError as exc:
            details = []
            for e in exc.errors():
                loc = list(e["loc"])
                if len(loc) >= 2 and loc[1] in LAYER_TYPES:
                    del loc[1]
                # Smart unions (int | pair) label their branches: layers.0.kernel_size.constrained-int.
                loc = [x for x in loc if not (isinstance(x, str) and ("[" in x or "-" in x))]
                if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc.append("type")
                message = PydanticCustomError(e["type"], "{message}", {"message": e["msg"]})
                details.append(InitErrorDetails(type=message, loc=tuple(loc), input=e.get("input")))
            raise ValidationError.from_exception_data("layers", details) from None

    @model_validator(mode="after")
    def _check(self) -> NetworkTableParams:
        table(self)
        return self


def table(p: NetworkTableParams) -> list[tuple[Shape, int]]:
    """Each layer's output shape and parameter count; an impossible layer fails naming its field."""
    rows = []
    shape: Shape = tuple(p.input_shape)
    for i, layer in enumerate(p.layers):
        try:
            shape = layer.forward(shape)
        except LayerError as exc:
            fail(("layers", i, exc.field), f"{exc.message} (layer {i + 1} of the table, {layer.type})")
        rows.append((shape, layer.num_params()))
    return rows


def _inputs(p: NetworkTableParams, rows: list[tuple[Shape, int]]) -> list[Shape]:
    """The input shape of each layer: the network's input, then each previous layer's output."""
    return [tuple(p.input_shape), *(shape for shape, _ in rows[:-1])]


# --- generator --------------------------------------------------------------------------------


def _act(rng: np.random.Generator) -> dict[str, Any]:
    return {"type": str(rng.choice(["ReLU", "ReLU", "ReLU", "Tanh", "Sigmoid"]))}


def _like_002(rng: np.random.Generator) -> tuple[list[int], list[dict[str, Any]]]:
    """The answer-key table of seeds/002 1.3, with other sizes."""
    h = int(rng.choice([32, 48, 64, 96, 128, 224]))
    c1 = int(rng.choice([8, 16, 32, 64]))
    c2 = int(rng.choice([1, 1, 2, 4]))
    a = int(rng.choice([3, 4, 5]))
    c3 = int(rng.choice([1, 1, 2]))
    softmax: dict[str, Any] = {"type": "Softmax"} if rng.random() < 0.5 else {"type": "Softmax", "dim": 1}
    layers: list[dict[str, Any]] = [
        {"type": "Identity"},
        {"type": "Conv2d", "in_channels": 3, "out_channels": c1, "kernel_size": [3, 3]},
        {"type": "BatchNorm2d", "num_features": c1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": [2, 2], "stride": 2},
        {"type": "Conv2d", "in_channels": c1, "out_channels": c2, "kernel_size": [1, 1]},
        {"type": "AdaptiveAvgPool2d", "output_size": [a, a]},
        {"type": "Conv2d", "in_channels": c2, "out_channels": c3, "kernel_size": [2, 2]},
        {"type": "Flatten"},
        softmax,
    ]
    return [3, h, h], layers


def _like_lenet(rng: np.random.Generator) -> tuple[list[int], list[dict[str, Any]]]:
    """LeNet-5's feature extractor and a classifier, as taught (seeds/003)."""
    h = int(rng.choice([28, 32]))
    pool = str(rng.choice(["MaxPool2d", "AvgPool2d"]))
    c1, c2 = int(rng.choice([6, 8])), int(rng.choice([12, 16]))
    act = _act(rng)
    layers: list[dict[str, Any]] = [
        {
            "type": "Conv2d",
            "in_channels": 1,
            "out_channels": c1,
            "kernel_size": 5,
            "padding": 2 if h == 28 else 0,
        },
        act,
        {"type": pool, "kernel_size": 2},
        {"type": "Conv2d", "in_channels": c1, "out_channels": c2, "kernel_size": 5},
        act,
        {"type": pool, "kernel_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": c2 * 25, "out_features": int(rng.choice([10, 84, 120]))},
    ]
    return [1, h, h], layers


def _conv_block(
    rng: np.random.Generator, c: int, h: int, w: int
) -> tuple[list[dict[str, Any]], tuple[int, int, int]]:
    k = int(rng.choice([k for k in (1, 3, 3, 5) if k <= min(h, w)]))
    pad = int(rng.choice([0, k // 2]))
    stride = 2 if rng.random() < 0.25 and (h + 2 * pad - k) % 2 == 0 and (w + 2 * pad - k) % 2 == 0 else 1
    out = int(rng.choice([4, 6, 8, 16, 32]))
    conv: dict[str, Any] = {"type": "Conv2d", "in_channels": c, "out_channels": out, "kernel_size": k}
    if stride > 1:
        conv["stride"] = stride
    if pad:
        conv["padding"] = pad
    if rng.random() < 0.15:
        conv["bias"] = False
    layers = [conv]
    h, w = conv_out(h, k, stride, pad), conv_out(w, k, stride, pad)
    if rng.random() < 0.4:
        layers.append({"type": "BatchNorm2d", "num_features": out})
    if rng.random() < 0.8:
        layers.append(_act(rng))
    if rng.random() < 0.6 and min(h, w) >= 4:
        if h % 2 == 0 and w % 2 == 0:
            layers.append({"type": str(rng.choice(["MaxPool2d", "AvgPool2d"])), "kernel_size": 2})
            h, w = h // 2, w // 2
        elif h % 2 == 1 and w % 2 == 1:
            layers.append({"type": "MaxPool2d", "kernel_size": 3, "stride": 2})
            h, w = (h - 3) // 2 + 1, (w - 3) // 2 + 1
    return layers, (out, h, w)


def _random_net(rng: np.random.Generator) -> tuple[list[int], list[dict[str, Any]]]:
    c = int(rng.choice([1, 3]))
    h = int(rng.choice([8, 9, 12, 16, 28, 32]))
    w = h if rng.random() < 0.85 else h + 2 * int(rng.integers(1, 4))
    layers: list[dict[str, Any]] = []
    state = (c, h, w)
    for _ in range(int(rng.integers(1, 3))):
        block, state = _conv_block(rng, *state)
        layers += block
    classes = int(rng.choice([2, 3, 4, 5, 10]))
    if rng.random() < 0.35:
        size = int(rng.choice([1, 1, 2]))
        layers += [{"type": "AdaptiveAvgPool2d", "output_size": size}, {"type": "Flatten"}]
        features = state[0] * size * size
    else:
        layers.append({"type": "Flatten"})
        features = math.prod(state)
    if rng.random() < 0.4:
        hidden = int(rng.choice([16, 32, 64, 128]))
        layers += [{"type": "Linear", "in_features": features, "out_features": hidden}, {"type": "ReLU"}]
        if rng.random() < 0.5:
            layers.append({"type": "Dropout", "p": float(rng.choice([0.2, 0.5]))})
        features = hidden
    layers.append({"type": "Linear", "in_features": features, "out_features": classes})
    if rng.random() < 0.3:
        layers.append({"type": "Softmax", "dim": 1})
    return [c, h, w], layers


def _form(types: list[str]) -> tuple[int, int, int, int]:
    """The work of a table: its rows (two answers each), and how many of them take a size formula
    (Conv2d, MaxPool2d, AvgPool2d) or a parameter count by hand (Conv2d, Linear). Activations,
    BatchNorm2d, Flatten and the like copy a shape or count 2C: which of them a net has is not told
    apart, or most forms would be too rare to find."""
    convs = types.count("Conv2d")
    pools = types.count("MaxPool2d") + types.count("AvgPool2d")
    return len(types), convs, pools, types.count("Linear")


def _draw(rng: np.random.Generator, form: Hashable = None) -> NetworkTableParams | None:
    """One draw of `generate` (None: refused); with a form, a net of another form is refused too."""
    u = rng.random()
    make = _like_002 if u < 0.2 else _like_lenet if u < 0.35 else _random_net
    input_shape, layers = make(rng)
    if make is _random_net and not 3 <= len(layers) <= 8:
        return None
    if form is not None and _form([layer["type"] for layer in layers]) != form:
        return None
    p = NetworkTableParams.model_validate({"input_shape": input_shape, "layers": layers})
    if sum(n for _, n in table(p)) > MAX_GENERATED_PARAMS:
        return None  # a flattened 32x32 map into a wide Linear: not a table to fill in by hand
    return p


# --- misconceptions ----------------------------------------------------------------------------

Alt = Callable[[Any, Shape], tuple[Shape, int] | None]  # (layer, its input) -> wrong (shape, params), or None


def _alt_answers(p: NetworkTableParams, mistake: Alt) -> dict[str, str]:
    """The table a student fills in with one mistake, layer by layer from the right inputs; only what differs."""
    rows = table(p)
    answers: dict[str, str] = {}
    total = 0
    for i, (layer, shape_in, (shape_out, n)) in enumerate(
        zip(p.layers, _inputs(p, rows), rows, strict=True), 1
    ):
        alt = mistake(layer, shape_in)
        if alt is None:
            total += n
            continue
        alt_shape, alt_n = alt
        if alt_shape != shape_out and min(alt_shape) >= 1:
            answers[f"output_shape_{i}"] = shape_text(alt_shape)
        if alt_n != n:
            answers[f"num_params_{i}"] = str(alt_n)
        total += alt_n
    if total != sum(n for _, n in rows):
        answers["total_params"] = str(total)
    return answers


def _sizes(rule: Callable[..., int]) -> Alt:
    """A mistake in the size formula of conv and pooling layers."""

    def alt(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
        if not isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
            return None
        h, w = layer.spatial(shape_in[1], shape_in[2], rule)
        return ((layer.out_channels if isinstance(layer, Conv2d) else shape_in[0]), h, w), layer.num_params()

    return alt


def _conv_forgot_bias(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if isinstance(layer, Conv2d) and layer.bias:
        return layer.forward(shape_in), layer.weights()
    return None


def _conv_forgot_in_channels(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if isinstance(layer, Conv2d) and layer.in_channels // layer.groups > 1:
        kh, kw = pair(layer.kernel_size)
        return layer.forward(shape_in), layer.out_channels * (kh * kw + (1 if layer.bias else 0))
    return None


def _bn_running_stats(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if isinstance(layer, BatchNorm2d) and layer.track_running_stats:
        return shape_in, layer.num_params() + 2 * layer.num_features
    return None


def _linear_forgot_bias(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if isinstance(layer, Linear) and layer.bias:
        return layer.forward(shape_in), layer.in_features * layer.out_features
    return None


def _pool_stride_one(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if isinstance(layer, (MaxPool2d, AvgPool2d)) and layer.stride is None:
        return _sizes(lambda n, k, s, q, d, *_: n + 2 * q - effective_kernel(k, d) + 1)(layer, shape_in)
    return None


def _padding_once(layer: Any, shape_in: Shape) -> tuple[Shape, int] | None:
    if not isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)) or (
        isinstance(layer, Conv2d) and layer.padding == "same"
    ):
        return None
    if (layer.pads() if isinstance(layer, Conv2d) else pair(layer.padding)) != (0, 0):
        return _sizes(lambda n, k, s, q, d, *_: (n + q - effective_kernel(k, d)) // s + 1)(layer, shape_in)
    return None


MISTAKES: list[tuple[str, Text, Alt]] = [
    (
        "conv_forgot_bias",
        bi(
            "卷积层默认 bias=True：每个输出通道还有 1 个偏置，参数量 = C_out×(C_in×k_h×k_w + 1)。",
            "Conv2d has bias=True by default: each output channel also has a bias, so the count is "
            "C_out×(C_in×k_h×k_w + 1).",
        ),
        _conv_forgot_bias,
    ),
    (
        "conv_forgot_in_channels",
        bi(
            "卷积核覆盖全部输入通道：每个卷积核有 C_in×k_h×k_w 个权重，而不是 k_h×k_w。",
            "A filter spans every input channel: it has C_in×k_h×k_w weights, not k_h×k_w.",
        ),
        _conv_forgot_in_channels,
    ),
    (
        "bn_counted_running_stats",
        bi(
            "BatchNorm2d 的可训练参数只有每个通道的 γ 和 β（2×C）；running_mean 和 running_var 是不参与训练的缓冲区。",
            "BatchNorm2d trains only γ and β per channel (2×C); running_mean and running_var are buffers, not "
            "trainable parameters.",
        ),
        _bn_running_stats,
    ),
    (
        "linear_forgot_bias",
        bi(
            "全连接层默认 bias=True：参数量 = in_features×out_features + out_features。",
            "Linear has bias=True by default: in_features×out_features + out_features parameters.",
        ),
        _linear_forgot_bias,
    ),
    (
        "pool_stride_defaults_to_one",
        bi(
            "MaxPool2d / AvgPool2d 未指定 stride 时，步长默认等于 kernel_size，而不是 1。",
            "When MaxPool2d / AvgPool2d get no stride, it defaults to kernel_size, not 1.",
        ),
        _pool_stride_one,
    ),
    (
        "forgot_plus_one",
        bi(
            "输出尺寸公式末尾有 +1：(H + 2P − K)/S + 1。",
            "The size formula ends in +1: (H + 2P − K)/S + 1.",
        ),
        _sizes(lambda n, k, s, q, d, *_: (n + 2 * q - effective_kernel(k, d)) // s),
    ),
    (
        "padding_counted_once",
        bi(
            "填充加在两侧：高和宽各加 2P，而不是 P。",
            "Padding is added on both sides: the height and width grow by 2P, not P.",
        ),
        _padding_once,
    ),
]


# --- the family ---------------------------------------------------------------------------------


def _dims_steps(layer: Conv2d | MaxPool2d | AvgPool2d, shape_in: Shape) -> str:
    """The size formula with the layer's numbers: one line if height and width agree."""
    if isinstance(layer, Conv2d) and layer.padding == "same":
        h, w = shape_in[1], shape_in[2]
        return f"H' = H = {h},\\ W' = W = {w}\\ (\\text{{padding='same'}})"
    k = pair(layer.kernel_size)
    s = pair(layer.stride) if isinstance(layer, Conv2d) else layer.steps()
    q = layer.pads() if isinstance(layer, Conv2d) else pair(layer.padding)
    d = pair(layer.dilation) if isinstance(layer, (Conv2d, MaxPool2d)) else (1, 1)
    ceil = isinstance(layer, (MaxPool2d, AvgPool2d)) and layer.ceil_mode
    fh, fw = (size_formula(shape_in[1 + i], k[i], s[i], q[i], d[i], ceil) for i in (0, 1))
    if fh == fw:
        return f"H' = W' = {fh}"
    return f"H' = {fh},\\ W' = {fw}"


def _explain(layer: Any, shape_in: Shape, shape_out: Shape, n: int) -> Text:
    """One worked line of the table."""
    out = f"${shape_text(shape_out)}$"
    if isinstance(layer, Conv2d):
        kh, kw = pair(layer.kernel_size)
        cin = layer.in_channels // layer.groups
        per = f"{cin} \\times {kh} \\times {kw}" + (" + 1" if layer.bias else "")
        dil = "（K 取 d(k-1)+1）" if pair(layer.dilation) != (1, 1) else ""
        dil_en = " (K is d(k-1)+1)" if dil else ""
        return bi(
            f"${_dims_steps(layer, shape_in)}${dil}，输出 {out}；参数 ${layer.out_channels} \\times ({per}) = {n}$。",
            f"${_dims_steps(layer, shape_in)}${dil_en}, output {out}; parameters "
            f"${layer.out_channels} \\times ({per}) = {n}$.",
        )
    if isinstance(layer, BatchNorm2d):
        if not layer.affine:
            return bi(
                f"形状不变 {out}；affine=False，没有 γ、β：0 个参数。",
                f"shape unchanged {out}; affine=False: no γ, β, 0 parameters.",
            )
        c = layer.num_features
        return bi(
            f"形状不变 {out}；每个通道一对 γ、β：${c} \\times 2 = {n}$（running_mean/var 是缓冲区，不训练）。",
            f"shape unchanged {out}; one γ and one β per channel: ${c} \\times 2 = {n}$ (running_mean/var "
            f"are buffers, not trained).",
        )
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        note = bi("", "")
        if layer.stride is None:
            note = bi("（stride 默认等于 kernel_size）", " (stride defaults to kernel_size)")
        return bi(
            f"逐通道汇聚{note['zh']}：${_dims_steps(layer, shape_in)}$，输出 {out}；没有参数。",
            f"pooling per channel{note['en']}: ${_dims_steps(layer, shape_in)}$, output {out}; no parameters.",
        )
    if isinstance(layer, AdaptiveAvgPool2d):
        return bi(
            f"自适应汇聚直接把高宽变为 output_size：输出 {out}；没有参数。",
            f"adaptive pooling sets the height and width to output_size: output {out}; no parameters.",
        )
    if isinstance(layer, Flatten):
        a, b = layer.span(shape_in)
        product = " \\times ".join(str(x) for x in shape_in[a : b + 1])
        return bi(
            f"展平：${product} = {math.prod(shape_in[a : b + 1])}$，输出 {out}；没有参数。",
            f"flatten: ${product} = {math.prod(shape_in[a : b + 1])}$, output {out}; no parameters.",
        )
    if isinstance(layer, Linear):
        terms = f"{layer.in_features} \\times {layer.out_features}" + (
            f" + {layer.out_features}" if layer.bias else ""
        )
        return bi(
            f"作用在最后一维 {layer.in_features} → {layer.out_features}，输出 {out}；参数 ${terms} = {n}$。",
            f"acts on the last dimension, {layer.in_features} → {layer.out_features}: output {out}; "
            f"parameters ${terms} = {n}$.",
        )
    if isinstance(layer, Dropout):
        return bi(
            f"形状不变 {out}；随机置零没有参数。",
            f"shape unchanged {out}; zeroing at random has no parameters.",
        )
    if isinstance(layer, Identity):
        return bi(
            f"恒等映射，形状不变 {out}；没有参数。", f"the identity: shape unchanged {out}; no parameters."
        )
    if isinstance(layer, Softmax):
        return bi(
            f"沿一个维度把分数归一化为概率，形状不变 {out}；没有参数。",
            f"normalises scores into probabilities along one dimension: shape unchanged {out}; no parameters.",
        )
    return bi(
        f"逐元素激活，形状不变 {out}；没有参数。",
        f"element-wise activation: shape unchanged {out}; no parameters.",
    )


@register
class NetworkTable(Family[NetworkTableParams]):
    id = "cnn.network_table"
    version = 1
    title = bi(
        "填写网络结构表：每层的输出维度与参数量",
        "Fill in a network table: output shape and parameters of each layer",
    )
    difficulty = 2
    tags = ("cnn", "network_table", "num_params", "output_shape")
    Params = NetworkTableParams

    def generate(self, rng: np.random.Generator) -> NetworkTableParams:
        while True:  # a few draws at most
            p = _draw(rng)
            if p is not None:
                return p

    def form(self, p: NetworkTableParams) -> Hashable:
        return _form([layer.type for layer in p.layers])

    def generate_in_form(self, rng: np.random.Generator, form: Hashable) -> NetworkTableParams | None:
        # Most draws have another form: refused on the layers' types, before validation (~60 us each).
        # A form of one net in a few hundred (3% of targets) costs a 300-variant exam seconds.
        return first_drawn(lambda: _draw(rng, form))

    def parts(self, p: NetworkTableParams) -> list[Part]:
        shape_hint = bi("[C, H, W]；展平后如 [4]", "[C, H, W]; after Flatten e.g. [4]")
        integer = bi(
            "一个整数，可写算式，如 32*(3*3*3+1)", "an integer; arithmetic is fine, e.g. 32*(3*3*3+1)"
        )
        parts = []
        for i, layer in enumerate(p.layers, 1):
            parts.append(
                Part(
                    f"output_shape_{i}",
                    AnswerSpec("shape"),
                    bi(f"第 {i} 层 {layer.type} 的输出维度", f"output shape of layer {i} ({layer.type})"),
                    shape_hint,
                )
            )
            parts.append(
                Part(
                    f"num_params_{i}",
                    AnswerSpec("integer"),
                    bi(
                        f"第 {i} 层 {layer.type} 的可训练参数个数",
                        f"trainable parameters of layer {i} ({layer.type})",
                    ),
                    integer,
                )
            )
        parts.append(
            Part(
                "total_params",
                AnswerSpec("integer"),
                bi("可训练参数总数", "total trainable parameters"),
                integer,
            )
        )
        return parts

    def solve(self, p: NetworkTableParams) -> dict[str, str]:
        answers = {}
        rows = table(p)
        for i, (shape, n) in enumerate(rows, 1):
            answers[f"output_shape_{i}"] = shape_text(shape)
            answers[f"num_params_{i}"] = str(n)
        answers["total_params"] = str(sum(n for _, n in rows))
        return answers

    def statement(self, p: NetworkTableParams) -> Text:
        first = shape_text(p.input_shape)
        rows = "\n".join(f"| {i} | `{layer.code()}` | ? | ? |" for i, layer in enumerate(p.layers, 1))
        zh_head = (
            f"| # | 网络模块 | 输出维度 | 可训练参数个数 |\n|---|---|---|---|\n| 0 | 输入 | {first} | — |"
        )
        en_head = f"| # | module | output shape | trainable parameters |\n|---|---|---|---|\n| 0 | input | {first} | — |"
        return bi(
            f"用 PyTorch（`torch.nn`）搭建的网络如下表，按顺序处理一个形状为 $[C, H, W] = {first}$ 的输入样本"
            f"（表中形状都不含 batch 维）。请填写每一层的输出维度（按 [通道数, 高, 宽] 格式，展平后为一维，如 [4]）"
            f"和可训练参数个数，以及全网络的可训练参数总数。\n\n"
            f"未写出的参数取 PyTorch 的默认值：卷积层 stride=1、padding=0、dilation=1、bias=True；全连接层 bias=True；"
            f"MaxPool2d / AvgPool2d 的 stride 默认等于 kernel_size；卷积和汇聚的输出尺寸向下取整（ceil_mode=False）；Flatten 从 batch 之后的第一维展平到最后。\n\n"
            f"{zh_head}\n{rows}",
            f"The PyTorch (`torch.nn`) network in the table processes, in order, one input sample of shape "
            f"$[C, H, W] = {first}$ (no shape in the table includes the batch dimension). Fill in each layer's "
            f"output shape (as [channels, height, width]; one-dimensional after Flatten, e.g. [4]) and number "
            f"of trainable parameters, and the network's total number of trainable parameters.\n\n"
            f"Arguments not written take PyTorch's defaults: Conv2d stride=1, padding=0, dilation=1, bias=True; Linear "
            f"bias=True; MaxPool2d / AvgPool2d stride equals kernel_size; conv and pooling sizes round down "
            f"(ceil_mode=False); Flatten flattens "
            f"from the first dimension after the batch to the last.\n\n"
            f"{en_head}\n{rows}",
        )

    def solution(self, p: NetworkTableParams) -> dict[str, list[str]]:
        rows = table(p)
        zh: list[str] = [f"卷积和汇聚层的输出尺寸：${SIZE_RULE}$。"]
        en: list[str] = [f"Conv and pooling output sizes: ${SIZE_RULE}$."]
        for i, (layer, shape_in, (shape_out, n)) in enumerate(
            zip(p.layers, _inputs(p, rows), rows, strict=True), 1
        ):
            line = _explain(layer, shape_in, shape_out, n)
            zh.append(f"第 {i} 层 `{layer.code()}`：{line['zh']}")
            en.append(f"Layer {i} `{layer.code()}`: {line['en']}")
        counts = [str(n) for _, n in rows if n]
        total = sum(n for _, n in rows)
        sum_text = " + ".join(counts) + f" = {total}" if len(counts) > 1 else str(total)
        zh.append(f"参数总数：${sum_text}$。")
        en.append(f"Total parameters: ${sum_text}$.")
        return {"zh": zh, "en": en}

    def misconceptions(self) -> list[Misconception[NetworkTableParams]]:
        return [_misconception(name, feedback, mistake) for name, feedback, mistake in MISTAKES]


def _misconception(name: str, feedback: Text, mistake: Alt) -> Misconception[NetworkTableParams]:
    return Misconception(name, feedback, lambda p: _alt_answers(p, mistake))
