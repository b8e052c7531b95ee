"""The document model, undo commands, settings, replay timing and overlay geometry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from app.commands import AddStrokeCommand, ClearCommand, EraseStrokeCommand, ReplaceStrokesCommand
from app.document import MAX_GAP_MS, SketchDocument, Stroke, strokes_from_sketch
from app.overlays import leaf_at
from app.replay import MAX_PAUSE_MS, POINT_MS, timeline
from app.settings import AppSettings, settings_path
from visketch_core.sketch.model import Sketch


def stroke(*pts, t0=None):
    times = None if t0 is None else [t0 + 10.0 * i for i in range(len(pts))]
    return Stroke.of(pts, times)


def test_document_edits_emit_signals_and_invert(qapp):
    doc = SketchDocument()
    seen = []
    doc.stroke_inserted.connect(lambda i: seen.append(("ins", i)))
    doc.stroke_removed.connect(lambda i: seen.append(("rm", i)))
    doc.strokes_replaced.connect(lambda: seen.append(("all",)))
    doc.changed.connect(lambda: seen.append(("changed",)))
    a, b = stroke((0, 0), (1, 1)), stroke((5, 5))
    doc.insert_stroke(0, a)
    doc.insert_stroke(1, b)
    assert doc.remove_stroke(0) is a
    old = doc.replace_strokes([a, b])
    assert old == [b] and len(doc) == 2
    assert seen == [("ins", 0), ("changed",), ("ins", 1), ("changed",), ("rm", 0), ("changed",),
                    ("all",), ("changed",)]


def test_stroke_points_are_read_only():
    s = stroke((0, 0), (1, 2))
    with pytest.raises(ValueError):
        s.points[0, 0] = 3
    with pytest.raises(ValueError):
        Stroke.of([(0, 0), (1, 1)], [0.0])


def test_to_sketch_keeps_times_only_when_every_stroke_has_them(qapp):
    doc = SketchDocument()
    doc.insert_stroke(0, stroke((0, 0), (1, 1), t0=0.0))
    sk = doc.to_sketch()
    assert sk.times is not None and sk.times[0].tolist() == [0.0, 10.0]
    doc.insert_stroke(1, stroke((2, 2), (3, 3)))
    assert doc.to_sketch().times is None
    assert [s.tolist() for s in doc.to_sketch().strokes] == [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]


def test_next_start_time_caps_long_pauses(qapp):
    doc = SketchDocument()
    assert doc.next_start_time(5000) == 0.0
    doc.insert_stroke(0, stroke((0, 0), (1, 1), t0=100.0))  # ends at 110
    assert doc.next_start_time(250) == 360.0
    assert doc.next_start_time(1e9) == 110.0 + MAX_GAP_MS


def test_strokes_from_sketch_drops_empty_strokes():
    sk = Sketch(strokes=[np.zeros((0, 2)), [(1, 1), (2, 2)]], times=[np.zeros(0), [0.0, 5.0]])
    out = strokes_from_sketch(sk)
    assert len(out) == 1 and out[0].times.tolist() == [0.0, 5.0]


def test_commands_undo_and_redo_every_edit(qapp):
    doc, stack = SketchDocument(), QUndoStack()
    a, b, c = stroke((0, 0)), stroke((1, 1)), stroke((2, 2))
    for s in (a, b, c):
        stack.push(AddStrokeCommand(doc, s))
    assert doc.strokes == (a, b, c) and stack.count() == 3
    stack.push(EraseStrokeCommand(doc, 1))
    assert doc.strokes == (a, c)
    stack.push(ClearCommand(doc))
    assert doc.is_empty
    stack.push(ReplaceStrokesCommand(doc, [b], "Import"))
    assert doc.strokes == (b,)
    stack.undo()
    assert doc.is_empty
    stack.undo()
    assert doc.strokes == (a, c)
    stack.undo()
    assert doc.strokes == (a, b, c)
    stack.undo()
    assert doc.strokes == (a, b)
    stack.redo()
    stack.redo()
    assert doc.strokes == (a, c)


def test_settings_round_trip(tmp_path):
    s = AppSettings(pen_width=7.0, show_heatmap=True, device="cpu")
    for i in range(15):
        s.add_recent(tmp_path / f"f{i}.visketch")
    s.add_recent(tmp_path / "f3.visketch")
    s.save()
    assert settings_path().is_file()
    back = AppSettings.load()
    assert back.pen_width == 7.0 and back.show_heatmap and back.device == "cpu"
    assert len(back.recent_files) == 10 and back.recent_files[0].endswith("f3.visketch")
    assert back.recent_files.count(back.recent_files[0]) == 1


def test_settings_survive_a_corrupt_or_odd_file():
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("{not json")
    assert AppSettings.load() == AppSettings()
    settings_path().write_text(json.dumps(
        {"pen_width": "wide", "show_quadtree": 1, "device": "tpu", "recent_files": [3],
         "live_classification": False, "unknown": True}))
    s = AppSettings.load()
    assert s.pen_width == AppSettings().pen_width and s.show_quadtree is True
    assert s.device == "auto" and s.recent_files == [] and s.live_classification is False


def test_replay_timeline_uses_recorded_times_and_shortens_pauses():
    sk = Sketch(strokes=[[(0, 0), (1, 0), (2, 0)], [(0, 1), (1, 1)]],
                times=[[1000.0, 1030.0, 1100.0], [9000.0, 9040.0]])
    t = timeline(sk)
    assert t[0].tolist() == [0.0, 30.0, 100.0]
    assert t[1].tolist() == [100.0 + MAX_PAUSE_MS, 140.0 + MAX_PAUSE_MS]
    plain = timeline(Sketch(strokes=[[(0, 0), (1, 0)]]))
    assert plain[0].tolist() == [0.0, POINT_MS]


def test_leaf_at_picks_the_smallest_box():
    boxes = np.array([[0, 0, 100, 100], [0, 0, 50, 50], [50, 50, 100, 100]], np.float32)
    assert leaf_at(boxes, 10, 10) == 1
    assert leaf_at(boxes, 60, 20) == 0
    assert leaf_at(boxes, 75, 75) == 2
    assert leaf_at(boxes, 200, 5) == -1
    assert leaf_at(np.zeros((0, 4)), 1, 1) == -1
