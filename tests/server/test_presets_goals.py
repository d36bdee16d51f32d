"""Every worked example reaches its stated goal (frontend/static/presets/lessons.json).

The page's "Worked examples" menu reads the same file: each lesson's config is merged
over the server's default config section by section (``overConfig`` in
frontend/static/js/shared/state.js, mirrored by :func:`merged`), built with the one build
path and trained with the engine for the goal's number of steps from its seed. A lesson
of kind "reach" must then meet every expectation (and still meet it after twice as many
steps: the fit does not fall apart while the class keeps watching); a lesson of kind
"fail" shows what cannot be learned, and must fail as stated.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import default_config, to_dict, validate

LESSONS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "presets" / "lessons.json"
METRICS = {"train_loss", "test_loss", "train_acc", "test_acc", "train_r2", "test_r2"}


def lessons() -> list[dict[str, Any]]:
    doc: dict[str, Any] = json.loads(LESSONS.read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = doc["lessons"]
    return out


def merged(defaults: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """``partial``'s sections over ``defaults`` key by key; anything else (the seed) replaced."""
    config = copy.deepcopy(defaults)
    for section, values in partial.items():
        if isinstance(values, dict):
            config[section] = {**config[section], **copy.deepcopy(values)}
        else:
            config[section] = copy.deepcopy(values)
    return config


def unmet(metrics: dict[str, Any], expect: list[dict[str, Any]]) -> list[str]:
    """The expectations ``metrics`` do not meet, as readable lines."""
    out = []
    for e in expect:
        value = metrics[e["metric"]]
        if value is None or not np.isfinite(value):
            out.append(f"{e['metric']} is {value}")
        elif "min" in e and value < e["min"]:
            out.append(f"{e['metric']} = {value:.4f} < {e['min']}")
        elif "max" in e and value > e["max"]:
            out.append(f"{e['metric']} = {value:.4f} > {e['max']}")
    return out


def test_the_file_is_well_formed() -> None:
    ids = [lesson["id"] for lesson in lessons()]
    assert ids == ["xor", "xor_linear", "square", "house", "digits", "by_hand"]
    assert len(set(ids)) == len(ids)
    for lesson in lessons():
        goal = lesson["goal"]
        assert goal["kind"] in ("reach", "fail"), lesson["id"]
        assert isinstance(goal["steps"], int) and 0 < goal["steps"] <= 5000, lesson["id"]
        assert goal["expect"], lesson["id"]
        for e in goal["expect"]:
            assert e["metric"] in METRICS, (lesson["id"], e)
            assert ("min" in e) != ("max" in e), (lesson["id"], e)
        assert set(lesson) <= {"id", "config", "goal", "ui"}, lesson["id"]


@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson["id"])
def test_each_worked_example_reaches_its_goal(lesson: dict[str, Any]) -> None:
    config = validate(merged(to_dict(default_config()), lesson["config"]))
    exp = build(config)
    goal = lesson["goal"]
    exp.run_steps(goal["steps"])
    assert exp.steps_done == goal["steps"] and not exp.diverged
    problems = unmet(exp.metrics(), goal["expect"])
    assert not problems, f"{lesson['id']} after {goal['steps']} steps: {problems}"
    if goal["kind"] == "reach":
        exp.run_steps(goal["steps"])
        problems = unmet(exp.metrics(), goal["expect"])
        assert not problems, f"{lesson['id']} after {2 * goal['steps']} steps: {problems}"


def test_square_is_a_1_2_1_relu_net_with_both_hinges_alive() -> None:
    """y = x² is the lesson of two ReLU hinges: both units stay alive and bend the line on
    opposite sides (a dead unit, or two hinges facing the same way, is a flat half-fit)."""
    (lesson,) = [x for x in lessons() if x["id"] == "square"]
    config = validate(merged(to_dict(default_config()), lesson["config"]))
    assert [(h.units, h.activation) for h in config.network.hidden] == [(2, "relu")]
    exp = build(config)
    exp.run_steps(lesson["goal"]["steps"])
    X = np.linspace(-1.0, 1.0, 201)[:, None]
    hidden = exp.activations(X)[1]  # (201, 2)
    active = hidden > 0
    assert active.any(axis=0).all(), "a ReLU unit is dead on the whole input range"
    # One unit carries the left arm of the parabola, the other the right one.
    left, right = active[:50].any(axis=0), active[-50:].any(axis=0)
    assert (left & ~right).any() and (right & ~left).any(), active.sum(axis=0)
