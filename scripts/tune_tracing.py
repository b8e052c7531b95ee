"""Choose how generated ink becomes strokes, on the validation split.

    python scripts/tune_tracing.py [--models DIR] [--mode stage1|parallel|sequential]
                                   [--per-class 16] [--seed 1] [--threads 1] [--variants "a;b"]

The generator draws ``per-class`` sketches a class once (stage 1 only, or stage 1 then the
refiner in the given schedule) and keeps the ink before tracing; every tracing variant then
turns the same ink into strokes, and each set is measured like the benchmark does (judge
top-1, Frechet distance, two-sample test, stroke statistics against real validation
sketches). Prints one JSON line per variant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILL = {"fill_holes": 80, "fill_slits": 4.0, "min_length": 10.0}


def variants() -> dict[str, tuple[dict, dict | None]]:
    """name -> (vectorise keyword arguments, TidyConfig fields or None for no tidying)."""
    return {
        "raw": ({}, None),
        "fill only": (FILL, None),
        "tidy": ({}, {}),
        "fill + tidy": (FILL, {}),
        "fill + tidy, sigma 1.5": (FILL, {"sigma": 1.5}),
        "fill + tidy, keep fragments": (FILL, {"min_length": 0.0}),
        "fill + tidy, no doubles pass": (FILL, {"double_run": 1e9}),
        "tidy, junction 0.4": ({"straight": 0.4}, {}),
        "tidy, junction 0.0": ({"straight": 0.0}, {}),
        "tidy, gap 20": ({}, {"gap": 20.0}),
        "tidy, gap 20 cos 0": ({}, {"gap": 20.0, "gap_cos": 0.0}),
        "tidy, junction 0.4, gap 20": ({"straight": 0.4}, {"gap": 20.0}),
        "tidy, spur 8": ({"min_length": 8.0}, {}),
        "tidy, junction 0.4, gap 20, spur 8": ({"straight": 0.4, "min_length": 8.0},
                                              {"gap": 20.0}),
        "shipped, dots unbridged": ({"straight": 0.4}, {"dot_length": 8.0}),
        "shipped, dots unbridged, clear 6": ({"straight": 0.4}, {"dot_length": 8.0,
                                                                "dot_clear": 6.0}),
        "shipped, dots unbridged, clear 4": ({"straight": 0.4}, {"dot_length": 8.0,
                                                                "dot_clear": 4.0}),
        "shipped, ticks unbridged": ({"straight": 0.4}, {"dot_length": 12.0}),
        "shipped, dots unbridged, clear 5": ({"straight": 0.4}, {"dot_length": 8.0,
                                                                "dot_clear": 5.0}),
        "shipped": ({"straight": 0.4}, {}),
        "fragments under 6": ({"straight": 0.4}, {"min_length": 6.0}),
        "fragments under 5": ({"straight": 0.4}, {"min_length": 5.0}),
        "clear 3": ({"straight": 0.4}, {"dot_clear": 3.0}),
        "fragments under 6, clear 4": ({"straight": 0.4}, {"min_length": 6.0, "dot_clear": 4.0}),
        "ticks unbridged 12, fragments under 6": ({"straight": 0.4}, {"dot_length": 12.0,
                                                                      "min_length": 6.0}),
        "spur 6, fragments under 6": ({"straight": 0.4, "min_length": 6.0}, {"min_length": 6.0}),
        "spur 2": ({"straight": 0.4, "min_length": 2.0}, {}),
        "fragments under 7": ({"straight": 0.4}, {"min_length": 7.0}),
        "clear 2": ({"straight": 0.4}, {"dot_clear": 2.0}),
        "clear 4": ({"straight": 0.4}, {"dot_clear": 4.0}),
        "fragments under 7, clear 3": ({"straight": 0.4}, {"min_length": 7.0, "dot_clear": 3.0}),
    }


def main() -> None:
    import numpy as np
    import torch

    from visketch_core.data.corpus import load_corpus
    from visketch_core.eval.generation import _Measure, _mem
    from visketch_core.generate.canvas import shat_from_coarse
    from visketch_core.generate.data import cached_arrays
    from visketch_core.generate.pipeline import Finished, Generator
    from visketch_core.geometry.tidy import TidyConfig, tidy
    from visketch_core.geometry.vectorise import vectorise
    from visketch_core.paths import default_data_dir, models_dir
    from visketch_core.train.judge import load_judge

    table = variants()
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(models_dir()))
    ap.add_argument("--data", default=str(default_data_dir()))
    ap.add_argument("--mode", default="stage1", choices=["stage1", "parallel", "sequential"])
    ap.add_argument("--per-class", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variants", default=";".join(table), help="names separated by semicolons")
    ap.add_argument("--cache", default=None, help="npz of the untraced ink (made if missing)")
    a = ap.parse_args()
    names = [n.strip() for n in a.variants.split(";") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        ap.error(f"unknown variants {unknown}; known: {list(table)}")
    torch.set_num_threads(a.threads)
    gen = Generator.load(a.models, device="cpu")
    judge, _ = load_judge(Path(a.models) / "judge.pt")
    val = load_corpus(a.data, "val", classes=gen.classes)
    train = cached_arrays(a.data, "train", "runs/gen/cache")
    pool = _mem(np.stack([train.ink(i) for i in range(len(train))]))
    meas = _Measure(judge, gen.classes, val.sketches, np.asarray(val.labels), pool, a.seed)
    cache = Path(a.cache) if a.cache else None
    if cache is not None and cache.exists():
        z = np.load(cache)
        inks, labels = list(z["inks"].astype(np.float32)), z["labels"]
    else:
        inks, labels = [], []
        for c in range(len(gen.classes)):
            coarse = gen.stage1([c] * a.per_class, seed=a.seed + 7919 * c)
            for k, x in enumerate(coarse):
                if a.mode == "stage1":
                    inks.append(shat_from_coarse(x, gen.geometry).ink)
                else:
                    ev = [e for e in gen.refine(x, c, schedule=a.mode, seed=a.seed + k,
                                                trace=False) if isinstance(e, Finished)]
                    inks.append(ev[0].result.raw_ink)
            labels += [c] * a.per_class
        labels = np.asarray(labels)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(cache, inks=np.stack(inks).astype(np.uint8), labels=labels)
    for name in names:
        vec, tcfg = table[name]

        def trace(ink, vec=vec, tcfg=tcfg):
            s = vectorise(ink, **vec)
            return s if tcfg is None else tidy(s, TidyConfig(**tcfg))

        g = meas.grade([trace(ink) for ink in inks], labels)
        gap = g["strokes_gap_vs_real"]
        print(json.dumps({"variant": name, "mode": a.mode, "judge_top1": round(g["top1"], 3),
                          "worst_class_vs_real": round(g["worst_class_minus_real_points"], 1),
                          "frechet": round(g["frechet"], 2),
                          "two_sample": round(g["two_sample"]["accuracy"], 3),
                          "two_sample_auc": round(g["two_sample"]["auc"], 3),
                          "strokes": {k: round(v, 3) for k, v in g["strokes"].items()
                                      if not k.startswith("n_")},
                          "worst_gap": round(max(abs(v) for v in gap.values() if v is not None), 3)}),
              flush=True)
    print(json.dumps({"real_strokes": {k: round(v, 3) for k, v in meas.real_strokes.items()}}))


if __name__ == "__main__":
    main()
