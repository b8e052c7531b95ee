"""Choose how generated ink becomes strokes, on the validation split.

    python scripts/tune_tracing.py [--models DIR] [--per-class 16] [--seed 1] [--threads 1]

Stage 1 draws ``per-class`` coarse sketches a class once; every tracing variant then turns
the same coarse sketches into strokes, and each set is measured like the benchmark does
(judge top-1, Frechet distance, two-sample test, stroke statistics against real validation
sketches). Prints one JSON line per variant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import numpy as np
    import torch

    from visketch_core.data.corpus import load_corpus
    from visketch_core.eval.generation import _Measure, _mem
    from visketch_core.generate.canvas import shat_from_coarse
    from visketch_core.generate.data import cached_arrays
    from visketch_core.generate.pipeline import Generator
    from visketch_core.geometry.tidy import TidyConfig, tidy
    from visketch_core.geometry.vectorise import vectorise
    from visketch_core.paths import default_data_dir, models_dir
    from visketch_core.train.judge import load_judge

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(models_dir()))
    ap.add_argument("--data", default=str(default_data_dir()))
    ap.add_argument("--per-class", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    gen = Generator.load(a.models, device="cpu")
    judge, _ = load_judge(Path(a.models) / "judge.pt")
    val = load_corpus(a.data, "val", classes=gen.classes)
    train = cached_arrays(a.data, "train", "runs/gen/cache")
    pool = _mem(np.stack([train.ink(i) for i in range(len(train))]))
    meas = _Measure(judge, gen.classes, val.sketches, np.asarray(val.labels), pool, a.seed)
    inks, labels = [], []
    for c in range(len(gen.classes)):
        coarse = gen.stage1([c] * a.per_class, seed=a.seed + 7919 * c)
        inks += [shat_from_coarse(x, gen.geometry).ink for x in coarse]
        labels += [c] * a.per_class
    labels = np.asarray(labels)
    fill = {"fill_holes": 80, "fill_slits": 4.0, "min_length": 10.0}
    variants = {
        "raw": lambda ink: vectorise(ink),
        "fill only": lambda ink: vectorise(ink, **fill),
        "tidy": lambda ink: tidy(vectorise(ink)),
        "fill + tidy": lambda ink: tidy(vectorise(ink, **fill)),
        "fill + tidy, sigma 1.5": lambda ink: tidy(vectorise(ink, **fill), TidyConfig(sigma=1.5)),
        "fill + tidy, no smoothing": lambda ink: tidy(vectorise(ink, **fill), TidyConfig(sigma=0)),
        "fill + tidy, keep fragments": lambda ink: tidy(vectorise(ink, **fill),
                                                        TidyConfig(min_length=0)),
        "fill + tidy, no doubles pass": lambda ink: tidy(vectorise(ink, **fill),
                                                         TidyConfig(double_run=1e9)),
    }
    real = meas.real_strokes
    for name, fn in variants.items():
        g = meas.grade([fn(ink) for ink in inks], labels)
        gap = g["strokes_gap_vs_real"]
        print(json.dumps({"variant": name, "judge_top1": round(g["top1"], 3),
                          "frechet": round(g["frechet"], 2),
                          "two_sample": round(g["two_sample"]["accuracy"], 3),
                          "two_sample_auc": round(g["two_sample"]["auc"], 3),
                          "strokes": {k: round(v, 3) for k, v in g["strokes"].items()
                                      if not k.startswith("n_")},
                          "worst_gap": round(max(abs(v) for v in gap.values() if v is not None), 3)}),
              flush=True)
    print(json.dumps({"real_strokes": {k: round(v, 3) for k, v in real.items()}}))


if __name__ == "__main__":
    main()
