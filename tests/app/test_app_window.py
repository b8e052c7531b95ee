"""The window end to end (offscreen): drawing, live predictions, undo/redo, overlays."""

from __future__ import annotations

import numpy as np
from app_fakes import CLASSES, draw, line
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from visketch_core.errors import ModelError


def wait_shown(qtbot, w, n_strokes: int):
    """Wait until the panel shows an answer about ``n_strokes`` strokes."""
    qtbot.waitUntil(lambda: w.latest_prediction is not None
                    and w.live._shown >= w.live.last_request_id
                    and len(w.document) == n_strokes, timeout=5000)


def test_mouse_strokes_reach_the_worker_and_the_chart(qtbot, make_window, recognizer):
    w = make_window()
    assert w.status_device.text() == "Device: CPU"
    assert w.panel.headline.text() == "Draw something"
    draw(w.canvas, line(60, 60, 220, 200))
    wait_shown(qtbot, w, 1)
    assert w.panel.headline.text() == "Not sure yet"  # one stroke: below the threshold
    assert "below the 50% confidence threshold" in w.panel.detail.text()
    draw(w.canvas, line(60, 200, 220, 60))
    wait_shown(qtbot, w, 2)
    assert recognizer.calls[-1] == 2
    assert w.panel.top[0] == (CLASSES[2], 0.699999988079071)
    assert w.panel.headline.text().startswith(CLASSES[2])
    # the chart holds the top-5 bars, best at the top, labelled with the classes
    widths = list(w.panel.bars.opts["width"])
    assert len(widths) == 5 and abs(widths[0] - 0.7) < 1e-6 and widths == sorted(widths)[::-1]
    ticks = w.panel.plot.getAxis("left")._tickLevels[0]
    assert ticks[0][1].startswith(CLASSES[2])
    assert w.status_leaves.text() == "Leaves: 4"
    assert w.status_strokes.text() == "Strokes: 2"
    # the stroke's points are in document coordinates and carry timing
    s = w.document.stroke(1)
    assert np.allclose(s.points[0], (60, 200)) and np.allclose(s.points[-1], (220, 60))
    assert s.times is not None and s.times[0] > w.document.stroke(0).times[-1]


def test_classifies_during_the_stroke_too(qtbot, make_window, recognizer):
    w = make_window()
    draw(w.canvas, line(40, 40, 300, 300, n=30), wait_ms=20, release=False)
    assert w.canvas.drawing
    qtbot.waitUntil(lambda: w.latest_prediction is not None, timeout=5000)
    assert len(recognizer.calls) >= 2  # several live requests during one stroke
    assert len(w.document) == 0  # nothing committed yet
    QTest.mouseRelease(w.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(300, 300))
    wait_shown(qtbot, w, 1)


def test_undo_and_redo_with_the_shortcuts(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    draw(w.canvas, line(50, 80, 200, 80))
    draw(w.canvas, line(50, 110, 200, 110))
    wait_shown(qtbot, w, 3)
    assert w.undo_stack.count() == 3 and w.isWindowModified()
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_shown(qtbot, w, 2)
    assert w.panel.top[0][0] == CLASSES[2]
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.panel.headline.text() == "Draw something", timeout=5000)
    assert len(w.document) == 0 and w.latest_prediction is None
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    wait_shown(qtbot, w, 2)
    assert np.allclose(w.document.stroke(1).points[0], (50, 80))


def test_delete_clears_and_undo_brings_it_back(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    draw(w.canvas, line(50, 80, 200, 80))
    QTest.keyClick(w, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: w.panel.headline.text() == "Draw something", timeout=5000)
    assert len(w.document) == 0
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_shown(qtbot, w, 2)


def test_stroke_eraser_removes_touched_strokes_in_one_undo_step(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(50, 50, 250, 50))
    draw(w.canvas, line(50, 100, 250, 100))
    draw(w.canvas, line(50, 200, 250, 200))
    w.actions_.eraser.trigger()
    assert w.canvas.tool == "eraser"
    draw(w.canvas, line(150, 30, 150, 130))  # crosses the first two strokes
    assert len(w.document) == 1
    assert np.allclose(w.document.stroke(0).points[0], (50, 200))
    assert w.undo_stack.count() == 4
    w.undo_stack.undo()
    assert len(w.document) == 3 and np.allclose(w.document.stroke(1).points[0], (50, 100))
    draw(w.canvas, line(400, 400, 420, 420))  # erasing nothing adds no undo step
    assert w.undo_stack.count() == 4 - 0 and w.undo_stack.index() == 3


def test_coordinates_do_not_depend_on_zoom(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(100, 100, 200, 100))
    before = w.document.stroke(0).points.copy()
    w.canvas.zoom_by(2.0, QPointF(0, 0))
    assert w.canvas.scale == 2.0
    assert np.array_equal(w.document.stroke(0).points, before)
    draw(w.canvas, line(200, 200, 400, 200))  # widget px at 2x -> document / 2
    assert np.allclose(w.document.stroke(1).points[0], (100, 100))
    assert np.allclose(w.document.stroke(1).points[-1], (200, 100))


def test_worker_exception_shows_a_message_and_the_app_goes_on(qtbot, make_window, recognizer):
    w = make_window()
    recognizer.fail_next = 1
    with qtbot.waitSignal(w.message_bar.shown, timeout=5000) as blocker:
        draw(w.canvas, line(50, 50, 200, 50), wait_ms=0)
    assert blocker.args == ["error", "Classification failed: RuntimeError: boom in the model"]
    assert w.message_bar.text() == blocker.args[1]
    draw(w.canvas, line(50, 80, 200, 80))
    wait_shown(qtbot, w, 2)  # the worker lived on
    assert w.panel.top[0][0] == CLASSES[2]
    assert w.worker.thread_.isRunning()


def test_missing_model_is_a_message_and_drawing_still_works(qtbot, make_window):
    def factory(device):
        raise ModelError("resources/models/classifier.pt: no such file")

    w = make_window(factory=factory, load=False)
    w.worker.load("auto")
    qtbot.waitUntil(lambda: "Could not load the model" in w.message_bar.text(), timeout=5000)
    assert w.message_bar.text() == ("Could not load the model: "
                                    "resources/models/classifier.pt: no such file")
    assert w.status_device.text() == "Device: no model"
    draw(w.canvas, line(50, 50, 200, 50))
    assert len(w.document) == 1


def test_hover_shows_a_leaf_vote(qtbot, make_window):
    w = make_window()
    w.actions_.votes.setChecked(True)   # off by default
    draw(w.canvas, line(100, 100, 300, 300))
    draw(w.canvas, line(100, 300, 300, 100))
    wait_shown(qtbot, w, 2)
    QTest.mouseMove(w.canvas, QPoint(20, 20))   # a real move follows, wherever the cursor was
    with qtbot.waitSignal(w.canvas.leaf_hovered, timeout=2000) as blocker:
        QTest.mouseMove(w.canvas, QPoint(150, 150))
    assert blocker.args == [0] and w.canvas.hovered_leaf == 0
    img = w.canvas.grab().toImage()
    # the vote card is drawn next to the pointer: white card, dark text
    assert img.pixelColor(180, 180).lightness() > 200
    w.actions_.votes.setChecked(False)
    QTest.mouseMove(w.canvas, QPoint(152, 152))
    assert w.canvas.hovered_leaf == -1


def test_overlays_toggle_and_paint(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(100, 100, 300, 300))
    draw(w.canvas, line(100, 300, 300, 100))
    wait_shown(qtbot, w, 2)
    QTest.mouseMove(w.canvas, QPoint(5, 5))
    probe = (130, 180)  # inside leaf 0 (weight 0.4, the largest), away from the ink
    w.actions_.heatmap.setChecked(False)
    plain = w.canvas.grab().toImage().pixelColor(*probe)
    assert (plain.red(), plain.green(), plain.blue()) == (255, 255, 255)
    w.actions_.heatmap.setChecked(True)
    assert w.settings.show_heatmap and w.canvas.flags.heatmap
    hot = w.canvas.grab().toImage().pixelColor(*probe)
    assert hot.red() > hot.green() + 60  # shaded by its attention weight
    w.actions_.quadtree.setChecked(True)
    edge = w.canvas.grab().toImage().pixelColor(200, 130)  # the boxes' shared edge x = 200
    assert edge.green() < 230 or edge.blue() < 230
    w.actions_.quadtree.setChecked(False)
    assert not w.settings.show_quadtree


def test_replay_redraws_the_strokes(qtbot, make_window):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    draw(w.canvas, line(50, 80, 200, 80))
    frames = []
    w.replayer.frame.connect(lambda s: frames.append(sum(len(x) for x in s)))
    with qtbot.waitSignal(w.replayer.finished, timeout=10000):
        w.actions_.replay.trigger()
        assert not w.canvas.input_enabled
    assert len(frames) >= 3 and frames == sorted(frames) and frames[-1] == 24
    assert w.canvas.input_enabled and w._replay_strokes is None
    assert len(w.document) == 2


def test_settings_and_geometry_persist(qtbot, make_window):
    from app.settings import AppSettings, window_state_path

    w = make_window()
    w.set_pen_width(9)
    w.actions_.heatmap.setChecked(True)
    w.resize(700, 500)  # fits the offscreen 800 x 600 screen
    w.close()
    assert window_state_path().is_file()
    s = AppSettings.load()
    assert s.pen_width == 9 and s.show_heatmap
    w2 = make_window()
    assert w2.canvas.pen_width == 9 and w2.actions_.heatmap.isChecked()
    assert w2.actions_.width_box.value() == 9
    assert (w2.width(), w2.height()) == (700, 500)


def test_touch_and_tablet_strokes(qtbot, make_window):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    w = make_window()
    touch = QTest.createTouchDevice()
    seq = QTest.touchEvent(w.canvas, touch)
    seq.press(0, QPoint(60, 60), w.canvas).commit()
    for x in range(70, 200, 10):
        QTest.touchEvent(w.canvas, touch).move(0, QPoint(x, 60), w.canvas).commit()
    QTest.touchEvent(w.canvas, touch).release(0, QPoint(200, 60), w.canvas).commit()
    assert len(w.document) == 1
    assert np.allclose(w.document.stroke(0).points[[0, -1]], [(60, 60), (200, 60)])

    stylus = QPointingDevice("pen", 1, QInputDevice.DeviceType.Stylus,
                             QPointingDevice.PointerType.Pen, QInputDevice.Capability.Position
                             | QInputDevice.Capability.Pressure, 1, 3)

    def tablet(kind, x, y):
        pos = QPointF(x, y)
        ev = QTabletEvent(kind, stylus, pos, w.canvas.mapToGlobal(pos), 0.7, 0.0, 0.0, 0.0,
                          0.0, 0.0, Qt.KeyboardModifier.NoModifier,
                          Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        QApplication.sendEvent(w.canvas, ev)
        return ev.isAccepted()

    assert tablet(QEvent.Type.TabletPress, 60, 150)
    for x in range(70, 200, 10):
        tablet(QEvent.Type.TabletMove, x, 150 + x / 10)
    tablet(QEvent.Type.TabletRelease, 200, 170)
    assert len(w.document) == 2
    assert np.allclose(w.document.stroke(1).points[[0, -1]], [(60, 150), (200, 170)])
    wait_shown(qtbot, w, 2)


def test_force_cpu_reloads_the_model_on_the_cpu(qtbot, make_window, aloop, recognizer):
    import asyncio

    asked = []

    def factory(device):
        asked.append(device)
        return recognizer

    w = make_window(factory=factory)
    assert asked == ["auto"]
    w.actions_.cpu.setChecked(True)

    async def reloaded():
        while len(asked) < 2 or not w.live.ready:
            await asyncio.sleep(0.01)

    aloop.run_until_complete(asyncio.wait_for(reloaded(), 5))
    assert asked == ["auto", "cpu"] and w.settings.device == "cpu"


def test_a_threshold_near_one_is_not_rounded_up_to_100_percent():
    from app.panels import _threshold_pct

    assert _threshold_pct(0.995) == "99.5"
    assert _threshold_pct(0.5) == "50"
    assert _threshold_pct(0.9915) == "99.2"


def test_the_generation_panel_says_its_models_load_on_first_use(make_window):
    w = make_window()
    panel = w.generation_panel
    panel.refresh()
    assert panel.status.text() == "The generation models load when you first ask for a sketch"
