"""Shared helpers for benchmarks: timing with medians, JSON output, data location."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "machine": platform.machine()}


def emit(result: dict) -> None:
    print(json.dumps(result, indent=2))
