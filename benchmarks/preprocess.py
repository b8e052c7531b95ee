"""Strokes -> SDF + quadtree + contexts, per sketch, on the test split (one core).

    python benchmarks/preprocess.py [--data DIR] [--repeats 5]

Prints JSON: median milliseconds per sketch over several passes (each pass times every
test sketch once; the reported number is the median over passes of the per-pass median).
Target: <= 4 ms per sketch on one core.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import emit, machine  # noqa: E402

TARGET_MS = 4.0


def main() -> None:
    import cv2

    from visketch_core.data.corpus import load_corpus
    from visketch_core.geometry import GeometryConfig, preprocess
    from visketch_core.paths import default_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(default_data_dir()))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    cfg = GeometryConfig()
    sketches = load_corpus(args.data, "test").sketches
    for s in sketches[:20]:
        preprocess(s, cfg)  # warm up
    medians, means, leaves = [], [], []
    for _ in range(args.repeats):
        times = np.empty(len(sketches))
        for i, s in enumerate(sketches):
            t0 = time.perf_counter()
            ctx = preprocess(s, cfg)
            times[i] = (time.perf_counter() - t0) * 1000
            if len(leaves) < len(sketches):
                leaves.append(len(ctx))
        medians.append(float(np.median(times)))
        means.append(float(np.mean(times)))
    med = float(np.median(medians))
    emit({
        "benchmark": "preprocess",
        "what": "strokes -> normalise -> raster -> SDF -> quadtree -> contexts, one sketch",
        "sketches": len(sketches),
        "repeats": args.repeats,
        "median_ms_per_sketch": round(med, 3),
        "mean_ms_per_sketch": round(float(np.median(means)), 3),
        "per_pass_median_ms": [round(m, 3) for m in medians],
        "median_leaves": float(np.median(leaves)),
        "target_ms": TARGET_MS,
        "meets_target": med <= TARGET_MS,
        "machine": machine(),
    })


if __name__ == "__main__":
    main()
