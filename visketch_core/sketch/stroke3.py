"""sketch-rnn stroke-3 ``.npz`` files: reader and writer.

A file holds up to three splits (``train``, ``valid``, ``test``), each an object array of
int16 (N, 3) arrays ``[dx, dy, pen_lifted]``: offsets from the previous point (the first
from the origin) and 1 on the last point of each stroke. Splits are pickled object arrays,
so a split is loaded whole (they are small: 70k sketches a class at most); the sketches are
then yielded one by one. The pickles are read by an unpickler that builds NumPy arrays and
nothing else, so a hostile file cannot run code (``np.load(allow_pickle=True)`` would).
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from visketch_core.errors import SketchError
from visketch_core.sketch import limits
from visketch_core.sketch.model import Sketch
from visketch_core.sketch.quickdraw import OnError, label_from_path, warn_on_error

SPLITS = ("train", "valid", "test")


def stroke3_to_strokes(data: np.ndarray) -> list[np.ndarray]:
    """int (N, 3) ``[dx, dy, pen_lifted]`` -> list of float32 (M_i, 2) absolute strokes."""
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"expected an (N, 3) array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"expected numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("NaN or infinite offsets")
    xy = np.cumsum(arr[:, :2].astype(np.float64), axis=0)
    if xy.size and not float(np.abs(xy).max()) <= limits.MAX_COORD:
        raise ValueError(f"offsets add up to coordinates beyond {limits.MAX_COORD:g}")
    ends = np.flatnonzero(arr[:, 2] > 0) + 1
    pieces = np.split(xy, ends)
    return [p.astype(np.float32) for p in pieces if len(p)]


def strokes_to_stroke3(strokes: list[np.ndarray]) -> np.ndarray:
    """List of float (M_i, 2) strokes -> int16 (N, 3) stroke-3 (points rounded to integers;
    offsets are differences of the rounded points, so no drift accumulates)."""
    parts = [np.round(np.asarray(s, dtype=np.float64).reshape(-1, 2)) for s in strokes]
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.zeros((0, 3), dtype=np.int16)
    pts = np.concatenate(parts)
    if np.abs(pts).max() > np.iinfo(np.int16).max:
        raise ValueError("coordinates do not fit in int16; normalise the sketch first")
    pen = np.zeros(len(pts), dtype=np.int64)
    pen[np.cumsum([len(p) for p in parts]) - 1] = 1
    d = np.diff(pts, axis=0, prepend=np.zeros((1, 2)))
    return np.column_stack([d, pen]).astype(np.int16)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else: a downloaded .npz must not run code."""

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_member(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    """One ``.npy`` member; object arrays go through ``_ArrayUnpickler`` (latin1, for
    Python 2 pickles as in the published sketch-rnn files)."""
    size = zf.getinfo(name).file_size  # what the member inflates to
    if size > limits.MAX_ARRAY_BYTES:
        raise limits.LimitError(f"{name} inflates to {size >> 20} MB; at most "
                                f"{limits.MAX_ARRAY_BYTES >> 20} MB are read")
    with zf.open(name) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        if not dtype.hasobject and int(np.prod(shape, dtype=object)) * dtype.itemsize > size:
            # a header may claim any shape: never allocate more than the member holds
            raise ValueError(f"{name}: the header's shape {shape} is larger than its data")
        if dtype.hasobject:
            return np.asarray(_ArrayUnpickler(fh, encoding="latin1").load())
    with zf.open(name) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _load(path: Path) -> dict[str, np.ndarray]:
    """All splits of a stroke-3 npz; any unreadable file -> one-line SketchError."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {
                name.removesuffix(".npy"): _read_member(zf, name)
                for name in zf.namelist() if name.endswith(".npy")
            }
    except limits.LimitError as e:
        raise SketchError(str(e), path=path) from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise SketchError(
            f"not a readable stroke-3 .npz file ({e.__class__.__name__}: {e})".replace("\n", " "),
            path=path,
        ) from None
    except Exception as e:  # a corrupt pickle can raise almost anything
        raise SketchError(f"corrupt stroke-3 .npz file ({e.__class__.__name__}: {e})", path=path) from None


def iter_stroke3(
    path: str | Path,
    *,
    split: str | None = None,
    on_error: OnError | None = None,
    label: str | None = None,
) -> Iterator[Sketch]:
    """Stream the sketches of a stroke-3 npz: one ``split`` (train/valid/test) or, by
    default, all present splits in that order. ``key_id`` is ``"<split>/<index>"``; the
    label is the file's class name (``cat.npz`` -> cat) unless given.

    A truncated or corrupt archive, or a missing split, raises SketchError (one line); a
    single bad sketch goes to ``on_error`` (its "line" is its index in the split, from 1)."""
    path = Path(path)
    report = on_error or warn_on_error
    label = label if label is not None else label_from_path(path)
    data = _load(path)
    if split is not None:
        if split not in data:
            raise SketchError(f"no split {split!r} (has: {', '.join(sorted(data))})", path=path)
        names = [split]
    else:
        names = [s for s in SPLITS if s in data] + sorted(k for k in data if k not in SPLITS)
    if not names:
        raise SketchError("npz file holds no arrays", path=path)
    for name in names:
        arr = data[name]
        if arr.ndim != 1:
            raise SketchError(f"split {name!r} is not a list of sketches", path=path)
        for i, item in enumerate(arr):
            try:
                strokes = stroke3_to_strokes(item)
                limits.check_counts(len(strokes), sum(len(s) for s in strokes))
                sketch = Sketch(strokes=strokes, label=label, key_id=f"{name}/{i}",
                                source=str(path), line=i + 1)
                sketch.validate()  # offsets that add up to 1e7 are as corrupt as NaN
            except (ValueError, TypeError) as e:
                report(SketchError(f"{name} sketch {i}: {e}", path=path, line=i + 1))
                continue
            yield sketch


def write_stroke3(
    splits: Mapping[str, Iterable[Sketch]] | Iterable[Sketch],
    path: str | Path,
) -> dict[str, int]:
    """Write a stroke-3 npz. ``splits`` maps split names to sketches; a plain iterable of
    sketches is written as ``train``. Returns the number of sketches per split."""
    if not isinstance(splits, Mapping):
        splits = {"train": splits}
    out: dict[str, np.ndarray] = {}
    for name, sketches in splits.items():
        items = [strokes_to_stroke3(s.strokes) for s in sketches]
        arr = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):  # element-wise: equal shapes must not broadcast
            arr[i] = item
        out[name] = arr
    with open(Path(path), "wb") as fh:  # a file handle: np.savez must not append ".npz"
        np.savez_compressed(fh, **out)
    return {k: len(v) for k, v in out.items()}
