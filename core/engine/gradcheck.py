"""Gradient check: backprop's analytic gradient against central finite differences.

For every parameter ``θ_k`` the numeric derivative is
``(J(θ + ε e_k) − J(θ − ε e_k)) / 2ε`` where ``J`` is the mean loss over ``X`` plus the
L1/L2 penalty: two extra forward passes per parameter, so its cost grows like ``N²``
while backprop gets all ``N`` gradients from one forward and one backward pass. Both
timings are reported. The analytic side runs the real engine path (a :class:`Stepper`
on a float64 copy of the network with dropout off); the network passed in is untouched.

The numeric side evaluates ``J`` in extended precision (``np.longdouble``, 64-bit
mantissa on x86) by default: with ``ε = 1e-6`` a float64 ``J`` carries a rounding error of
about ``1e-16 / ε = 1e-10`` into every numeric derivative, which would swamp small true
gradients (e.g. through leaky-ReLU's 0.01 slope) and show spurious relative errors of
1e-4. Pass ``precision="float64"`` for the plain textbook computation.

The numeric objective is written out here, independently of the engine's layer code:
``z = a W^T + b`` and ``a = f(z)``; BatchNorm layers in training mode, normalizing with
the statistics of the checked set itself (recomputed in every perturbed pass: they are
part of the function being differentiated, exactly as in the analytic pass, where the
whole set is one batch); identity skips add ``a_prev``.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .batchnorm import BN_EPS
from .network import Network, NetworkSpec
from .stepper import Stepper

__all__ = [
    "GradCheckEntry",
    "GradCheckResult",
    "Objective",
    "ParamSlot",
    "compare",
    "cost_scaling",
    "float64_copy",
    "gradient_check",
    "param_slots",
    "rel_error",
]


def rel_error(analytic: float, numeric: float) -> float:
    """``|a − n| / max(|a| + |n|, 1e-12)`` (0 when both are exactly 0)."""
    return abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-12)


@dataclass(frozen=True)
class GradCheckEntry:
    """One parameter: ``layer`` (1..L), ``param`` ("W", "b"; with BatchNorm "W", "gamma",
    "beta"), ``index`` into it."""

    layer: int
    param: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    rel_error: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "layer": self.layer,
            "param": self.param,
            "index": list(self.index),
            "analytic": self.analytic,
            "numeric": self.numeric,
            "rel_error": self.rel_error,
        }


@dataclass
class GradCheckResult:
    """All entries plus summary numbers and timings (seconds)."""

    entries: list[GradCheckEntry] = field(default_factory=list)
    max_rel_error: float = 0.0
    mean_rel_error: float = 0.0
    time_backprop_s: float = 0.0
    time_numeric_s: float = 0.0
    n_params: int = 0
    n_checked: int = 0
    eps: float = 1e-6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "entries": [e.to_dict() for e in self.entries],
            "max_rel_error": self.max_rel_error,
            "mean_rel_error": self.mean_rel_error,
            "time_backprop_s": self.time_backprop_s,
            "time_numeric_s": self.time_numeric_s,
            "n_params": self.n_params,
            "n_checked": self.n_checked,
            "eps": self.eps,
        }


@dataclass(frozen=True)
class ParamSlot:
    """Where one parameter array of a layer sits in the flat parameter vector:
    ``params[start : start + size]`` reshaped to ``shape``."""

    layer: int
    param: str
    shape: tuple[int, ...]
    start: int

    @property
    def size(self) -> int:
        """Number of scalars."""
        return int(np.prod(self.shape))


def param_slots(network: Network) -> list[ParamSlot]:
    """Every parameter array of ``network`` in the order of its flat vector."""
    slots: list[ParamSlot] = []
    off = 0
    for layer in network.layers:
        for name, shape, _ in layer.param_shapes():
            slots.append(ParamSlot(layer.index, name, tuple(shape), off))
            off += slots[-1].size
    return slots


def float64_copy(spec: NetworkSpec, params: npt.NDArray[Any], bn_state: Any) -> Network:
    """A float64 network of ``spec`` with dropout off, holding ``params`` and the
    BatchNorm state ``bn_state`` (``Network.get_bn_state()``): what the check differentiates."""
    net = Network(replace(spec, dropout=0.0, dtype="float64"))
    np.copyto(net.params, params.astype(np.float64))
    net.set_bn_state(bn_state)
    return net


class Objective:
    """``J(θ)``: the mean loss over ``X (N, n_in)`` against ``Y (N, n_out)`` plus the
    L1/L2 penalty, written out independently of the engine's layer code in ``dtype``
    (see the module doc), over its own copy :attr:`params` of ``network``'s parameters.

    Perturbing a parameter of layer ``l`` leaves the activations below it as they are,
    so those are computed once (unperturbed) and ``J(first)`` starts at layer
    ``first + 1`` (0-based ``first``). In ``np.longdouble`` the products are ``einsum``
    (NumPy's ``@`` has no fast path for ``longdouble``: ``einsum`` is about 3× faster
    and agrees with it to the last bits of extended precision).
    """

    def __init__(
        self,
        network: Network,
        X: npt.ArrayLike,
        Y: npt.ArrayLike,
        l1: float = 0.0,
        l2: float = 0.0,
        dtype: type[np.floating[Any]] = np.longdouble,
    ) -> None:
        self.net, self.dt = network, dtype
        self.l1, self.l2 = float(l1), float(l2)
        self.slots = param_slots(network)
        self.params: npt.NDArray[Any] = network.params.astype(dtype)
        self.layer_of = np.zeros(self.params.shape[0], dtype=np.intp)  # 0-based layer of k
        self._views: list[dict[str, Any]] = [{} for _ in network.layers]
        for slot in self.slots:
            end = slot.start + slot.size
            self._views[slot.layer - 1][slot.param] = self.params[slot.start : end].reshape(
                slot.shape
            )
            self.layer_of[slot.start : end] = slot.layer - 1
        self._Y: Any = np.asarray(Y, dtype=np.float64).astype(dtype)
        self._bn_eps = dtype(BN_EPS)
        # a_in[i]: the input of layer i + 1 with nothing perturbed
        self._a_in: list[Any] = [np.asarray(X, dtype=np.float64).astype(dtype)]
        with np.errstate(all="ignore"):
            for i in range(len(network.layers) - 1):
                self._a_in.append(self._forward(i, self._a_in[i])[1])

    def _matmul_t(self, a: Any, W: Any) -> Any:
        """``a @ W.T``."""
        return np.einsum("ij,kj->ik", a, W) if self.dt is np.longdouble else a @ W.T

    def _forward(self, i: int, a: Any) -> tuple[Any, Any]:
        """``(z, a)`` of layer ``i + 1`` (0-based ``i``) for input ``a``."""
        layer, p = self.net.layers[i], self._views[i]
        if layer.bn is not None:
            u = self._matmul_t(a, p["W"])
            mu = u.mean(axis=0)
            var = ((u - mu) ** 2).mean(axis=0)
            z = p["gamma"] * (u - mu) / np.sqrt(var + self._bn_eps) + p["beta"]
        else:
            z = self._matmul_t(a, p["W"]) + p["b"]
        out = layer.activation.f(z)
        return z, (out + a if layer.residual else out)

    def __call__(self, first: int = 0) -> Any:
        """``J``: the mean loss from layer ``first + 1`` up (the layers below as they
        were unperturbed), plus the penalty of every layer's ``W``."""
        a: Any = self._a_in[first]
        z: Any = a
        for i in range(first, len(self.net.layers)):
            z, a = self._forward(i, a)
        J = self.net.loss.per_example(a, self._Y, z).mean()
        for p in self._views:
            W = p["W"]
            if self.l1:
                J += self.l1 * np.abs(W).sum()
            if self.l2:
                J += 0.5 * self.l2 * (W * W).sum()
        return J

    def derivative(self, k: int, eps: float) -> float:
        """``(J(θ + ε e_k) − J(θ − ε e_k)) / 2ε`` for flat parameter ``k``."""
        params, first = self.params, int(self.layer_of[k])
        old = params[k]
        with np.errstate(all="ignore"):
            params[k] = old + eps
            fp = self(first)
            params[k] = old - eps
            fm = self(first)
        params[k] = old
        return float((fp - fm) / (2 * self.dt(eps)))


def compare(
    slots: list[ParamSlot],
    ks: npt.NDArray[np.intp],
    analytic: npt.NDArray[np.floating[Any]],
    numeric: npt.NDArray[np.floating[Any]],
    **result: Any,
) -> GradCheckResult:
    """The :class:`GradCheckResult` of flat parameters ``ks`` with numeric derivatives
    ``numeric`` (``numeric[j]`` of ``ks[j]``) against ``analytic`` (all ``P``), entries by
    index; ``result``: its timings and counts (``n_checked`` is ``len(ks)``)."""
    starts = [slot.start for slot in slots]
    entries = []
    for j in np.argsort(ks, kind="stable"):
        k = int(ks[j])
        slot = slots[int(np.searchsorted(starts, k, side="right")) - 1]
        index = tuple(int(i) for i in np.unravel_index(k - slot.start, slot.shape))
        a, nv = float(analytic[k]), float(numeric[j])
        entries.append(GradCheckEntry(slot.layer, slot.param, index, a, nv, rel_error(a, nv)))
    errs = [e.rel_error for e in entries]
    return GradCheckResult(
        entries=entries,
        max_rel_error=max(errs, default=0.0),
        mean_rel_error=float(np.mean(errs)) if errs else 0.0,
        n_checked=len(entries),
        **result,
    )


def gradient_check(
    network: Network,
    X: npt.ArrayLike,
    Y: npt.ArrayLike,
    eps: float = 1e-6,
    l1: float = 0.0,
    l2: float = 0.0,
    max_params: int | None = None,
    seed: int = 0,
    precision: str = "longdouble",
) -> GradCheckResult:
    """Compare backprop gradients with central differences for every parameter.

    Args:
        network: the network (not modified; checked in float64 with dropout off and
            BatchNorm in training mode, the whole set being one batch).
        X: inputs ``(N, n_in)``; Y: targets ``(N, n_out)``; the whole set is one batch.
        eps: finite-difference step.
        l1, l2: penalty weights included in the objective.
        max_params: check only this many parameters (seeded random choice); ``None``: all.
        seed: seed of that choice.
        precision: ``"longdouble"`` (default) or ``"float64"`` for the numeric objective.

    Returns:
        A :class:`GradCheckResult`; ``time_backprop_s`` is one forward + backward pass,
        ``time_numeric_s`` all the finite-difference forward passes.
    """
    net = float64_copy(network.spec, network.params, network.get_bn_state())
    Xa = np.asarray(X, dtype=np.float64)
    Ya = np.asarray(Y, dtype=np.float64)
    n = Xa.shape[0]
    stepper = Stepper(net, Xa, Ya, batch_size=n, l1=l1, l2=l2)
    t0 = time.perf_counter()
    stepper.run_backward()
    t_bp = time.perf_counter() - t0
    analytic = net.grads.copy()

    P = net.n_params
    ks = np.arange(P)
    if max_params is not None and max_params < P:
        ks = np.sort(np.random.default_rng(seed).choice(P, size=max_params, replace=False))

    dt = np.longdouble if precision == "longdouble" else np.float64
    t0 = time.perf_counter()
    objective = Objective(net, Xa, Ya, l1, l2, dt)
    numeric = np.array([objective.derivative(int(k), eps) for k in ks], dtype=np.float64)
    t_num = time.perf_counter() - t0
    return compare(
        objective.slots,
        ks,
        analytic,
        numeric,
        time_backprop_s=t_bp,
        time_numeric_s=t_num,
        n_params=P,
        eps=eps,
    )


SCALING_SIZES = (10, 30, 100, 300, 1000, 3000)


def _width_for(n_in: int, n_hidden: int, n_out: int, target: int) -> int:
    """The hidden width (1..256) whose network n_in-w-…-w-n_out has closest to ``target``
    parameters."""
    best, best_gap = 1, math.inf
    for w in range(1, 257):
        widths = [n_in, *([w] * n_hidden), n_out]
        p = sum(a * b + b for a, b in itertools.pairwise(widths))
        gap = abs(math.log(p) - math.log(target))
        if gap < best_gap:
            best, best_gap = w, gap
    return best


def cost_scaling(
    spec: NetworkSpec,
    X: npt.ArrayLike,
    Y: npt.ArrayLike,
    sizes: tuple[int, ...] = SCALING_SIZES,
    budget_s: float = 1.5,
) -> list[dict[str, Any]]:
    """Time backprop against finite differences for networks of several sizes.

    The networks keep ``spec``'s inputs, outputs, loss and hidden activations (one
    ``tanh`` layer when it has none) with every hidden layer ``w`` wide, ``w`` chosen so
    the parameter count comes closest to each of ``sizes``. Backprop: one forward and
    backward pass over ``X (N, n_in)`` (the fastest of five). Finite differences: two
    forward passes (the engine's, float64) per parameter, all of them when the budget
    allows; past it, ``n_timed`` of the ``n_params`` are timed and the time scaled up.

    Returns:
        ``[{"n_params", "time_backprop_s", "time_numeric_s", "n_timed"}, …]`` by size.
    """
    Xa = np.asarray(X, dtype=np.float64)
    Ya = np.asarray(Y, dtype=np.float64)
    acts = [a for _, a in spec.hidden] or ["tanh"]
    deadline = time.perf_counter() + budget_s
    seen: set[int] = set()
    points: list[dict[str, Any]] = []
    for target in sizes:
        w = _width_for(spec.n_in, len(acts), spec.n_out, target)
        if w in seen:
            continue
        seen.add(w)
        sub = replace(
            spec, hidden=tuple((w, a) for a in acts), dropout=0.0, dtype="float64", seed=0
        )
        net = Network(sub)
        stepper = Stepper(net, Xa, Ya, batch_size=Xa.shape[0])
        t_bp = math.inf
        for _ in range(5):
            t0 = time.perf_counter()
            stepper.run_backward()
            t_bp = min(t_bp, time.perf_counter() - t0)
            stepper.step()
        P = net.n_params
        t_fwd = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            net.objective(Xa, Ya)
            t_fwd = min(t_fwd, time.perf_counter() - t0)
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        n_timed = int(min(P, max(10, left / (len(sizes) * 2 * t_fwd))))
        params = net.params
        ks = np.linspace(0, P - 1, n_timed).astype(np.intp)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            for k in ks:
                old = params[k]
                params[k] = old + 1e-6
                net.objective(Xa, Ya)
                params[k] = old - 1e-6
                net.objective(Xa, Ya)
                params[k] = old
        t_num = (time.perf_counter() - t0) * P / n_timed
        points.append(
            {"n_params": P, "time_backprop_s": t_bp, "time_numeric_s": t_num, "n_timed": n_timed}
        )
    return points
