"""Runs many ``visketch`` command lines fast, each in a process of its own.

Run as a script: ``python fuzz_runner.py CASES.json RESULTS.json``. It imports the CLI,
torch and OpenCV once, then forks one child per case: a fresh process that already holds
what every real ``visketch`` process holds, at a fraction of the start-up cost. In the
child, stdout and stderr are the real file descriptors 1 and 2 (redirected to files), so
native libraries' own output (OpenCV's ``[ WARN ]`` lines) is seen, and an exception that
escapes ``main`` is printed the way the interpreter would print it. Each child runs under
an address-space limit and an alarm; its peak resident memory comes from ``wait4``.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

HEADROOM = 3 << 30  # address space a child may add to what it was forked with
ALARM_S = 120


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(case: dict, out_dir: Path) -> None:
    os.chdir(case.get("cwd") or os.getcwd())
    for k, v in (case.get("env") or {}).items():
        os.environ[k] = v
    limit = _vm_size() + HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.alarm(int(case.get("alarm", ALARM_S)))
    for fd, name in ((1, "stdout"), (2, "stderr")):
        f = os.open(out_dir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)
    from visketch_core.cli import main

    rc = 1
    try:
        _selftest(os.environ.get("VISKETCH_FUZZ_SELFTEST", ""))
        rc = int(main(case["argv"]) or 0)
    except SystemExit as exc:  # argparse
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        rc = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(rc)


def _selftest(what: str) -> None:
    """Misbehave on purpose, so the tests can show that the runner sees misbehaviour."""
    if what == "raise":
        raise RuntimeError("a deliberate failure")
    if what == "native":
        os.write(2, b"a line written from native code, past sys.stderr\n")
    if what == "memory":
        blob = b"x" * (1600 << 20)  # filled, so every page is resident
        del blob


def run_case(case: dict, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            _child(case, out_dir)
        finally:
            os._exit(99)
    _pid, status, usage = os.wait4(pid, 0)
    if os.WIFEXITED(status):
        rc = os.WEXITSTATUS(status)
    else:
        rc = -os.WTERMSIG(status)
    return {"rc": rc, "maxrss": usage.ru_maxrss * 1024, "s": time.perf_counter() - t0,
            "stdout": (out_dir / "stdout").read_text(errors="replace"),
            "stderr": (out_dir / "stderr").read_text(errors="replace")}


def main(argv: list[str]) -> int:
    cases = json.loads(Path(argv[0]).read_text())
    work = Path(argv[1]).parent / "runs"
    # what every command imports anyway, so that children start warm
    import cv2  # noqa: F401
    import torch  # noqa: F401

    import visketch_core.cli  # noqa: F401
    import visketch_core.inference  # noqa: F401
    import visketch_core.sketch.io  # noqa: F401

    results = [run_case(c, work / str(i)) for i, c in enumerate(cases)]
    Path(argv[1]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
