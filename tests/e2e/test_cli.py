"""`visketch export`, `quadtree`, `classify`, `info` on sketches from every reader."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from visketch_core.cli import main
from visketch_core.paths import default_classifier_path
from visketch_core.sketch.io import read_sketch, write_sketch, write_sketches
from visketch_core.sketch.quickdraw import iter_ndjson


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, quickdraw_dir):
    """One file per readable format, each holding real QuickDraw cats."""
    d = tmp_path_factory.mktemp("inputs")
    cats = []
    for sk in iter_ndjson(quickdraw_dir / "cat.ndjson"):
        cats.append(sk)
        if len(cats) == 3:
            break
    files = {"simplified": quickdraw_dir / "cat.ndjson"}
    raw = quickdraw_dir.parent / "raw-samples" / "cat.ndjson"
    if raw.exists():
        files["raw"] = raw
    npz = quickdraw_dir.parent / "stroke3-fixture" / "aaron_sheep.npz"
    if npz.exists():
        files["npz_fixture"] = npz
    for suffix in ("npz", "bin", "npy"):
        files[suffix] = d / f"cats.{suffix}"
        write_sketches(cats, files[suffix])
    for suffix in ("svg", "png", "visketch"):
        files[suffix] = d / f"cat.{suffix}"
        write_sketch(cats[0], files[suffix])
    return files


def _ink_of_png(path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert img is not None, f"{path} is not a PNG"
    return img < 128


@pytest.mark.parametrize("fmt", ["simplified", "raw", "npz_fixture", "npz", "bin", "npy", "svg",
                                 "png", "visketch"])
def test_export_and_quadtree_work_for_every_reader(fmt, inputs, tmp_path, capsys):
    if fmt not in inputs:
        pytest.skip(f"{fmt} sample not available")
    src = inputs[fmt]
    assert main(["export", str(src), "--out", str(tmp_path / "a.png")]) == 0
    assert _ink_of_png(tmp_path / "a.png").sum() > 100
    assert main(["export", str(src), "--out", str(tmp_path / "a.svg")]) == 0
    root = ET.parse(tmp_path / "a.svg").getroot()
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert paths and all(p.get("d", "").startswith("M") for p in paths)
    assert not any(e.tag.endswith("image") for e in root.iter()), "SVG must hold strokes"
    capsys.readouterr()
    assert main(["quadtree", str(src), "--out", str(tmp_path / "q.png")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["leaves"] >= 1
    q = cv2.imread(str(tmp_path / "q.png"))
    assert q.shape == (512, 512, 3)
    assert (np.abs(q[..., 0].astype(int) - q[..., 2].astype(int)) > 60).any(), "no coloured boxes"


def test_export_round_trip_keeps_strokes(inputs, tmp_path):
    assert main(["export", str(inputs["simplified"]), "--index", "2",
                 "--out", str(tmp_path / "c.visketch")]) == 0
    a = read_sketch(inputs["simplified"], 2)
    b = read_sketch(tmp_path / "c.visketch")
    assert len(a.strokes) == len(b.strokes)
    assert all(np.allclose(x, y) for x, y in zip(a.strokes, b.strokes))


@pytest.mark.parametrize("args,needle", [
    (["export", "/nonexistent/x.ndjson", "--out", "y.png"], "x.ndjson"),
    (["quadtree", ".", "--out", "y.png"], "director"),
    (["export", "README.md", "--out", "y.png"], "README.md"),
])
def test_bad_input_is_one_line_error(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent if args[1] == "." else tmp_path)
    if args[1] == "README.md":
        (tmp_path / "README.md").write_text("hello")
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_empty_sketch_quadtree_is_an_error(tmp_path, capsys):
    f = tmp_path / "empty.ndjson"
    f.write_text('{"word": "cat", "key_id": "1", "drawing": []}\n')
    assert main(["quadtree", str(f), "--out", str(tmp_path / "q.png")]) != 0
    assert "empty" in capsys.readouterr().err


needs_model = pytest.mark.skipif(not default_classifier_path().exists(),
                                 reason="no shipped classifier")


@needs_model
def test_classify_jsonl_contract(inputs, tmp_path, capsys):
    bad = tmp_path / "mixed.ndjson"
    lines = (inputs["simplified"]).read_text().splitlines()[:2]
    bad.write_text(lines[0] + "\n{not json\n" + lines[1] + "\n")
    code = main(["classify", str(bad), str(inputs["png"]), "--jsonl", "--top", "3"])
    out, err = capsys.readouterr()
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 1, "a malformed line makes the exit non-zero"
    assert [(r["input"], r["index"]) for r in rows] == [(str(bad), 0), (str(bad), 1),
                                                       (str(inputs["png"]), 0)]
    for r in rows:
        assert set(r) == {"input", "index", "label", "known", "verdict", "closest", "top",
                          "leaves", "ms"}
        assert len(r["top"]) == 3 and r["closest"] == r["top"][0][0]
        assert r["label"] == (r["closest"] if r["known"] else None)
        assert r["verdict"] in (("sure", "unsure") if r["known"] else ("unknown",))
        assert r["leaves"] > 0 and r["ms"] > 0
    assert ":2" in err and len(err.strip().splitlines()) == 1


def test_info_lists_version_and_device(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] and info["device"] in ("cpu", "cuda", "mps")


def test_export_of_quickdraw_coordinates_keeps_a_margin(inputs, tmp_path):
    from visketch_core.sketch.model import FRAME, MARGIN

    src = inputs["simplified"]                      # points fill 0..255, touching the edge
    assert main(["export", str(src), "--out", str(tmp_path / "m.png")]) == 0
    ink = _ink_of_png(tmp_path / "m.png")
    ys, xs = np.nonzero(ink > 0.5)
    edge = MARGIN - 3                               # the line's half width and antialiasing
    assert xs.min() >= edge and ys.min() >= edge
    assert xs.max() <= FRAME - 1 - edge and ys.max() <= FRAME - 1 - edge
    assert main(["export", str(src), "--out", str(tmp_path / "m.svg")]) == 0
    back = read_sketch(tmp_path / "m.svg")
    lo, hi = np.concatenate(back.strokes).min(0), np.concatenate(back.strokes).max(0)
    assert lo.min() >= MARGIN - 0.5 and hi.max() <= FRAME - MARGIN + 0.5


def test_version_flag(capsys):
    from visketch_core import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"visketch {__version__}"
