"""The desktop app, headless (``visketch app --open FILE --screenshot OUT``), on bad files:
exit 1, one line naming the file, no traceback or shutdown noise, the file unchanged, peak
memory bounded. (The interactive window is in tests/app/test_app_bad_files.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz_cases import NOISE, PEAK_RSS, digest
from fuzz_corpus import build_corpus

ROOT = Path(__file__).resolve().parents[2]
FAST = ("doc_deep", "svg_laughs", "npy_is_zip", "png_header_100k", "gz_random")


def _headless(path: Path, out: Path, cfg: Path) -> tuple[int, str, int]:
    """(exit code, stderr, peak RSS in bytes) of one headless app run."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen",
           "VISKETCH_CONFIG_DIR": str(cfg / "config"), "VISKETCH_DATA_DIR": str(cfg / "data"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    err = out.with_suffix(".err")
    with open(err, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "visketch_core", "app", "--cpu", "--open",
                                 str(path), "--screenshot", str(out), "--timeout", "60"],
                                stdout=subprocess.DEVNULL, stderr=fh, cwd=ROOT, env=env)
        deadline = time.monotonic() + 180
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return proc.returncode, err.read_text(errors="replace"), usage.ru_maxrss * 1024


def _check(files, tmp: Path) -> None:
    before = digest([f.path for f in files])
    failed = []
    for f in files:
        rc, err, rss = _headless(f.path, tmp / f"{f.name}.png", tmp / f.name)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        wrong = []
        if rc != 1:
            wrong.append(f"exit {rc}")
        if len(lines) != 1 or f.path.name not in lines[0]:
            wrong.append(f"{len(lines)} lines")
        if any(n in err for n in NOISE):
            wrong.append("noise")
        if rss > PEAK_RSS:
            wrong.append(f"memory {rss >> 20} MB")
        if wrong:
            failed.append(f"{f.name}: {'; '.join(wrong)} | {err.strip()[-400:]}")
    assert digest([f.path for f in files]) == before
    assert not failed, "\n".join(failed)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_headless_app_on_bad_files(corpus, tmp_path):
    by_name = {f.name: f for f in corpus}
    _check([by_name[n] for n in FAST], tmp_path)


@pytest.mark.slow
def test_headless_app_on_every_bad_file(corpus, tmp_path):
    _check([f for f in corpus if f.good == 0], tmp_path)
