"""Complete my sketch: the user's strokes are the known part of the canvas.

1. The user's sketch is placed in the 256 frame so that there is room for what is missing
   (``completion_frame``); its ink is rendered and turned into the coarse 32x32 image.
2. Stage 1 inpaints: the coarse pixels with user ink are re-imposed at every denoising step.
3. Stage 2 refines only the leaves that hold no user ink; leaves with user ink show the
   user's own SDF as context.
4. The output keeps the user's strokes verbatim and adds the traced new strokes; its raster
   takes the user's ink pixels unchanged (``ink_unchanged`` checks it pixel by pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from visketch_core.errors import SketchError
from visketch_core.generate.canvas import coarse_from_ink
from visketch_core.generate.pipeline import Finished, Generator
from visketch_core.geometry import render, sdf_from_ink
from visketch_core.geometry.vectorise import vectorise
from visketch_core.sketch.model import FRAME, MARGIN, Sketch, normalise

KNOWN_THRESHOLD = 0.3   # coarse pixels at least this inked are known
SHRINK = 0.75           # a sketch outside the 0..256 box is normalised, then shrunk by this


def completion_frame(sketch: Sketch) -> Sketch:
    """The sketch in the 256 frame, leaving room to complete it.

    Strokes inside the 0..256 box (QuickDraw simplified files, the app's canvas) keep their
    place: the box maps onto the frame minus its margin, as a whole sketch would. Others
    are normalised and shrunk about the centre by ``SHRINK``. A raster is shrunk likewise.
    """
    if sketch.is_empty:
        raise SketchError("the sketch is empty", path=sketch.source)
    if sketch.strokes:
        x0, y0, x1, y1 = sketch.bounds()
        s = (FRAME - 2 * MARGIN) / FRAME
        if min(x0, y0) >= 0 and max(x1, y1) <= FRAME:
            m = np.array([[s, 0, MARGIN], [0, s, MARGIN]], np.float32)
            return sketch.transformed(m)
        sk = normalise(sketch)
        c = FRAME / 2
        m = np.array([[SHRINK, 0, c * (1 - SHRINK)], [0, SHRINK, c * (1 - SHRINK)]], np.float32)
        return sk.transformed(m)
    side = int(round(FRAME * SHRINK))
    small = cv2.resize(sketch.raster.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA)
    raster = np.zeros((FRAME, FRAME), np.float32)
    o = (FRAME - side) // 2
    raster[o:o + side, o:o + side] = small
    return Sketch(raster=raster, label=sketch.label, source=sketch.source)


@dataclass
class Completion:
    """One candidate: sketch = the user's strokes then the new ones (256 frame); ink =
    float32 (256, 256) raster with the user's pixels untouched; user_ink = the user's own."""

    label: str
    sketch: Sketch
    ink: np.ndarray
    user_ink: np.ndarray
    timings: dict

    @property
    def ink_unchanged(self) -> bool:
        m = self.user_ink > 0
        return bool(np.array_equal(self.ink[m], self.user_ink[m]))


def complete(gen: Generator, sketch: Sketch, label: str | int, n: int = 1, *, seed: int = 0,
             schedule: str = "parallel") -> list[Completion]:
    """``n`` completions of ``sketch`` as class ``label``."""
    y = gen.class_index(label) if isinstance(label, str) else int(label)
    framed = completion_frame(sketch)
    cfg = gen.geometry
    user_ink = render(framed, cfg.size, gen.sampling.line_width)
    user_sdf = sdf_from_ink(user_ink, cfg.sdf_scale)
    known = coarse_from_ink(user_ink)
    mask = known >= KNOWN_THRESHOLD
    coarse = gen.stage1([y] * n, seed=seed, known=np.repeat(known[None], n, 0),
                        known_mask=np.repeat(mask[None], n, 0))
    keep_out = cv2.dilate((user_ink > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    out = []
    for k in range(n):
        res = None
        for ev in gen.refine(coarse[k], y, schedule=schedule, seed=seed * 1000 + k,
                             frozen=user_sdf, trace=False):
            if isinstance(ev, Finished):
                res = ev.result
        new_ink = np.where(keep_out, 0.0, res.raw_ink).astype(np.float32)
        new = vectorise(new_ink)
        strokes = list(framed.strokes) + list(new.strokes)
        new_render = render(new, cfg.size, gen.sampling.line_width) if new.strokes \
            else np.zeros_like(user_ink)
        ink = np.where(user_ink > 0, user_ink, new_render).astype(np.float32)
        if not framed.strokes:      # a raster input: the output is its ink, traced
            strokes = list(vectorise(ink).strokes)
        out.append(Completion(gen.classes[y], Sketch(strokes=strokes, label=gen.classes[y]),
                              ink, user_ink, res.timings))
    return out
