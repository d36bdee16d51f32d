"""The network: its spec and the list of :class:`~.layers.Dense` layers, one flat vector.

All parameters live in one flat vector (layer by layer, each layer's ``W`` then ``b``;
with BatchNorm ``W``, ``γ``, ``β``); gradients and the applied changes mirror it, and
the layers hold views. The stepper runs the layers (``network.layers``) phase by phase;
this module builds them and does what needs the whole network: inference, the loss of a
data set, the L1/L2 penalty, weights and BatchNorm state in and out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import registry
from .activations import ACTIVATIONS, FloatArray
from .initializers import INITIALIZERS, init_weights
from .layers import Dense
from .losses import LOSSES, Loss, make_loss

__all__ = ["DTYPES", "Network", "NetworkSpec"]

_FLOATS: dict[str, type[np.floating[Any]]] = {"float64": np.float64, "float32": np.float32}

DTYPES: dict[str, type[np.floating[Any]]] = {name: _FLOATS[name] for name in registry.DTYPES}
"""NumPy float types by name (``registry.DTYPES``)."""


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture of a network.

    Attributes:
        n_in: input features.
        hidden: ``(units, activation)`` per hidden layer, in order.
        n_out: outputs.
        loss: a key of ``LOSSES``.
        init: a key of ``INITIALIZERS``.
        seed: seeds the initialization and (separately) the dropout masks.
        dropout: drop probability on every hidden layer's output (0 = off).
        dtype: ``"float64"`` (default) or ``"float32"``.
        batchnorm: BatchNorm on every hidden layer (see :mod:`~bpviz.core.engine.batchnorm`).
        residual: identity skips ``a = f(z) + a_prev`` on the hidden layers after the
            first whose width equals the previous hidden layer's (:meth:`skip_layers`).
        output_activation: the output layer's activation, one the loss allows
            (``registry.LOSSES[loss].output_activations``); ``None``: the loss's own.
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
    output_activation: str | None = None

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
        out = self.output_activation
        if out is not None and out not in LOSSES[self.loss].info.output_activations:
            raise ValueError(f"loss {self.loss!r} does not allow the output activation {out!r}")
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
        params, grads, updates: flat ``(P,)`` vectors of parameters, gradients, ``ΔW``
            (plain SGD writes ``ΔW`` out when a trace's ``dW_update`` is first read).
        decay_mask: ``(P,)`` 1.0 on weights, 0.0 on biases (for decoupled weight decay).
        rng: generator of the dropout masks.
    """

    def __init__(self, spec: NetworkSpec) -> None:
        spec.validate()
        self.spec = spec
        self.loss: Loss = make_loss(spec.loss, spec.output_activation)
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
        batchnorm: bool = False,
        residual: bool = False,
        output_activation: str | None = None,
    ) -> Network:
        """Shorthand for ``Network(NetworkSpec(...))``."""
        return cls(
            NetworkSpec(
                n_in,
                tuple(hidden),
                n_out,
                loss,
                init,
                seed,
                dropout,
                dtype,
                batchnorm,
                residual,
                output_activation,
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
            layer = Dense(
                i + 1,
                W,
                b,
                acts[i],
                is_output=not hidden,
                dropout=self.spec.dropout,
                rng=self.rng,
                batchnorm=hidden and self.spec.batchnorm,
                residual=(i + 1) in skips,
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
            bn = layer.bn
            if bn is not None:
                out.append(
                    {
                        "gamma": bn.gamma.copy(),
                        "running_mean": bn.running_mean.copy(),
                        "running_var": bn.running_var.copy(),
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
            bn = layer.bn
            if entry is None and bn is None:
                continue
            if entry is None or bn is None:
                raise ValueError(f"layer {layer.index}: BatchNorm state does not match")
            for key, target in (
                ("gamma", bn.gamma),
                ("running_mean", bn.running_mean),
                ("running_var", bn.running_var),
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
