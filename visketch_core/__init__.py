"""ViSketch core: sketch geometry, models, data, training and inference. No Qt here, ever."""

from __future__ import annotations

try:  # one version, in pyproject.toml; frozen bundles without metadata fall back
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("visketch")
except (ImportError, PackageNotFoundError):  # pragma: no cover
    __version__ = "0.1.0"

from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch, normalise

__all__ = ["Sketch", "SketchError", "normalise", "__version__"]
