"""Nielsen's vanishing-gradient measurement (ch. 5) reproduced on the 8×8 digits.

At initialization the speed of learning ``‖∂C/∂b⁽ˡ⁾‖ = ‖mean δ⁽ˡ⁾‖`` of a sigmoid network
[64, 30, 30, 30, 30, 10] grows toward the output, by a factor far above 20 from the first
hidden layer to the last (Nielsen: 0.003 → 0.285 on MNIST, ≈ 95×); ReLU with He init
keeps the four layers within an order of magnitude of each other.
"""

from itertools import pairwise

import numpy as np
import pytest

from bpviz.core.experiment.vanishing import NIELSEN_MNIST, digits_batch, speeds_at_init

SEEDS = range(5)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = digits_batch(1000)
    assert X.shape == (1000, 64) and Y.shape == (1000, 10)
    assert X.min() >= 0.0 and X.max() <= 1.0  # pixels in [0, 1], as Nielsen's MNIST
    assert (Y.sum(axis=0) >= 99).all()  # a class-balanced draw
    return X, Y


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("loss", ["softmax_ce", "bce"])
def test_sigmoid_speeds_grow_toward_the_output(
    data: tuple[np.ndarray, np.ndarray], seed: int, loss: str
) -> None:
    speeds = speeds_at_init(loss=loss, seed=seed, data=data)
    assert len(speeds) == 4
    assert all(a < b for a, b in pairwise(speeds)), speeds
    assert speeds[-1] / speeds[0] > 20, speeds
    # each layer learns several times slower than the next (Nielsen: 4–6×)
    assert all(b / a > 2.5 for a, b in pairwise(speeds)), speeds


def test_bce_outputs_come_close_to_nielsens_magnitudes(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    """With Nielsen's own cost (ten sigmoid outputs with cross-entropy) the numbers land
    near his, within a factor of 3 per layer (geometric mean over the seeds)."""
    rows = np.array([speeds_at_init(loss="bce", seed=s, data=data) for s in SEEDS])
    ours = np.exp(np.log(rows).mean(axis=0))
    nielsen = np.array(NIELSEN_MNIST[(784, 30, 30, 30, 30, 10)])
    assert ((ours / nielsen > 1 / 3) & (ours / nielsen < 3)).all(), ours


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_with_he_init_does_not_vanish(data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    speeds = speeds_at_init(activation="relu", init="he_normal", seed=seed, data=data)
    assert max(speeds) / min(speeds) < 10, speeds


@pytest.mark.parametrize("seed", SEEDS)
def test_residual_sigmoid_does_not_vanish(data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    speeds = speeds_at_init(residual=True, seed=seed, data=data)
    assert max(speeds) / min(speeds) < 10, speeds


def test_batchnorm_levels_the_hidden_layers(data: tuple[np.ndarray, np.ndarray]) -> None:
    """With BatchNorm the gradient of the weights no longer fades toward the input."""
    for seed in SEEDS:
        plain = speeds_at_init(seed=seed, data=data, stat="dW_norm")
        bn = speeds_at_init(batchnorm=True, seed=seed, data=data, stat="dW_norm")
        assert plain[-1] / plain[0] > 20
        assert max(bn) / min(bn) < 10, bn


def test_measurement_is_deterministic_and_validated(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    assert speeds_at_init(seed=1, data=data) == speeds_at_init(seed=1, data=data)
    assert speeds_at_init(seed=1, data=data) != speeds_at_init(seed=2, data=data)
    with pytest.raises(ValueError):
        speeds_at_init(data=data, stat="bogus")
