"""Google Quick, Draw! formats: ndjson (simplified and raw), binary ``.bin``, ``numpy_bitmap``.

Every reader streams: it is a generator that reads one line (or record) at a time, and
``.npy`` files are memory-mapped, so a 50 GB file never needs 50 GB of memory.

Bad records never abort a file. A reader yields the good sketches and hands each bad one to
``on_error(SketchError)``; the error's message names the file and the line (``.bin``: the
record number, from 1). With ``on_error=None`` (the default) each bad record becomes a
``MalformedSketchWarning`` through ``warnings.warn``; pass ``on_error=errors.append`` to
collect them, or a function that raises to stop at the first one.

Coordinates come back as the file holds them (simplified: integers 0..255). Raw lines get
Google's own preprocessing (``preprocess_raw``) so that both kinds land in the same frame.
"""

from __future__ import annotations

import gzip
import json
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from visketch_core.errors import SketchError
from visketch_core.geometry.simplify import rdp_mask, resample
from visketch_core.sketch import limits
from visketch_core.sketch.model import Sketch

OnError = Callable[[SketchError], None]

RAW_EPSILON = 2.0  # Google's RDP epsilon for the simplified dataset
RAW_SPACING = 1.0  # Google resamples raw strokes at 1 px before simplifying
BITMAP_SIDE = 28  # numpy_bitmap images are 28 x 28
BITMAP_WIDTH = 16.0  # line width at 256 px: about 1.75 px at 28, like Google's bitmaps


class MalformedSketchWarning(UserWarning):
    """A record of a sketch file could not be read (the rest of the file still is)."""


def warn_on_error(err: SketchError) -> None:
    """Default ``on_error``: turn a bad record into a ``MalformedSketchWarning``."""
    warnings.warn(str(err), MalformedSketchWarning, stacklevel=3)


def label_from_path(path: str | Path) -> str:
    """The class a per-class file holds, from its name: ``full_numpy_bitmap_cat.npy`` -> cat."""
    name = Path(path).name
    for suffix in (".gz", ".ndjson", ".bin", ".npy", ".npz"):
        name = name.removesuffix(suffix)
    for prefix in ("full_numpy_bitmap_", "full_binary_", "full_simplified_", "full_raw_"):
        name = name.removeprefix(prefix)
    return name


def _open(path: Path, mode: str = "rb") -> IO:
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


# -- raw preprocessing -------------------------------------------------------------------
def preprocess_raw(
    strokes: list[np.ndarray], times: list[np.ndarray] | None = None
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Google's simplification of a raw drawing.

    1. align to the top-left corner (minimum 0); 2. scale uniformly so the larger extent is
    255; 3. resample every stroke at 1 px spacing; 4. Ramer-Douglas-Peucker with epsilon 2.0;
    coordinates are then rounded to integers, as in the simplified files.
    ``strokes``: float (N_i, 2) each; ``times``: (N_i,) ms each or None; timing of the kept
    points is interpolated along the stroke. Returns (float32 (M_i, 2) list, float64 list).
    """
    pts = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    nonempty = [p for p in pts if len(p)]
    if not nonempty:
        return [], None if times is None else []
    allp = np.concatenate(nonempty)
    lo = allp.min(axis=0)
    extent = float((allp.max(axis=0) - lo).max())
    scale = 255.0 / extent if extent > 0 else 1.0
    # resampling at 1 px makes one point per pixel of ink: bound it before allocating
    ink = sum(float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in nonempty) * scale
    if ink > limits.MAX_POINTS:
        raise limits.LimitError(f"the raw drawing is {ink:.0f} px long once scaled; at most "
                                f"{limits.MAX_POINTS} px are simplified")
    out_s: list[np.ndarray] = []
    out_t: list[np.ndarray] = []
    for i, p in enumerate(pts):
        if not len(p):
            continue
        t = None if times is None else times[i]
        rp, rt = resample((p - lo) * scale, RAW_SPACING, t)
        keep = rdp_mask(rp, RAW_EPSILON)
        out_s.append(np.round(rp[keep]).astype(np.float32))
        if rt is not None:
            out_t.append(rt[keep])
    return out_s, (out_t if times is not None else None)


# -- ndjson ------------------------------------------------------------------------------
def parse_ndjson_line(
    line: str | bytes, *, path: str | Path | None = None, line_no: int | None = None,
    preprocess: bool = True,
) -> Sketch:
    """One ndjson line -> Sketch; simplified (``[[xs], [ys]]`` per stroke) or raw
    (``[[xs], [ys], [t_ms]]``) is decided per line. Raw lines are run through
    ``preprocess_raw`` unless ``preprocess`` is False. Raises SketchError naming the line."""

    def bad(msg: str) -> SketchError:
        return SketchError(msg, path=path, line=line_no)

    try:
        obj = json.loads(line)
    except RecursionError:
        raise bad("JSON nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit integer
        raise bad(f"not valid JSON ({e.__class__.__name__})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("drawing"), list):
        raise bad('expected a JSON object with a "drawing" list')
    drawing = obj["drawing"]
    strokes: list[np.ndarray] = []
    times: list[np.ndarray] = []
    raw = any(isinstance(s, list) and len(s) == 3 for s in drawing)
    points = 0
    try:
        limits.check_counts(len(drawing), 0)
        for k, stroke in enumerate(drawing):
            if not isinstance(stroke, list) or len(stroke) not in (2, 3) or (
                    raw and len(stroke) != 3):
                raise bad(f"stroke {k} must be [[x...], [y...]] or [[x...], [y...], [t...]]")
            if not all(isinstance(row, list) for row in stroke):
                raise bad(f"stroke {k} must be lists of numbers")
            arr = limits.numbers(stroke, f"stroke {k}")
            if arr.ndim != 2:
                raise bad(f"stroke {k} has rows of different lengths")
            points += arr.shape[1]
            limits.check_counts(len(drawing), points)
            strokes.append(arr[:2].T)
            if raw:
                times.append(arr[2])
        if raw and preprocess:
            strokes, times_out = preprocess_raw(strokes, times)
        else:
            times_out = times if raw else None
    except ValueError as e:  # limits.numbers and LimitError
        raise bad(str(e)) from None
    key = obj.get("key_id")
    word = obj.get("word")
    try:
        sketch = Sketch(strokes=strokes, times=times_out, label=None if word is None else str(word),
                        key_id=None if key is None else str(key),
                        source=None if path is None else str(path), line=line_no)
        sketch.validate()
    except ValueError as e:
        raise bad(str(e)) from None
    return sketch


def iter_ndjson(
    path: str | Path, *, on_error: OnError | None = None, preprocess: bool = True
) -> Iterator[Sketch]:
    """Stream the sketches of a QuickDraw ndjson file (``.ndjson`` or ``.ndjson.gz``).

    Blank lines are skipped; bad lines go to ``on_error`` (see the module docstring)."""
    path = Path(path)
    report = on_error or warn_on_error
    if path.suffix == ".gz":
        _check_gzip(path)
    line_no = 0
    with _open(path) as fh:
        try:
            for line_no, line in limits.iter_lines(fh):
                if line is None:
                    report(SketchError(f"line is over {limits.MAX_TEXT_BYTES >> 20} MB; "
                                       "longer lines are not read", path=path, line=line_no))
                    continue
                if not line.strip():
                    continue
                try:
                    yield parse_ndjson_line(line, path=path, line_no=line_no,
                                            preprocess=preprocess)
                except SketchError as err:
                    report(err)
        except (EOFError, zlib.error, OSError) as e:
            # a truncated or corrupt .gz: what came before this line was read
            raise SketchError(f"compressed data is {_gzip_problem(e)} (lines after "
                              f"{line_no} are lost)", path=path, line=line_no + 1) from None


def _gzip_problem(e: BaseException) -> str:
    if isinstance(e, EOFError):
        return "truncated"
    if isinstance(e, gzip.BadGzipFile) and "CRC" in str(e):
        return "corrupt (CRC check failed)"
    if isinstance(e, gzip.BadGzipFile) and "Not a gzipped" in str(e):
        return "not gzip data"
    return "corrupt"


def _check_gzip(path: Path) -> None:
    """Refuse a .gz that is not gzip, or whose checksum fails, before any of it is used:
    its records cannot be trusted. (A truncated file is read up to where it ends.)"""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except EOFError:
        return
    except (zlib.error, OSError) as e:
        problem = _gzip_problem(e)
        if problem in ("not gzip data", "corrupt (CRC check failed)"):
            raise SketchError(f"{problem}: the file is damaged, nothing in it is read",
                              path=path) from None


def _fit_0_255(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Integer coordinates in 0..255: kept when they already fit, else aligned and scaled."""
    if not strokes:
        return []
    allp = np.concatenate(strokes)
    if allp.size == 0 or (allp.min() >= 0 and allp.max() <= 255):
        return [np.round(s).astype(np.int64) for s in strokes]
    lo = allp.min(axis=0)
    extent = float((allp.max(axis=0) - lo).max())
    scale = 255.0 / extent if extent > 0 else 1.0
    return [np.round((s - lo) * scale).astype(np.int64) for s in strokes]


def sketch_to_ndjson(sketch: Sketch, *, word: str | None = None) -> str:
    """One simplified-form ndjson line (no newline): ``word``, ``key_id``, ``drawing``.

    Coordinates are rounded to integers; a sketch outside 0..255 is first aligned to the
    top-left and scaled to fit, as Google does. Timing is not part of the simplified form."""
    drawing = [[s[:, 0].tolist(), s[:, 1].tolist()] for s in _fit_0_255(sketch.strokes)]
    obj: dict = {"word": word if word is not None else (sketch.label or "")}
    if sketch.key_id is not None:
        obj["key_id"] = sketch.key_id
    obj["drawing"] = drawing
    return json.dumps(obj, separators=(",", ":"))


def write_ndjson(sketches: Iterable[Sketch], path: str | Path, *, word: str | None = None) -> int:
    """Write sketches as simplified ndjson, one per line; returns how many were written."""
    n = 0
    with _open(Path(path), "wt") as fh:
        for sketch in sketches:
            fh.write(sketch_to_ndjson(sketch, word=word) + "\n")
            n += 1
    return n


# -- binary .bin -------------------------------------------------------------------------
_HEAD = struct.Struct("<Q2sBIH")  # key_id, countrycode, recognized, timestamp, n_strokes


def iter_bin(
    path: str | Path, *, on_error: OnError | None = None, label: str | None = None
) -> Iterator[Sketch]:
    """Stream the drawings of a QuickDraw binary file (little-endian records).

    Record: key_id u64, countrycode 2 bytes, recognized u8, timestamp u32, n_strokes u16,
    then per stroke n_points u16, x u8[n], y u8[n]. The label is the file's class name
    (``cat.bin`` -> cat) unless given. A truncated record ends the file with one error."""
    path = Path(path)
    report = on_error or warn_on_error
    label = label if label is not None else label_from_path(path)
    with _open(path) as fh:
        record = 0
        while True:
            head = fh.read(_HEAD.size)
            if not head:
                return
            record += 1
            try:
                if len(head) < _HEAD.size:
                    raise EOFError
                key_id, _country, _rec, _ts, n_strokes = _HEAD.unpack(head)
                strokes = []
                for _ in range(n_strokes):
                    nb = fh.read(2)
                    if len(nb) < 2:
                        raise EOFError
                    (n,) = struct.unpack("<H", nb)
                    xy = fh.read(2 * n)
                    if len(xy) < 2 * n:
                        raise EOFError
                    strokes.append(np.frombuffer(xy, dtype=np.uint8).reshape(2, n).T)
            except EOFError:
                report(SketchError(f"record {record} is truncated", path=path, line=record))
                return
            except (zlib.error, OSError) as e:
                raise SketchError(f"record {record}: compressed data is {_gzip_problem(e)}",
                                  path=path, line=record) from None
            # (u16 counts bound a record to 65535 strokes of 65535 points: 8 GB at most in
            # theory, but only as many bytes as the file really holds are ever read)
            try:
                limits.check_counts(len(strokes), sum(len(s) for s in strokes))
            except limits.LimitError as e:
                report(SketchError(str(e), path=path, line=record))
                continue
            yield Sketch(strokes=strokes, label=label, key_id=str(key_id), source=str(path),
                         line=record)


def write_bin(sketches: Iterable[Sketch], path: str | Path) -> int:
    """Write sketches in the binary format (coordinates fitted to 0..255, see
    ``sketch_to_ndjson``); key_id must be numeric or absent (then the index is used)."""
    n = 0
    with _open(Path(path), "wb") as fh:
        for i, sketch in enumerate(sketches):
            strokes = _fit_0_255(sketch.strokes)
            key = int(sketch.key_id) if sketch.key_id and sketch.key_id.isdigit() else i
            fh.write(_HEAD.pack(key, b"ZZ", 1, 0, len(strokes)))
            for s in strokes:
                fh.write(struct.pack("<H", len(s)))
                fh.write(s[:, 0].astype(np.uint8).tobytes() + s[:, 1].astype(np.uint8).tobytes())
            n += 1
    return n


# -- numpy_bitmap .npy -------------------------------------------------------------------
def iter_numpy_bitmap(
    path: str | Path, *, on_error: OnError | None = None, label: str | None = None
) -> Iterator[Sketch]:
    """Stream a ``numpy_bitmap`` file: uint8 (N, 784), each row a 28x28 image, 255 = ink.

    Memory-mapped (``mmap_mode='r'``). Yields raster sketches: ``raster`` float32 (28, 28)
    in [0, 1], no strokes; ``normalise`` brings them to the 256 frame. A file of another
    shape or dtype is one SketchError (raised: nothing in it could be read)."""
    path = Path(path)
    label = label if label is not None else label_from_path(path)
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, OverflowError, MemoryError) as e:
        raise SketchError(f"not a readable .npy file ({e})".replace("\n", " "), path=path) from None
    if not isinstance(data, np.ndarray):  # np.load opens zip archives (.npz) as well
        getattr(data, "close", lambda: None)()
        raise SketchError("not a .npy file (a zip archive: .npz?)", path=path)
    side = BITMAP_SIDE * BITMAP_SIDE
    if data.ndim == 3 and data.shape[1:] == (BITMAP_SIDE, BITMAP_SIDE):
        data = data.reshape(len(data), side)
    if data.ndim != 2 or data.shape[1] != side or data.dtype != np.uint8:
        raise SketchError(
            f"expected uint8 (N, {side}) numpy_bitmap, got {data.dtype} {data.shape}", path=path
        )
    for i in range(len(data)):
        img = np.asarray(data[i], dtype=np.float32).reshape(BITMAP_SIDE, BITMAP_SIDE) / 255.0
        yield Sketch(raster=img, label=label, key_id=str(i), source=str(path), line=i + 1)


def write_numpy_bitmap(sketches: Iterable[Sketch], path: str | Path) -> int:
    """Write sketches as a numpy_bitmap ``.npy`` (uint8 (N, 784)). Rasters are area-resized
    to 28x28; stroke sketches are normalised and rendered (``BITMAP_WIDTH``) first."""
    import cv2

    from visketch_core.geometry.raster import render
    from visketch_core.sketch.model import normalise

    rows = []
    for sketch in sketches:
        img = sketch.raster if sketch.raster is not None and not sketch.strokes else None
        if img is None:
            img = render(normalise(sketch), width=BITMAP_WIDTH)
        small = cv2.resize(np.asarray(img, np.float32), (BITMAP_SIDE, BITMAP_SIDE),
                           interpolation=cv2.INTER_AREA)
        rows.append(np.clip(np.round(small * 255), 0, 255).astype(np.uint8).reshape(-1))
    arr = np.stack(rows) if rows else np.zeros((0, BITMAP_SIDE * BITMAP_SIDE), np.uint8)
    np.save(Path(path), arr)
    return len(rows)
