"""The play loop: fair-share slices, stop conditions, a frame when it ends."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.server.player import (
    CROWD_EVAL,
    LANE_HOP,
    LATE,
    MAX_HOP,
    MIN_SHARE,
    MIN_SLICE,
    TRAIN_SHARE,
    Player,
    adapt,
    frame_texts,
    grid_interval,
    metrics_interval,
    play_slice,
    slice_seconds,
)
from bpviz.server.protocol import Until
from bpviz.server.runtime import Runtime
from bpviz.server.settings import Settings
from bpviz.server.workspace import Workspace

T = TypeVar("T")


def workspace(**config: Any) -> Workspace:
    work = Workspace(Settings())
    work.adopt(build(core_config.validate(config)))
    return work


def test_a_slice_is_a_fair_share_of_a_frame_interval() -> None:
    interval = 1 / 30
    alone = slice_seconds(interval, 1, max_slice=1.0, until_frame=1.0)
    assert alone == pytest.approx(TRAIN_SHARE * interval)
    assert slice_seconds(interval, 10, 1.0, 1.0) == pytest.approx(alone / 10)
    assert slice_seconds(interval, 1, max_slice=0.008, until_frame=1.0) == 0.008
    assert slice_seconds(interval, 1, 1.0, until_frame=0.002) == 0.002  # the frame is due
    assert slice_seconds(interval, 10**6, 1.0, until_frame=-1.0) == MIN_SLICE
    assert grid_interval(1) == grid_interval(10) < grid_interval(40)


def test_late_frames_shrink_the_training_share_and_punctual_ones_grow_it_back() -> None:
    """Frames first: a session whose frames come late trains less per turn (down to
    ``MIN_SHARE`` of its fair slice, and a slice still runs one step), then more again
    once they are on time."""
    interval = 1 / 20
    late = LATE * interval * 2
    factor = 1.0
    for _ in range(100):
        factor = adapt(factor, late, interval)
    assert factor == MIN_SHARE
    fair = slice_seconds(interval, 100, 1.0, until_frame=1.0)
    assert slice_seconds(interval, 100, 1.0, 1.0, factor) == MIN_SLICE < fair
    shrunk = adapt(1.0, late, interval)
    assert shrunk < 1.0
    assert adapt(shrunk, 0.0, interval) > shrunk  # on time: it grows back …
    for _ in range(100):
        factor = adapt(factor, LATE * interval / 2, interval)
    assert factor == 1.0  # … to the fair share, never past it


def test_play_slice_trains_and_builds_the_frame_when_due() -> None:
    work = workspace()
    result = play_slice(work, 10.0, 7, None, True, frame=False, grid=False)
    assert result.steps == 7 and work.exp.steps_done == 7
    assert result.frame is None and result.grid is None and result.stopped is None
    result = play_slice(work, 10.0, 3, None, True, frame=True, grid=True)
    assert json.loads(result.frame or "")["step"] == 10
    assert json.loads(result.grid or "")["type"] == "grid"


def test_many_sessions_playing_share_the_evaluation_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history's evaluations take a share of the elapsed time: with 100 sessions
    playing, each slice gets a two-hundredth of it (all together, half of what one alone
    would: the frames come first),
    and the experiment's own budget is as before once the slice is done."""
    work = workspace()
    own = work.exp.eval_budget
    assert own is not None
    seen: list[float | None] = []
    train = work.train

    def spy(*args: Any) -> Any:
        seen.append(work.exp.eval_budget)
        return train(*args)

    monkeypatch.setattr(work, "train", spy)
    play_slice(work, 10.0, 2, None, True, frame=False, grid=False, playing=100)
    play_slice(work, 10.0, 2, None, True, frame=False, grid=False)
    assert seen == [pytest.approx(own * CROWD_EVAL / 100), own]
    assert CROWD_EVAL == 0.5
    assert work.exp.eval_budget == own
    # the frames' metrics (train and test sets evaluated) likewise come less often
    assert metrics_interval(1) == metrics_interval(10) < metrics_interval(100)
    play_slice(work, 10.0, 1, None, True, frame=False, grid=False, playing=100)
    assert work.metrics_feed.interval == metrics_interval(100)


def test_play_slice_stops_at_the_loss() -> None:
    work = workspace(training={"learning_rate": 0.5, "batch_size": 40})
    result = play_slice(work, 10.0, 20_000, 0.6, True, frame=True, grid=False)
    assert result.stopped == "loss" and result.frame is None  # the player builds the last one
    loss = work.exp.last_recorded("train_loss")
    assert loss is not None and loss <= 0.6


def test_a_frame_that_does_not_fit_the_slice_is_owed() -> None:
    work = workspace()
    work.costs["frame"] = MAX_HOP  # as if a frame took a whole hop to build
    result = play_slice(work, 10.0, 3, None, True, frame=True, grid=True)
    assert result.owed and result.frame is None and result.steps == 3


class FakeSession:
    """The player's host, without a websocket: it records what would be sent."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.runtime = Runtime(self.settings)
        self.workspace = workspace()
        self.closed = False
        self.frames: list[str] = []
        self.states: list[str | None] = []
        self.hops = 0
        self.short_hops = 0  # of them, in the lane

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        self.hops += 1
        return fn(*args)

    async def run_short(self, fn: Callable[..., T], *args: Any) -> T:
        self.short_hops += 1
        return await self.run(fn, *args)

    async def publish_frame(self, grid: bool) -> None:
        self.frames.append(self.workspace.frame_text())

    def put_frame(self, frame: str | None, grid: str | None) -> None:
        if frame is not None:
            self.frames.append(frame)

    def send_state(self, stopped: Any = None) -> None:
        self.states.append(stopped)


def test_run_steps_stops_at_the_target_and_says_so() -> None:
    host = FakeSession()

    async def go() -> None:
        player = Player(host)
        player.run_steps(120)
        assert player.playing
        while player.playing:
            await asyncio.sleep(0.001)

    asyncio.run(go())
    assert host.workspace.exp.steps_done == 120
    assert host.states == [None]  # a step command ends without a stop reason
    last = json.loads(host.frames[-1])
    assert last["step"] == 120 and last["playing"] is False
    assert host.runtime.playing_count == 0


def test_play_until_steps_then_stop_by_hand() -> None:
    host = FakeSession()

    async def go() -> None:
        player = Player(host)
        player.pace(None, 1000)
        assert player.fps == host.settings.max_fps
        player.play(Until(steps=30))
        while player.playing:
            await asyncio.sleep(0.001)
        assert host.states == ["steps"] and host.workspace.exp.steps_done == 30
        player.pace(2000.0, 60)
        player.play(Until())  # an empty condition is no condition
        assert player.until is None
        await asyncio.sleep(0.05)
        await player.stop()
        assert not player.playing and host.workspace.view.steps_per_second is None

    asyncio.run(go())
    assert host.workspace.exp.steps_done > 30
    assert host.states == ["steps"]  # stopped by hand: the session says so, not the player
    host.runtime.shutdown()


def test_a_costly_frame_is_built_in_hops_of_its_own() -> None:
    host = FakeSession()
    work = host.workspace

    async def go() -> tuple[str | None, str | None]:
        return await frame_texts(host, grid=True)

    frame, grid = asyncio.run(go())
    assert host.hops == 1 and frame is not None and grid is not None  # cheap: one hop
    work.costs["metrics"] = MAX_HOP
    work.metrics_feed.clear()
    host.hops = 0
    frame, grid = asyncio.run(go())
    assert host.hops == 3 and json.loads(frame or "")["metrics"] is not None


def test_playing_ends_on_a_measured_point() -> None:
    host = FakeSession()

    async def go() -> None:
        player = Player(host)
        player.pace(None, 60)
        player.play(None)
        await asyncio.sleep(0.05)
        await player.pause()

    asyncio.run(go())
    exp = host.workspace.exp
    points = exp.history_since(0, None)["points"]
    assert points["step"][-1] == exp.steps_done and points["train_loss"][-1] is not None
    host.runtime.shutdown()


@pytest.mark.parametrize(
    ("lane_in_use", "large", "in_lane"),
    [(True, False, True), (False, False, False), (True, True, False)],
)
def test_a_session_outside_the_lane_keeps_to_the_lane_s_share(
    lane_in_use: bool, large: bool, in_lane: bool
) -> None:
    """A small network's session whose hop is too long for the lane this time (its metrics
    due, its frame a little costlier than the others'), playing while others take turns in
    the lane, trains only in the hop that builds each frame, at no more than the lane's
    training factor, like them. On a thread of the pool it once trained between its frames
    too, at its own factor: 1,330 steps/s against the lane's ~100 (a CI run of the fairness
    test). With the lane unused for a while, or for a large network (a frame alone too long
    for the lane), the session trains on the pool at its own pace, between frames too."""
    host = FakeSession()
    work = host.workspace
    runtime = host.runtime
    seen: list[float] = []
    train = work.train

    def spy(seconds: float, *args: Any) -> Any:
        seen.append(seconds)
        return train(seconds, *args)

    work.train = spy  # type: ignore[method-assign]
    work.frame_cost = lambda: 2 * LANE_HOP  # type: ignore[method-assign]
    if large:  # (as measured: kept, not measured again)
        work.costs["frame"] = 2 * LANE_HOP
        work._measured = lambda key, start: None  # type: ignore[method-assign]

    async def go() -> None:
        for _ in range(7):  # seven other sessions play
            runtime.playing_started()
        runtime.lane.factor = 0.2
        runtime.lane.adapted = time.monotonic() if lane_in_use else -float("inf")
        player = Player(host)
        player.pace(None, 20)
        player.play(None)
        await asyncio.sleep(0.5)
        await player.stop()
        for _ in range(7):
            runtime.playing_ended()

    asyncio.run(go())
    runtime.shutdown()
    assert host.short_hops == 0
    fair = slice_seconds(1 / 20, 8, host.settings.slice_seconds, 1.0)
    if in_lane:
        assert 5 <= host.hops <= 12  # one hop a frame (20 frames/s for 0.5 s)
        assert max(seen) <= 0.2 * fair * 1.0001
    else:
        assert host.hops > 20 and max(seen) == pytest.approx(fair)
