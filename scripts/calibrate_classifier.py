"""Re-choose the "none of these" verdict and the "sure" threshold of a trained classifier.

    python scripts/calibrate_classifier.py runs/classifier/classifier.pt OUT.pt \
        [--other-sure 0.015] [--precision 0.97] [--keep 0.95]

Works on a copy (OUT must not exist): the temperature is refitted on the validation split,
the unknown score and threshold are chosen on validation and the tune group of other classes
(data/outliers.py), and the sure threshold is the lowest with at least PRECISION right on
validation and at most OTHER_SURE of the tune group's drawings called sure. The test group
is not read. Prints the calibration as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from visketch_core.data.outliers import default_outlier_dir
    from visketch_core.eval.unknown import calibrate_checkpoint
    from visketch_core.paths import default_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--data", default=str(default_data_dir()))
    ap.add_argument("--outliers", default=None)
    ap.add_argument("--other-sure", type=float, default=0.015)
    ap.add_argument("--precision", type=float, default=0.97)
    ap.add_argument("--keep", type=float, default=0.95)
    args = ap.parse_args()
    src, out = Path(args.checkpoint), Path(args.out)
    if not src.is_file():
        print(f"{src}: no such checkpoint", file=sys.stderr)
        return 2
    if out.exists():
        print(f"{out}: exists; not overwritten", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, out)
    outliers = args.outliers or default_outlier_dir()
    if outliers is None:
        print("no folder of other classes' drawings; pass --outliers", file=sys.stderr)
        return 2
    cal = calibrate_checkpoint(out, args.data, outliers,
                               keep=args.keep, precision=args.precision,
                               other_sure=args.other_sure,
                               log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(cal, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
