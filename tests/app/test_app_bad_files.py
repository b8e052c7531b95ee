"""A bad file leaves the drawing as it was, whatever the reader raises; settings and recent
files are on disk as soon as they change, not only after a clean exit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from app_fakes import draw, line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from fuzz_corpus import build_corpus  # noqa: E402

# one file of each format, each bad in its own way
SAMPLE = ("huge_neg_int", "many_strokes", "gz_random", "gz_bad_crc", "doc_deep", "doc_strings",
          "svg_laughs", "svg_rotate_inf", "png_header_100k", "png_truncated", "npz_pickle_payload",
          "npy_is_zip", "bin_many_strokes", "json_deep", "folder", "dangling")


def _strokes(w) -> list[list]:
    return [s.points.tolist() for s in w.document.strokes]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {f.name: f for f in build_corpus(tmp_path_factory.mktemp("corpus"))}


def test_no_bad_file_changes_the_drawing(make_window, aloop, corpus):
    w = make_window()
    draw(w.canvas, line(80, 80, 280, 80))
    draw(w.canvas, line(280, 80, 180, 260))
    before = _strokes(w)
    w.dialogs.save_answer = "discard"
    for name in SAMPLE:
        f = corpus[name]
        assert f.good == 0, name
        for action in (w.files.open, w.files.import_):
            assert not aloop.run_until_complete(action(str(f.path))), name
            text = w.message_bar.text()
            assert f.path.name in text and "\n" not in text, (name, text)
            assert "Traceback" not in text and "unexpected" not in text, (name, text)
            assert _strokes(w) == before, name
    assert w.isWindowModified()


@pytest.mark.parametrize("exc", [RuntimeError("boom"), MemoryError(), RecursionError("deep"),
                                 KeyError("x")])
def test_an_unexpected_reader_error_is_a_message(make_window, aloop, monkeypatch, tmp_path, exc):
    import app.files

    def fail(path, index=None):
        raise exc

    monkeypatch.setattr(app.files, "read_for_app", fail)
    w = make_window()
    draw(w.canvas, line(80, 80, 280, 80))
    before = _strokes(w)
    w.dialogs.save_answer = "discard"
    target = tmp_path / "any.ndjson"
    target.write_text("{}\n")
    assert not aloop.run_until_complete(w.files.open(str(target)))
    assert w.message_bar.text().startswith("Could not open any.ndjson: ")
    assert type(exc).__name__ in w.message_bar.text()
    assert _strokes(w) == before


def test_recent_files_are_saved_when_they_change(make_window, aloop, app_dirs, tmp_path):
    from visketch_core.sketch.io import write_sketch
    from visketch_core.sketch.model import Sketch

    cfg, _data = app_dirs
    w = make_window()
    doc = tmp_path / "kept.visketch"
    write_sketch(Sketch(strokes=[[(0, 0), (50, 50)]]), doc)
    assert aloop.run_until_complete(w.files.open(str(doc)))
    # no shutdown, no clean exit: what a crash would leave behind is already there
    saved = json.loads((cfg / "settings.json").read_text())
    assert saved["recent_files"][0] == str(doc.resolve())
    w.settings.pen_width = 7.0
    assert json.loads((cfg / "settings.json").read_text())["pen_width"] == 7.0


def test_documents_get_the_permissions_of_a_plain_write(tmp_path):
    import os
    import stat

    from visketch_core.sketch.io import write_sketch
    from visketch_core.sketch.model import Sketch

    old = os.umask(0o022)
    try:
        doc = tmp_path / "a.visketch"
        write_sketch(Sketch(strokes=[[(0, 0), (5, 5)]]), doc)
        assert stat.S_IMODE(doc.stat().st_mode) == 0o644
        doc.chmod(0o640)  # an existing file keeps its own
        write_sketch(Sketch(strokes=[[(1, 1), (5, 5)]]), doc)
        assert stat.S_IMODE(doc.stat().st_mode) == 0o640
    finally:
        os.umask(old)
