"""The dense layer: ``a = f(a_prev @ W.T + b)``, its forward and backward side by side.

Every layer of a network is one :class:`Dense`. BatchNorm (a composed
:class:`~.batchnorm.BatchNorm`) and the identity skip of a residual connection are
options of it, so the stepper's loops see one kind of layer and the phases stay
forward 1..L, loss, backward L..1, update.

A layer owns views of its parameters (into the network's flat vectors) and one cache
of work buffers per batch size, and writes what it computed into its current
:class:`~.trace.LayerTrace` (``layer.rec``).

Conventions (docs/design.md): batch axis first, ``W`` is ``(n_out, n_in)``,
``z = a_prev @ W.T + b``, layers numbered ``1..L``, ``a⁽⁰⁾ = x``, ``δ`` per example,
``dW = δᵀ a_prev / B``, ``db = mean(δ)``, L1/L2 penalties added to ``dW``.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import Activation, FloatArray
from .batchnorm import BatchNorm, BatchNormBuffers
from .trace import LayerTrace, PendingUpdates

__all__ = ["Dense"]


class _Buffers:
    """Work arrays of a layer for one batch size (and views of them, made once)."""

    __slots__ = (
        "a",
        "a_raw",
        "b_rows",
        "bn",
        "delta",
        "delta_flat",
        "delta_z",
        "delta_z_T",
        "fprime",
        "grad_prev",
        "inv_B",
        "mask",
        "u",
        "z",
    )

    def __init__(self, layer: Dense, B: int) -> None:
        n_in, n, dtype = layer.n_in, layer.n_out, layer.W.dtype
        dropout = layer.dropout > 0.0
        self.z = np.empty((B, n), dtype)
        # Small layers add the bias from a (B, n) copy: the copy and a same-shape add
        # cost less than NumPy's broadcasting add (same numbers); large ones broadcast.
        small = B * n <= 2048 and layer.bn is None
        self.b_rows: FloatArray | None = np.empty((B, n), dtype) if small else None
        self.a_raw = np.empty((B, n), dtype)
        self.a = np.empty((B, n), dtype) if dropout or layer.residual else self.a_raw
        self.mask: FloatArray | None = np.empty((B, n), dtype) if dropout else None
        self.fprime = np.empty((B, n), dtype)
        self.delta = np.empty((B, n), dtype)
        self.delta_flat = self.delta.reshape(-1)
        self.bn = None if layer.bn is None else BatchNormBuffers(B, n, dtype)
        self.delta_z = self.delta if self.bn is None else self.bn.delta_z  # ∂ℓ/∂z
        self.delta_z_T = self.delta_z.T
        self.grad_prev: FloatArray | None = None if layer.index == 1 else np.empty((B, n_in), dtype)
        self.u = np.full(B, 1.0 / B, dtype)  # mean over the batch = u @ (B, n)
        # dW = (δᵀ a_prev) · (1/B); a 0-d array of the dtype gives the same numbers as the
        # Python float (which NumPy casts to the dtype) without its per-call conversion.
        self.inv_B: FloatArray | None = np.array(1.0 / B, dtype) if B != 1 else None


class Dense:
    """Fully connected layer ``a = f(a_prev @ W.T + b)``; dropout, BatchNorm, skip optional.

    Args:
        index: layer number ``l`` in ``1..L``.
        W: initial ``(n_out, n_in)``; b: initial ``(n_out,)`` (copied; ignored with
            BatchNorm, whose β starts at 0).
        activation: the :class:`Activation` object.
        is_output: output layer (its ``backward`` receives ``δ⁽ᴸ⁾`` from the loss).
        dropout: inverted-dropout probability on this layer's output (not on the output).
        rng: generator of the dropout masks.
        batchnorm: normalize ``z`` before ``f`` (hidden layers only; see
            :mod:`~bpviz.core.engine.batchnorm`).
        residual: identity skip ``a = f(…) ⊙ mask + a_prev`` (hidden layers with
            ``n_in == n_out``); the gradient passed down gains ``∂L/∂a`` unchanged — why a
            residual network keeps gradients flowing.

    Attributes:
        W, b: parameters — updated in place, never rebound (inside a :class:`Network`
            they are views into ``network.params``); with BatchNorm ``b`` is β.
        dW, db: gradients (views into ``network.grads``).
        dW_update, db_update: the applied change ``ΔW`` (views into ``network.updates``).
        bn: the :class:`BatchNorm` part, or ``None``.
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
        batchnorm: bool = False,
        residual: bool = False,
    ) -> None:
        self.index = index
        self.n_out, self.n_in = W.shape
        if is_output and (batchnorm or residual):
            raise ValueError(f"layer {index}: BatchNorm and skips are for hidden layers")
        if residual and self.n_in != self.n_out:
            raise ValueError(f"layer {index}: a skip needs n_in == n_out, got {W.shape[::-1]}")
        self.activation = activation
        self.is_output = is_output
        self.residual = bool(residual)
        self.bn = BatchNorm(self.n_out, W.dtype) if batchnorm else None
        self.dropout = 0.0 if is_output else float(dropout)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.l1 = 0.0
        self.l2 = 0.0
        self.rec: LayerTrace | None = None
        self._cache: dict[int, _Buffers] = {}
        self._buf: _Buffers | None = None
        self._B = 0  # the batch size of ``_buf``
        self._a_prev: FloatArray | None = None
        self._pre: FloatArray | None = None  # the input of f: z, or z_bn with BatchNorm
        self._mask_on = False
        self._fp_ready = False  # forward(train=True) computed f'(pre) into the buffer
        params = [np.array(W), np.zeros_like(b) if batchnorm else np.array(b)]
        if self.bn is not None:
            params.insert(1, np.ones_like(b))
        self.bind(params, [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params])

    # ------------------------------------------------------------ parameters
    @property
    def batchnorm(self) -> bool:
        """Whether this layer normalizes ``z`` (has a :class:`BatchNorm` part)."""
        return self.bn is not None

    def param_shapes(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """``(name, shape, decays)`` of each parameter in storage order: ``W`` (decays),
        ``b``; with BatchNorm ``W``, ``gamma``, ``beta``."""
        n = self.n_out
        if self.bn is None:
            return [("W", (n, self.n_in), True), ("b", (n,), False)]
        return [("W", (n, self.n_in), True), ("gamma", (n,), False), ("beta", (n,), False)]

    def param_arrays(self) -> list[FloatArray]:
        """The parameter arrays in the order of :meth:`param_shapes`."""
        return [self.W, self.b] if self.bn is None else [self.W, self.bn.gamma, self.b]

    def bind(
        self, params: list[FloatArray], grads: list[FloatArray], updates: list[FloatArray]
    ) -> None:
        """Adopt parameter, gradient and update arrays (usually flat-vector views) in the
        order of :meth:`param_shapes`."""
        bn = self.bn
        if bn is None:
            self.W, self.b = params
            self.dW, self.db = grads
            self.dW_update, self.db_update = updates
        else:
            self.W, bn.gamma, self.b = params
            self.dW, bn.dgamma, self.db = grads
            self.dW_update, bn.dgamma_update, self.db_update = updates
        self._WT = self.W.T
        self._W_flat = self.W.reshape(-1)
        self._dW_flat = self.dW.reshape(-1)
        self._tmpW = np.empty_like(self.W)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters (``W``, ``b``; or ``W``, ``γ``, ``β``)."""
        return sum(p.size for p in self.param_arrays())

    # ------------------------------------------------------------ buffers
    def prepare(self, batch_size: int) -> None:
        """Select (allocating on first use) the work buffers for ``batch_size`` examples."""
        if batch_size == self._B:
            return
        buf = self._cache.get(batch_size)
        if buf is None:
            if len(self._cache) >= 4:
                self._cache.clear()
            buf = self._cache[batch_size] = _Buffers(self, batch_size)
        self._buf = buf
        self._B = batch_size

    @property
    def delta_buffer(self) -> FloatArray:
        """The ``(B, n_out)`` buffer ``backward`` uses for ``δ`` (the loss writes ``δ⁽ᴸ⁾`` here)."""
        assert self._buf is not None, "prepare(batch_size) first"
        return self._buf.delta

    def new_record(self) -> LayerTrace:
        """Start a fresh :class:`LayerTrace` for this layer as ``rec`` and return it."""
        rec = self.rec = LayerTrace(
            self.index, self.activation.name, self.bn is not None, self.residual
        )
        return rec

    # ------------------------------------------------------------ forward
    def forward(self, a_prev: FloatArray, train: bool) -> FloatArray:
        """``z = a_prev @ W.T + b`` (or BatchNorm), ``a = f(·)``, dropout, skip.

        Args:
            a_prev: ``(B, n_in)``, B as given to :meth:`prepare`.
            train: dropout, and BatchNorm with the batch's statistics (updating the
                running averages): the stepper's path. ``False``: no dropout, BatchNorm
                with the running averages.

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
        bn = self.bn
        if bn is not None:
            assert buf.bn is not None
            pre = bn.forward(z, self.b, buf.bn, buf.u, train)
        else:
            b_rows = buf.b_rows
            if b_rows is not None:
                b_rows[...] = self.b
                np.add(z, b_rows, z)
            else:
                np.add(z, self.b, z)
            pre = z
        self._pre = pre
        a = self.activation.f(pre, buf.a_raw)
        self._fp_ready = train
        if train:  # f'(pre) while pre is still in cache; backward reads it (same numbers)
            self.activation.der(pre, buf.a_raw, buf.fprime)
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
        rec = self.rec
        if rec is not None:
            rec.a_prev = a_prev
            rec.z = z
            if buf.bn is not None:
                rec.bn_mean = buf.bn.mean
                rec.bn_var = buf.bn.var
                rec.z_hat = buf.bn.z_hat
                rec.z_bn = buf.bn.z_bn
            rec.a_raw = buf.a_raw
            rec.mask = mask if self._mask_on else None
            rec.a = a
        return a

    # ------------------------------------------------------------ backward
    def backward(self, upstream: FloatArray) -> FloatArray | None:
        """One layer of backprop: ``δ``, ``dW``, ``db`` and the gradient for the layer before.

        Args:
            upstream: ``∂L/∂a⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾`` per example ``(B, n_out)``; for the
                output layer, ``δ⁽ᴸ⁾`` itself (the loss already applied ``f'``).

        Returns:
            ``∂L/∂a⁽ˡ⁻¹⁾ = δ_z⁽ˡ⁾ W⁽ˡ⁾`` ``(B, n_in)`` (the page's ``W⁽ˡ⁾ᵀ δ⁽ˡ⁾`` per
            example; ``δ_z = δ`` without BatchNorm), plus ``upstream`` through a skip,
            from which the layer before forms its ``δ⁽ˡ⁻¹⁾ = … ⊙ f'(z⁽ˡ⁻¹⁾)``; ``None``
            for layer 1.
        """
        buf = self._buf
        a_prev = self._a_prev
        pre = self._pre
        assert buf is not None and a_prev is not None and pre is not None, "forward first"
        fp = buf.fprime if self._fp_ready else self.activation.der(pre, buf.a_raw, buf.fprime)
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
        db = self.db
        buf.u.dot(delta, db)  # db = mean δ (= dβ with BatchNorm)
        bn = self.bn
        delta_z = delta
        if bn is not None:
            assert buf.bn is not None
            delta_z = bn.backward(delta, db, buf.bn, buf.u)
        dW = self.dW
        W = self.W
        buf.delta_z_T.dot(a_prev, dW)
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
        grad_prev = buf.grad_prev
        if grad_prev is not None:
            delta_z.dot(W, grad_prev)
            if self.residual:
                np.add(grad_prev, upstream, grad_prev)  # the skip's share
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
            if bn is not None:
                rec.delta_z = delta_z
                rec.dgamma = bn.dgamma
            rec.delta_mean_norm = sqrt(db.dot(db))
            rec.delta_norm = sqrt(dflat.dot(dflat) / delta.shape[0])
            rec.dW_norm = dW_norm
            rec.W_norm = W_norm
            rec.dW_ratio = dW_norm / W_norm if W_norm > 0.0 else math.inf
        return grad_prev

    def record_update(self, pending: PendingUpdates | None = None) -> None:
        """Point the trace record at the applied changes ``ΔW``, ``Δb`` (and ``Δγ``);
        ``pending``: they are written out when first read."""
        rec = self.rec
        if rec is not None:
            bn = self.bn
            dgamma = None if bn is None else bn.dgamma_update
            rec.set_updates(self.dW_update, self.db_update, dgamma, pending)

    # ------------------------------------------------------------ inference
    def infer(self, a_prev: FloatArray) -> FloatArray:
        """Inference ``(N, n_in)`` → ``a`` ``(N, n_out)``; fresh arrays, no dropout."""
        return self.infer_z(a_prev)[1]

    def infer_z(self, a_prev: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Like :meth:`infer` but returns ``(pre, a)``, both ``(N, n_out)``; ``pre`` is the
        input of ``f`` (``z``, or BatchNorm's output with the running averages)."""
        z = np.dot(a_prev, self._WT)
        if self.bn is not None:
            self.bn.infer(z, self.b)
        else:
            np.add(z, self.b, out=z)
        a = self.activation.f(z)
        if self.residual:
            a += a_prev
        return z, a
