"""The short form of bench/soak.py: clients play, memory plateaus and comes back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_short_soak() -> None:
    run = subprocess.run(
        [sys.executable, str(SOAK), "--clients", "20", "--seconds", "30", "--check"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sessions left" in run.stdout
