"""The app as people who draw expect it: the canvas stays put, shortcuts work after a
click, messages fit their cause, widths belong to strokes, the class and the view do not
stick, and a completion fits on screen."""

from __future__ import annotations

import numpy as np
from app_fakes import draw, line
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def wait_idle(qtbot, w):
    qtbot.waitUntil(lambda: w.live.last_request_id == w.live._shown, timeout=5000)


def run_to_end(qtbot, ctrl):
    qtbot.waitUntil(lambda: not ctrl.running, timeout=10000)


def focus_on_canvas(qtbot, w):
    w.activateWindow()
    w.canvas.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.canvas, timeout=2000)


# -- 1. messages never move the canvas --------------------------------------------------------
def test_a_message_during_a_stroke_leaves_the_points_where_the_pointer_went(qtbot, make_window):
    w = make_window()
    c = w.canvas
    before = c.geometry()
    # the pointer stays on a straight line in the window, as a hand on a screen would
    path = [c.mapTo(w, QPoint(60 + 8 * i, 200)) for i in range(40)]
    QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     c.mapFrom(w, path[0]))
    for i, p in enumerate(path[1:]):
        if i == 10:
            w.show_info("Saved drawing.visketch")       # a banner arrives mid-stroke
        if i == 25:
            w.message_bar.dismiss()                     # and goes away again
        qtbot.wait(3)                                   # layouts and paints happen
        QTest.mouseMove(c, c.mapFrom(w, p))
    QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       c.mapFrom(w, path[-1]))
    ys = w.document.stroke(0).points[:, 1]
    assert float(np.ptp(ys)) < 0.5, "the stroke has a step where the banner came and went"
    assert c.geometry() == before


def test_the_banner_floats_over_the_canvas(qtbot, make_window):
    w = make_window()
    size = w.canvas.size()
    w.show_error("Could not open x.png: no such file")
    qtbot.wait(20)
    assert w.message_bar.isVisible() and w.canvas.size() == size
    assert w.canvas.geometry().contains(w.message_bar.geometry())


# -- 2. shortcuts after a click on a panel button -------------------------------------------
def test_ctrl_z_after_a_mouse_click_on_accept_undoes_the_candidate(qtbot, gen_window):
    w = gen_window()
    focus_on_canvas(qtbot, w)
    n = len(w.document)
    w.generation.complete_sketch()
    run_to_end(qtbot, w.generation)
    qtbot.mouseClick(w.generation_panel.accept_button, Qt.MouseButton.LeftButton)
    assert len(w.document) == n + 6
    focus = QApplication.focusWidget()
    assert focus is w.canvas
    QTest.keyClick(focus, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(w.document) == n
    box = w.actions_.width_box
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Delete)   # clears the drawing
    assert w.document.is_empty and box.text() == str(box.value())


def test_undo_works_while_the_width_box_has_the_keyboard(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    box = w.actions_.width_box
    box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is box.lineEdit()
                    or QApplication.focusWidget() is box, timeout=2000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.document.is_empty


# -- 3. messages that fit their cause -----------------------------------------------------------
def test_a_success_replaces_an_error(qtbot, make_window, aloop, tmp_path):
    w = make_window()
    assert not aloop.run_until_complete(w.files.open(str(tmp_path / "missing.png")))
    assert "Could not open missing.png" in w.message_bar.text()
    good = tmp_path / "good.visketch"
    draw(w.canvas, line(50, 50, 200, 50))
    assert aloop.run_until_complete(w.files.save(str(good)))
    assert "Could not open" not in w.message_bar.text()
    assert aloop.run_until_complete(w.files.open(str(good)))
    assert w.message_bar.level == "info" and "Opened good.visketch" in w.message_bar.text()


def test_an_error_about_an_action_goes_once_the_action_succeeds(qtbot, gen_window, monkeypatch):
    import app.main_window as mw

    w = gen_window(strokes=0)
    assert not w.generation.draw_new(w.generation_panel.choice())   # no guess, no class
    assert "Pick a class to draw" in w.message_bar.text()
    w.generation_panel.class_box.setCurrentText("cat")
    assert w.generation.draw_new(w.generation_panel.choice())
    run_to_end(qtbot, w.generation)
    assert "Pick a class" not in w.message_bar.text()
    monkeypatch.setattr(mw, "ACTION_ERROR_MS", 50)
    w.show_error("Nothing to accept yet")
    qtbot.waitUntil(lambda: w.message_bar.text() == "", timeout=2000)


# -- 4. the pen width belongs to each stroke ----------------------------------------------------
def ink_rows(img: np.ndarray, x: int) -> int:
    """How many dark pixels the column ``x`` of a grey image holds."""
    return int((img[:, x] < 128).sum())


def test_pen_width_belongs_to_each_stroke_and_is_saved_and_exported(qtbot, make_window, aloop,
                                                                    tmp_path):
    import cv2

    w = make_window()
    w.actions_.quadtree.setChecked(False)
    draw(w.canvas, line(50, 100, 250, 100))
    wait_idle(qtbot, w)
    qtbot.wait(20)
    thin = w.canvas.grab().toImage().copy(40, 80, 220, 40)
    focus_on_canvas(qtbot, w)
    for _ in range(5):
        QTest.keyClick(w.canvas, Qt.Key.Key_BracketRight)
    assert w.settings.pen_width == 8.0
    qtbot.wait(20)
    assert w.canvas.grab().toImage().copy(40, 80, 220, 40) == thin   # the drawn stroke stays
    draw(w.canvas, line(50, 200, 250, 200))
    assert [s.width for s in w.document.strokes] == [3.0, 8.0]
    doc = tmp_path / "two.visketch"
    assert aloop.run_until_complete(w.files.save(str(doc)))
    w.set_document(w.document.to_sketch().first_strokes(0), None)
    assert aloop.run_until_complete(w.files.open(str(doc)))
    assert [s.width for s in w.document.strokes] == [3.0, 8.0]
    w.settings.export_png_size = 512
    png = tmp_path / "two.png"
    assert aloop.run_until_complete(w.files.export(str(png)))
    img = cv2.imdecode(np.fromfile(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (512, 512)
    top, bottom = img[:256], img[256:]
    assert ink_rows(bottom, 256) > 2 * ink_rows(top, 256) > 0


# -- 5. the picked class does not stick ------------------------------------------------------------
def test_a_class_picked_for_draw_it_is_not_used_by_the_next_completion(qtbot, gen_window,
                                                                       backend):
    w = gen_window()
    focus_on_canvas(qtbot, w)
    top = w.latest_prediction.label
    panel = w.generation_panel
    panel.class_box.setCurrentText("cat")
    assert top != "cat"
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    run_to_end(qtbot, w.generation)
    assert backend.jobs[-1].label == "cat"
    w.generation.reject()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    run_to_end(qtbot, w.generation)
    assert backend.jobs[-1].mode == "complete" and backend.jobs[-1].label == top
    # pinned: the class stays, visibly
    panel.keep_box.setChecked(True)
    panel.class_box.setCurrentText("cat")
    w.generation.complete_sketch(panel.choice())
    run_to_end(qtbot, w.generation)
    w.generation.complete_sketch(panel.choice())
    run_to_end(qtbot, w.generation)
    assert backend.jobs[-1].label == "cat" and panel.class_box.currentText() == "cat"


# -- 6. the view comes back after Reject -----------------------------------------------------------
def test_reject_puts_the_view_back(qtbot, gen_window):
    w = gen_window()
    c = w.canvas
    c.fit_view()
    before = c.transform()
    w.generation.complete_sketch()
    assert c.transform() != before          # zoomed out to show the whole frame
    run_to_end(qtbot, w.generation)
    qtbot.mouseClick(w.generation_panel.reject_button, Qt.MouseButton.LeftButton)
    assert c.transform() == before
    w.generation.complete_sketch()          # cancelled midway: the view comes back too
    w.generation.cancel()
    assert c.transform() == before


# -- 7. a panel that fits ---------------------------------------------------------------------
def test_everything_a_completion_needs_is_in_view_at_1280x720(qtbot, gen_window):
    w = gen_window(candidates=2)
    w.resize(1280, 720)
    w.generation.complete_sketch()
    run_to_end(qtbot, w.generation)
    qtbot.wait(50)
    panel = w.generation_panel
    scroll = panel.parentWidget().parentWidget()     # the dock's scroll area
    assert scroll.verticalScrollBar().maximum() == 0, "the panel needs scrolling"
    for wid in (panel.complete_button, panel.draw_button, panel.accept_button,
                panel.reject_button, panel.list):
        assert wid.isVisible() and not wid.visibleRegion().isEmpty()
    assert panel.list.count() == 2


def test_complete_my_sketch_stays_on_the_toolbar_at_1000x600(qtbot, make_window):
    w = make_window()
    w.resize(1000, 600)
    qtbot.wait(50)
    tb = w.actions_.toolbar
    button = tb.widgetForAction(w.actions_.complete)
    assert button is not None and button.isVisible()
    assert tb.rect().contains(button.geometry())


def test_the_leaf_vote_card_is_off_by_default_and_never_at_the_pen(qtbot, make_window):
    from app.settings import AppSettings

    assert AppSettings().show_leaf_votes is False
    w = make_window()
    assert not w.actions_.votes.isChecked()
    w.actions_.votes.setChecked(True)
    draw(w.canvas, line(100, 100, 300, 300))
    draw(w.canvas, line(100, 300, 300, 100))
    qtbot.waitUntil(lambda: w.latest_prediction is not None
                    and w.latest_prediction.top[0][1] >= 0.5, timeout=5000)
    wait_idle(qtbot, w)
    QTest.mouseMove(w.canvas, QPoint(296, 104))     # the pen tip, just lifted
    qtbot.wait(600)
    QTest.mouseMove(w.canvas, QPoint(294, 106))
    qtbot.wait(600)
    assert w.canvas.hovered_leaf == -1
    with qtbot.waitSignal(w.canvas.leaf_hovered, timeout=2000):
        QTest.mouseMove(w.canvas, QPoint(151, 149))   # a real hover, away from the pen
    assert w.canvas.hovered_leaf == 0


# -- a QuickDraw file opened in a large window -------------------------------------------------
def test_a_quickdraw_sketch_fitted_to_a_large_window_keeps_a_normal_line_weight(qtbot, make_window):
    from visketch_core.sketch.model import Sketch

    w = make_window()
    w.resize(1280, 720)
    qtbot.wait(50)
    square = np.array([[0, 0], [255, 0], [255, 255], [0, 255], [0, 0]], np.float32)
    w.set_document(Sketch(strokes=[square], label="square"), path=None)
    c = w.canvas
    scale = c.transform().m11()
    width_px = w.document.strokes[0].width * scale
    assert width_px <= 6.0, f"a 3-unit line shows {width_px:.1f} px wide at the fit zoom"
    top_left, bottom_right = c.to_widget(0, 0), c.to_widget(255, 255)  # nothing clipped
    assert top_left.x() >= 0 and top_left.y() >= 0
    assert bottom_right.x() <= c.width() and bottom_right.y() <= c.height()
