"""Augmentations on strokes (before normalisation): affine, jitter, stroke dropout, partial."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visketch_core.sketch.model import Sketch


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.15)   # anisotropic scale range per axis
    shear: float = 0.15
    jitter_px: float = 1.2                       # gaussian noise on every point (256 frame)
    stroke_dropout: float = 0.08                 # chance of dropping each stroke (keeps >= 1)
    partial_prob: float = 0.2                    # chance of keeping only the first k strokes
    partial_min: float = 0.4                     # k >= this share of the strokes
    width_range: tuple[float, float] = (2.0, 4.0)
    stray_prob: float = 0.0                      # chance of adding one stray short stroke
    stray_len: tuple[float, float] = (0.1, 0.5)  # its length, as a share of the sketch's size


# what the recognizer trains with: more unfinished drawings (it classifies while the user
# draws) and the odd stray line (one slip must not flip a confident guess)
RECOGNITION = AugmentConfig(partial_prob=0.35, partial_min=0.25, stray_prob=0.1)


def augment(sketch: Sketch, rng: np.random.Generator, cfg: AugmentConfig | None = None) -> Sketch:
    """A randomly perturbed copy of a (stroke) sketch; raster-only sketches pass through."""
    cfg = cfg or AugmentConfig()
    if not sketch.strokes:
        return sketch
    strokes = list(sketch.strokes)
    n = len(strokes)
    if n > 1 and rng.random() < cfg.partial_prob:
        k = int(rng.integers(max(1, int(np.ceil(cfg.partial_min * n))), n + 1))
        strokes = strokes[:k]
    if len(strokes) > 2 and cfg.stroke_dropout > 0:
        keep = rng.random(len(strokes)) >= cfg.stroke_dropout
        if keep.sum() >= 1:
            strokes = [s for s, k in zip(strokes, keep) if k]
    if cfg.stray_prob > 0 and rng.random() < cfg.stray_prob:
        strokes.append(_stray(np.concatenate(strokes), rng, cfg.stray_len))
    a = np.deg2rad(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg))
    sx, sy = rng.uniform(*cfg.scale, size=2)
    sh = rng.uniform(-cfg.shear, cfg.shear)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lin = rot @ np.array([[sx, sh], [0.0, sy]])
    pts = np.concatenate(strokes)
    centre = (pts.min(0) + pts.max(0)) / 2
    out = []
    for s in strokes:
        p = (s - centre) @ lin.T + centre
        if cfg.jitter_px > 0:
            p = p + rng.normal(0, cfg.jitter_px, size=p.shape)
        out.append(p.astype(np.float32))
    return Sketch(strokes=out, label=sketch.label, source=sketch.source, key_id=sketch.key_id)


def _stray(pts: np.ndarray, rng: np.random.Generator, share: tuple[float, float]) -> np.ndarray:
    """A short, slightly bent line starting somewhere in (or just around) the sketch's box."""
    lo, hi = pts.min(0), pts.max(0)
    size = float(max(hi - lo)) or 1.0
    start = lo + rng.uniform(-0.1, 1.1, size=2) * (hi - lo)
    length = rng.uniform(*share) * size
    a = rng.uniform(0, 2 * np.pi)
    bend = rng.normal(0, 0.3)
    t = np.linspace(0, 1, 4)[:, None]
    ang = a + bend * t
    steps = np.concatenate([np.cos(ang), np.sin(ang)], 1) * (length / 3)
    return (start + np.concatenate([[[0.0, 0.0]], np.cumsum(steps[:-1], 0)])).astype(np.float32)


def partial(sketch: Sketch, share: float) -> Sketch:
    """The first ceil(share * n) strokes (at least one): a sketch still being drawn."""
    n = len(sketch.strokes)
    return sketch.first_strokes(max(1, int(np.ceil(share * n))))
