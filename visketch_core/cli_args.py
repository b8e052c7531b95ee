"""Argument checks shared by every ``visketch`` command.

Bad arguments are refused by the parser, as one line (``visketch classify: error: argument
--top: must be at least 1, got 0``), before any model is loaded or any file is touched;
and no command may write over one of its own inputs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from visketch_core.errors import SketchError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """An int >= 1 (``--top``, ``-n``, ``--threads``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def index_int(text: str) -> int:
    """An int >= 0 (``--index``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def device_arg(text: str) -> str:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and only one this machine has."""
    name = text.strip().lower()
    if name in ("auto", "cpu"):
        return name
    kind, _, num = name.partition(":")
    if kind not in ("cuda", "mps") or (num and not (kind == "cuda" and num.isdigit())):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use auto, cpu, cuda, "
                                         "cuda:N or mps")
    import torch

    if kind == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text!r}: CUDA is not available on this machine")
        if num and int(num) >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    mps = getattr(torch.backends, "mps", None)
    if kind == "mps" and not (mps is not None and mps.is_available()):
        raise argparse.ArgumentTypeError(f"{text!r}: MPS is not available on this machine")
    return name


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def refuse_overwrite(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """SketchError (naming the output) when writing ``out`` would replace one of the inputs:
    ``export a.ndjson --out a.ndjson`` must not turn five sketches into one."""
    for src in inputs:
        if _same_file(Path(out), Path(src)):
            raise SketchError("is also an input: refusing to write over it (choose another "
                              "--out)", path=out)
