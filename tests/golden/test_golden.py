"""Gradients, updates and frames stay bit for bit what they were before the re-layout.

`golden.json` was recorded by `make.py` on the code before the floors moved (4a0d265),
on the pinned numeric platform (`make.PINNED`: the same BLAS kernels and NumPy loops on
any x86-64 CPU with AVX2), and is compared with the numbers the code gives now on that
platform, computed once in a child process. The engine digests are exact bytes; the
protocol transcript compares every number the frames carry (keys added since are
ignored, a missing key fails).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import make
import record

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())


def _same(old: Any, new: Any, path: str) -> None:
    if isinstance(old, dict):
        assert isinstance(new, dict), path
        for k, v in old.items():
            assert k in new, f"{path}.{k} missing"
            _same(v, new[k], f"{path}.{k}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), path
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _same(a, b, f"{path}[{i}]")
    else:
        assert old == new, f"{path}: {old!r} != {new!r}"


@pytest.fixture(scope="module")
def now() -> dict[str, Any]:
    """The engine digests and the transcript of the code as it is, on the pinned platform."""
    return make.compute_pinned()


@pytest.mark.parametrize("i", range(len(record.CONFIGS)))
def test_engine_bit_for_bit(now: dict[str, Any], i: int) -> None:
    assert now["engine"][i] == GOLDEN["engine"][i]


def test_protocol_transcript(now: dict[str, Any]) -> None:
    new = now["protocol"]
    assert len(new) == len(GOLDEN["protocol"])
    for i, (old, got) in enumerate(zip(GOLDEN["protocol"], new, strict=True)):
        _same(old, got, f"[{i}] {old['cmd']}")
