"""``visketch eval generation``: generation, refinement, completion and the peer, in one run.

Every set of sketches (a "mode") is measured the same way against real sketches of the
chosen split:
- the judge (a CNN trained on real train sketches only): top-1 per class and overall, and
  its gap to real sketches of the same class;
- Frechet distance of judge features; diversity; memorisation (pixel distance to the
  nearest training sketch, against the same distance for real sketches);
- realism (``eval.realism``): a classifier two-sample test (0.5 = indistinguishable from
  real) and stroke statistics (strokes per sketch, median stroke length, share of strokes
  under 10 px, mean turning angle) with their relative gap to real sketches.
Modes: ``stage1`` (the coarse sketch traced), ``sequential`` and ``parallel`` refinement
(all three start from the same coarse sketches, so the comparison is paired),
``completion`` (the first half of the strokes of real sketches, completed as their class)
beside ``halves`` (those halves alone), and ``completion_guess`` (completed as the shipped
classifier's top guess for the half, as the app does by default; graded against the true
class). Every mode also gets a second, stricter opinion: the shipped recognizer's verdict
(``recognizer``: the share it names right, the share it calls one of its classes at all, and
both), which was trained with drawings of 157 other classes as "none of these", so a sketch
that looks like something else entirely tends to be called unknown rather than the nearest
of 15. With a wide judge (``--wide-judge``, default ``MODELS/judge-wide.pt`` when there is
one: ``visketch train judge --wide DIR``, our classes and every other class of DIR), every mode
and the real sketches also get ``wide_judge``: its top-1 among all its classes (344 with
``simplified-344x25``), the class prior divided out, which is closer to how a judge trained on
all of Quick, Draw! sees them. ``--peer`` adds SketchRNN's bicycle model, judged
the same way against real bicycles beside ours. ``--sheets DIR`` writes a contact sheet per
mode (8 real and 8 generated sketches a class).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

from visketch_core.data.augment import partial
from visketch_core.data.corpus import load_corpus
from visketch_core.errors import ModelError
from visketch_core.eval import realism
from visketch_core.eval.judge import frechet_distance, mean_pairwise_distance, nearest_distances
from visketch_core.generate.completion import complete
from visketch_core.generate.data import cached_arrays
from visketch_core.generate.pipeline import Finished, Generator, LeafEvent
from visketch_core.models.cnn import render_small
from visketch_core.sketch.model import Sketch
from visketch_core.train.judge import judge_images, load_judge, wide_verdicts

MODES = ("stage1", "sequential", "parallel")
MEM = 32   # side of the images compared for memorisation


def eval_parser(prog: str = "visketch") -> argparse.ArgumentParser:
    from visketch_core.paths import default_data_dir, models_dir

    p = argparse.ArgumentParser(prog=f"{prog} eval generation")
    p.add_argument("--models", default=str(models_dir()))
    p.add_argument("--stage1", choices=["guided", "fast"], default="guided",
                   help="which stage 1 of MODELS (as visketch generate --stage1)")
    p.add_argument("--judge", default=None, help="judge checkpoint (default: MODELS/judge.pt)")
    p.add_argument("--wide-judge", default=None,
                   help="a wide judge (visketch train judge --wide; default: MODELS/judge-wide.pt "
                        "when there is one): its prior-free top-1 among all its classes too")
    p.add_argument("--data", default=str(default_data_dir()))
    p.add_argument("--split", default="test", choices=["val", "test"])
    p.add_argument("--cache", default="runs/gen/cache")
    p.add_argument("--per-class", type=int, default=10, help="generated sketches per class")
    p.add_argument("--complete-per-class", type=int, default=10)
    p.add_argument("--complete-schedule", choices=["parallel", "sequential"], default="parallel",
                   help="the schedule completions are refined with")
    p.add_argument("--timing", type=int, default=8, help="single sketches timed per schedule")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None, help="also write the report here")
    p.add_argument("--modes", default=",".join(MODES),
                   help="which of stage1,sequential,parallel to generate (tuning: fewer)")
    p.add_argument("--peer", default=None,
                   help="a SketchRNN .gen.json model of one of our classes (e.g. bicycle)")
    p.add_argument("--peer-n", type=int, default=30, help="sketches of the peer's class a side")
    p.add_argument("--sheets", default=None, help="write contact sheets (PNG) into this folder")
    p.add_argument("--temperature", type=float, default=None, help="override leaf sampling")
    p.add_argument("--top-k", type=int, default=None, help="override leaf sampling")
    p.add_argument("--guidance", type=float, default=None, help="override stage-1 guidance")
    p.add_argument("--steps", type=int, default=None, help="override stage-1 denoising steps")
    p.add_argument("--guide-from", type=float, default=None,
                   help="override: guidance only at noise levels t/T >= this (0 = every step)")
    p.add_argument("--solver", default=None, choices=["ddim", "dpm2m"],
                   help="override the stage-1 sampler")
    p.add_argument("--max-leaf-ink", type=float, default=None, help="override the blob guard")
    p.add_argument("--seam-blend", type=float, default=None,
                   help="override the seam blur at leaf borders (sigma px, 0 = off)")
    p.add_argument("--tidy", type=int, choices=[0, 1], default=None,
                   help="override stroke tidying (0 = raw traced strokes)")
    p.add_argument("--complete-refine", type=int, choices=[0, 1], default=None,
                   help="override: refine completions leaf by leaf (1) or keep stage 1's "
                        "own ink beyond the user's, unrefined (0)")
    p.add_argument("--reimpose", type=int, choices=[0, 1], default=None,
                   help="override re-imposing the user's pixels in completion")
    p.add_argument("--draft-sure", type=float, default=None,
                   help="override the probability at which a draft is kept at once "
                        "(0 = the recognizer's sure threshold)")
    p.add_argument("--draft-new-ink", type=int, default=None,
                   help="override: coarse pixels a completion draft must add beyond the "
                        "user's drawing to be kept at once (0 = off)")
    p.add_argument("--user-leaf-new", type=float, default=None,
                   help="override: completion keeps stage 1's ink farther than this many px "
                        "from the user's in leaves holding user ink (0 = off)")
    p.add_argument("--drafts", type=int, default=None,
                   help="override how many stage-1 drafts the recognizer may ask for (1 = off)")
    p.add_argument("--draft-wide", type=int, choices=[0, 1], default=None,
                   help="override: the wide critic (MODELS/critic-wide.pt) must also name a "
                        "draft's class for it to be kept at once (0 = off)")
    return p


def _draft_stats(drafts: list[int]) -> dict:
    """How many stage-1 drafts the sketches took (1 each without a critic)."""
    d = np.asarray(drafts)
    return {"mean": float(d.mean()), "max": int(d.max()), "redrawn_share": float((d > 1).mean()),
            "n": int(len(d))}


def _small(sketches: list[Sketch]) -> np.ndarray:
    return np.stack([render_small(s) if s.strokes else np.zeros((64, 64), np.float32)
                     for s in sketches])


def _mem(imgs: np.ndarray) -> np.ndarray:
    return np.stack([cv2.resize(x, (MEM, MEM), interpolation=cv2.INTER_AREA) for x in imgs])


class WideJudge:
    """The wide judge's verdict on sketches of our classes: right when, among all its
    classes and with its training prior divided out, it names the intended one."""

    def __init__(self, path: str | Path, classes: list[str]):
        from visketch_core.models.checkpoint import read_checkpoint

        self.model, wide = load_judge(path)
        counts = read_checkpoint(path, kind="judge").get("metrics", {}).get("train_counts")
        missing = [c for c in classes if c not in wide]
        if missing or counts is None or len(counts) != len(wide):
            raise ModelError(f"{path}: not a wide judge of these classes"
                             + (f" (lacks {missing[0]!r})" if missing else ""))
        self.path, self.counts, self.n_classes = str(path), counts, len(wide)
        self.index = np.asarray([wide.index(c) for c in classes])

    def hits(self, imgs: np.ndarray, labels: np.ndarray) -> np.ndarray:
        probs, _ = judge_images(self.model, imgs)
        return wide_verdicts(probs, self.counts) == self.index[labels]

    def summary(self, hit: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict:
        return {"top1": float(hit.mean()), "classes": self.n_classes,
                "per_class": {classes[c]: float(hit[labels == c].mean())
                              for c in np.unique(labels)}}


class _Measure:
    """Grades sets of sketches against the real sketches of the split."""

    def __init__(self, judge, classes: list[str], real: list[Sketch], real_labels: np.ndarray,
                 pool: np.ndarray, seed: int, recognizer=None, wide: WideJudge | None = None):
        self.judge, self.classes, self.seed = judge, classes, seed
        self.recognizer = recognizer
        self.wide = wide
        self.real, self.real_labels = real, real_labels
        self.real_small = _small(real)
        self.real_probs, self.real_feats = judge_images(judge, self.real_small)
        hit = self.real_probs.argmax(1) == real_labels
        self.real_per = {classes[c]: float(hit[real_labels == c].mean())
                         for c in np.unique(real_labels)}
        self.real_top1 = float(hit.mean())
        self.pool = pool
        self.real_nn = nearest_distances(_mem(self.real_small), pool)
        self.real_strokes = realism.stroke_stats(real)
        self.real_div = mean_pairwise_distance(self.real_feats, real_labels)
        self.real_rec = self.recognize(real, real_labels)
        self.real_wide = self.wide_view(self.real_small, real_labels)

    def wide_view(self, imgs: np.ndarray, labels: np.ndarray) -> dict | None:
        """The wide judge's top-1 (overall and per class); None without one."""
        if self.wide is None:
            return None
        return self.wide.summary(self.wide.hits(imgs, labels), labels, self.classes)

    def recognize(self, sketches: list[Sketch], labels: np.ndarray) -> dict | None:
        """The shipped recognizer's verdict on ``sketches`` (an empty sketch counts as wrong
        and unknown); None without a recognizer."""
        if self.recognizer is None:
            return None
        right, known = np.zeros(len(labels), bool), np.zeros(len(labels), bool)
        keep = [i for i, s in enumerate(sketches) if s.strokes]
        for lo in range(0, len(keep), 64):
            part = keep[lo:lo + 64]
            for i, p in zip(part, self.recognizer.classify_many([sketches[i] for i in part])):
                right[i] = p.label == self.classes[labels[i]]
                known[i] = p.known
        both = right & known
        return {"right": float(right.mean()), "known": float(known.mean()),
                "right_and_known": float(both.mean()),
                "right_and_known_per_class": {self.classes[c]: float(both[labels == c].mean())
                                              for c in np.unique(labels)}}

    def judge_only(self, sketches: list[Sketch], labels: np.ndarray) -> dict:
        imgs = _small(sketches)
        probs, _ = judge_images(self.judge, imgs)
        hit = probs.argmax(1) == labels
        return {"top1": float(hit.mean()), "n": int(len(labels)),
                "per_class": {self.classes[c]: float(hit[labels == c].mean())
                              for c in np.unique(labels)},
                "wide_judge": self.wide_view(imgs, labels)}

    def grade(self, sketches: list[Sketch], labels: np.ndarray, *,
              real_mask: np.ndarray | None = None) -> dict:
        """All measures of ``sketches`` (intended classes ``labels``); ``real_mask`` picks
        the real sketches to compare with (default: all)."""
        m = np.ones(len(self.real), bool) if real_mask is None else real_mask
        imgs = _small(sketches)
        probs, feats = judge_images(self.judge, imgs)
        hit = probs.argmax(1) == labels
        per = {self.classes[c]: float(hit[labels == c].mean()) for c in np.unique(labels)}
        gap = {k: 100 * (v - self.real_per[k]) for k, v in per.items()}
        nn = nearest_distances(_mem(imgs), self.pool)
        div = mean_pairwise_distance(feats, labels)
        strokes = realism.stroke_stats(sketches)
        real_strokes = self.real_strokes if real_mask is None else \
            realism.stroke_stats([s for s, k in zip(self.real, m) if k])
        return {
            "top1": float(hit.mean()), "n": int(len(labels)), "per_class": per,
            "per_class_minus_real_points": gap,
            "worst_class_minus_real_points": float(min(gap.values())),
            "frechet": frechet_distance(feats, self.real_feats[m]),
            "diversity": div, "diversity_vs_real": div / max(1e-9, self.real_div),
            "two_sample": realism.two_sample_score(self.real_small[m], imgs, seed=self.seed),
            "strokes": strokes,
            "strokes_gap_vs_real": realism.relative_gap(strokes, real_strokes),
            "nearest_train_rms": {"median": float(np.median(nn)), "min": float(nn.min()),
                                  "real_median": float(np.median(self.real_nn)),
                                  "share_below_real_p5":
                                      float((nn < np.percentile(self.real_nn, 5)).mean())},
            "empty": int(sum(not s.strokes for s in sketches)),
            "recognizer": self.recognize(sketches, labels),
            "wide_judge": self.wide_view(imgs, labels),
        }


def run_eval(a: argparse.Namespace, log=print) -> dict:
    torch.set_num_threads(a.threads)
    gen = Generator.load(a.models, device="cpu", stage1=a.stage1)
    over = {k: v for k, v in (("temperature", a.temperature), ("top_k", a.top_k),
                              ("guidance", a.guidance), ("steps", a.steps),
                              ("max_leaf_ink", a.max_leaf_ink),
                              ("seam_blend", a.seam_blend),
                              ("drafts", getattr(a, "drafts", None)),
                              ("solver", getattr(a, "solver", None)),
                              ("guide_from", getattr(a, "guide_from", None)),
                              ("draft_sure", getattr(a, "draft_sure", None)),
                              ("draft_new_ink", getattr(a, "draft_new_ink", None)),
                              ("user_leaf_new", getattr(a, "user_leaf_new", None)))
            if v is not None}
    over.update({k: bool(v) for k, v in (("tidy", a.tidy), ("reimpose", a.reimpose),
                                         ("draft_wide", getattr(a, "draft_wide", None)),
                                         ("complete_refine",
                                          getattr(a, "complete_refine", None)))
                 if v is not None})
    if over:
        gen.sampling = replace(gen.sampling, **over)
    modes = [m for m in MODES if m in a.modes.split(",")]
    judge, jclasses = load_judge(a.judge or Path(a.models) / "judge.pt")
    if jclasses != gen.classes:
        raise ValueError("judge and generator classes differ")
    classes = gen.classes
    wide_path = a.wide_judge or (Path(a.models) / "judge-wide.pt")
    wide = WideJudge(wide_path, classes) if (a.wide_judge or Path(wide_path).is_file()) \
        else None
    test = load_corpus(a.data, a.split, classes=classes)
    real_labels = np.asarray(test.labels)
    train = cached_arrays(a.data, "train", a.cache, log=log)
    pool = _mem(np.stack([train.ink(i) for i in range(len(train))]))
    from visketch_core.inference import Recognizer

    try:
        rec = Recognizer.load(device="cpu")
        if rec.classes != classes:
            rec = None
    except (ModelError, OSError):
        rec = None
    meas = _Measure(judge, classes, test.sketches, real_labels, pool, a.seed, recognizer=rec,
                    wide=wide)
    report: dict = {"split": a.split, "classes": classes, "per_class": a.per_class,
                    "threads": a.threads, "sampling": vars(gen.sampling).copy(),
                    "conditioned_stage1": gen.conditioned, "stage1_model": a.stage1,
                    # with drafts, the shipped recognizer chose among stage-1 drafts, so its
                    # opinion below is not independent; the judge's is (a different model)
                    "drafts_judged_by_recognizer": gen.critic is not None
                    and gen.sampling.drafts > 1,
                    "drafts_judged_by_wide_critic": gen.critic is not None
                    and gen.wide_critic is not None and gen.sampling.drafts > 1
                    and gen.sampling.draft_wide,
                    "real": {"top1": meas.real_top1, "per_class": meas.real_per,
                             "n": int(len(real_labels)), "diversity": meas.real_div,
                             "strokes": meas.real_strokes, "recognizer": meas.real_rec,
                             "wide_judge": meas.real_wide}}
    if wide is not None:
        report["wide_judge"] = {"path": wide.path, "classes": wide.n_classes}
    sheets: dict[str, list[Sketch]] = {}

    # -- generation: stage 1 once, then the three modes ------------------------------------
    per_class = a.per_class if modes else 0
    out: dict[str, list] = {m: [] for m in MODES}
    times: dict[str, list] = {m: [] for m in MODES}
    labels, drafts = [], []
    for c in range(len(classes) if per_class else 0):
        t0 = time.perf_counter()
        coarse = gen.stage1([c] * a.per_class, seed=a.seed + 7919 * c)
        drafts += gen.last_drafts.tolist()
        s1 = (time.perf_counter() - t0) / a.per_class
        for k in range(a.per_class):
            labels.append(c)
            if "stage1" in modes:
                out["stage1"].append(gen.stage1_result(coarse[k], c, s1).sketch)
                times["stage1"].append(s1)
            for mode in [m for m in modes if m != "stage1"]:
                res = [ev.result for ev in gen.refine(coarse[k], c, schedule=mode,
                                                      seed=a.seed + k) if isinstance(ev, Finished)][0]
                out[mode].append(res.sketch)
                times[mode].append(res.timings["total_s"])
        log(f"generated {classes[c]}: " + ", ".join(
            f"{m} {np.mean(times[m][-a.per_class:]):.2f}s" for m in modes))
    labels = np.asarray(labels)
    if drafts:
        report["stage1_drafts"] = _draft_stats(drafts)
    for mode in modes:
        g = meas.grade(out[mode], labels)
        g["mean_total_s"] = float(np.mean(times[mode]))
        report[mode] = g
        sheets[mode] = out[mode]
        log(f"{mode}: judge top-1 {g['top1']:.3f}, FD {g['frechet']:.2f}, "
            f"two-sample {g['two_sample']['accuracy']:.2f}"
            + (f", wide judge {g['wide_judge']['top1']:.3f} (real "
               f"{meas.real_wide['top1']:.3f})" if g["wide_judge"] else "")
            + (f", recognizer right and known {g['recognizer']['right_and_known']:.3f}"
               if g["recognizer"] else ""))
    if isinstance(report.get("stage1"), dict):
        for mode in ("sequential", "parallel"):
            if mode in report:
                report[f"refinement_gain_points_{mode}"] = 100 * (report[mode]["top1"]
                                                                  - report["stage1"]["top1"])
    if "parallel" in report and "sequential" in report:
        report["parallel_minus_sequential_points"] = 100 * (report["parallel"]["top1"]
                                                            - report["sequential"]["top1"])

    # -- completion of half sketches -------------------------------------------------------
    if a.complete_per_class:
        halves, comp, comp_labels, unchanged, ctimes, cdrafts = [], [], [], [], [], []
        added: list[bool] = []
        for c in range(len(classes)):
            idx = [i for i in np.flatnonzero(real_labels == c) if len(test.sketches[i].strokes) >= 2]
            for i in idx[: a.complete_per_class]:
                half = partial(test.sketches[i], 0.5)
                t0 = time.perf_counter()
                cand = complete(gen, half, c, 1, seed=a.seed + int(i),
                                schedule=a.complete_schedule)[0]
                ctimes.append(time.perf_counter() - t0)
                cdrafts += gen.last_drafts.tolist()
                halves.append(half)
                comp.append(cand.sketch)
                comp_labels.append(c)
                unchanged.append(cand.ink_unchanged)
                added.append(cand.ink_added)
        comp_labels = np.asarray(comp_labels)
        gc = meas.grade(comp, comp_labels)
        gc.update({"schedule": a.complete_schedule, "user_ink_unchanged": int(sum(unchanged)),
                   "user_ink_unchanged_all": bool(all(unchanged)),
                   # completions that drew nothing beyond the user's ink
                   "nothing_added": int(sum(not x for x in added)),
                   "mean_total_s": float(np.mean(ctimes)), "drafts": _draft_stats(cdrafts)})
        gh = meas.grade(halves, comp_labels)
        report["completion"], report["halves"] = gc, gh
        report["completion_minus_halves_points"] = 100 * (gc["top1"] - gh["top1"])
        sheets["completion"], sheets["halves"] = comp, halves
        if rec is None:
            rec = Recognizer.load(device="cpu")
        guesses = [p.label for p in rec.classify_many(halves)]
        guessed = [complete(gen, h, g, 1, seed=a.seed + 1 + k,
                                    schedule=a.complete_schedule)[0].sketch
                   for k, (h, g) in enumerate(zip(halves, guesses))]
        gg = meas.judge_only(guessed, comp_labels)
        gg["guess_right"] = float(np.mean([gen.classes.index(g) == y
                                           for g, y in zip(guesses, comp_labels)]))
        report["completion_guess"] = gg
        log(f"completion as the classifier's guess: judge top-1 {gg['top1']:.3f} "
            f"(guess right {gg['guess_right']:.3f})")
        log(f"completion: judge top-1 {gc['top1']:.3f} (half sketches alone {gh['top1']:.3f})"
            + (f", wide judge {gc['wide_judge']['top1']:.3f} (halves "
               f"{gh['wide_judge']['top1']:.3f})" if gc["wide_judge"] else ""))

    # -- the peer: SketchRNN against our own sketches of its class --------------------------
    if a.peer:
        report["peer"] = _peer(a, gen, meas, test, log)

    if a.sheets:
        _write_sheets(Path(a.sheets), classes, test.sketches, real_labels, sheets, labels,
                      comp_labels if a.complete_per_class else None, log)
    report["timing"] = _timing(gen, a) if a.timing else {}
    if report["timing"] and "parallel" in report and "sequential" in report:
        report["timing"]["parallel_speedup_stage2_mean"] = (
            report["sequential"]["mean_total_s"] / max(1e-9, report["parallel"]["mean_total_s"]))
    return report


def _peer(a: argparse.Namespace, gen: Generator, meas: _Measure, test, log) -> dict:
    """SketchRNN's sketches of its class beside ours (stage 1 only and parallel), each
    compared with the real sketches of that class."""
    from visketch_core.eval import sketchrnn

    name = Path(a.peer).name.split(".")[0]
    if name not in gen.classes:
        raise ValueError(f"{a.peer}: {name!r} is not one of the generator's classes")
    c = gen.classes.index(name)
    n = a.peer_n
    mask = meas.real_labels == c
    lab = np.full(n, c)
    t0 = time.perf_counter()
    rnn = sketchrnn.sample(sketchrnn.load(a.peer), n, seed=a.seed)
    rnn_s = (time.perf_counter() - t0) / n
    coarse = gen.stage1([c] * n, seed=a.seed + 31)
    ours_s1 = [gen.stage1_result(coarse[k], c, 0.0).sketch for k in range(n)]
    ours_par = [[ev.result for ev in gen.refine(coarse[k], c, schedule="parallel",
                                                seed=a.seed + k) if isinstance(ev, Finished)][0].sketch
                for k in range(n)]
    rep = {"class": name, "n": n, "real_n": int(mask.sum())}
    for key, sks in (("sketchrnn", rnn), ("ours_stage1", ours_s1), ("ours_parallel", ours_par)):
        g = meas.grade(sks, lab, real_mask=mask)
        for drop in ("per_class", "per_class_minus_real_points", "worst_class_minus_real_points"):
            g.pop(drop)
        rep[key] = g
        log(f"peer {key}: judge top-1 {g['top1']:.3f}, FD {g['frechet']:.2f}, "
            f"two-sample {g['two_sample']['accuracy']:.2f}")
    rep["sketchrnn"]["mean_total_s"] = rnn_s
    return rep


def _write_sheets(folder: Path, classes: list[str], real: list[Sketch], real_labels: np.ndarray,
                  sheets: dict[str, list[Sketch]], labels: np.ndarray,
                  comp_labels: np.ndarray | None, log, k: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for mode, sks in sheets.items():
        lab = comp_labels if mode in ("completion", "halves") else labels
        rows = []
        for c, name in enumerate(classes):
            r = [s for s, y in zip(real, real_labels) if y == c][:k]
            g = [s for s, y in zip(sks, lab) if y == c][:k]
            rows.append((name, r + g))
        path = folder / f"generation-{mode}.png"
        realism.contact_sheet(rows, path, cell=72)
        log(f"contact sheet: {path} (left {k} real, right {k} {mode})")


def _timing(gen: Generator, a: argparse.Namespace) -> dict:
    """Single sketches as the app asks for them: first leaf and whole sketch, per schedule."""
    out: dict = {}
    for mode in ("sequential", "parallel"):
        first, total, leaves = [], [], []
        for k in range(a.timing):
            c = k % len(gen.classes)
            t_first = None
            for ev in gen.events(c, seed=a.seed + 100 + k, schedule=mode):
                if isinstance(ev, LeafEvent) and t_first is None:
                    t_first = ev.elapsed
                if isinstance(ev, Finished):
                    total.append(ev.result.timings["total_s"])
                    leaves.append(ev.result.timings["leaves"])
            if t_first is not None:
                first.append(t_first)
        out[mode] = {"first_leaf_s_median": float(np.median(first)) if first else None,
                     "first_leaf_s_max": float(np.max(first)) if first else None,
                     "total_s_median": float(np.median(total)),
                     "total_s_max": float(np.max(total)),
                     "leaves_mean": float(np.mean(leaves))}
    out["parallel_speedup_total"] = (out["sequential"]["total_s_median"]
                                     / out["parallel"]["total_s_median"])
    return out
