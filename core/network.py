"""The network: a list of layers, each with ``forward`` and ``backward`` side by side.

A layer owns its parameters and preallocated buffers for the batch size in use, and
writes what it computed into its current :class:`LayerTrace` record (``layer.rec``),
so the stepper streams what the engine computed instead of recomputing it. The
stepper only loops over ``network.layers`` calling the :class:`Layer` methods, so
other layer kinds (BatchNorm, residual blocks) can be added without touching it.

Conventions (docs/design.md): batch axis first, ``W`` is ``(n_out, n_in)``,
``z = a_prev @ W.T + b``, layers numbered ``1..L``, ``a⁽⁰⁾ = x``, ``δ`` per example,
``dW = δᵀ a_prev / B``, ``db = mean(δ)``, L1/L2 penalties added to ``dW``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .activations import ACTIVATIONS, Activation, FloatArray
from .initializers import INITIALIZERS, init_weights
from .losses import LOSSES, Loss

__all__ = ["Dense", "Layer", "LayerTrace", "Network", "NetworkSpec"]

DTYPES: dict[str, type[np.floating[Any]]] = {"float64": np.float64, "float32": np.float32}


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

    def snapshot(self) -> LayerTrace:
        """A copy owning its arrays (safe to keep after the next step)."""
        new = LayerTrace(self.layer, self.activation)
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
        out: dict[str, Any] = {"layer": self.layer, "activation": self.activation}
        for name in self._ARRAYS:
            arr = getattr(self, name)
            out[name] = None if arr is None else _json_array(arr)
        for name in (*self._FLOATS, "dW_update_norm", "db_update_norm"):
            out[name] = _json_float(getattr(self, name))
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
    """What the stepper needs from a layer (Dense today; BatchNorm/residual later)."""

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
        self.bind(
            [np.array(W), np.array(b)],
            [np.zeros_like(W), np.zeros_like(b)],
            [np.zeros_like(W), np.zeros_like(b)],
        )

    def param_shapes(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """``[("W", (n_out, n_in), True), ("b", (n_out,), False)]`` (only W decays)."""
        return [("W", (self.n_out, self.n_in), True), ("b", (self.n_out,), False)]

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
    """

    n_in: int
    hidden: tuple[tuple[int, str], ...]
    n_out: int
    loss: str = "bce"
    init: str = "xavier_normal"
    seed: int = 0
    dropout: float = 0.0
    dtype: str = "float64"

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
        self.layers: list[Dense] = []
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
    ) -> Network:
        """Shorthand for ``Network(NetworkSpec(...))``."""
        return cls(NetworkSpec(n_in, tuple(hidden), n_out, loss, init, seed, dropout, dtype))

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
        layers = []
        L = len(acts)
        for i in range(L):
            W, b = init_weights(self.spec.init, sizes[i], sizes[i + 1], init_rng, self.dtype)
            layer = Dense(
                i + 1, W, b, acts[i], is_output=i == L - 1, dropout=self.spec.dropout, rng=self.rng
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
            old = [layer.W, layer.b]
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
        new.set_penalties(self.layers[0].l1, self.layers[0].l2)
        return new

    def copy(self) -> Network:
        """An independent copy: same weights, penalties and dropout-RNG state; no buffers."""
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
        """Inference (no dropout): ``X (N, n_in)`` → ``ŷ (N, n_out)``; fresh arrays."""
        return self.forward_all(X)[-1]

    def forward_all(self, X: npt.ArrayLike) -> list[FloatArray]:
        """Every layer's activations for ``X (N, n_in)``: ``[a⁽⁰⁾=X, a⁽¹⁾ (N, n_1), …, a⁽ᴸ⁾]``."""
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
