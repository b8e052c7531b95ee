"""Shared test setup: offscreen Qt, isolated user dirs, paths to the QuickDraw data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "quickdraw"
SIMPLIFIED = DATA / "simplified-15"
MINI = Path(__file__).resolve().parent / "fixtures" / "quickdraw-mini"


@pytest.fixture(autouse=True)
def _user_dirs(tmp_path_factory, monkeypatch):
    """Settings and autosaves of tests never touch the real user's dirs."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VISKETCH_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("VISKETCH_DATA_DIR", str(base / "data"))


@pytest.fixture(scope="session")
def quickdraw_dir() -> Path:
    """The full 15-class folder when it is next to the checkout, else the small fixture
    (a few real sketches per class, test-split ones included)."""
    return SIMPLIFIED if SIMPLIFIED.is_dir() else MINI


@pytest.fixture(scope="session")
def cat_sketches(quickdraw_dir):
    from visketch_core.sketch.quickdraw import iter_ndjson

    out = []
    for sk in iter_ndjson(quickdraw_dir / "cat.ndjson"):
        out.append(sk)
        if len(out) >= 40:
            break
    return out
