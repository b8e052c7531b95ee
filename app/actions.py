"""Menus, toolbar and shortcuts of the main window (wiring only: the slots live elsewhere).

Shortcuts are window-wide and work whatever widget has the keyboard: the few editable
boxes in the window (the pen width, the candidate count) let Undo and Redo through
instead of keeping them for their own text (``ShortcutsFirst``), and give the keyboard
back to the canvas once edited. Tooltips name each action's shortcut.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMenuBar, QSpinBox, QToolBar, QWidget

from app.host import WindowHost

# keys an edit box must not keep for itself: the drawing's undo and redo
WINDOW_KEYS = (QKeySequence("Ctrl+Z"), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))


class ActionHost(WindowHost, Protocol):
    """The window as its menus see it: the controllers and the slots they call."""

    files: Any
    generation: Any
    generation_panel: Any
    help: Any
    recent_menu: Any

    def menuBar(self) -> QMenuBar: ...  # noqa: N802
    def addAction(self, action: QAction) -> None: ...  # noqa: N802
    def addToolBar(self, toolbar: QToolBar) -> None: ...  # noqa: N802
    def close(self) -> bool: ...
    def clear_drawing(self) -> None: ...
    def set_pen_width(self, width: float) -> None: ...
    def overlays_changed(self, *_args: Any) -> None: ...
    def toggle_replay(self) -> None: ...
    def set_live(self, on: bool) -> None: ...
    def set_force_cpu(self, on: bool) -> None: ...
    def known_classes(self) -> list[str]: ...


class ShortcutsFirst(QObject):
    """Event filter for edit boxes: window shortcuts win over the box's own text undo."""

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent):
            seq = QKeySequence(e.keyCombination())
            if any(seq.matches(k) == QKeySequence.SequenceMatch.ExactMatch
                   for k in WINDOW_KEYS):
                return True     # left unaccepted: the window's shortcut runs
        return False


def guard_edit_box(box: QSpinBox, canvas: QWidget, filt: ShortcutsFirst) -> None:
    """Let the window's shortcuts through ``box`` and hand the keyboard back when done."""
    box.installEventFilter(filt)
    box.lineEdit().installEventFilter(filt)
    box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # Tab from the canvas does not land here
    box.editingFinished.connect(lambda: canvas.setFocus(Qt.FocusReason.OtherFocusReason))


def _task(coro_fn):
    """A slot that runs a coroutine on the qasync loop."""
    return lambda *_: asyncio.ensure_future(coro_fn())


def _keys_text(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                     for k in action.shortcuts())


def add_shortcut_tips(actions: list[QAction]) -> None:
    """"Undo (Ctrl+Z)": tooltips that teach the keys."""
    for a in actions:
        plain = a.text().replace("&", "").rstrip(".")
        keys = _keys_text(a)
        tip = a.statusTip() or plain
        a.setToolTip(f"{tip} ({keys})" if keys else tip)


def build_actions(w: ActionHost) -> SimpleNamespace:
    a = SimpleNamespace()
    made: list[QAction] = []

    def act(text: str, slot=None, shortcut=None, checkable=False, checked=False, tip="",
            short=""):
        action = QAction(text, w)   # type: ignore[arg-type]
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
        if tip:
            action.setStatusTip(tip)
        if short:
            action.setIconText(short)   # the toolbar's label
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        w.addAction(action)  # shortcuts work even when menus are hidden
        made.append(action)
        return action

    f = w.files
    a.new = act("&New", _task(f.new), QKeySequence.StandardKey.New)
    a.open = act("&Open...", _task(f.open), "Ctrl+O", tip="Open a drawing (or drop a file "
                 "on the window)")
    a.save = act("&Save", _task(f.save), "Ctrl+S")
    a.save_as = act("Save &As...", _task(lambda: f.save(ask=True)), "Ctrl+Shift+S")
    a.import_ = act("&Import (QuickDraw, SVG, PNG)...", _task(f.import_), "Ctrl+I")
    a.export = act("&Export PNG/SVG...", _task(f.export), "Ctrl+E",
                   tip="Export the drawing: PNG at a size you pick, or SVG")
    a.quit = act("&Quit", w.close, QKeySequence.StandardKey.Quit)

    a.undo = w.undo_stack.createUndoAction(w, "&Undo")   # type: ignore[arg-type]
    a.undo.setShortcuts([QKeySequence("Ctrl+Z")])
    a.redo = w.undo_stack.createRedoAction(w, "&Redo")   # type: ignore[arg-type]
    a.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for action in (a.undo, a.redo):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        w.addAction(action)
        made.append(action)
    a.clear = act("&Clear", w.clear_drawing, [QKeySequence(Qt.Key.Key_Delete), "Backspace"],
                  tip="Remove every stroke (undoable)")
    tools = QActionGroup(w)   # type: ignore[arg-type]
    a.pen = act("&Pen", lambda on: on and w.canvas.set_tool("pen"), "P", True, True)
    a.eraser = act("&Stroke eraser", lambda on: on and w.canvas.set_tool("eraser"), "E", True,
                   tip="Erase whole strokes", short="Eraser")
    tools.addAction(a.pen)
    tools.addAction(a.eraser)
    a.thinner = act("Thinner pen", lambda: w.set_pen_width(w.settings.pen_width - 1), "[")
    a.thicker = act("Thicker pen", lambda: w.set_pen_width(w.settings.pen_width + 1), "]")

    s = w.settings
    a.quadtree = act("&Quadtree", w.overlays_changed, "Ctrl+1", True, s.show_quadtree,
                     "Leaf boxes, coloured by depth")
    a.heatmap = act("&Attention heatmap", w.overlays_changed, "Ctrl+2", True, s.show_heatmap,
                    "Each leaf shaded by its pooling weight", short="Heatmap")
    a.votes = act("Leaf &votes on hover", w.overlays_changed, "Ctrl+3", True,
                  s.show_leaf_votes, "Rest the pointer on a leaf to see its own top classes",
                  short="Leaf votes")
    a.zoom_in = act("Zoom &in", lambda: w.canvas.zoom_by(1.25),
                    [QKeySequence.StandardKey.ZoomIn, "Ctrl+="])
    a.zoom_out = act("Zoom &out", lambda: w.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
    a.fit = act("&Fit drawing", w.canvas.fit_view, "Ctrl+0", tip="Show the whole drawing")
    a.replay = act("&Replay strokes", w.toggle_replay, "Ctrl+R", short="Replay")

    a.live = act("&Live classification while drawing", w.set_live, None, True,
                 s.live_classification)
    a.cpu = act("Force &CPU", w.set_force_cpu, None, True, w.device_choice() == "cpu",
                "Run the model on the CPU even when a GPU is available (reloads it)")
    g, panel = w.generation, w.generation_panel
    a.complete = act("&Complete my sketch", lambda: g.complete_sketch(panel.choice()), "Ctrl+G",
                     tip="Finish the drawing as the chosen class (or the top guess)",
                     short="Complete my sketch")
    a.draw_new = act("&Draw it", lambda: g.draw_new(panel.choice()), "Ctrl+Shift+G",
                     tip="Draw a new sketch of the chosen class (or the top guess)")
    a.cancel_gen = act("C&ancel generation", lambda: g.cancel(), "Ctrl+.")
    a.accept_gen = act("&Accept candidate", g.accept, "Ctrl+Return")
    a.reject_gen = act("&Reject candidates", g.reject, "Ctrl+Backspace")
    a.export_gen = act("&Export candidate...", _task(g.export))
    a.about = act("&About ViSketch", lambda: w.help.about())
    a.keys = act("&Keyboard shortcuts", lambda: w.help.shortcuts(made), "F1")
    a.classes = act("&Classes the models know", lambda: w.help.classes(w.known_classes()))

    mb = w.menuBar()
    m = mb.addMenu("&File")
    for x in (a.new, a.open):
        m.addAction(x)
    w.recent_menu = m.addMenu("Open &Recent")
    for x in (None, a.save, a.save_as, None, a.import_, a.export, None, a.quit):
        m.addSeparator() if x is None else m.addAction(x)
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
    m = mb.addMenu("&Generate")
    for x in (a.complete, a.draw_new, a.cancel_gen, None, a.accept_gen, a.reject_gen,
              a.export_gen):
        m.addSeparator() if x is None else m.addAction(x)
    m = mb.addMenu("&Help")
    for x in (a.keys, a.classes, None, a.about):
        m.addSeparator() if x is None else m.addAction(x)

    # the toolbar: what is used most first, so a narrow window hides the least useful
    tb = QToolBar("Tools", w)   # type: ignore[arg-type]
    tb.setObjectName("tools")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for x in (a.pen, a.eraser):
        tb.addAction(x)
    tb.addWidget(QLabel("  width "))
    a.width_box = QSpinBox()
    a.width_box.setRange(1, 40)
    a.width_box.setValue(round(s.pen_width))
    a.width_box.setToolTip("Width of the strokes drawn next ([ and ]); drawn strokes keep "
                           "their own")
    a.width_box.valueChanged.connect(lambda v: w.set_pen_width(float(v)))
    tb.addWidget(a.width_box)
    a.shortcuts_first = ShortcutsFirst(w)   # type: ignore[arg-type]
    guard_edit_box(a.width_box, w.canvas, a.shortcuts_first)
    guard_edit_box(panel.count_box, w.canvas, a.shortcuts_first)
    a.undo_tb = QAction("Undo", w)   # type: ignore[arg-type]  # short: the menu's name the step
    a.undo_tb.triggered.connect(w.undo_stack.undo)
    w.undo_stack.canUndoChanged.connect(a.undo_tb.setEnabled)
    a.redo_tb = QAction("Redo", w)   # type: ignore[arg-type]
    a.redo_tb.triggered.connect(w.undo_stack.redo)
    w.undo_stack.canRedoChanged.connect(a.redo_tb.setEnabled)
    a.undo_tb.setShortcuts(a.undo.shortcuts())    # shown in the tooltip; the menu's fire
    a.redo_tb.setShortcuts(a.redo.shortcuts())
    for x in (a.undo_tb, a.redo_tb):
        x.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)   # never ambiguous
        x.setEnabled(False)
    for x in (None, a.complete, a.draw_new, None, a.undo_tb, a.redo_tb, a.clear, None,
              a.quadtree, a.heatmap, a.votes, None, a.replay):
        tb.addSeparator() if x is None else tb.addAction(x)
    w.addToolBar(tb)
    a.toolbar = tb
    add_shortcut_tips(made + [a.undo_tb, a.redo_tb])
    return a
