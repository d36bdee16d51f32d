"""The trace: what one training step computed, one record per layer, named after the math.

The stepper fills a :class:`Trace` phase by phase and every layer writes its numbers
into its :class:`LayerTrace`, so the server streams what the engine computed instead of
recomputing it. The arrays are the engine's buffers, overwritten by the next step;
:meth:`Trace.snapshot` keeps a copy. :class:`StepHyper` records the training settings
the step used, so a view of an old step (after a rewind) shows its own ``η``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .activations import FloatArray, get_activation

__all__ = ["DEAD_THRESHOLD", "FPRIME_BINS", "LayerTrace", "PendingUpdates", "StepHyper", "Trace"]

FPRIME_BINS = 20
"""Bins of ``LayerTrace.fprime_hist``: ``[0, 0.05), [0.05, 0.1), …, [0.95, 1]``."""

DEAD_THRESHOLD = 1e-3
"""A unit is dead/saturated when ``|f'(z)| < DEAD_THRESHOLD · f'_max`` for the whole batch."""


class StepHyper(NamedTuple):
    """The training settings one step used (a frozen record; cheap to make every step).

    Taken when the step begins and refreshed when its update phase runs, so a setting
    changed between two phases shows as what the update applied. ``batch_size`` is the
    setting in force when the step drew its batch (the last batch of an epoch may hold
    fewer examples: ``len(trace.batch)``). ``optimizer`` is a name of
    ``registry.OPTIMIZERS``; each optimizer reads only its own hyper-parameters, the
    others are carried along unchanged.
    """

    optimizer: str
    learning_rate: float
    momentum: float
    rho: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    l1: float
    l2: float
    clip_norm: float
    batch_size: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"optimizer", "learning_rate", …, "batch_size"}`` (the field order)."""
        out: dict[str, Any] = {"optimizer": str(self.optimizer)}
        for name in self._fields[1:-1]:
            out[name] = float(getattr(self, name))
        out["batch_size"] = int(self.batch_size)
        return out


class PendingUpdates:
    """The change ``ΔW = factor · dW`` of a plain-SGD step, written out on first read.

    The update phase applies ``W += factor · dW`` without storing ``ΔW`` (one pass over
    the parameters fewer: a step's ``ΔW`` is looked at far less often than steps run);
    reading a record's ``dW_update`` (or ``db_update``, ``dgamma_update``) fills the
    network's ``updates`` vector with exactly the numbers that were applied. A later
    step :meth:`expire` s it: the buffers are then the next step's, as for every array
    of an old trace.
    """

    __slots__ = ("factor", "grads", "pending", "updates")

    def __init__(self, grads: FloatArray, updates: FloatArray, factor: float) -> None:
        self.grads = grads
        self.updates = updates
        self.factor = factor
        self.pending = True

    def resolve(self) -> None:
        """Write ``updates = factor · grads`` (once; nothing after :meth:`expire`)."""
        if self.pending:
            self.pending = False
            np.multiply(self.grads, self.factor, self.updates)

    def expire(self) -> None:
        """Never write: the buffers have moved on to another step."""
        self.pending = False


class LayerTrace:
    """What one layer computed during one step (arrays may be engine buffers).

    Filled phase by phase; a field is ``None`` until its phase has run. Shapes for a
    dense layer with ``n_in`` inputs, ``n`` units and a batch of ``B``:

    forward:  ``a_prev`` (B, n_in), ``z`` (B, n), ``a_raw = f(z)`` (B, n), ``mask``
      (B, n) inverted-dropout mask with entries 0 or 1/(1−p) (``None`` without dropout),
      ``a = a_raw ⊙ mask`` (B, n) (the same array as ``a_raw`` without dropout).
    backward: ``grad_a = W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾`` (B, n) received from above (``None`` for the
      output layer, whose ``delta`` comes from the loss), ``fprime = f'(z)`` (B, n),
      ``delta`` (B, n) per example, ``dW`` (n, n_in) incl. penalties, ``db`` (n,),
      and the floats ``delta_mean_norm = ‖mean_b δ‖ = ‖db‖``,
      ``delta_norm = ‖δ‖_F / √B`` (RMS over the batch of per-example ‖δ‖),
      ``dW_norm = ‖dW‖_F``, ``W_norm = ‖W‖_F`` (before the update), ``dW_ratio =
      ‖dW‖/‖W‖``.
    update:   ``dW_update`` (n, n_in) and ``db_update`` (n,), the change applied (``ΔW``;
      with plain SGD written out when first read, see :class:`PendingUpdates`).
    edited by hand after the step (:func:`~.edits.set_param`): ``W_updated`` (n, n_in)
      and ``b_updated`` (n,), the layer's weights as the update left them, before the
      edit (``None`` when the layer was not edited): the step used
      ``W_updated − dW_update``, not today's ``W − dW_update``.

    BatchNorm layers (``batchnorm`` is true; see :class:`~.batchnorm.BatchNorm`) have no
    bias: β takes its place, so ``db`` is ``dβ`` and ``db_update`` is ``Δβ``. Forward
    adds ``z = a_prev @ W.T`` (B, n) (no ``+ b``), ``bn_mean`` (n,) and ``bn_var`` (n,) —
    the batch mean and variance (divided by B) of ``z`` —, ``z_hat = (z − μ)/√(σ² + ε)``
    (B, n) and ``z_bn = γ ⊙ ẑ + β`` (B, n), the input of ``f``: ``a_raw = f(z_bn)``.
    Backward: ``fprime = f'(z_bn)``, ``delta = ∂ℓ/∂z_bn = grad_a ⊙ f'(z_bn)`` (B, n) (so
    ``db = dβ = mean δ`` and ``delta_mean_norm = ‖dβ‖``), ``dgamma = dγ = mean(δ ⊙ ẑ)``
    (n,) and ``delta_z = ∂ℓ/∂z = γ/√(σ²+ε) ⊙ (δ − dβ − ẑ ⊙ dγ)`` (B, n), per example, from
    which ``dW = delta_zᵀ a_prev / B`` and the gradient passed down ``delta_z W``.
    Update: ``dgamma_update`` (n,) = ``Δγ``. Without BatchNorm these fields stay ``None``.

    Residual layers (``residual`` is true): ``a = a_raw ⊙ mask + a_prev`` (the identity
    skip), and the gradient passed down is ``delta_z W + grad_a`` (the skip's share).

    Statistics for the vanishing-gradient lab, computed on access from ``fprime``
    (``None`` until the backward phase of the layer ran): ``fprime_hist`` (20,) counts
    of ``f'(z)`` over the batch in the bins of :data:`FPRIME_BINS`, ``fprime_below`` /
    ``fprime_above`` the counts below 0 / above 1 (only SiLU leaves [0, 1]),
    ``dead_mask`` (n,) bool and ``dead_fraction``: units with ``|f'(z)| <`` 1e-3 ×
    the activation's largest ``f'`` for every example of the batch (ReLU: ``z ≤ 0``
    throughout; sigmoid: ``σ' < 2.5e-4``, i.e. ``|z| > 8.3``).
    """

    _ARRAYS = (
        "a_prev",
        "z",
        "a_raw",
        "mask",
        "a",
        "grad_a",
        "fprime",
        "delta",
        "dW",
        "db",
        "dW_update",
        "db_update",
        "bn_mean",
        "bn_var",
        "z_hat",
        "z_bn",
        "delta_z",
        "dgamma",
        "dgamma_update",
        "W_updated",
        "b_updated",
    )
    _FLOATS = ("delta_mean_norm", "delta_norm", "dW_norm", "W_norm", "dW_ratio")

    a_prev: FloatArray | None = None
    z: FloatArray | None = None
    a_raw: FloatArray | None = None
    mask: FloatArray | None = None
    a: FloatArray | None = None
    grad_a: FloatArray | None = None
    fprime: FloatArray | None = None
    delta: FloatArray | None = None
    dW: FloatArray | None = None
    db: FloatArray | None = None
    _dW_update: FloatArray | None = None
    _db_update: FloatArray | None = None
    _dgamma_update: FloatArray | None = None
    pending: PendingUpdates | None = None
    delta_mean_norm: float | None = None
    delta_norm: float | None = None
    dW_norm: float | None = None
    W_norm: float | None = None
    dW_ratio: float | None = None
    batchnorm: bool = False
    residual: bool = False
    bn_mean: FloatArray | None = None
    bn_var: FloatArray | None = None
    z_hat: FloatArray | None = None
    z_bn: FloatArray | None = None
    delta_z: FloatArray | None = None
    dgamma: FloatArray | None = None
    W_updated: FloatArray | None = None
    b_updated: FloatArray | None = None

    def __init__(
        self, layer: int, activation: str, batchnorm: bool = False, residual: bool = False
    ) -> None:
        # Unset fields fall back to the class-level defaults (cheap to create per step).
        self.layer = layer
        self.activation = activation
        if batchnorm:
            self.batchnorm = True
        if residual:
            self.residual = True

    def set_updates(
        self,
        dW: FloatArray,
        db: FloatArray,
        dgamma: FloatArray | None = None,
        pending: PendingUpdates | None = None,
    ) -> None:
        """Point at the applied changes (``pending``: not written out yet)."""
        self._dW_update = dW
        self._db_update = db
        self._dgamma_update = dgamma
        self.pending = pending

    def _updates(self) -> None:
        pending = self.pending
        if pending is not None:
            pending.resolve()

    @property
    def dW_update(self) -> FloatArray | None:  # noqa: N802
        """``ΔW`` (n, n_in) applied by the update phase."""
        self._updates()
        return self._dW_update

    @dW_update.setter
    def dW_update(self, value: FloatArray | None) -> None:  # noqa: N802
        self._dW_update = value

    @property
    def db_update(self) -> FloatArray | None:
        """``Δb`` (n,) (``Δβ`` with BatchNorm) applied by the update phase."""
        self._updates()
        return self._db_update

    @db_update.setter
    def db_update(self, value: FloatArray | None) -> None:
        self._db_update = value

    @property
    def dgamma_update(self) -> FloatArray | None:
        """``Δγ`` (n,) applied by the update phase (BatchNorm layers)."""
        self._updates()
        return self._dgamma_update

    @dgamma_update.setter
    def dgamma_update(self, value: FloatArray | None) -> None:
        self._dgamma_update = value

    @property
    def fprime_hist(self) -> npt.NDArray[np.int64] | None:
        """Counts ``(FPRIME_BINS,)`` of ``f'(z)`` over the batch and the units.

        Bin ``k`` holds ``k/20 ≤ f' < (k+1)/20``; the last bin includes ``f' = 1`` (ReLU's
        active units). Values below 0 or above 1 are counted by :attr:`fprime_below` and
        :attr:`fprime_above` instead; NaN is not counted. Sigmoid's ``σ' ≤ 0.25`` fills
        bins 0–5 at most, so saturation shows as mass in bin 0.
        """
        counts = self.fprime_counts()
        return None if counts is None else counts[0]

    def fprime_counts(self) -> tuple[npt.NDArray[np.int64], int, int] | None:
        """:attr:`fprime_hist`, :attr:`fprime_below` and :attr:`fprime_above` at once
        (a frame shows all three; most activations keep ``f'`` within [0, 1], which
        takes two reductions to see and spares the masks)."""
        fp = self.fprime
        if fp is None:
            return None
        flat = fp.reshape(-1)
        # (the reductions as ufunc calls: a frame asks for this on every layer, and the
        # arrays are small; NaN compares False)
        if flat.size and np.minimum.reduce(flat) >= 0.0 and np.maximum.reduce(flat) <= 1.0:
            inside, below, above = flat, 0, 0
        else:
            inside = flat[(flat >= 0.0) & (flat <= 1.0)]
            below, above = int(np.count_nonzero(fp < 0.0)), int(np.count_nonzero(fp > 1.0))
        idx = (inside * FPRIME_BINS).astype(np.intp)
        np.minimum(idx, FPRIME_BINS - 1, out=idx)
        counts = np.bincount(idx, minlength=FPRIME_BINS).astype(np.int64, copy=False)
        return counts, below, above

    @property
    def fprime_below(self) -> int | None:
        """How many ``f'(z)`` of the batch are below 0 (SiLU only; the others are ≥ 0)."""
        fp = self.fprime
        return None if fp is None else int(np.count_nonzero(fp < 0.0))

    @property
    def fprime_above(self) -> int | None:
        """How many ``f'(z)`` of the batch exceed 1 (SiLU only, up to 1.0998)."""
        fp = self.fprime
        return None if fp is None else int(np.count_nonzero(fp > 1.0))

    @property
    def dead_mask(self) -> npt.NDArray[np.bool_] | None:
        """``(n,)`` True for units with ``|f'(z)| < 1e-3 · f'_max`` on every example.

        ``f'_max`` is the activation's largest derivative (``Activation.der_max``: sigmoid
        0.25, SiLU 1.0998, others 1). For ReLU that is ``f' = 0`` throughout (a dead
        unit: ``z ≤ 0`` for the whole batch); for sigmoid, tanh, ELU, softplus it is a
        saturated unit; leaky ReLU (``f' ≥ 0.01``) and linear never qualify.
        """
        fp = self.fprime
        if fp is None:
            return None
        limit = DEAD_THRESHOLD * get_activation(self.activation).der_max
        peak = np.maximum.reduce(np.abs(fp), axis=0) if fp.shape[0] else np.zeros(fp.shape[1])
        dead: npt.NDArray[np.bool_] = peak < limit
        return dead

    @property
    def dead_fraction(self) -> float | None:
        """Share of the layer's units that :attr:`dead_mask` marks (0..1)."""
        dead = self.dead_mask
        return None if dead is None else float(np.count_nonzero(dead)) / max(1, dead.shape[0])

    def snapshot(self) -> LayerTrace:
        """A copy owning its arrays (safe to keep after the next step)."""
        new = LayerTrace(self.layer, self.activation, self.batchnorm, self.residual)
        for name in self._ARRAYS:
            arr = getattr(self, name)
            if arr is not None:
                setattr(new, name, arr.copy())
        if new.a_raw is not None and self.a is self.a_raw:
            new.a = new.a_raw
        for name in self._FLOATS:
            value = getattr(self, name)
            if value is not None:
                setattr(new, name, value)
        return new


class Trace:
    """Everything one step computed, filled phase by phase.

    Attributes:
        step: number of this step (1 for the first step after a reset).
        epoch: 1-based pass over the training set this batch belongs to.
        batch: indices into the training set ``(B,)``.
        x: inputs ``a⁽⁰⁾`` ``(B, n_in)``; y: targets ``(B, n_out)``.
        layers: one :class:`LayerTrace` per layer (``layers[l-1]``).
        hyper: the :class:`StepHyper` settings this step used.
        loss: mean data loss of the batch; penalty: L1/L2 term; objective: their sum.
        output_delta: ``δ⁽ᴸ⁾`` ``(B, n_out)`` from the loss phase.
        grad_norm: global gradient norm ``sqrt(Σ ‖dW‖² + ‖db‖²)`` before clipping.
        clip_scale: factor applied to the gradients (1.0 when not clipped).
        clipped: whether clipping changed the gradients.
        phases_done: how many phases of this step have run.
        complete: the update was applied.
        diverged: this step hit a non-finite value; diverged_reason says where.
    """

    step: int = 0
    epoch: int = 0
    batch: npt.NDArray[np.intp] | None = None
    x: FloatArray | None = None
    y: FloatArray | None = None
    hyper: StepHyper | None = None
    loss: float | None = None
    penalty: float | None = None
    objective: float | None = None
    output_delta: FloatArray | None = None
    grad_norm: float | None = None
    clip_scale: float = 1.0
    clipped: bool = False
    phases_done: int = 0
    complete: bool = False
    diverged: bool = False
    diverged_reason: str | None = None

    def __init__(self, layers: list[LayerTrace]) -> None:
        self.layers = layers

    def snapshot(self) -> Trace:
        """A deep copy owning its arrays (safe to keep after later steps)."""
        new = Trace([rec.snapshot() for rec in self.layers])
        new.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("layers", "x", "y", "batch")}
        )
        new.x = None if self.x is None else self.x.copy()
        new.y = None if self.y is None else self.y.copy()
        new.batch = None if self.batch is None else self.batch.copy()
        if self.output_delta is not None:
            new.output_delta = new.layers[-1].delta
        return new
