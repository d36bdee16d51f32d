"""Editing one weight or bias by hand: only between steps, exactly the value typed."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.engine.edits import ParamError, set_param
from bpviz.core.engine.network import Network
from bpviz.core.engine.stepper import Stepper


def stepper(dtype: str = "float64", batchnorm: bool = False) -> Stepper:
    net = Network.build(2, [(3, "tanh")], 1, loss="bce", dtype=dtype, batchnorm=batchnorm)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    Y = (X[:, :1] > 0).astype(float)
    return Stepper(net, X, Y, batch_size=4)


def test_sets_a_weight_and_a_bias_and_the_next_step_uses_them() -> None:
    st = stepper()
    assert set_param(st, 1, "W", [2, 1], 0.75) == 0.75
    assert set_param(st, 2, "b", [0], -0.5) == -0.5
    net = st.network
    assert net.layers[0].W[2, 1] == 0.75 and net.layers[1].b[0] == -0.5
    before = net.params.copy()
    st.step()
    trace = st.trace
    assert trace is not None and trace.layers[0].z is not None
    x = trace.x
    assert x is not None
    z = x @ before[:6].reshape(3, 2).T + before[6:9]
    np.testing.assert_array_equal(trace.layers[0].z, z)  # the forward pass used the edit


def test_only_at_a_step_boundary() -> None:
    st = stepper()
    st.step_phase()
    before = st.network.params.copy()
    with pytest.raises(ParamError) as info:
        set_param(st, 1, "W", [0, 0], 1.0)
    assert info.value.code == "mid_step" and info.value.field is None
    assert np.array_equal(st.network.params, before)
    st.step()  # finishes the step
    set_param(st, 1, "W", [0, 0], 1.0)


@pytest.mark.parametrize(
    ("layer", "param", "index", "value", "field"),
    [
        (0, "W", [0, 0], 1.0, "layer"),
        (3, "W", [0, 0], 1.0, "layer"),
        (1, "gamma", [0], 1.0, "param"),
        (1, "W", [3, 0], 1.0, "index"),
        (1, "W", [0, 2], 1.0, "index"),
        (1, "W", [0], 1.0, "index"),
        (1, "b", [0, 0], 1.0, "index"),
        (2, "b", [1], 1.0, "index"),
        (1, "W", [-1, 0], 1.0, "index"),
        (1, "W", [0, 0], float("nan"), "value"),
        (1, "W", [0, 0], float("inf"), "value"),
    ],
)
def test_bad_edits_name_their_field_and_change_nothing(
    layer: int, param: str, index: list[int], value: float, field: str
) -> None:
    st = stepper()
    before = st.network.params.copy()
    with pytest.raises(ParamError) as info:
        set_param(st, layer, param, index, value)
    assert (info.value.code, info.value.field) == ("bad_param", field)
    assert str(info.value) == info.value.message
    assert np.array_equal(st.network.params, before)


def test_a_float32_network_stores_the_value_rounded() -> None:
    st = stepper("float32")
    assert set_param(st, 1, "W", [0, 0], 0.1) == float(np.float32(0.1))
    with pytest.raises(ParamError) as info:
        set_param(st, 1, "W", [0, 0], 1e300)  # finite, but not in float32
    assert info.value.field == "value" and info.value.params == {"dtype": "float32"}


def test_with_batchnorm_b_is_beta() -> None:
    st = stepper(batchnorm=True)
    set_param(st, 1, "b", [1], 0.25)
    layer = st.network.layers[0]
    assert layer.b[1] == 0.25 and layer.bn is not None
    assert st.network.get_weights()[0][1][1] == 0.25
