"""One websocket session: parse each message, dispatch it, answer; see ``docs/protocol.md``.

Concurrency, in one place:
- every call into the experiment runs on the runtime's worker pool, one at a time per
  session (``self._lock``), never on the event loop: the :class:`Workspace` does that
  work, frames and their encoding included;
- playing (:class:`Player`) trains in slices of at most ``slice_seconds`` and publishes
  at most ``fps`` frames per second;
- outgoing messages go through an :class:`Outbox`: control messages queue (bounded),
  frames and grids coalesce to the newest, so a slow reader holds one frame, not a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import WebSocket
from pydantic import ValidationError

from bpviz.core.data.datasets import DataError
from bpviz.core.experiment import config as core_config

from . import encode
from .outbox import Outbox
from .player import Player
from .protocol import (
    PROTOCOL_VERSION,
    ClientMessage,
    Configure,
    CsvInspect,
    Error,
    Export,
    Focus,
    GradCheck,
    GradCheckScaling,
    Hello,
    Import,
    Inspect,
    Message,
    Options,
    Pause,
    Ping,
    Play,
    Pong,
    Reset,
    Seek,
    SetTraining,
    State,
    Step,
    StopReason,
    client_adapter,
    invalid_message,
)
from .runs import RunError
from .workspace import Workspace

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("bpviz.session")
T = TypeVar("T")

SLICED_STEPS = 50  # a step/epoch command longer than this trains in slices, like play
MAX_STEPS_PER_COMMAND = 100_000


class Session:
    """A learner's experiment, driven by one websocket."""

    def __init__(self, runtime: Runtime, websocket: WebSocket) -> None:
        self.id = secrets.token_hex(6)
        self.runtime = runtime
        self.settings = runtime.settings
        self.websocket = websocket
        self.outbox = Outbox()
        self.workspace = Workspace(self.settings)
        self.player = Player(self)
        self.closed = False
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ plumbing

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task of this session (cancelled when it closes)."""
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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work on the worker pool, one call at a time for this session."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.runtime.pool, fn, *args)

    async def _sender(self) -> None:
        ws = self.websocket
        while not self.closed:
            await self.outbox.ready.wait()
            while (text := self.outbox.pop()) is not None:
                await ws.send_text(text)
                await asyncio.sleep(0)  # let other connections run between sends

    def send(self, message: Message) -> None:
        """Queue a control message (small: encoded here, on the event loop)."""
        self.outbox.put(encode.dumps(message))

    def send_error(
        self,
        code: str,
        message: str,
        field: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        """An ``error``; ``row`` and ``column`` (a CSV's) only when either is known."""
        error: dict[str, Any] = {"type": "error", "code": code, "message": message, "field": field}
        if row is not None or column is not None:
            error |= {"row": row, "column": column}
        self.send(Error.model_validate(error))

    def send_state(self, stopped: StopReason | None = None) -> None:
        exp = self.workspace.experiment
        self.send(
            State(
                type="state",
                playing=self.player.playing,
                diverged=bool(exp.diverged) if exp else False,
                speed=self.player.speed,
                stopped=stopped,
            )
        )

    def put_frame(self, frame: str | None, grid: str | None) -> None:
        if frame is not None:
            self.outbox.put_frame(frame)
        if grid is not None:
            self.outbox.put_grid(grid)

    async def publish_frame(self, grid: bool) -> None:
        """Build and queue a frame (and, if asked and wanted, a grid) in one worker job."""
        work = self.workspace
        texts = await self.run(lambda: (work.frame_text(), work.grid_text() if grid else None))
        self.put_frame(*texts)

    async def publish_all(self) -> None:
        """Topology, frame and grid of a new experiment."""
        self.outbox.put_topology(await self.run(self.workspace.topology_text))
        await self.publish_frame(grid=True)

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until everything queued has been written."""
        deadline = time.monotonic() + timeout
        while not self.outbox.empty and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        from .api import limits

        self.spawn(self._sender())
        self.send(
            Hello(
                type="hello",
                protocol=PROTOCOL_VERSION,
                server="bpviz 0.1.0",
                session=self.id,
                limits=limits(self.settings),
            )
        )
        await self.run(self.workspace.start)
        await self.publish_all()

    async def close(self) -> None:
        self.closed = True
        self.workspace.view.playing = False
        self.outbox.ready.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.workspace.experiment = None

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
            self.send(invalid_message(exc))
            return not large
        if large and not isinstance(msg, Import | CsvInspect):
            limit = self.settings.max_message_bytes
            self.send_error(
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
                self.send_error("unknown_csv", unknown[0].message, unknown[0].field)
                return True
            message = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            self.send_error("invalid_config", message, exc.errors[0].field)
        except DataError as exc:  # the configured CSV cannot serve this target or task
            field = "data.task" if exc.code in ("not_binary", "bad_task") else "data.target"
            if exc.column is None and exc.row is not None:
                field = "data.csv"
            self.send_error(exc.code, exc.message, field, exc.row, exc.column)
        except RunError as exc:
            self.send_error("invalid_run", str(exc), exc.field)
        except Exception:
            log.exception("session %s: internal error on %s", self.id, type(msg).__name__)
            self.send_error("internal", "internal error; the session is still usable")
        return True

    async def _dispatch(self, msg: ClientMessage) -> None:
        work = self.workspace
        match msg:
            case Configure(config=config):
                await self.player.stop()
                await self.run(work.configure, config)
                await self.publish_all()
            case Reset():
                await self.player.stop()
                await self.run(work.reset)
                await self.publish_all()
            case SetTraining(training=patch):
                await self.run(work.set_training, patch)
                self.send_state()
            case Step(unit=unit, count=count):
                await self._step(unit, count)
            case Play(speed=speed, fps=fps, until=until):
                self.player.pace(speed, fps)
                if await self._diverged():
                    return
                self.player.play(until)
                self.send_state()
            case Pause():
                await self.player.stop()
                self.send_state()
                await self.publish_frame(grid=True)
            case Focus(example=example):
                work.view.focus = example
                await self.publish_frame(grid=False)
            case Inspect(layer=layer, neuron=neuron):
                text = await self.run(work.inspect_text, layer, neuron)
                if text is None:
                    self.send_error("bad_message", f"no neuron {neuron} in layer {layer}", "neuron")
                else:
                    self.outbox.put(text)
            case GradCheck(max_examples=n):
                self.outbox.put(await self.run(work.gradcheck_text, n))
            case GradCheckScaling():
                self.outbox.put(await self.run(work.gradcheck_scaling_text))
            case CsvInspect(name=name, text=text):
                try:
                    info = await self.run(work.csv_inspect, name, text)
                except DataError as exc:
                    self.send_error(exc.code, exc.message, "csv", exc.row, exc.column)
                    return
                self.send(info)
            case Seek(step=step):
                await self.player.stop()
                await self.run(work.seek, step)
                await self.publish_frame(grid=True)
            case Export():
                self.outbox.put(await self.run(work.export_text))
            case Import(run=run):
                await self.player.stop()
                await self.run(work.import_run, run)
                await self.publish_all()
            case Options(grids=grids):
                work.view.grids = grids
                self.send_state()
            case Ping(id=ident):
                self.send(Pong(type="pong", id=ident))

    async def _diverged(self) -> bool:
        """Go on from the step shown (after a rewind); a diverged run refuses to train."""
        work = self.workspace
        if work.view.viewing is not None:
            await self.run(work.branch)
        if work.exp.diverged:
            self.send_error("diverged", "the run diverged; reset it to go on")
            return True
        return False

    async def _step(self, unit: str, count: int) -> None:
        await self.player.stop()
        if await self._diverged():
            return
        exp = self.workspace.exp
        steps = exp.steps_to_epoch_end(count) if unit == "epoch" else count
        if unit in ("step", "epoch") and steps > SLICED_STEPS:
            if steps > MAX_STEPS_PER_COMMAND:
                self.send_error(
                    "too_much_work",
                    f"that is {steps:,} training steps in one command (the limit is "
                    f"{MAX_STEPS_PER_COMMAND:,}); use play instead",
                    "count",
                )
                return
            self.player.run_steps(steps)  # in slices like play, so pause can stop them
            self.send_state()
            return
        before = exp.steps_done
        left = count
        while left and not self.closed:  # slices, so other sessions run between
            left = await self.run(self.workspace.advance, unit, left)
        await self.publish_frame(grid=exp.steps_done != before)
