"""Write tests/golden/golden.json from the code as it is now (the reference numbers).

The numbers are computed in a child process on a pinned numeric platform (:data:`PINNED`):
OpenBLAS's Haswell kernels on one thread and NumPy's loops no wider than AVX2 (x86-64-v3).
Left to itself, each picks its kernels by the CPU — AVX-512 ones where there are — and
the last bits of a sum depend on them: a golden file recorded on one kind of machine
would fail on another with the same code. Any x86-64 CPU with AVX2 runs the pinned paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

PINNED = {
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
"""Set before NumPy loads, so only a fresh process can have them."""


def compute() -> dict[str, Any]:
    """The engine digests and the protocol transcript, in this process as it is."""
    import digest
    import record

    return {"engine": [digest.run(c) for c in record.CONFIGS], "protocol": record.run()}


def compute_pinned() -> dict[str, Any]:
    """:func:`compute` in a child process on the pinned platform."""
    env = os.environ | PINNED
    out = subprocess.run(
        [sys.executable, __file__, "--stdout"], env=env, capture_output=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"the golden numbers could not be computed:\n{out.stderr.decode()}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


if __name__ == "__main__":
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(json.dumps(compute(), allow_nan=False, separators=(",", ":")))
    else:
        data = compute_pinned()
        out = Path(__file__).parent / "golden.json"
        out.write_text(json.dumps(data, allow_nan=False, separators=(",", ":")))
        print(f"wrote {out} ({out.stat().st_size} bytes)")
