"""The worker side of a session: building, rewinding, training, the messages it encodes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpviz.core.experiment import config as core_config
from bpviz.server import encode
from bpviz.server.settings import Settings
from bpviz.server.workspace import Workspace


@pytest.fixture
def work() -> Workspace:
    w = Workspace(Settings())
    w.start()
    return w


def frame(work: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(work.frame_text())
    return out


def test_configure_resets_the_view_and_a_bad_config_changes_nothing(work: Workspace) -> None:
    work.view.focus = 5
    work.configure({"data": {"name": "xor"}})
    assert work.view.focus == 0 and work.exp.config.data.name == "xor"
    before = work.exp
    with pytest.raises(core_config.ConfigError):
        work.configure({"network": {"hidden": [{"units": 10**6}]}})
    assert work.exp is before


def test_seek_shows_a_past_step_and_training_goes_on_from_it(work: Workspace) -> None:
    for _ in range(6):
        work.advance("step", 1)
    work.seek(3)
    assert work.view.viewing == 3 and frame(work)["step"] == 3
    w3 = frame(work)["layers"][0]["W"]
    work.seek(None)
    assert work.view.viewing is None and frame(work)["step"] == 6
    work.seek(3)
    work.branch()
    assert work.view.viewing is None and work.exp.steps_done == 3
    assert frame(work)["layers"][0]["W"] == w3
    assert work.rewind_range()["last"] == 3


def test_set_training_is_validated_and_recorded(work: Workspace) -> None:
    work.set_training({"learning_rate": 0.5})
    assert work.exp.training.learning_rate == 0.5
    with pytest.raises(core_config.ConfigError):
        work.set_training({"learning_rate": -1})
    assert work.exp.training.learning_rate == 0.5
    assert frame(work)["hyper"]["learning_rate"] == 0.5


def test_advance_works_in_time_slices(work: Workspace) -> None:
    work.configure({"training": {"batch_size": 1}})
    left = work.advance("epoch", 1000)
    assert 0 < left < 1000  # one slice (8 ms) is far from 1000 epochs
    assert work.advance("phase", 3) == 0 and work.exp.cursor == 3


def test_train_stops_at_max_steps_or_the_loss(work: Workspace) -> None:
    assert work.train(10.0, 5, None, fast=True) == (5, None)
    steps, stopped = work.train(10.0, None, 10.0, fast=False)
    assert (steps, stopped) == (1, "loss")


def test_grids_follow_the_option(work: Workspace) -> None:
    assert work.grid_text() is not None
    work.view.grids = False
    assert work.grid_text() is None


def gradcheck(work: Workspace, n: int) -> dict[str, Any]:
    run = work.gradcheck_start(n, 0.03)
    while not run.run(0.03):
        pass
    out: dict[str, Any] = json.loads(work.gradcheck_text(run))
    return out


def test_gradcheck_and_scaling_answers(work: Workspace) -> None:
    result = gradcheck(work, 8)
    assert result["type"] == "gradcheck" and result["result"]["max_rel_error"] < 1e-6
    assert result["result"]["n_checked"] == work.exp.n_params
    work.configure({"network": {"hidden": [{"units": 64}] * 2}})
    big = gradcheck(work, 1024)["result"]
    assert big["n_checked"] < big["n_params"]  # a seeded sample within the budget
    points = work.scaling_point(300, 0.02)
    assert len(points) == 1 and points[0]["n_timed"] > 0
    sent = json.loads(work.scaling_text(points))["points"]
    assert [p["n_params"] for p in sent] == [p["n_params"] for p in points]


def export(work: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(encode.dumps(work.export_snapshot()))
    return out


def test_export_and_import(work: Workspace) -> None:
    work.advance("step", 4)
    run = export(work)
    work.reset()
    assert work.exp.steps_done == 0
    parsed, needed = work.parse_run(run)
    assert needed.total < 4 * 2**20
    work.import_run(run, parsed)
    assert work.exp.steps_done == 4 and work.view.viewing is None
    assert export(work)["weights"] == run["weights"]
    assert work.memory == work.estimate(work.exp.config).total


def test_a_command_ends_on_a_measured_point(work: Workspace) -> None:
    work.exp.eval_budget = 0.0  # no evaluation but those a command asks for
    left = work.advance("step", 7)  # in slices of 8 ms: a loaded machine may need two
    while left:
        assert not work.unfinished
        left = work.advance("step", left)
    assert work.unfinished
    work.frame_text()  # the frame that ends the command measures first
    points = work.exp.history_since(0, None)["points"]
    assert points["step"][-1] == 7 and points["train_loss"][-1] is not None
    assert points["batch_loss"][-2] is not None  # the step itself; then its evaluation


def test_the_memory_estimate_follows_the_training_settings(work: Workspace) -> None:
    before = work.memory
    patch = core_config.TrainingPatch.model_validate({"batch_size": 200, "optimizer": "adam"})
    bigger = work.estimate_training(patch)
    assert bigger.total > before
    work.set_training(patch)
    assert work.batch_sizes == {10, 200}


def test_a_past_step_shows_the_learning_rate_it_used(work: Workspace) -> None:
    for _ in range(3):
        work.advance("step", 1)
    work.set_training({"learning_rate": 0.5})
    for _ in range(3):
        work.advance("step", 1)
    assert frame(work)["hyper"]["learning_rate"] == 0.5
    work.seek(2)
    assert frame(work)["hyper"]["learning_rate"] == 0.03  # not today's η
    work.seek(None)
    assert frame(work)["hyper"]["learning_rate"] == 0.5
