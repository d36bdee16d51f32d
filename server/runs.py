"""A run as one JSON object: config, weights and history (``export`` / ``import``,
``bpviz train --out``)."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import numpy as np

from bpviz.core.data.datasets import DataError
from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.experiment import Experiment
from bpviz.server.owndata import CsvFile, build, csv_hash

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


def _pack(a: np.ndarray) -> dict[str, Any]:
    """An array, exactly: ``{"dtype", "shape", "data": base64 of its little-endian bytes}``
    (the run's readable numbers carry 6 digits; the state must carry every bit)."""
    a = np.ascontiguousarray(a)
    le = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return {
        "dtype": a.dtype.name,
        "shape": list(a.shape),
        "data": base64.b64encode(le.tobytes()).decode(),
    }


def _unpack(obj: Any, what: str) -> np.ndarray:
    if not isinstance(obj, dict) or obj.get("dtype") not in ("float64", "float32"):
        raise RunError(f"{what}: expected an array object with dtype float64 or float32")
    shape = obj.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 10_000_000 for n in shape
    ):
        raise RunError(f"{what}: bad shape")
    try:
        raw = base64.b64decode(str(obj.get("data", "")), validate=True)
        arr = np.frombuffer(raw, dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
        return arr.reshape(shape).astype(np.dtype(obj["dtype"]))
    except (ValueError, TypeError) as exc:
        raise RunError(f"{what}: {exc}") from None


def _export_state(state: dict[str, Any]) -> dict[str, Any]:
    opt = state["optimizer"]
    return {
        "steps_done": state["steps_done"],
        "current_epoch": state["current_epoch"],
        "perm": [int(i) for i in state["perm"]],
        "pos": state["pos"],
        # bit-generator states hold 128-bit integers: a JSON string keeps them exact
        "order_rng": json.dumps(state["order_rng"]),
        "dropout_rng": json.dumps(state["dropout_rng"]),
        "params": _pack(state["params"]),
        "bn": [
            None if e is None else {k: _pack(np.asarray(v)) for k, v in e.items()}
            for e in state["bn"]
        ],
        "optimizer": {
            "name": opt["name"],
            "t": opt["t"],
            "slots": {str(k): [_pack(a) for a in arrays] for k, arrays in opt["slots"].items()},
        },
        "diverged": state["diverged"],
    }


def _import_state(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RunError("state must be an object", "run.state")
    try:
        opt = obj["optimizer"]
        slots = opt["slots"]
        if not isinstance(slots, dict) or not all(isinstance(v, list) for v in slots.values()):
            raise RunError("state.optimizer.slots must map slots to lists", "run.state")
        bn = obj["bn"]
        if not isinstance(bn, list):
            raise RunError("state.bn must be a list", "run.state")
        perm = obj["perm"]
        if not isinstance(perm, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in perm
        ):
            raise RunError("state.perm must be a list of integers", "run.state")
        ints = [obj[k] for k in ("steps_done", "current_epoch", "pos")] + [opt["t"]]
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints):
            raise RunError("state: steps_done, current_epoch, pos and t are counts", "run.state")
        return {
            "steps_done": obj["steps_done"],
            "current_epoch": obj["current_epoch"],
            "perm": np.asarray(perm, dtype=np.intp),
            "pos": obj["pos"],
            "order_rng": json.loads(obj["order_rng"]),
            "dropout_rng": json.loads(obj["dropout_rng"]),
            "params": _unpack(obj["params"], "state.params"),
            "bn": [
                None if e is None else {k: _unpack(v, "state.bn") for k, v in dict(e).items()}
                for e in bn
            ],
            "optimizer": {
                "name": opt["name"],
                "t": opt["t"],
                "slots": {
                    int(k): [_unpack(a, "state.optimizer") for a in v] for k, v in slots.items()
                },
            },
            "diverged": bool(obj.get("diverged", False)),
        }
    except RunError as exc:
        exc.field = exc.field or "run.state"
        raise
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise RunError(f"state: {exc!r}", "run.state") from None


def run_csv(run: dict[str, Any]) -> CsvFile | None:
    """The CSV a run carries (``data_csv``), checked against its hash; None if none."""
    obj = run.get("data_csv")
    if obj is None:
        return None
    if not isinstance(obj, dict) or not all(
        isinstance(obj.get(k), str) for k in ("hash", "name", "text")
    ):
        raise RunError("data_csv must be {hash, name, text} (strings)", "run.data_csv")
    if csv_hash(obj["text"]) != obj["hash"]:
        raise RunError("data_csv: the text does not match its hash", "run.data_csv")
    return CsvFile(obj["hash"], obj["name"][:200], obj["text"])


def run_config(run: dict[str, Any]) -> core_config.Config:
    """The validated config of a run (a CSV one checked against the CSV it carries)."""
    config = build_run_experiment(run).config
    assert isinstance(config, core_config.Config)
    return config


def build_run_experiment(run: dict[str, Any]) -> Experiment:
    """The run's experiment as its config builds it (fresh weights)."""
    csv = run_csv(run)
    files = {csv.hash: csv} if csv is not None else {}
    try:
        return build(run.get("config", {}), files)
    except DataError as exc:
        raise RunError(f"data_csv: {exc.message}", "run.data_csv") from None


def export_run(exp: Experiment, csv: CsvFile | None = None) -> dict[str, Any]:
    """The run file of ``bpviz train --out`` and of the ``export`` message: config,
    weights (``W`` (n_l, n_{l-1}), ``b`` (n_l,) per layer), history and metrics; the
    exact training ``state`` (weights, optimizer moments, batch order and position, RNG
    states: importing it and stepping gives the numbers the original would have given);
    and, for a CSV data set, the CSV itself (``data_csv``)."""
    config = current_config(exp)
    out = {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "config": core_config.to_dict(config),
        "history": exp.history.to_dict(),
        "weights": [{"W": W, "b": b} for W, b in exp.network.get_weights()],
        # γ and the running statistics of BatchNorm layers (null for the others)
        "batchnorm": exp.network.get_bn_state(),
        "metrics": metrics(exp),
        "state": _export_state(exp.get_state()),
    }
    if config.data.name == "csv" and csv is not None:
        out["data_csv"] = csv.to_dict()
    return out


def import_run(run: dict[str, Any]) -> Experiment:
    """Rebuild the experiment of an exported run and load its weights (and, when the run
    has one, its exact training state and history)."""
    if run.get("format") != RUN_FORMAT:
        raise RunError(f"not a bpviz run (format must be {RUN_FORMAT!r})", "run.format")
    if run.get("version") != RUN_VERSION:
        raise RunError(f"unsupported run version {run.get('version')!r}", "run.version")
    exp = build_run_experiment(run)
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
    if run.get("state") is not None:
        state = _import_state(run["state"])
        try:
            exp.set_state(state)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise RunError(f"state: {exc}", "run.state") from None
        history = run.get("history")
        if isinstance(history, dict):
            try:
                exp.history.load(history, state["steps_done"])
            except (ValueError, TypeError) as exc:
                raise RunError(str(exc), "run.history") from None
    return exp
