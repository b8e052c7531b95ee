"""The main window: wires the document, canvas, undo stack, worker and panels together.

The controllers (files, generation, menus) see the window only as an ``app.host``
``WindowHost``; none of them imports this module.

Messages: a notice replaces an error (the user has moved on); an error about an action
clears itself after ACTION_ERROR_MS; an error about a lasting state (no model) stays.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QUndoStack,
)
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea

from app.actions import build_actions
from app.autosave import Autosave
from app.canvas import SketchCanvas
from app.commands import AddStrokeCommand, ClearCommand, EraseStrokeCommand
from app.dialogs import Dialogs
from app.document import MAX_WIDTH, MIN_WIDTH, SketchDocument, Stroke, strokes_from_sketch
from app.files import FileActions
from app.gen_controller import GenerationController
from app.gen_panel import GenerationPanel, known_classes
from app.gen_worker import BackendFactory
from app.help import HelpDialogs
from app.live import LiveClassifier
from app.messages import CanvasArea, MessageBar
from app.overlays import OverlayFlags
from app.panels import PredictionPanel
from app.replay import Replayer
from app.session import SessionMixin
from app.settings import AppSettings, data_dir
from app.worker import InferenceWorker, RecognizerFactory, one_line
from visketch_core.sketch.model import Sketch

log = logging.getLogger(__name__)

ACTION_ERROR_MS = 10000     # an error about something the user did clears itself
SETTINGS_DELAY_MS = 300     # settings are written this soon after a change
PREDICTIONS_MAX_H = 290     # px: leaves the generation panel room at 720 px


class MainWindow(SessionMixin, QMainWindow):
    """Draw on the left, watch the model think on the right.

    ``recognizer_factory`` (device -> recognizer) and ``generation_backend`` (() -> backend,
    see ``app.gen_worker``) are injectable: tests pass fakes.
    ``force_cpu`` (the ``--cpu`` flag) overrides the device setting for this session.
    """

    def __init__(self, settings: AppSettings | None = None, *,
                 recognizer_factory: RecognizerFactory | None = None, force_cpu: bool = False,
                 dialogs: Dialogs | None = None, autosave_dir: Path | None = None,
                 generation_backend: BackendFactory | None = None):
        super().__init__()
        self.settings = settings or AppSettings.load()
        self.force_cpu = force_cpu
        self.dialogs = dialogs or Dialogs(self)
        self.document = SketchDocument(self)
        self.undo_stack = QUndoStack(self)
        self.canvas = SketchCanvas(self.document)
        self.canvas.set_pen_width(self.settings.pen_width)
        self.help = HelpDialogs(self)
        self.classes: list[str] = []
        self._settings_timer = QTimer(self)
        self._settings_timer.setSingleShot(True)
        self._settings_timer.setInterval(SETTINGS_DELAY_MS)
        self._settings_timer.timeout.connect(self.save_settings)
        self.panel = PredictionPanel()
        self.message_bar = MessageBar()
        self.worker = InferenceWorker.spawn(recognizer_factory, parent=self)
        self.live = LiveClassifier(self.worker, self._live_strokes, parent=self)
        self.live.live = self.settings.live_classification
        self.autosave = Autosave(autosave_dir or data_dir())
        self.files = FileActions(self)
        self.replayer = Replayer(self)
        self.device_name = ""
        self.model_error = ""
        self.latest_prediction = None
        self._replay_strokes: list[np.ndarray] | None = None
        self._pen_down_at = 0.0
        self._last_pen_up: float | None = None
        self._erasing = False
        self._shut_down = False

        self.setCentralWidget(CanvasArea(self.canvas, self.message_bar))
        self.setAcceptDrops(True)
        dock = QDockWidget("What ViSketch thinks", self)
        dock.setObjectName("predictions")
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [360], Qt.Orientation.Horizontal)
        self.generation = GenerationController(self, generation_backend, parent=self)
        self.generation_panel = GenerationPanel(self.generation)
        gen_dock = QDockWidget("Complete my sketch", self)
        gen_dock.setObjectName("generation")
        scroll = QScrollArea()      # on a small screen the panel scrolls, the window fits
        scroll.setWidget(self.generation_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # a click in the panel keeps the canvas's
        gen_dock.setWidget(scroll)
        gen_dock.setFeatures(dock.features())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, gen_dock)
        # the chart can be short; the generation panel needs its height to avoid scrolling
        self.panel.setMaximumHeight(PREDICTIONS_MAX_H)

        self.status_zoom = QLabel("Zoom 100%")
        self.status_zoom.setToolTip("Ctrl+= and Ctrl+- zoom, Ctrl+0 fits the drawing")
        self.status_device = QLabel("Device: loading...")
        self.status_latency = QLabel("Model: -")
        self.status_leaves = QLabel("Leaves: -")
        self.status_strokes = QLabel("Strokes: 0")
        for label in (self.status_zoom, self.status_strokes, self.status_leaves,
                      self.status_latency, self.status_device):
            self.statusBar().addPermanentWidget(label)

        self.recent_menu = None
        self.actions_ = build_actions(self)
        self.refresh_recent_menu()
        self.overlays_changed()
        self._wire()
        self._default_size()
        self._restore_geometry()
        self.update_title()
        self.canvas.setFocus()

    def _wire(self) -> None:
        c, d, lv, w = self.canvas, self.document, self.live, self.worker
        c.stroke_started.connect(self._on_stroke_started)
        c.stroke_progressed.connect(lv.drawing_moved)
        c.stroke_finished.connect(self._on_stroke_finished)
        c.stroke_cancelled.connect(lv.request_now)
        c.erase_started.connect(self._on_erase_started)
        c.erase_hit.connect(self._on_erase_hit)
        c.erase_finished.connect(self._on_erase_finished)
        c.view_changed.connect(self._update_zoom)
        d.changed.connect(lv.request_now)
        d.changed.connect(self._update_counts)
        self.undo_stack.indexChanged.connect(self._autosave)
        self.undo_stack.cleanChanged.connect(self.update_title)
        lv.prediction_ready.connect(self._on_prediction)
        self.panel.classes_requested.connect(lambda: self.help.classes(self.known_classes()))
        lv.cleared.connect(self._on_cleared)
        lv.failed.connect(self._on_request_failed)
        w.model_loaded.connect(self._on_model_loaded)
        w.model_failed.connect(self._on_model_failed)
        self.replayer.frame.connect(self._on_replay_frame)
        self.replayer.finished.connect(self._on_replay_finished)

    # -- document-level operations ---------------------------------------------------
    def set_document(self, sketch: Sketch, path: str | None,
                     widths: list[float] | None = None) -> None:
        """Replace the drawing (not undoable: a new document starts a new history).
        ``widths``: the strokes' pen widths, when the file recorded them."""
        if self.replayer.active:
            self.replayer.stop()
        self.canvas.cancel_stroke()
        self.undo_stack.clear()
        self.document.label, self.document.key_id = sketch.label, sketch.key_id
        self.document.replace_strokes(strokes_from_sketch(sketch, widths))
        self.files.path = path
        self.undo_stack.setClean()
        self._last_pen_up = None
        self.canvas.fit_view()
        self._autosave()
        self.update_title()

    def clear_drawing(self) -> None:
        if not self.document.is_empty and not self.replayer.active:
            self.undo_stack.push(ClearCommand(self.document))

    def update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.files.display_name}[*] - ViSketch")
        self.setWindowModified(not self.undo_stack.isClean())

    def refresh_recent_menu(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            action = QAction(path, self.recent_menu)
            action.triggered.connect(
                lambda _=False, p=path: asyncio.ensure_future(self.files.open(p)))
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def show_error(self, text: str, timeout_ms: int | None = None) -> None:
        """An error; it clears itself after ``timeout_ms`` (None: ACTION_ERROR_MS; 0: it
        stays, for a lasting state such as a missing model)."""
        log.warning("%s", text)
        ms = ACTION_ERROR_MS if timeout_ms is None else timeout_ms
        self.message_bar.show_message(text, "error", timeout_ms=ms)
        self.statusBar().showMessage(text, 8000)

    def show_info(self, text: str) -> None:
        """A notice; it replaces an error (the user has moved on), never an open offer."""
        if self.message_bar.level != "offer":
            self.message_bar.show_message(text, "info", timeout_ms=4000)
        self.statusBar().showMessage(text, 4000)

    async def export_strokes(self, strokes: list, path, title: str, stem: str) -> bool:
        return await self.files.export_strokes(strokes, path, title, stem)

    def known_classes(self) -> list[str]:
        return list(self.classes or self.generation.classes or known_classes())

    # -- settings ---------------------------------------------------------------------------
    def settings_changed(self) -> None:
        """Write the settings soon: several changes in a row make one write."""
        self._settings_timer.start()

    def save_settings(self) -> None:
        self._settings_timer.stop()
        self.settings.save()

    def set_pen_width(self, width: float) -> None:
        """The width of the strokes drawn next; the drawn ones keep their own."""
        width = float(min(max(width, MIN_WIDTH), MAX_WIDTH))
        self.settings.pen_width = width
        self.canvas.set_pen_width(width)
        box = self.actions_.width_box
        if box.value() != round(width):
            box.setValue(round(width))
        self.statusBar().showMessage(f"Pen width {width:g} for the next strokes", 2000)
        self.settings_changed()

    def overlays_changed(self, *_args) -> None:
        a, s = self.actions_, self.settings
        s.show_quadtree, s.show_heatmap = a.quadtree.isChecked(), a.heatmap.isChecked()
        s.show_leaf_votes = a.votes.isChecked()
        self.canvas.set_overlays(OverlayFlags(s.show_quadtree, s.show_heatmap, s.show_leaf_votes))
        self.settings_changed()

    def set_live(self, on: bool) -> None:
        self.settings.live_classification = self.live.live = bool(on)
        self.settings_changed()

    def set_force_cpu(self, on: bool) -> None:
        self.settings.device = "cpu" if on else "auto"
        self.settings_changed()
        asyncio.ensure_future(self.load_model())

    def _update_zoom(self) -> None:
        self.status_zoom.setText(f"Zoom {self.canvas.scale * 100:.0f}%")

    # -- drawing -----------------------------------------------------------------------------
    def _live_strokes(self) -> list[np.ndarray]:
        if self._replay_strokes is not None:
            return list(self._replay_strokes)
        strokes = self.document.stroke_arrays()
        current = self.canvas.current_stroke()
        return strokes + [current] if current is not None else strokes

    def _on_stroke_started(self) -> None:
        self._pen_down_at = time.perf_counter()

    def _on_stroke_finished(self, points: np.ndarray, times: np.ndarray) -> None:
        gap = 1e9 if self._last_pen_up is None else (self._pen_down_at - self._last_pen_up) * 1e3
        self._last_pen_up = time.perf_counter()
        base = self.document.next_start_time(gap)
        stroke = Stroke.of(points, times + base, self.canvas.pen_width)
        self.undo_stack.push(AddStrokeCommand(self.document, stroke))

    def _on_erase_started(self) -> None:
        self._erasing = False

    def _on_erase_hit(self, index: int) -> None:
        if not self._erasing:
            self.undo_stack.beginMacro("Erase")
            self._erasing = True
        self.undo_stack.push(EraseStrokeCommand(self.document, index))

    def _on_erase_finished(self) -> None:
        if self._erasing:
            self.undo_stack.endMacro()
            self._erasing = False

    def _autosave(self, *_args) -> None:
        try:
            if self.undo_stack.isClean() and self.files.path:
                self.autosave.remove_file()  # the saved file already holds it
            else:
                self.autosave.save(self.document.to_sketch(), self.files.path,
                                   self.document.widths())
        except Exception as exc:  # noqa: BLE001 - autosave trouble must not stop drawing
            self.show_error(f"Autosave failed: {one_line(exc)}", 0)

    def _update_counts(self) -> None:
        self.status_strokes.setText(f"Strokes: {len(self.document)}")

    # -- the model's answers -----------------------------------------------------------------
    def _on_prediction(self, rid: int, pred) -> None:
        self.latest_prediction = pred
        self.panel.show_prediction(rid, pred)
        self.canvas.set_prediction(pred)
        self.status_latency.setText(f"Model: {pred.ms:.0f} ms")
        self.status_leaves.setText(f"Leaves: {len(pred.leaf_boxes)}")
        self.generation_panel.show_guess(pred.label, getattr(pred, "known", True))

    def _on_cleared(self) -> None:
        self.latest_prediction = None
        self.panel.show_empty()
        self.canvas.set_prediction(None)
        self.status_leaves.setText("Leaves: -")
        self.generation_panel.show_guess(None)

    def _on_request_failed(self, rid: int, message: str) -> None:
        self.show_error(f"Classification failed: {message}", timeout_ms=10000)

    def _on_model_loaded(self, device: str, classes: list) -> None:
        self.device_name, self.model_error = device, ""
        self.classes = list(classes)
        self.generation_panel.set_classes(self.classes)
        self.panel.set_threshold(self.worker.threshold)   # the model's own, before any guess
        self.help.knows_unknown = self.worker.knows_unknown
        self.message_bar.hide_if("error")   # an earlier load failure is over
        self.status_device.setText(f"Device: {device}")
        self.status_device.setToolTip(f"{len(classes)} classes")
        self.live.set_ready(True)

    def _on_model_failed(self, message: str) -> None:
        self.device_name, self.model_error = "", message
        self.help.knows_unknown = False
        self.status_device.setText("Device: no model")
        self.live.set_ready(False)
        self.panel.show_message("No model", "Drawing works; predictions need the model.")
        self.show_error(f"Could not load the model: {message}", 0)

    # -- replay -----------------------------------------------------------------------------
    def toggle_replay(self) -> None:
        if self.replayer.active:
            self.replayer.stop()
        elif self.document.is_empty:
            self.show_info("Nothing to replay yet")
        else:
            self.canvas.cancel_stroke()
            self.canvas.input_enabled = False
            self.actions_.replay.setText("Stop &replay")
            self.replayer.start(self.document.to_sketch())

    def _on_replay_frame(self, strokes: list) -> None:
        self._replay_strokes = strokes
        self.canvas.set_replay(strokes)
        self.live.drawing_moved()

    def _on_replay_finished(self) -> None:
        self._replay_strokes = None
        self.canvas.set_replay(None)
        self.canvas.input_enabled = True
        self.actions_.replay.setText("&Replay strokes")
        self.live.request_now()

    # -- shutting down -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.replayer.active:
            self.replayer.stop()
        self.canvas.cancel_stroke()
        if not self._shut_down and not self.files.confirm_discard_now():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker, drop the autosave (a clean exit), save settings. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.sync()
        self.save_settings()
        self.generation.shutdown()
        self.worker.shutdown()
        self.autosave.close()
