"""Command lines over the malformed corpus, and what each must (and must not) print.

``cli_cases`` pairs every bad file with every command that reads input; ``argument_cases``
adds the bad arguments. ``problems(case, result)`` lists what went wrong with one run
(empty: it behaved). Run as a script to get the counts for a whole corpus:
``python tests/fuzz/fuzz_cases.py [--big] [--only classify,export]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from fuzz_corpus import BadFile, build_corpus, write_good_inputs

PEAK_RSS = int(1.5 * (1 << 30))
NOISE = ("Traceback", "Warning:", "[ WARN", "warnings.warn", "Exception ignored",
         "Task was destroyed", "Signal source has been deleted", "Fatal Python error",
         "libpng", "internal error", "unexpected error")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def digest(paths: list[Path]) -> dict[str, str]:
    """Content hashes of the regular files among ``paths`` (inputs must come out unchanged)."""
    out = {}
    for p in paths:
        if p.is_file() and not p.is_symlink():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _case(argv: list[str], names: list[str], *, rc: tuple[int, ...], cmd: str, fmt: str,
          lines: int | None = None, counts: dict[str, int | None] | None = None,
          absent: list[str] | None = None, cwd: str | None = None,
          named: list[str] | None = None) -> dict:
    """One command line: allowed exit codes, the inputs an error line may name, the number
    of stderr lines (None: any, at least one when rc != 0), the records stdout must hold
    per input, outputs that must not exist afterwards, and inputs that must each be named
    by some error line."""
    return {"argv": argv, "names": names, "rc": list(rc), "cmd": cmd, "fmt": fmt,
            "lines": lines, "counts": counts or {}, "absent": absent or [], "cwd": cwd,
            "named": named or []}


def cli_cases(bad: list[BadFile], good: tuple[Path, Path], out: Path, models: Path | None,
              commands: tuple[str, ...] = ("classify", "export", "quadtree", "complete"),
              full: bool = False) -> list[dict]:
    """The command lines over the corpus. ``full``: every command on every file, each run
    alone; otherwise classify takes each format's files in one run (between two good
    files, so good records after bad ones are checked too), export to PNG takes every
    file, and the other commands a fixed sample of them (every third)."""
    a, b = (str(p) for p in good)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    if "classify" in commands and not full:
        for fmt in sorted({f.fmt for f in bad}):
            group = [f for f in bad if f.fmt == fmt]
            paths = [str(f.path) for f in group]
            cases.append(_case(["classify", a, *paths, b, "--jsonl", "--device", "cpu"], paths,
                               rc=(1,), cmd="classify", fmt=fmt, named=paths,
                               counts={a: 3, b: 2, **{str(f.path): f.good for f in group}}))
    for i, f in enumerate(bad):
        p = str(f.path)
        one = 1 if f.good == 0 else None  # one sketch asked for and none there: one line
        sampled = full or i % 3 == 0
        if "classify" in commands and full:
            cases.append(_case(["classify", a, p, b, "--jsonl", "--device", "cpu"], [p],
                               rc=(1,) if f.good == 0 else (0, 1), cmd="classify",
                               fmt=f.fmt, counts={a: 3, b: 2, p: f.good}))
        for cmd, suffix in (("export", ".png"), ("export", ".svg"), ("quadtree", ".png")):
            if cmd not in commands or (suffix == ".svg" or cmd == "quadtree") and not sampled:
                continue
            target = str(out / f"{i}-{cmd}{suffix}")
            cases.append(_case([cmd, p, "--out", target], [p],
                               rc=(2,) if f.good == 0 else (0, 2), cmd=cmd, fmt=f.fmt,
                               lines=one, absent=[target] if f.good == 0 else []))
        if "complete" in commands and models is not None and f.good == 0 and sampled:
            target = str(out / f"{i}-complete")
            cases.append(_case(["complete", p, "--out", target, "--models", str(models),
                                "--class", "cat", "--device", "cpu"], [p], rc=(1, 2),
                               cmd="complete", fmt=f.fmt, counts={p: 0}))
    return cases


def argument_cases(good: tuple[Path, Path], out: Path, models: Path | None,
                   evil_model: Path) -> list[dict]:
    a = str(good[0])
    out.mkdir(parents=True, exist_ok=True)
    link = out / "link-to-good.ndjson"
    if not link.is_symlink():
        link.symlink_to(good[0])
    cases = []
    for flags, name in ((["--top", "0"], "--top"), (["--top", "-3"], "--top"),
                        (["--top", "x"], "--top"), (["--device", "bogus"], "--device"),
                        (["--device", "cuda:99"], "--device"), (["--threads", "-1"], "--threads"),
                        (["--threads", "0"], "--threads"),
                        (["--model", str(out / "none.pt")], "none.pt"),
                        (["--model", a], a), (["--model", str(evil_model)], str(evil_model))):
        cases.append(_case(["classify", a, *flags], [name], rc=(2,), cmd="classify-args",
                           fmt="args", lines=1))
    for target in (a, f"{Path(a).parent}/./{Path(a).name}", str(link)):
        cases.append(_case(["export", a, "--out", target], [Path(a).name, target], rc=(2,),
                           cmd="export-args", fmt="args", lines=1))
    for flags, name in ((["--index", "-1"], "-1"), (["--index", "9" * 30], a),
                        (["--out", str(out / "x.xyz")], "x.xyz"),
                        (["--out", str(out / "no" / "dir" / "x.png")], "x.png")):
        argv = ["export", a, *flags] if "--out" in flags else \
            ["export", a, "--out", str(out / "i.png"), *flags]
        cases.append(_case(argv, [name], rc=(2,), cmd="export-args", fmt="args", lines=1))
    for flags, name in ((["--out", str(out / "q.txt")], "q.txt"), (["--out", a], a),
                        (["--out", str(out / "q.png"), "--index", "7"], a)):
        cases.append(_case(["quadtree", a, *flags], [name], rc=(2,), cmd="quadtree-args",
                           fmt="args", lines=1))
    if models is not None:
        m = str(models)
        for argv, name in ((["complete", a, "--out", str(out / "c"), "--models", m, "-n", "0"],
                            "-n"),
                           (["complete", a, "--out", a, "--models", m, "--class", "cat"], a),
                           (["complete", a, "--out", str(out / "c2"), "--models", m,
                             "--device", "bogus"], "--device"),
                           (["generate", "cat", "--out", str(out / "g"), "--models", m,
                             "-n", "-2"], "-n"),
                           (["generate", "nosuchclass", "--out", str(out / "g"), "--models", m],
                            "nosuchclass"),
                           (["generate", "cat", "--out", str(out / "g"), "--models",
                             str(out / "nomodels")], "nomodels")):
            cases.append(_case(argv, [name], rc=(1, 2), cmd=argv[0] + "-args", fmt="args",
                               lines=1))
    return cases


def _records(stdout: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "input" in rec:
            counts[rec["input"]] = counts.get(rec["input"], 0) + 1
    return counts


def problems(case: dict, res: dict) -> list[str]:
    """What this run did wrong, each as a short tag (empty: it behaved)."""
    err = [ln for ln in res["stderr"].splitlines() if ln.strip()]
    out: list[str] = []
    if any(n in res["stderr"] for n in NOISE):
        out.append("traceback" if "Traceback" in res["stderr"] else "noise")
    if res["rc"] < 0 or res["rc"] not in case["rc"]:
        out.append(f"exit {res['rc']}")
    if res["maxrss"] > PEAK_RSS:
        out.append(f"memory {res['maxrss'] >> 20} MB")
    if res["rc"] != 0 and not err:
        out.append("silent failure")
    if res["rc"] == 0 and err:
        out.append("errors but exit 0")
    if case["lines"] is not None and len(err) != case["lines"] and "traceback" not in out:
        out.append(f"{len(err)} stderr lines")
    if err and not all(any(n in ln for n in case["names"]) for ln in err):
        out.append("line does not name the input")
    silent = [n for n, want in case["counts"].items() if n in case["named"] and want == 0
              and not any(n in ln for ln in err)]
    if silent:
        out.append(f"no line for {len(silent)} bad inputs")
    got = _records(res["stdout"])
    for path, want in case["counts"].items():
        if want is not None and got.get(path, 0) != want:
            out.append(f"records {Path(path).name}: {got.get(path, 0)}/{want}")
    if any(Path(p).exists() for p in case["absent"]):
        out.append("wrote output for bad input")
    return out


def run_cases(cases: list[dict], work: Path, python: str = sys.executable,
              env: dict[str, str] | None = None) -> list[dict]:
    """Run ``cases`` through fuzz_runner.py in one subprocess; the results, in order."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "cases.json").write_text(json.dumps(cases))
    subprocess.run([python, str(HERE / "fuzz_runner.py"), str(work / "cases.json"),
                    str(work / "results.json")], check=True, cwd=str(ROOT),
                   env={**os.environ, **(env or {})})
    return json.loads((work / "results.json").read_text())


def evil_checkpoint(path: Path) -> Path:
    """A .pt whose pickle would call a function when loaded unsafely."""
    import torch

    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    torch.save({"kind": "classifier", "payload": Payload()}, path)
    return path


def _summary(cases: list[dict], results: list[dict]) -> None:
    from collections import Counter

    bad = [(c, r, problems(c, r)) for c, r in zip(cases, results)]
    failed = [x for x in bad if x[2]]
    tags = Counter(t.split(" ")[0] for _c, _r, p in failed for t in p)
    fmts = sorted({c["fmt"] for c in cases})
    cmds = sorted({c["cmd"] for c in cases})
    print(f"runs {len(cases)}, commands {len(cmds)} ({' '.join(cmds)}), formats {len(fmts)}")
    print(f"failed runs {len(failed)}; by problem: {dict(tags)}")
    print(f"peak RSS max {max(r['maxrss'] for r in results) >> 20} MB")
    for cmd in cmds:
        times = [r["s"] for c, r in zip(cases, results) if c["cmd"] == cmd]
        print(f"  time {cmd}: {len(times)} runs, {sum(times):.1f} s, max {max(times):.1f} s")
    slow = sorted(zip(results, cases), key=lambda x: -x[0]["s"])[:8]
    print("  slowest: " + ", ".join(f"{c['cmd']} {Path(c['names'][0]).name} {r['s']:.1f} s"
                                     for r, c in slow))
    for c, r, p in failed:
        print(f"  {c['cmd']:14s} {Path(c['argv'][1]).name[:40]:40s} {'; '.join(p)} "
              f"| {r['stderr'].strip().splitlines()[-1][:110] if r['stderr'].strip() else ''}")


if __name__ == "__main__":
    import argparse
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--full", action="store_true", help="every command on every file alone")
    ap.add_argument("--only", default="classify,export,quadtree,complete,args")
    ap.add_argument("--models", default=None, help="generation models for complete/generate")
    ns = ap.parse_args()
    only = tuple(ns.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        corpus = build_corpus(t / "corpus", big=ns.big)
        good = write_good_inputs(t / "good")
        models = Path(ns.models) if ns.models else None
        all_cases = cli_cases(corpus, good, t / "out", models, only, full=ns.full)
        if "args" in only:
            all_cases += argument_cases(good, t / "out", models, evil_checkpoint(t / "evil.pt"))
        before = digest([f.path for f in corpus] + list(good))
        res = run_cases(all_cases, t / "work")
        _summary(all_cases, res)
        changed = [p for p, h in digest([Path(p) for p in before]).items() if before[p] != h]
        print(f"inputs changed: {len(changed)} {changed}")
