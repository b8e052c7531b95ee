"""Sketches: the stroke model, normalisation and file formats."""

from __future__ import annotations

from visketch_core.sketch.model import FRAME, Sketch, normalise

__all__ = ["FRAME", "Sketch", "normalise"]
