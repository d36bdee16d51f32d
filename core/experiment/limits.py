"""The sizes that keep one 2-core server responsive for a classroom, each written once.

The config models take their ranges from :data:`LIMITS`; ``/api/limits``, the ``hello``
message and docs/config.md list them (with :data:`LIMIT_TEXTS`).
"""

from __future__ import annotations

__all__ = ["LIMITS", "LIMIT_TEXTS"]

LIMITS: dict[str, int | float] = {
    "max_hidden_layers": 16,  # deep enough to watch gradients vanish
    "max_units": 256,  # per hidden layer
    "max_parameters": 300_000,  # weights + biases of the whole network
    "min_samples": 10,
    "max_samples": 5000,
    "max_batch_size": 1024,
    "max_learning_rate": 10.0,
    "max_test_fraction": 0.9,
    "max_dropout": 0.9,
    "max_clip_norm": 1e6,
    "max_seed": 2**32 - 1,
    "max_table_rows": 32,  # rows of a table typed into the config (data.x, data.y)
    "max_table_inputs": 64,  # its input columns
    "max_table_outputs": 16,  # its target columns (or classes)
}

LIMIT_TEXTS: dict[str, tuple[str, str]] = {
    "max_hidden_layers": ("hidden layers in the network", "隐藏层数上限"),
    "max_units": ("neurons in one hidden layer", "每个隐藏层的神经元数上限"),
    "max_parameters": ("weights and biases of the whole network", "网络参数（权重与偏置）总数上限"),
    "min_samples": ("fewest examples in a data set", "样本数下限"),
    "max_samples": ("most examples in a data set", "样本数上限"),
    "max_batch_size": ("largest mini-batch", "批大小上限"),
    "max_learning_rate": ("largest learning rate", "学习率上限"),
    "max_test_fraction": ("largest share held out for testing", "测试集比例上限"),
    "max_dropout": ("largest dropout rate", "丢弃率上限"),
    "max_clip_norm": ("largest clipping threshold", "梯度裁剪阈值上限"),
    "max_seed": ("largest random seed", "随机种子上限"),
    "max_table_rows": ("rows of a typed table (data.x, data.y)", "手写数据表的行数上限"),
    "max_table_inputs": ("input columns of a typed table", "手写数据表的输入列数上限"),
    "max_table_outputs": (
        "target columns (or classes) of a typed table",
        "手写数据表的目标列数（或类别数）上限",
    ),
}
"""What each limit bounds, in English and Chinese."""
