"""Engine-level golden digest: exact bytes of parameters and trace arrays after steps.

`build(cfg)` is the one place that knows how a config becomes an experiment; it moves
with the build path, and the digests recorded before the move must still match.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

TRACE_FIELDS = (
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
    "z_hat",
    "z_bn",
    "delta_z",
    "dgamma",
    "dgamma_update",
)


def build(cfg: dict[str, Any]) -> Any:
    from bpviz.core.experiment.build import build
    from bpviz.core.experiment.config import validate

    return build(validate(cfg))


def _h(parts: list[Any]) -> str:
    h = hashlib.sha256()
    for p in parts:
        if p is None:
            h.update(b"none")
        else:
            a = np.ascontiguousarray(p)
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(a.tobytes())
    return h.hexdigest()[:24]


def digest(exp: Any) -> dict[str, str]:
    trace = exp.trace
    out = {
        "params": _h(
            list(exp.network.param_arrays())
            if hasattr(exp.network, "param_arrays")
            else [p for layer in exp.network.layers for p in layer.param_arrays()]
        )
    }
    for layer in trace.layers:
        out[f"L{layer.layer}"] = _h([getattr(layer, f, None) for f in TRACE_FIELDS])
    return out


def run(cfg: dict[str, Any]) -> list[dict[str, str]]:
    exp = build(cfg)
    out = []
    for n in (1, 7, 30):
        exp.run_steps(n)
        out.append(digest(exp))
    return out
