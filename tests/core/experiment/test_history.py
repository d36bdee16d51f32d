"""History: bounded decimation, streaming increments."""

import itertools

import pytest

from bpviz.core.experiment.history import History


def _fill(h: History, n: int) -> None:
    for step in range(1, n + 1):
        if h.tick():
            h.record(step, 1.0 / step, None, 0.5, None, [0.1, 0.2], [0.3, 0.4])


def test_bounded_and_evenly_spaced() -> None:
    h = History(max_points=100)
    _fill(h, 10_000)
    assert len(h) <= 100
    steps = h.columns["step"]
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert gaps == {h.stride}
    assert steps[0] == 1
    assert 10_000 - steps[-1] < h.stride
    assert h.columns["grad_norm"][0] == [0.1, 0.2]


def test_small_runs_keep_everything() -> None:
    h = History(max_points=100)
    _fill(h, 50)
    assert h.columns["step"] == list(range(1, 51)) and h.stride == 1


def test_since_and_generation() -> None:
    h = History(max_points=8)
    _fill(h, 5)
    gen = h.generation
    first = h.since(0, gen)
    assert not first["reset"] and first["points"]["step"] == [1, 2, 3, 4, 5]
    last = first["last_seq"]
    _fill_more(h, 6, 7)
    inc = h.since(last, gen)
    assert not inc["reset"] and inc["points"]["step"] == [6, 7]
    _fill_more(h, 8, 30)  # forces decimation
    inc = h.since(inc["last_seq"], gen)
    assert inc["reset"] and inc["points"]["step"] == h.columns["step"]
    assert h.to_dict()["points"]["step"] == h.columns["step"]


def _fill_more(h: History, start: int, end: int) -> None:
    for step in range(start, end + 1):
        if h.tick():
            h.record(step, float("nan"), float("inf"))


def test_non_finite_stored_as_none_and_clear() -> None:
    h = History()
    h.tick()
    h.record(1, float("nan"), float("inf"))
    assert h.columns["train_loss"] == [None] and h.columns["test_loss"] == [None]
    g = h.generation
    h.clear()
    assert len(h) == 0 and h.generation == g + 1 and h.stride == 1


def test_rewind_drops_later_points_and_keeps_the_stride_phase() -> None:
    a, b = History(max_points=8), History(max_points=8)
    for step in range(1, 31):
        if a.tick():
            a.record(step, float(step))
    for step in range(1, 21):
        if b.tick():
            b.record(step, float(step))
    gen = a.generation
    a.rewind(20, 10)
    assert a.generation > gen and max(a.columns["step"]) <= 20
    for step in range(21, 31):
        if a.tick():
            a.record(step, float(step))
        if b.tick():
            b.record(step, float(step))
    assert a.columns["step"] == b.columns["step"]


def test_load_restores_to_dict() -> None:
    h = History()
    for step in range(1, 6):
        h.tick()
        h.record(step, 1.0 / step, None, 0.5, None, [0.1], [0.2])
    copy = History()
    copy.load(h.to_dict(), 5)
    assert copy.columns == h.columns and copy.stride == h.stride
    with pytest.raises(ValueError):
        copy.load({"points": {"step": [1, 2], "train_loss": ["x", 1]}}, 2)
