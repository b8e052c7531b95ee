"""Copy trained generation models into resources/models/ with a readable card beside them.

    python scripts/ship_generation.py runs/gen [--temperature 0.7] [--guidance 2.0]
        [--steps 25] [--solver ddim|dpm2m] [--drafts 4] [--user-leaf-new 6]
        [--report generation_metrics.json]

Copies tokenizer.pt, diffusion.pt, refiner.pt and judge.pt from the run folder (and
judge-wide.pt, the wide judge of the benchmark, and critic-wide.pt, the wide critic of
stage-1 drafts, when the folder has them). The sampling
settings chosen on the validation split are written into the shipped diffusion.pt (the
generator reads them from there). Writes resources/models/generation.json: what each model
is, its size, its training metrics, the sampling settings, and the test report when given.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILES = ("tokenizer", "diffusion", "refiner", "judge")
WIDE = ("judge-wide", "critic-wide")  # optional: the benchmark's wide judge, the drafts' critic


def main() -> None:
    import torch

    from visketch_core.models.checkpoint import read_checkpoint

    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="folder holding tokenizer.pt, diffusion.pt, refiner.pt, judge.pt")
    ap.add_argument("--temperature", type=float, default=None)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--solver", choices=["ddim", "dpm2m"], default=None)
    ap.add_argument("--guide-from", type=float, default=None,
                    help="guidance only at noise levels t/T >= this (0 = every step)")
    ap.add_argument("--max-leaf-ink", type=float, default=None)
    ap.add_argument("--seam-blend", type=float, default=None)
    ap.add_argument("--reimpose", type=int, choices=[0, 1], default=None)
    ap.add_argument("--tidy", type=int, choices=[0, 1], default=None)
    ap.add_argument("--drafts", type=int, default=None,
                    help="stage-1 drafts the shipped recognizer (classifier.pt) may ask for")
    ap.add_argument("--draft-sure", type=float, default=None,
                    help="probability at which a draft is kept at once (0 = the recognizer's)")
    ap.add_argument("--draft-new-ink", type=int, default=None,
                    help="coarse pixels a completion draft must add to be kept at once (0 = off)")
    ap.add_argument("--user-leaf-new", type=float, default=None,
                    help="completion: leaves with user ink keep stage 1's ink farther than "
                         "this many px from the user's (0 = off)")
    ap.add_argument("--report", default=None, help="JSON from benchmarks/generation.py")
    args = ap.parse_args()
    src, dst = Path(args.run), ROOT / "resources" / "models"
    dst.mkdir(parents=True, exist_ok=True)
    card: dict = {"kind": "generation",
                  "trained_on": "Quick, Draw! simplified, 15 classes, train split "
                                "(CC BY 4.0, Google)",
                  "models": {}}
    wide = [n for n in WIDE if (src / f"{n}.pt").is_file()]
    names = list(FILES) + wide
    for name in names:
        blob = read_checkpoint(src / f"{name}.pt", kind="judge" if name in WIDE else name)
        if name == "diffusion":
            sampling = dict(blob.get("sampling", {}))
            for key, value in (("temperature", args.temperature), ("top_k", args.top_k),
                               ("guidance", args.guidance), ("steps", args.steps),
                               ("solver", args.solver), ("guide_from", args.guide_from),
                               ("max_leaf_ink", args.max_leaf_ink),
                               ("seam_blend", args.seam_blend),
                               ("reimpose", None if args.reimpose is None else bool(args.reimpose)),
                               ("tidy", None if args.tidy is None else bool(args.tidy)),
                               ("drafts", args.drafts), ("draft_sure", args.draft_sure),
                               ("draft_new_ink", args.draft_new_ink),
                               ("user_leaf_new", args.user_leaf_new)):
                if value is not None:
                    sampling[key] = value
            blob["sampling"] = sampling
            card["sampling"] = sampling
            tmp = dst / "diffusion.pt.tmp"
            torch.save(blob, tmp)
            tmp.replace(dst / "diffusion.pt")
        else:
            shutil.copyfile(src / f"{name}.pt", dst / f"{name}.pt")
        params = sum(v.numel() for v in blob["weights"].values())
        card["models"][name] = {"file": f"{name}.pt", "parameters": int(params),
                                "bytes": (dst / f"{name}.pt").stat().st_size,
                                "config": blob["config"], "training_metrics": blob["metrics"]}
        if name not in WIDE:  # the wide models know every class of simplified-344x25
            card["classes"] = blob["classes"] or card.get("classes", [])
    if args.report:
        card["test_report"] = json.loads(Path(args.report).read_text(encoding="utf-8"))
    (dst / "generation.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(f"shipped {', '.join(names)} -> {dst}")


if __name__ == "__main__":
    main()
