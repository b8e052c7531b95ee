"""`visketch train classifier` under torchrun: 2 CPU processes (gloo) stay identical."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

from visketch_core.sketch.quickdraw import iter_ndjson, write_ndjson


def test_two_process_training_keeps_replicas_identical(tmp_path, quickdraw_dir):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("cat", "eye", "map"):
        sks = []
        for sk in iter_ndjson(quickdraw_dir / f"{name}.ndjson"):
            sks.append(sk)
            if len(sks) >= 40:
                break
        write_ndjson(sks, data / f"{name}.ndjson", word=name)
    out = tmp_path / "run"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", port, "-m", "visketch_core", "train", "classifier",
           "--data", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "4",
           "--max-steps", "3", "--workers", "0", "--dim", "32", "--layers", "1",
           "--heads", "2", "--warmup", "1", "--threads", "1"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    spreads = re.findall(r"rank (\d)/2: replica spread ([-+0-9.eE]+)", r.stderr)
    assert sorted(s[0] for s in spreads) == ["0", "1"], r.stderr[-3000:]
    assert all(float(s[1]) == 0.0 for s in spreads)
    results = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 1 and results[0]["balanced_top1"] >= 0  # the main rank's result
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"][-1]["step"] == 3
