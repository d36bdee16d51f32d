"""Playing: train continuously and stream frames, each session taking its fair share.

One pass through the loop is one job on the shared worker pool: train for a slice of
time, then (when a frame is due) build the frame and the grid in the same job — one hop
through the pool. A slice is this session's share of a frame interval: with many
sessions playing they take turns, and each still gets frames at the rate it asked for,
at fewer steps each. At a fixed ``speed`` the loop sleeps between steps and sends a
frame when one is due. Frames come first: when a session's frames come late because
others play too, it trains less per turn, down to one step in the hop that builds its
frame (:func:`adapt`), until they are on time again.

Among several sessions, a hop expected to take less than :data:`LANE_HOP` (a small
network's slice and frame) waits its turn in the runtime's lane
(``bpviz.server.lane``) instead of being a pool job of its own. There each session
trains only in the hop that builds its frame, and all of them use the lane's one
training factor, so a class shares the CPU evenly. A hop of training alone would take
other sessions' turns.

No hop holds a worker much longer than :data:`MAX_HOP`: a frame that would not fit in
the slice that trained (a large network's frame, with its evaluation of the train and
test sets, takes tens of milliseconds: :attr:`Workspace.costs` says how many) is built
in hops of its own (:func:`frame_texts`). When playing stops — by itself or by
``pause`` — the history ends on a measured point (``Workspace.finish``) before the last
frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from .frames import METRICS_INTERVAL
from .outbox import Text
from .protocol import StopReason, Until

if TYPE_CHECKING:
    from .runtime import Runtime
    from .settings import Settings
    from .workspace import Workspace

T = TypeVar("T")

TRAIN_SHARE = 0.5  # of the CPU when many sessions play; the rest builds and sends frames
MIN_SLICE = 0.00001  # seconds, less than any step: a slice always runs one step at least
GRID_INTERVAL = 0.2  # seconds between decision-boundary grids while playing (on average)
GRID_SPREAD = 0.5  # each interval is drawn from GRID_INTERVAL × (1 ± GRID_SPREAD)
_RANDOM = random.Random()  # the spreads' own: the module's state is left alone
FAST_PLAY = 50.0  # steps/s above which playing checkpoints sparsely (see core.rewind)
RATE_WINDOW = 0.5  # seconds over which the steps/s shown in frames is measured
MAX_HOP = 0.04  # seconds of work one hop may take, frames included (about)
LATE = 0.25  # a frame later than this share of its interval shrinks the training slices
SHRINK, GROW = 0.7, 1.1  # how the training share of a late / punctual session changes
MIN_SHARE = 0.02  # of the fair slice (a slice still runs at least one step)
CROWD_EVAL = 0.5  # of one session's evaluation budget, shared by all when several play
LANE_HOP = 0.003  # seconds: a hop expected to be shorter waits its turn in the lane
LANE_IN_USE = 1.0  # seconds since the lane's factor last changed: sessions play in it


class Host(Protocol):
    """What the player needs from its session."""

    runtime: Runtime
    settings: Settings
    workspace: Workspace
    closed: bool

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def run_short(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def publish_frame(self, grid: bool) -> None: ...

    def put_frame(self, frame: Text | None, grid: Text | None) -> None: ...

    def send_state(self, stopped: StopReason | None = None) -> None: ...


class Slice(NamedTuple):
    """What one worker job did: steps trained, and the frame and grid it built (if due)."""

    steps: int
    diverged: bool
    frame: Text | None
    grid: Text | None
    stopped: StopReason | None = None
    owed: bool = False  # a frame was due but would not fit: build it in hops of its own


def slice_seconds(
    interval: float, playing: int, max_slice: float, until_frame: float, factor: float = 1.0
) -> float:
    """How long the next training slice runs: this session's share of a frame
    ``interval`` with ``playing`` sessions playing (leaving room for the frames), at most
    ``max_slice``, and ending when the next frame is due (``until_frame`` seconds).
    ``factor`` (≤ 1) scales the share down while this session's frames come late
    (:func:`adapt`)."""
    share = factor * TRAIN_SHARE * interval / max(1, playing)
    seconds = min(max_slice, max(share, MIN_SLICE))
    return min(seconds, max(until_frame, MIN_SLICE))


def adapt(factor: float, late: float, interval: float) -> float:
    """The next training ``factor`` of a session whose last frame went out ``late``
    seconds after it was due: frames come first. When the sessions' slices and frames
    together take longer than a frame interval (many sessions, or a loaded machine),
    every frame comes late; each late session then trains less per turn (down to one
    step), which shortens everyone's turn, until the frames are on time again; then the
    share grows back. Playing "as fast as possible" trains with what is left over."""
    if late > LATE * interval:
        return max(MIN_SHARE, factor * SHRINK)
    return min(1.0, factor * GROW)


def metrics_interval(playing: int) -> float:
    """Seconds between the metrics of a frame while playing (an evaluation of the train
    and test sets): like grids, less often for each with many sessions playing."""
    return METRICS_INTERVAL * max(1.0, playing / 10)


def grid_interval(playing: int) -> float:
    """Seconds between grids while playing: a grid costs ~ms, so with many sessions
    playing each gets them less often."""
    return GRID_INTERVAL * max(1.0, playing / 10)


def play_slice(
    work: Workspace,
    seconds: float,
    max_steps: int | None,
    until_loss: float | None,
    fast: bool,
    frame: bool,
    grid: bool,
    playing: int = 1,
) -> Slice:
    """One worker job while playing: train, then build the frame and grid if asked and
    they fit in :data:`MAX_HOP` (else ``owed``). When the run diverged or a stop
    condition was met, the caller ends playing and builds the last frame itself.

    With ``playing`` sessions playing, the history's train/test evaluations of this
    slice get their share of the time divided among them (``Experiment.eval_budget`` is
    a share of the elapsed time, which the sessions share): together they take half of
    what one session alone would (:data:`CROWD_EVAL`), not ``playing`` times as much;
    the frames' metrics come at :func:`metrics_interval`."""
    start = time.perf_counter()
    exp = work.exp
    work.metrics_feed.interval = metrics_interval(playing)
    budget = exp.eval_budget
    if budget is not None and playing > 1:
        exp.eval_budget = budget * CROWD_EVAL / playing
    try:
        steps, stopped = work.train(seconds, max_steps, until_loss, fast)
    finally:
        exp.eval_budget = budget
    diverged = work.exp.diverged
    if diverged or stopped is not None:
        return Slice(steps, diverged, None, None, stopped)
    grid = frame and grid
    cost = work.frame_cost() + (work.costs["grid"] if grid else 0.0)
    if frame and time.perf_counter() - start + cost > MAX_HOP:
        return Slice(steps, diverged, None, None, stopped, owed=True)
    return Slice(
        steps,
        diverged,
        work.frame_text() if frame else None,
        work.grid_text() if grid else None,
        stopped,
    )


async def frame_texts(host: Host, grid: bool) -> tuple[Text | None, Text | None]:
    """A frame (and, if asked and wanted, a grid): in one hop when they fit in
    :data:`MAX_HOP` as measured, else the metrics, the frame and the grid a hop each."""
    work = host.workspace
    if work.frame_cost() + (work.costs["grid"] if grid else 0.0) <= MAX_HOP:
        return await host.run(lambda: (work.frame_text(), work.grid_text() if grid else None))
    if work.unfinished:
        await host.run(work.finish)
    await host.run(work.refresh_metrics)
    frame = await host.run(work.frame_text)
    return frame, await host.run(work.grid_text) if grid else None


class Player:
    """The play loop of one session: ``speed`` steps/s (``None``: as fast as possible),
    at most ``fps`` frames/s, an optional stop condition ``until``."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.speed: float | None = None
        self.fps = 30
        self.until: Until | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def playing(self) -> bool:
        return self.host.workspace.view.playing

    def pace(self, speed: float | None, fps: int) -> None:
        """Steps per second and frames per second (capped by the server's ``max_fps``)."""
        self.speed = speed
        self.fps = min(fps, self.host.settings.max_fps)

    def play(self, until: Until | None) -> None:
        """Play (on with a new stop condition if already playing); stop by itself once the
        train loss reaches ``until.loss`` or the step count ``until.steps``."""
        if until is not None and until.loss is None and until.steps is None:
            until = None
        self.until = until
        if not self.playing:
            self._start(until.steps if until is not None else None, "steps")

    def run_steps(self, steps: int) -> None:
        """Train ``steps`` steps as fast as possible in slices, like play, so that pause
        can stop them and other sessions run in between."""
        self.speed = None
        self.until = None
        self._start(self.host.workspace.exp.steps_done + steps, None)

    def _start(self, target: int | None, stop_reason: StopReason | None) -> None:
        self.host.workspace.view.playing = True
        self._task = self.host.spawn(self._loop(target, stop_reason))

    async def stop(self) -> None:
        """Stop playing; the slice in progress is finished first."""
        view = self.host.workspace.view
        view.playing = False
        task, self._task = self._task, None
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        view.steps_per_second = None

    async def pause(self) -> None:
        """Stop playing (:meth:`stop`) and end the history on a measured point."""
        was = self.playing or self._task is not None
        await self.stop()
        if was and not self.host.closed:
            await self.host.run(self.host.workspace.finish)

    async def _loop(self, target: int | None, stop_reason: StopReason | None) -> None:
        """Train until stopped, or until ``target`` steps are done (then the state says
        ``stop_reason``), publishing frames."""
        host = self.host
        runtime = host.runtime
        work = host.workspace
        view = work.view
        runtime.playing_started()
        stopped: StopReason | None = None
        try:
            t_start = time.monotonic()
            steps = 0
            next_frame = next_grid = rate_t = t_start
            rate_steps = 0
            factor = 1.0  # of the fair training slice (adapt)
            while view.playing and not host.closed:
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
                            await host.publish_frame(grid=False)
                        continue
                if target is not None:
                    left = target - work.exp.steps_done
                    if left <= 0:
                        stopped = stop_reason
                        break
                    owed = left if owed is None else min(owed, left)
                # many sessions' short hops run in turn (bpviz.server.lane), the rest
                # as jobs of their own, in parallel where NumPy lets go of the GIL. The
                # lane's sessions share one training factor, so that their turns are
                # fair; a hop in the lane starts after the calls queued before it (lead)
                # A small network's session whose hop is too long for the lane this time
                # (its metrics are due, its frame costs a little more than the others')
                # keeps to the lane's factor and to one hop per frame while others play
                # in the lane: on a thread of the pool, beside the lane's, it would
                # otherwise train between its frames, many times more than they do. A
                # large network's session (a frame alone too long for the lane) trains
                # on the pool at its own factor, where NumPy lets go of the GIL.
                lane = runtime.lane
                crowd = runtime.playing_count > 1
                slices = (interval, runtime.playing_count, host.settings.slice_seconds)
                seconds = slice_seconds(*slices, next_frame - now, lane.factor)
                short = crowd and seconds + work.frame_cost() <= LANE_HOP
                small = work.costs["frame"] <= LANE_HOP
                in_lane = short or (crowd and small and now - lane.adapted < LANE_IN_USE)
                if not short:
                    own = min(factor, lane.factor) if in_lane else factor
                    seconds = slice_seconds(*slices, next_frame - now, own)
                lead = lane.wait() if short else 0.0
                want_frame = now + lead + seconds >= next_frame
                if (
                    not want_frame
                    and (in_lane or factor < 1.0)
                    and target is None
                    and self.speed is None
                ):
                    # Frames came late, or hops take turns in the lane: train only in the
                    # hop that builds the next frame, one hop per frame. A hop of training
                    # alone is what the server, behind, can least afford; in the lane it
                    # would also take other sessions' turns (each gets its fair slice,
                    # ``slice_seconds``, in its frame's hop, and no more).
                    await asyncio.sleep(next_frame - now - seconds - lead)
                    continue
                result = await (host.run_short if short else host.run)(
                    play_slice,
                    work,
                    seconds,
                    owed,
                    self.until.loss if self.until is not None else None,
                    self.speed is None or self.speed > FAST_PLAY,
                    want_frame,
                    want_frame and now + seconds >= next_grid,
                    runtime.playing_count,
                )
                steps += result.steps
                rate_steps += result.steps
                now = time.monotonic()
                if now - rate_t >= RATE_WINDOW:
                    view.steps_per_second = rate_steps / (now - rate_t)
                    rate_t, rate_steps = now, 0
                if result.owed:
                    frame_text, grid_text = await frame_texts(host, want_frame and now >= next_grid)
                    result = result._replace(frame=frame_text, grid=grid_text)
                    now = time.monotonic()
                host.put_frame(result.frame, result.grid)
                if result.frame is not None:
                    if short and self.speed is None:
                        lane.factor = adapt(lane.factor, now - next_frame, interval)
                        lane.adapted = now
                    elif self.speed is None and runtime.playing_count > 1:
                        factor = adapt(factor, now - next_frame, interval)
                    else:  # alone, a late frame is the machine's doing, not other sessions'
                        factor = 1.0
                    next_frame = max(next_frame + interval, now)
                if result.grid is not None:
                    # at random within ±50 %: a class that pressed play together does not
                    # build its grids in the same turn of the lane
                    spread = _RANDOM.uniform(1 - GRID_SPREAD, 1 + GRID_SPREAD)
                    next_grid = now + grid_interval(runtime.playing_count) * spread
                if result.stopped is not None or result.diverged:
                    # the step it stopped at, measured, before the state that says why
                    stopped = result.stopped
                    await host.run(work.finish)
                    host.put_frame(*await frame_texts(host, grid=result.diverged))
                    break
                await asyncio.sleep(0)
        finally:
            runtime.playing_ended()
        if view.playing and not host.closed:  # finished by itself: diverged or target reached
            view.playing = False
            self._task = None
            self.until = None
            await host.run(work.finish)
            host.send_state(stopped)
            await host.publish_frame(grid=True)
