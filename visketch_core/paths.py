"""Where shipped resources live: the source tree, an installed package, or a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder (models, icons, samples).

    Order: $VISKETCH_RESOURCES, a frozen bundle's data dir, the repository checkout.
    """
    env = os.environ.get("VISKETCH_RESOURCES")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def models_dir() -> Path:
    return resources_dir() / "models"


def default_classifier_path() -> Path:
    return models_dir() / "classifier.pt"


def default_data_dir() -> Path:
    """QuickDraw training folder: $VISKETCH_DATA, else ../shared/data/quickdraw/simplified-15
    next to the checkout."""
    env = os.environ.get("VISKETCH_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "quickdraw" / "simplified-15"
