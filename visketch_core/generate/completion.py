"""Complete my sketch: the user's strokes are the known part of the canvas.

1. The user's sketch is placed in the 256 frame so that there is room for what is missing
   (``completion_frame``); its ink is rendered and turned into the coarse 32x32 image.
2. Stage 1 draws the whole sketch around it: a stage 1 trained on (part -> whole) pairs
   reads the user's coarse image as extra input planes; and (``SamplingConfig.reimpose``)
   the coarse pixels with user ink are re-imposed at every denoising step.
3. Stage 2 refines only the leaves that hold no user ink; leaves with user ink show the
   user's own SDF as context.
4. The output keeps the user's strokes verbatim and adds the traced new strokes (never
   retracing the user's: ``pipeline.trace_ink`` with the user's ink kept); its raster
   takes the user's ink pixels unchanged (``ink_unchanged`` checks it pixel by pixel).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from visketch_core.errors import SketchError
from visketch_core.generate.canvas import coarse_from_ink, shat_from_coarse
from visketch_core.generate.pipeline import (
    Event,
    Finished,
    Generator,
    GenResult,
    Stage1Done,
    candidate_seed,
    frozen_canvas,
    renumber,
    stage1_events,
    trace_ink,
)
from visketch_core.geometry import render, sdf_from_ink
from visketch_core.geometry.vectorise import vectorise
from visketch_core.sketch.model import FRAME, MARGIN, Sketch

KNOWN_THRESHOLD = 0.3   # coarse pixels at least this inked are known
SHRINK = 0.75           # a sketch outside the 0..256 box is normalised, then shrunk by this


def frame_matrix(sketch: Sketch) -> np.ndarray:
    """float32 (2, 3): the affine map of a stroke sketch's points into the 256 frame that
    ``completion_frame`` applies (the app inverts it to put generated ink back).

    Strokes inside the 0..256 box (QuickDraw simplified files) keep their place: the box
    maps onto the frame minus its margin, as a whole sketch would. Others are fitted into
    the frame and shrunk about the centre by ``SHRINK``, to leave room for what is missing.
    """
    if not sketch.strokes or sketch.is_empty:
        raise SketchError("the sketch is empty", path=sketch.source)
    x0, y0, x1, y1 = sketch.bounds()
    if min(x0, y0) >= 0 and max(x1, y1) <= FRAME:
        s = (FRAME - 2 * MARGIN) / FRAME
        return np.array([[s, 0, MARGIN], [0, s, MARGIN]], np.float32)
    w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    s = (FRAME - 2 * MARGIN) / max(w, h) * SHRINK
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    c = FRAME / 2
    return np.array([[s, 0, c - s * cx], [0, s, c - s * cy]], np.float32)


def completion_frame(sketch: Sketch) -> Sketch:
    """The sketch in the 256 frame, leaving room to complete it (see ``frame_matrix``).
    A raster is shrunk by ``SHRINK`` about the centre."""
    if sketch.is_empty:
        raise SketchError("the sketch is empty", path=sketch.source)
    if sketch.strokes:
        return sketch.transformed(frame_matrix(sketch))
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

    @property
    def ink_added(self) -> bool:
        """The completion drew something beyond the user's own ink."""
        return bool(((self.ink > 0) & ~(self.user_ink > 0)).any())


def completion_candidates(gen: Generator, framed: Sketch, label: str | int, n: int = 1, *,
                          seed: int = 0, schedule: str = "parallel",
                          cancel: Callable[[], bool] | None = None
                          ) -> Iterator[tuple[int, Event]]:
    """Complete ``framed`` (a sketch already in the 256 frame, see ``completion_frame``) as
    one stream of ``(candidate, event)``, like ``Generator.candidates`` (each candidate's
    stage-1 steps, then its refinement, then the next candidate's). Each candidate ends
    with ``Finished(result)``: ``result.sketch`` holds only the new strokes, ``result.ink``
    the whole raster with the user's pixels untouched, ``result.raw_ink`` the user's ink.
    ``cancel`` stops the candidate in progress between leaves and skips the rest."""
    y = gen.class_index(label) if isinstance(label, str) else int(label)
    cfg = gen.geometry
    t0 = time.perf_counter()
    user_ink = render(framed, cfg.size, gen.sampling.line_width)
    if not (user_ink > 0).any():
        raise SketchError("the sketch has no ink inside the frame", path=framed.source)
    user_sdf = sdf_from_ink(user_ink, cfg.sdf_scale)
    known = coarse_from_ink(user_ink)
    mask = known >= KNOWN_THRESHOLD
    kw = {}
    if gen.sampling.reimpose or not gen.conditioned:
        kw = {"known": known[None], "known_mask": mask[None]}
    keep_out = cv2.dilate((user_ink > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    for k in range(n):
        if k and cancel is not None and cancel():
            return
        start = t0 if k == 0 else time.perf_counter()
        coarse = yield from renumber(k, stage1_events(
            gen.stage1_steps([y], seed=candidate_seed(seed, k), partial=known[None], **kw),
            start))
        drafts = int(gen.last_drafts[0])
        if not gen.sampling.complete_refine:
            for ev in unrefined_completion(gen, coarse[0], y, user_ink, user_sdf, keep_out,
                                           start, drafts):
                yield k, ev
            continue
        for ev in gen.refine(coarse[0], y, schedule=schedule, seed=seed * 1000 + k,
                             frozen=user_sdf, trace=False, cancel=cancel, t0=start):
            if not isinstance(ev, Finished):
                yield k, ev
                continue
            res = ev.result
            new_ink = np.where(keep_out, 0.0, res.raw_ink).astype(np.float32)
            new = trace_ink(new_ink, gen.sampling, gen.classes[y], keep=user_ink > 0)
            new_render = render(new, cfg.size, gen.sampling.line_width) if new.strokes \
                else np.zeros_like(user_ink)
            ink = np.where(user_ink > 0, user_ink, new_render).astype(np.float32)
            timings = {**res.timings, "total_s": time.perf_counter() - start, "drafts": drafts}
            yield k, Finished(GenResult(gen.classes[y], new, ink, res.coarse, timings,
                                        res.cancelled, user_ink))


def unrefined_completion(gen: Generator, coarse: np.ndarray, y: int, user_ink: np.ndarray,
                         user_sdf: np.ndarray, keep_out: np.ndarray, start: float,
                         drafts: int) -> Iterator[Event]:
    """A completion without the leaf refiner (``SamplingConfig.complete_refine`` False), as
    ``Stage1Done`` (no leaves to refine) then ``Finished``: the new strokes are stage 1's own
    ink (S-hat) farther than ``user_leaf_new`` px from the user's ink, traced and tidied like
    refined ink. The user's pixels stay as they are."""
    cfg, smp = gen.geometry, gen.sampling
    shat = shat_from_coarse(coarse, cfg)
    yield Stage1Done(coarse, shat.ink, 0, time.perf_counter() - start)
    held = frozen_canvas(user_sdf, shat, smp.user_leaf_new, cfg.sdf_scale)
    raw = (held < 0).astype(np.float32)
    new_ink = np.where(keep_out, 0.0, raw).astype(np.float32)
    new = trace_ink(new_ink, smp, gen.classes[y], keep=user_ink > 0)
    new_render = render(new, cfg.size, smp.line_width) if new.strokes \
        else np.zeros_like(user_ink)
    ink = np.where(user_ink > 0, user_ink, new_render).astype(np.float32)
    now = time.perf_counter() - start
    timings = {"stage1_s": now, "first_leaf_s": None, "total_s": now, "leaves": 0,
               "refined": 0, "rejected": 0, "drafts": drafts}
    yield Finished(GenResult(gen.classes[y], new, ink, coarse, timings, False, user_ink))


def complete(gen: Generator, sketch: Sketch, label: str | int, n: int = 1, *, seed: int = 0,
             schedule: str = "parallel") -> list[Completion]:
    """``n`` completions of ``sketch`` as class ``label``."""
    framed = completion_frame(sketch)
    out = []
    for _, ev in completion_candidates(gen, framed, label, n, seed=seed, schedule=schedule):
        if not isinstance(ev, Finished):
            continue
        res = ev.result
        strokes = list(framed.strokes) + list(res.sketch.strokes)
        if not framed.strokes:      # a raster input: the output is its ink, traced
            strokes = list(vectorise(res.ink).strokes)
        out.append(Completion(res.label, Sketch(strokes=strokes, label=res.label),
                              res.ink, res.raw_ink, res.timings))
    return out
