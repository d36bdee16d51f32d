"""The 8×8 handwritten digits (the UCI optdigits test set, 1,797 images, 10 classes): a
small stand-in for MNIST, read from the packaged ``digits.csv.gz``."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dataset import Dataset, FloatArray, IntArray, assemble, n_test

__all__ = ["load_digits", "make_digits"]

_DIGITS_PATH = Path(__file__).resolve().parent / "digits.csv.gz"


@lru_cache(maxsize=1)
def _read_digits() -> tuple[FloatArray, IntArray]:
    with gzip.open(_DIGITS_PATH, "rt", encoding="ascii") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    pixels = np.ascontiguousarray(table[:, :64])
    labels = table[:, 64].astype(np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def load_digits() -> tuple[FloatArray, IntArray]:
    """All 1,797 digits: pixels ``(1797, 64)`` in 0..16 (row-major 8×8) and labels ``(1797,)``.

    Returns fresh copies; the file is read once per process.
    """
    pixels, labels = _read_digits()
    return pixels.copy(), labels.copy()


def _stratified_take(labels: IntArray, n: int, rng: np.random.Generator) -> IntArray:
    """Indices of ``n`` examples, as even across the classes as the data allows, shuffled."""
    order = rng.permutation(labels.shape[0])
    shuffled = labels[order]
    rank = np.empty_like(order)  # position of each example within its class, in shuffled order
    for c in np.unique(shuffled):
        members = np.flatnonzero(shuffled == c)
        rank[members] = np.arange(members.shape[0])
    picked = order[np.argsort(rank, kind="stable")[:n]]
    return picked[rng.permutation(n)]


def make_digits(
    samples: int, noise: float, test_fraction: float, seed: int, description: str = ""
) -> Dataset:
    """A class-balanced draw of ``min(samples, 1797)`` digits, pixels scaled to [0, 1] plus
    Gaussian noise of std ``noise`` (clipped), split by ``test_fraction``: ``X (n, 64)``,
    one-hot ``Y (n, 10)``."""
    rng = np.random.default_rng(seed)
    pixels, labels = _read_digits()
    n = min(samples, labels.shape[0])
    idx = _stratified_take(labels, n, rng)
    X = pixels[idx] / 16.0
    if noise > 0:
        X = np.clip(X + rng.normal(0.0, noise, X.shape), 0.0, 1.0)
    y = labels[idx]
    k = n_test(n, test_fraction)
    return assemble(
        "digits",
        "multiclass",
        X[k:],
        X[:k],
        y[k:],
        y[:k],
        None,
        None,
        feature_names=tuple(f"px_{r}_{c}" for r in range(8) for c in range(8)),
        class_names=tuple(str(c) for c in range(10)),
        feature_mean=np.zeros(64),
        feature_std=np.full(64, 16.0),
        input_shape=(8, 8),
        description=description,
    )
