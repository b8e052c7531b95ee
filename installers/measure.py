"""Size and start-up time of a built bundle, as JSON.

    python installers/measure.py [--bundle installers/dist/ViSketch] [--runs 3] [--cold]

Start-up is the wall time of ``visketch --open SAMPLE --screenshot OUT.png`` (offscreen): from
exec to the window grabbed after the first prediction, model load included. ``--cold`` drops
the page cache before every run (Linux, root), so every library is read from disk again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "resources" / "samples" / "quickdraw-3.ndjson"


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and not p.is_symlink()) / 2**20


def drop_page_cache() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def time_start(bundle: Path, cold: bool) -> float:
    exe = bundle / ("ViSketch.exe" if sys.platform == "win32" else "visketch")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VISKETCH_")}
        env.update(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_DATA_HOME=f"{tmp}/data",
                   QT_QPA_PLATFORM="offscreen")
        if cold:
            drop_page_cache()
        t0 = time.perf_counter()
        out = subprocess.run([str(exe), "--open", str(SAMPLE), "--screenshot",
                              f"{tmp}/shot.png", "--timeout", "300"],
                             capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"the bundle failed (exit {out.returncode}): {out.stderr.strip()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", type=Path, default=HERE / "dist" / "ViSketch")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="drop the page cache before each run")
    args = p.parse_args(argv)
    tarballs = sorted(args.bundle.parent.glob("ViSketch-*.tar.gz"))
    runs = [time_start(args.bundle, args.cold) for _ in range(args.runs)]
    print(json.dumps({
        "bundle": str(args.bundle),
        "unpacked_mb": round(folder_mb(args.bundle), 1),
        "tarball_mb": round(tarballs[-1].stat().st_size / 2**20, 1) if tarballs else None,
        "cold": args.cold,
        "start_to_screenshot_s": [round(t, 2) for t in runs],
        "median_s": round(statistics.median(runs), 2),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
