"""Recognition on the test split: the quadtree-context classifier against a plain CNN, and
the ablations that test the paper's claims, trained on the same split with the same budget.

    python benchmarks/classification.py                       # everything (hours on 2 CPU cores)
    python benchmarks/classification.py --epochs 5 --variants visketch,leaf_only,binary,mean_pool,cnn
    python benchmarks/classification.py --shipped-only         # shipped model: accuracy + latency
    python benchmarks/classification.py --variants cnn,distilled --variants-only

The hybrid recognizer and the fair test of the paper's claim, in one run:

    python benchmarks/classification.py --variants pyramid,pyramid_gap,pyramid_fused --epochs 12

"pyramid": node embeddings from one CNN feature pyramid, quadtree-context head; "pyramid_gap":
the same backbone, global average pooling (a plain CNN); "pyramid_fused": both heads' logits
summed; "pyramid_leaf_only" / "pyramid_binary" / "pyramid_mean_pool": the ablations on the
hybrid. All train with the recognition augmentations and outlier exposure, resume from their
last epoch (`--train-only` trains without evaluating), and report the "none of these" verdict
on the outlier classes of the test group and the effect of one stray line.

The "distilled" variant is the quadtree classifier trained with this run's CNN as its teacher
(knowledge distillation, `visketch train classifier --teacher`); the CNN is trained first
when it is not in --out yet.

Prints JSON: for every variant top-1, top-3, class-balanced top-1, ECE, accuracy after the
first half of the strokes, and, for the shipped model, the "not sure" threshold's accuracy
and single-sketch latency (median ms, 2 threads) for whole and 5/10/20-stroke sketches.
Variants are trained with the same epochs, batch size, augmentations and seed; models
are selected on the validation split and the test split is read once at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _common import ROOT, emit, machine

VARIANTS = ("visketch", "leaf_only", "binary", "mean_pool", "cnn", "distilled")
# the hybrid recognizer: node embeddings from one CNN feature pyramid (models/pyramid.py),
# trained with outlier exposure and the recognition augmentations; "pyramid_gap" is the
# same backbone with global average pooling instead of the quadtree head: a plain CNN
HYBRID = ("pyramid", "pyramid_gap", "pyramid_fused", "pyramid_leaf_only", "pyramid_binary",
          "pyramid_mean_pool")


def latency(rec, sketches, repeats: int = 3) -> dict:
    """Median ms for one sketch, strokes in, probabilities out (whole and partial)."""
    out = {}
    for name, k in (("whole", None), ("5_strokes", 5), ("10_strokes", 10), ("20_strokes", 20)):
        pool = [s if k is None else s.first_strokes(k) for s in sketches
                if k is None or len(s.strokes) >= k][:150]
        if not pool:
            out[name] = {"n": 0}
            continue
        times = []
        for _ in range(repeats):
            for s in pool:
                t0 = time.perf_counter()
                rec.classify(s)
                times.append((time.perf_counter() - t0) * 1000)
        out[name] = {"n": len(pool), "median_ms": round(float(np.median(times)), 2),
                     "p90_ms": round(float(np.percentile(times, 90)), 2)}
    return out


def train_variant(name: str, data: str, epochs: int, out: Path, seed: int,
                  teacher: Path | None = None, outlier_dir: str | None = None,
                  log=lambda s: None) -> Path:
    """Train one quadtree variant; returns its checkpoint path."""
    from visketch_core.models.classifier import ClassifierConfig
    from visketch_core.models.context_encoder import ContextEncoderConfig
    from visketch_core.train.classifier import train_classifier
    from visketch_core.train.loop import TrainConfig

    tcfg = TrainConfig(epochs=epochs, seed=seed)
    if name in HYBRID:
        from visketch_core.data.augment import RECOGNITION
        from visketch_core.data.outliers import default_outlier_dir

        ablation = name.removeprefix("pyramid").lstrip("_")
        enc = ContextEncoderConfig(embed="pyramid", use_context=ablation != "leaf_only")
        cfg = ClassifierConfig(encoder=enc, head="gap" if ablation == "gap" else "quadtree",
                               fuse_gap=ablation == "fused",
                               pooling="mean" if ablation == "mean_pool" else "attention")
        outliers = default_outlier_dir() if outlier_dir is None else outlier_dir
        run = out / f"{name}-epochs{epochs}-seed{seed}"
        train_classifier(data, run, model_cfg=cfg, train_cfg=tcfg,
                         binary=ablation == "binary", outliers=outliers,
                         augment_cfg=RECOGNITION, resume=True, log=log)
        return run / "classifier.pt"
    # the first shipped model's config (the defaults), changing only what the ablation tests
    enc = ContextEncoderConfig(use_context=name != "leaf_only")
    cfg = ClassifierConfig(encoder=enc, pooling="mean" if name == "mean_pool" else "attention")
    distill = None
    if name == "distilled":
        from visketch_core.train.distill import DistillConfig

        distill = DistillConfig(str(teacher))
    train_classifier(data, out / name, model_cfg=cfg, train_cfg=tcfg, binary=name == "binary",
                     distill=distill, log=lambda s: None)
    return out / name / "classifier.pt"


def cnn_variant(data: str, epochs: int, seed: int, save: Path | None = None) -> dict:
    from visketch_core.data.augment import partial
    from visketch_core.data.corpus import load_corpus
    from visketch_core.eval.metrics import classification_report
    from visketch_core.models.cnn import render_small
    from visketch_core.train.cnn import predict_cnn, train_cnn
    from visketch_core.train.loop import TrainConfig

    train = load_corpus(data, "train")
    val = load_corpus(data, "val", classes=train.classes)
    test = load_corpus(data, "test", classes=train.classes)
    t0 = time.perf_counter()
    model = train_cnn(train, val, train_cfg=TrainConfig(epochs=epochs, seed=seed))
    secs = time.perf_counter() - t0
    if save is not None:  # the teacher of the "distilled" variant
        from visketch_core.models.checkpoint import save_checkpoint

        save_checkpoint(save, kind="judge", config=model.cfg, model=model, classes=train.classes)
    labels = np.asarray(test.labels)
    probs, _ = predict_cnn(model, np.stack([render_small(s) for s in test.sketches]))
    rep = classification_report(probs, labels, train.classes)
    half, _ = predict_cnn(model, np.stack([render_small(partial(s, 0.5)) for s in test.sketches]))
    rep["partial_50"] = {"top1": classification_report(half, labels, train.classes)["top1"],
                         "balanced_top1": classification_report(half, labels,
                                                                train.classes)["balanced_top1"]}
    rep["params"] = sum(p.numel() for p in model.parameters())
    rep["train_seconds"] = round(secs, 1)
    return rep


def hybrid_report(ckpt: Path, args) -> dict:
    """A trained hybrid variant on the test split, with the unknown verdict measured on the
    outlier classes of the "test" group (never trained or tuned on)."""
    import torch

    from visketch_core.data.outliers import default_outlier_dir
    from visketch_core.eval.classifier import evaluate_classifier
    from visketch_core.models.checkpoint import read_checkpoint

    rep = summarise(evaluate_classifier(ckpt, args.data, split="test", stray=True,
                                        outlier_dir=args.outliers or default_outlier_dir()))
    blob = read_checkpoint(ckpt)
    rep["params"] = sum(v.numel() for v in blob["weights"].values() if torch.is_tensor(v))
    metrics = json.loads((ckpt.parent / "metrics.json").read_text())
    rep["train_seconds"] = round(metrics["best_val"].get("train_seconds", float("nan")), 1)
    rep["val_balanced_top1"] = metrics["best_val"]["balanced_top1"]
    rep["best_epoch"] = metrics["best_val"].get("epoch")
    rep["checkpoint"] = str(ckpt)
    return rep


def summarise(rep: dict) -> dict:
    keep = ("n", "top1", "top3", "balanced_top1", "ece", "confidence_threshold",
            "confident_accuracy", "confident_share", "partial_50", "params", "train_seconds",
            "unknown_score", "known_share", "sure_share", "sure_precision", "outliers",
            "stray_line")
    return {k: rep[k] for k in keep if k in rep}


def shipped_report(args) -> dict:
    """The shipped model on the test split: accuracy, calibration, partial sketches, latency."""
    from visketch_core.data.corpus import load_corpus
    from visketch_core.data.outliers import default_outlier_dir
    from visketch_core.eval.classifier import evaluate_classifier
    from visketch_core.inference import Recognizer
    from visketch_core.paths import default_classifier_path

    shipped = evaluate_classifier(default_classifier_path(), args.data, split="test",
                                  confusion_png=args.confusion, stray=True,
                                  outlier_dir=args.outliers or default_outlier_dir())
    rec = Recognizer.load(threads=2)
    test = load_corpus(args.data, "test", classes=rec.classes)
    return {**summarise(shipped), "confusion_png": args.confusion,
            "per_class_top1": shipped["per_class_top1"],
            "latency_2_threads": latency(rec, test.sketches)}


def main() -> None:
    import torch

    from visketch_core.eval.classifier import evaluate_classifier
    from visketch_core.paths import default_classifier_path, default_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(default_data_dir()))
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench_classification"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shipped-only", action="store_true")
    ap.add_argument("--retrain", action="store_true",
                    help="retrain variants even if a result of the same budget is in --out")
    ap.add_argument("--variants-only", action="store_true",
                    help="train/evaluate the variants only, not the shipped model")
    ap.add_argument("--reuse-shipped", action="store_true",
                    help="use the shipped model as the 'visketch' variant (only when it was "
                         "trained with the same epochs and seed as this run)")
    ap.add_argument("--outliers", default=None,
                    help="folder of other classes' drawings (default: simplified-344x25 "
                         "beside --data)")
    ap.add_argument("--train-only", action="store_true",
                    help="train the hybrid variants (resuming), evaluate nothing")
    ap.add_argument("--confusion", default=str(ROOT / "docs" / "images" / "confusion.png"))
    ap.add_argument("--threads", type=int, default=2, help="torch threads for training/eval "
                    "(latency is always measured with 2)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    result: dict = {"benchmark": "classification", "split": "test", "machine": machine()}

    Path(args.confusion).parent.mkdir(parents=True, exist_ok=True)
    if not args.variants_only:
        result["shipped"] = shipped_report(args)
    if args.reuse_shipped:
        from visketch_core.models.checkpoint import read_checkpoint

        trained = read_checkpoint(default_classifier_path()).get("train", {})
        if (trained.get("epochs"), trained.get("seed")) != (args.epochs, args.seed):
            raise SystemExit(f"--reuse-shipped: the shipped model was trained for "
                             f"{trained.get('epochs')} epochs (seed {trained.get('seed')}), "
                             f"this run's budget is {args.epochs} (seed {args.seed})")
    if not args.shipped_only:
        result["budget"] = {"epochs": args.epochs, "batch_size": 32, "seed": args.seed}
        variants = {}
        teacher = out / f"cnn-epochs{args.epochs}-seed{args.seed}.pt"
        for name in args.variants.split(","):
            t0 = time.perf_counter()
            done = out / f"{name}-epochs{args.epochs}-seed{args.seed}.json"
            if done.exists() and not args.retrain:  # a finished variant of this very budget
                variants[name] = json.loads(done.read_text())
                print(json.dumps({name: variants[name], "from": str(done)}), file=sys.stderr,
                      flush=True)
                continue
            if name in HYBRID:
                run = out / f"{name}-epochs{args.epochs}-seed{args.seed}"
                if args.retrain or not (run / "metrics.json").exists():
                    train_variant(name, args.data, args.epochs, out, args.seed,
                                  log=lambda s: print(s, file=sys.stderr, flush=True))
                if args.train_only:
                    continue
                variants[name] = hybrid_report(run / "classifier.pt", args)
                print(json.dumps({name: variants[name]}), file=sys.stderr, flush=True)
                continue
            if name == "distilled" and (args.retrain or not teacher.exists()):
                variants["cnn"] = cnn_variant(args.data, args.epochs, args.seed, teacher)
                (out / f"cnn-epochs{args.epochs}-seed{args.seed}.json").write_text(
                    json.dumps(variants["cnn"]))
                print(json.dumps({"cnn": variants["cnn"]}), file=sys.stderr, flush=True)
                t0 = time.perf_counter()
            if name == "cnn":
                out.mkdir(parents=True, exist_ok=True)
                variants[name] = cnn_variant(args.data, args.epochs, args.seed, teacher)
            elif name == "visketch" and args.reuse_shipped and result.get("shipped"):
                variants[name] = {**result["shipped"], "reused_shipped_model": True}
                variants[name].pop("latency_2_threads", None)
                variants[name].pop("per_class_top1", None)
            else:
                ckpt = train_variant(name, args.data, args.epochs, out, args.seed, teacher)
                variants[name] = summarise(evaluate_classifier(ckpt, args.data, split="test"))
                variants[name]["train_seconds"] = round(time.perf_counter() - t0, 1)
            if not variants[name].get("reused_shipped_model"):
                done.parent.mkdir(parents=True, exist_ok=True)
                done.write_text(json.dumps(variants[name]))
            print(json.dumps({name: variants[name]}), file=sys.stderr, flush=True)
        result["variants"] = variants
        if "pyramid" in variants and "pyramid_gap" in variants:
            d = variants["pyramid"]["balanced_top1"] - variants["pyramid_gap"]["balanced_top1"]
            result["pyramid_minus_gap_balanced_top1"] = round(d, 4)
        for name in ("visketch", "distilled"):
            if name in variants and "cnn" in variants:
                d = variants[name]["balanced_top1"] - variants["cnn"]["balanced_top1"]
                result[f"{name}_minus_cnn_balanced_top1"] = round(d, 4)
    emit(result)


if __name__ == "__main__":
    main()
