"""One websocket session: wraps a core ``Experiment`` and speaks ``docs/protocol.md``.

Concurrency, in one place:
- every call into the experiment runs on the runtime's worker pool, one at a time per
  session (``self._lock``), never on the event loop;
- playing trains in slices of at most ``slice_seconds`` and publishes at most ``fps``
  frames per second;
- outgoing messages go through an ``Outbox``: control messages queue (bounded), frames
  and grids coalesce to the newest, so a slow reader holds one frame, not a backlog.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np
from fastapi import WebSocket
from pydantic import ValidationError

from bpviz.core.data.datasets import DataError
from bpviz.core.engine.gradcheck import cost_scaling, gradient_check
from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.rewind import Rewind
from bpviz.server import encode, owndata
from bpviz.server.protocol import (
    PROTOCOL_VERSION,
    Configure,
    CsvInspect,
    Export,
    Focus,
    GradCheck,
    GradCheckScaling,
    Import,
    Inspect,
    Options,
    Pause,
    Ping,
    Play,
    Reset,
    Seek,
    SetTraining,
    Step,
    Until,
    client_adapter,
)
from bpviz.server.runs import RunError, current_config, export_run, import_run, run_csv

if TYPE_CHECKING:
    from bpviz.server.runtime import Runtime

log = logging.getLogger("bpviz.session")
T = TypeVar("T")

LARGE_LAYER = 2048  # weights; bigger matrices are not streamed whole (see `inspect`)
GRID_INTERVAL = 0.2  # seconds between decision-boundary grids while playing
MIN_SLICE = 0.0001  # seconds; a slice always runs at least one step
TRAIN_SHARE = 0.5  # of the CPU when many sessions play; the rest builds and sends frames
OUTBOX_LIMIT = 256
SLICED_STEPS = 50  # a step/epoch command longer than this trains in slices, like play
MAX_STEPS_PER_COMMAND = 100_000
RESET_POINTS = 150  # most history points a frame carries when it resends the whole history
GRADCHECK_BUDGET = 200_000_000  # multiply-adds of the finite-difference side, roughly
SCALING_BUDGET = 1.5  # seconds of gradcheck_scaling measurements
SCALING_EXAMPLES = 16
METRICS_INTERVAL = 0.25  # seconds between metrics refreshes while playing
FAST_PLAY = 50.0  # steps/s above which playing checkpoints sparsely (see core.rewind)
MESSAGE_TYPES = ", ".join(client_adapter.json_schema()["discriminator"]["mapping"])


class PlayResult(NamedTuple):
    steps: int
    diverged: bool
    frame: str | None
    grid: str | None
    stopped: str | None = None


class Outbox:
    """Outgoing messages of one connection: control messages in order, frames coalesced."""

    def __init__(self) -> None:
        self.control: deque[str] = deque()
        self.frame: str | None = None
        self.grid: str | None = None
        self.ready = asyncio.Event()
        self.dropped = 0

    def put(self, text: str) -> None:
        if len(self.control) >= OUTBOX_LIMIT:
            self.control.popleft()
            self.dropped += 1
        self.control.append(text)
        self.ready.set()

    def put_topology(self, text: str) -> None:
        """A new network: frames and grids still waiting belong to the old one."""
        self.frame = self.grid = None
        self.put(text)

    def put_frame(self, text: str) -> None:
        self.frame = text
        self.ready.set()

    def put_grid(self, text: str) -> None:
        self.grid = text
        self.ready.set()

    def pop(self) -> str | None:
        if self.control:
            return self.control.popleft()
        if self.frame is not None:
            text, self.frame = self.frame, None
            return text
        if self.grid is not None:
            text, self.grid = self.grid, None
            return text
        self.ready.clear()
        return None

    @property
    def empty(self) -> bool:
        return not self.control and self.frame is None and self.grid is None


class Session:
    """A learner's experiment, driven by one websocket."""

    def __init__(self, runtime: Runtime, websocket: WebSocket) -> None:
        self.id = secrets.token_hex(6)
        self.runtime = runtime
        self.settings = runtime.settings
        self.websocket = websocket
        self.outbox = Outbox()
        self.experiment: Experiment | None = None
        self.focus = 0
        self.grids = True
        self.playing = False
        self.speed: float | None = None
        self.fps = 30
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._play_task: asyncio.Task[None] | None = None
        self._history_generation: int | None = None
        self._history_seq = 0
        self._steps_per_second: float | None = None
        self._closed = False
        self.csvs = owndata.CsvStore()
        self.rewind = Rewind(self.settings.rewind_bytes)
        self.viewing: int | None = None  # the past step shown (None: the live end)
        self.until: Until | None = None
        self._metrics: dict[str, Any] | None = None
        self._metrics_time = 0.0

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self.runtime.task_started()
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self.runtime.task_ended()
            if not t.cancelled() and t.exception() is not None:
                log.error("session %s task failed", self.id, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work on the worker pool, one call at a time for this session."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.runtime.pool, fn, *args)

    async def _sender(self) -> None:
        ws = self.websocket
        while not self._closed:
            await self.outbox.ready.wait()
            while (text := self.outbox.pop()) is not None:
                await ws.send_text(text)
                await asyncio.sleep(0)  # let other connections run between sends

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put(encode.dumps(message))

    async def send_error(
        self,
        code: str,
        message: str,
        field: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "message": message, "field": field}
        if row is not None or column is not None:
            error |= {"row": row, "column": column}
        self.send(error)

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until everything queued has been written."""
        deadline = time.monotonic() + timeout
        while not self.outbox.empty and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        from bpviz.server.api import limits

        self._spawn(self._sender())
        self.send(
            {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "server": "bpviz 0.1.0",
                "session": self.id,
                "limits": limits(self.settings),
            }
        )
        config = core_config.default_config()
        self.experiment = await self._run(self._new_experiment, Experiment.from_config, config)
        await self._publish_all()

    async def close(self) -> None:
        self._closed = True
        self.playing = False
        self.outbox.ready.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.experiment = None

    # ------------------------------------------------------------------ receiving

    async def handle_text(self, text: str, large: bool = False) -> bool:
        """Handle one message; False when the connection must close (an oversized message)."""
        try:
            if large:  # parsing a big message is CPU work: not on the event loop
                loop = asyncio.get_running_loop()
                msg = await loop.run_in_executor(
                    self.runtime.pool, client_adapter.validate_json, text
                )
            else:
                msg = client_adapter.validate_json(text)
        except ValidationError as exc:
            await self._validation_error(exc, text)
            return not large
        if large and not isinstance(msg, Import | CsvInspect):
            limit = self.settings.max_message_bytes
            await self.send_error(
                "too_large",
                f"only an import or a csv_inspect may exceed {limit:,} bytes; "
                f"this is {len(text):,}",
            )
            return False
        try:
            await self._dispatch(msg)
        except core_config.ConfigError as exc:
            unknown = [e for e in exc.errors if e.code == "unknown_csv"]
            if unknown:
                await self.send_error("unknown_csv", unknown[0].message, unknown[0].field)
                return True
            first = exc.errors[0]
            await self.send_error(
                "invalid_config",
                "; ".join(f"{e.field}: {e.message}" for e in exc.errors),
                first.field,
            )
        except DataError as exc:  # the configured CSV cannot serve this target or task
            field = "data.task" if exc.code in ("not_binary", "bad_task") else "data.target"
            if exc.column is None and exc.row is not None:
                field = "data.csv"
            await self.send_error(exc.code, exc.message, field, exc.row, exc.column)
        except RunError as exc:
            await self.send_error("invalid_run", str(exc), exc.field)
        except Exception:
            log.exception("session %s: internal error on %s", self.id, type(msg).__name__)
            await self.send_error("internal", "internal error; the session is still usable")
        return True

    async def _validation_error(self, exc: ValidationError, text: str) -> None:
        err = exc.errors()[0]
        if err["type"] in ("json_invalid", "json_type"):
            await self.send_error("bad_json", f"not valid JSON: {err['msg']}")
            return
        loc = [str(p) for p in err["loc"]]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            await self.send_error(
                "bad_message",
                f"unknown or missing message type; expected one of: {MESSAGE_TYPES}",
                "type",
            )
            return
        if not loc:
            await self.send_error("bad_message", 'a message must be a JSON object with a "type"')
            return
        # Drop the discriminator tag pydantic puts first (e.g. "step").
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else None)
        msg = err["msg"]
        await self.send_error("bad_message", f"{field}: {msg}" if field else msg, field)

    async def _dispatch(self, msg: Any) -> None:
        match msg:
            case Configure(config=cfg):
                await self._stop_playing()
                self.experiment = await self._run(
                    self._new_experiment, owndata.build, cfg, self.csvs
                )
                self.focus = 0
                await self._publish_all()
            case Reset():
                await self._stop_playing()
                await self._run(self._new_experiment, self._reset)
                await self._publish_all()
            case SetTraining(training=patch):
                exp = self._exp()
                training = core_config.validate_training_patch(patch, exp.training)
                await self._run(self._set_training, training)
                self._send_state()
            case Step(unit=unit, count=count):
                await self._stop_playing()
                await self._branch()
                if self._exp().diverged:
                    await self.send_error("diverged", "the run diverged; reset it to go on")
                    return
                steps = count
                if unit == "epoch":
                    steps = self._exp().stepper.steps_to_epoch_end(count)
                if unit in ("step", "epoch") and steps > SLICED_STEPS:
                    if steps > MAX_STEPS_PER_COMMAND:
                        await self.send_error(
                            "too_much_work",
                            f"that is {steps:,} training steps in one command (the limit is "
                            f"{MAX_STEPS_PER_COMMAND:,}); use play instead",
                            "count",
                        )
                        return
                    # Long runs train in slices like play, so pause can stop them.
                    self.speed = None
                    self.playing = True
                    self._play_task = self._spawn(
                        self._play_loop(target=self._exp().steps_done + steps)
                    )
                    self._send_state()
                    return
                before = self._exp().steps_done
                left = count
                while left and not self._closed:  # slices, so other sessions run between
                    left = await self._run(self._do_step, unit, left)
                await self._publish_frame(grid=self._exp().steps_done != before)
            case Play(speed=speed, fps=fps, until=until):
                self.speed, self.fps = speed, min(fps, self.settings.max_fps)
                await self._branch()
                if self._exp().diverged:
                    await self.send_error("diverged", "the run diverged; reset it to go on")
                    return
                if until is not None and until.loss is None and until.steps is None:
                    until = None
                self.until = until
                if not self.playing:
                    self.playing = True
                    target = until.steps if until is not None else None
                    self._play_task = self._spawn(self._play_loop(target, stop_reason="steps"))
                self._send_state()
            case Pause():
                await self._stop_playing()
                self._send_state()
                await self._publish_frame(grid=True)
            case Focus(example=example):
                self.focus = example
                await self._publish_frame(grid=False)
            case Inspect(layer=layer, neuron=neuron):
                self.send(await self._run(self._inspect, layer, neuron))
            case GradCheck(max_examples=n):
                result = await self._run(self._gradcheck, n)
                self.send({"type": "gradcheck", "result": result})
            case GradCheckScaling():
                points = await self._run(self._gradcheck_scaling)
                self.send({"type": "gradcheck_scaling", "points": points})
            case CsvInspect(name=name, text=text):
                limit = owndata.max_bytes(self.settings.max_upload_bytes)
                try:
                    file, info = await self._run(owndata.inspect, name, text, limit)
                except DataError as exc:
                    await self.send_error(exc.code, exc.message, "csv", exc.row, exc.column)
                    return
                self.csvs.add(file)
                self.send(info)
            case Seek(step=step):
                await self._stop_playing()
                await self._run(self._seek, step)
                await self._publish_frame(grid=True)
            case Export():
                exp = self._exp()
                csv = self.csvs.get(exp.config.data.csv) if exp.config.data.name == "csv" else None
                run = await self._run(export_run, exp, csv)
                self.send({"type": "export", "run": run})
            case Import(run=run):
                await self._stop_playing()
                self.experiment = await self._run(self._new_experiment, import_run, run)
                file = run_csv(run)
                if file is not None:
                    self.csvs.add(file)
                await self._publish_all()
            case Options(grids=grids):
                self.grids = grids
                self._send_state()
            case Ping(id=ident):
                self.send({"type": "pong", "id": ident})

    def _exp(self) -> Experiment:
        assert self.experiment is not None
        return self.experiment

    # ------------------------------------------------------------------ rewind (worker)

    def _new_experiment(self, make: Callable[..., Experiment], *args: Any) -> Experiment:
        """Build an experiment (worker) and start its rewind buffer."""
        exp = make(*args)
        self.rewind.clear()
        self.rewind.fast = False
        self.viewing = None
        self._metrics = None
        self.rewind.record(exp)
        return exp

    def _reset(self) -> Experiment:
        exp = self._exp()
        exp.reset()
        return exp

    def _set_training(self, training: Any) -> None:
        exp = self._exp()
        self._branch_now()
        exp.set_training(training)
        self.rewind.record(exp)  # a replay never crosses a change of settings

    def _seek(self, step: int | None) -> None:
        """Show a recent step (exactly, with its trace), or the live end (``None``)."""
        exp = self._exp()
        rw = self.rewind
        if self.viewing is None:
            if step is None:
                return
            # Leaving the live end: checkpoint it (a step run phase by phase and not
            # finished is given up: back to its start).
            if exp.stepper.cursor != 0:
                exp.set_state(exp.get_state())
            rw.record(exp)
        last = rw.last
        assert last is not None
        shown = rw.show(exp, last if step is None else step)
        self.viewing = None if shown == last else shown
        self._metrics = None

    def _branch_now(self) -> None:
        """Training goes on from the step being viewed: the later steps are dropped."""
        if self.viewing is None:
            return
        live = self.rewind.last
        assert live is not None
        self.rewind.branch(self._exp(), self.viewing, live)
        self.viewing = None

    async def _branch(self) -> None:
        if self.viewing is not None:
            await self._run(self._branch_now)

    # ------------------------------------------------------------------ stepping (worker)

    def _do_step(self, unit: str, count: int) -> int:
        """Advance by up to ``count`` units within one time slice; return how many are left."""
        exp = self._exp()
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

    def _play_job(
        self, max_steps: int | None, seconds: float, frame: bool, grid: bool
    ) -> PlayResult:
        """One worker job while playing: train for ``seconds`` (at most ``max_steps``), then,
        if asked, build the frame and grid in the same job (one hop through the pool)."""
        exp = self._exp()
        st = exp.stepper
        rw = self.rewind
        rw.fast = self.speed is None or self.speed > FAST_PLAY
        until_loss = self.until.loss if self.until is not None else None
        deadline = time.perf_counter() + seconds
        done = 0
        stopped = None
        while not exp.diverged and (max_steps is None or done < max_steps):
            exp.step()
            done += 1
            if st.steps_done >= rw.next_step:
                rw.record(exp)
            if until_loss is not None:
                train_loss = exp.history.last("train_loss")
                if train_loss is not None and train_loss <= until_loss:
                    stopped = "loss"
                    break
            if time.perf_counter() >= deadline:
                break
        frame = frame or exp.diverged or stopped is not None
        return PlayResult(
            done,
            exp.diverged,
            encode.dumps(self._frame()) if frame else None,
            self._grid_text() if frame and (grid or exp.diverged) else None,
            stopped,
        )

    async def _play_loop(self, target: int | None = None, stop_reason: str | None = None) -> None:
        """Train until paused (or until ``target`` steps are done), publishing frames.

        Each pass through the loop is one job on the shared pool, sized as this session's
        fair share of a frame interval (all playing sessions take turns), so with many
        sessions everyone still gets frames at the asked rate, at fewer steps each.
        """
        runtime = self.runtime
        runtime.playing_started()
        stopped: str | None = None
        try:
            t_start = time.monotonic()
            steps = 0
            next_frame = t_start
            next_grid = t_start
            rate_t, rate_steps = t_start, 0
            while self.playing and not self._closed:
                now = time.monotonic()
                interval = 1.0 / self.fps
                owed: int | None = None
                if self.speed is not None:
                    owed = int(self.speed * (now - t_start)) - steps
                    if owed <= 0:
                        wake = min(next_frame, t_start + (steps + 1) / self.speed)
                        await asyncio.sleep(max(wake - now, 0.001))
                        if time.monotonic() >= next_frame:
                            next_frame = max(next_frame + interval, time.monotonic())
                            await self._publish_frame(grid=False)
                        continue
                if target is not None:
                    left = target - self._exp().steps_done
                    if left <= 0:
                        stopped = stop_reason
                        break
                    owed = left if owed is None else min(owed, left)
                # this session's share of a frame interval, leaving room for the frames
                share = TRAIN_SHARE * interval / max(1, runtime.playing_count)
                seconds = min(self.settings.slice_seconds, max(share, MIN_SLICE))
                seconds = min(seconds, max(next_frame - now, MIN_SLICE))
                want_frame = now + seconds >= next_frame
                want_grid = want_frame and now + seconds >= next_grid
                result = await self._run(self._play_job, owed, seconds, want_frame, want_grid)
                steps += result.steps
                rate_steps += result.steps
                now = time.monotonic()
                if now - rate_t >= 0.5:
                    self._steps_per_second = rate_steps / (now - rate_t)
                    rate_t, rate_steps = now, 0
                if result.frame is not None:
                    self.outbox.put_frame(result.frame)
                    next_frame = max(next_frame + interval, now)
                if result.grid is not None:
                    self.outbox.put_grid(result.grid)
                    # a grid costs ~ms: with many sessions playing, each gets them less often
                    next_grid = now + GRID_INTERVAL * max(1.0, runtime.playing_count / 10)
                if result.stopped is not None:
                    stopped = result.stopped
                    break
                if result.diverged:
                    break
                await asyncio.sleep(0)
        finally:
            runtime.playing_ended()
        if self.playing and not self._closed:  # finished by itself: diverged or target reached
            self.playing = False
            self._play_task = None
            self.until = None
            self._send_state(stopped)
            await self._publish_frame(grid=True)

    async def _stop_playing(self) -> None:
        self.playing = False
        task, self._play_task = self._play_task, None
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._steps_per_second = None

    # ------------------------------------------------------------------ publishing

    def _send_state(self, stopped: str | None = None) -> None:
        exp = self.experiment
        self.send(
            {
                "type": "state",
                "playing": self.playing,
                "diverged": bool(exp.diverged) if exp else False,
                "speed": self.speed,
                "stopped": stopped,
            }
        )

    async def _publish_all(self) -> None:
        self._history_generation = None
        text = await self._run(lambda: encode.dumps(self._topology()))
        self.outbox.put_topology(text)
        await self._publish_frame(grid=True)

    async def _publish_frame(self, grid: bool) -> None:
        frame, grid_text = await self._run(
            lambda: (encode.dumps(self._frame()), self._grid_text() if grid else None)
        )
        self.outbox.put_frame(frame)
        if grid_text is not None:
            self.outbox.put_grid(grid_text)

    def _topology(self) -> dict[str, Any]:
        exp = self._exp()
        net = exp.network
        config = current_config(exp)
        skips = set(net.skip_layers)
        layers = []
        for i, layer in enumerate(net.layers, start=1):
            layers.append(
                {
                    "index": i,
                    "n_in": layer.n_in,
                    "units": layer.n_out,
                    "activation": layer.activation.name,
                    "output": layer.is_output,
                    "batchnorm": i - 1 < len(net.layers) - 1 and config.network.batchnorm,
                    "residual": i in skips,
                }
            )
        phases = [{"kind": kind, "layer": layer} for kind, layer in exp.stepper.phases()]
        return {
            "type": "topology",
            "config": core_config.to_dict(config),
            "layers": layers,
            "phases": phases,
            "data": exp.dataset.to_dict(),
            "n_params": net.n_params,
            "rewind": self._rewind_info(),
        }

    def _frame(self) -> dict[str, Any]:
        exp = self._exp()
        stepper = exp.stepper
        trace = stepper.trace
        phases = stepper.phases()
        cursor = stepper.cursor
        kind, layer_no = phases[cursor]
        last: int | None = cursor - 1 if cursor > 0 else None
        if last is None and trace is not None and trace.complete:
            last = len(phases) - 1
        batch = trace.batch if trace is not None and trace.batch is not None else None
        n_batch = 0 if batch is None else len(batch)
        ex = min(self.focus, n_batch - 1) if n_batch else 0
        layers = []
        for i, layer in enumerate(exp.network.layers):
            lt = trace.layers[i] if trace is not None else None
            large = layer.W.size > LARGE_LAYER

            def row(arr: np.ndarray | None) -> np.ndarray | None:
                return None if arr is None else arr[ex]

            def mat(arr: np.ndarray | None, large: bool = large) -> np.ndarray | None:
                return None if arr is None or large else arr

            def grad(arr: np.ndarray | None) -> np.ndarray | None:
                # while playing, frames carry weights, not gradients: they stay small
                return None if self.playing else arr

            layers.append(
                {
                    "index": i + 1,
                    "z": row(lt.z if lt else None),
                    "a": row(lt.a if lt else None),
                    "fprime": row(lt.fprime if lt else None),
                    "delta": row(
                        lt.delta
                        if lt is not None and lt.delta is not None
                        else (trace.output_delta if trace is not None and layer.is_output else None)
                    ),
                    "mask": row(lt.mask if lt else None),
                    "W": mat(layer.W),
                    "b": layer.b,
                    "dW": grad(mat(lt.dW if lt else None)),
                    "db": grad(lt.db if lt else None),
                    "dW_update": grad(mat(lt.dW_update if lt else None)),
                    "db_update": grad(lt.db_update if lt else None),
                    "grad_a": row(lt.grad_a if lt else None),
                    "delta_z": row(lt.delta_z if lt else None),
                    "z_bn": row(lt.z_bn if lt else None),
                    "fprime_hist": _fprime_hist(lt),
                    "dead_fraction": lt.dead_fraction if lt and lt.fprime is not None else None,
                    "large": large,
                    "norms": {
                        "delta": lt.delta_mean_norm if lt else None,
                        "dW": lt.dW_norm if lt else None,
                        "dW_over_W": lt.dW_ratio if lt else None,
                    },
                }
            )
        x = y = None
        if trace is not None and trace.x is not None and n_batch:
            x, y = trace.x[ex], trace.y[ex]
        return {
            "type": "frame",
            "step": exp.steps_done,
            "epoch": stepper.epochs,
            "cursor": {"index": cursor, "kind": kind, "layer": layer_no},
            "last_phase": (
                None
                if last is None
                else {"index": last, "kind": phases[last][0], "layer": phases[last][1]}
            ),
            "example": ex,
            "batch": [] if batch is None else batch,
            "x": x,
            "y": y,
            "layers": layers,
            "loss": None if trace is None else trace.loss,
            "grad_norm": None if trace is None else trace.grad_norm,
            "clipped": bool(trace.clipped) if trace is not None else False,
            "diverged": bool(exp.diverged),
            "playing": self.playing,
            "steps_per_second": self._steps_per_second if self.playing else None,
            "history": self._history_increment(),
            "metrics": self._frame_metrics(),
            "rewind": self._rewind_info(),
            "viewing": self.viewing,
        }

    def _rewind_info(self) -> dict[str, int | None]:
        live = None if self.viewing is not None else self._exp().steps_done
        info: dict[str, int | None] = self.rewind.info(live)
        return info

    def _frame_metrics(self) -> dict[str, Any] | None:
        """Train/test loss, accuracy or R², confusion matrix: fresh on every frame, but
        at most every ``METRICS_INTERVAL`` seconds while playing (else the last ones)."""
        now = time.monotonic()
        if (
            self._metrics is None
            or not self.playing
            or now - self._metrics_time >= METRICS_INTERVAL
        ):
            self._metrics = self._exp().metrics()
            self._metrics_time = now
        return self._metrics

    def _history_increment(self) -> dict[str, Any] | None:
        history = self._exp().history
        if self._history_generation is None:
            inc = history.since(0, None) | {"reset": True}
        else:
            inc = history.since(self._history_seq, self._history_generation)
            if not inc["reset"] and inc["last_seq"] == self._history_seq:
                return None
        self._history_generation = inc["generation"]
        self._history_seq = inc["last_seq"]
        points = inc["points"]
        points.pop("seq", None)
        n = len(points["step"])
        if inc["reset"] and n > RESET_POINTS:
            # a whole history resent (after a decimation): evenly thinned, newest kept,
            # so that no frame grows past a few KB while playing
            keep = np.unique(np.linspace(0, n - 1, RESET_POINTS).round().astype(int))
            points = {k: [v[i] for i in keep] for k, v in points.items()}
        return {"reset": inc["reset"], "stride": inc["stride"], **points}

    def _grid_text(self) -> str | None:
        grid = self._grid() if self.grids else None
        return None if grid is None else encode.dumps(grid)

    def _grid(self) -> dict[str, Any] | None:
        exp = self._exp()
        ds = exp.dataset
        if ds.n_features not in (1, 2):
            return None
        if ds.n_features == 2:
            res = self.settings.grid_resolution
            (x0, x1), (y0, y1) = ds.domain
            xs = np.linspace(x0, x1, res)
            ys = np.linspace(y0, y1, res)
            gx, gy = np.meshgrid(xs, ys)
            X = np.column_stack([gx.ravel(), gy.ravel()])
            acts = exp.network.forward_all(X)
            tr = self.settings.thumb_resolution
            tx, ty = np.meshgrid(np.linspace(x0, x1, tr), np.linspace(y0, y1, tr))
            thumbs = exp.network.forward_all(np.column_stack([tx.ravel(), ty.ravel()]))
            neurons = [[_quantize(a[:, j]) for j in range(a.shape[1])] for a in thumbs[1:-1]]
            return {
                "type": "grid",
                "step": exp.steps_done,
                "kind": "2d",
                "domain": [[x0, x1], [y0, y1]],
                "resolution": res,
                "output": _quantize(acts[-1][:, 0]),
                "neurons": neurons,
            }
        (x0, x1) = ds.domain[0]
        res = 200
        X = np.linspace(x0, x1, res)[:, None]
        acts = exp.network.forward_all(X)
        return {
            "type": "grid",
            "step": exp.steps_done,
            "kind": "1d",
            "domain": [[x0, x1]],
            "resolution": res,
            "output": {"x": X[:, 0], "y": acts[-1][:, 0]},
            "neurons": [[{"y": a[:, j]} for j in range(a.shape[1])] for a in acts[1:-1]],
        }

    def _inspect(self, layer: int, neuron: int) -> dict[str, Any]:
        exp = self._exp()
        layers = exp.network.layers
        if not 1 <= layer <= len(layers) or not 0 <= neuron < layers[layer - 1].n_out:
            return {
                "type": "error",
                "code": "bad_message",
                "message": f"no neuron {neuron} in layer {layer}",
                "field": "neuron",
            }
        lt = exp.stepper.trace.layers[layer - 1] if exp.stepper.trace else None
        a_prev = None
        if lt is not None and lt.a_prev is not None:
            n_batch = lt.a_prev.shape[0]
            a_prev = lt.a_prev[min(self.focus, n_batch - 1)]
        # What the chain rule needs for this neuron's δ: its column of the next W, next δ.
        w_next = delta_next = None
        if layer < len(layers):
            w_next = layers[layer].W[:, neuron]
            trace = exp.stepper.trace
            nxt = trace.layers[layer] if trace is not None else None
            if nxt is not None and nxt.delta is not None:
                delta_next = nxt.delta[min(self.focus, nxt.delta.shape[0] - 1)]
        return {
            "type": "inspect",
            "layer": layer,
            "neuron": neuron,
            "W": layers[layer - 1].W[neuron],
            "dW": None if lt is None or lt.dW is None else lt.dW[neuron],
            "dW_update": None if lt is None or lt.dW_update is None else lt.dW_update[neuron],
            "a_prev": a_prev,
            "W_next": w_next,
            "delta_next": delta_next,
        }

    def _gradcheck(self, max_examples: int) -> dict[str, Any]:
        exp = self._exp()
        ds = exp.dataset
        n = min(max_examples, len(ds.X_train))
        t = exp.training
        P = exp.network.n_params
        # Finite differences cost two forward passes per checked parameter: bound the work
        # (parameters × examples per pass × checked parameters) and check a seeded sample.
        checked = max(50, GRADCHECK_BUDGET // max(1, P * n))
        result = gradient_check(
            exp.network,
            ds.X_train[:n],
            ds.Y_train[:n],
            l1=float(t.l1),
            l2=float(t.l2),
            max_params=checked if checked < P else None,
        )
        out: dict[str, Any] = result.to_dict()
        return out

    def _gradcheck_scaling(self) -> list[dict[str, Any]]:
        exp = self._exp()
        ds = exp.dataset
        n = min(SCALING_EXAMPLES, len(ds.X_train))
        points: list[dict[str, Any]] = cost_scaling(
            exp.network.spec, ds.X_train[:n], ds.Y_train[:n], budget_s=SCALING_BUDGET
        )
        return points


def _quantize(values: np.ndarray) -> dict[str, Any]:
    """Bytes over [min, max], base64: 1 byte per value instead of ~9 in JSON."""
    finite = np.isfinite(values)
    if not finite.any():
        return {"min": None, "max": None, "data": ""}
    lo = float(values[finite].min())
    hi = float(values[finite].max())
    span = hi - lo if hi > lo else 1.0
    q = np.clip(np.nan_to_num((values - lo) / span * 255.0 + 0.5, nan=0.0), 0, 255)
    return {"min": lo, "max": hi, "data": base64.b64encode(q.astype(np.uint8).tobytes()).decode()}


HIST_EDGES = np.linspace(0.0, 1.0, 21)


def _fprime_hist(lt: Any) -> dict[str, Any] | None:
    """The batch's f′(z) histogram: 20 bins over [0, 1] and what falls outside."""
    if lt is None or lt.fprime is None:
        return None
    return {
        "edges": HIST_EDGES,
        "counts": lt.fprime_hist,
        "below": lt.fprime_below,
        "above": lt.fprime_above,
    }
