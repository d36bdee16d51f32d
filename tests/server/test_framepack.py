"""``framepack.pack_frame``: a frame packed by its layout is the message ``encode.pack``
writes — the same numbers, the same JSON — and anything the layout does not say goes
through ``encode.pack``."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.server import encode, framepack
from bpviz.server.messages import Frame, FrameLayer
from bpviz.server.protocol import server_adapter
from bpviz.server.settings import Settings
from bpviz.server.workspace import Workspace

from .conftest import frames_of, strict_json

CONFIGS = {
    "default": {},
    "xor relu": {
        "data": {"name": "xor"},
        "network": {"hidden": [{"units": 5, "activation": "relu"}]},
    },
    "square 1-D": {"data": {"name": "square"}},
    "digits": {
        "data": {"name": "digits"},
        "network": {"hidden": [{"units": 32, "activation": "relu"}], "loss": "softmax_ce"},
    },
    "deep sigmoid, diverging": {
        "network": {"hidden": [{"units": 6, "activation": "relu"}] * 8, "init": "naive"},
        "training": {"learning_rate": 10.0},
    },
    "batchnorm, residual, dropout": {
        "network": {
            "hidden": [{"units": 6, "activation": "silu"}] * 3,
            "batchnorm": True,
            "residual": True,
            "dropout": 0.2,
        }
    },
}


@pytest.mark.parametrize("name", CONFIGS)
def test_a_frame_packed_by_its_layout_is_the_message_encode_packs(name: str) -> None:
    for frame in frames_of(CONFIGS[name]):
        data = framepack._pack(frame)  # never the fallback for a frame the server builds
        decoded = encode.unpack(data)
        assert decoded == encode.unpack(encode.pack(frame))
        assert decoded == strict_json(encode.dumps(frame))  # to the very digit
        server_adapter.validate_python(decoded)
        assert framepack.pack_frame(frame) == data


def test_every_vector_of_a_layer_goes_to_the_numbers() -> None:
    """The layout's one list: each key of ``FrameLayer`` typed as a vector or a matrix
    is one the packer moves out; a new key of another type must be added to
    ``_LAYER_OTHERS`` (or the packer leaves such a layer to ``encode.pack``)."""
    typed = {
        k for k, t in FrameLayer.__annotations__.items() if "Vector" in str(t) or "Matrix" in str(t)
    }
    assert set(framepack._LAYER_ARRAYS) == typed - {"fprime_hist"}


def unexpected(frame: Frame, where: str) -> Frame:
    fields = dict(frame.__dict__)
    if where == "layer key":
        fields["layers"] = [{**fields["layers"][0], "surprise": 1.23456789}, *fields["layers"][1:]]
    elif where == "history text":
        fields["history"] = {**fields["history"], "notes": ["a", "b"]}
    elif where == "float list as layer vector":
        fields["layers"] = [{**fields["layers"][0], "b": [0.123456789, 2.0]}, *fields["layers"][1:]]
    elif where == "numpy scalar":
        fields["loss"] = np.float32(0.123456789)
    elif where == "integer array in history":
        fields["history"] = {**fields["history"], "extra": np.arange(3)}
    elif where == "metrics list":
        fields["metrics"] = {**fields["metrics"], "per_class": [0.123456789, 0.5]}
    return Frame.model_construct(**fields)


@pytest.mark.parametrize(
    "where",
    [
        "layer key",
        "history text",
        "float list as layer vector",
        "numpy scalar",
        "integer array in history",
        "metrics list",
    ],
)
def test_what_the_layout_does_not_say_goes_through_encode_pack(where: str) -> None:
    frame = unexpected(frames_of({})[-3], where)
    data = framepack.pack_frame(frame)
    assert encode.unpack(data) == encode.unpack(encode.pack(frame))
    assert encode.unpack(data) == strict_json(encode.dumps(frame))


def test_the_workspace_packs_binary_frames_by_their_layout_and_exact_ones_by_the_walk() -> None:
    work = Workspace(Settings())
    work.adopt(build(core_config.validate({})))
    work.exp.step()
    work.view.binary = True
    packed = work.frame_text()
    assert isinstance(packed, bytes) and packed[1] == encode.FLOAT32
    work.view.exact = True
    exact = work.frame_text()
    assert isinstance(exact, bytes) and exact[1] == encode.FLOAT64  # every digit
    assert strict_json(encode.dumps(encode.unpack(exact), rounded=False))["step"] == 1
