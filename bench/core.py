"""Engine benchmark: bpviz's NumPy training step against PyTorch and the matmul floor.

Run with ``make bench`` (or ``python bench/core.py``); ``bench/README.md`` explains the
figures. One training step here is what a user gets from ``Stepper.step()``: forward,
loss, backward and an SGD update, recording the whole trace (per layer ``z``, ``a``,
``f'(z)``, ``δ``, ``dW``, ``db``, the norms; ``ΔW`` is written out when first read).
PyTorch does the same math with autograd and ``torch.optim.SGD`` on one CPU thread,
from the same initial weights on the same batches (the losses of the first steps are
cross-checked). The output activations MSE allows besides its linear output (sigmoid,
tanh: the textbook exercise) are cross-checked too, losses and weights after a few steps
(:func:`cross_check_outputs`).
"""

# One BLAS thread for NumPy, set before NumPy is imported (the second core is the server's).
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812

from bpviz.core.engine.network import Network  # noqa: E402
from bpviz.core.engine.stepper import Stepper  # noqa: E402
from bpviz.core.experiment import config as core_config  # noqa: E402
from bpviz.core.experiment.build import build  # noqa: E402

ROUNDS = 15  # interleaved rounds per case; the median round is reported
BLOCK_S = 0.12  # target duration of one timed block of steps
LEARNING_RATE = 0.01
CHECK_STEPS = 5  # steps whose losses are compared with PyTorch


@dataclass(frozen=True)
class Case:
    key: str
    n_in: int
    hidden: tuple[int, ...]
    activation: str
    n_out: int
    loss: str
    batch: int
    dtype: str
    target: float  # × PyTorch, or the fraction of the matmul floor for the floor case
    floor: bool = False

    @property
    def label(self) -> str:
        h = self.hidden
        mid = f"{h[0]}×{len(h)}" if len(set(h)) == 1 and len(h) > 2 else "-".join(map(str, h))
        sizes = f"{self.n_in}-{mid}-{self.n_out}"
        return f"({self.key}) {sizes} {self.activation} {self.loss} B={self.batch} {self.dtype}"


CASES = (
    Case("a", 2, (8,) * 6, "tanh", 1, "mse", 10, "float64", 5.0),
    Case("b", 2, (16,) * 10, "sigmoid", 1, "bce", 32, "float64", 2.0),
    Case("c", 784, (30,) * 4, "sigmoid", 10, "softmax_ce", 10, "float64", 2.0),
    Case("d", 64, (64, 64), "relu", 10, "softmax_ce", 64, "float64", 2.0),
    Case("e", 784, (256, 256), "relu", 10, "softmax_ce", 128, "float32", 0.85, floor=True),
)


# ----------------------------------------------------------------------------- data
def make_data(case: Case, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A training set of 40 batches: inputs ``(N, n_in)``, targets ``(N, n_out)``."""
    n = 40 * case.batch
    # pixel-like inputs in [0, 1) for the wide nets, the page's 2-D square otherwise
    X = rng.random((n, case.n_in)) if case.n_in > 2 else rng.uniform(-1.0, 1.0, (n, case.n_in))
    if case.loss == "mse":
        Y = np.sin(2.0 * X[:, :1]) * np.cos(X[:, 1:2])
    elif case.loss == "bce":
        Y = (X[:, :1] * X[:, 1:2] > 0).astype(np.float64)
    else:
        Y = np.eye(case.n_out)[rng.integers(0, case.n_out, n)]
    return X, Y


# ----------------------------------------------------------------------------- torch
class TorchStep:
    """The same network and SGD step in PyTorch (autograd, ``torch.optim.SGD``)."""

    def __init__(self, case: Case, net: Network, output: str = "linear") -> None:
        self.dtype = torch.float64 if case.dtype == "float64" else torch.float32
        act = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
        mods: list[torch.nn.Module] = []
        for layer in net.layers:
            lin = torch.nn.Linear(layer.n_in, layer.n_out, dtype=self.dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.copy()))
                lin.bias.copy_(torch.from_numpy(layer.b.copy()))
            mods.append(lin)
            if not layer.is_output:
                mods.append(act[case.activation]())
            elif output != "linear":  # MSE with a sigmoid or tanh output
                mods.append(act[output]())
        self.model = torch.nn.Sequential(*mods)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.loss_name = case.loss

    def batch(self, X: np.ndarray, Y: np.ndarray, idx: np.ndarray) -> tuple[Any, Any]:
        x = torch.from_numpy(np.ascontiguousarray(X[idx])).to(self.dtype)
        if self.loss_name == "softmax_ce":
            return x, torch.from_numpy(Y[idx].argmax(axis=1))
        return x, torch.from_numpy(np.ascontiguousarray(Y[idx])).to(self.dtype)

    def loss(self, out: Any, y: Any) -> Any:
        if self.loss_name == "mse":  # ½ Σ_k (ŷ − y)², mean over the batch (as the engine)
            return F.mse_loss(out, y, reduction="sum") * (0.5 / out.shape[0])
        if self.loss_name == "bce":  # one output: mean over the batch
            return F.binary_cross_entropy_with_logits(out, y)
        return F.cross_entropy(out, y)

    def step(self, x: Any, y: Any) -> Any:
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss


# ----------------------------------------------------------------------------- floor
class MatmulFloor:
    """The forward and backward matrix multiplies of one step alone, preallocated."""

    def __init__(self, case: Case, rng: np.random.Generator) -> None:
        dt = np.dtype(case.dtype)
        sizes = [case.n_in, *case.hidden, case.n_out]
        B = case.batch

        def r(*shape: int) -> np.ndarray:
            return rng.standard_normal(shape).astype(dt)

        self.x = r(B, sizes[0])
        self.W = [r(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]
        self.a = [r(B, n) for n in sizes[1:]]  # layer outputs (z) of the forward
        self.d = [r(B, n) for n in sizes[1:]]  # δ of each layer
        self.g = [r(B, n) for n in sizes[1:-1]]  # ∂L/∂a of the hidden layers
        self.dW = [np.empty_like(w) for w in self.W]

    def step(self) -> None:
        dot = np.dot
        a_prev = self.x
        for W, a in zip(self.W, self.a, strict=True):  # z = a_prev Wᵀ
            dot(a_prev, W.T, out=a)
            a_prev = a
        for i in range(len(self.W) - 1, -1, -1):  # dW = δᵀ a_prev; ∂L/∂a_prev = δ W
            a_prev = self.x if i == 0 else self.a[i - 1]
            dot(self.d[i].T, a_prev, out=self.dW[i])
            if i > 0:
                dot(self.d[i], self.W[i], out=self.g[i - 1])


# ----------------------------------------------------------------------------- timing
def calibrate(fn: Callable[[int], None]) -> int:
    """Steps per timed block so that one block takes about ``BLOCK_S``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t0
        if dt >= 0.03 or n >= 1 << 20:
            return max(1, math.ceil(n * BLOCK_S / dt))
        n *= 2


def interleaved(
    sides: dict[str, Callable[[int], None]],
) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds per step of each side over ``ROUNDS`` interleaved rounds: wall
    clock, and this thread's CPU time (``time.thread_time``: leaves out the time other
    processes held the core, not their effect on the caches).

    Each round times one block of every side, in an order that rotates from round to
    round, so slow phases of a noisy machine hit all sides alike. GC is off while timing.
    """
    counts = {name: calibrate(fn) for name, fn in sides.items()}
    names = list(sides)
    per_step: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc.disable()
    try:
        for r in range(ROUNDS):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                n = counts[name]
                c0 = time.thread_time()
                t0 = time.perf_counter()
                sides[name](n)
                per_step[name].append((time.perf_counter() - t0) / n)
                cpu[name].append((time.thread_time() - c0) / n)
    finally:
        gc.enable()
    median = statistics.median
    return {k: median(v) for k, v in per_step.items()}, {k: median(v) for k, v in cpu.items()}


# ----------------------------------------------------------------------------- cases
@dataclass
class Row:
    label: str
    ours_s: float
    ref_name: str
    ref_s: float
    target: float | None  # None: shown for information
    floor: bool
    cpu_ratio: float | None = None  # the same ratio in CPU time (the floor case)

    @property
    def ratio(self) -> float:
        return self.ref_s / self.ours_s

    @property
    def passed(self) -> bool:
        return self.target is None or self.ratio >= self.target


def run_case(case: Case) -> list[Row]:
    rng = np.random.default_rng(7)
    X, Y = make_data(case, rng)
    hidden = [(w, case.activation) for w in case.hidden]
    init = "he_normal" if case.activation == "relu" else "xavier_normal"
    net = Network.build(case.n_in, hidden, case.n_out, case.loss, init, 3, dtype=case.dtype)
    stepper = Stepper(net, X, Y, case.batch, rng=np.random.default_rng(11))
    stepper.hyper.learning_rate = LEARNING_RATE
    ref = TorchStep(case, net)

    # Correctness cross-check: identical batches, identical losses before each update.
    diffs = []
    for _ in range(CHECK_STEPS):
        stepper.step()
        trace = stepper.trace
        assert trace is not None and trace.complete and trace.batch is not None
        x, y = ref.batch(X, Y, trace.batch)
        t_loss = float(ref.step(x, y).item())
        assert trace.loss is not None
        diffs.append(abs(trace.loss - t_loss) / max(1.0, abs(t_loss)))
    tol = 1e-6 if case.dtype == "float64" else 1e-5
    worst = max(diffs)
    assert worst <= tol, f"{case.label}: engine and PyTorch losses differ by {worst:.2e}"

    # PyTorch gets its batches pre-gathered (no indexing in its timed loop).
    order = np.random.default_rng(5).permutation(X.shape[0])
    batches = [ref.batch(X, Y, order[i : i + case.batch]) for i in range(0, len(order), case.batch)]

    def ours(n: int) -> None:
        step = stepper.step
        for _ in range(n):
            step()

    def torch_side(n: int) -> None:
        step = ref.step
        k = len(batches)
        for i in range(n):
            step(*batches[i % k])

    sides: dict[str, Callable[[int], None]] = {"bpviz": ours, "torch": torch_side}
    if case.floor:
        floor = MatmulFloor(case, rng)

        def floor_side(n: int) -> None:
            step = floor.step
            for _ in range(n):
                step()

        sides["floor"] = floor_side
    t, cpu = interleaved(sides)
    assert not stepper.diverged, f"{case.label}: the engine diverged while timing"
    rows = []
    if case.floor:
        rows.append(Row(case.label, t["bpviz"], "torch", t["torch"], None, False))
        cpu_ratio = cpu["floor"] / cpu["bpviz"]
        rows.append(Row("", t["bpviz"], "matmul floor", t["floor"], case.target, True, cpu_ratio))
    else:
        rows.append(Row(case.label, t["bpviz"], "torch", t["torch"], case.target, False))
    print(f"  {case.label}: losses of the first {CHECK_STEPS} steps match PyTorch to {worst:.1e}")
    return rows


OUTPUT_CASES = (
    Case("o1", 2, (8, 8), "tanh", 2, "mse", 10, "float64", 0.0),
    Case("o2", 3, (6,), "sigmoid", 3, "mse", 4, "float64", 0.0),
    Case("o3", 2, (2,), "sigmoid", 2, "mse", 1, "float64", 0.0),  # the textbook's shape
)


def cross_check_outputs(steps: int = 8) -> float:
    """MSE with a sigmoid or tanh output against PyTorch (``nn.Sigmoid``/``nn.Tanh``
    after the last ``Linear``, autograd): the losses of ``steps`` SGD steps and every
    weight after them, float64. Returns the largest relative difference."""
    worst = 0.0
    for case in OUTPUT_CASES:
        for output in ("sigmoid", "tanh"):
            rng = np.random.default_rng(13)
            X, Y = make_data(case, rng)
            Y = 1.0 / (1.0 + np.exp(-np.tile(Y, (1, case.n_out))[:, : case.n_out]))
            hidden = [(w, case.activation) for w in case.hidden]
            net = Network.build(
                case.n_in, hidden, case.n_out, "mse", "xavier_normal", 3,
                output_activation=output,
            )  # fmt: skip
            stepper = Stepper(net, X, Y, case.batch, rng=np.random.default_rng(11))
            stepper.hyper.learning_rate = 0.5
            ref = TorchStep(case, net, output)
            for group in ref.opt.param_groups:
                group["lr"] = 0.5
            for _ in range(steps):
                stepper.step()
                trace = stepper.trace
                assert trace is not None and trace.batch is not None and trace.loss is not None
                t_loss = float(ref.step(*ref.batch(X, Y, trace.batch)).item())
                worst = max(worst, abs(trace.loss - t_loss) / max(1.0, abs(t_loss)))
            theirs = [p.detach().numpy() for p in ref.model.parameters()]
            ours = [a for W, b in net.get_weights() for a in (W, b)]
            for a, b in zip(ours, theirs, strict=True):
                worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
    return worst


def experiment_overhead(steps: int = 2000) -> tuple[float, float]:
    """µs/step of ``Experiment.run_steps`` (history on) and of bare ``Stepper.step``.

    Network (a) on the ``plane`` regression set (1,000 examples, half held out), the
    first ``steps`` steps after a reset — the stretch where the history keeps every step.
    """
    cfg = core_config.validate(
        {
            "seed": 1,
            "data": {"name": "plane", "samples": 1000, "noise": 0.1, "test_fraction": 0.5},
            "network": {
                "hidden": [{"units": 8, "activation": "tanh"}] * 6,
                "loss": "mse",
                "init": "xavier_normal",
            },
            "training": {"optimizer": "sgd", "learning_rate": LEARNING_RATE, "batch_size": 10},
        }
    )
    exp = build(cfg)
    with_history: list[float] = []
    bare: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for r in range(7):
            for which in ("history", "bare") if r % 2 == 0 else ("bare", "history"):
                exp.reset()
                t0 = time.perf_counter()
                if which == "history":
                    exp.run_steps(steps)
                else:
                    step = exp.stepper.step
                    for _ in range(steps):
                        step()
                dt = (time.perf_counter() - t0) / steps
                assert which == "bare" or len(exp.history) > 0
                (with_history if which == "history" else bare).append(dt)
    finally:
        gc.enable()
    return statistics.median(with_history), statistics.median(bare)


# ----------------------------------------------------------------------------- report
def blas_info() -> str:
    try:
        cfg: Any = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        text = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        text = "unknown"
    try:
        from threadpoolctl import threadpool_info  # optional

        text += "; " + ", ".join(
            f"{i['internal_api']} {i['num_threads']} thread(s) {i.get('architecture', '')}"
            for i in threadpool_info()
        )
    except ImportError:
        pass
    return text


def main() -> int:
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    env_core = os.environ.get("OPENBLAS_CORETYPE")
    env_l2 = os.environ.get("OPENBLAS_L2_SIZE")
    print("bpviz engine benchmark: one SGD training step recording the whole trace")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}"
        f" (torch threads {torch.get_num_threads()}), {platform.machine()},"
        f" {os.cpu_count()} CPU(s)"
    )
    print(f"numpy BLAS: {blas_info()}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(
        f"OPENBLAS_CORETYPE={env_core or '(unset)'}, OPENBLAS_L2_SIZE={env_l2 or '(unset)'};"
        f" {ROUNDS} interleaved rounds per case, median round; lr {LEARNING_RATE}"
    )
    print("cross-check (relative difference of the losses, same weights and batches):")
    rows: list[Row] = []
    for case in CASES:
        rows.extend(run_case(case))
    outputs = cross_check_outputs()
    print(f"  MSE with sigmoid and tanh outputs, losses and weights after 8 steps: {outputs:.1e}")
    assert outputs <= 1e-10, (
        f"engine and PyTorch differ by {outputs:.2e} (MSE, sigmoid/tanh output)"
    )
    hist_s, bare_s = experiment_overhead()

    head = (
        f"{'network':<48} {'bpviz µs':>9} {'steps/s':>8}  {'reference':<13}"
        f"{'ref µs':>9} {'steps/s':>8} {'ratio':>8} {'target':>8}  result"
    )
    print()
    print(head)
    print("-" * len(head))
    fails = 0
    for row in rows:
        ratio = f"{row.ratio:7.0%}" if row.floor else f"{row.ratio:6.2f}×"
        if row.target is None:
            target, result = "-", "info"
        else:
            target = f"≥{row.target:.0%}" if row.floor else f"≥{row.target:.0f}×"
            result = "PASS" if row.passed else "FAIL"
            fails += not row.passed
        print(
            f"{row.label:<48} {row.ours_s * 1e6:9.1f} {1 / row.ours_s:8.0f}  {row.ref_name:<13}"
            f"{row.ref_s * 1e6:9.1f} {1 / row.ref_s:8.0f} {ratio:>8} {target:>8}  {result}"
        )
    for row in rows:
        if row.cpu_ratio is not None:
            print(
                f"{'':<48} matmul floor in CPU time (thread_time): {row.cpu_ratio:.0%}"
                f" (information; the result is the wall-clock ratio)"
            )
    print(
        f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPU(s)"
        " (above ~1, other work shares the cores and the figures are noisy)"
    )
    print()
    print(
        f"Experiment.run_steps with history, network (a) on 'plane', first 2000 steps: "
        f"{hist_s * 1e6:.1f} µs/step vs bare Stepper.step {bare_s * 1e6:.1f} µs/step "
        f"(history overhead {hist_s / bare_s - 1:+.0%})"
    )
    print(f"ratio = reference time / bpviz time; total run {time.perf_counter() - t_start:.0f} s")
    return 1 if fails and "--check" in sys.argv[1:] else 0


if __name__ == "__main__":
    sys.exit(main())
