"""The exact training state of a stepper at a step boundary: what it holds, taken and loaded.

``{"steps_done", "current_epoch", "perm" (the epoch's order, ``(N,)``; shared, never
changed in place), "pos", "order_rng", "dropout_rng" (bit-generator states), "params"
``(P,)``, "bn" (:meth:`Network.get_bn_state`), "optimizer" (:meth:`Optimizer.get_state`),
"diverged"}``, its arrays copies (but ``perm``). A stepper that loads it
(:meth:`Stepper.set_state`) and steps computes exactly the numbers of the one it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import FloatArray
from .batches import Batches

if TYPE_CHECKING:
    from .stepper import Stepper

__all__ = ["load_state", "take_state"]


def take_state(stepper: Stepper) -> dict[str, Any]:
    """The stepper's training state now (taken at a step boundary), as copies."""
    net = stepper.network
    return {
        "steps_done": stepper.steps_done,
        **stepper.batches.get_state(),
        "dropout_rng": net.rng.bit_generator.state,
        "params": net.params.copy(),
        "bn": net.get_bn_state(),
        "optimizer": stepper.optimizer.get_state(),
        "diverged": stepper.diverged,
    }


def load_state(stepper: Stepper, state: Mapping[str, Any]) -> None:
    """Load a :func:`take_state` into the stepper's network, batch order and optimizer
    (whose type must be the state's); its counters are :meth:`Stepper.set_state`'s.

    Raises ``ValueError`` on shapes that do not fit this network or data.
    """
    net = stepper.network
    params = np.asarray(state["params"], dtype=net.dtype)
    if params.shape != net.params.shape:
        raise ValueError(f"params: expected {net.params.shape}, got {params.shape}")
    perm, pos = Batches.check_state(state, stepper.batches.n)
    if not np.isfinite(params).all():
        raise ValueError("params must be finite")
    stepper.optimizer.set_state(_checked_optimizer(state["optimizer"], net.params))
    net.set_bn_state(state["bn"])
    stepper.batches.set_state(state, perm, pos)
    net.rng.bit_generator.state = state["dropout_rng"]
    np.copyto(net.params, params)


def _checked_optimizer(opt: Mapping[str, Any], params: FloatArray) -> dict[str, Any]:
    """The optimizer state with its arrays checked against the flat parameter vector
    (the one slot, 0, the update uses): its shape, and cast to its dtype. (A moment
    that is not finite is let in: the next update then diverges, as it did.)"""
    slots = {}
    for k, arrays in dict(opt.get("slots", {})).items():
        if int(k) != 0:
            raise ValueError(f"optimizer slot {k}: the parameters have one slot, 0")
        slot = [np.asarray(a) for a in arrays]
        for a in slot:
            if a.shape != params.shape:
                raise ValueError(f"optimizer slot 0: expected {params.shape}, got {a.shape}")
        slots[0] = [a.astype(params.dtype, copy=False) for a in slot]
    return {**opt, "slots": slots}
