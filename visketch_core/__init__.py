"""ViSketch core: sketch geometry, models, data, training and inference. No Qt here, ever."""

from __future__ import annotations

__version__ = "0.1.0"

from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch, normalise

__all__ = ["Sketch", "SketchError", "normalise", "__version__"]
