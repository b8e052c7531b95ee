"""The Sketch model: strokes as float arrays in one frame, with optional timing.

A sketch is a list of strokes; each stroke is a float32 array of shape (N, 2) holding
(x, y) points, with y growing downwards (image convention). Timing, when the source has
it, is one float64 array of shape (N,) per stroke, in milliseconds. A sketch that only
exists as pixels (PNG, numpy_bitmap) carries a raster instead of strokes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

FRAME = 256  # every sketch is normalised into a FRAME x FRAME canvas
MARGIN = 16  # pixels kept free around a normalised sketch
MAX_COORD = 1e6  # coordinates beyond this are treated as corrupt


@dataclass
class Sketch:
    """A drawing: strokes (float32 (N, 2) each), optional timing, label and source.

    ``raster``: for pixel-only inputs, a float32 (H, W) ink image in [0, 1] (1 = ink).
    """

    strokes: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] | None = None
    label: str | None = None
    source: str | None = None
    key_id: str | None = None
    raster: np.ndarray | None = None
    # where in its file the sketch was: ndjson line, .bin record or .npz/.npy index (from 1);
    # error messages name it, as FILE:LINE
    line: int | None = None

    def __post_init__(self) -> None:
        self.strokes = [np.asarray(s, dtype=np.float32).reshape(-1, 2) for s in self.strokes]
        if self.times is not None:
            self.times = [np.asarray(t, dtype=np.float64).reshape(-1) for t in self.times]
            if len(self.times) != len(self.strokes) or any(
                len(t) != len(s) for t, s in zip(self.times, self.strokes)
            ):
                raise ValueError("times must match strokes point for point")

    # -- queries -----------------------------------------------------------------
    @property
    def num_points(self) -> int:
        return int(sum(len(s) for s in self.strokes))

    @property
    def is_empty(self) -> bool:
        if self.raster is not None:
            return not bool(np.any(self.raster > 0))
        return self.num_points == 0

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of all points; raises ValueError on an empty sketch."""
        if self.num_points == 0:
            raise ValueError("empty sketch has no bounds")
        pts = np.concatenate(self.strokes)
        return (float(pts[:, 0].min()), float(pts[:, 1].min()),
                float(pts[:, 0].max()), float(pts[:, 1].max()))

    def validate(self) -> None:
        """Raise ValueError (one line) if coordinates are NaN, infinite or absurdly large."""
        for i, s in enumerate(self.strokes):
            if not np.all(np.isfinite(s)):
                raise ValueError(f"stroke {i} has NaN or infinite coordinates")
            if s.size and float(np.abs(s).max()) > MAX_COORD:
                raise ValueError(f"stroke {i} has coordinates beyond {MAX_COORD:g}")
        if self.raster is not None and not np.all(np.isfinite(self.raster)):
            raise ValueError("raster has NaN or infinite values")

    # -- derived sketches ------------------------------------------------------------
    def first_strokes(self, k: int) -> Sketch:
        """The sketch as it was after its first ``k`` strokes."""
        times = None if self.times is None else self.times[:k]
        return replace(self, strokes=self.strokes[:k], times=times)

    def transformed(self, matrix: np.ndarray) -> Sketch:
        """Apply a 2x3 affine matrix to every point."""
        m = np.asarray(matrix, dtype=np.float32)
        strokes = [s @ m[:, :2].T + m[:, 2] for s in self.strokes]
        return replace(self, strokes=strokes)

    def copy(self) -> Sketch:
        return replace(
            self,
            strokes=[s.copy() for s in self.strokes],
            times=None if self.times is None else [t.copy() for t in self.times],
            raster=None if self.raster is None else self.raster.copy(),
        )


def normalise(sketch: Sketch, size: int = FRAME, margin: float = MARGIN) -> Sketch:
    """Centre and scale a sketch (keeping its aspect ratio) to fit ``size`` with ``margin``.

    The same function serves training data, user drawings and imported files. A raster
    sketch is cropped to its ink, scaled and centred the same way. A single point (or a
    sketch with no extent) is centred without scaling up.
    """
    sketch.validate()
    if sketch.raster is not None and not sketch.strokes:
        from visketch_core.geometry.raster import normalise_raster

        return replace(sketch, raster=normalise_raster(sketch.raster, size=size, margin=margin))
    if sketch.num_points == 0:
        return sketch.copy()
    out = sketch.transformed(normalise_matrix(sketch, size, margin))
    out.times = None if sketch.times is None else [t.copy() for t in sketch.times]
    return out


def normalise_matrix(sketch: Sketch, size: int = FRAME, margin: float = MARGIN) -> np.ndarray:
    """The 2x3 affine matrix that ``normalise`` applies to a (non-empty) stroke sketch."""
    x0, y0, x1, y1 = sketch.bounds()
    extent = max(x1 - x0, y1 - y0)
    avail = size - 2 * margin
    scale = avail / extent if extent > 1e-6 else 1.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([[scale, 0, size / 2 - scale * cx], [0, scale, size / 2 - scale * cy]])
