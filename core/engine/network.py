"""The network: a list of layers, each with ``forward`` and ``backward`` side by side.

A layer owns its parameters and preallocated buffers for the batch size in use, and
writes what it computed into its current :class:`LayerTrace` record (``layer.rec``),
so the stepper streams what the engine computed instead of recomputing it. The
stepper only loops over ``network.layers`` calling the :class:`Layer` methods: a
hidden layer with BatchNorm and/or an identity skip is a :class:`DenseBlock`, one
numbered layer like any other, so the phases stay forward 1..L, loss, backward L..1,
update. Plain layers are :class:`Dense`, whose hot path knows nothing of either.

Conventions (docs/design.md): batch axis first, ``W`` is ``(n_out, n_in)``,
``z = a_prev @ W.T + b``, layers numbered ``1..L``, ``a⁽⁰⁾ = x``, ``δ`` per example,
``dW = δᵀ a_prev / B``, ``db = mean(δ)``, L1/L2 penalties added to ``dW``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .activations import ACTIVATIONS, Activation, FloatArray, get_activation
from .initializers import INITIALIZERS, init_weights
from .losses import LOSSES, Loss

__all__ = [
    "BN_EPS",
    "BN_MOMENTUM",
    "DEAD_THRESHOLD",
    "FPRIME_BINS",
    "Dense",
    "DenseBlock",
    "Layer",
    "LayerTrace",
    "Network",
    "NetworkSpec",
]

DTYPES: dict[str, type[np.floating[Any]]] = {"float64": np.float64, "float32": np.float32}

BN_EPS = 1e-5
"""``ε`` in BatchNorm's ``ẑ = (z − μ) / √(σ² + ε)``."""

BN_MOMENTUM = 0.9
"""Weight of the old value in BatchNorm's running averages (Keras' ``momentum=0.9``,
PyTorch's ``momentum=0.1``): ``running ← 0.9 · running + 0.1 · batch statistic``."""

FPRIME_BINS = 20
"""Bins of ``LayerTrace.fprime_hist``: ``[0, 0.05), [0.05, 0.1), …, [0.95, 1]``."""

DEAD_THRESHOLD = 1e-3
"""A unit is dead/saturated when ``|f'(z)| < DEAD_THRESHOLD · f'_max`` for the whole batch."""


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
    update:   ``dW_update`` (n, n_in) and ``db_update`` (n,), the change applied
      (``ΔW``); their norms are the properties ``dW_update_norm``, ``db_update_norm``.

    BatchNorm layers (``batchnorm`` is true; see :class:`DenseBlock`) have no bias: β
    takes its place, so ``db`` is ``dβ`` and ``db_update`` is ``Δβ``. Forward adds
    ``z = a_prev @ W.T`` (B, n) (no ``+ b``), ``bn_mean`` (n,) and ``bn_var`` (n,) — the batch
    mean and variance (divided by B) of ``z`` —, ``z_hat = (z − μ)/√(σ² + ε)`` (B, n) and
    ``z_bn = γ ⊙ ẑ + β`` (B, n), the input of ``f``: ``a_raw = f(z_bn)``. Backward:
    ``fprime = f'(z_bn)``, ``delta = ∂ℓ/∂z_bn = grad_a ⊙ f'(z_bn)`` (B, n) (so
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
    )
    _FLOATS = (
        "delta_mean_norm",
        "delta_norm",
        "dW_norm",
        "W_norm",
        "dW_ratio",
    )

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
    dW_update: FloatArray | None = None
    db_update: FloatArray | None = None
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
    dgamma_update: FloatArray | None = None

    def __init__(self, layer: int, activation: str) -> None:
        # Unset fields fall back to the class-level ``None`` (cheap to create per step).
        self.layer = layer
        self.activation = activation

    @property
    def dW_update_norm(self) -> float | None:  # noqa: N802
        """``‖ΔW‖_F`` (computed on access from ``dW_update``)."""
        u = self.dW_update
        return None if u is None else math.sqrt(float(np.vdot(u, u)))

    @property
    def db_update_norm(self) -> float | None:
        """``‖Δb‖`` (computed on access from ``db_update``)."""
        u = self.db_update
        return None if u is None else math.sqrt(float(np.vdot(u, u)))

    @property
    def fprime_hist(self) -> npt.NDArray[np.int64] | None:
        """Counts ``(FPRIME_BINS,)`` of ``f'(z)`` over the batch and the units.

        Bin ``k`` holds ``k/20 ≤ f' < (k+1)/20``; the last bin includes ``f' = 1`` (ReLU's
        active units). Values below 0 or above 1 are counted by :attr:`fprime_below` and
        :attr:`fprime_above` instead; NaN is not counted. Sigmoid's ``σ' ≤ 0.25`` fills
        bins 0–5 at most, so saturation shows as mass in bin 0.
        """
        fp = self.fprime
        if fp is None:
            return None
        flat = fp.reshape(-1)
        inside = flat[(flat >= 0.0) & (flat <= 1.0)]
        idx = np.minimum((inside * FPRIME_BINS).astype(np.intp), FPRIME_BINS - 1)
        return np.bincount(idx, minlength=FPRIME_BINS).astype(np.int64)

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
        peak = np.abs(fp).max(axis=0) if fp.shape[0] else np.zeros(fp.shape[1])
        dead: npt.NDArray[np.bool_] = peak < limit
        return dead

    @property
    def dead_fraction(self) -> float | None:
        """Share of the layer's units that :attr:`dead_mask` marks (0..1)."""
        dead = self.dead_mask
        return None if dead is None else float(np.count_nonzero(dead)) / max(1, dead.shape[0])

    def snapshot(self) -> LayerTrace:
        """A copy owning its arrays (safe to keep after the next step)."""
        new = LayerTrace(self.layer, self.activation)
        new.batchnorm = self.batchnorm
        new.residual = self.residual
        for name in self._ARRAYS:
            arr = getattr(self, name)
            setattr(new, name, None if arr is None else arr.copy())
        if new.a_raw is not None and self.a is self.a_raw:
            new.a = new.a_raw
        for name in self._FLOATS:
            setattr(new, name, getattr(self, name))
        return new

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: arrays as nested lists, non-finite floats as ``None``."""
        out: dict[str, Any] = {
            "layer": self.layer,
            "activation": self.activation,
            "batchnorm": self.batchnorm,
            "residual": self.residual,
        }
        for name in self._ARRAYS:
            arr = getattr(self, name)
            out[name] = None if arr is None else _json_array(arr)
        for name in (*self._FLOATS, "dW_update_norm", "db_update_norm", "dead_fraction"):
            out[name] = _json_float(getattr(self, name))
        hist = self.fprime_hist
        out["fprime_hist"] = None if hist is None else hist.tolist()
        out["fprime_below"] = self.fprime_below
        out["fprime_above"] = self.fprime_above
        dead = self.dead_mask
        out["dead_mask"] = None if dead is None else dead.tolist()
        return out


def _json_float(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _json_array(arr: npt.NDArray[Any]) -> Any:
    a = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        obj = a.astype(object)
        obj[~finite] = None  # NaN/inf → JSON null
        return obj.tolist()
    return a.tolist()


class Layer(Protocol):
    """What the stepper needs from a layer (:class:`Dense`, :class:`DenseBlock`)."""

    index: int
    rec: LayerTrace | None

    def prepare(self, batch_size: int) -> None:
        """Select (allocating once) the buffers for batches of ``batch_size`` examples."""
        ...

    def forward(self, a_prev: FloatArray, train: bool) -> FloatArray:
        """Training-path forward ``(B, n_in) → (B, n_out)`` into buffers."""
        ...

    def backward(self, upstream: FloatArray) -> FloatArray | None:
        """Backward from ``∂L/∂a`` (or ``δ`` for the output layer) → ``∂L/∂a_prev`` or None."""
        ...

    def infer(self, a_prev: FloatArray) -> FloatArray:
        """Inference forward ``(N, n_in) → (N, n_out)`` with fresh arrays, no dropout."""
        ...

    def record_update(self) -> None:
        """Point ``rec`` at the applied parameter changes."""
        ...

    def param_shapes(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """``(name, shape, decays)`` of each parameter, in storage order."""
        ...

    def param_arrays(self) -> list[FloatArray]:
        """The current parameter arrays, in the order of :meth:`param_shapes`."""
        ...

    def bind(
        self, params: list[FloatArray], grads: list[FloatArray], updates: list[FloatArray]
    ) -> None:
        """Adopt views into the network's flat parameter / gradient / update vectors."""
        ...


class _Buffers:
    """Per-batch-size work arrays of a dense layer (and views of them, made once)."""

    __slots__ = (
        "a",
        "a_raw",
        "b_rows",
        "delta",
        "delta_T",
        "delta_flat",
        "fprime",
        "grad_prev",
        "inv_B",
        "mask",
        "u",
        "z",
    )

    def __init__(self, B: int, n_in: int, n: int, dtype: Any, dropout: bool, first: bool) -> None:
        self.z = np.empty((B, n), dtype)
        # Small layers add the bias from a (B, n) copy: the copy and a same-shape add
        # cost less than NumPy's broadcasting add (same numbers); large ones broadcast.
        self.b_rows: FloatArray | None = np.empty((B, n), dtype) if B * n <= 2048 else None
        self.a_raw = np.empty((B, n), dtype)
        self.a = np.empty((B, n), dtype) if dropout else self.a_raw
        self.mask: FloatArray | None = np.empty((B, n), dtype) if dropout else None
        self.fprime = np.empty((B, n), dtype)
        self.delta = np.empty((B, n), dtype)
        self.delta_T = self.delta.T
        self.delta_flat = self.delta.reshape(-1)
        self.grad_prev: FloatArray | None = None if first else np.empty((B, n_in), dtype)
        self.u = np.full(B, 1.0 / B, dtype)  # db = u @ delta = mean over the batch
        # dW = (δᵀ a_prev) · (1/B); a 0-d array of the dtype gives the same numbers as the
        # Python float (which NumPy casts to the dtype) without its per-call conversion.
        self.inv_B: FloatArray | None = np.array(1.0 / B, dtype) if B != 1 else None


class Dense:
    """Fully connected layer ``a = f(a_prev @ W.T + b)``, optional inverted dropout.

    Attributes:
        index: layer number ``l`` in ``1..L``.
        W: ``(n_out, n_in)``; b: ``(n_out,)`` — updated in place, never rebound
            (inside a :class:`Network` they are views into ``network.params``).
        dW, db: gradients (views into ``network.grads``).
        dW_update, db_update: the applied change ``ΔW`` (views into ``network.updates``).
        activation: the :class:`Activation` object.
        is_output: output layer (its ``backward`` receives ``δ⁽ᴸ⁾`` from the loss).
        dropout: drop probability ``p`` on this layer's output (hidden layers only).
        l1, l2: penalty weights added to ``dW`` (``l1 sign(W) + l2 W``).
        rec: the :class:`LayerTrace` being filled (``None``: record nothing).
    """

    def __init__(
        self,
        index: int,
        W: FloatArray,
        b: FloatArray,
        activation: Activation,
        *,
        is_output: bool = False,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.index = index
        self.n_out, self.n_in = W.shape
        self.activation = activation
        self.is_output = is_output
        self.is_first = index == 1
        self.dropout = 0.0 if is_output else float(dropout)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.l1 = 0.0
        self.l2 = 0.0
        self.rec: LayerTrace | None = None
        self._cache: dict[int, _Buffers] = {}
        self._buf: _Buffers | None = None
        self._buf_B = 0
        self._a_prev: FloatArray | None = None
        self._mask_on = False
        params = self._initial_params(W, b)
        self.bind(params, [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params])

    def _initial_params(self, W: FloatArray, b: FloatArray) -> list[FloatArray]:
        """The parameter arrays a new layer starts from (``[W, b]``), as fresh copies."""
        return [np.array(W), np.array(b)]

    def param_shapes(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """``[("W", (n_out, n_in), True), ("b", (n_out,), False)]`` (only W decays)."""
        return [("W", (self.n_out, self.n_in), True), ("b", (self.n_out,), False)]

    def param_arrays(self) -> list[FloatArray]:
        """``[W, b]``."""
        return [self.W, self.b]

    def bind(
        self, params: list[FloatArray], grads: list[FloatArray], updates: list[FloatArray]
    ) -> None:
        """Adopt ``[W, b]``, ``[dW, db]``, ``[ΔW, Δb]`` arrays (usually flat-vector views)."""
        self.W, self.b = params
        self.dW, self.db = grads
        self.dW_update, self.db_update = updates
        self._WT = self.W.T
        self._W_flat = self.W.reshape(-1)
        self._dW_flat = self.dW.reshape(-1)
        self._tmpW = np.empty_like(self.W)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (weights and biases)."""
        return self.W.size + self.b.size

    def prepare(self, batch_size: int) -> None:
        """Select (allocating on first use) the work buffers for ``batch_size`` examples."""
        if batch_size == self._buf_B:
            return
        buf = self._cache.get(batch_size)
        if buf is None:
            if len(self._cache) >= 4:
                self._cache.clear()
            buf = _Buffers(
                batch_size,
                self.n_in,
                self.n_out,
                self.W.dtype,
                self.dropout > 0.0,
                self.is_first,
            )
            self._cache[batch_size] = buf
        self._buf = buf
        self._buf_B = batch_size

    @property
    def delta_buffer(self) -> FloatArray:
        """The ``(B, n_out)`` buffer ``backward`` uses for ``δ`` (the loss writes ``δ⁽ᴸ⁾`` here)."""
        assert self._buf is not None, "prepare(batch_size) first"
        return self._buf.delta

    def forward(self, a_prev: FloatArray, train: bool) -> FloatArray:
        """``z = a_prev @ W.T + b``, ``a = f(z)`` (⊙ dropout mask when training).

        Args:
            a_prev: ``(B, n_in)``, B as given to :meth:`prepare`.
            train: apply dropout (hidden layers with ``dropout > 0``).

        Returns:
            ``a`` ``(B, n_out)`` — a buffer overwritten by the next forward.
        """
        buf = self._buf
        assert buf is not None, "prepare(batch_size) first"
        z = buf.z
        # Hot path, dozens of small calls per step: ndarray methods skip the
        # ``__array_function__`` dispatch of ``np.dot``, and ``out`` is passed by position
        # (keyword parsing costs a fifth of a small ufunc call). Same calls, same numbers.
        a_prev.dot(self._WT, z)
        b_rows = buf.b_rows
        if b_rows is not None:
            b_rows[...] = self.b
            np.add(z, b_rows, z)
        else:
            np.add(z, self.b, z)
        a = self.activation.f(z, out=buf.a_raw)
        self._a_prev = a_prev
        mask = buf.mask
        self._mask_on = train and mask is not None
        if mask is not None:
            if train:
                self.rng.random(dtype=mask.dtype, out=mask)
                np.greater_equal(mask, self.dropout, out=mask)
                np.multiply(mask, 1.0 / (1.0 - self.dropout), out=mask)
                a = np.multiply(a, mask, out=buf.a)
            else:
                np.copyto(buf.a, a)
                a = buf.a
        rec = self.rec
        if rec is not None:
            rec.a_prev = a_prev
            rec.z = z
            rec.a_raw = buf.a_raw
            rec.mask = mask if self._mask_on else None
            rec.a = a
        return a

    def backward(self, upstream: FloatArray) -> FloatArray | None:
        """One layer of backprop: ``δ``, ``dW``, ``db`` and the gradient for the layer before.

        Args:
            upstream: ``∂L/∂a⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾`` per example ``(B, n_out)``; for the
                output layer, ``δ⁽ᴸ⁾`` itself (the loss already applied ``f'``).

        Returns:
            ``∂L/∂a⁽ˡ⁻¹⁾ = δ⁽ˡ⁾ W⁽ˡ⁾`` ``(B, n_in)`` (the page's ``W⁽ˡ⁾ᵀ δ⁽ˡ⁾`` per example),
            from which the layer before forms its ``δ⁽ˡ⁻¹⁾ = … ⊙ f'(z⁽ˡ⁻¹⁾)``;
            ``None`` for layer 1.
        """
        buf = self._buf
        a_prev = self._a_prev
        assert buf is not None and a_prev is not None, "forward first"
        fp = self.activation.der(buf.z, buf.a_raw, out=buf.fprime)
        delta = buf.delta
        is_output = self.is_output
        if is_output:
            if upstream is not delta:
                delta[...] = upstream
        else:
            np.multiply(upstream, fp, delta)
            if self._mask_on:
                assert buf.mask is not None
                np.multiply(delta, buf.mask, out=delta)
        dW = self.dW
        W = self.W
        buf.delta_T.dot(a_prev, dW)
        inv_B = buf.inv_B
        if inv_B is not None:
            np.multiply(dW, inv_B, dW)
        if self.l2 != 0.0:
            np.multiply(W, self.l2, out=self._tmpW)
            np.add(dW, self._tmpW, out=dW)
        if self.l1 != 0.0:
            np.sign(W, out=self._tmpW)
            np.multiply(self._tmpW, self.l1, out=self._tmpW)
            np.add(dW, self._tmpW, out=dW)
        db = self.db
        buf.u.dot(delta, db)
        grad_prev = buf.grad_prev
        if grad_prev is not None:
            delta.dot(W, grad_prev)
        rec = self.rec
        if rec is not None:
            sqrt = math.sqrt
            dflat = buf.delta_flat
            dW_flat = self._dW_flat
            W_flat = self._W_flat
            dW_norm = sqrt(dW_flat.dot(dW_flat))
            W_norm = sqrt(W_flat.dot(W_flat))
            rec.grad_a = None if is_output else upstream
            rec.fprime = fp
            rec.delta = delta
            rec.dW = dW
            rec.db = db
            rec.delta_mean_norm = sqrt(db.dot(db))
            rec.delta_norm = sqrt(dflat.dot(dflat) / delta.shape[0])
            rec.dW_norm = dW_norm
            rec.W_norm = W_norm
            rec.dW_ratio = dW_norm / W_norm if W_norm > 0.0 else math.inf
        return grad_prev

    def record_update(self) -> None:
        """Point the trace record at the applied changes ``ΔW``, ``Δb``."""
        rec = self.rec
        if rec is not None:
            rec.dW_update = self.dW_update
            rec.db_update = self.db_update

    def infer(self, a_prev: FloatArray) -> FloatArray:
        """``f(a_prev @ W.T + b)`` for ``(N, n_in)`` → ``(N, n_out)``; fresh arrays, no dropout."""
        return self.infer_z(a_prev)[1]

    def infer_z(self, a_prev: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Like :meth:`infer` but returns ``(z, a)``, both ``(N, n_out)``."""
        z = np.dot(a_prev, self._WT)
        np.add(z, self.b, out=z)
        return z, self.activation.f(z)


class _BlockBuffers:
    """Per-batch-size work arrays of a :class:`DenseBlock`."""

    __slots__ = (
        "a",
        "a_raw",
        "delta",
        "delta_flat",
        "delta_z",
        "fprime",
        "grad_prev",
        "inv_B",
        "inv_std",
        "mask",
        "mean",
        "scale",
        "tmp",
        "u",
        "var",
        "z",
        "z_bn",
        "z_hat",
    )

    def __init__(
        self,
        B: int,
        n_in: int,
        n: int,
        dtype: Any,
        dropout: bool,
        first: bool,
        batchnorm: bool,
        residual: bool,
    ) -> None:
        def bn(*shape: int) -> FloatArray | None:
            return np.empty(shape, dtype) if batchnorm else None

        self.z = np.empty((B, n), dtype)
        self.z_hat = bn(B, n)
        self.z_bn = bn(B, n)
        self.mean = bn(n)
        self.var = bn(n)
        self.inv_std = bn(n)
        self.scale = bn(n)
        self.tmp = bn(B, n)
        self.a_raw = np.empty((B, n), dtype)
        self.a = np.empty((B, n), dtype) if dropout or residual else self.a_raw
        self.mask: FloatArray | None = np.empty((B, n), dtype) if dropout else None
        self.fprime = np.empty((B, n), dtype)
        self.delta = np.empty((B, n), dtype)
        self.delta_flat = self.delta.reshape(-1)
        self.delta_z = np.empty((B, n), dtype) if batchnorm else self.delta
        self.grad_prev: FloatArray | None = None if first else np.empty((B, n_in), dtype)
        self.u = np.full(B, 1.0 / B, dtype)  # mean over the batch = u @ (B, n)
        self.inv_B = np.array(1.0 / B, dtype)


class DenseBlock(Dense):
    """A hidden dense layer with BatchNorm and/or an identity skip (residual connection).

    Forward, for a batch of ``B`` examples (the page's notation per example)::

        z     = a_prev @ W.T                  (+ b without BatchNorm)
        μ, σ² = mean and variance of z over the batch (divided by B)     [BatchNorm]
        ẑ     = (z − μ) / √(σ² + ε),  ε = 1e-5                            [BatchNorm]
        z_bn  = γ ⊙ ẑ + β                                                 [BatchNorm]
        a     = f(z_bn) ⊙ mask  (+ a_prev with the skip)

    BatchNorm makes the dense bias redundant (any shift of ``z`` is subtracted again
    with ``μ``, so ``∂L/∂b`` would be exactly 0): the layer has no bias and β takes its
    place — ``b`` *is* β (``self.beta``), ``db`` is ``dβ``. Parameters ``[W, γ, β]``
    start as the initializer's ``W``, ``γ = 1`` and ``β = 0`` (the initializer's bias
    draw is made and discarded, so ``W`` is the same as in the network without
    BatchNorm: two lab sides differ only in the BatchNorm).

    Training mode (:meth:`forward`, what the stepper runs) normalizes with the batch's
    ``μ, σ²`` and updates the running averages (:data:`BN_MOMENTUM` 0.9):
    ``running_mean ← 0.9 running_mean + 0.1 μ``, ``running_var ← 0.9 running_var +
    0.1 σ² B/(B−1)`` (the unbiased variance, as PyTorch; not updated when ``B = 1``).
    They start at 0 and 1. Inference (:meth:`infer`, used by ``Network.predict``,
    ``forward_all``, ``objective``) normalizes with the running averages instead.
    With a batch of one example ``ẑ = 0``: the layer outputs ``f(β)`` and no gradient
    reaches ``W`` (BatchNorm needs a batch).

    Backward, with ``δ = ∂ℓ/∂z_bn = grad_a ⊙ f'(z_bn) (⊙ mask)`` per example::

        dβ = mean δ,   dγ = mean (δ ⊙ ẑ)
        δ_z = ∂ℓ/∂z = γ/√(σ²+ε) ⊙ (δ − dβ − ẑ ⊙ dγ)      (the compact BatchNorm backward)
        dW = δ_zᵀ a_prev / B,   grad to the layer before = δ_z W  (+ grad_a with the skip)

    The skip ``a = f(·) + a_prev`` sends ``grad_a`` down unchanged: that is why a residual
    network keeps gradients flowing. It needs ``n_in == n_out``.

    Attributes (beyond :class:`Dense`):
        batchnorm, residual: which of the two this layer does.
        gamma, dgamma, dgamma_update: ``γ`` ``(n_out,)``, its gradient and applied change.
        beta: ``β`` (the same array as ``b``).
        running_mean, running_var: ``(n_out,)`` running averages (state, not parameters).
    """

    def __init__(
        self,
        index: int,
        W: FloatArray,
        b: FloatArray,
        activation: Activation,
        *,
        batchnorm: bool = False,
        residual: bool = False,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        n_out, n_in = W.shape
        if residual and n_in != n_out:
            raise ValueError(f"layer {index}: a skip needs n_in == n_out, got {n_in}, {n_out}")
        self.batchnorm = bool(batchnorm)
        self.residual = bool(residual)
        self.eps = BN_EPS
        self.momentum = BN_MOMENTUM
        self._rec: LayerTrace | None = None
        self._bbuf: _BlockBuffers | None = None
        self._block_cache: dict[int, _BlockBuffers] = {}
        self._pre: FloatArray | None = None
        super().__init__(index, W, b, activation, is_output=False, dropout=dropout, rng=rng)
        self.running_mean: FloatArray = np.zeros(n_out, W.dtype)
        self.running_var: FloatArray = np.ones(n_out, W.dtype)

    # The trace record carries the layer's kind from the moment the stepper assigns it.
    @property
    def rec(self) -> LayerTrace | None:
        """The :class:`LayerTrace` being filled (its ``batchnorm``/``residual`` set)."""
        return self._rec

    @rec.setter
    def rec(self, rec: LayerTrace | None) -> None:
        if rec is not None:
            rec.batchnorm = self.batchnorm
            rec.residual = self.residual
        self._rec = rec

    def _initial_params(self, W: FloatArray, b: FloatArray) -> list[FloatArray]:
        if not self.batchnorm:
            return [np.array(W), np.array(b)]
        return [np.array(W), np.ones_like(b), np.zeros_like(b)]

    def param_shapes(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """``W`` (decays) then ``b``; with BatchNorm ``W``, ``gamma``, ``beta`` instead."""
        n = self.n_out
        if not self.batchnorm:
            return super().param_shapes()
        return [("W", (n, self.n_in), True), ("gamma", (n,), False), ("beta", (n,), False)]

    def param_arrays(self) -> list[FloatArray]:
        """``[W, b]``, or ``[W, γ, β]`` with BatchNorm."""
        return [self.W, self.gamma, self.b] if self.batchnorm else [self.W, self.b]

    def bind(
        self, params: list[FloatArray], grads: list[FloatArray], updates: list[FloatArray]
    ) -> None:
        """Adopt ``[W, b]`` or, with BatchNorm, ``[W, γ, β]`` (and their gradients/updates)."""
        if self.batchnorm:
            W, self.gamma, b = params
            dW, self.dgamma, db = grads
            dW_u, self.dgamma_update, db_u = updates
        else:
            W, b = params
            dW, db = grads
            dW_u, db_u = updates
            self.gamma = self.dgamma = self.dgamma_update = np.zeros(0, W.dtype)
        super().bind([W, b], [dW, db], [dW_u, db_u])

    @property
    def beta(self) -> FloatArray:
        """``β`` ``(n_out,)``: BatchNorm's shift, stored as the layer's ``b``."""
        return self.b

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (``W``, ``b`` or ``W``, ``γ``, ``β``)."""
        return sum(p.size for p in self.param_arrays())

    def prepare(self, batch_size: int) -> None:
        """Select (allocating on first use) the work buffers for ``batch_size`` examples."""
        if batch_size == self._buf_B and self._bbuf is not None:
            return
        buf = self._block_cache.get(batch_size)
        if buf is None:
            if len(self._block_cache) >= 4:
                self._block_cache.clear()
            buf = _BlockBuffers(
                batch_size,
                self.n_in,
                self.n_out,
                self.W.dtype,
                self.dropout > 0.0,
                self.is_first,
                self.batchnorm,
                self.residual,
            )
            self._block_cache[batch_size] = buf
        self._bbuf = buf
        self._buf_B = batch_size

    @property
    def delta_buffer(self) -> FloatArray:
        """The ``(B, n_out)`` buffer of ``δ``."""
        assert self._bbuf is not None, "prepare(batch_size) first"
        return self._bbuf.delta

    def forward(self, a_prev: FloatArray, train: bool) -> FloatArray:
        """``z``, BatchNorm (batch statistics when ``train``), ``f``, dropout, skip.

        Args:
            a_prev: ``(B, n_in)``.
            train: batch statistics, running-average update and dropout (the stepper's
                path); ``False`` normalizes with the running averages instead.

        Returns:
            ``a`` ``(B, n_out)`` — a buffer overwritten by the next forward.
        """
        buf = self._bbuf
        assert buf is not None, "prepare(batch_size) first"
        z = buf.z
        np.dot(a_prev, self.W.T, out=z)
        if self.batchnorm:
            pre = self._bn_forward(z, buf, train)
        else:
            np.add(z, self.b, out=z)
            pre = z
        self._pre = pre
        a = self.activation.f(pre, out=buf.a_raw)
        self._a_prev = a_prev
        mask = buf.mask
        self._mask_on = train and mask is not None
        if mask is not None:
            if train:
                self.rng.random(dtype=mask.dtype, out=mask)
                np.greater_equal(mask, self.dropout, out=mask)
                np.multiply(mask, 1.0 / (1.0 - self.dropout), out=mask)
                a = np.multiply(a, mask, out=buf.a)
            else:
                np.copyto(buf.a, a)
                a = buf.a
        if self.residual:
            a = np.add(a, a_prev, out=buf.a)
        rec = self._rec
        if rec is not None:
            rec.a_prev = a_prev
            rec.z = z
            if self.batchnorm:
                rec.bn_mean = buf.mean
                rec.bn_var = buf.var
                rec.z_hat = buf.z_hat
                rec.z_bn = buf.z_bn
            rec.a_raw = buf.a_raw
            rec.mask = mask if self._mask_on else None
            rec.a = a
        return a

    def _bn_forward(self, z: FloatArray, buf: _BlockBuffers, train: bool) -> FloatArray:
        """``z_bn = γ ⊙ (z − μ)/√(σ² + ε) + β`` into ``buf.z_bn``; running update if ``train``."""
        mean, var, inv_std = buf.mean, buf.var, buf.inv_std
        z_hat, z_bn, tmp = buf.z_hat, buf.z_bn, buf.tmp
        assert mean is not None and var is not None and inv_std is not None
        assert z_hat is not None and z_bn is not None and tmp is not None
        if train:
            buf.u.dot(z, mean)  # μ = mean over the batch
            np.subtract(z, mean, out=z_hat)
            np.multiply(z_hat, z_hat, out=tmp)
            buf.u.dot(tmp, var)  # σ² = mean (z − μ)², divided by B
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            B = z.shape[0]
            if B > 1:
                self.running_var *= m
                self.running_var += (1.0 - m) * (B / (B - 1)) * var
        else:
            np.copyto(mean, self.running_mean)
            np.copyto(var, self.running_var)
            np.subtract(z, mean, out=z_hat)
        np.add(var, self.eps, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        np.multiply(z_hat, inv_std, out=z_hat)
        np.multiply(z_hat, self.gamma, out=z_bn)
        np.add(z_bn, self.b, out=z_bn)
        return z_bn

    def backward(self, upstream: FloatArray) -> FloatArray | None:
        """``δ`` at ``f``'s input, BatchNorm's backward, ``dW`` and the gradient passed down.

        Args:
            upstream: ``∂L/∂a⁽ˡ⁾`` per example ``(B, n_out)``.

        Returns:
            ``∂L/∂a⁽ˡ⁻¹⁾ = δ_z W (+ upstream through the skip)`` ``(B, n_in)``; ``None``
            for layer 1.
        """
        buf = self._bbuf
        a_prev = self._a_prev
        pre = self._pre
        assert buf is not None and a_prev is not None and pre is not None, "forward first"
        fp = self.activation.der(pre, buf.a_raw, out=buf.fprime)
        delta = buf.delta
        np.multiply(upstream, fp, out=delta)
        if self._mask_on:
            assert buf.mask is not None
            np.multiply(delta, buf.mask, out=delta)
        db = self.db
        buf.u.dot(delta, db)  # db = mean δ (= dβ with BatchNorm)
        if self.batchnorm:
            z_hat, tmp, scale, inv_std = buf.z_hat, buf.tmp, buf.scale, buf.inv_std
            assert z_hat is not None and tmp is not None
            assert scale is not None and inv_std is not None
            dgamma = self.dgamma
            np.multiply(delta, z_hat, out=tmp)
            buf.u.dot(tmp, dgamma)  # dγ = mean (δ ⊙ ẑ)
            delta_z = buf.delta_z  # δ_z = γ/√(σ²+ε) ⊙ (δ − dβ − ẑ ⊙ dγ)
            np.multiply(z_hat, dgamma, out=delta_z)
            np.add(delta_z, db, out=delta_z)
            np.subtract(delta, delta_z, out=delta_z)
            np.multiply(self.gamma, inv_std, out=scale)
            np.multiply(delta_z, scale, out=delta_z)
        else:
            delta_z = delta
        dW = self.dW
        W = self.W
        np.dot(delta_z.T, a_prev, out=dW)
        np.multiply(dW, buf.inv_B, out=dW)
        if self.l2 != 0.0:
            np.multiply(W, self.l2, out=self._tmpW)
            np.add(dW, self._tmpW, out=dW)
        if self.l1 != 0.0:
            np.sign(W, out=self._tmpW)
            np.multiply(self._tmpW, self.l1, out=self._tmpW)
            np.add(dW, self._tmpW, out=dW)
        grad_prev = buf.grad_prev
        if grad_prev is not None:
            np.dot(delta_z, W, out=grad_prev)
            if self.residual:
                np.add(grad_prev, upstream, out=grad_prev)  # the skip's gradient
        rec = self._rec
        if rec is not None:
            dflat = buf.delta_flat
            dW_norm = math.sqrt(float(self._dW_flat.dot(self._dW_flat)))
            W_norm = math.sqrt(float(self._W_flat.dot(self._W_flat)))
            rec.grad_a = upstream
            rec.fprime = fp
            rec.delta = delta
            rec.dW = dW
            rec.db = db
            if self.batchnorm:
                rec.delta_z = delta_z
                rec.dgamma = self.dgamma
            rec.delta_mean_norm = math.sqrt(float(db.dot(db)))
            rec.delta_norm = math.sqrt(float(dflat.dot(dflat)) / delta.shape[0])
            rec.dW_norm = dW_norm
            rec.W_norm = W_norm
            rec.dW_ratio = dW_norm / W_norm if W_norm > 0.0 else math.inf
        return grad_prev

    def record_update(self) -> None:
        """Point the trace record at ``ΔW``, ``Δb`` (``Δβ``) and ``Δγ``."""
        rec = self._rec
        if rec is not None:
            rec.dW_update = self.dW_update
            rec.db_update = self.db_update
            if self.batchnorm:
                rec.dgamma_update = self.dgamma_update

    def infer_z(self, a_prev: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Inference ``(N, n_in)`` → ``(pre, a)``, both ``(N, n_out)``; ``pre`` is ``f``'s input.

        BatchNorm uses the running averages; the skip adds ``a_prev``; no dropout.
        """
        z = np.dot(a_prev, self.W.T)
        if self.batchnorm:
            z -= self.running_mean
            z *= self.gamma / np.sqrt(self.running_var + self.eps)
            z += self.b
        else:
            z += self.b
        a = self.activation.f(z)
        if self.residual:
            a += a_prev
        return z, a

    def copy_state_from(self, other: DenseBlock) -> None:
        """Copy the running averages of ``other`` (same shape)."""
        np.copyto(self.running_mean, other.running_mean)
        np.copyto(self.running_var, other.running_var)


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture of a network.

    Attributes:
        n_in: input features.
        hidden: ``(units, activation)`` per hidden layer, in order.
        n_out: outputs.
        loss: a key of ``LOSSES``; it implies the output activation.
        init: a key of ``INITIALIZERS``.
        seed: seeds the initialization and (separately) the dropout masks.
        dropout: drop probability on every hidden layer's output (0 = off).
        dtype: ``"float64"`` (default) or ``"float32"``.
        batchnorm: BatchNorm on every hidden layer (see :class:`DenseBlock`).
        residual: identity skips ``a = f(z) + a_prev`` on the hidden layers after the
            first whose width equals the previous hidden layer's (:meth:`skip_layers`).
    """

    n_in: int
    hidden: tuple[tuple[int, str], ...]
    n_out: int
    loss: str = "bce"
    init: str = "xavier_normal"
    seed: int = 0
    dropout: float = 0.0
    dtype: str = "float64"
    batchnorm: bool = False
    residual: bool = False

    def skip_layers(self) -> tuple[int, ...]:
        """Numbers ``l`` (1-based) of the layers that get an identity skip.

        Hidden layers ``l ≥ 2`` whose width equals layer ``l − 1``'s; never layer 1 (its
        input is the raw features, usually of another width, and a skip from ``x``
        would mix the data into the first hidden representation) nor the output layer.
        Empty unless ``residual``.
        """
        if not self.residual:
            return ()
        units = [u for u, _ in self.hidden]
        return tuple(i + 1 for i in range(1, len(units)) if units[i] == units[i - 1])

    def validate(self) -> None:
        """Raise ``ValueError`` on an inconsistent spec."""
        if self.n_in < 1 or self.n_out < 1:
            raise ValueError("n_in and n_out must be >= 1")
        for units, act in self.hidden:
            if units < 1:
                raise ValueError("hidden layers need at least one unit")
            if act not in ACTIVATIONS:
                raise ValueError(f"unknown activation {act!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}")
        if self.init not in INITIALIZERS:
            raise ValueError(f"unknown init {self.init!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}")


class Network:
    """A feed-forward network built from a :class:`NetworkSpec`.

    All parameters live in one flat vector ``params`` (layer by layer, each layer's
    ``W`` then ``b``); ``grads`` and ``updates`` mirror it. Layers hold views, so the
    update phase is a handful of NumPy calls for the whole network whatever its depth.

    Attributes:
        spec: the spec.
        loss: the :class:`Loss` object.
        layers: ``layers[l-1]`` is layer ``l`` (``1..L``).
        dtype: numpy dtype of parameters and buffers.
        params, grads, updates: flat ``(P,)`` vectors of parameters, gradients, ``ΔW``.
        decay_mask: ``(P,)`` 1.0 on weights, 0.0 on biases (for decoupled weight decay).
        rng: generator of the dropout masks.
    """

    def __init__(self, spec: NetworkSpec) -> None:
        spec.validate()
        self.spec = spec
        self.loss: Loss = LOSSES[spec.loss]
        self.dtype = np.dtype(DTYPES[spec.dtype])
        self.layers: list[Dense] = []  # DenseBlock (a Dense) where BatchNorm/skips apply
        self.rng = np.random.default_rng(0)
        self.params: FloatArray = np.zeros(0, self.dtype)
        self.grads: FloatArray = np.zeros(0, self.dtype)
        self.updates: FloatArray = np.zeros(0, self.dtype)
        self.decay_mask: FloatArray = np.zeros(0, self.dtype)
        self.reset()

    @classmethod
    def build(
        cls,
        n_in: int,
        hidden: Sequence[tuple[int, str]],
        n_out: int,
        loss: str = "bce",
        init: str = "xavier_normal",
        seed: int = 0,
        dropout: float = 0.0,
        dtype: str = "float64",
        batchnorm: bool = False,
        residual: bool = False,
    ) -> Network:
        """Shorthand for ``Network(NetworkSpec(...))``."""
        return cls(
            NetworkSpec(
                n_in, tuple(hidden), n_out, loss, init, seed, dropout, dtype, batchnorm, residual
            )
        )

    def reset(self, seed: int | None = None) -> None:
        """Re-initialize all weights from ``seed`` (default ``spec.seed``); same seed → same net.

        Layer objects, buffers and flat vectors are rebuilt; penalties are kept.
        """
        seed = self.spec.seed if seed is None else seed
        init_rng = np.random.default_rng(seed)
        self.rng = np.random.default_rng([seed, 1])
        sizes = [self.spec.n_in] + [u for u, _ in self.spec.hidden] + [self.spec.n_out]
        acts = [ACTIVATIONS[a] for _, a in self.spec.hidden] + [self.loss.activation]
        l1 = self.layers[0].l1 if self.layers else 0.0
        l2 = self.layers[0].l2 if self.layers else 0.0
        layers: list[Dense] = []
        L = len(acts)
        skips = self.spec.skip_layers()
        for i in range(L):
            # Same draws whatever BatchNorm/residual say: lab sides start from the same W.
            W, b = init_weights(self.spec.init, sizes[i], sizes[i + 1], init_rng, self.dtype)
            hidden = i < L - 1
            bn = hidden and self.spec.batchnorm
            skip = (i + 1) in skips
            layer: Dense
            if bn or skip:
                layer = DenseBlock(
                    i + 1,
                    W,
                    b,
                    acts[i],
                    batchnorm=bn,
                    residual=skip,
                    dropout=self.spec.dropout,
                    rng=self.rng,
                )
            else:
                layer = Dense(
                    i + 1,
                    W,
                    b,
                    acts[i],
                    is_output=i == L - 1,
                    dropout=self.spec.dropout,
                    rng=self.rng,
                )
            layer.l1, layer.l2 = l1, l2
            layers.append(layer)
        self._bind(layers)

    def _bind(self, layers: list[Dense]) -> None:
        """Move every layer's parameters into fresh flat vectors and bind views."""
        shapes = [layer.param_shapes() for layer in layers]
        total = sum(math.prod(shape) for ps in shapes for _, shape, _ in ps)
        dt = self.dtype
        self.params = np.zeros(total, dt)
        self.grads = np.zeros(total, dt)
        self.updates = np.zeros(total, dt)
        self.decay_mask = np.zeros(total, dt)
        off = 0
        for layer, ps in zip(layers, shapes, strict=True):
            p_views, g_views, u_views = [], [], []
            old = layer.param_arrays()
            for (_, shape, decays), value in zip(ps, old, strict=True):
                n = math.prod(shape)
                p_views.append(self.params[off : off + n].reshape(shape))
                g_views.append(self.grads[off : off + n].reshape(shape))
                u_views.append(self.updates[off : off + n].reshape(shape))
                p_views[-1][...] = value
                self.decay_mask[off : off + n] = 1.0 if decays else 0.0
                off += n
            layer.bind(p_views, g_views, u_views)
        self.layers = layers

    def __deepcopy__(self, memo: dict[int, Any]) -> Network:
        new = Network.__new__(Network)
        new.spec = self.spec
        new.loss = self.loss
        new.dtype = self.dtype
        new.layers = []
        new.rng = copy.deepcopy(self.rng, memo)
        new.reset()
        new.rng.bit_generator.state = self.rng.bit_generator.state
        for layer in new.layers:
            layer.rng = new.rng
        np.copyto(new.params, self.params)
        for mine, theirs in zip(self.layers, new.layers, strict=True):
            if isinstance(mine, DenseBlock) and isinstance(theirs, DenseBlock):
                theirs.copy_state_from(mine)
        new.set_penalties(self.layers[0].l1, self.layers[0].l2)
        return new

    def copy(self) -> Network:
        """An independent copy: same parameters, BatchNorm running averages, penalties and
        dropout-RNG state; no buffers."""
        return copy.deepcopy(self)

    @property
    def n_layers(self) -> int:
        """``L``: hidden layers + the output layer."""
        return len(self.layers)

    @property
    def sizes(self) -> list[int]:
        """Units per layer ``[n_in, n_1, ..., n_L]``."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def n_params(self) -> int:
        """Total number of scalar parameters ``P``."""
        return int(self.params.size)

    @property
    def skip_layers(self) -> tuple[int, ...]:
        """Numbers of the layers with an identity skip (see :meth:`NetworkSpec.skip_layers`)."""
        return self.spec.skip_layers()

    def get_bn_state(self) -> list[dict[str, FloatArray] | None]:
        """Per layer, copies of ``gamma``, ``running_mean``, ``running_var`` (each ``(n_l,)``)
        for BatchNorm layers, ``None`` for the others. ``β`` is the layer's ``b`` (in
        :meth:`get_weights`)."""
        out: list[dict[str, FloatArray] | None] = []
        for layer in self.layers:
            if isinstance(layer, DenseBlock) and layer.batchnorm:
                out.append(
                    {
                        "gamma": layer.gamma.copy(),
                        "running_mean": layer.running_mean.copy(),
                        "running_var": layer.running_var.copy(),
                    }
                )
            else:
                out.append(None)
        return out

    def set_bn_state(self, state: Sequence[Mapping[str, npt.ArrayLike] | None]) -> None:
        """Load what :meth:`get_bn_state` returned; raises ``ValueError`` on a mismatch
        (wrong length, ``None`` vs a dict, shapes, non-finite values, a variance ≤ 0)."""
        if len(state) != len(self.layers):
            raise ValueError(f"expected {len(self.layers)} layers, got {len(state)}")
        todo: list[tuple[FloatArray, FloatArray]] = []
        for layer, entry in zip(self.layers, state, strict=True):
            is_bn = isinstance(layer, DenseBlock) and layer.batchnorm
            if entry is None and not is_bn:
                continue
            if entry is None or not is_bn:
                raise ValueError(f"layer {layer.index}: BatchNorm state does not match")
            assert isinstance(layer, DenseBlock)
            for key, target in (
                ("gamma", layer.gamma),
                ("running_mean", layer.running_mean),
                ("running_var", layer.running_var),
            ):
                if key not in entry:
                    raise ValueError(f"layer {layer.index}: missing {key}")
                arr = np.asarray(entry[key], dtype=self.dtype)
                if arr.shape != target.shape or not np.isfinite(arr).all():
                    raise ValueError(f"layer {layer.index}: bad {key}")
                if key == "running_var" and not (arr > 0).all():
                    raise ValueError(f"layer {layer.index}: running_var must be > 0")
                todo.append((target, arr))
        for target, arr in todo:
            np.copyto(target, arr)

    def set_penalties(self, l1: float, l2: float) -> None:
        """Set the L1/L2 penalty weights used by every layer's ``backward``."""
        for layer in self.layers:
            layer.l1 = float(l1)
            layer.l2 = float(l2)

    def penalty(self, l1: float, l2: float) -> float:
        """``Σ_l l1 Σ|W⁽ˡ⁾| + ½ l2 Σ (W⁽ˡ⁾)²`` (biases are not penalized)."""
        total = 0.0
        if l1 == 0.0 and l2 == 0.0:
            return total
        for layer in self.layers:
            w = layer.W.reshape(-1)
            if l1 != 0.0:
                total += l1 * float(np.add.reduce(np.abs(w)))
            if l2 != 0.0:
                total += 0.5 * l2 * float(np.dot(w, w))
        return total

    def prepare(self, batch_size: int) -> None:
        """Select the buffers of every layer for ``batch_size`` examples."""
        for layer in self.layers:
            layer.prepare(batch_size)

    def _as_input(self, X: npt.ArrayLike) -> FloatArray:
        arr = np.asarray(X, dtype=self.dtype)
        if arr.ndim != 2 or arr.shape[1] != self.spec.n_in:
            raise ValueError(f"X must be (N, {self.spec.n_in}), got {arr.shape}")
        return arr

    def predict(self, X: npt.ArrayLike) -> FloatArray:
        """Inference (no dropout, BatchNorm with its running averages): ``X (N, n_in)`` →
        ``ŷ (N, n_out)``; fresh arrays."""
        return self.forward_all(X)[-1]

    def forward_all(self, X: npt.ArrayLike) -> list[FloatArray]:
        """Every layer's activations for ``X (N, n_in)``: ``[a⁽⁰⁾=X, a⁽¹⁾ (N, n_1), …, a⁽ᴸ⁾]``
        (inference: no dropout, BatchNorm with the running averages, skips added)."""
        a = self._as_input(X)
        out = [a]
        with np.errstate(all="ignore"):
            for layer in self.layers:
                a = layer.infer(a)
                out.append(a)
        return out

    def output_z(self, X: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(z⁽ᴸ⁾, a⁽ᴸ⁾)`` of the output layer, both ``(N, n_out)`` (inference)."""
        a = self._as_input(X)
        with np.errstate(all="ignore"):
            for layer in self.layers[:-1]:
                a = layer.infer(a)
            return self.layers[-1].infer_z(a)

    def objective(
        self, X: npt.ArrayLike, Y: npt.ArrayLike, l1: float = 0.0, l2: float = 0.0
    ) -> float:
        """Mean loss over ``X (N, n_in)``, ``Y (N, n_out)`` plus the L1/L2 penalty; inference."""
        z, a = self.output_z(X)
        y = np.asarray(Y, dtype=self.dtype)
        with np.errstate(all="ignore"):
            return self.loss.value(a, y, z) + self.penalty(l1, l2)

    def get_weights(self) -> list[tuple[FloatArray, FloatArray]]:
        """Copies of ``(W (n_l, n_{l-1}), b (n_l,))`` for ``l = 1..L``."""
        return [(layer.W.copy(), layer.b.copy()) for layer in self.layers]

    def set_weights(self, weights: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]]) -> None:
        """Copy weights in (shapes must match :meth:`get_weights`); raises ``ValueError``."""
        if len(weights) != len(self.layers):
            raise ValueError(f"expected {len(self.layers)} layers, got {len(weights)}")
        new = []
        for layer, (W, b) in zip(self.layers, weights, strict=True):
            W_ = np.asarray(W, dtype=self.dtype)
            b_ = np.asarray(b, dtype=self.dtype)
            if W_.shape != layer.W.shape or b_.shape != layer.b.shape:
                raise ValueError(f"layer {layer.index}: shape mismatch")
            if not (np.isfinite(W_).all() and np.isfinite(b_).all()):
                raise ValueError(f"layer {layer.index}: non-finite weights")
            new.append((W_, b_))
        for layer, (W_, b_) in zip(self.layers, new, strict=True):
            np.copyto(layer.W, W_)
            np.copyto(layer.b, b_)
