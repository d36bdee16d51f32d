"""A session's experiment and what surrounds it, on the worker side.

The :class:`Workspace` holds the experiment, its rewind buffer, the CSV files the client
uploaded, what the client looks at (:class:`~bpviz.server.frames.View`) and the state of
its stream of frames. Every method is synchronous CPU work, short: the session runs each
one as a job on the worker pool, one at a time (never on the event loop), and the
messages it builds are encoded here too. Work longer than a slice is cut by the caller
(``bpviz.server.jobs``) into calls of these methods; :attr:`Workspace.costs` keeps what
the messages took to build, so that a caller can tell whether one more fits a slice.
"""

from __future__ import annotations

import time
from typing import Any

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import Config
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.gradcheck import GradCheckRun
from bpviz.core.experiment.rewind import Rewind
from bpviz.core.experiment.runs import RunFile, export_run, import_run, run_csv

from . import budget, encode, framepack, frames, owndata
from .frames import HistoryFeed, MetricsFeed, View
from .messages import CsvInfo, GradCheckResult, GradCheckScalingResult, StopReason
from .settings import Settings

GRADCHECK_SECONDS = 2.0  # the stated budget of one gradient check (measured as it runs)
MAX_STEPS_PER_COMMAND = 100_000  # training steps one `step` command may ask for
SCALING_BUDGET = 1.5  # seconds of gradcheck_scaling measurements
SCALING_EXAMPLES = 16
COST_DECAY = 0.3  # weight of the newest measurement in :attr:`Workspace.costs`


class Workspace:
    """One session's experiment, rewind buffer, CSV files, view and frame feeds.

    Attributes:
        memory: the session's memory estimate (bytes; ``bpviz.server.budget``), which the
            runtime adds up against ``total_memory_bytes``.
        costs: CPU seconds (of the thread: what waiting for the GIL or a core does not
            inflate) the last ``frame``, ``metrics`` and ``grid`` took to build (an
            exponential average).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.experiment: Experiment | None = None
        self.view = View()
        self.csvs = owndata.CsvStore()
        self.rewind = Rewind(settings.rewind_bytes)
        self.history_feed = HistoryFeed()
        self.metrics_feed = MetricsFeed()
        self.memory = 0
        self.batch_sizes: set[int] = set()
        self.costs = {"frame": 0.0, "metrics": 0.0, "grid": 0.0}
        self.unfinished = False  # a command ended: the next frame first calls finish()
        self.edits = 0  # weights edited by hand (set_param): a change a snapshot must write

    @property
    def exp(self) -> Experiment:
        """The experiment (there is one from the session's start on)."""
        assert self.experiment is not None
        return self.experiment

    def _measured(self, key: str, start: float) -> None:
        cost = self.costs[key]
        took = time.thread_time() - start
        self.costs[key] = took if cost == 0.0 else cost + COST_DECAY * (took - cost)

    # ------------------------------------------------------------------ memory

    def estimate(self, config: Config, live: bool = False) -> budget.Estimate:
        """The memory estimate of a session running ``config``; ``live``: the current
        experiment with changed training settings (its batch sizes stay cached)."""
        shape = budget.data_shape(config, self.csvs)
        sizes = self.batch_sizes if live else ()
        csv_bytes = sum(len(f.text) for f in self.csvs.values())
        return budget.estimate(config, shape, self.settings, sizes, csv_bytes)

    def estimate_training(self, patch: core_config.TrainingPatch) -> budget.Estimate:
        """The estimate with a live change of the training settings (``set``)."""
        config = self.exp.config
        training = patch.apply(config.training)
        return self.estimate(config.model_copy(update={"training": training}), live=True)

    # ------------------------------------------------------------------ a new experiment

    def adopt(self, exp: Experiment, memory: int | None = None) -> None:
        """Make ``exp`` the session's experiment and start its rewind buffer afresh;
        ``memory``: its estimate (computed when not given)."""
        self.rewind.clear()
        self.rewind.fast = False
        self.view.viewing = None
        self.metrics_feed.clear()
        self.rewind.record(exp)
        self.experiment = exp
        self.batch_sizes = {exp.training.batch_size}
        self.unfinished = False
        self.memory = self.estimate(exp.config).total if memory is None else memory
        # until measured: about 0.1 ns per multiply-add of an evaluation of the train and
        # test sets, and 0.1 µs per parameter for the rest of a frame (this machine's)
        evaluated = min(exp.n_train, exp.eval_max) * 2
        self.costs = {"frame": 1e-7 * exp.n_params, "metrics": 1e-10 * exp.n_params * evaluated}
        self.costs["grid"] = self.costs["metrics"]

    def start(self) -> None:
        """The default experiment a session begins with."""
        self.adopt(build(core_config.default_config()))

    def build(self, config: Config) -> Experiment:
        """The experiment of ``config`` (its CSV, if any, from this session's files);
        nothing changes here until :meth:`adopt`."""
        return build(config, self.csvs)

    def configure(self, config: Config | dict[str, Any]) -> None:
        """Rebuild from a config; on an error nothing changes."""
        if not isinstance(config, Config):
            config = core_config.validate(config)
        self.adopt(self.build(config))
        self.view.focus = 0

    def reset(self) -> None:
        """Weights from the seed again, history cleared."""
        exp = self.exp
        exp.reset()
        self.adopt(exp, self.memory)

    def parse_run(self, run: dict[str, Any]) -> tuple[RunFile, budget.Estimate]:
        """An exported run checked (``RunError`` if it is not one; its config
        ``ConfigError``), and the memory its experiment will need."""
        return budget.run_estimate(run, self.settings, self.csvs)

    def import_run(self, run: dict[str, Any], parsed: RunFile | None = None) -> None:
        """Restore an exported run (``parsed``: it, already parsed) and keep its CSV; on
        an error nothing changes."""
        exp = import_run(run if parsed is None else parsed)
        file = run_csv(run)
        if file is not None:
            self.csvs.add(file)
        self.adopt(exp)

    def csv_keep(self, file: owndata.CsvFile, info: dict[str, Any]) -> CsvInfo:
        """Keep an inspected CSV (:func:`owndata.inspect`) and describe it."""
        self.csvs.add(file)
        if self.experiment is not None:
            self.memory = self.estimate(self.exp.config, live=True).total
        return CsvInfo.model_validate(info)

    def set_training(self, patch: core_config.TrainingPatch | dict[str, Any]) -> None:
        """Change hyper-parameters live (from the step shown, after a rewind)."""
        exp = self.exp
        if isinstance(patch, core_config.TrainingPatch):
            training = patch.apply(exp.training)
        else:
            training = core_config.validate_training_patch(patch, exp.training)
        self.branch()
        exp.set_training(training)
        self.batch_sizes.add(training.batch_size)
        self.rewind.record(exp)  # a replay never crosses a change of settings

    def set_param(self, layer: int, param: str, index: list[int], value: float) -> None:
        """Set one weight or bias between two steps (from the step shown, after a
        rewind); raises ``ParamError`` (``mid_step``, ``bad_param``), changing nothing.
        The checkpoint recorded now holds the edit: a replay re-applies it exactly."""
        exp = self.exp
        if exp.cursor == 0:
            self.branch()
        exp.set_param(layer, param, index, value)
        self.edits += 1
        self.rewind.record(exp)
        self.metrics_feed.clear()

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
        if last is None:  # nothing kept (a diverged run that came back): the live end stays
            return
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

    def finish(self) -> None:
        """A command ends (a burst of steps, a pause, playing stopped): the history's
        newest point becomes the step shown, measured (``Experiment.record_now``), so
        the status line and the loss chart end on the numbers of that frame."""
        self.unfinished = False
        if self.view.viewing is None:
            self.exp.record_now()

    def advance(self, unit: str, count: int) -> int:
        """Advance by up to ``count`` units within one time slice; return how many are
        left. The command then ends on a measured point: :meth:`finish`, before the frame
        (:attr:`unfinished`)."""
        exp = self.exp
        deadline = time.perf_counter() + self.settings.slice_seconds
        for done in range(count):
            if exp.diverged:
                break
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
        self.unfinished = True
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

    def metrics_due(self) -> bool:
        """Whether the next frame computes the metrics (an evaluation of the train and
        test sets) rather than repeating the last ones."""
        return self.metrics_feed.due(self.view.playing)

    def refresh_metrics(self) -> None:
        """End the command if it has not (:meth:`finish`), and compute the metrics the
        next frame carries, if due (a slice of their own when they and the frame would
        not fit in one)."""
        if self.unfinished:
            self.finish()
        if self.metrics_due():
            start = time.thread_time()
            self.metrics_feed.refresh(self.exp, self.view.playing)
            self._measured("metrics", start)

    def frame_cost(self) -> float:
        """Seconds the next frame will take to build, as measured (metrics included
        when due)."""
        cost = self.costs["frame"]
        evaluations = self.metrics_due() + self.unfinished  # finish() evaluates too
        return cost + evaluations * self.costs["metrics"]

    def frame_text(self) -> str | bytes:
        """The ``frame`` message as the client's view shows the experiment now."""
        exp = self.exp
        view = self.view
        self.refresh_metrics()
        start = time.thread_time()
        frame = frames.frame(
            exp,
            view,
            history=self.history_feed.next(exp),
            metrics=self.metrics_feed.get(exp, view.playing),
            rewind=self.rewind_range(),
        )
        # JSON text or a binary message; every digit with options exact (an exercise)
        if view.binary and not view.exact:
            text: str | bytes = framepack.pack_frame(frame)  # the page's frames
        else:
            text = encode.message(frame, binary=view.binary, rounded=not view.exact)
        self._measured("frame", start)
        return text

    def grid_text(self) -> str | bytes | None:
        """The ``grid`` message (``None``: grids are off, or the data has no 1-D/2-D domain)."""
        if not self.view.grids:
            return None
        s = self.settings
        start = time.thread_time()
        grid = frames.grid(self.exp, s.grid_resolution, s.thumb_resolution)
        text = None if grid is None else encode.message(grid, binary=self.view.binary)
        self._measured("grid", start)
        return text

    def inspect_text(self, layer: int, neuron: int) -> str | None:
        """The ``inspect`` message (``None``: no such neuron)."""
        message = frames.inspected(self.exp, self.view.focus, layer, neuron)
        return None if message is None else encode.dumps(message)

    def gradcheck_start(self, max_examples: int, slice_s: float) -> GradCheckRun:
        """A gradient check of the network now on the first ``max_examples`` examples,
        to run in slices of ``slice_s`` within :data:`GRADCHECK_SECONDS` (fewer examples
        and a seeded sample of the parameters when the budget asks for it)."""
        exp = self.exp
        n = min(max_examples, exp.n_train)
        return exp.gradient_check(n, GRADCHECK_SECONDS, slice_s)

    @staticmethod
    def gradcheck_text(run: GradCheckRun) -> str:
        """The ``gradcheck`` message of a finished (or cut short) check."""
        message = GradCheckResult.model_construct(type="gradcheck", result=run.result())
        return encode.dumps(message)

    def scaling_point(self, size: int, seconds: float) -> list[dict[str, Any]]:
        """Backprop against finite differences for the network near ``size`` parameters
        (one of ``gradcheck_scaling``'s points, measured within about ``seconds``)."""
        exp = self.exp
        n = min(SCALING_EXAMPLES, exp.n_train)
        points: list[dict[str, Any]] = exp.cost_scaling(n, seconds, sizes=(size,))
        return points

    @staticmethod
    def scaling_text(points: list[dict[str, Any]]) -> str:
        message = GradCheckScalingResult.model_construct(type="gradcheck_scaling", points=points)
        return encode.dumps(message)

    def export_snapshot(self) -> dict[str, Any]:
        """The whole run now (with its CSV file, for CSV data): the ``export`` message's
        ``run``, NumPy arrays not yet encoded (``bpviz.server.jobs`` writes it in slices)."""
        exp = self.exp
        data = exp.config.data
        csv = self.csvs.get(data.csv) if data.name == "csv" else None
        run: dict[str, Any] = export_run(exp, csv)
        return run
