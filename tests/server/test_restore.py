"""A run restored from its snapshot (a reload, a server restart, a room's ``copy``) comes
back as it was shown: the last step's trace (loss, z, a, δ), the recent steps to rewind,
the focused example; and ``copy`` while the lecturer views a past step gives that step."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bpviz.server.resume import DEBOUNCE
from bpviz.server.settings import Settings

from .conftest import LiveServer
from .test_resume import XOR, Client, reference, resumed, weights
from .test_rooms import ended, follow, owner_with_room


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", snapshot_interval=0.5)


def shown(frame: dict[str, Any]) -> dict[str, Any]:
    """What the page draws of a frame: the step, its trace and example, the rewind range."""
    keys = ("step", "example", "x", "y", "loss", "batch", "cursor", "rewind", "viewing")
    return {k: frame[k] for k in keys} | {"layers": frame["layers"]}


def focused_run(url: str, steps: int) -> tuple[str, dict[str, Any]]:
    """A run of ``steps`` steps focused on example 2: its token and last frame."""
    with Client(url) as c:
        c.until("grid")
        c.send(type="configure", config=XOR)
        c.until("grid")
        c.send(type="step", unit="step", count=steps)
        c.until("frame")
        c.send(type="focus", example=2)
        frame = c.until("frame")
        time.sleep(DEBOUNCE + 0.3)  # written once idle
        return c.hello["resume_token"], frame


def test_a_resumed_run_shows_its_last_step_with_its_trace(live: LiveServer) -> None:
    token, before = focused_run(live.url, 9)
    assert before["loss"] is not None and before["layers"][0]["z"] is not None
    with resumed(live.url, token) as c:
        again = c.until("frame")
        assert shown(again) == shown(before)  # not blank: loss, z, a, δ, example 2
        assert again["rewind"]["first"] < 9 == again["rewind"]["last"]
        c.send(type="seek", step=5)
        past = c.until("frame")
        assert past["viewing"] == 5 and past["loss"] is not None
        c.send(type="seek", step=None)
        assert shown(c.until("frame")) == shown(before)
        c.send(type="step", unit="step")
        after = c.until("frame")
    ref = reference(live.url, 10)  # the next step's numbers are those of a run never stopped
    assert after["step"] == 10 and weights(after) == weights(ref)
    assert after["loss"] == ref["loss"] and after["example"] == 2


def test_a_restart_brings_the_trace_back(settings: Settings) -> None:
    with LiveServer(settings) as first:
        token, before = focused_run(first.url, 40)
    with LiveServer(settings) as second, resumed(second.url, token) as c:
        again = c.until("frame")
    # the trace is back; the rewind range, as far as the snapshot's checkpoints reach
    assert shown(again) | {"rewind": None} == shown(before) | {"rewind": None}
    assert again["rewind"]["first"] < 40 == again["rewind"]["last"]


def test_a_copy_shows_the_owners_step_with_its_trace(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=6)
    with owner, follow(live.url, code) as f:
        owner.send(type="focus", example=3)
        theirs = owner.until("frame")
        f.until("grid")
        f.send(type="copy")
        assert ended(f)["reason"] == "copied"
        mine = f.until("frame")
        assert shown(mine) == shown(theirs)


def test_copy_while_the_owner_views_a_past_step_gives_that_step(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=8)
    with owner, follow(live.url, code) as f:
        f.until("grid")
        owner.send(type="seek", step=3)
        viewed = owner.until("frame")
        assert viewed["viewing"] == 3
        f.send(type="copy")  # was: error room_unknown "the run of room … is not available"
        assert ended(f)["reason"] == "copied"
        mine = f.until("frame")
        assert mine["step"] == 3 and mine["viewing"] is None
        assert weights(mine) == weights(viewed) and mine["loss"] == viewed["loss"]
        assert mine["history"]["step"][-1] <= 3  # the later steps are not the copy's
        f.send(type="step", unit="step")
        owner.send(type="step", unit="step")  # the owner goes on from step 3 too
        assert weights(f.until("frame")) == weights(owner.until("frame"))


def test_a_weight_edited_after_the_last_write_comes_back(live: LiveServer) -> None:
    """The edit changes no step, cursor or config: the snapshot's fingerprint must still see
    it (it did not: the run came back with the weight before the edit, and its next steps
    were another run's)."""
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="configure", config=XOR)
        c.until("grid")
        c.send(type="step", unit="step", count=5)
        c.until("frame")
        time.sleep(DEBOUNCE + 0.3)  # step 5 written
        c.send(type="set_param", layer=1, param="W", index=[0, 1], value=0.45)
        edited = c.until("frame")
        time.sleep(DEBOUNCE + 0.3)
        token = c.hello["resume_token"]
    assert edited["layers"][0]["W"][0][1] == 0.45 and "W_updated" in edited["layers"][0]
    with resumed(live.url, token) as c:
        again = c.until("frame")
        assert again["layers"][0]["W"][0][1] == 0.45
        assert again["layers"][0]["W_updated"] == edited["layers"][0]["W_updated"]
        c.send(type="step", unit="step")
        after = c.until("frame")
    with Client(live.url) as c:  # the same, never stopped
        c.until("grid")
        c.send(type="configure", config=XOR)
        c.until("grid")
        c.send(type="step", unit="step", count=5)
        c.until("frame")
        c.send(type="set_param", layer=1, param="W", index=[0, 1], value=0.45)
        c.until("frame")
        c.send(type="step", unit="step")
        ref = c.until("frame")
    assert weights(after) == weights(ref) and after["loss"] == ref["loss"]


def test_a_diverged_run_that_came_back_seeks_nowhere_without_a_fault(live: LiveServer) -> None:
    """A diverged run keeps no checkpoint to come back with: a seek then leaves it at its
    live end (it was an internal error with a traceback)."""
    config = {
        "seed": 7,
        "data": {"name": "spiral", "samples": 200},
        "network": {"hidden": [{"units": 16, "activation": "relu"}], "loss": "mse"},
        "training": {"learning_rate": 10},
    }
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="configure", config=config)
        c.until("grid")
        c.send(type="step", unit="step", count=20)  # a burst stops where it diverges
        assert c.until("frame")["diverged"] is True
        time.sleep(DEBOUNCE + 0.3)
        token = c.hello["resume_token"]
    with resumed(live.url, token) as c:
        again = c.until("frame")
        assert again["diverged"] is True
        c.send(type="seek", step=1)
        after = c.until("frame")  # (an `error` on the way fails here)
        assert after["step"] == again["step"] and after["viewing"] is None, after
