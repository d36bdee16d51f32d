"""Rewind checkpoints and the exact training state they rest on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bpviz.core.experiment import config as cfgmod
from bpviz.core.experiment.build import build
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.rewind import Checkpoint, Rewind
from bpviz.core.experiment.runs import export_checkpoints

CONFIGS = [
    {"training": {"optimizer": "sgd"}},
    {"training": {"optimizer": "adam", "batch_size": 7}, "network": {"dropout": 0.3}},
    {
        "data": {"name": "moons"},
        "network": {"hidden": [{"units": 4}, {"units": 4}], "batchnorm": True},
        "training": {"optimizer": "momentum", "batch_size": 13},
    },
    {"data": {"name": "square"}, "training": {"optimizer": "rmsprop", "batch_size": 1}},
]


def make(cfg: dict[str, object]) -> Experiment:
    return build(cfgmod.validate(cfg))


@pytest.mark.parametrize("cfg", CONFIGS)
def test_get_set_state_resumes_exactly(cfg: dict[str, object]) -> None:
    a = make(cfg)
    a.run_steps(37)  # crosses an epoch boundary for every config
    state = a.get_state()
    a.run_steps(25)
    b = make(cfg)
    b.set_state(state)
    b.run_steps(25)
    assert np.array_equal(a.network.params, b.network.params)
    assert a.steps_done == b.steps_done == 62


def test_state_in_the_middle_of_a_step_is_its_start() -> None:
    cfg = CONFIGS[1]
    a = make(cfg)
    a.run_steps(5)
    a.step_phase()
    a.step_phase()  # two forward phases of step 6 done (dropout masks drawn)
    state = a.get_state()
    assert state["steps_done"] == 5
    a.step()  # finishes step 6
    b = make(cfg)
    b.set_state(state)
    b.step()
    assert np.array_equal(a.network.params, b.network.params)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_seek_then_branch_gives_the_uninterrupted_numbers(cfg: dict[str, object]) -> None:
    exp = make(cfg)
    rw = Rewind()
    rw.record(exp)
    for _ in range(30):
        exp.step()
        rw.maybe_record(exp)
    at30 = exp.network.params.copy()
    assert rw.info() == {"first": 0, "last": 30, "count": 31}
    shown = rw.show(exp, 10)
    assert shown == 10 and exp.steps_done == 10 and exp.trace is not None
    assert exp.trace.step == 10 and exp.trace.complete
    rw.branch(exp, 10, 30)
    assert max(exp.history.columns["step"]) == 10
    for _ in range(20):
        exp.step()
        rw.maybe_record(exp)
    assert np.array_equal(exp.network.params, at30)
    assert exp.history.columns["step"][-1] == 30


def test_sparse_checkpoints_replay_the_steps_between() -> None:
    exp = make(CONFIGS[1])
    rw = Rewind()
    rw.fast = True
    rw.record(exp)
    weights = {}
    for _ in range(100):
        exp.step()
        weights[exp.steps_done] = exp.network.params.copy()
        rw.maybe_record(exp)
    assert len(rw.checkpoints) < 10  # sparse while playing fast
    rw.record(exp)
    for s in (1, 17, 33, 64, 99, 100):
        assert rw.show(exp, s) == s
        assert np.array_equal(exp.network.params, weights[s]), s


def test_a_change_of_settings_is_replayed_with_the_right_settings() -> None:
    exp = make(CONFIGS[0])
    rw = Rewind()
    rw.record(exp)
    exp.run_steps(10)
    rw.record(exp)
    training = cfgmod.validate_training_patch(
        {"learning_rate": 0.5, "optimizer": "adam"}, exp.training
    )
    exp.set_training(training)
    rw.record(exp)
    for _ in range(10):
        exp.step()
        rw.maybe_record(exp)
    at20 = exp.network.params.copy()
    rw.show(exp, 5)
    assert exp.training.learning_rate == 0.03
    rw.show(exp, 20)
    assert np.array_equal(exp.network.params, at20)
    assert exp.training.optimizer == "adam"
    rw.show(exp, 10)  # the step of the change: its checkpoint's settings apply after it
    assert exp.training.optimizer == "adam"


def test_the_byte_cap_bounds_memory_and_the_span_stays_500_steps() -> None:
    cfg = {"data": {"name": "digits", "samples": 300}, "network": {"hidden": [{"units": 30}]}}
    exp = make(cfg)
    assert exp.network.n_params > 2000
    rw = Rewind(max_bytes=8 * 1024 * 1024)
    rw.record(exp)
    for _ in range(700):
        exp.step()
        rw.maybe_record(exp)
    assert rw.nbytes <= rw.max_bytes
    info = rw.info(exp.steps_done)
    assert info["count"] is not None and info["count"] >= 500
    small = Rewind(max_bytes=100_000)
    small.record(exp)
    for _ in range(50):
        exp.step()
        small.maybe_record(exp)
    assert small.nbytes <= 100_000 and len(small.checkpoints) >= 1


def test_playing_fast_the_buffer_spans_a_bounded_stretch() -> None:
    from bpviz.core.experiment.rewind import MAX_REPLAY, MAX_SPAN, MIN_SPAN

    exp = build(cfgmod.validate({}))
    rw = Rewind()
    rw.fast = True
    for _ in range(20_000):
        exp.step()
        rw.maybe_record(exp)
    assert rw.last is not None and rw.first is not None
    assert MIN_SPAN <= rw.last - rw.first <= MAX_SPAN + MAX_REPLAY
    assert len(rw.checkpoints) < 100


def test_a_snapshot_s_checkpoint_entries_are_kept_for_its_window_only() -> None:
    """A checkpoint keeps its snapshot entry while it is among the snapshot's checkpoints
    (the next snapshot writes it again without exporting it again), and lets go of it once
    it is not: stepping by hand, every checkpoint passes through the window."""
    exp = make(CONFIGS[0])
    rw = Rewind()
    rw.record(exp)
    windows = []
    for _ in range(120):
        exp.step()
        rw.maybe_record(exp)
        window = rw.recent(exp.steps_done, 4096)
        rw.forget_exports(window)
        entries = export_checkpoints(window)
        assert entries == [export_checkpoints([_fresh(cp)])[0] for cp in window]
        windows.append(window)
    assert len(rw.checkpoints) > 3 * len(windows[-1])
    kept = [cp for cp in rw.checkpoints if cp.exported is not None]
    assert kept == windows[-1]
    again = export_checkpoints(rw.recent(exp.steps_done, 4096))
    assert all(a is cp.exported for a, cp in zip(again, windows[-1], strict=True))


def _fresh(cp: Checkpoint) -> Checkpoint:
    """The same checkpoint without its kept entry (to export it anew)."""
    return dataclasses.replace(cp, exported=None)
