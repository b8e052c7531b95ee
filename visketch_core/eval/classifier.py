"""`visketch eval classifier`: accuracy, calibration, partial sketches, confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visketch_core.data.augment import partial
from visketch_core.data.corpus import load_corpus
from visketch_core.data.dataset import SketchDataset
from visketch_core.eval.metrics import classification_report, confusion_matrix
from visketch_core.paths import default_data_dir
from visketch_core.sketch.model import Sketch


def confusion_image(cm: np.ndarray, classes: list[str], path: str | Path) -> None:
    """Write a row-normalised confusion matrix as a PNG with class names."""
    import cv2

    n = len(classes)
    cell, left, top = 36, 120, 120
    img = np.full((top + n * cell + 10, left + n * cell + 10, 3), 255, np.uint8)
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    for i in range(n):
        for j in range(n):
            v = rows[i, j]
            colour = (int(255 * (1 - v)), int(255 * (1 - 0.6 * v)), 255) if i != j else \
                (int(255 * (1 - v)), 255, int(255 * (1 - v)))
            x, y = left + j * cell, top + i * cell
            cv2.rectangle(img, (x, y), (x + cell - 1, y + cell - 1), colour, -1)
            if cm[i, j]:
                cv2.putText(img, str(int(cm[i, j])), (x + 3, y + 22), cv2.FONT_HERSHEY_SIMPLEX,
                            0.38, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, classes[i][:14], (4, top + i * cell + 22), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
    # column labels, written rotated: draw on a transposed canvas strip
    strip = np.full((left + n * cell + 10, top, 3), 255, np.uint8)
    for j in range(n):
        cv2.putText(strip, classes[j][:14], (4, left + j * cell + 22), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
    rot = cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)  # (top, W, 3)
    img[:top, : rot.shape[1]] = rot[:, : img.shape[1]]
    cv2.imwrite(str(path), img)


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random ``pos`` score beats a random ``neg`` one (ties half)."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    if not len(pos) or not len(neg):
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    for v in np.unique(allv):          # average ranks of ties
        m = allv == v
        if m.sum() > 1:
            ranks[m] = ranks[m].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2)
                 / (len(pos) * len(neg)))


def _outlier_report(model, classes, geometry, binary, dev, gate, threshold, outlier_dir,
                    own_sketches, own_scores) -> dict:
    import torch

    from visketch_core.data.outliers import load_outliers
    from visketch_core.eval.unknown import model_outputs

    keys = {s.key_id for s in own_sketches if s.key_id}
    other = load_outliers(outlier_dir, "test", classes, keys)
    if not len(other):
        return {"n": 0}
    lo, po = model_outputs(model, SketchDataset(other.sketches, [0] * len(other), geometry,
                                                binary=binary), dev)
    known, score = gate(lo, po)
    probs = torch.from_numpy(lo).softmax(-1).numpy()
    sure = known & (probs.max(-1) >= threshold)
    called = {}
    for c in np.asarray(classes)[probs[sure].argmax(-1)]:
        called[str(c)] = called.get(str(c), 0) + 1
    return {"group": "test", "n": len(other), "classes": len(set(other.classes)),
            "called_known": float(known.mean()), "called_sure": float(sure.mean()),
            "sure_as": dict(sorted(called.items(), key=lambda kv: -kv[1])),
            "auroc": auroc(own_scores, score)}


def evaluate_classifier(model_path: str | Path | None = None, data_dir: str | Path | None = None,
                        *, split: str = "test", confusion_png: str | Path | None = None,
                        device: str = "auto", partial_shares=(0.5,),
                        outlier_dir: str | Path | None = None, stray: bool = False) -> dict:
    """Metrics of a classifier checkpoint on one split of a QuickDraw folder.

    With ``outlier_dir`` and a checkpoint that can say "none of these", also the unknown
    verdict: on the split's own sketches (sure share and precision, known share) and on the
    drawings of the outlier classes of the "test" group, never trained or tuned on
    (share called known, share called sure, the score's AUROC). With ``stray``, also every
    sketch with one short stray line added: how often that changes or wrongly secures a guess.
    """
    import torch

    from visketch_core.models.checkpoint import load_classifier
    from visketch_core.models.device import pick_device

    dev = pick_device(device)
    model, classes, geometry, blob, path = load_classifier(model_path, dev)
    binary = bool(blob.get("binary", False))
    data = load_corpus(data_dir or default_data_dir(), split, classes=classes)
    labels = np.asarray(data.labels)
    threshold = float(blob.get("metrics", {}).get("confidence_threshold", 0.5))
    from visketch_core.eval.unknown import UnknownGate, model_outputs

    gate = UnknownGate(blob)
    logits, pooled = model_outputs(model, SketchDataset(data.sketches, labels, geometry,
                                                        binary=binary), dev)
    probs = torch.from_numpy(logits).softmax(-1).numpy()
    report = classification_report(probs, labels, classes, threshold=threshold)
    if gate.active:
        known, score = gate(logits, pooled)
        sure = known & (probs.max(-1) >= threshold)
        report["unknown_score"] = gate.score
        report["known_share"] = float(known.mean())
        report["sure_share"] = float(sure.mean())
        report["sure_precision"] = float((probs[sure].argmax(-1) == labels[sure]).mean()) \
            if sure.any() else float("nan")
        if outlier_dir is not None:
            report["outliers"] = _outlier_report(model, classes, geometry, binary, dev, gate,
                                                 threshold, outlier_dir, data.sketches, score)
    report["model"] = str(path)
    report["split"] = split
    for share in partial_shares:
        part = [partial(s, share) for s in data.sketches]
        pl, ppool = model_outputs(model, SketchDataset(part, labels, geometry, binary=binary),
                                  dev)
        pp = torch.from_numpy(pl).softmax(-1).numpy()
        rep = classification_report(pp, labels, classes, threshold=threshold)
        rep = {k: rep[k] for k in ("top1", "top3", "balanced_top1", "confident_accuracy",
                                   "confident_share")}
        if gate.active:
            known, _ = gate(pl, ppool)
            sure = known & (pp.max(-1) >= threshold)
            rep["known_share"] = float(known.mean())
            rep["sure_share"] = float(sure.mean())
        report[f"partial_{int(share * 100)}"] = rep
    if stray:
        # one slip of the pen: a short stray line added to every sketch (seeded)
        from visketch_core.data.augment import _stray

        rng = np.random.default_rng(0)
        slipped = [Sketch(strokes=[*s.strokes, _stray(np.concatenate(s.strokes), rng,
                                                      (0.1, 0.5))], label=s.label)
                   if s.strokes else s for s in data.sketches]
        sl, spool = model_outputs(model, SketchDataset(slipped, labels, geometry,
                                                       binary=binary), dev)
        sp = torch.from_numpy(sl).softmax(-1).numpy()
        known = gate(sl, spool)[0]
        sure = known & (sp.max(-1) >= threshold)
        wrong = sp.argmax(-1) != labels
        report["stray_line"] = {
            "top1": float((~wrong).mean()),
            "balanced_top1": classification_report(sp, labels, classes)["balanced_top1"],
            "sure_share": float(sure.mean()),
            "sure_and_wrong": float((sure & wrong).mean()),
            "changed_top1": float((sp.argmax(-1) != probs.argmax(-1)).mean())}
    cm = confusion_matrix(probs, labels, len(classes))
    report["confusion"] = cm.tolist()
    if confusion_png:
        confusion_image(cm, classes, confusion_png)
        report["confusion_png"] = str(confusion_png)
    return report
