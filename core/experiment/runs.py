"""A run as one JSON object: config, weights, history and the exact training state
(``bpviz train --out``, the ``export`` / ``import`` messages, the HTML report).

:class:`RunFile` is the format, checked in one place: an imported run is parsed by it
(every counter, array and string in range, with a field path when not), its config by
:func:`~.config.validate`, and its experiment comes from the one build path. Every
refusal is a :class:`~.run_errors.RunError` naming the field, with every problem and
the check that refused it (``run_errors.py``; importable from here too); or a
:class:`~.config.ConfigError` for the config itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from ..data.csv import CsvFile, DataError, csv_hash
from ..engine import registry
from .build import build
from .config import Config, TrainingConfig, to_dict, validate
from .errors import FieldError, coded_error, field_errors
from .experiment import Experiment
from .fields import Choice, Flag, Text, to_int
from .run_errors import RUN_REASONS, RunError, reasons_table, refused

if TYPE_CHECKING:
    from .rewind import Checkpoint

__all__ = [
    "RUN_FORMAT",
    "RUN_REASONS",
    "RUN_VERSION",
    "RunError",
    "RunFile",
    "current_config",
    "export_checkpoints",
    "export_run",
    "import_checkpoints",
    "import_run",
    "metrics",
    "reasons_table",
    "run_csv",
]

RUN_FORMAT = "bpviz-run"
RUN_VERSION = 1
MAX_COUNT = 2**53 - 1  # steps, epochs, positions: exact in JSON and in the page
MAX_DIM = 10_000_000  # one side of a packed array
EXPORT_CACHE_BYTES = 64 * 1024  # a checkpoint this small keeps its snapshot entry

Count = Annotated[int, Field(ge=0, le=MAX_COUNT), BeforeValidator(to_int)]
Dim = Annotated[int, Field(ge=0, le=MAX_DIM), BeforeValidator(to_int)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PackedArray(_Part):
    """An array, exactly: ``{"dtype", "shape", "data": base64 of its little-endian bytes}``
    (the readable ``weights`` carry 6 digits; the state must carry every bit)."""

    dtype: Literal["float64", "float32"]
    shape: list[Dim]
    data: Text
    _array: npt.NDArray[Any] = PrivateAttr()

    @model_validator(mode="after")
    def _decode(self) -> PackedArray:
        try:
            raw = base64.b64decode(self.data, validate=True)
            arr = np.frombuffer(raw, dtype=np.dtype(self.dtype).newbyteorder("<"))
            self._array = arr.reshape(self.shape).astype(np.dtype(self.dtype))
        except (ValueError, TypeError) as exc:
            message = f"not an array of that shape: {exc}"
            raise coded_error(
                "invalid_run",
                message,
                reason="array",
                detail=str(exc),
                dtype=self.dtype,
                shape=list(self.shape),
            ) from None
        return self

    @property
    def array(self) -> npt.NDArray[Any]:
        """The decoded array (native byte order)."""
        return self._array

    @staticmethod
    def pack(a: npt.NDArray[Any]) -> dict[str, Any]:
        """``a`` as the JSON object this model reads."""
        a = np.ascontiguousarray(a)
        le = a.astype(a.dtype.newbyteorder("<"), copy=False)
        return {
            "dtype": a.dtype.name,
            "shape": list(a.shape),
            "data": base64.b64encode(le.tobytes()).decode(),
        }


class OptimizerState(_Part):
    """The optimizer's step count ``t`` and its state arrays per parameter slot."""

    name: Annotated[str, Choice(registry.OPTIMIZERS)]
    t: Count
    slots: dict[Annotated[int, Field(ge=0, le=MAX_DIM)], list[PackedArray]]


class RunState(_Part):
    """The exact training state (``Stepper.get_state``): counters, the epoch's order, the
    RNG states (JSON strings: they hold 128-bit integers), parameters, BatchNorm
    statistics and the optimizer's moments."""

    steps_done: Count
    current_epoch: Count
    perm: list[Count]
    pos: Count
    order_rng: Text
    dropout_rng: Text
    params: PackedArray
    bn: list[dict[str, PackedArray] | None]
    optimizer: OptimizerState
    diverged: Flag = False

    def engine_state(self) -> dict[str, Any]:
        """What ``Experiment.set_state`` loads."""
        try:
            order_rng, dropout_rng = json.loads(self.order_rng), json.loads(self.dropout_rng)
        except (ValueError, RecursionError) as exc:
            raise RunError(
                f"state: an RNG state is not JSON: {exc}",
                "run.state",
                reason="rng",
                detail=str(exc),
            ) from None
        return {
            "steps_done": self.steps_done,
            "current_epoch": self.current_epoch,
            "perm": np.asarray(self.perm, dtype=np.intp),
            "pos": self.pos,
            "order_rng": order_rng,
            "dropout_rng": dropout_rng,
            "params": self.params.array,
            "bn": [None if e is None else {k: v.array for k, v in e.items()} for e in self.bn],
            "optimizer": {
                "name": self.optimizer.name,
                "t": self.optimizer.t,
                "slots": {k: [a.array for a in v] for k, v in self.optimizer.slots.items()},
            },
            "diverged": self.diverged,
        }


class LayerWeights(_Part):
    """One layer's readable weights: ``W`` (n_l, n_{l-1}) and ``b`` (n_l,)."""

    W: list[list[float]]
    b: list[float]


class CsvData(_Part):
    """The CSV a run on own data carries: ``{hash, name, text}``, the hash its text's."""

    hash: Text
    name: Text
    text: Text

    @model_validator(mode="after")
    def _hash_matches(self) -> CsvData:
        if csv_hash(self.text) != self.hash:
            raise coded_error(
                "invalid_run", "the text does not match its hash", reason="hash", hash=self.hash
            )
        return self

    def file(self) -> CsvFile:
        return CsvFile(self.hash, self.name[:200], self.text)


def _no_bool(value: Any) -> Any:
    """A JSON ``true`` is not the number 1 (Python's ``True == 1`` would let it pass)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


class RunFile(_Part):
    """A run file (docs/protocol.md): ``format`` and ``version``, the ``config`` (checked
    by ``config.validate``), readable ``weights`` and ``batchnorm`` statistics,
    ``history`` and ``metrics`` (kept as they are: the report draws what it can), the
    exact ``state`` and, for own data, ``data_csv``."""

    format: Literal["bpviz-run"]
    version: Annotated[Literal[1], BeforeValidator(_no_bool)]  # not `true`, which equals 1
    config: Any = Field(default_factory=dict)
    weights: list[LayerWeights]
    batchnorm: list[dict[str, list[float]] | None] | None = None
    history: Any = None
    metrics: Any = None
    state: RunState | None = None
    data_csv: CsvData | None = None


def parse_run(run: object) -> RunFile:
    """``run`` checked as a :class:`RunFile`; raises :class:`RunError` naming the first
    bad field (``run.<path>``), with every problem in its message."""
    try:
        return RunFile.model_validate(run)
    except ValidationError as exc:
        errors = field_errors(exc, "run", RunFile)
        message = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise refused(message, errors[0].field, errors) from None


def run_csv(run: object) -> CsvFile | None:
    """The CSV a run carries (``data_csv``), checked against its hash; None if none."""
    csv = run.get("data_csv") if isinstance(run, dict) else None
    if csv is None:
        return None
    try:
        return CsvData.model_validate(csv).file()
    except ValidationError as exc:
        errors = field_errors(exc, "run.data_csv", CsvData)
        message = "; ".join(e.message for e in errors)
        raise refused(message, "run.data_csv", errors) from None


def current_config(exp: Experiment) -> Config:
    """The experiment's config with the live training settings: ``exp.config``."""
    return exp.config


def metrics(exp: Experiment) -> dict[str, Any]:
    """Loss and accuracy (or R²) on the train and test sets, steps run, diverged or not."""
    out: dict[str, Any] = exp.evaluate().to_dict()
    out["steps_done"] = exp.steps_done
    out["diverged"] = exp.diverged
    return out


def _export_state(state: dict[str, Any]) -> dict[str, Any]:
    opt = state["optimizer"]
    pack = PackedArray.pack
    return {
        "steps_done": state["steps_done"],
        "current_epoch": state["current_epoch"],
        "perm": np.asarray(state["perm"]).tolist(),
        "pos": state["pos"],
        "order_rng": json.dumps(state["order_rng"]),
        "dropout_rng": json.dumps(state["dropout_rng"]),
        "params": pack(state["params"]),
        "bn": [
            None if e is None else {k: pack(np.asarray(v)) for k, v in e.items()}
            for e in state["bn"]
        ],
        "optimizer": {
            "name": opt["name"],
            "t": opt["t"],
            "slots": {str(k): [pack(a) for a in arrays] for k, arrays in opt["slots"].items()},
        },
        "diverged": state["diverged"],
    }


def export_run(exp: Experiment, csv: CsvFile | None = None) -> dict[str, Any]:
    """The run file of ``bpviz train --out`` and of the ``export`` message: config,
    weights (``W`` (n_l, n_{l-1}), ``b`` (n_l,) per layer, numpy arrays), history and
    metrics; the exact training ``state`` (weights, optimizer moments, batch order and
    position, RNG states: importing it and stepping gives the numbers the original would
    have given); and, for a CSV data set, the CSV itself (``data_csv``)."""
    config = exp.config
    out = {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "config": to_dict(config),
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


def export_checkpoints(checkpoints: Iterable[Checkpoint]) -> list[dict[str, Any]]:
    """Rewind checkpoints (``Rewind.recent``) as a snapshot keeps them: ``[{"training",
    "state"}]``, each state exact as the run's own ``state``. A checkpoint of at most
    ``EXPORT_CACHE_BYTES`` keeps its entry (``Checkpoint.exported``, to be read, never
    changed): a playing session's next snapshot writes mostly the same checkpoints."""
    out = []
    for cp in checkpoints:
        entry = cp.exported
        if entry is None:
            entry = {"training": cp.training.model_dump(), "state": _export_state(cp.state())}
            if cp.nbytes <= EXPORT_CACHE_BYTES:
                cp.exported = entry
        out.append(entry)
    return out


def import_checkpoints(entries: object) -> list[tuple[dict[str, Any], TrainingConfig]]:
    """What :func:`export_checkpoints` wrote, as ``(state, training)`` for
    ``Rewind.resume``; raises :class:`RunError` when it is not that."""
    if not isinstance(entries, list):
        raise RunError("rewind: must be a list", "run.rewind", reason="mismatch")
    out = []
    for i, entry in enumerate(entries):
        try:
            state = RunState.model_validate(entry["state"]).engine_state()
            training = TrainingConfig.model_validate(entry["training"])
        except (ValidationError, TypeError, KeyError, RunError) as exc:
            message = f"rewind[{i}]: not a checkpoint: {exc}"
            raise RunError(message, f"run.rewind.{i}", reason="mismatch") from None
        out.append((state, training))
    return out


def import_run(run: object) -> Experiment:
    """Rebuild the experiment of an exported run and load its weights (and, when the run
    has one, its exact training state and history).

    Raises:
        RunError: the run file is malformed, or does not fit its own config.
        ConfigError: its config is invalid (``unknown_csv`` for a CSV it does not carry).
    """
    parsed = parse_run(run)
    config = validate(parsed.config)
    csv = {parsed.data_csv.hash: parsed.data_csv.file()} if parsed.data_csv else None
    try:
        exp = build(config, csv)
    except DataError as exc:
        problem = FieldError("run.data_csv", exc.message, exc.code, exc.params)
        raise RunError(
            f"data_csv: {exc.message}", "run.data_csv", [problem], reason="data", code=exc.code
        ) from None
    _load(exp, parsed)
    return exp


def _load(exp: Experiment, run: RunFile) -> None:
    """Load the run's weights, BatchNorm statistics, state and history into ``exp``."""
    where = "run.weights"
    try:
        exp.network.set_weights([(layer.W, layer.b) for layer in run.weights])
        if run.batchnorm is not None:
            where = "run.batchnorm"
            exp.network.set_bn_state(run.batchnorm)
        if run.state is not None:
            where = "run.state"
            exp.set_state(run.state.engine_state())
            if run.history is not None:  # null: a run without its history
                where = "run.history"
                if not isinstance(run.history, dict):
                    raise ValueError("history: must be an object (or null)")
                exp.history.load(run.history, run.state.steps_done, exp.network.n_layers)
    except RunError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        part, detail = where.removeprefix("run."), str(exc)
        # the part named once ("history: steps must rise", not "history: history: …")
        message = detail if detail.startswith(f"{part}:") else f"{part}: {detail}"
        raise RunError(message, where, reason="mismatch", detail=detail) from None
