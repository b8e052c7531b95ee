"""Menus, toolbar and shortcuts of the main window (wiring only: the slots live elsewhere)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QSpinBox, QToolBar

if TYPE_CHECKING:
    from app.main_window import MainWindow


def _task(window: MainWindow, coro_fn):
    """A slot that runs a coroutine on the qasync loop."""
    return lambda *_: asyncio.ensure_future(coro_fn())


def build_actions(w: MainWindow) -> SimpleNamespace:
    a = SimpleNamespace()

    def act(text: str, slot=None, shortcut=None, checkable=False, checked=False, tip=""):
        action = QAction(text, w)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
        if tip:
            action.setStatusTip(tip)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        w.addAction(action)  # shortcuts work even when menus are hidden
        return action

    f = w.files
    a.new = act("&New", _task(w, f.new), QKeySequence.StandardKey.New)
    a.open = act("&Open...", _task(w, f.open), "Ctrl+O")
    a.save = act("&Save", _task(w, f.save), "Ctrl+S")
    a.save_as = act("Save &As...", _task(w, lambda: f.save(ask=True)), "Ctrl+Shift+S")
    a.import_ = act("&Import (QuickDraw, SVG, PNG)...", _task(w, f.import_), "Ctrl+I")
    a.export = act("&Export PNG/SVG...", _task(w, f.export), "Ctrl+E")
    a.quit = act("&Quit", w.close, QKeySequence.StandardKey.Quit)

    a.undo = w.undo_stack.createUndoAction(w, "&Undo")
    a.undo.setShortcuts([QKeySequence("Ctrl+Z")])
    a.redo = w.undo_stack.createRedoAction(w, "&Redo")
    a.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for action in (a.undo, a.redo):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        w.addAction(action)
    a.clear = act("&Clear", w.clear_drawing, [QKeySequence(Qt.Key.Key_Delete), "Backspace"])
    tools = QActionGroup(w)
    a.pen = act("&Pen", lambda on: on and w.canvas.set_tool("pen"), "P", True, True)
    a.eraser = act("&Stroke eraser", lambda on: on and w.canvas.set_tool("eraser"), "E", True)
    tools.addAction(a.pen)
    tools.addAction(a.eraser)
    a.thinner = act("Thinner pen", lambda: w.set_pen_width(w.settings.pen_width - 1), "[")
    a.thicker = act("Thicker pen", lambda: w.set_pen_width(w.settings.pen_width + 1), "]")

    s = w.settings
    a.quadtree = act("&Quadtree", w.overlays_changed, "Ctrl+1", True, s.show_quadtree,
                     "Leaf boxes, coloured by depth")
    a.heatmap = act("&Attention heatmap", w.overlays_changed, "Ctrl+2", True, s.show_heatmap,
                    "Each leaf shaded by its pooling weight")
    a.votes = act("Leaf &votes on hover", w.overlays_changed, "Ctrl+3", True,
                  s.show_leaf_votes, "Hover a leaf to see its own top classes")
    a.zoom_in = act("Zoom &in", lambda: w.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
    a.zoom_out = act("Zoom &out", lambda: w.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
    a.fit = act("&Fit drawing", w.canvas.fit_view, "Ctrl+0")
    a.replay = act("&Replay strokes", w.toggle_replay, "Ctrl+R")

    a.live = act("&Live classification while drawing", w.set_live, None, True,
                 s.live_classification)
    a.cpu = act("Force &CPU", w.set_force_cpu, None, True, w.device_choice() == "cpu",
                "Run the model on the CPU even when a GPU is available (reloads it)")

    mb = w.menuBar()
    m = mb.addMenu("&File")
    for x in (a.new, a.open):
        m.addAction(x)
    w.recent_menu = m.addMenu("Open &Recent")
    m.addSeparator()
    for x in (a.save, a.save_as):
        m.addAction(x)
    m.addSeparator()
    for x in (a.import_, a.export):
        m.addAction(x)
    m.addSeparator()
    m.addAction(a.quit)
    m = mb.addMenu("&Edit")
    for x in (a.undo, a.redo, a.clear, None, a.pen, a.eraser, a.thinner, a.thicker):
        m.addSeparator() if x is None else m.addAction(x)
    m = mb.addMenu("&View")
    for x in (a.quadtree, a.heatmap, a.votes, None, a.zoom_in, a.zoom_out, a.fit, None,
              a.replay):
        m.addSeparator() if x is None else m.addAction(x)
    m = mb.addMenu("&Model")
    m.addAction(a.live)
    m.addAction(a.cpu)
    g, panel = w.generation, w.generation_panel
    a.complete = act("&Complete my sketch", lambda: g.complete_sketch(panel.choice()), "Ctrl+G",
                     tip="Finish the drawing as the chosen class (or the top guess)")
    a.draw_new = act("&Draw it", lambda: g.draw_new(panel.choice()), "Ctrl+Shift+G",
                     tip="Draw a new sketch of the chosen class")
    a.cancel_gen = act("C&ancel generation", lambda: g.cancel(), "Ctrl+.")
    a.accept_gen = act("&Accept candidate", g.accept, "Ctrl+Return")
    a.reject_gen = act("&Reject candidates", g.reject, "Ctrl+Backspace")
    a.export_gen = act("&Export candidate...", _task(w, g.export))
    m = mb.addMenu("&Generate")
    for x in (a.complete, a.draw_new, a.cancel_gen, None, a.accept_gen, a.reject_gen,
              a.export_gen):
        m.addSeparator() if x is None else m.addAction(x)

    tb = QToolBar("Tools", w)
    tb.setObjectName("tools")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for x in (a.pen, a.eraser):
        tb.addAction(x)
    tb.addWidget(QLabel("  width "))
    a.width_box = QSpinBox()
    a.width_box.setRange(1, 40)
    a.width_box.setValue(round(s.pen_width))
    a.width_box.setToolTip("Pen width in screen pixels ([ and ])")
    a.width_box.valueChanged.connect(lambda v: w.set_pen_width(float(v)))
    tb.addWidget(a.width_box)
    tb.addSeparator()
    a.undo_tb = QAction("Undo", w)  # short labels: the menu's carry the command's name
    a.undo_tb.triggered.connect(w.undo_stack.undo)
    w.undo_stack.canUndoChanged.connect(a.undo_tb.setEnabled)
    a.redo_tb = QAction("Redo", w)
    a.redo_tb.triggered.connect(w.undo_stack.redo)
    w.undo_stack.canRedoChanged.connect(a.redo_tb.setEnabled)
    a.undo_tb.setEnabled(False)
    a.redo_tb.setEnabled(False)
    for x in (a.undo_tb, a.redo_tb, a.clear, None, a.quadtree, a.heatmap, a.votes, None, a.replay,
              None, a.complete):
        tb.addSeparator() if x is None else tb.addAction(x)
    w.addToolBar(tb)
    a.toolbar = tb
    return a
