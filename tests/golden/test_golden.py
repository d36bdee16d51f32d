"""Gradients, updates and frames stay bit for bit what they were before the re-layout.

`golden.json` was recorded by `make.py` on the code before the floors moved. The engine
digests are exact bytes; the protocol transcript compares every number the frames carry
(keys added since are ignored, a missing key fails).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import digest
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


@pytest.mark.parametrize("i", range(len(record.CONFIGS)))
def test_engine_bit_for_bit(i: int) -> None:
    assert digest.run(record.CONFIGS[i]) == GOLDEN["engine"][i]


def test_protocol_transcript() -> None:
    new = record.run()
    assert len(new) == len(GOLDEN["protocol"])
    for i, (old, now) in enumerate(zip(GOLDEN["protocol"], new, strict=True)):
        _same(old, now, f"[{i}] {old['cmd']}")
