"""``visketch eval generation``: the paper's ablation, completion and timings in one run.

Generated sketches are graded by the judge (a CNN trained on real train sketches only):
top-1 per class and overall, Frechet distance of judge features against real test
sketches, diversity (mean within-class feature distance, and its ratio to real sketches')
and memorisation (pixel distance to the nearest training sketch, against the same distance
for real test sketches). Stage 1 runs once per sample; stage-1-only, sequential and parallel
refinements all start from the same coarse sketches, so the comparison is paired.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import cv2
import numpy as np
import torch

from visketch_core.data.augment import partial
from visketch_core.data.corpus import load_corpus
from visketch_core.eval.judge import frechet_distance, mean_pairwise_distance, nearest_distances
from visketch_core.generate.completion import complete
from visketch_core.generate.data import cached_arrays
from visketch_core.generate.pipeline import Finished, Generator, LeafEvent
from visketch_core.models.cnn import render_small
from visketch_core.sketch.model import Sketch
from visketch_core.train.judge import judge_images, load_judge

MODES = ("stage1", "sequential", "parallel")
MEM = 32   # side of the images compared for memorisation


def eval_parser(prog: str = "visketch") -> argparse.ArgumentParser:
    from visketch_core.paths import default_data_dir, models_dir

    p = argparse.ArgumentParser(prog=f"{prog} eval generation")
    p.add_argument("--models", default=str(models_dir()))
    p.add_argument("--judge", default=None, help="judge checkpoint (default: MODELS/judge.pt)")
    p.add_argument("--data", default=str(default_data_dir()))
    p.add_argument("--split", default="test", choices=["val", "test"])
    p.add_argument("--cache", default="runs/gen/cache")
    p.add_argument("--per-class", type=int, default=10, help="generated sketches per class")
    p.add_argument("--complete-per-class", type=int, default=10)
    p.add_argument("--timing", type=int, default=8, help="single sketches timed per schedule")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None, help="also write the report here")
    p.add_argument("--modes", default=",".join(MODES),
                   help="which of stage1,sequential,parallel to generate (tuning: fewer)")
    p.add_argument("--temperature", type=float, default=None, help="override leaf sampling")
    p.add_argument("--top-k", type=int, default=None, help="override leaf sampling")
    p.add_argument("--guidance", type=float, default=None, help="override stage-1 guidance")
    p.add_argument("--steps", type=int, default=None, help="override stage-1 DDIM steps")
    p.add_argument("--max-leaf-ink", type=float, default=None, help="override the blob guard")
    return p


def _small(sketches: list[Sketch]) -> np.ndarray:
    return np.stack([render_small(s) if s.strokes else np.zeros((64, 64), np.float32)
                     for s in sketches])


def _grade(judge, imgs: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict:
    probs, feats = judge_images(judge, imgs)
    hit = probs.argmax(1) == labels
    per = {classes[c]: float(hit[labels == c].mean()) for c in np.unique(labels)}
    return {"top1": float(hit.mean()), "per_class": per, "n": int(len(labels)),
            "_features": feats}


def run_eval(a: argparse.Namespace, log=print) -> dict:
    from pathlib import Path

    torch.set_num_threads(a.threads)
    gen = Generator.load(a.models, device="cpu")
    over = {k: v for k, v in (("temperature", a.temperature), ("top_k", a.top_k),
                              ("guidance", a.guidance), ("steps", a.steps),
                              ("max_leaf_ink", a.max_leaf_ink)) if v is not None}
    if over:
        gen.sampling = replace(gen.sampling, **over)
    modes = [m for m in MODES if m in a.modes.split(",")]
    judge, jclasses = load_judge(a.judge or Path(a.models) / "judge.pt")
    if jclasses != gen.classes:
        raise ValueError("judge and generator classes differ")
    classes = gen.classes
    test = load_corpus(a.data, a.split, classes=classes)
    real_small = _small(test.sketches)
    real_labels = np.asarray(test.labels)
    real = _grade(judge, real_small, real_labels, classes)
    train = cached_arrays(a.data, "train", a.cache, log=log)
    pool = np.stack([cv2.resize(train.ink(i), (MEM, MEM), interpolation=cv2.INTER_AREA)
                     for i in range(len(train))])
    real_nn = nearest_distances(np.stack([cv2.resize(x, (MEM, MEM), interpolation=cv2.INTER_AREA)
                                          for x in real_small]), pool)

    # -- generation: stage 1 once, then the three modes ------------------------------------
    per_class = a.per_class if modes else 0
    out: dict[str, list] = {m: [] for m in MODES}
    times: dict[str, list] = {m: [] for m in MODES}
    labels = []
    for c in range(len(classes) if per_class else 0):
        t0 = time.perf_counter()
        coarse = gen.stage1([c] * a.per_class, seed=a.seed + 7919 * c)
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
    report: dict = {"split": a.split, "classes": classes, "per_class": a.per_class,
                    "threads": a.threads, "sampling": vars(gen.sampling).copy()
                    if hasattr(gen.sampling, "__dict__") else {},
                    "real": {"top1": real["top1"], "n": real["n"],
                             "diversity": mean_pairwise_distance(real.pop("_features"), real_labels)}}
    real_feats = judge_images(judge, real_small)[1]
    for mode in modes:
        imgs = _small(out[mode])
        g = _grade(judge, imgs, labels, classes)
        feats = g.pop("_features")
        nn = nearest_distances(np.stack([cv2.resize(x, (MEM, MEM), interpolation=cv2.INTER_AREA)
                                         for x in imgs]), pool)
        div = mean_pairwise_distance(feats, labels)
        g.update({"frechet": frechet_distance(feats, real_feats), "diversity": div,
                  "diversity_vs_real": div / max(1e-9, report["real"]["diversity"]),
                  "nearest_train_rms": {"median": float(np.median(nn)),
                                        "min": float(nn.min()),
                                        "real_test_median": float(np.median(real_nn)),
                                        "share_below_real_p5":
                                            float((nn < np.percentile(real_nn, 5)).mean())},
                  "mean_total_s": float(np.mean(times[mode])),
                  "empty": int(sum(not s.strokes for s in out[mode]))})
        report[mode] = g
        log(f"{mode}: judge top-1 {g['top1']:.3f}, FD {g['frechet']:.2f}")
    if "stage1" in report and "sequential" in report:
        report["refinement_gain_points"] = 100 * (report["sequential"]["top1"]
                                                  - report["stage1"]["top1"])
    if "parallel" in report and "sequential" in report:
        report["parallel_minus_sequential_points"] = 100 * (report["parallel"]["top1"]
                                                            - report["sequential"]["top1"])

    # -- completion of half sketches -------------------------------------------------------
    if a.complete_per_class:
        halves, comp, comp_labels, unchanged = [], [], [], []
        for c in range(len(classes)):
            idx = [i for i in np.flatnonzero(real_labels == c) if len(test.sketches[i].strokes) >= 2]
            for i in idx[: a.complete_per_class]:
                half = partial(test.sketches[i], 0.5)
                cand = complete(gen, half, c, 1, seed=a.seed + int(i))[0]
                halves.append(half)
                comp.append(cand.sketch)
                comp_labels.append(c)
                unchanged.append(cand.ink_unchanged)
        comp_labels = np.asarray(comp_labels)
        gc = _grade(judge, _small(comp), comp_labels, classes)
        gc.pop("_features")
        gh = _grade(judge, _small(halves), comp_labels, classes)
        report["completion"] = {"top1": gc["top1"], "per_class": gc["per_class"], "n": gc["n"],
                                "half_sketch_top1": gh["top1"],
                                "user_ink_unchanged": int(sum(unchanged)),
                                "user_ink_unchanged_all": bool(all(unchanged))}
        log(f"completion: judge top-1 {gc['top1']:.3f} (half sketches alone {gh['top1']:.3f})")

    # -- timings of single sketches (the app's case) ---------------------------------------
    report["timing"] = {}
    if not a.timing:
        return report
    for mode in ("sequential", "parallel"):
        first, total, leaves = [], [], []
        for k in range(a.timing):
            c = k % len(classes)
            t_first = None
            for ev in gen.events(c, seed=a.seed + 100 + k, schedule=mode):
                if isinstance(ev, LeafEvent) and t_first is None:
                    t_first = ev.elapsed
                if isinstance(ev, Finished):
                    total.append(ev.result.timings["total_s"])
                    leaves.append(ev.result.timings["leaves"])
            if t_first is not None:
                first.append(t_first)
        report["timing"][mode] = {"first_leaf_s_median": float(np.median(first)) if first else None,
                                  "first_leaf_s_max": float(np.max(first)) if first else None,
                                  "total_s_median": float(np.median(total)),
                                  "total_s_max": float(np.max(total)),
                                  "leaves_mean": float(np.mean(leaves))}
    seq, par = report["timing"]["sequential"], report["timing"]["parallel"]
    report["timing"]["parallel_speedup_total"] = seq["total_s_median"] / par["total_s_median"]
    # refine() times stage 2 alone (its clock starts after stage 1)
    if "parallel" in report and "sequential" in report:
        report["timing"]["parallel_speedup_stage2_mean"] = (
            report["sequential"]["mean_total_s"] / max(1e-9, report["parallel"]["mean_total_s"]))
    return report
