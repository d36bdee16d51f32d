"""Write tests/golden/golden.json from the code as it is now (the reference numbers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import digest
import record

if __name__ == "__main__":
    data = {"engine": [digest.run(c) for c in record.CONFIGS], "protocol": record.run()}
    out = Path(__file__).parent / "golden.json"
    out.write_text(json.dumps(data, allow_nan=False, separators=(",", ":")))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
