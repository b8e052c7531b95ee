"""Generation: class -> stage-1 diffusion (32x32) -> S-hat -> leaves refined in a schedule.

``Generator.events(...)`` yields one ``Stage1Step`` per denoising step of stage 1 (the
step's guess of the coarse sketch, so a caller can show the wait), a ``Stage1Done``, then
one ``LeafEvent`` per refined leaf as it is decoded, then ``Finished``; a ``cancel``
callable is polled between leaves (between batches for the parallel schedule) and stops the
refinement there. ``generate`` runs it to the end for n sketches. No Qt here: the app's worker streams the events to the canvas.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from collections.abc import Generator as Gen
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from visketch_core.errors import ModelError, SketchError
from visketch_core.generate.canvas import Shat, crop, leaf_node, paste, shat_from_coarse
from visketch_core.generate.schedules import Schedule, leaf_batches
from visketch_core.geometry import GeometryConfig, render
from visketch_core.geometry.context import node_patches
from visketch_core.geometry.tidy import tidy
from visketch_core.geometry.vectorise import vectorise
from visketch_core.sketch.model import Sketch


@dataclass(frozen=True)
class SamplingConfig:
    steps: int = 25              # denoising steps of stage 1
    solver: str = "ddim"         # stage-1 sampler: "ddim" or "dpm2m" (DPM-Solver++(2M))
    guidance: float = 2.0        # classifier-free guidance weight of stage 1
    guide_from: float = 0.0      # guidance only at noise levels t / T >= this; the later,
                                 # low-noise steps take one network pass instead of two (0 = all)
    temperature: float = 0.7     # leaf token sampling (0 = greedy)
    top_k: int = 0
    line_width: float = 3.0      # width of the traced strokes when rendered
    max_leaf_ink: float = 0.3    # a decoded leaf inked over more than this share of its
                                 # patch is a blob, not strokes: the leaf keeps S-hat (1 = off)
    tidy: bool = True            # traced strokes made long and smooth (geometry.tidy)
    reimpose: bool = True        # completion: re-impose the user's coarse pixels at every
                                 # stage-1 step (besides conditioning a stage 1 trained for it)
    seam_blend: float = 0.0      # refined canvas smoothed (Gaussian sigma, px) within 3 px of
                                 # leaf borders, so strokes of neighbouring leaves meet (0 = off)
    drafts: int = 1              # stage 1 draws up to this many drafts of each sketch: a draft
                                 # the recognizer is sure is the class is kept at once, else the
                                 # next is drawn; after the last, the best scoring one is kept
                                 # (needs classifier.pt beside the generation models)
    draft_sure: float = 0.0      # a draft is kept at once when the recognizer names its class,
                                 # calls it known and gives it at least this probability
                                 # (0 = the recognizer's own sure threshold)
    draft_new_ink: int = 0       # completion: a draft that inks fewer coarse pixels than this
                                 # beyond the user's drawing is never kept at once, and ranks
                                 # below every draft that does (0 = off)
    user_leaf_new: float = 0.0   # completion: leaves holding user ink keep stage 1's own ink
                                 # farther than this many px from the user's (as S-hat draws
                                 # it) beside the user's strokes, instead of dropping it (0 = off)
    draft_wide: bool = True      # with critic-wide.pt beside the models, a draft is kept at
                                 # once only when that wide-vocabulary critic also names its
                                 # class among all of its classes (see ``WideCritic``)
    complete_refine: bool = True  # completion: refine stage 1's sketch leaf by leaf; False
                                 # traces stage 1's own ink beyond the user's (farther than
                                 # ``user_leaf_new`` px from it) everywhere, unrefined


def blend_seams(canvas: np.ndarray, boxes: np.ndarray, sigma: float, reach: int = 3) -> np.ndarray:
    """float32 (256, 256) SDF canvas with its values near leaf borders replaced by a Gaussian
    blur of the canvas: two leaves decoded apart rarely put a stroke's edge at exactly the
    same place, and the blur lets their zero levels meet instead of leaving a step or gap.
    boxes: int (L, 4) leaf boxes (x0, y0, x1, y1)."""
    if sigma <= 0 or len(boxes) < 2:
        return canvas
    border = np.zeros(canvas.shape, bool)
    for x0, y0, x1, y1 in np.asarray(boxes, int).tolist():
        for x in (x0, x1):
            border[y0:y1, max(0, x - reach):x + reach] = True
        for y in (y0, y1):
            border[max(0, y - reach):y + reach, x0:x1] = True
    h = canvas.shape[0]
    border[:, :reach] = border[:, h - reach:] = border[:reach] = border[h - reach:] = False
    blurred = cv2.GaussianBlur(canvas, (0, 0), sigma)
    return np.where(border, blurred, canvas).astype(np.float32)


STAGE1_CHOICES = ("fast", "guided")
GUIDED_FILE = "diffusion-guided.pt"   # optional guided stage 1 beside diffusion.pt

TRACE_STRAIGHT = 0.4   # vectorise(straight=): junction branches this straight become one stroke


def trace_ink(ink: np.ndarray, sampling: SamplingConfig, label: str | None = None,
              keep: np.ndarray | None = None) -> Sketch:
    """Generated ink (float32 (256, 256), 1 = ink) -> strokes. With ``sampling.tidy`` the
    traced centre lines go through ``geometry.tidy`` (``keep``: bool (256, 256) ink already
    on the page, e.g. the user's, that new strokes must not retrace). Filling pinholes and
    slits before tracing (``vectorise(fill_holes=, fill_slits=)``) was measured on the
    validation split and made sketches less recognisable; it is not used. Branches meeting
    at a junction at more than about 114 degrees are traced as one stroke (``TRACE_STRAIGHT``,
    chosen on validation with ``scripts/tune_tracing.py``: refined sketches' median stroke
    went from 64 to 79 px against 83 for real ones, recognition unchanged)."""
    sketch = vectorise(ink, label=label, straight=TRACE_STRAIGHT)
    return tidy(sketch, keep=keep) if sampling.tidy else sketch


@dataclass
class Stage1Step:
    """One denoising step of stage 1 (``step`` of ``total``, from 1): x0 is the step's guess
    of the clean coarse sketch, float32 (32, 32) in [0, 1]; elapsed: seconds since start."""

    step: int
    total: int
    x0: np.ndarray
    elapsed: float


@dataclass
class Stage1Done:
    """Stage 1 finished: coarse float32 (32, 32) in [0, 1]; shat_ink float32 (256, 256)."""

    coarse: np.ndarray
    shat_ink: np.ndarray
    leaves: int
    elapsed: float


@dataclass
class LeafEvent:
    """One refined leaf. box: (x0, y0, x1, y1) in the 256 px frame; patch: float32 (32, 32)
    SDF of the leaf (ink where < 0), to be resized to the box; step: batch number."""

    index: int
    step: int
    box: tuple[int, int, int, int]
    level: int
    patch: np.ndarray
    elapsed: float

    @property
    def size(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def ink(self) -> np.ndarray:
        return (self.patch < 0).astype(np.float32)


@dataclass
class GenResult:
    """A finished (or cancelled) sketch: traced strokes in the 256 frame, its render, the
    stage-1 image and timings in seconds (stage1_s, first_leaf_s, total_s) and counts."""

    label: str
    sketch: Sketch
    ink: np.ndarray
    coarse: np.ndarray
    timings: dict = field(default_factory=dict)
    cancelled: bool = False
    raw_ink: np.ndarray | None = None   # float32 (256, 256) canvas ink before tracing


@dataclass
class Finished:
    result: GenResult


Event = Stage1Step | Stage1Done | LeafEvent | Finished


class Generator:
    """The three generation models on one device. Thread-affine: use from one thread."""

    def __init__(self, tokenizer, unet, diffusion, refiner, classes: list[str],
                 sampling: SamplingConfig | None = None, geometry: GeometryConfig | None = None,
                 device: torch.device | None = None, critic=None, wide_critic=None):
        self.tokenizer, self.unet, self.diffusion, self.refiner = tokenizer, unet, diffusion, refiner
        self.classes = list(classes)
        self.sampling = sampling or SamplingConfig()
        self.geometry = geometry or GeometryConfig()
        self.device = device or torch.device("cpu")
        self.critic = critic          # a Recognizer over the same classes, judging drafts
        self.wide_critic = wide_critic  # a WideCritic: does a draft look like no other class?
        self.last_drafts = np.zeros(0, np.int64)   # drafts drawn per sketch, last stage 1

    @classmethod
    def load(cls, models_dir: str | Path | None = None, device: str = "auto",
             threads: int | None = None, stage1: str = "fast") -> Generator:
        """Load tokenizer.pt, diffusion.pt and refiner.pt (default: the shipped ones).

        stage1: ``"fast"`` takes diffusion.pt (one network pass a denoising step: the app's);
        ``"guided"`` takes diffusion-guided.pt when the folder has one (a stage 1 sampled with
        classifier-free guidance, two passes a step and more steps: slower, its sketches are
        named right more often by a judge of many classes; ``visketch generate`` and
        ``complete`` use it), else diffusion.pt."""
        from visketch_core.models.device import pick_device
        from visketch_core.paths import models_dir as default_models
        from visketch_core.train.diffusion import load_diffusion
        from visketch_core.train.refiner import load_refiner
        from visketch_core.train.tokenizer import load_tokenizer

        if threads:
            torch.set_num_threads(threads)
        d = Path(models_dir) if models_dir is not None else default_models()
        dev = pick_device(device)
        tok = load_tokenizer(d / "tokenizer.pt").to(dev)
        if stage1 not in STAGE1_CHOICES:
            raise ValueError(f"stage1 must be one of {STAGE1_CHOICES}, not {stage1!r}")
        stage1_file = d / "diffusion.pt"
        if stage1 == "guided" and (d / GUIDED_FILE).is_file():
            stage1_file = d / GUIDED_FILE
        unet, diff, classes, extra = load_diffusion(stage1_file)
        ref, ref_classes = load_refiner(d / "refiner.pt")
        if ref_classes != classes:
            raise ModelError(f"{stage1_file}: stage 1 and the refiner were trained on different "
                             "classes")
        if ref.cfg.seq_len != tok.cfg.tokens or ref.cfg.codebook != tok.cfg.codebook:
            raise ModelError(f"{d}: refiner and tokenizer do not fit together")
        try:
            sampling = SamplingConfig(**extra.get("sampling", {}))
        except TypeError as exc:
            raise ModelError(f"{stage1_file}: bad sampling settings ({exc})") from None
        if sampling.solver not in ("ddim", "dpm2m"):
            raise ModelError(f"{stage1_file}: unknown stage-1 solver {sampling.solver!r}"
                             " (ddim or dpm2m)")
        gf = sampling.guide_from
        if isinstance(gf, bool) or not isinstance(gf, (int, float)) or not 0.0 <= gf <= 1.0:
            raise ModelError(f"{stage1_file}: guide_from must be in [0, 1], "
                             f"not {gf!r}")
        return cls(tok, unet.to(dev), diff, ref.to(dev), classes, sampling, device=dev,
                   critic=load_critic(d, classes, dev),
                   wide_critic=WideCritic.load(d / "critic-wide.pt", classes))

    def class_index(self, name: str) -> int:
        if name not in self.classes:
            raise SketchError(f"unknown class {name!r}; known: {', '.join(self.classes)}")
        return self.classes.index(name)

    # -- stage 1 ---------------------------------------------------------------------------
    @property
    def conditioned(self) -> bool:
        """Whether stage 1 was trained to complete partial sketches (conditioning planes)."""
        return bool(getattr(self.unet.cfg, "cond_channels", 0))

    def stage1(self, labels: list[int], seed: int = 0, known: np.ndarray | None = None,
               known_mask: np.ndarray | None = None,
               partial: np.ndarray | None = None) -> np.ndarray:
        """Coarse sketches float32 (B, 32, 32) in [0, 1] for class indices ``labels``.
        known / known_mask: (B, 32, 32) coarse values in [0, 1] and bool, for inpainting.
        partial: (B, 32, 32) coarse image of the user's sketch in [0, 1], given to a
        conditioned stage 1 (ignored by one that was not trained for it)."""
        return run_to_end(self.stage1_steps(labels, seed, known, known_mask, partial))

    def stage1_steps(self, labels: list[int], seed: int = 0, known: np.ndarray | None = None,
                     known_mask: np.ndarray | None = None, partial: np.ndarray | None = None
                     ) -> Gen[tuple[int, int, np.ndarray], None, np.ndarray]:
        """``stage1`` one denoising step at a time: yields ``(step, total, x0)`` after each
        step (x0: float32 (B, 32, 32) in [0, 1], the step's guess) and returns the coarse
        sketches ``stage1`` returns (the same ones, for the same seed).

        With ``sampling.drafts`` > 1 and a critic, each finished draft is judged: one the
        critic is sure is its class is kept; the others are drawn again (a new seed, only
        those sketches) up to ``drafts`` times, and then the best scoring draft is kept.
        Steps count on across drafts (``total`` grows by one draft's steps at each retry;
        x0 shows the kept drafts for the sketches not being redrawn). ``last_drafts`` says
        how many drafts each sketch took."""
        n, rounds = len(labels), max(1, int(self.sampling.drafts))
        if self.critic is None or rounds == 1:
            self.last_drafts = np.ones(n, np.int64)
            return (yield from self._denoise_steps(labels, seed, known, known_mask, partial))
        labels = list(labels)
        best: np.ndarray | None = None
        best_score = np.full(n, -np.inf)
        tries = np.zeros(n, np.int64)
        todo = np.arange(n)
        done_steps = 0
        for r in range(rounds):
            sub = [None if v is None else np.asarray(v)[todo] for v in (known, known_mask, partial)]
            it = self._denoise_steps([labels[i] for i in todo], seed + 104729 * r, *sub)
            while True:
                try:
                    step, total, x0 = next(it)
                except StopIteration as fin:
                    coarse = fin.value
                    break
                if best is not None:            # a redraw: the kept drafts show meanwhile
                    x0, view = best.copy(), x0
                    x0[todo] = view
                yield done_steps + step, done_steps + total, x0
            done_steps += total
            tries[todo] += 1
            if best is None:
                best = np.zeros_like(coarse)
            sure, score = self.judge_drafts(coarse, [labels[i] for i in todo])
            if self.sampling.draft_new_ink > 0 and partial is not None:
                short = new_ink_pixels(coarse, sub[2]) < self.sampling.draft_new_ink
                sure &= ~short
                score[short] -= 3.0
            better = (score > best_score[todo]) | sure     # a sure draft is always kept
            best[todo[better]] = coarse[better]
            best_score[todo[better]] = score[better]
            todo = todo[~sure]
            if not len(todo):
                break
        self.last_drafts = tries
        return best

    def judge_drafts(self, coarse: np.ndarray, labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The critic's verdict on coarse drafts (B, 32, 32), each traced into strokes as
        stage 1 alone would show it (judging the untraced raster instead measured worse on
        validation): (sure: bool (B,), the critic names the intended class, calls it known
        and is sure: at least ``sampling.draft_sure`` when that is set, else its own sure
        threshold; score: float (B,), the class's probability plus 1 when the drawing is
        called known; -1 for a blank)."""
        sure = np.zeros(len(coarse), bool)
        score = np.full(len(coarse), -1.0)
        sketches = [trace_ink(shat_from_coarse(x, self.geometry).ink, self.sampling)
                    for x in coarse]
        keep = [i for i, sk in enumerate(sketches) if sk.strokes]
        if keep:
            for i, p in zip(keep, self.critic.classify_many([sketches[i] for i in keep])):
                c = labels[i]
                score[i] = float(p.probs[c]) + (1.0 if p.known else 0.0)
                if self.sampling.draft_sure > 0:
                    ok = bool(p.known) and float(p.probs[c]) >= self.sampling.draft_sure
                else:
                    ok = bool(p.confident)
                sure[i] = ok and int(np.argmax(p.probs)) == c
            if self.wide_critic is not None and self.sampling.draft_wide:
                named, prob = self.wide_critic.verdicts([sketches[i] for i in keep],
                                                        [labels[i] for i in keep])
                sure[keep] &= named
                score[keep] += prob + named
        return sure, score

    def _denoise_steps(self, labels: list[int], seed: int = 0, known: np.ndarray | None = None,
                       known_mask: np.ndarray | None = None, partial: np.ndarray | None = None
                       ) -> Gen[tuple[int, int, np.ndarray], None, np.ndarray]:
        """One draft of stage 1 for every sketch, step by step (see ``stage1_steps``)."""
        from visketch_core.train.diffusion import cond_planes

        g = torch.Generator().manual_seed(int(seed))
        y = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        kw = {}
        if known is not None:
            kw["known"] = torch.as_tensor(known, dtype=torch.float32)[:, None] * 2 - 1
            kw["known_mask"] = torch.as_tensor(known_mask, dtype=torch.bool)[:, None]
        if self.conditioned:
            part = np.zeros((len(labels), 32, 32), np.float32) if partial is None else partial
            kw["cond"] = cond_planes(torch.as_tensor(part, dtype=torch.float32)).to(self.device)
        it = self.diffusion.sample_steps(self.unet, y, steps=self.sampling.steps,
                                         guidance=self.sampling.guidance, generator=g,
                                         solver=self.sampling.solver,
                                         guide_from=self.sampling.guide_from, **kw)
        while True:
            try:
                step, total, x0 = next(it)
            except StopIteration as done:
                return _unit(done.value)
            yield step, total, _unit(x0)

    # -- stage 2 ---------------------------------------------------------------------------
    def refine(self, coarse: np.ndarray, label: int, *, schedule: Schedule | str = "sequential",
               seed: int = 0, cancel: Callable[[], bool] | None = None,
               frozen: np.ndarray | None = None, t0: float | None = None,
               trace: bool = True) -> Iterator[Event]:
        """Events of refining one coarse sketch; ends with ``Finished``.

        frozen: optional float32 (256, 256) SDF of ink that must stay as it is (completion):
        leaves holding such ink are not refined and show it instead.
        """
        t0 = time.perf_counter() if t0 is None else t0
        cfg, smp = self.geometry, self.sampling
        shat = shat_from_coarse(coarse, cfg)
        tree = shat.tree
        canvas = shat.sdf.copy()
        todo = np.ones(len(tree), bool)
        if frozen is not None:
            held = frozen_canvas(frozen, shat, smp.user_leaf_new, cfg.sdf_scale)
            for i in range(len(tree)):
                x0, y0, x1, y1 = (int(v) for v in tree.boxes[i])
                if (frozen[y0:y1, x0:x1] < 0).any():
                    todo[i] = False
                    canvas[y0:y1, x0:x1] = held[y0:y1, x0:x1]
        stage1_s = time.perf_counter() - t0
        yield Stage1Done(coarse, shat.ink, int(todo.sum()), stage1_s)
        g = torch.Generator().manual_seed(int(seed))
        first, done, cancelled, rejected = None, 0, False, 0
        for step, batch in enumerate(leaf_batches(tree, schedule)):
            batch = batch[todo[batch]]
            if not len(batch):
                continue
            if cancel is not None and cancel():
                cancelled = True
                break
            patches = self._decode(canvas, shat, batch, label, g)      # (K, 32, 32)
            for j, i in enumerate(batch.tolist()):
                if (patches[j] < 0).mean() > smp.max_leaf_ink:
                    patches[j] = crop(canvas, tree, i, cfg.patch)
                    rejected += 1
                paste(canvas, tree, i, patches[j])
                done += 1
                now = time.perf_counter() - t0
                first = now if first is None else first
                box = tuple(int(v) for v in tree.boxes[i])
                yield LeafEvent(i, step, box, int(tree.level[i]), patches[j], now)
        if smp.seam_blend > 0 and done:
            canvas = blend_seams(canvas, tree.boxes, smp.seam_blend)
        ink = (canvas < 0).astype(np.float32)
        sketch = trace_ink(ink, smp, self.classes[label]) if trace else Sketch(strokes=[])
        out = render(sketch, cfg.size, smp.line_width) if sketch.strokes else ink
        total = time.perf_counter() - t0
        timings = {"stage1_s": stage1_s, "first_leaf_s": first, "total_s": total,
                   "leaves": int(todo.sum()), "refined": done, "rejected": rejected}
        yield Finished(GenResult(self.classes[label], sketch, out, coarse, timings, cancelled, ink))

    @torch.no_grad()
    def _decode(self, canvas: np.ndarray, shat: Shat, batch: np.ndarray, label: int,
                g: torch.Generator) -> np.ndarray:
        """Decode the leaves ``batch`` from the current canvas -> float32 (K, 32, 32) SDF."""
        tree, dev = shat.tree, self.device
        patches = torch.from_numpy(node_patches(canvas, self.geometry).astype(np.float32))
        mem = self.refiner.memory(
            patches[None].to(dev),
            torch.from_numpy(shat.tokens[batch])[None].to(dev),
            torch.from_numpy(tree.level[batch])[None].to(dev),
            torch.from_numpy(tree.boxes[batch])[None].to(dev),
            torch.ones(1, len(batch), dtype=torch.bool, device=dev),
            torch.tensor([label], device=dev))
        codes = self.refiner.sample(mem, temperature=self.sampling.temperature,
                                    top_k=self.sampling.top_k, generator=g)
        return self.tokenizer.decode_indices(codes)[:, 0].cpu().numpy()

    # -- whole sketches --------------------------------------------------------------------
    def stage1_result(self, coarse: np.ndarray, label: int, stage1_s: float) -> GenResult:
        """A stage-1-only sketch: S-hat traced into strokes."""
        t0 = time.perf_counter()
        shat = shat_from_coarse(coarse, self.geometry)
        sketch = trace_ink(shat.ink, self.sampling, self.classes[label])
        ink = render(sketch, self.geometry.size, self.sampling.line_width) if sketch.strokes \
            else shat.ink
        total = stage1_s + time.perf_counter() - t0
        return GenResult(self.classes[label], sketch, ink, coarse,
                         {"stage1_s": stage1_s, "first_leaf_s": None, "total_s": total,
                          "leaves": 0, "refined": 0})

    def generate(self, label: str | int, n: int = 1, *, seed: int = 0,
                 schedule: Schedule | str = "sequential", stage1_only: bool = False,
                 on_event: Callable[[int, Event], None] | None = None) -> list[GenResult]:
        """n sketches of one class; stage 1 runs once for all n (one batch)."""
        y = self.class_index(label) if isinstance(label, str) else int(label)
        t0 = time.perf_counter()
        coarse = self.stage1([y] * n, seed=seed)
        drafts = self.last_drafts.copy()
        stage1_s = time.perf_counter() - t0
        out = []
        for k in range(n):
            if stage1_only:
                out.append(self.stage1_result(coarse[k], y, stage1_s))
            else:
                start = time.perf_counter() - stage1_s
                for ev in self.refine(coarse[k], y, schedule=schedule, seed=seed * 1000 + k,
                                      t0=start):
                    if on_event is not None:
                        on_event(k, ev)
                    if isinstance(ev, Finished):
                        out.append(ev.result)
            out[-1].timings["drafts"] = int(drafts[k])
        return out

    def candidates(self, label: str | int, n: int = 1, *, seed: int = 0,
                   schedule: Schedule | str = "parallel",
                   cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, Event]]:
        """n sketches of one class as one stream of ``(candidate, event)``: each candidate's
        stage-1 steps, then its refinement (ending with ``Finished``), then the next
        candidate's, so the first leaf comes as soon as for one sketch (on a CPU a batch
        of n costs about n times one). ``cancel`` stops the candidate in progress between
        leaves and skips the rest."""
        y = self.class_index(label) if isinstance(label, str) else int(label)
        t0 = time.perf_counter()
        for k in range(n):
            if k and cancel is not None and cancel():
                return
            start = t0 if k == 0 else time.perf_counter()
            coarse = yield from renumber(k, stage1_events(
                self.stage1_steps([y], seed=candidate_seed(seed, k)), start))
            drafts = int(self.last_drafts[0])
            for ev in self.refine(coarse[0], y, schedule=schedule, seed=seed * 1000 + k,
                                  cancel=cancel, t0=start):
                if isinstance(ev, Finished):
                    ev.result.timings["drafts"] = drafts
                yield k, ev

    def events(self, label: str | int, *, seed: int = 0, schedule: Schedule | str = "sequential",
               cancel: Callable[[], bool] | None = None) -> Iterator[Event]:
        """One sketch as a stream of events (what the app's worker forwards)."""
        y = self.class_index(label) if isinstance(label, str) else int(label)
        t0 = time.perf_counter()
        steps = stage1_events(self.stage1_steps([y], seed=seed), t0)
        while True:
            try:
                _, ev = next(steps)
            except StopIteration as done:
                coarse = done.value[0]
                break
            yield ev
        yield from self.refine(coarse, y, schedule=schedule, seed=seed, cancel=cancel, t0=t0)


def load_critic(models_dir: Path, classes: list[str], device: torch.device):
    """The recognizer beside the generation models (``classifier.pt``) when it knows the
    same classes, else None (drafts are then not judged)."""
    from visketch_core.inference import Recognizer

    path = Path(models_dir) / "classifier.pt"
    if not path.exists():
        return None
    try:
        rec = Recognizer.load(path, device=str(device.type))
    except ModelError:
        return None
    return rec if rec.classes == list(classes) else None


class WideCritic:
    """A wide-vocabulary critic of stage-1 drafts: the generation judge's CNN trained over our
    classes and a few hundred others (``visketch train judge --wide``, on the train split),
    shipped beside the generation models as ``critic-wide.pt``. A draft our own recognizer
    is sure of can still look more like a fork than a paintbrush, or like a violin rather
    than a guitar: among 15 classes nothing else is close, among hundreds something is. The
    other classes have few sketches each, so the class prior is divided out (as
    ``train.judge.wide_verdicts`` does). It is trained apart from (another seed than) the
    wide judge the benchmark grades with."""

    def __init__(self, model, train_counts, index: np.ndarray):
        self.model = model
        prior = np.clip(np.asarray(train_counts, np.float64), 1, None)
        self.log_prior = np.log(prior / prior.sum())
        self.index = np.asarray(index, np.int64)       # our class k -> its column

    @classmethod
    def load(cls, path: str | Path, classes: list[str]) -> WideCritic | None:
        """The critic at ``path`` when there is one that knows every class of ``classes``
        (and its training prior), else None: drafts are then judged by the recognizer only."""
        from visketch_core.models.checkpoint import read_checkpoint
        from visketch_core.train.judge import load_judge

        path = Path(path)
        if not path.is_file():
            return None
        try:
            model, wide = load_judge(path)
            counts = read_checkpoint(path, kind="judge").get("metrics", {}).get("train_counts")
        except ModelError:
            return None
        if counts is None or len(counts) != len(wide) or any(c not in wide for c in classes):
            return None
        return cls(model, counts, np.asarray([wide.index(c) for c in classes]))

    def verdicts(self, sketches: list[Sketch], labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(named: bool (B,), its top class, prior divided out, is the intended one;
        prob: float (B,), the intended class's probability with the prior divided out)."""
        from visketch_core.models.cnn import render_small
        from visketch_core.train.judge import judge_images

        probs, _ = judge_images(self.model, np.stack([render_small(s) for s in sketches]))
        logit = np.log(np.clip(probs, 1e-12, None)) - self.log_prior[None]
        logit -= logit.max(1, keepdims=True)
        post = np.exp(logit)
        post /= post.sum(1, keepdims=True)
        cols = self.index[np.asarray(labels, np.int64)]
        rows = np.arange(len(sketches))
        return post.argmax(1) == cols, post[rows, cols]


def new_ink_pixels(coarse: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """Coarse pixels (B,) that each draft (B, 32, 32) inks beyond the user's drawing
    ``partial`` (B, 32, 32), the drawing grown by one pixel so its own edges do not count."""
    import cv2

    user = np.stack([cv2.dilate((p > 0.25).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
                     for p in np.asarray(partial)])
    return ((np.asarray(coarse) > 0.5) & ~user).reshape(len(user), -1).sum(1)


def frozen_canvas(frozen: np.ndarray, shat: Shat, reach: float, sdf_scale: float) -> np.ndarray:
    """float32 (256, 256) SDF that leaves holding the user's ink show (completion): the
    user's own SDF ``frozen``, and with ``reach`` > 0 also S-hat's ink farther than ``reach``
    px from the user's ink (stage 1 redraws the user's lines as thick S-hat bands; what lies
    beyond them is stage 1's own addition, which would otherwise be lost in these leaves)."""
    if reach <= 0:
        return frozen
    from visketch_core.geometry import sdf_from_ink

    user = (frozen < 0).astype(np.uint8)
    r = int(np.ceil(reach))
    near = cv2.dilate(user, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    extra = (shat.ink > 0) & (near == 0)
    if not extra.any():
        return frozen
    return np.minimum(frozen, sdf_from_ink(extra.astype(np.float32), sdf_scale)).astype(np.float32)


def leaf_nodes(shat: Shat) -> np.ndarray:
    """int64 (L,) flat node index of every leaf of S-hat."""
    return np.asarray(leaf_node(shat.tree, np.arange(len(shat.tree))), np.int64)


def _unit(x: torch.Tensor) -> np.ndarray:
    """Stage 1's images, (B, 1, 32, 32) in [-1, 1] -> float32 (B, 32, 32) in [0, 1]."""
    return ((x[:, 0].cpu().numpy() + 1) / 2).astype(np.float32)


def run_to_end(it: Gen):
    """Exhaust a generator and return its return value."""
    while True:
        try:
            next(it)
        except StopIteration as done:
            return done.value


def candidate_seed(seed: int, k: int) -> int:
    """Stage 1's seed for candidate ``k`` of a request made with ``seed``."""
    return int(seed) + 7919 * int(k)


def renumber(k: int, events: Gen[tuple[int, Stage1Step], None, np.ndarray]
             ) -> Gen[tuple[int, Stage1Step], None, np.ndarray]:
    """The ``(0, step)`` events of a one-sketch stage 1 as candidate ``k``'s; returns
    what ``events`` returns."""
    while True:
        try:
            _, ev = next(events)
        except StopIteration as done:
            return done.value
        yield k, ev


def stage1_events(steps: Gen[tuple[int, int, np.ndarray], None, np.ndarray], t0: float
                  ) -> Gen[tuple[int, Stage1Step], None, np.ndarray]:
    """``(candidate, Stage1Step)`` for every candidate of a batch at every step of
    ``stage1_steps``; returns the batch's coarse sketches."""
    while True:
        try:
            step, total, x0 = next(steps)
        except StopIteration as done:
            return done.value
        elapsed = time.perf_counter() - t0
        for k in range(len(x0)):
            yield k, Stage1Step(step, total, x0[k], elapsed)
