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

The comparison is that of ``gradient_check``, with its parts: the analytic side is the
engine's backward pass on a float64 copy of the network (dropout off), the numeric side
:meth:`~bpviz.core.engine.gradcheck.Objective.derivative` (``J`` the mean loss plus the
L1/L2 penalty in ``np.longdouble``, each perturbed objective starting at the layer of
the parameter), and the entries :func:`~bpviz.core.engine.gradcheck.compare`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from ..engine.gradcheck import Objective, compare, float64_copy
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
        self.analytic: npt.NDArray[np.floating[Any]] = np.zeros(0)  # backprop's, once computed
        self._finished = False
        self._units = self._work()

    # ------------------------------------------------------------------ the work

    def _work(self) -> Iterator[None]:
        """The check as units of work (each yield ends one; the longest is one
        perturbed pair, or one pass over the examples)."""
        net = float64_copy(self._network.spec, self._params0, self._bn0)
        P = self.n_params
        yield
        Xa, Ya = self._Xa, self._Ya
        n = Xa.shape[0]
        if n > PROBE_EXAMPLES:  # how many examples one perturbed pair can afford
            probe = Objective(net, Xa[:PROBE_EXAMPLES], Ya[:PROBE_EXAMPLES], self.l1, self.l2)
            t0 = self.clock()
            with np.errstate(all="ignore"):
                probe(0)
            per_example = (self.clock() - t0) / PROBE_EXAMPLES
            n = max(1, min(n, int(self.slice_s / 2 / max(per_example, 1e-9))))
            yield
        self.n_examples = n
        t0 = self.clock()
        self._objective = Objective(net, Xa[:n], Ya[:n], self.l1, self.l2)
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
        # (no context manager spans a yield: the next unit may run in another thread)
        for j in range(self.planned):
            self._numeric[j] = self._objective.derivative(int(self._order[j]), self.eps)
            self.done = j + 1
            yield

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
        if self.planned is None:
            ks, numeric, slots = np.zeros(0, np.intp), np.zeros(0), []
        else:
            ks, numeric = self._order[: self.done], self._numeric[: self.done]
            slots = self._objective.slots
        out = compare(
            slots,
            ks,
            self.analytic,
            numeric,
            time_backprop_s=self.time_backprop_s,
            time_numeric_s=self.spent,
            n_params=self.n_params,
            eps=self.eps,
        ).to_dict()
        return out | {
            "n_examples": self.n_examples,
            "n_planned": self.planned,
            "budget_s": self.budget_s,
        }
