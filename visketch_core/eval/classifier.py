"""`visketch eval classifier`: accuracy, calibration, partial sketches, confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visketch_core.data.augment import partial
from visketch_core.data.corpus import load_corpus
from visketch_core.data.dataset import SketchDataset
from visketch_core.eval.metrics import classification_report, confusion_matrix
from visketch_core.paths import default_data_dir


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


def evaluate_classifier(model_path: str | Path | None = None, data_dir: str | Path | None = None,
                        *, split: str = "test", confusion_png: str | Path | None = None,
                        device: str = "auto", partial_shares=(0.5,)) -> dict:
    """Metrics of a classifier checkpoint on one split of a QuickDraw folder."""
    import torch

    from visketch_core.models.checkpoint import load_classifier
    from visketch_core.models.device import pick_device
    from visketch_core.train.classifier import predict

    dev = pick_device(device)
    model, classes, geometry, blob, path = load_classifier(model_path, dev)
    binary = bool(blob.get("binary", False))
    data = load_corpus(data_dir or default_data_dir(), split, classes=classes)
    labels = np.asarray(data.labels)
    threshold = float(blob.get("metrics", {}).get("confidence_threshold", 0.5))
    with torch.inference_mode():
        probs = predict(model, SketchDataset(data.sketches, labels, geometry, binary=binary), dev)
    report = classification_report(probs, labels, classes, threshold=threshold)
    report["model"] = str(path)
    report["split"] = split
    for share in partial_shares:
        part = [partial(s, share) for s in data.sketches]
        pp = predict(model, SketchDataset(part, labels, geometry, binary=binary), dev)
        rep = classification_report(pp, labels, classes, threshold=threshold)
        report[f"partial_{int(share * 100)}"] = {k: rep[k] for k in (
            "top1", "top3", "balanced_top1", "confident_accuracy", "confident_share")}
    cm = confusion_matrix(probs, labels, len(classes))
    report["confusion"] = cm.tolist()
    if confusion_png:
        confusion_image(cm, classes, confusion_png)
        report["confusion_png"] = str(confusion_png)
    return report
