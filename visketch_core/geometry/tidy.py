"""Traced strokes made to look drawn: fewer, longer, smoother strokes, no doubled lines.

A generated sketch comes out of ``geometry.vectorise`` as the centre lines of a raster. Those
follow every wobble and blocky corner of the raster, break where the ink has a gap, and run
twice where the raster drew two close parallel lines. ``tidy`` rewrites them the way a person
would have drawn them (all distances in pixels of the 256 frame):

1. every stroke is resampled at ``spacing``;
2. doubled lines go: strokes are taken longest first, and a stretch of a stroke that runs
   within ``double`` px of ink already kept (or within ``keep_double`` px of ``keep``, the
   user's own ink when a sketch is completed) for at least ``double_run`` px is cut out; a
   short crossing is not a stretch;
3. gaps are bridged: two free ends closer than ``gap`` px whose strokes point at each other
   are joined into one stroke (nearest pairs first); strokes shorter than ``dot_length`` px
   (dots and ticks) are never joined to another;
4. strokes shorter than ``min_length`` px are dropped where they lie within ``dot_clear`` px
   of another stroke or of ``keep`` (fragments and stubs of tracing); an isolated one is a dot a person
   drew on purpose (an eye, a button) and stays;
5. each stroke is smoothed by a Gaussian of ``sigma`` px along its length (ends stay put,
   closed strokes wrap around), then simplified with Ramer-Douglas-Peucker (``epsilon``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from visketch_core.geometry.simplify import polyline_length, rdp, resample
from visketch_core.sketch.model import FRAME, Sketch


@dataclass(frozen=True)
class TidyConfig:
    spacing: float = 2.0
    double: float = 5.0
    keep_double: float = 5.0
    double_run: float = 12.0
    gap: float = 20.0
    gap_cos: float = 0.3
    min_length: float = 7.0
    dot_clear: float = 6.0
    dot_length: float = 8.0
    sigma: float = 3.0
    epsilon: float = 0.8


def _closed(p: np.ndarray, tol: float = 2.5) -> bool:
    return len(p) > 3 and float(np.hypot(*(p[0] - p[-1]))) <= tol


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges where a bool (N,) array is true."""
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def remove_doubles(strokes: list[np.ndarray], cfg: TidyConfig,
                   keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Cut the stretches of strokes that retrace ink kept before them (see module doc).
    ``keep``: optional bool (256, 256) ink that counts as kept from the start."""
    occupied = np.zeros((FRAME, FRAME), np.uint8)
    kept_far = None                 # bool (256, 256): within keep_double px of ``keep``
    if keep is not None:
        occupied[np.asarray(keep, bool)] = 1
        if cfg.keep_double > cfg.double and occupied.any():
            kept_far = cv2.distanceTransform(1 - occupied, cv2.DIST_L2, 3) <= cfg.keep_double
    out = []
    run_pts = max(1, int(round(cfg.double_run / cfg.spacing)))
    for p in sorted(strokes, key=polyline_length, reverse=True):
        if occupied.any():
            dist = cv2.distanceTransform(1 - occupied, cv2.DIST_L2, 3)
            xi = np.clip(np.round(p[:, 0]).astype(int), 0, FRAME - 1)
            yi = np.clip(np.round(p[:, 1]).astype(int), 0, FRAME - 1)
            near = dist[yi, xi] <= cfg.double
            if kept_far is not None:
                near |= kept_far[yi, xi]
            drop = np.zeros(len(p), bool)
            for a, b in _runs(near):
                if b - a >= run_pts:
                    drop[a:b] = True
            pieces = [p[a:b] for a, b in _runs(~drop)] if drop.any() else [p]
        else:
            pieces = [p]
        for q in pieces:
            if len(q) >= 2 or len(p) == 1:          # a drawn dot is one point
                out.append(q)
                pts = np.round(q).astype(np.int32).reshape(-1, 1, 2)
                cv2.polylines(occupied, [pts], False, 1, 1)
    return out


def _end(p: np.ndarray, which: int, reach: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(point, unit outward direction) of a stroke's first (0) or last (1) end."""
    q = p if which == 0 else p[::-1]
    far = q[min(reach, len(q) - 1)]
    v = q[0] - far
    n = float(np.hypot(*v))
    return q[0], (v / n if n > 0 else v)


def bridge_gaps(strokes: list[np.ndarray], cfg: TidyConfig) -> list[np.ndarray]:
    """Join free ends that face each other across a gap shorter than ``cfg.gap``."""
    def dot(p: np.ndarray) -> bool:
        return len(p) < 2 or (cfg.dot_length > 0 and polyline_length(p) < cfg.dot_length)

    dots = [p for p in strokes if dot(p)]
    strokes = [p for p in strokes if not dot(p)]
    while True:
        ends = [(i, e) for i, p in enumerate(strokes) if not _closed(p) for e in (0, 1)]
        best = None
        for a in range(len(ends)):
            pa, ua = _end(strokes[ends[a][0]], ends[a][1])
            for b in range(a + 1, len(ends)):
                i, j = ends[a][0], ends[b][0]
                pb, ub = _end(strokes[j], ends[b][1])
                v = pb - pa
                d = float(np.hypot(*v))
                if d > cfg.gap or (i == j and polyline_length(strokes[i]) < 4 * cfg.gap):
                    continue
                if d > 1e-6:
                    v = v / d
                    if ua @ v < cfg.gap_cos or ub @ -v < cfg.gap_cos:
                        continue
                if best is None or d < best[0]:
                    best = (d, ends[a], ends[b])
        if best is None:
            return strokes + dots
        _, (i, ei), (j, ej) = best
        pi = strokes[i] if ei == 1 else strokes[i][::-1]       # ends at the gap
        if i == j:                                             # close the loop
            strokes[i] = np.vstack([pi, pi[:1]])
            continue
        pj = strokes[j] if ej == 0 else strokes[j][::-1]       # starts at the gap
        joined = np.vstack([pi, pj])
        strokes = [p for k, p in enumerate(strokes) if k not in (i, j)] + [joined]


def drop_fragments(strokes: list[np.ndarray], cfg: TidyConfig,
                   keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Strokes shorter than ``cfg.min_length`` go unless no other ink lies within
    ``cfg.dot_clear`` px of them (see module doc); ``keep`` (bool (256, 256), the user's ink
    when a sketch is completed) counts as other ink."""
    short = [polyline_length(p) < cfg.min_length for p in strokes]
    if not any(short):
        return strokes
    base = np.zeros((FRAME, FRAME), np.uint8)
    if keep is not None:
        base[np.asarray(keep, bool)] = 1
    out = []
    for i, p in enumerate(strokes):
        if not short[i]:
            out.append(p)
            continue
        others = base.copy()
        for j, q in enumerate(strokes):
            if j != i:
                cv2.polylines(others, [np.round(q).astype(np.int32).reshape(-1, 1, 2)], False, 1, 1)
        if not others.any():
            out.append(p)
            continue
        dist = cv2.distanceTransform(1 - others, cv2.DIST_L2, 3)
        xi = np.clip(np.round(p[:, 0]).astype(int), 0, FRAME - 1)
        yi = np.clip(np.round(p[:, 1]).astype(int), 0, FRAME - 1)
        if float(dist[yi, xi].min()) > cfg.dot_clear:
            out.append(p)
    return out


def smooth(p: np.ndarray, sigma_pts: float) -> np.ndarray:
    """Gaussian smoothing of a resampled polyline (float (N, 2)) along its index; the ends
    of an open stroke stay where they were, a closed stroke wraps around."""
    if len(p) < 3 or sigma_pts <= 0:
        return p
    r = int(np.ceil(3 * sigma_pts))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_pts) ** 2)
    k /= k.sum()
    if _closed(p):
        body = p[:-1]
        ext = np.vstack([body[-r:] if r <= len(body) else np.resize(body, (r, 2)), body,
                         body[:r] if r <= len(body) else np.resize(body, (r, 2))])
        sm = np.stack([np.convolve(ext[:, c], k, mode="same") for c in (0, 1)], 1)[r:r + len(body)]
        return np.vstack([sm, sm[:1]])
    # reflect about the end points so the ends neither move nor get pulled inwards
    pre = 2 * p[0] - p[1:r + 1][::-1]
    post = 2 * p[-1] - p[-r - 1:-1][::-1]
    ext = np.vstack([pre, p, post])
    sm = np.stack([np.convolve(ext[:, c], k, mode="same") for c in (0, 1)], 1)
    sm = sm[len(pre):len(pre) + len(p)]
    sm[0], sm[-1] = p[0], p[-1]
    return sm


def tidy(sketch: Sketch, cfg: TidyConfig | None = None, keep: np.ndarray | None = None) -> Sketch:
    """The sketch's strokes (256 frame) rewritten as described in the module docstring."""
    cfg = cfg or TidyConfig()
    strokes = [resample(s, cfg.spacing)[0] for s in sketch.strokes if len(s)]
    strokes = remove_doubles(strokes, cfg, keep)
    strokes = bridge_gaps(strokes, cfg)
    strokes = drop_fragments(strokes, cfg, keep)
    sig = cfg.sigma / cfg.spacing
    out = [rdp(smooth(resample(p, cfg.spacing)[0], sig), cfg.epsilon).astype(np.float32)
           for p in strokes]
    return Sketch(strokes=out, label=sketch.label, source=sketch.source)
