"""Polyline simplification and resampling: Ramer-Douglas-Peucker and uniform spacing.

One implementation serves Google's raw-QuickDraw preprocessing (``sketch.quickdraw``) and
the tracing of rasters back into strokes (``geometry.vectorise``).
"""

from __future__ import annotations

import numpy as np


def rdp_mask(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Which points Ramer-Douglas-Peucker keeps.

    ``points``: float (N, 2). Returns bool (N,); the first and last points are always kept.
    A point is kept when it lies farther than ``epsilon`` from the chord between the kept
    points around it (distance to the chord's line, or to its start when the chord is a
    single point, as for a closed stroke). Iterative (an explicit stack, no recursion); each
    chord's distances are one vectorised NumPy step, so the loop runs once per kept point.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = pts[i], pts[j]
        inner = pts[i + 1 : j]
        ab = b - a
        norm = float(np.hypot(ab[0], ab[1]))
        rel = inner - a
        if norm < 1e-12:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / norm
        k = int(np.argmax(dist))
        if dist[k] > epsilon:
            m = i + 1 + k
            keep[m] = True
            stack.append((i, m))
            stack.append((m, j))
    return keep


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """The points (float (M, 2), M <= N) that Ramer-Douglas-Peucker keeps; see ``rdp_mask``."""
    pts = np.asarray(points).reshape(-1, 2)
    return pts[rdp_mask(pts, epsilon)]


def polyline_length(points: np.ndarray) -> float:
    """Sum of segment lengths of a float (N, 2) polyline (0 for fewer than two points)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return 0.0
    d = np.diff(pts, axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def resample(
    points: np.ndarray, spacing: float = 1.0, times: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resample a polyline at (at most) ``spacing`` arc-length steps, keeping both ends.

    ``points``: float (N, 2); ``times``: optional (N,) timestamps, linearly interpolated by
    arc length. Returns (float64 (M, 2), float64 (M,) or None). A polyline of zero length
    comes back as its first point.
    """
    if spacing <= 0:
        raise ValueError("spacing must be positive")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    t = None if times is None else np.asarray(times, dtype=np.float64).reshape(-1)
    if len(pts) < 2:
        return pts.copy(), None if t is None else t.copy()
    seg = np.hypot(*np.diff(pts, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(arc[-1])
    if total <= 0:
        return pts[:1].copy(), None if t is None else t[:1].copy()
    steps = max(int(np.ceil(total / spacing - 1e-9)), 1)
    where = np.linspace(0.0, total, steps + 1)
    # np.interp needs increasing x: drop zero-length segments (repeated points).
    uniq = np.concatenate([[True], seg > 0])
    out = np.stack(
        [np.interp(where, arc[uniq], pts[uniq, 0]), np.interp(where, arc[uniq], pts[uniq, 1])],
        axis=1,
    )
    out_t = None if t is None else np.interp(where, arc[uniq], t[uniq])
    return out, out_t
