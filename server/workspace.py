"""A session's experiment and what surrounds it, on the worker side.

The :class:`Workspace` holds the experiment, its rewind buffer, the CSV files the client
uploaded, what the client looks at (:class:`~bpviz.server.frames.View`) and the state of
its stream of frames. Every method is synchronous CPU work: the session runs each one
as a job on the worker pool, one at a time (never on the event loop), and the messages
it builds are encoded here too.
"""

from __future__ import annotations

import time
from typing import Any

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.rewind import Rewind

from . import encode, frames, owndata
from .frames import HistoryFeed, MetricsFeed, View
from .messages import (
    CsvInfo,
    Exported,
    GradCheckResult,
    GradCheckScalingResult,
    StopReason,
)
from .runs import export_run, import_run, run_csv
from .settings import Settings

GRADCHECK_BUDGET = 200_000_000  # multiply-adds of the finite-difference side, roughly
SCALING_BUDGET = 1.5  # seconds of gradcheck_scaling measurements
SCALING_EXAMPLES = 16


class Workspace:
    """One session's experiment, rewind buffer, CSV files, view and frame feeds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.experiment: Experiment | None = None
        self.view = View()
        self.csvs = owndata.CsvStore()
        self.rewind = Rewind(settings.rewind_bytes)
        self.history_feed = HistoryFeed()
        self.metrics_feed = MetricsFeed()

    @property
    def exp(self) -> Experiment:
        """The experiment (there is one from the session's start on)."""
        assert self.experiment is not None
        return self.experiment

    # ------------------------------------------------------------------ a new experiment

    def adopt(self, exp: Experiment) -> None:
        """Make ``exp`` the session's experiment and start its rewind buffer afresh."""
        self.rewind.clear()
        self.rewind.fast = False
        self.view.viewing = None
        self.metrics_feed.clear()
        self.rewind.record(exp)
        self.experiment = exp

    def start(self) -> None:
        """The default experiment a session begins with."""
        self.adopt(Experiment.from_config(core_config.default_config()))

    def configure(self, config: dict[str, Any]) -> None:
        """Rebuild from a config (its CSV, if any, from this session's files); on an
        error nothing changes."""
        self.adopt(owndata.build(config, self.csvs))
        self.view.focus = 0

    def reset(self) -> None:
        """Weights from the seed again, history cleared."""
        exp = self.exp
        exp.reset()
        self.adopt(exp)

    def import_run(self, run: dict[str, Any]) -> None:
        """Restore an exported run (and keep its CSV); on an error nothing changes."""
        exp = import_run(run)
        file = run_csv(run)
        self.adopt(exp)
        if file is not None:
            self.csvs.add(file)

    def csv_inspect(self, name: str, text: str) -> CsvInfo:
        """Check an uploaded CSV, keep it, and describe it (the ``csv_info`` message)."""
        limit = owndata.max_bytes(self.settings.max_upload_bytes)
        file, info = owndata.inspect(name, text, limit)
        self.csvs.add(file)
        return CsvInfo.model_validate(info)

    def set_training(self, patch: dict[str, Any]) -> None:
        """Change hyper-parameters live (from the step shown, after a rewind)."""
        exp = self.exp
        training = core_config.validate_training_patch(patch, exp.training)
        self.branch()
        exp.set_training(training)
        self.rewind.record(exp)  # a replay never crosses a change of settings

    # ------------------------------------------------------------------ rewind

    def seek(self, step: int | None) -> None:
        """Show a recent step (exactly, with its trace), or the live end (``None``)."""
        exp = self.exp
        rw = self.rewind
        if self.view.viewing is None:
            if step is None:
                return
            # Leaving the live end: checkpoint it (a step run phase by phase and not
            # finished is given up: back to its start).
            if exp.cursor != 0:
                exp.set_state(exp.get_state())
            rw.record(exp)
        last = rw.last
        assert last is not None
        shown = rw.show(exp, last if step is None else step)
        self.view.viewing = None if shown == last else shown
        self.metrics_feed.clear()

    def branch(self) -> None:
        """Training goes on from the step being viewed: the later steps are dropped."""
        if self.view.viewing is None:
            return
        live = self.rewind.last
        assert live is not None
        self.rewind.branch(self.exp, self.view.viewing, live)
        self.view.viewing = None

    def rewind_range(self) -> dict[str, int | None]:
        """The steps that can be revisited (the live end included)."""
        live = None if self.view.viewing is not None else self.exp.steps_done
        info: dict[str, int | None] = self.rewind.info(live)
        return info

    # ------------------------------------------------------------------ training

    def advance(self, unit: str, count: int) -> int:
        """Advance by up to ``count`` units within one time slice; return how many are left."""
        exp = self.exp
        deadline = time.perf_counter() + self.settings.slice_seconds
        for done in range(count):
            if exp.diverged:
                return 0
            if done and time.perf_counter() >= deadline:
                return count - done
            if unit == "phase":
                exp.step_phase()
            elif unit == "forward":
                exp.run_forward()
            elif unit == "backward":
                exp.run_backward()
            elif unit == "update":
                exp.run_update()
            elif unit == "step":
                exp.step()
            else:
                exp.epoch()
            self.rewind.maybe_record(exp)
        return 0

    def train(
        self, seconds: float, max_steps: int | None, until_loss: float | None, fast: bool
    ) -> tuple[int, StopReason | None]:
        """Train whole steps for ``seconds`` (at least one step, at most ``max_steps``);
        stop early once the history's train loss is at most ``until_loss`` (then the
        second value is ``"loss"``). ``fast``: checkpoint sparsely (see ``core.rewind``).
        Returns the steps done and why it stopped early, if it did."""
        exp = self.exp
        rw = self.rewind
        rw.fast = fast
        deadline = time.perf_counter() + seconds
        done = 0
        while not exp.diverged and (max_steps is None or done < max_steps):
            exp.step()
            done += 1
            if exp.steps_done >= rw.next_step:
                rw.record(exp)
            if until_loss is not None:
                train_loss = exp.last_recorded("train_loss")
                if train_loss is not None and train_loss <= until_loss:
                    return done, "loss"
            if time.perf_counter() >= deadline:
                break
        return done, None

    # ------------------------------------------------------------------ messages

    def topology_text(self) -> str:
        """The ``topology`` message; the next frame carries the whole history."""
        self.history_feed.restart()
        return encode.dumps(frames.topology(self.exp, self.rewind_range()))

    def frame_text(self) -> str:
        """The ``frame`` message as the client's view shows the experiment now."""
        exp = self.exp
        view = self.view
        return encode.dumps(
            frames.frame(
                exp,
                view,
                history=self.history_feed.next(exp),
                metrics=self.metrics_feed.get(exp, view.playing),
                rewind=self.rewind_range(),
            )
        )

    def grid_text(self) -> str | None:
        """The ``grid`` message (``None``: grids are off, or the data has no 1-D/2-D domain)."""
        if not self.view.grids:
            return None
        s = self.settings
        grid = frames.grid(self.exp, s.grid_resolution, s.thumb_resolution)
        return None if grid is None else encode.dumps(grid)

    def inspect_text(self, layer: int, neuron: int) -> str | None:
        """The ``inspect`` message (``None``: no such neuron)."""
        message = frames.inspected(self.exp, self.view.focus, layer, neuron)
        return None if message is None else encode.dumps(message)

    def gradcheck_text(self, max_examples: int) -> str:
        """Backprop against finite differences on the first ``max_examples`` examples.
        Finite differences cost two forward passes per checked parameter: the work
        (parameters × examples × checked parameters) is bounded by checking a seeded
        sample of the parameters."""
        exp = self.exp
        n = min(max_examples, exp.n_train)
        P = exp.n_params
        checked = max(50, GRADCHECK_BUDGET // max(1, P * n))
        result = exp.gradient_check(n, checked if checked < P else None)
        return encode.dumps(GradCheckResult.model_construct(type="gradcheck", result=result))

    def gradcheck_scaling_text(self) -> str:
        """Backprop against finite differences for networks of several sizes."""
        exp = self.exp
        points = exp.cost_scaling(min(SCALING_EXAMPLES, exp.n_train), SCALING_BUDGET)
        message = GradCheckScalingResult.model_construct(type="gradcheck_scaling", points=points)
        return encode.dumps(message)

    def export_text(self) -> str:
        """The whole run (with its CSV file, for CSV data) as the ``export`` message."""
        exp = self.exp
        data = exp.config.data
        csv = self.csvs.get(data.csv) if data.name == "csv" else None
        return encode.dumps(Exported.model_construct(type="export", run=export_run(exp, csv)))
