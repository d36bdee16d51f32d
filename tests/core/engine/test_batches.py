"""Batches: one shuffle per epoch, every example once per pass, buffers, state."""

import numpy as np
import pytest

from bpviz.core.engine.batches import Batches


def _batches(n: int = 23, batch_size: int = 5, seed: int = 0) -> Batches:
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    Y = np.arange(n, dtype=float).reshape(n, 1)
    return Batches(X, Y, np.dtype(np.float32), batch_size, np.random.default_rng(seed))


def test_each_epoch_draws_every_example_once() -> None:
    b = _batches()
    assert b.epoch == 0 and b.progress == 1.0 and b.X.dtype == np.float32
    for epoch in (1, 2):
        seen: list[int] = []
        sizes = []
        while True:
            idx, x, y = b.next()
            assert b.epoch == epoch
            np.testing.assert_array_equal(y[:, 0], idx)  # gathered in the drawn order
            np.testing.assert_array_equal(x, b.X[idx])
            seen.extend(idx.tolist())
            sizes.append(len(idx))
            if b.pos >= b.n:
                break
        assert sorted(seen) == list(range(23)) and sizes == [5, 5, 5, 5, 3]
        assert b.progress == 1.0


def test_buffers_are_reused_per_batch_size() -> None:
    b = _batches(n=10, batch_size=4)
    _, x1, _ = b.next()
    _, x2, _ = b.next()
    _, x3, _ = b.next()  # the last batch of the epoch holds 2
    assert x1 is x2 and x3.shape == (2, 2) and x3 is not x1
    b.set_batch_size(100)
    assert b.batch_size == 10  # clamped to N
    b.set_batch_size(0)
    assert b.batch_size == 1


def test_batches_to_epoch_end() -> None:
    b = _batches()  # 23 examples in 5s: 5 batches per pass
    assert b.batches_to_epoch_end(1, midstep=False) == 5  # a fresh pass
    b.next()
    b.next()
    assert b.batches_to_epoch_end(1, midstep=False) == 3
    assert b.batches_to_epoch_end(2, midstep=False) == 8
    assert b.batches_to_epoch_end(1, midstep=True) == 4  # the batch in use counts


def test_state_round_trip_and_checks() -> None:
    a, b = _batches(seed=1), _batches(seed=2)
    for _ in range(7):
        a.next()
    state = a.get_state()
    perm, pos = Batches.check_state(state, a.n)
    b.set_state(state, perm, pos)
    for _ in range(6):
        ia, _, _ = a.next()
        ib, _, _ = b.next()
        np.testing.assert_array_equal(ia, ib)
    assert a.epoch == b.epoch == 3
    with pytest.raises(ValueError):
        Batches.check_state({**state, "perm": np.arange(22)}, 23)
    with pytest.raises(ValueError):
        Batches.check_state({**state, "perm": np.zeros(23, int)}, 23)
    with pytest.raises(ValueError):
        Batches.check_state({**state, "pos": 24}, 23)


def test_bad_data_rejected() -> None:
    with pytest.raises(ValueError):
        Batches(np.ones((3, 2)), np.ones((2, 1)), np.dtype(float), 1, np.random.default_rng(0))
    with pytest.raises(ValueError):
        Batches(np.ones((0, 2)), np.ones((0, 1)), np.dtype(float), 1, np.random.default_rng(0))
