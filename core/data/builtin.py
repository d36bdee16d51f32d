"""The built-in teaching sets: the 2-D generators, ``y = x²``, house prices and the 8×8 digits.

The 2-D sets follow TensorFlow Playground's ``dataset.ts`` (same shapes, same
coordinates of about ±6, same meaning of ``noise`` in 0–0.5), so a teacher who
knows the Playground sees the same pictures. Every random draw comes from
``numpy.random.default_rng(seed)``; nothing touches global random state. Their shapes
(inputs, outputs, task, examples) are the registry's ``DATASETS``; what ``noise`` does
to each set is in docs/datasets.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..engine.registry import DATASETS
from .dataset import DEFAULT_LOSS, Dataset, Domain, FloatArray, IntArray, assemble, mean_std, n_test
from .digits import load_digits, make_digits

__all__ = ["PSEUDO_TEXTS", "TEXTS", "listing", "load_digits", "make_dataset", "pseudo_listing"]

#: Limits of ``make_dataset``'s arguments (the config enforces its own, tighter ones).
MIN_SAMPLES = 4
MAX_SAMPLES = 100_000
MAX_NOISE = 1.0
MAX_TEST_FRACTION = 0.9


class Text(NamedTuple):
    """A built-in set's title and one-line description, in English and Simplified Chinese."""

    title_en: str
    title_zh: str
    description_en: str
    description_zh: str


#: The built-in sets' names and descriptions, in the order the page lists them. The
#: English description is also the ``Dataset.description`` the page shows.
TEXTS: dict[str, Text] = {
    "circle": Text(
        "Circle",
        "圆形",
        "Points inside a disc (class 1) against points on a ring around it (class 0).",
        "圆盘内的点（类别 1）与外圈环上的点（类别 0）。",
    ),
    "xor": Text(
        "XOR",
        "异或",
        "Class 1 where x₁ and x₂ have the same sign, class 0 where they differ: no single "
        "line separates them, so a hidden layer is needed.",
        "x₁ 与 x₂ 同号为类别 1，异号为类别 0：一条直线分不开，必须有隐藏层。",
    ),
    "gauss": Text(
        "Gaussian clusters",
        "高斯簇",
        "Two Gaussian clouds centred at (2, 2) (class 1) and (−2, −2) (class 0).",
        "分别以 (2, 2)（类别 1）和 (−2, −2)（类别 0）为中心的两团高斯点云。",
    ),
    "spiral": Text(
        "Spiral",
        "螺旋",
        "Two interleaved spirals, one per class: the hardest of the 2-D sets.",
        "两条交错的螺旋线，各为一类：二维数据集中最难的一个。",
    ),
    "moons": Text(
        "Moons",
        "双月",
        "Two interleaving half moons, one per class.",
        "两个相互嵌套的半月形，各为一类。",
    ),
    "plane": Text(
        "Plane",
        "平面",
        "Regression of the plane y = (x₁ + x₂) / 10.",
        "回归一个平面：y = (x₁ + x₂) / 10。",
    ),
    "multigauss": Text(
        "Multi-Gaussian",
        "多高斯",
        "Regression of six positive and negative Gaussian bumps.",
        "回归六个正负相间的高斯“鼓包”。",
    ),
    "square": Text(
        "y = x²",
        "y = x²",
        "Fit y = x² on x in [−1, 1]: a 1-2-1 ReLU network bends a line twice.",
        "在 x ∈ [−1, 1] 上拟合 y = x²：1-2-1 的 ReLU 网络把直线折两次。",
    ),
    "house": Text(
        "House price",
        "房价",
        "Price (thousands) from area (m², 40–200) and number of rooms (1–6); the network "
        "sees standardized values.",
        "由面积（40–200 平方米）和房间数（1–6）预测房价（千元）；网络看到的是标准化后的值。",
    ),
    "digits": Text(
        "8×8 digits",
        "8×8 手写数字",
        "1,797 handwritten digits of 8×8 pixels (the UCI optdigits test set), 10 classes; "
        "a small stand-in for MNIST.",
        "1797 张 8×8 像素的手写数字（UCI optdigits 测试集），10 类；可看作小号的 MNIST。",
    ),
}


#: The data a config names besides the built-in sets (the registry's ``PSEUDO_DATASETS``).
PSEUDO_TEXTS: dict[str, Text] = {
    "csv": Text(
        "Own data (CSV)",
        "自己的数据（CSV）",
        "An uploaded CSV file: one column is the target, the other numeric columns the "
        "inputs (data.csv names it by its hash).",
        "上传的 CSV 文件：一列为目标，其余数值列为输入（data.csv 为其哈希）。",
    ),
    "table": Text(
        "Typed table",
        "手写数据表",
        "A few rows typed into the config (data.x, data.y), used as typed: the board "
        "exercise a student computes by hand. The task follows from the loss.",
        "直接写在配置里的几行数据（data.x、data.y），原样使用：学生可以手算的板书练习。"
        "任务类型由损失函数决定。",
    ),
}


def pseudo_listing(max_rows: int, max_inputs: int, max_outputs: int) -> list[dict[str, Any]]:
    """The data a config names besides the built-in sets, for ``/api/datasets``
    (``pseudo``): ``{"name", "task": null (the CSV's or the loss's), "title": {"en", "zh"},
    "description": {"en", "zh"}}``; the table with its bounds ``max_rows``,
    ``max_inputs``, ``max_outputs``."""
    out: list[dict[str, Any]] = []
    for name, text in PSEUDO_TEXTS.items():
        entry: dict[str, Any] = {
            "name": name,
            "task": None,
            "title": {"en": text.title_en, "zh": text.title_zh},
            "description": {"en": text.description_en, "zh": text.description_zh},
        }
        if name == "table":
            entry |= {"max_rows": max_rows, "max_inputs": max_inputs, "max_outputs": max_outputs}
        out.append(entry)
    return out


def listing() -> list[dict[str, Any]]:
    """The built-in sets for ``GET /api/datasets``, in display order: ``{"name", "task",
    "n_in", "n_out", "max_samples", "n_features", "n_outputs" (the same two sizes, older
    names), "default_loss", "title": {"en", "zh"}, "description": {"en", "zh"}}``."""
    out = []
    for name, text in TEXTS.items():
        info = DATASETS[name]
        out.append(
            {
                "name": name,
                "task": info.task,
                "n_features": info.n_in,
                "n_outputs": info.n_out,
                "default_loss": DEFAULT_LOSS[info.task],
                "title": {"en": text.title_en, "zh": text.title_zh},
                "description": {"en": text.description_en, "zh": text.description_zh},
                "n_in": info.n_in,
                "n_out": info.n_out,
                "max_samples": info.max_samples,
            }
        )
    return out


# --------------------------------------------------------------------------------------
# Generators (original units). Each returns X (n, d) and the raw target:
# int labels (n,) for classification, float values (n,) for regression.
# --------------------------------------------------------------------------------------

_TF_BOX: Domain = ((-6.0, 6.0), (-6.0, 6.0))


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _gen_circle(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate(
        [rng.uniform(0.0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n_out)]
    )
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.linalg.norm(X + jitter, axis=1) < radius * 0.5).astype(np.int64)
    return X, labels


def _gen_xor(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # keep a gap around the axes, as the Playground does
    jitter = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    P = X + jitter
    labels = (P[:, 0] * P[:, 1] >= 0).astype(np.int64)
    return X, labels


def _gen_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5
    n_pos, n_neg = _halves(n)
    std = math.sqrt(variance)
    X = np.concatenate([rng.normal(2.0, std, (n_pos, 2)), rng.normal(-2.0, std, (n_neg, 2))])
    labels = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return X, labels


def _gen_spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    parts = []
    for count, delta, label in ((n // 2, 0.0, 1), (n - n // 2, math.pi, 0)):
        i = np.arange(count) / max(count, 1)
        r = i * 5.0
        t = 1.75 * i * 2.0 * math.pi + delta
        xy = np.column_stack([r * np.sin(t), r * np.cos(t)])
        xy += rng.uniform(-1.0, 1.0, (count, 2)) * noise
        parts.append((xy, np.full(count, label, np.int64)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _gen_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    n_up, n_down = _halves(n)
    t_up = rng.uniform(0.0, math.pi, n_up)
    t_down = rng.uniform(0.0, math.pi, n_down)
    up = np.column_stack([np.cos(t_up), np.sin(t_up)])
    down = np.column_stack([1.0 - np.cos(t_down), 0.5 - np.sin(t_down)])
    X = np.concatenate([up, down])
    X += rng.normal(0.0, 1.0, X.shape) * noise
    X = (X - np.array([0.5, 0.25])) * 4.0  # centre, and scale to the Playground's ±6
    labels = np.concatenate([np.zeros(n_up, np.int64), np.ones(n_down, np.int64)])
    return X, labels


def _gen_plane(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.uniform(-6.0, 6.0, (n, 2))
    P = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    return X, (P[:, 0] + P[:, 1]) / 10.0


def _gen_multigauss(
    n: int, noise: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    bumps = np.array(
        [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
        dtype=np.float64,
    )
    X = rng.uniform(-6.0, 6.0, (n, 2))
    P = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    dist = np.linalg.norm(P[:, None, :] - bumps[None, :, :2], axis=2)  # (n, 6)
    values = bumps[None, :, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)  # (n, 6)
    pick = np.argmax(np.abs(values), axis=1)
    return X, values[np.arange(n), pick]


def _gen_square(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    x = rng.uniform(-1.0, 1.0, n)
    y = x**2 + rng.normal(0.0, 1.0, n) * noise
    return x[:, None], y


def _gen_house(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    area = rng.uniform(40.0, 200.0, n)
    rooms = np.clip(np.round(area / 35.0 + rng.normal(0.0, 0.6, n)), 1, 6)
    price = 30.0 + 2.5 * area + 15.0 * rooms + rng.normal(0.0, 1.0, n) * 100.0 * noise
    return np.column_stack([area, rooms]), np.maximum(price, 20.0)


_Generator = Callable[[int, float, np.random.Generator], tuple[FloatArray, NDArray[Any]]]


@dataclass(frozen=True)
class _Spec:
    generate: _Generator
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    standardize: bool = False  # standardize features and target with the train statistics
    box: Domain | None = _TF_BOX  # region the domain always covers (original units)


_SPECS: dict[str, _Spec] = {
    "circle": _Spec(_gen_circle, ("x1", "x2"), ("outside", "inside")),
    "xor": _Spec(_gen_xor, ("x1", "x2"), ("different sign", "same sign")),
    "gauss": _Spec(_gen_gauss, ("x1", "x2"), ("cluster (-2, -2)", "cluster (2, 2)")),
    "spiral": _Spec(_gen_spiral, ("x1", "x2"), ("spiral B", "spiral A")),
    "moons": _Spec(_gen_moons, ("x1", "x2"), ("upper moon", "lower moon")),
    "plane": _Spec(_gen_plane, ("x1", "x2"), ("y",)),
    "multigauss": _Spec(_gen_multigauss, ("x1", "x2"), ("y",)),
    "square": _Spec(_gen_square, ("x",), ("y",), box=((-1.0, 1.0),)),
    "house": _Spec(_gen_house, ("area (m²)", "rooms"), ("price (k)",), True, None),
}


# --------------------------------------------------------------------------------------
# make_dataset
# --------------------------------------------------------------------------------------


def make_dataset(
    name: str,
    samples: int = 400,
    noise: float = 0.1,
    test_fraction: float = 0.3,
    seed: int = 1,
) -> Dataset:
    """Generate a built-in data set, split into train and test.

    Args:
        name: a key of the registry's ``DATASETS``.
        samples: total number of examples (train + test), ``MIN_SAMPLES..MAX_SAMPLES``;
            for ``"digits"`` it caps a class-balanced subset of the 1,797 digits.
        noise: 0..1 (TF Playground's slider is 0–0.5); what it does to each set is in
            docs/datasets.md.
        test_fraction: share of the examples held out for testing, 0..0.9.
        seed: seeds ``numpy.random.default_rng``; same arguments give identical arrays.

    Returns:
        A :class:`Dataset`; shapes ``X_train (n_train, d)``, ``Y_train (n_train, k)``.

    Raises:
        ValueError: unknown name or an argument out of range.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    _check_args(samples, noise, test_fraction, seed)
    if name == "digits":
        return make_digits(samples, noise, test_fraction, seed, TEXTS[name].description_en)

    spec = _SPECS[name]
    task = DATASETS[name].task
    rng = np.random.default_rng(seed)
    X, target = spec.generate(samples, noise, rng)
    order = rng.permutation(samples)
    X, target = X[order], target[order]
    k = n_test(samples, test_fraction)
    X_tr, X_te, t_tr, t_te = X[k:], X[:k], target[k:], target[:k]

    d = X.shape[1]
    f_mean, f_std = mean_std(X_tr) if spec.standardize else (np.zeros(d), np.ones(d))
    X_tr, X_te = (X_tr - f_mean) / f_std, (X_te - f_mean) / f_std
    t_mean = t_std = None
    if task == "regression":
        y_tr = t_tr.astype(np.float64)[:, None]
        y_te = t_te.astype(np.float64)[:, None]
        t_mean, t_std = mean_std(y_tr) if spec.standardize else (np.zeros(1), np.ones(1))
        t_tr, t_te = (y_tr - t_mean) / t_std, (y_te - t_mean) / t_std
    else:
        t_tr, t_te = t_tr.astype(np.int64), t_te.astype(np.int64)
    return assemble(
        name,
        task,
        X_tr,
        X_te,
        t_tr,
        t_te,
        t_mean,
        t_std,
        feature_names=spec.feature_names,
        class_names=spec.class_names,
        feature_mean=f_mean,
        feature_std=f_std,
        box=spec.box,
        description=TEXTS[name].description_en,
    )


def _check_args(samples: int, noise: float, test_fraction: float, seed: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer):
        raise ValueError(f"samples must be an integer, got {samples!r}.")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between {MIN_SAMPLES} and {MAX_SAMPLES}, got {samples}.")
    if not (isinstance(noise, int | float) and 0.0 <= noise <= MAX_NOISE):
        raise ValueError(f"noise must be a number between 0 and {MAX_NOISE}, got {noise!r}.")
    if not (isinstance(test_fraction, int | float) and 0.0 <= test_fraction <= MAX_TEST_FRACTION):
        raise ValueError(
            f"test_fraction must be between 0 and {MAX_TEST_FRACTION}, got {test_fraction!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
