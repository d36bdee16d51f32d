"""History: bounded decimation, streaming increments, what a point holds (only values
measured at its step), the evaluation budget, and the losses with their penalty."""

import itertools
from typing import Any

import pytest

from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import validate
from bpviz.core.experiment.experiment import Evaluation, Experiment
from bpviz.core.experiment.history import EvalBudget, History


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


def test_batch_loss_is_a_column_and_missing_values_are_not_copied() -> None:
    h = History()
    h.tick()
    h.record(1, 0.7, 0.8, 0.5, 0.4, [0.1], [0.2], batch_loss=0.75)
    h.tick()
    h.record(2, None, None, None, None, [0.1], [0.2], batch_loss=0.71)
    cols = h.columns
    assert cols["batch_loss"] == [0.75, 0.71]
    assert cols["train_loss"] == [0.7, None] and cols["test_acc"] == [0.4, None]
    assert h.since(0)["points"]["batch_loss"] == [0.75, 0.71]
    # the newest measured value, not the newest point's (missing) one
    assert h.last("train_loss") == 0.7 and h.last("batch_loss") == 0.71
    assert (h.newest_step, h.newest_evaluated) == (2, False)
    assert History().last("train_loss") is None and History().newest_step is None


def test_load_of_a_run_file_without_batch_loss() -> None:
    lists = {"grad_norm": [[0.1], [0.2]], "delta_norm": [[0.3], [0.4]]}
    old = {"points": {"step": [1, 2], "train_loss": [0.5, None], **lists}, "stride": 1}
    h = History()
    h.load(old, 2)
    assert h.columns["batch_loss"] == [None, None] and h.columns["train_loss"] == [0.5, None]
    copy = History()
    copy.load(h.to_dict(), 2)
    assert copy.columns == h.columns


def test_eval_budget_is_a_token_bucket() -> None:
    b = EvalBudget(0.0)
    assert b.allows(0.1, 0.0)  # the first is always allowed
    b.spent(0.0, 1.0)  # it took 1 s
    assert not b.allows(0.1, 5.0)  # 0.4 s of budget accrued
    assert b.allows(0.1, 11.0)  # 1.0 s
    b.spent(11.0, 12.0)
    assert b.allows(None, 12.0)  # no budget: always
    b.reset(100.0)
    assert b.allows(0.1, 100.0)


# ------------------------------------------------------ what an experiment records


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _experiment(data: dict[str, Any] | None = None, **training: Any) -> Experiment:
    return build(
        validate(
            {
                "data": data or {"name": "xor", "samples": 200},
                "network": {"hidden": [{"units": 6, "activation": "tanh"}]},
                "training": {"learning_rate": 0.3, **training},
            }
        )
    )


def _watched(exp: Experiment, eval_seconds: float = 0.0) -> tuple[_Clock, dict[int, Evaluation]]:
    """``exp`` on a fake clock, each evaluation taking ``eval_seconds``; every evaluation
    made is kept by the step it was made at."""
    clock = _Clock()
    exp.clock = clock  # type: ignore[method-assign]
    exp.reset()
    made: dict[int, Evaluation] = {}
    real = exp.evaluate

    def evaluate() -> Evaluation:
        clock.t += eval_seconds
        ev = real()
        made[exp.steps_done] = ev
        return ev

    exp.evaluate = evaluate  # type: ignore[method-assign]
    return clock, made


def _assert_measured(exp: Experiment, made: dict[int, Evaluation]) -> None:
    """Every train/test value in the history is an evaluation made at its point's step."""
    h = exp.history.columns
    for i, step in enumerate(h["step"]):
        if h["train_loss"][i] is None:
            assert h["test_loss"][i] is None and h["train_acc"][i] is None
            continue
        assert step in made, f"point {i} (step {step}) holds a value no evaluation made there"
        ev = made[step]
        assert (h["train_loss"][i], h["test_loss"][i]) == (ev.train_loss, ev.test_loss)
        assert (h["train_acc"][i], h["test_acc"][i]) == (ev.train_acc, ev.test_acc)


def test_an_epoch_on_a_tiny_budget_repeats_no_value() -> None:
    # The case: digits, "Epoch"; evaluations far over the budget.
    exp = _experiment({"name": "digits", "samples": 600}, batch_size=10)
    clock, made = _watched(exp, eval_seconds=1.0)
    exp.eval_budget = 1e-6
    real_step = exp.stepper.step

    def step() -> None:
        clock.t += 0.01
        real_step()

    exp.stepper.step = step  # type: ignore[method-assign]
    exp.epoch()
    h = exp.history.columns
    assert exp.steps_done == 42 and h["step"][-1] == 42
    assert sorted(made) == [1, 42]  # the first point, and the end of the command
    _assert_measured(exp, made)
    losses = [v for v in h["train_loss"] if v is not None]
    assert len(losses) == 2 and losses[0] != losses[1]
    assert all(v is not None for v in h["batch_loss"][:-1])  # every step's batch loss
    # the chart's last value is what the frame's metrics say now
    assert exp.last_recorded("train_loss") == exp.metrics()["train_loss"]


def test_the_time_budget_spaces_the_evaluations() -> None:
    # Each step takes 1 s and an evaluation 5 s; a 12.5 % budget (exact in binary)
    # allows one every 40 steps; the first point after a reset is always evaluated.
    exp = _experiment()
    clock, made = _watched(exp, eval_seconds=5.0)
    exp.eval_budget = 0.125
    for _ in range(200):
        clock.t += 1.0
        exp.step()
    assert sorted(made) == [1, 41, 81, 121, 161]
    h = exp.history.columns
    assert h["step"] == list(range(1, 201))  # every step is still a history point
    assert all(len(g) == 2 and g[0] is not None for g in h["grad_norm"])  # from each trace
    _assert_measured(exp, made)
    assert h["train_loss"][1:40] == [None] * 39 and h["train_loss"][40] is not None


def test_stepping_by_hand_evaluates_every_point() -> None:
    exp = _experiment()
    clock, made = _watched(exp, eval_seconds=5.0)
    for _ in range(5):
        clock.t += 100.0  # a person clicking "step": far slower than the budget
        exp.step()
    assert sorted(made) == [1, 2, 3, 4, 5]
    _assert_measured(exp, made)


def test_batch_loss_is_the_step_s_loss_before_its_update() -> None:
    exp = _experiment(l2=0.01)
    exp.eval_budget = None
    losses = []
    for _ in range(10):
        exp.step()
        trace = exp.trace
        assert trace is not None and trace.loss is not None
        losses.append(trace.loss)
    assert exp.history.columns["batch_loss"] == losses


def test_record_now_ends_a_command_on_a_measured_point() -> None:
    exp = _experiment()
    _clock, made = _watched(exp, eval_seconds=5.0)
    assert exp.record_now() is None and len(exp.history) == 0  # before the first step
    exp.eval_budget = 1e-6
    for _ in range(3):
        exp.step()
    h = exp.history
    assert h.columns["step"] == [1, 2, 3] and not h.newest_evaluated
    ev = exp.record_now()
    assert ev is not None and ev.step == 3
    cols = h.columns
    # a point with only the evaluation follows step 3's: nothing appears twice
    assert cols["step"] == [1, 2, 3, 3]
    assert cols["batch_loss"][2:] == [cols["batch_loss"][2], None]
    assert cols["grad_norm"][3] == [None, None] and cols["train_loss"][3] == ev.train_loss
    assert exp.record_now() is None and len(h) == 4  # already measured
    _assert_measured(exp, made)
    exp.step_phase()  # in the middle of a step: nothing to measure
    assert exp.record_now() is None and len(h) == 4


def test_record_now_records_a_step_the_stride_skipped() -> None:
    exp = _experiment()
    exp.history = History(max_points=4)
    exp.eval_budget = 1e-6
    for _ in range(10):
        exp.step()
    h = exp.history
    assert h.stride == 4 and h.newest_step == 9  # steps 1, 5, 9 are kept
    exp.record_now()
    assert h.newest_step == 10 and h.newest_evaluated
    assert h.columns["batch_loss"][-1] is not None  # the whole step, not only its loss


def test_run_steps_ends_on_a_measured_point() -> None:
    exp = _experiment()
    exp.eval_budget = 1e-9
    exp.run_steps(30)
    assert exp.history.newest_step == 30 and exp.history.newest_evaluated
    assert exp.last_recorded("train_loss") == exp.evaluate().train_loss


# ------------------------------------------------------ losses with penalties


def test_metrics_show_data_loss_penalty_and_their_sum() -> None:
    exp = _experiment(l1=0.001, l2=0.01)
    exp.run_steps(5)
    m = exp.metrics()
    penalty = exp.network.penalty(0.001, 0.01)
    assert m["penalty"] == penalty > 0
    assert m["data_loss"] == m["train_loss"]
    assert m["total_loss"] == m["train_loss"] + penalty
    trace = exp.trace
    assert trace is not None
    assert (m["batch_data_loss"], m["batch_penalty"], m["batch_total_loss"]) == (
        trace.loss, trace.penalty, trace.objective
    )  # fmt: skip
    assert m["batch_total_loss"] == m["batch_data_loss"] + m["batch_penalty"]
    ev = exp.evaluate()
    assert (ev.data_loss, ev.penalty, ev.total_loss) == (m["data_loss"], penalty, m["total_loss"])
    assert ev.to_dict()["total_loss"] == m["total_loss"]


def test_without_penalties_the_total_is_the_data_loss() -> None:
    exp = _experiment()
    m = exp.metrics()
    assert m["penalty"] == 0.0 and m["total_loss"] == m["train_loss"]
    assert m["batch_data_loss"] is None and m["batch_total_loss"] is None  # no step yet
