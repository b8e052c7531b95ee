"""Open, save, import and export: real files through ``visketch_core.sketch.io``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
from app_fakes import draw, line

from visketch_core.sketch.io import read_sketch, write_sketch, write_sketches
from visketch_core.sketch.model import Sketch, normalise


def three_strokes(w):
    draw(w.canvas, line(80, 80, 280, 80))
    draw(w.canvas, line(280, 80, 180, 260))
    draw(w.canvas, line(180, 260, 80, 80))


def seg_dist(p, a, b):
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-9), 0, 1)
    return float(np.linalg.norm(a + t * ab - p))


def test_export_png_and_svg_match_the_drawing(qtbot, make_window, aloop, tmp_path):
    w = make_window()
    w.settings.export_png_size = 256    # a path given: the size of the settings, no question
    three_strokes(w)
    png, svg = tmp_path / "tri.png", tmp_path / "tri.svg"
    assert aloop.run_until_complete(w.files.export(str(png)))
    assert aloop.run_until_complete(w.files.export(str(svg)))
    assert w.settings.last_export_dir == str(tmp_path)
    ref = normalise(w.document.to_sketch())  # both exports use the 256 x 256 frame
    segs = [(s[i], s[i + 1]) for s in ref.strokes for i in range(len(s) - 1)]

    # SVG: one <path> per stroke, whose points are the drawing's
    root = ET.parse(svg).getroot()
    paths = [el for el in root.iter() if el.tag.endswith("path")]
    assert len(paths) == 3
    for el, stroke in zip(paths, ref.strokes, strict=True):
        nums = [float(v) for v in el.get("d").replace("M", " ").replace("L", " ").split()]
        pts = np.array(nums).reshape(-1, 2)
        assert np.allclose(pts, stroke, atol=0.01)
    assert len(read_sketch(svg).strokes) == 3

    # PNG: decodes to 256 x 256; ink lies on the strokes and every stroke is inked
    img = cv2.imdecode(np.fromfile(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (256, 256)
    ys, xs = np.nonzero(img < 128)
    assert len(xs) > 300
    far = [seg_dist(np.array([x, y], float), a, b) for x, y in zip(xs[::7], ys[::7], strict=True)
           for a, b in [min(segs, key=lambda s: seg_dist(np.array([x, y], float), *s))]]
    assert max(far) < 4.0
    for s in ref.strokes:
        for p in np.linspace(s[0], s[-1], 9):
            x, y = int(round(p[0])), int(round(p[1]))
            assert img[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3].min() < 128


def test_export_refuses_an_empty_drawing_and_odd_suffixes(make_window, aloop, tmp_path):
    w = make_window()
    assert not aloop.run_until_complete(w.files.export(str(tmp_path / "x.png")))
    assert "empty" in w.message_bar.text()
    draw(w.canvas, line(10, 10, 100, 100))
    assert not aloop.run_until_complete(w.files.export(str(tmp_path / "x.gif")))
    assert not (tmp_path / "x.gif").exists()


def test_save_and_open_round_trip_with_timing(qtbot, make_window, aloop, tmp_path):
    w = make_window()
    three_strokes(w)
    path = tmp_path / "drawing.visketch"
    w.dialogs.next_path = str(path)
    assert w.isWindowModified()
    assert aloop.run_until_complete(w.files.save())  # no path yet: asks for one
    assert w.dialogs.asked == ["save"] and path.is_file()
    assert not w.isWindowModified() and "drawing.visketch" in w.windowTitle()
    assert w.settings.recent_files[0] == str(path.resolve())
    saved = read_sketch(path)
    assert len(saved.strokes) == 3 and saved.times is not None

    w2 = make_window()
    assert aloop.run_until_complete(w2.files.open(str(path)))
    assert len(w2.document) == 3 and w2.files.path == str(path.resolve())
    assert w2.undo_stack.count() == 0 and not w2.isWindowModified()
    for a, b in zip(w.document.strokes, w2.document.strokes, strict=True):
        assert np.allclose(a.points, b.points) and np.allclose(a.times, b.times)
    qtbot.waitUntil(lambda: w2.latest_prediction is not None, timeout=5000)


def test_a_corrupt_file_is_one_line_and_keeps_the_drawing(make_window, aloop, tmp_path):
    w = make_window()
    three_strokes(w)
    before = [s.points.copy() for s in w.document.strokes]
    bad = tmp_path / "broken.visketch"
    bad.write_text('{"format": "visketch", "version": 1, "strokes": [{"points": 7}]}')
    w.dialogs.save_answer = "discard"
    assert not aloop.run_until_complete(w.files.open(str(bad)))
    text = w.message_bar.text()
    assert text.startswith("Could not open broken.visketch: ") and "\n" not in text
    assert "broken.visketch" in text.split(": ", 1)[1]
    assert [s.points.tolist() for s in w.document.strokes] == [b.tolist() for b in before]
    assert w.isWindowModified()
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG not really")
    assert not aloop.run_until_complete(w.files.import_(str(garbage)))
    assert "garbage.png" in w.message_bar.text() and len(w.document) == 3
    assert not aloop.run_until_complete(w.files.open(str(tmp_path / "missing.ndjson")))
    assert "no such file" in w.message_bar.text() and len(w.document) == 3


def test_cancel_on_unsaved_changes_keeps_everything(make_window, aloop, tmp_path):
    w = make_window()
    three_strokes(w)
    other = tmp_path / "other.visketch"
    write_sketch(Sketch(strokes=[[(0, 0), (5, 5)]]), other)
    w.dialogs.save_answer = "cancel"
    assert not aloop.run_until_complete(w.files.open(str(other)))
    assert len(w.document) == 3 and w.dialogs.asked == ["save_changes"]


def test_import_quickdraw_picks_a_sketch_and_is_undoable(qtbot, make_window, aloop, tmp_path):
    w = make_window()
    draw(w.canvas, line(10, 10, 100, 100))
    sketches = [Sketch(strokes=[[(0, 0), (50 + 10 * i, 50)]] * (i + 1), label="cat")
                for i in range(4)]
    nd = tmp_path / "cat.ndjson"
    write_sketches(sketches, nd)
    w.dialogs.pick = 2
    assert aloop.run_until_complete(w.files.import_(str(nd)))
    assert w.dialogs.asked == ["pick:4"]
    assert len(w.document) == 3 and w.document.label == "cat"
    assert w.undo_stack.undoText() == "Import cat.ndjson"
    w.undo_stack.undo()
    assert len(w.document) == 1
    w.dialogs.pick = None  # cancelled picker: nothing changes
    assert not aloop.run_until_complete(w.files.import_(str(nd)))
    assert len(w.document) == 1


def test_import_svg_and_png(make_window, aloop, tmp_path):
    w = make_window()
    svg = tmp_path / "s.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
                   '<path d="M10 10 L90 10 L90 90" stroke="black" fill="none"/>'
                   '<line x1="10" y1="90" x2="50" y2="50" stroke="black"/></svg>')
    assert aloop.run_until_complete(w.files.import_(str(svg)))
    assert len(w.document) == 2
    img = np.full((200, 200), 255, np.uint8)
    cv2.line(img, (20, 20), (180, 180), 0, 5)
    cv2.circle(img, (100, 60), 30, 0, 5)
    png = tmp_path / "p.png"
    cv2.imwrite(str(png), img)
    assert aloop.run_until_complete(w.files.import_(str(png)))
    assert len(w.document) >= 1  # traced from pixels into strokes
    assert w.undo_stack.count() == 2


def test_recent_files_menu(make_window, aloop, tmp_path):
    w = make_window()
    p = tmp_path / "r.visketch"
    write_sketch(Sketch(strokes=[[(0, 0), (5, 5)]]), p)
    assert aloop.run_until_complete(w.files.open(str(p)))
    titles = [a.text() for a in w.recent_menu.actions()]
    assert titles == [str(p.resolve())]
    assert Path(w.settings.last_open_dir) == tmp_path.resolve()


def test_real_dialogs_wait_without_blocking_other_tasks(qtbot, aloop):
    """A modal picker inside a coroutine must let other tasks finish meanwhile (exec()
    would make asyncio refuse: 'Cannot enter into task ... while another task ...')."""
    import asyncio

    from PySide6.QtWidgets import QApplication, QWidget

    from app.dialogs import Dialogs, SketchPicker

    parent = QWidget()  # the window the picker belongs to (closing it must not quit)
    qtbot.addWidget(parent)
    parent.show()

    sketches = [Sketch(strokes=[[(0, 0), (10 * i + 5, 5)]]) for i in range(3)]
    other_done = []

    async def other():
        await asyncio.sleep(0.02)
        other_done.append(True)

    def answer():
        pickers = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, SketchPicker) and w.isVisible()]
        if not pickers or not other_done:
            return False
        pickers[0].list.setCurrentRow(2)
        pickers[0].accept()
        return True

    async def scenario():
        task = asyncio.ensure_future(other())
        picking = asyncio.ensure_future(Dialogs(parent).pick_sketch(sketches, more=False))
        while not answer():
            await asyncio.sleep(0.01)
        return await picking, await task

    assert aloop.run_until_complete(asyncio.wait_for(scenario(), 10)) == (2, None)
    assert other_done == [True]
