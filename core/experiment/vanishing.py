"""Nielsen's vanishing-gradient measurement, reproduced on the 8×8 digits.

Nielsen (*Neural Networks and Deep Learning*, ch. 5) measured, at initialization, the
"speed of learning" of each hidden layer of sigmoid networks: the norm of the gradient
of the cost with respect to the layer's biases, ``‖∂C/∂b⁽ˡ⁾‖``, with ``C`` the mean
cross-entropy over 1,000 MNIST training images. Since ``∂C/∂b⁽ˡ⁾`` is the mean of the
per-example ``δ⁽ˡ⁾`` over those images, it is the engine's ``LayerTrace.delta_mean_norm``
after one forward and backward pass with the 1,000 images as one batch.

For ``[784, 30, 30, 30, 30, 10]`` he reports 0.003, 0.017, 0.070, 0.285 (first hidden
layer to last): each layer learns 4–6× slower than the next. :func:`speeds_at_init`
runs the same measurement through the real engine path (a :class:`Stepper` up to the
end of the backward phase, no update) on 1,000 of the 8×8 digits.

Run ``python -m bpviz.core.experiment.vanishing`` to print the table of ``docs/vanishing.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..engine.activations import FloatArray
from ..engine.network import Network
from ..engine.stepper import Stepper

__all__ = ["NIELSEN_MNIST", "digits_batch", "speeds_at_init"]

NIELSEN_MNIST: dict[tuple[int, ...], tuple[float, ...]] = {
    (784, 30, 30, 30, 30, 10): (0.003, 0.017, 0.070, 0.285),
}
"""Nielsen's published ``‖∂C/∂b⁽ˡ⁾‖`` per hidden layer (sigmoid, cross-entropy, his
default initializer, 1,000 MNIST images), by layer sizes."""


def digits_batch(examples: int = 1000, data_seed: int = 1) -> tuple[FloatArray, FloatArray]:
    """``examples`` 8×8 digits, pixels scaled to [0, 1] as MNIST's: ``X (n, 64)``, one-hot
    ``Y (n, 10)`` (a class-balanced draw, ``builtin.make_dataset("digits", ...)``)."""
    from ..data.builtin import make_dataset

    ds = make_dataset("digits", samples=examples, noise=0.0, test_fraction=0.0, seed=data_seed)
    return np.asarray(ds.X_train), np.asarray(ds.Y_train)


def speeds_at_init(
    hidden: Sequence[int] = (30, 30, 30, 30),
    activation: str = "sigmoid",
    init: str = "nielsen",
    loss: str = "softmax_ce",
    seed: int = 0,
    examples: int = 1000,
    batchnorm: bool = False,
    residual: bool = False,
    data: tuple[FloatArray, FloatArray] | None = None,
    stat: str = "delta_mean_norm",
) -> list[float]:
    """``‖mean δ⁽ˡ⁾‖`` (``delta_mean_norm``) of each hidden layer at initialization.

    Args:
        hidden: widths of the hidden layers (input 64, output 10 come from the digits).
        activation: activation of every hidden layer.
        init: initializer (``"nielsen"``: ``W ~ N(0,1)/√n_in``, ``b ~ N(0,1)``).
        loss: ``"softmax_ce"`` (what the page offers for digits) or ``"bce"`` (Nielsen's
            exact cost: ten sigmoid outputs, each with a binary cross-entropy).
        seed: seed of the initial weights.
        examples: how many digits form the one batch.
        batchnorm, residual: the network options of the same name.
        data: ``(X, Y)`` to use instead of :func:`digits_batch` ``(examples)``.
        stat: which float of :class:`LayerTrace` to report: ``"delta_mean_norm"``
            (Nielsen's measure), ``"dW_norm"``, ``"delta_norm"`` or ``"dW_ratio"``.

    Returns:
        One float per hidden layer, input side first (BatchNorm layers: ``‖dβ‖``).
    """
    if stat not in ("delta_mean_norm", "dW_norm", "delta_norm", "dW_ratio"):
        raise ValueError(f"unknown statistic {stat!r}")
    X, Y = digits_batch(examples) if data is None else data
    net = Network.build(
        X.shape[1],
        [(int(u), activation) for u in hidden],
        Y.shape[1],
        loss=loss,
        init=init,
        seed=seed,
        batchnorm=batchnorm,
        residual=residual,
    )
    stepper = Stepper(net, X, Y, batch_size=X.shape[0])
    stepper.run_backward()  # forward 1..L, loss, backward L..1; no update
    trace = stepper.trace
    assert trace is not None
    speeds = [getattr(rec, stat) for rec in trace.layers[:-1]]
    return [float(s) if s is not None else math.nan for s in speeds]


def _geomean(rows: Iterable[Sequence[float]]) -> list[float]:
    arr = np.asarray(list(rows), dtype=np.float64)
    return [float(v) for v in np.exp(np.log(arr).mean(axis=0))]


def _row(label: str, speeds: Sequence[float]) -> str:
    cells = " | ".join(f"{s:.4f}" if s >= 1e-3 else f"{s:.1e}" for s in speeds)
    ratio = speeds[-1] / speeds[0]
    return (
        f"| {label} | {cells} | {ratio:.0f}× |"
        if ratio >= 10
        else f"| {label} | {cells} | {ratio:.2f}× |"
    )


def main(seeds: Sequence[int] = tuple(range(10))) -> None:
    """Print the tables of ``docs/vanishing.md`` (Markdown)."""
    data = digits_batch(1000)
    cases = [
        ("sigmoid, nielsen init, softmax_ce", {"loss": "softmax_ce"}),
        ("sigmoid, nielsen init, bce ×10 (Nielsen's cost)", {"loss": "bce"}),
        ("relu, he_normal init, softmax_ce", {"activation": "relu", "init": "he_normal"}),
        ("sigmoid, nielsen init, softmax_ce, batchnorm", {"batchnorm": True}),
        ("sigmoid, nielsen init, softmax_ce, residual", {"residual": True}),
    ]
    head = (
        "| network | layer 1 | layer 2 | layer 3 | layer 4 | last/first |\n"
        "|---|---|---|---|---|---|"
    )
    per_seed: dict[str, list[list[float]]] = {}
    for stat, title in (
        ("delta_mean_norm", "‖mean δ‖ = ‖∂C/∂b‖ (Nielsen's speed of learning)"),
        ("dW_norm", "‖dW‖ = ‖∂C/∂W‖"),
    ):
        print(f"{title}, geometric mean over seeds {seeds[0]}–{seeds[-1]}:")
        print()
        print(head)
        if stat == "delta_mean_norm":
            nielsen = NIELSEN_MNIST[(784, 30, 30, 30, 30, 10)]
            print(_row("Nielsen, MNIST [784,30,30,30,30,10]", nielsen))
        for label, kw in cases:
            rows = [
                speeds_at_init(seed=s, data=data, stat=stat, **kw)  # type: ignore[arg-type]
                for s in seeds
            ]
            per_seed.setdefault(label, rows)
            print(_row(label, _geomean(rows)))
        print()
    label = cases[0][0]
    print(f"Per seed, {label}:")
    print()
    print("| seed | layer 1 | layer 2 | layer 3 | layer 4 | last/first |")
    print("|---|---|---|---|---|---|")
    for s, row in zip(seeds, per_seed[label], strict=True):
        print(_row(str(s), row))


if __name__ == "__main__":
    main()
