"""Memory budgets: what a session will cost, estimated from its config before anything is
built, and the check against the per-session and the server-wide budget.

:func:`estimate` adds up, from the config and the shape of its data alone (no data
loaded, no network built): the network's arrays (parameters, gradients, updates, the
decay mask and the optimizer's state), the work buffers of every cached batch size
(``z``, ``a``, ``f′``, ``δ``, dropout masks, BatchNorm's, the gradient passed down),
the data set, the history, the rewind buffer (capped by ``rewind_bytes``), and the
largest passing need: an evaluation on the train and test sets, a decision-boundary
grid, a checkpoint being taken, and an ``export`` or a gradient check in progress. It
is calibrated against tracemalloc peaks of real sessions (``tests/server/test_budget.py``
asserts it stays an upper bound) and errs on the high side.

A config over ``session_memory_bytes`` is refused with :class:`MemoryBudgetError`
(code ``too_much_memory``, ``params`` {needed, budget, setting}); so is one that would
take the sum of all live sessions' estimates past ``total_memory_bytes``. A new
connection is refused (close 1013) when the default session would not fit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bpviz.core.data.csv import MAX_CLASSES, CsvFile
from bpviz.core.engine import registry
from bpviz.core.experiment.config import Config, n_params, validate
from bpviz.core.experiment.errors import json_value
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.limits import LIMITS
from bpviz.core.experiment.rewind import MAX_SPAN, OVERHEAD
from bpviz.core.experiment.runs import RunError, RunFile, parse_run, run_csv

from .protocol import CommandError
from .settings import Settings

__all__ = [
    "DataShape",
    "Estimate",
    "MemoryBudgetError",
    "check_counters",
    "data_shape",
    "estimate",
    "export_bytes_bound",
    "message_limit",
    "mib",
    "run_estimate",
    "utf8_size",
]

FIXED = 768 * 1024  # a session's Python objects: websocket, experiment, history, outbox…
EVAL_MAX = Experiment.eval_max  # examples per set an evaluation runs on
GRID_POINTS = 48 * 48 + 20 * 20  # a 2-D grid and the thumbnails (curves: fewer)
HISTORY_POINTS = 2000  # points the history keeps at most
CACHED_BATCHES = 4  # batch sizes a layer keeps work buffers for (the engine's cap)
OPT_STATE = {"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
EXPORT_PER_PARAM = 64  # bytes of text and Python objects per parameter while exporting
GRADCHECK_PER_PARAM = 96  # a float64 copy of the network, its longdouble params, the grads
GRADCHECK_PER_ROW = 96  # per example and unit: longdouble z and a, float64 batch buffers
MARGIN = 1.15  # on the sum: Python objects, NumPy temporaries, allocator slack


def mib(n: float) -> str:
    """``n`` bytes as "12.3 MiB"."""
    return f"{n / 2**20:,.1f} MiB"


class MemoryBudgetError(CommandError):
    """A config would take a session or the server past its memory budget.

    Attributes:
        code: ``"too_much_memory"``; field: the config key that sized it most.
        params: ``{"needed", "budget", "setting"}`` in bytes; ``setting`` names the budget
            (``session_memory_bytes`` or ``total_memory_bytes``), with ``available``
            for the server-wide one.
    """

    code = "too_much_memory"


@dataclass(frozen=True)
class DataShape:
    """What the memory of a data set and its network depends on (upper bounds for a CSV
    not loaded yet): examples in all, in the training set, inputs and outputs."""

    n_samples: int
    n_train: int
    n_in: int
    n_out: int


def data_shape(config: Config, csvs: Mapping[str, CsvFile] | None = None) -> DataShape:
    """The shape of the data ``config`` names, without loading it: a built-in set's from
    the registry; an uploaded CSV's from its text (rows and columns, every column but
    one an input, at most ``MAX_CLASSES`` outputs) — an upper bound."""
    data = config.data
    if data.name in registry.DATASETS:
        info = registry.DATASETS[data.name]
        n = min(data.samples, info.max_samples)
        n_in, n_out = info.n_in, info.n_out
    else:
        file = csvs.get(data.csv) if csvs is not None else None
        text = file.text if file is not None else ""
        lines = [line for line in text.splitlines() if line.strip()]
        n = max(1, len(lines) - 1)
        header = lines[0] if lines else ""
        n_cols = max(header.count(",") + 1, header.count(";") + 1, header.count("\t") + 1)
        n_in = max(1, n_cols - 1)
        n_out = 1 if data.task == "regression" else MAX_CLASSES
    n_test = round(n * data.test_fraction)
    return DataShape(n, max(1, n - n_test), n_in, n_out)


FIELDS = {  # the config key that sizes each part most
    "network": "network.hidden",
    "batches": "training.batch_size",
    "data": "data.samples",
    "rewind": "network.hidden",
    "passing": "network.hidden",
    "csv": "data.csv",
}


@dataclass(frozen=True)
class Estimate:
    """A session's memory by part (bytes); ``total`` is what the budgets compare."""

    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @property
    def field(self) -> str:
        """The config key behind the largest part (where a refusal points)."""
        sized = {k: v for k, v in self.parts.items() if k in FIELDS}
        return FIELDS[max(sized, key=sized.__getitem__)]


def _rows(batch_sizes: Iterable[int], n_train: int) -> int:
    """Rows of work buffers: each batch size used (capped by the training set) and the
    smaller last batch of an epoch; the layers keep at most ``CACHED_BATCHES`` sizes."""
    sizes: set[int] = set()
    for b in batch_sizes:
        b = max(1, min(int(b), n_train))
        sizes.add(b)
        if n_train % b:
            sizes.add(n_train % b)
    return sum(sorted(sizes, reverse=True)[:CACHED_BATCHES])


def estimate(
    config: Config,
    shape: DataShape,
    settings: Settings,
    batch_sizes: Iterable[int] = (),
    csv_bytes: int = 0,
) -> Estimate:
    """The memory a session running ``config`` on data of ``shape`` may use (bytes, an
    upper bound). ``batch_sizes``: other batch sizes this experiment has used (their
    buffers stay cached); ``csv_bytes``: the text of the CSV files the session keeps."""
    net, training = config.network, config.training
    d = 4 if net.dtype == "float32" else 8
    widths = [shape.n_in, *(h.units for h in net.hidden), shape.n_out]
    P = n_params(shape.n_in, net.hidden, shape.n_out, net.batchnorm)
    slots = OPT_STATE.get(training.optimizer, 2)
    opt = slots + 1 if slots else 0  # a scratch array besides the state
    # rewind: checkpoints of the state (the batch order shared within an epoch), one more
    # while the oldest is dropped; at most 600 of them, spanning at most MAX_SPAN steps
    checkpoint = OVERHEAD + P * d * (1 + slots)
    order = shape.n_train * 8
    per_epoch = -(-shape.n_train // max(1, min(training.batch_size, shape.n_train)))
    orders = order * min(600, -(-MAX_SPAN // per_epoch) + 1)
    rewind = min(settings.rewind_bytes, 600 * checkpoint + orders) + checkpoint + order

    per_row = 0  # floats of work buffers per example of a batch
    for i, n in enumerate(widths[1:], start=1):
        hidden = i < len(widths) - 1
        per_row += 5 * n + (widths[i - 1] if i > 1 else 0)  # z, a_raw, a, f′, δ; ∂L/∂a_prev
        if hidden and net.dropout > 0:
            per_row += n  # the mask
        if hidden and net.batchnorm:
            per_row += 4 * n  # ẑ, z_bn, scratch, ∂ℓ/∂z
    rows = _rows([training.batch_size, *batch_sizes], shape.n_train)
    batches = rows * (per_row + shape.n_in + shape.n_out) * d

    m = min(EVAL_MAX, shape.n_samples)
    activations = sum(widths)
    # an evaluation (every layer's activations of up to EVAL_MAX examples), or the f′
    # statistics of a frame over the batch
    evaluation = m * activations * 8 + rows * max(widths) * 3 * d
    grid = GRID_POINTS * activations * 2 * d if shape.n_in <= 2 else 0
    passing = max(evaluation, grid, 2 * checkpoint)
    # a gradient check holds float64 and extended-precision copies of the network, and the
    # activations of its examples: as many as one finite difference affords in a slice of
    # time, ~1e7 / P on this machine (2e7: a machine twice as fast)
    checked = min(1024, shape.n_train, max(8, int(2e7 / max(P, 1))))
    gradcheck = P * GRADCHECK_PER_PARAM + checked * activations * GRADCHECK_PER_ROW
    jobs = max(P * EXPORT_PER_PARAM, gradcheck)
    parts = {
        "network": P * d * (4 + opt),
        "batches": batches,
        "data": shape.n_samples * (shape.n_in + shape.n_out + 1) * 8 * 3,
        # the stored columns, and the same as Python numbers (an export, a reset frame)
        "history": HISTORY_POINTS * (7 + 2 * len(widths)) * (8 + 32),
        "rewind": rewind,
        "passing": passing + jobs,
        "csv": csv_bytes,
    }
    total = FIXED + sum(parts.values())
    parts["fixed"] = FIXED + math.ceil((MARGIN - 1) * total)
    return Estimate(parts)


def run_estimate(
    run: object, settings: Settings, csvs: Mapping[str, CsvFile] | None = None
) -> tuple[RunFile, Estimate]:
    """An exported run checked (``RunError``; its config ``ConfigError``) and what the
    experiment it holds will need, before it is built (its CSV with ``csvs``)."""
    parsed = parse_run(run)
    check_counters(parsed)
    config = validate(parsed.config)
    file = run_csv(run)
    files = {**(csvs or {}), **({file.hash: file} if file is not None else {})}
    csv_bytes = sum(len(f.text) for f in files.values())
    return parsed, estimate(config, data_shape(config, files), settings, (), csv_bytes)


MAX_RUN_STEPS = 10**12  # steps a run may have done (the `seek` message's bound too)


def check_counters(parsed: RunFile) -> None:
    """Refuse a run whose counters no run can have (``RunError``, the field named): more
    than ``MAX_RUN_STEPS`` steps, more epochs or optimizer updates than steps, a history
    stride longer than the run."""
    state = parsed.state
    if state is None:
        return
    steps = state.steps_done
    checks = [
        ("run.state.steps_done", steps, MAX_RUN_STEPS, "at most"),
        ("run.state.current_epoch", state.current_epoch, steps, "at most steps_done,"),
        ("run.state.optimizer.t", state.optimizer.t, steps, "at most steps_done,"),
    ]
    history = parsed.history
    stride = history.get("stride") if isinstance(history, dict) else None
    if isinstance(stride, int) and not isinstance(stride, bool):
        checks.append(("run.history.stride", stride, max(1, steps), "at most steps_done,"))
    for field, value, most, words in checks:
        if value > most:
            shown = json_value(value)
            raise RunError(
                f"{field.removeprefix('run.')}: must be {words} {most:,}, got {shown}",
                field,
                reason="format",
                detail=f"{shown} > {most}",
            )


def message_limit(settings: Settings, head: str, tail: str = "") -> int:
    """The largest message the server reads whose first 4 KiB are ``head`` (and last 4 KiB
    ``tail``): an ``import`` up to ``max_import_bytes``; a ``csv_inspect`` up to four
    thirds of ``max_upload_bytes`` (a file of ``max_upload_bytes`` as base64 ``data``); any
    other, ``max_message_bytes``. The type is read in the head, or as the last key of the
    message in its tail (a client that sorts its keys writes ``run`` before ``type``)."""
    kind = LARGE_KIND.search(head) or LARGE_KIND_LAST.search(tail)
    if kind is not None and kind[1] == "import":
        return settings.max_import_bytes
    if kind is not None:
        return settings.max_upload_bytes * 4 // 3 + 4096
    return settings.max_message_bytes


# The kinds of message that may be large, named as a message's type ("type": "import"),
# not anywhere in its text (a configure naming a CSV file "import.csv" is not an import).
LARGE_KIND = re.compile(r'"type"\s*:\s*"(import|csv_inspect)"')
# ... or as the message's last key: the type, then the closing brace of the message itself
# (a nested object's "type" would be followed by two braces or more).
LARGE_KIND_LAST = re.compile(r'[,{]\s*"type"\s*:\s*"(import|csv_inspect)"\s*}\s*\Z')


def utf8_size(text: str) -> int:
    """The bytes ``text`` takes on the wire (UTF-8), which the byte limits count."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def export_bytes_bound(max_csv_bytes: int) -> int:
    """The largest ``import`` message the limits allow: an export of the largest network
    (``max_parameters``) with Adam's state and the longest history, carrying the largest
    CSV (each byte of which may take two characters in JSON)."""
    P = int(LIMITS["max_parameters"])
    per_param = 13 + 11 * 3  # readable 6-digit weight; base64 of params and two moments
    layers = int(LIMITS["max_hidden_layers"]) + 1
    history = HISTORY_POINTS * (7 + 2 * layers) * 13
    perm = int(LIMITS["max_samples"]) * 6
    return P * per_param + history + perm + 2 * max_csv_bytes + 64 * 1024
