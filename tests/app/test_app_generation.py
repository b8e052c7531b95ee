"""Complete my sketch / Draw it in the window: streaming, cancel, accept, export, failures."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from app_fakes import draw, line
from PySide6.QtCore import Qt


def snapshot(w):
    return [s.points.copy() for s in w.document.strokes], w.undo_stack.count()


def same(a, b):
    return len(a[0]) == len(b[0]) and all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) \
        and a[1] == b[1]


def run_to_end(qtbot, ctrl):
    qtbot.waitUntil(lambda: not ctrl.running, timeout=10000)


def test_complete_streams_leaves_to_the_canvas_in_order(qtbot, gen_window, backend):
    w = gen_window(candidates=2)
    before = snapshot(w)
    top = w.latest_prediction.label
    qtbot.mouseClick(w.generation_panel.complete_button, Qt.MouseButton.LeftButton)
    ctrl = w.generation
    assert ctrl.running and not w.generation_panel.complete_button.isHidden()
    run_to_end(qtbot, ctrl)
    job = backend.jobs[-1]
    assert job.mode == "complete" and job.label == top and job.n == 2
    framed = np.concatenate(job.strokes)            # the user's strokes, in the 256 frame
    assert framed.min() >= 0 and framed.max() <= 256
    assert len(ctrl.candidates) == 2 and all(c.finished for c in ctrl.candidates)
    for cand in ctrl.candidates:
        assert cand.layer.painted == list(range(6))    # every leaf, in decoding order
    layer = w.canvas.generation_layer
    qtbot.waitUntil(lambda: layer.first_painted_at is not None, timeout=3000)
    assert same(snapshot(w), before)                   # nothing added until Accept
    assert w.generation_panel.list.count() == 2        # candidates side by side
    assert w.generation_panel.accept_button.isEnabled()


def test_leaves_are_painted_while_the_job_runs(qtbot, gen_window, backend):
    backend.gate = threading.Event()
    w = gen_window()
    ctrl = w.generation
    ctrl.complete_sketch()
    for k in range(3):
        backend.gate.set()
        qtbot.waitUntil(lambda k=k: bool(ctrl.candidates) and ctrl.candidates[0].layer.leaf_count
                        == k + 1, timeout=3000)
    assert ctrl.running and w.generation_panel.bar.value() == 3
    assert w.generation_panel.bar.maximum() == 6
    ctrl.cancel()
    backend.gate.set()
    run_to_end(qtbot, ctrl)


def test_cancel_midway_leaves_the_document_unchanged(qtbot, gen_window, backend):
    backend.gate = threading.Event()
    w = gen_window()
    before = snapshot(w)
    ctrl = w.generation
    ctrl.complete_sketch()
    backend.gate.set()
    qtbot.waitUntil(lambda: bool(ctrl.candidates) and ctrl.candidates[0].layer.leaf_count == 1,
                    timeout=3000)
    qtbot.mouseClick(w.generation_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not ctrl.running and w.canvas.generation_layer is None
    backend.gate.set()                                 # let the worker reach its next poll
    qtbot.wait(100)
    assert ctrl.candidates == [] and same(snapshot(w), before)
    assert not w.generation_panel.accept_button.isEnabled()
    # the worker is free again: a new request runs to the end
    backend.gate = None
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    assert ctrl.current().finished


def test_accept_adds_one_undoable_command(qtbot, gen_window, backend):
    w = gen_window()
    before = snapshot(w)
    w.generation.complete_sketch()
    run_to_end(qtbot, w.generation)
    qtbot.mouseClick(w.generation_panel.accept_button, Qt.MouseButton.LeftButton)
    assert len(w.document) == len(before[0]) + 6
    assert w.undo_stack.count() == before[1] + 1
    assert all(np.array_equal(w.document.stroke(i).points, p) for i, p in enumerate(before[0]))
    assert w.canvas.generation_layer is None and not w.generation.pending
    w.undo_stack.undo()
    assert len(w.document) == len(before[0])
    assert all(np.array_equal(w.document.stroke(i).points, p) for i, p in enumerate(before[0]))
    w.undo_stack.redo()
    assert len(w.document) == len(before[0]) + 6


def test_a_completion_that_adds_nothing_says_so(qtbot, gen_window, backend):
    backend.leaves = 0                      # stage 1 drew nothing beyond the user's strokes
    w = gen_window()
    before = snapshot(w)
    w.generation.complete_sketch()
    run_to_end(qtbot, w.generation)
    assert "added nothing" in w.message_bar.text()
    assert not w.generation.accept()
    assert len(w.document) == len(before[0]) and w.undo_stack.count() == before[1]


def test_accepted_strokes_land_where_they_were_shown(qtbot, gen_window, backend):
    w = gen_window()
    ctrl = w.generation
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    shown = [s.copy() for s in ctrl.current().strokes]
    # the fake's first stroke goes from frame x=16 to 44 at y=112: mapped back through the
    # inverse of the frame placement of the user's strokes
    from visketch_core.generate.completion import frame_matrix

    user = w.document.to_sketch()
    m = frame_matrix(user)
    assert np.allclose(shown[0] @ m[:, :2].T + m[:, 2], [[16, 112], [44, 112]], atol=1e-3)
    ctrl.accept()
    assert np.allclose(w.document.stroke(2).points, shown[0])


def test_export_of_a_pending_candidate(qtbot, gen_window, aloop, tmp_path):
    from visketch_core.sketch.io import read_sketch

    w = gen_window()
    ctrl = w.generation
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    assert aloop.run_until_complete(ctrl.export(str(png)))
    assert aloop.run_until_complete(ctrl.export(str(svg)))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = read_sketch(svg)
    assert len(back.strokes) == 2 + 6                  # strokes, not an embedded bitmap
    assert b"<image" not in svg.read_bytes()
    assert len(w.document) == 2                        # exporting adds nothing
    assert not aloop.run_until_complete(ctrl.export(str(tmp_path / "c.txt")))


def test_worker_failure_mid_generation_shows_a_message(qtbot, gen_window, backend):
    backend.fail_after = 3
    w = gen_window()
    before = snapshot(w)
    ctrl = w.generation
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    assert "Generation failed: RuntimeError: the generator broke" in w.message_bar.text()
    assert ctrl.candidates == [] and same(snapshot(w), before)
    draw(w.canvas, line(50, 200, 150, 220))            # the app goes on
    assert len(w.document) == 3


def test_missing_models_are_a_message(qtbot, gen_window, backend):
    backend.load_error = "resources/models/diffusion.pt: no such file"
    w = gen_window()
    w.generation.complete_sketch()
    run_to_end(qtbot, w.generation)
    assert "Could not load the generation models" in w.message_bar.text() \
        or "Generation failed" in w.message_bar.text()
    assert len(w.document) == 2


def test_a_new_stroke_cancels_a_running_completion(qtbot, gen_window, backend):
    backend.gate = threading.Event()
    w = gen_window()
    ctrl = w.generation
    ctrl.complete_sketch()
    backend.gate.set()
    qtbot.waitUntil(lambda: bool(ctrl.candidates) and ctrl.candidates[0].layer.leaf_count == 1,
                    timeout=3000)
    draw(w.canvas, line(40, 230, 200, 240))            # drawing keeps working...
    assert len(w.document) == 3
    assert not ctrl.running                            # ...and stops the completion
    backend.gate.set()
    w.undo_stack.undo()                                # undo works too
    assert len(w.document) == 2


def test_draw_it_on_an_empty_canvas_with_settings(qtbot, gen_window, backend):
    w = gen_window(strokes=0, candidates=3)
    panel = w.generation_panel
    panel.class_box.setCurrentText("cat")
    panel.schedule_box.setCurrentText("sequential")
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    ctrl = w.generation
    run_to_end(qtbot, ctrl)
    job = backend.jobs[-1]
    assert (job.mode, job.label, job.n, job.schedule) == ("draw", "cat", 3, "sequential")
    assert w.settings.generation_schedule == "sequential"
    assert panel.list.count() == 3
    panel.list.setCurrentRow(1)
    assert ctrl.selected == 1 and w.canvas.generation_layer is ctrl.candidates[1].layer
    assert ctrl.accept()
    pts = np.concatenate([s.points for s in w.document.strokes])
    c = w.canvas
    x0, y0 = c.to_document(c.rect().topLeft().toPointF())
    x1, y1 = c.to_document(c.rect().bottomRight().toPointF())
    assert pts[:, 0].min() >= x0 and pts[:, 0].max() <= x1          # in the visible area
    assert pts[:, 1].min() >= y0 and pts[:, 1].max() <= y1


def test_complete_needs_a_drawing_and_a_class(qtbot, gen_window, backend):
    w = gen_window(strokes=0)
    assert not w.generation.complete_sketch()
    assert "Nothing to complete" in w.message_bar.text()
    assert backend.jobs == []


def test_real_generation_code_with_tiny_models(qtbot, make_window, tiny_gen_models):
    """The shipped backend class, on tiny untrained checkpoints: real events end to end."""
    from app.gen_worker import ShippedBackend

    w = make_window(generation_backend=lambda: ShippedBackend(tiny_gen_models))
    w.settings.generation_candidates = 1
    draw(w.canvas, line(60, 60, 220, 90))
    ctrl = w.generation
    assert ctrl.complete_sketch("cat")
    qtbot.waitUntil(lambda: not ctrl.running, timeout=60000)
    assert ctrl.device_name == "CPU" and ctrl.classes == ["cat", "eye", "map"]
    cand = ctrl.current()
    assert cand is not None and cand.finished, w.message_bar.text()
    assert cand.layer.leaf_count == cand.leaves_total
    assert len(w.document) == 1


def test_shipped_models_complete_in_the_window(qtbot, make_window):
    """The real shipped generation models behind the real worker (skipped if not shipped)."""
    from visketch_core.paths import models_dir

    if not all((models_dir() / f"{n}.pt").exists() for n in ("tokenizer", "diffusion", "refiner")):
        pytest.skip("generation models not shipped")
    w = make_window(generation_backend=None)
    w.settings.generation_candidates = 1
    draw(w.canvas, line(80, 80, 240, 80))
    draw(w.canvas, line(80, 80, 80, 200))
    ctrl = w.generation
    assert ctrl.complete_sketch("camera")
    qtbot.waitUntil(lambda: not ctrl.running, timeout=120000)
    cand = ctrl.current()
    assert cand is not None and cand.finished, w.message_bar.text()
    assert cand.leaves_total > 0 and len(set(cand.layer.painted)) == cand.layer.leaf_count
    assert cand.layer.leaf_count == cand.leaves_total and cand.strokes
    assert ctrl.accept() and len(w.document) == 2 + len(cand.strokes)
