"""Generation benchmark: judge top-1 (stage 1 only / sequential / parallel), Frechet
distance, diversity, memorisation, completion and timings, as one JSON report.

    python benchmarks/generation.py --per-class 10 --json runs/gen/generation.json

Same options as ``visketch eval generation`` (it is that command).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visketch_core.generate.commands import eval_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(eval_main(sys.argv[1:]))
