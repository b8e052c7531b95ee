"""Desktop conventions: Help, shortcuts in tooltips, zoom keys and level, drop to open,
the model's threshold, visible dots, fitting, accelerators, files and settings."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import numpy as np
from app_fakes import draw, line
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def test_help_menu_about_shortcuts_and_classes(make_window):
    from visketch_core import __version__

    w = make_window()
    menus = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert menus[-1] == "Help"
    about = w.help.about().text()
    assert __version__ in about and "CC BY 4.0" in about and "Quick, Draw!" in about
    assert "Google Creative Lab" in about and "LGPL" in about and "%" in about
    keys = w.help.shortcuts([w.actions_.undo, w.actions_.complete]).text()
    assert "Ctrl+Z" in keys and "Ctrl+G" in keys
    classes = w.help.classes(w.known_classes()).text()
    assert "zigzag" in classes and "triangle" in classes      # the loaded model's classes


def test_tooltips_name_the_shortcuts(make_window):
    w = make_window()
    a = w.actions_
    assert "(Ctrl+G)" in a.complete.toolTip()
    assert "(Ctrl+Z)" in a.undo_tb.toolTip()
    assert "Ctrl+G" in w.generation_panel.complete_button.toolTip()


def test_ctrl_equals_zooms_in_and_the_zoom_level_shows(qtbot, make_window):
    w = make_window()
    w.activateWindow()
    w.canvas.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.canvas, timeout=2000)
    assert w.status_zoom.text() == "Zoom 100%"
    QTest.keyClick(w.canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert abs(w.canvas.scale - 1.25) < 1e-6 and w.status_zoom.text() == "Zoom 125%"


def test_the_threshold_line_is_the_loaded_models(make_window, recognizer):
    recognizer.threshold = 0.8
    w = make_window()
    assert abs(w.panel.threshold_line.value() - 0.8) < 1e-9


def test_dropping_a_file_opens_it(qtbot, make_window, aloop, tmp_path):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    path = tmp_path / "dropped.visketch"
    assert aloop.run_until_complete(w.files.save(str(path)))
    w.set_document(w.document.to_sketch().first_strokes(0), None)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    w.dragEnterEvent(enter)
    assert enter.isAccepted() and w.acceptDrops()
    w.dropEvent(QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    for _ in range(100):                      # the open runs as a task on the qasync loop
        if len(w.document) == 1:
            break
        aloop.run_until_complete(asyncio.sleep(0.03))
    assert len(w.document) == 1
    assert w.files.path == str(path.resolve())


def test_a_single_click_leaves_a_visible_dot(qtbot, make_window):
    w = make_window()
    w.actions_.quadtree.setChecked(False)
    w.set_pen_width(6)
    QTest.mouseClick(w.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(200, 200))
    assert len(w.document) == 1 and len(w.document.stroke(0).points) == 1
    qtbot.wait(20)
    img = w.canvas.grab().toImage()
    dark = sum(img.pixelColor(x, y).lightness() < 128
               for x in range(190, 211) for y in range(190, 211))
    assert dark >= 16          # about a 6 px disc, not a 1 px point


def test_fit_shows_wide_strokes_whole(qtbot, make_window):
    w = make_window()
    w.set_pen_width(40)
    draw(w.canvas, line(20, 20, 700, 20))
    draw(w.canvas, line(20, 20, 20, 500))
    w.canvas.fit_view()
    x0, y0, x1, y1 = w.canvas.ink_bounds()
    tl, br = w.canvas.to_widget(x0, y0), w.canvas.to_widget(x1, y1)
    assert tl.x() >= 0 and tl.y() >= 0
    assert br.x() <= w.canvas.width() and br.y() <= w.canvas.height()


def test_save_and_discard_have_accelerators():
    from PySide6.QtWidgets import QMessageBox

    from app.dialogs import Dialogs

    box = Dialogs()._save_changes_box("drawing.visketch")
    assert box.button(QMessageBox.StandardButton.Save).text() == "&Save"
    assert box.button(QMessageBox.StandardButton.Discard).text() == "&Discard"


def test_saved_drawings_get_normal_permissions(make_window, aloop, tmp_path):
    w = make_window()
    draw(w.canvas, line(50, 50, 200, 50))
    old = os.umask(0o022)
    try:
        path = tmp_path / "perm.visketch"
        assert aloop.run_until_complete(w.files.save(str(path)))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_settings_and_recent_files_are_written_when_they_change(qtbot, make_window, aloop,
                                                                tmp_path):
    from app.settings import settings_path

    w = make_window()
    w.set_pen_width(9)
    qtbot.waitUntil(lambda: settings_path().exists()
                    and json.loads(settings_path().read_text())["pen_width"] == 9.0,
                    timeout=3000)
    draw(w.canvas, line(50, 50, 200, 50))
    path = tmp_path / "recent.visketch"
    assert aloop.run_until_complete(w.files.save(str(path)))
    qtbot.waitUntil(lambda: str(path.resolve())
                    in json.loads(settings_path().read_text())["recent_files"], timeout=3000)
    assert not w._shut_down           # all of it before the window closes


def test_widths_survive_a_crash_through_the_autosave(qtbot, make_window, tmp_path):
    import shutil

    w = make_window(autosave_dir=tmp_path / "auto")
    w.set_pen_width(7)
    draw(w.canvas, line(50, 50, 200, 50))
    # what a crashed session of another process leaves behind
    crashed = w.autosave.path.with_name("autosave-999999.visketch")
    shutil.copy(w.autosave.path, crashed)
    shutil.copy(w.autosave.path.with_suffix(".json"), crashed.with_suffix(".json"))
    w2 = make_window(autosave_dir=tmp_path / "auto")
    survivor = w2.offer_restore()
    assert survivor is not None and w2.restore(survivor)
    assert [s.width for s in w2.document.strokes] == [7.0]
    assert np.allclose(w2.document.stroke(0).points, w.document.stroke(0).points)
