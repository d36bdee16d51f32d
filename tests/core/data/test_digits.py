"""Tests of bpviz.core.data.digits: the 8×8 digits file and its class-balanced draws."""

from __future__ import annotations

import numpy as np

from bpviz.core.data.builtin import make_dataset
from bpviz.core.data.digits import load_digits


def _image_keys(images: np.ndarray) -> list[bytes]:
    return sorted(row.tobytes() for row in np.round(images).astype(np.uint8))


def test_digits_full_set() -> None:
    pixels, labels = load_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert set(labels.tolist()) == set(range(10))
    assert pixels.min() == 0 and pixels.max() == 16
    ds = make_dataset("digits", samples=5000, noise=0.0, test_fraction=0.2)
    assert ds.n_train + ds.n_test == 1797
    assert ds.input_shape == (8, 8)
    assert ds.labels_train is not None and ds.labels_test is not None
    assert set(np.concatenate([ds.labels_train, ds.labels_test]).tolist()) == set(range(10))
    for X in (ds.X_train, ds.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert ds.X_train.max() == 1.0
    # original units (0..16) come back
    original = ds.X_train * ds.feature_std + ds.feature_mean
    np.testing.assert_allclose(original, np.round(ds.X_train * 16))
    # every image of the full set appears exactly once
    got = np.concatenate([ds.X_train, ds.X_test]) * 16
    assert _image_keys(got) == _image_keys(pixels)


def test_digits_subset_is_class_balanced() -> None:
    ds = make_dataset("digits", samples=300, noise=0.0, test_fraction=0.0)
    assert ds.n_train == 300 and ds.n_test == 0
    assert ds.labels_train is not None
    np.testing.assert_array_equal(np.bincount(ds.labels_train, minlength=10), 30)


def test_digits_noise_stays_in_unit_range() -> None:
    clean = make_dataset("digits", samples=100, noise=0.0, seed=1)
    noisy = make_dataset("digits", samples=100, noise=0.3, seed=1)
    assert not np.array_equal(clean.X_train, noisy.X_train)
    assert noisy.X_train.min() >= 0.0 and noisy.X_train.max() <= 1.0


def test_load_digits_returns_copies() -> None:
    pixels, _ = load_digits()
    pixels[0, 0] = 99
    assert load_digits()[0][0, 0] != 99
