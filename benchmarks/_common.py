"""Shared helpers for benchmarks: timing with medians, JSON output, data location."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    """The processor's name (timings differ several-fold between machines of one size)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name") and ":" in line:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "machine": platform.machine(), "cpu_model": cpu_model()}


def strict(value):
    """NaN/inf (e.g. an accuracy over zero items) become null: the output stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def emit(result: dict) -> None:
    print(json.dumps(strict(result), indent=2, allow_nan=False))


def isolate_app() -> None:
    """Offscreen Qt and private settings/autosave folders, so an app benchmark never touches
    the user's own. Call before importing Qt."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="visketch-bench-"))
    os.environ.setdefault("VISKETCH_CONFIG_DIR", str(tmp / "config"))
    os.environ.setdefault("VISKETCH_DATA_DIR", str(tmp / "data"))


class SilentDialogs:
    """The window's dialogs, answering without asking: a benchmark discards its drawing."""

    def ask_save_changes_now(self, name):
        return "discard"

    async def ask_save_changes(self, name):
        return "discard"

    async def open_path(self, *a, **k):
        return None

    save_path = open_path

    def save_path_now(self, *a, **k):
        return None

    async def pick_sketch(self, sketches, more):
        return 0

    async def png_size(self, sizes, current):
        return current
