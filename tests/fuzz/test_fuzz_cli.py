"""Every command over the malformed corpus: exit code, no traceback or noise, one line
naming the input, good records still processed, inputs unchanged, peak memory bounded.

The fast run (default) takes about a minute of CPU; ``pytest -m slow tests/fuzz`` runs
every command on every file alone, on a corpus with the expensive cases made larger.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_cases import (
    NOISE,
    PEAK_RSS,
    argument_cases,
    cli_cases,
    digest,
    evil_checkpoint,
    problems,
    run_cases,
)
from fuzz_corpus import build_corpus, write_good_inputs

ROOT = Path(__file__).resolve().parents[2]
ENV = {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _run_corpus(tmp: Path, models: Path, *, big: bool) -> None:
    corpus = build_corpus(tmp / "corpus", big=big)
    good = write_good_inputs(tmp / "good")
    cases = cli_cases(corpus, good, tmp / "out", models, full=big)
    cases += argument_cases(good, tmp / "out", models, evil_checkpoint(tmp / "evil.pt"))
    inputs = [f.path for f in corpus] + list(good)
    before = digest(inputs)
    results = run_cases(cases, tmp / "work", env=ENV)
    assert digest(inputs) == before, "an input file was changed"
    assert not (tmp / "corpus" / "no-such-target.svg").exists()
    failed = [f"{c['cmd']} {' '.join(Path(a).name for a in c['argv'][1:4])}: "
              f"{'; '.join(p)} | {r['stderr'].strip()[-300:]}"
              for c, r in zip(cases, results) if (p := problems(c, r))]
    assert not failed, f"{len(failed)} of {len(cases)} runs misbehaved:\n" + "\n".join(failed)
    # the corpus reached every format and every command that reads input
    assert {c["fmt"] for c in cases} >= {".ndjson", ".ndjson.gz", ".visketch", ".json", ".svg",
                                        ".png", ".npz", ".npy", ".bin"}
    assert {c["cmd"] for c in cases} >= {"classify", "export", "quadtree", "complete",
                                        "generate-args"}


def test_every_command_over_the_corpus(tmp_path, tiny_gen_models):
    _run_corpus(tmp_path, tiny_gen_models, big=False)


@pytest.mark.slow
def test_every_command_alone_over_the_big_corpus(tmp_path, tiny_gen_models):
    _run_corpus(tmp_path, tiny_gen_models, big=True)


def test_the_runner_sees_what_a_real_process_prints(tmp_path):
    """The fork runner reports a traceback, a native stderr line and memory as a real
    ``python -m visketch_core`` would: a check that cannot fail checks nothing."""
    bad = tmp_path / "bad.ndjson"
    bad.write_text("{nope\n")
    cases = [{"argv": ["export", str(bad), "--out", str(tmp_path / "x.png")]},
             {"argv": ["info"], "env": {"VISKETCH_FUZZ_SELFTEST": "raise"}},
             {"argv": ["info"], "env": {"VISKETCH_FUZZ_SELFTEST": "native"}},
             {"argv": ["info"], "env": {"VISKETCH_FUZZ_SELFTEST": "memory"}}]
    res = run_cases(cases, tmp_path / "work", env=ENV)
    assert res[0]["rc"] == 2 and res[0]["stderr"].count("\n") == 1 and str(bad) in res[0]["stderr"]
    assert res[1]["rc"] == 1 and "Traceback" in res[1]["stderr"]
    assert "from native code" in res[2]["stderr"]
    assert res[3]["maxrss"] > PEAK_RSS
    real = subprocess.run([sys.executable, "-m", "visketch_core", "export", str(bad), "--out",
                           str(tmp_path / "y.png")], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **ENV})
    assert (real.returncode, real.stderr) == (res[0]["rc"], res[0]["stderr"])
    assert not any(n in real.stderr for n in NOISE)
