"""A run as one JSON object: config, weights and history (``export`` / ``import``,
``bpviz train --out``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bpviz.core import config as core_config
from bpviz.core.experiment import Experiment

RUN_FORMAT = "bpviz-run"
RUN_VERSION = 1


class RunError(ValueError):
    """An imported run is malformed; ``field`` names where."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def current_config(exp: Experiment) -> core_config.Config:
    """The experiment's config with the live training settings."""
    config = exp.config
    assert isinstance(config, core_config.Config)
    return dataclasses.replace(config, training=exp.training)


def metrics(exp: Experiment) -> dict[str, Any]:
    """Loss and accuracy (or R²) on the train and test sets, steps run, diverged or not."""
    out: dict[str, Any] = exp.evaluate().to_dict()
    out["steps_done"] = exp.steps_done
    out["diverged"] = exp.diverged
    return out


def export_run(exp: Experiment) -> dict[str, Any]:
    """The run file of ``bpviz train --out`` and of the ``export`` message: config,
    weights (``W`` (n_l, n_{l-1}), ``b`` (n_l,) per layer), history and metrics."""
    return {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "config": core_config.to_dict(current_config(exp)),
        "history": exp.history.to_dict(),
        "weights": [{"W": W, "b": b} for W, b in exp.network.get_weights()],
        # γ and the running statistics of BatchNorm layers (null for the others)
        "batchnorm": exp.network.get_bn_state(),
        "metrics": metrics(exp),
    }


def import_run(run: dict[str, Any]) -> Experiment:
    """Rebuild the experiment of an exported run and load its weights."""
    if run.get("format") != RUN_FORMAT:
        raise RunError(f"not a bpviz run (format must be {RUN_FORMAT!r})", "run.format")
    if run.get("version") != RUN_VERSION:
        raise RunError(f"unsupported run version {run.get('version')!r}", "run.version")
    config = core_config.validate(run.get("config", {}))
    exp = Experiment.from_config(config)
    weights = run.get("weights")
    if not isinstance(weights, list):
        raise RunError("weights must be a list of {W, b} per layer", "run.weights")
    pairs = []
    for i, layer in enumerate(weights):
        if not isinstance(layer, dict) or "W" not in layer or "b" not in layer:
            raise RunError(f"layer {i + 1} must be an object with W and b", f"run.weights.{i}")
        try:
            W = np.asarray(layer["W"], dtype=float)
            b = np.asarray(layer["b"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise RunError(f"layer {i + 1}: weights must be numbers", f"run.weights.{i}") from exc
        pairs.append((W, b))
    try:
        exp.network.set_weights(pairs)
    except ValueError as exc:
        raise RunError(str(exc), "run.weights") from exc
    bn = run.get("batchnorm")
    if bn is not None:
        if not isinstance(bn, list) or not all(e is None or isinstance(e, dict) for e in bn):
            raise RunError("batchnorm must be a list of objects or nulls", "run.batchnorm")
        try:
            exp.network.set_bn_state(bn)
        except (ValueError, TypeError) as exc:
            raise RunError(str(exc), "run.batchnorm") from exc
    return exp
