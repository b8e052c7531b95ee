"""Copy a trained classifier into resources/models/ with a readable card beside it.

    python scripts/ship_classifier.py runs/classifier [--test-report eval.json]

Writes resources/models/classifier.pt (float16 weights, config, classes, validation metrics)
and resources/models/classifier.json (the same config, classes and metrics, plus the test
report when given, for people and for `visketch info`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from visketch_core.models.checkpoint import read_checkpoint

    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="training output folder holding classifier.pt")
    ap.add_argument("--test-report", default=None, help="JSON from `visketch eval classifier`")
    args = ap.parse_args()
    src = Path(args.run) / "classifier.pt"
    blob = read_checkpoint(src, kind="classifier")
    dst = ROOT / "resources" / "models"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst / "classifier.pt")
    card = {
        "kind": "classifier",
        "file": "classifier.pt",
        "trained_on": "Quick, Draw! simplified, 15 classes, train split (CC BY 4.0, Google)"
                      + (", with drawings of 157 other Quick, Draw! classes as 'none of these'"
                         if blob.get("metrics", {}).get("unknown") else ""),
        "classes": blob["classes"],
        "config": blob["config"],
        "geometry": blob.get("geometry", {}),
        "train": blob.get("train", {}),
        **({"distilled_from": {**blob["distill"], "teacher": Path(blob["distill"]["teacher"]).name}}
           if blob.get("distill") else {}),
        "validation": blob["metrics"],
        "history": blob.get("history", []),
    }
    if args.test_report:
        rep = json.loads(Path(args.test_report).read_text())
        rep.pop("confusion", None)
        card["test"] = rep
    (dst / "classifier.json").write_text(json.dumps(card, indent=2))
    print(dst / "classifier.pt", (dst / "classifier.pt").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
