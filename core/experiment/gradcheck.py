"""The gradient check in slices, within a time budget measured as it runs.

:func:`bpviz.core.engine.gradcheck.gradient_check` compares backprop's gradient with
central differences in one call. On the largest network the limits allow, one
finite difference in extended precision costs about a second per 1,000 examples, so a
server must never run that call whole: :class:`GradCheckRun` makes the same comparison
a few parameters at a time (:meth:`GradCheckRun.run` returns after the time it is
given), and fits its size to a budget of seconds by what it measures:

- the examples: the first ``n_examples``, fewer when one perturbed objective would not
  fit in a slice (the cost of the objective is timed on a few examples first);
- the parameters: all of them when the budget allows, else a seeded sample of at least
  ``min_params``, checked in random order until the budget is spent (the time taken is
  measured; the result says how many were checked).

The comparison is that of ``gradient_check`` on the same examples and parameters: the
analytic side is the engine's backward pass on a float64 copy of the network (dropout
off), the numeric side ``(J(θ + ε e_k) − J(θ − ε e_k)) / 2ε`` with ``J`` the mean loss
plus the L1/L2 penalty, evaluated in ``np.longdouble``, written out independently of the
layer code. Two things make it cheaper: perturbing a parameter of layer ``l`` leaves the
activations below it as they are, so those are computed once and each perturbed
objective starts at layer ``l``; and the products are ``einsum`` (NumPy's ``@`` has no
fast path for ``longdouble``: ``einsum`` is about 3× faster, and agrees with it to the
last bits of extended precision, far below the 1e-6 the check reports).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..engine.batchnorm import BN_EPS
from ..engine.gradcheck import GradCheckEntry, GradCheckResult, rel_error
from ..engine.network import Network
from ..engine.stepper import Stepper

__all__ = ["GradCheckRun"]

PROBE_EXAMPLES = 8  # examples the objective is first timed on


class GradCheckRun:
    """One gradient check, run in slices (see the module doc).

    Args:
        network: the network (copied at once: later training does not change the check).
        X: inputs ``(N, n_in)``; Y: targets ``(N, n_out)``: the first ``n`` of them are
            one batch (``n`` ≤ N, see ``slice_s``).
        l1, l2: the penalties of the objective.
        budget_s: seconds the whole check may take (measured as it runs).
        slice_s: longest a single perturbed pair of objectives may take: fewer
            examples are used when the first ``N`` would take longer.
        min_params: parameters checked at least (all of them if fewer), budget allowing.
        seed: of the sample of parameters and of their order.
        eps: finite-difference step.
        clock: time source (seconds).

    Attributes:
        n_examples: examples used (``None`` until measured); n_params: parameters;
        planned: parameters that will be checked if the budget holds (``None`` until
        planned); done: parameters checked so far; spent: seconds of work so far.
    """

    def __init__(
        self,
        network: Network,
        X: npt.ArrayLike,
        Y: npt.ArrayLike,
        l1: float = 0.0,
        l2: float = 0.0,
        budget_s: float = 2.0,
        slice_s: float = 0.04,
        min_params: int = 50,
        seed: int = 0,
        eps: float = 1e-6,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self.eps = eps
        self.l1, self.l2 = float(l1), float(l2)
        self.budget_s, self.slice_s = budget_s, slice_s
        self.min_params, self.seed = min_params, seed
        self._network = network
        self._params0 = network.params.astype(np.float64)  # the weights now
        self._bn0 = network.get_bn_state()
        self._Xa = np.asarray(X, dtype=np.float64)
        self._Ya = np.asarray(Y, dtype=np.float64)
        self.n_params = int(network.n_params)
        self.n_examples: int | None = None
        self.planned: int | None = None
        self.done = 0
        self.spent = 0.0
        self.time_backprop_s = 0.0
        self._finished = False
        self._units = self._work()

    # ------------------------------------------------------------------ the work

    def _work(self) -> Iterator[None]:
        """The check as units of work (each yield ends one; the longest is one
        perturbed pair, or one pass over the examples)."""
        spec = replace(self._network.spec, dropout=0.0, dtype="float64")
        net = self.net = Network(spec)
        np.copyto(net.params, self._params0)
        net.set_bn_state(self._bn0)
        self._names: list[tuple[int, str, tuple[int, ...], int]] = []
        off = 0
        for layer in net.layers:
            for name, shape, _ in layer.param_shapes():
                self._names.append((layer.index, name, tuple(shape), off))
                off += int(np.prod(shape))
        P = self.n_params
        self._layer_of = np.zeros(P, dtype=np.intp)
        for layer_idx, _, shape, start in self._names:
            self._layer_of[start : start + int(np.prod(shape))] = layer_idx - 1
        yield
        Xa, Ya = self._Xa, self._Ya
        n = Xa.shape[0]
        if n > PROBE_EXAMPLES:  # how many examples one perturbed pair can afford
            self._setup(Xa[:PROBE_EXAMPLES], Ya[:PROBE_EXAMPLES])
            t0 = self.clock()
            with np.errstate(all="ignore"):
                self._objective(0)
            per_example = (self.clock() - t0) / PROBE_EXAMPLES
            n = max(1, min(n, int(self.slice_s / 2 / max(per_example, 1e-9))))
            yield
        self.n_examples = n
        t0 = self.clock()
        self._setup(Xa[:n], Ya[:n])
        pair = 2 * (self.clock() - t0)  # a pair from layer 1 costs about two passes
        yield
        stepper = Stepper(net, Xa[:n], Ya[:n], batch_size=n, l1=self.l1, l2=self.l2)
        t0 = self.clock()
        stepper.run_backward()
        self.time_backprop_s = self.clock() - t0
        self.analytic = net.grads.copy()
        rng = np.random.default_rng(self.seed)
        left = self.budget_s - self.spent - (self.clock() - self._unit_start)
        wanted = max(min(self.min_params, P), int(left / max(pair, 1e-9)))
        self._order = rng.permutation(P) if wanted >= P else rng.choice(P, wanted, replace=False)
        self.planned = int(self._order.shape[0])
        self._numeric = np.empty(self.planned)
        yield
        params, eps = self._params, self.eps
        two_eps = 2 * np.longdouble(eps)
        for j in range(self.planned):
            k = int(self._order[j])
            first = int(self._layer_of[k])
            old = params[k]
            # (no context manager spans a yield: the next unit may run in another thread)
            with np.errstate(all="ignore"):
                params[k] = old + eps
                fp = self._objective(first)
                params[k] = old - eps
                fm = self._objective(first)
            params[k] = old
            self._numeric[j] = float((fp - fm) / two_eps)
            self.done = j + 1
            yield

    def _setup(self, X: npt.NDArray[np.float64], Y: npt.NDArray[np.float64]) -> None:
        """The extended-precision copies and the unperturbed activations of ``X``."""
        dt = np.longdouble
        self._params = self.net.params.astype(dt)
        self._Y: Any = Y.astype(dt)
        self._views: list[dict[str, Any]] = [{} for _ in self.net.layers]
        for layer_idx, name, shape, start in self._names:
            size = int(np.prod(shape))
            self._views[layer_idx - 1][name] = self._params[start : start + size].reshape(shape)
        # a_in[i]: the input of layer i + 1 with nothing perturbed
        self._a_in: list[Any] = [X.astype(dt)]
        with np.errstate(all="ignore"):
            for i in range(len(self.net.layers) - 1):
                self._a_in.append(self._forward(i, self._a_in[i])[1])

    def _forward(self, i: int, a: Any) -> tuple[Any, Any]:
        """``(z, a)`` of layer ``i + 1`` (0-based ``i``) for input ``a``."""
        layer, p = self.net.layers[i], self._views[i]
        if layer.bn is not None:
            u = np.einsum("ij,kj->ik", a, p["W"])
            mu = u.mean(axis=0)
            var = ((u - mu) ** 2).mean(axis=0)
            z = p["gamma"] * (u - mu) / np.sqrt(var + np.longdouble(BN_EPS)) + p["beta"]
        else:
            z = np.einsum("ij,kj->ik", a, p["W"]) + p["b"]
        out = layer.activation.f(z)
        return z, (out + a if layer.residual else out)

    def _objective(self, first: int) -> Any:
        """``J``: the mean loss from layer ``first + 1`` up (the layers below unchanged),
        plus the penalty of every layer's ``W``."""
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

    # ------------------------------------------------------------------ running

    @property
    def finished(self) -> bool:
        """Every planned parameter checked, or the budget spent."""
        return self._finished

    def run(self, seconds: float) -> bool:
        """Work for about ``seconds``: at least one unit, and no unit started that would
        (as long as the last took) end past ``seconds``. True when finished: every planned
        parameter checked, or the budget spent (fewer are then reported)."""
        if self._finished:
            return True
        self._unit_start = start = last = self.clock()
        for _ in self._units:
            now = self.clock()
            unit, last = now - last, now
            if self.spent + (now - start) >= self.budget_s and self.planned is not None:
                self._finished = True
                break
            if now - start + unit > seconds:
                break
        else:
            self._finished = True
        self.spent += self.clock() - start
        return self._finished

    def progress(self) -> tuple[int, int | None]:
        """Parameters checked so far, and of how many (``None`` before planning)."""
        return self.done, self.planned

    def result(self) -> dict[str, Any]:
        """``GradCheckResult.to_dict()`` of the parameters checked (by index), with
        ``n_examples``, ``n_planned`` and ``budget_s``."""
        ks = self._order[: self.done] if self.planned is not None else np.zeros(0, np.intp)
        numeric = self._numeric[: self.done] if self.planned is not None else np.zeros(0)
        starts = [start for *_, start in self._names] if self.planned is not None else []
        entries = []
        for j in np.argsort(ks, kind="stable"):
            k = int(ks[j])
            seg = int(np.searchsorted(starts, k, side="right")) - 1
            layer_idx, name, shape, start = self._names[seg]
            index = tuple(int(i) for i in np.unravel_index(k - start, shape))
            a, nv = float(self.analytic[k]), float(numeric[j])
            entries.append(GradCheckEntry(layer_idx, name, index, a, nv, rel_error(a, nv)))
        errs = [e.rel_error for e in entries]
        out = GradCheckResult(
            entries=entries,
            max_rel_error=max(errs, default=0.0),
            mean_rel_error=float(np.mean(errs)) if errs else 0.0,
            time_backprop_s=self.time_backprop_s,
            time_numeric_s=self.spent,
            n_params=self.n_params,
            n_checked=len(entries),
            eps=self.eps,
        ).to_dict()
        return out | {
            "n_examples": self.n_examples,
            "n_planned": self.planned,
            "budget_s": self.budget_s,
        }
