"""What a reader accepts: sizes that keep any one input well inside a process's memory.

Every limit sits far above what a real sketch needs (QuickDraw's raw drawings have at most
about a thousand points, the app's own documents a few tens of thousands) and far below
what would take a process past 1.5 GB. A record over a limit is one SketchError, like any
other bad record; the rest of its file is still read.

``numbers`` turns parsed JSON into a float array and refuses what ``np.asarray`` would
accept silently: strings ("12"), booleans, None, integers too large for a float.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import numpy as np

MAX_POINTS = 1_000_000  # points in one sketch (1M points are 8 MB as float32)
MAX_STROKES = 100_000  # strokes in one sketch (empty strokes cost memory too)
MAX_TEXT_BYTES = 32 << 20  # one ndjson line, one .visketch/.json/.svg file
MAX_PIXELS = 40_000_000  # pixels of a PNG/JPG (a 40 MP photo of a drawing still reads)
WORK_SIDE = 2048  # larger images are area-resized to this side before any float copy
MAX_ARRAY_BYTES = 256 << 20  # one decompressed array of an .npz (all of a sketch-rnn split)
MAX_COORD = 1e6  # coordinates beyond this are corrupt (same bound as Sketch.validate)


class LimitError(ValueError):
    """An input is over one of the limits above (the message says which)."""


def numbers(value: object, what: str) -> np.ndarray:
    """A (possibly nested) list of JSON numbers -> float64 array, finite and within
    MAX_COORD. ValueError (one line, starting with ``what``) for anything else."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise ValueError(f"{what} has rows of different lengths or non-numbers") from None
    if arr.dtype.kind == "O":
        # Python ints beyond 64 bits land here (np.asarray keeps them as objects)
        if any(isinstance(v, int) and not isinstance(v, bool) for v in arr.reshape(-1)):
            raise ValueError(f"{what} has a number too large to be a coordinate")
        raise ValueError(f"{what} has rows of different lengths or non-numbers")
    if arr.dtype.kind not in "iuf":
        kind = {"U": "text", "S": "text", "b": "true/false"}.get(arr.dtype.kind, arr.dtype.kind)
        raise ValueError(f"{what} holds {kind} where numbers belong")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} has NaN or infinite values")
    if arr.size and float(np.abs(arr).max()) > MAX_COORD:
        raise ValueError(f"{what} has values beyond {MAX_COORD:g}")
    return arr


def check_counts(strokes: int, points: int) -> None:
    """LimitError when a sketch has more strokes or points than a reader takes."""
    if strokes > MAX_STROKES:
        raise LimitError(f"the sketch has {strokes} strokes; at most {MAX_STROKES} are read")
    if points > MAX_POINTS:
        raise LimitError(f"the sketch has {points} points; at most {MAX_POINTS} are read")


def read_text_limited(fh: IO[bytes], limit: int = MAX_TEXT_BYTES) -> bytes:
    """All of ``fh``, or LimitError when it holds more than ``limit`` bytes (read at most
    limit + 1 bytes, so a huge file never sits in memory)."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"the file is over {limit >> 20} MB; larger ones are not read")
    return data


def iter_lines(fh: IO[bytes], limit: int = MAX_TEXT_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number from 1, the line) for each line of ``fh``; a line longer than ``limit``
    is skipped to its end without being kept, and comes back as (number, None)."""
    line_no = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        line_no += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield line_no, line
            continue
        while line and not line.endswith(b"\n"):  # drop the rest, a chunk at a time
            line = fh.readline(1 << 20)
        yield line_no, None
