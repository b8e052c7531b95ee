"""File formats: readers on the real QuickDraw files, round-trips, and bad input."""

from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from visketch_core.errors import SketchError
from visketch_core.geometry.simplify import rdp, resample
from visketch_core.sketch import quickdraw, stroke3, svg
from visketch_core.sketch.document import read_document, write_document
from visketch_core.sketch.image import read_image
from visketch_core.sketch.io import read_sketch, read_sketches, write_sketch, write_sketches
from visketch_core.sketch.model import Sketch

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/quickdraw"


def data_file(rel: str) -> Path:
    path = DATA / rel
    if not path.exists():
        pytest.skip(f"QuickDraw data not found: {path}")
    return path


def make_sketch(label: str = "cat", key_id: str | None = "123") -> Sketch:
    return Sketch(
        strokes=[np.array([[10, 20], [100, 20], [100, 120]]), np.array([[50, 200], [200, 60]]),
                 np.array([[30, 30]])],
        label=label, key_id=key_id,
    )


def same_strokes(a: Sketch, b: Sketch, atol: float = 0.0) -> bool:
    return len(a.strokes) == len(b.strokes) and all(
        x.shape == y.shape and np.allclose(x, y, atol=atol) for x, y in zip(a.strokes, b.strokes, strict=True))


def chamfer(a: Sketch, b: Sketch) -> float:
    """Mean symmetric nearest-point distance between the densely resampled sketches."""
    pa = np.concatenate([resample(s, 1.0)[0] for s in a.strokes])
    pb = np.concatenate([resample(s, 1.0)[0] for s in b.strokes])
    d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1))
    return float((d.min(1).mean() + d.min(0).mean()) / 2)


# -- simplify ------------------------------------------------------------------------------
def test_rdp_keeps_corners_and_drops_collinear_points():
    pts = np.array([[0, 0], [1, 0.1], [2, -0.1], [3, 0], [3, 1], [3, 2], [3, 3]], float)
    assert rdp(pts, 0.5).tolist() == [[0, 0], [3, 0], [3, 3]]
    assert len(rdp(pts, 0.05)) > 3


def test_resample_spacing_and_times():
    pts, t = resample(np.array([[0, 0], [10, 0]]), 1.0, np.array([0.0, 100.0]))
    assert len(pts) == 11 and np.allclose(np.diff(pts[:, 0]), 1.0)
    assert np.allclose(t, np.arange(11) * 10.0)


# -- real files ----------------------------------------------------------------------------
def test_simplified_ndjson_real_file():
    path = data_file("simplified-15/cat.ndjson")
    errors: list[SketchError] = []
    sketches = list(read_sketches(path, on_error=errors.append))
    assert len(sketches) == 1584 and not errors
    s = sketches[0]
    assert s.label == "cat" and s.key_id == "5201136883597312" and s.source == str(path)
    assert s.times is None and len(s.strokes) == 9
    pts = np.concatenate([p for sk in sketches[:200] for p in sk.strokes])
    assert pts.min() >= 0 and pts.max() <= 255


def test_raw_ndjson_matches_google_simplification():
    raw_path = data_file("raw-samples/cat.ndjson")
    simplified = {}
    for rel in ("simplified-15/cat.ndjson", "simplified-344x25/cat.ndjson"):
        if (DATA / rel).exists():
            simplified.update({s.key_id: s for s in quickdraw.iter_ndjson(DATA / rel)})
    raws = list(read_sketches(raw_path))
    assert raws
    compared = 0
    for r in raws:
        assert r.times is not None and all(len(t) == len(s) for t, s in zip(r.times, r.strokes, strict=True))
        pts = np.concatenate(r.strokes)
        assert pts.min() >= 0 and pts.max() <= 255 and pts.max() == 255
        assert all(np.all(np.diff(t) >= 0) for t in r.times)  # timing stays in order
        if r.key_id in simplified:
            ref = simplified[r.key_id]
            assert len(r.strokes) == len(ref.strokes)
            assert chamfer(r, ref) < 1.5
            assert abs(r.num_points - ref.num_points) <= 0.15 * ref.num_points + 3
            compared += 1
    assert compared > 0


def test_stroke3_real_file():
    path = data_file("stroke3-fixture/aaron_sheep.npz")
    test = list(stroke3.iter_stroke3(path, split="test"))
    assert len(test) == 300 and test[0].key_id == "test/0"
    every = sum(1 for _ in read_sketches(path))
    assert every == 7400 + 300 + 300
    with np.load(path, encoding="latin1", allow_pickle=True) as z:
        first = z["test"][0]
    assert sum(len(s) for s in test[0].strokes) == len(first)
    assert len(test[0].strokes) == int((first[:, 2] == 1).sum()) + (first[-1, 2] != 1)
    assert np.allclose(test[0].strokes[0][0], first[0, :2])
    with pytest.raises(SketchError, match="no split"):
        list(stroke3.iter_stroke3(path, split="nope"))


# -- round trips ---------------------------------------------------------------------------
def test_ndjson_round_trip(tmp_path):
    path = tmp_path / "cats.ndjson"
    originals = [make_sketch(key_id=str(i)) for i in range(3)]
    assert write_sketches(originals, path) == 3
    first = json.loads(path.read_text().splitlines()[0])
    assert first["word"] == "cat" and first["key_id"] == "0" and first["drawing"][0][0] == [10, 100, 100]
    back = list(read_sketches(path))
    assert len(back) == 3 and all(same_strokes(a, b) for a, b in zip(originals, back, strict=True))
    assert back[2].key_id == "2" and back[0].label == "cat"


def test_ndjson_gz_and_out_of_range_coordinates_are_fitted(tmp_path):
    path = tmp_path / "big.ndjson.gz"
    write_sketch(Sketch(strokes=[np.array([[-100, 0], [900, 500]])], label="line"), path)
    (s,) = read_sketches(path)
    assert np.array_equal(s.strokes[0], [[0, 0], [255, 128]])


def test_stroke3_round_trip(tmp_path):
    path = tmp_path / "cat.npz"
    originals = [make_sketch(), make_sketch()]
    stroke3.write_stroke3({"train": originals, "test": originals[:1]}, path)
    back = list(stroke3.iter_stroke3(path))
    assert [s.key_id for s in back] == ["train/0", "train/1", "test/0"]
    assert back[0].label == "cat" and all(same_strokes(originals[0], b) for b in back)
    write_sketch(originals[0], tmp_path / "one.npz")
    assert same_strokes(read_sketch(tmp_path / "one.npz"), originals[0])


def test_bin_round_trip(tmp_path):
    path = tmp_path / "cat.bin"
    originals = [make_sketch(key_id="5201136883597312"), make_sketch(key_id=None)]
    assert quickdraw.write_bin(originals, path) == 2
    back = list(read_sketches(path))
    assert [s.key_id for s in back] == ["5201136883597312", "1"]
    assert back[0].label == "cat" and all(same_strokes(originals[0], b) for b in back)


def test_bin_truncated_record_reports_and_keeps_good_ones(tmp_path):
    path = tmp_path / "cat.bin"
    quickdraw.write_bin([make_sketch(), make_sketch()], path)
    path.write_bytes(path.read_bytes()[:-5])
    errors: list[SketchError] = []
    back = list(read_sketches(path, on_error=errors.append))
    assert len(back) == 1 and len(errors) == 1 and "record 2" in str(errors[0])
    assert str(path) in str(errors[0])


def test_numpy_bitmap_round_trip(tmp_path):
    path = tmp_path / "full_numpy_bitmap_cat.npy"
    assert write_sketches([make_sketch(), make_sketch(key_id="x")], path) == 2
    arr = np.load(path)
    assert arr.shape == (2, 784) and arr.dtype == np.uint8 and arr.max() > 200
    back = list(read_sketches(path))
    assert len(back) == 2 and back[0].label == "cat" and not back[0].strokes
    assert back[0].raster.shape == (28, 28) and back[0].raster.dtype == np.float32
    assert np.allclose(back[0].raster, arr[0].reshape(28, 28) / 255.0)


def test_svg_round_trip(tmp_path):
    path = tmp_path / "cat.svg"
    original = make_sketch()
    write_sketch(original, path)
    text = path.read_text()
    assert 'viewBox="0 0 256 256"' in text and 'stroke-linecap="round"' in text
    assert 'fill="none"' in text and "<rect" in text
    back = read_sketch(path)
    assert same_strokes(original, back, atol=0.01)  # the background rect is not a stroke


def test_svg_reader_commands_and_transforms(tmp_path):
    path = tmp_path / "shapes.svg"
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        '<g transform="translate(10 20) scale(2)">'
        '<path d="M0 0 L10 0 h5 v5 z m1 1 c 1 0 2 1 2 2 Q5 5 6 6"/>'
        '<polyline points="0,0 1,1 2,0"/></g>'
        '<line x1="1" y1="2" x2="3" y2="4" transform="matrix(1 0 0 1 5 5)"/>'
        '<polygon points="0 0 4 0 4 4"/>'
        '<circle cx="50" cy="50" r="10" stroke="black" fill="none"/>'
        '<rect width="100" height="100" fill="white"/></svg>')
    s = read_sketch(path)
    assert len(s.strokes) == 6
    first = s.strokes[0]
    assert np.allclose(first[:5], [[10, 20], [30, 20], [40, 20], [40, 30], [10, 20]])
    assert np.allclose(s.strokes[1][0], [12, 22]) and len(s.strokes[1]) > 5  # relative m, curves
    assert np.allclose(s.strokes[1][-1], [22, 32], atol=1e-4)
    assert np.allclose(s.strokes[3], [[6, 7], [8, 9]])
    assert np.allclose(s.strokes[4], [[0, 0], [4, 0], [4, 4], [0, 0]])
    circle = s.strokes[5]
    assert np.allclose(np.hypot(*(circle - 50).T), 10, atol=1e-4)


def test_png_round_trip(tmp_path):
    path = tmp_path / "cat.png"
    write_sketch(make_sketch(), path)
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img.dtype == np.uint8 and img.shape == (256, 256)
    assert img[0, 0] == 255 and img.min() == 0  # dark ink on white
    back = read_sketch(path)
    assert back.raster.shape == (256, 256) and not back.strokes
    assert back.raster.max() > 0.9 and back.raster[0, 0] == 0
    ink = back.raster > 0.5
    assert 0.01 < ink.mean() < 0.2


def test_image_alpha_and_dark_background(tmp_path):
    bgra = np.zeros((64, 64, 4), np.uint8)  # black ink on transparency
    cv2.line(bgra, (10, 10), (50, 50), (0, 0, 0, 255), 3)
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    a = read_image(tmp_path / "alpha.png").raster
    gray = np.zeros((64, 64), np.uint8)  # white ink on black board, as JPG
    cv2.line(gray, (10, 10), (50, 50), 255, 3)
    cv2.imwrite(str(tmp_path / "board.jpg"), gray)
    b = read_sketch(tmp_path / "board.jpg").raster
    for r in (a, b):
        assert r.shape == (256, 256) and r[0, 0] == 0 and r[128, 128] > 0.5
        assert r[20, 236] == 0  # off the diagonal stays empty


def test_document_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "drawing.visketch"
    original = make_sketch()
    original.times = [np.arange(len(s), dtype=float) * 10 for s in original.strokes]
    write_sketch(original, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "visketch" and doc["version"] == 1 and doc["label"] == "cat"
    back = read_sketch(path)
    assert same_strokes(original, back) and back.label == "cat" and back.key_id == "123"
    assert np.allclose(back.times[0], [0, 10, 20])
    write_document(make_sketch(label="dog"), path)  # replace in place
    assert read_document(path).label == "dog"
    assert [p.name for p in tmp_path.iterdir()] == ["drawing.visketch"]  # no temp files left
    write_sketch(original, tmp_path / "d.json")
    assert same_strokes(read_sketch(tmp_path / "d.json"), original)


def test_raster_sketch_written_to_vector_format_is_vectorised(tmp_path):
    from visketch_core.geometry.raster import render

    raster = Sketch(raster=render(make_sketch()))
    write_sketch(raster, tmp_path / "r.svg")
    assert len(read_sketch(tmp_path / "r.svg").strokes) >= 2


# -- bad input -----------------------------------------------------------------------------
def test_malformed_ndjson_line_in_the_middle(tmp_path):
    path = tmp_path / "mixed.ndjson"
    good = quickdraw.sketch_to_ndjson(make_sketch())
    path.write_text("\n".join([good, good, '{"word": "cat", "drawing": [[[1, 2], [3]]', good,
                               '{"drawing": [[[1, NaN], [3, 4]]]}', '{"nodrawing": 1}', good, ""]))
    errors: list[SketchError] = []
    sketches = list(read_sketches(path, on_error=errors.append))
    assert len(sketches) == 4
    assert [e.line for e in errors] == [3, 5, 6]
    assert str(errors[0]).startswith(f"{path}:3: ") and "\n" not in str(errors[0])
    assert "NaN" in str(errors[1])
    with warnings.catch_warnings(record=True) as caught:  # the default: one warning a line
        warnings.simplefilter("always")
        assert len(list(read_sketches(path))) == 4
    msgs = [str(w.message) for w in caught if w.category is quickdraw.MalformedSketchWarning]
    assert len(msgs) == 3 and msgs[0].startswith(f"{path}:3: ")


def test_nan_coordinates_rejected_everywhere(tmp_path):
    doc = tmp_path / "nan.visketch"
    doc.write_text('{"format": "visketch", "version": 1, "strokes": [{"points": [[1, NaN]], "t": null}]}')
    with pytest.raises(SketchError, match="NaN"):
        read_sketch(doc)
    line = tmp_path / "nan.ndjson"
    line.write_text('{"word": "x", "drawing": [[[1, 2], [NaN, 4]]]}\n')
    with pytest.raises(SketchError, match=r"nan\.ndjson:1: .*NaN"):
        read_sketch(line)
    with pytest.raises(SketchError):
        write_sketch(Sketch(strokes=[np.array([[0.0, np.nan]])]), tmp_path / "n.visketch")


def test_all_bad_lines_is_an_error(tmp_path):
    path = tmp_path / "bad.ndjson"
    path.write_text("not json\nalso not\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SketchError, match="no readable sketch"):
            list(read_sketches(path))


@pytest.mark.parametrize("name", ["empty.ndjson", "empty.svg", "empty.npz", "empty.png"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(SketchError, match="empty"):
        read_sketches(tmp_path / name)


def test_directory_missing_and_unknown_suffix(tmp_path):
    (tmp_path / "dir.ndjson").mkdir()
    with pytest.raises(SketchError, match="directory"):
        read_sketches(tmp_path / "dir.ndjson")
    with pytest.raises(SketchError, match="no such file"):
        read_sketch(tmp_path / "missing.ndjson")
    (tmp_path / "x.docx").write_text("hi")
    with pytest.raises(SketchError, match="unsupported"):
        read_sketches(tmp_path / "x.docx")
    with pytest.raises(SketchError, match="cannot write"):
        write_sketch(make_sketch(), tmp_path / "x.docx")


def test_truncated_npz(tmp_path):
    path = tmp_path / "cat.npz"
    stroke3.write_stroke3([make_sketch()] * 20, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SketchError) as info:
        list(read_sketches(path))
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_svg_without_paths_and_broken_svg(tmp_path):
    path = tmp_path / "nothing.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>')
    with pytest.raises(SketchError, match="no paths"):
        read_sketch(path)
    path.write_text("<svg><path d='M0 0 L1 1'></svg")
    with pytest.raises(SketchError, match="not valid SVG"):
        read_sketch(path)
    assert svg.parse_path_data("M0 0 L1 nan") == []  # garbage ends the path data


def test_document_future_version_and_wrong_format(tmp_path):
    path = tmp_path / "future.visketch"
    path.write_text(json.dumps({"format": "visketch", "version": 999, "strokes": []}))
    with pytest.raises(SketchError, match="version 999.*newer"):
        read_sketch(path)
    path.write_text(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(SketchError, match="not a ViSketch document"):
        read_sketch(path)


def test_npy_of_wrong_shape(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 5), np.float32))
    with pytest.raises(SketchError, match="numpy_bitmap"):
        list(read_sketches(tmp_path / "x.npy"))


def test_bin_header_layout(tmp_path):
    path = tmp_path / "one.bin"
    path.write_bytes(struct.pack("<Q2sBIH", 7, b"US", 1, 0, 1) + struct.pack("<H", 2) + bytes([1, 2, 3, 4]))
    (s,) = read_sketches(path)
    assert s.key_id == "7" and np.array_equal(s.strokes[0], [[1, 3], [2, 4]])


def test_npz_with_foreign_pickle_is_refused(tmp_path):
    from fractions import Fraction

    evil = np.empty(1, dtype=object)
    evil[0] = Fraction(1, 2)  # any non-NumPy class stands in for a hostile payload
    np.savez(tmp_path / "evil.npz", train=evil)
    with pytest.raises(SketchError, match="refusing to load fractions.Fraction"):
        list(read_sketches(tmp_path / "evil.npz"))
