"""Complete my sketch / Draw a ...: the app side of generation.

The controller turns the user's request into a ``GenJob`` for the generation worker, places
the 256 px generation frame in the document (around the user's strokes for a completion, in
the visible part of the canvas for a new drawing), and shows what arrives on the canvas's
generation layer: the faint stage-1 sketch, then each refined leaf as it is decoded, then
the finished candidate's strokes. Candidates appear side by side in the panel as they finish.

- The document is touched only by Accept: one undoable command that appends the chosen
  candidate's new strokes (the user's strokes are never altered). Reject and Cancel clear
  the layer; Cancel stops the worker at the next leaf.
- A new stroke (or any edit of the drawing) while a completion runs cancels it: the
  completion was conditioned on the drawing as it was, so its leaves would no longer fit,
  and restarting on every stroke would keep the CPU busy while the user is still drawing.
  The user presses the button again when ready. Finished candidates stay until accepted
  or rejected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QUndoCommand
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.dialogs import thumbnail
from app.document import SketchDocument, Stroke
from app.gen_layer import FRAME, GenerationLayer, frame_to_doc_transform
from app.gen_worker import SCHEDULES, BackendFactory, GenerationWorker, GenJob
from visketch_core.sketch.model import Sketch

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)

TOP_GUESS = "Top guess"
MAX_CANDIDATES = 6
STROKE_MS_PER_POINT = 8.0   # clock given to accepted strokes (for replay)


class AddStrokesCommand(QUndoCommand):
    """Append several strokes as one undoable step (Accept of a generated candidate)."""

    def __init__(self, document: SketchDocument, strokes: list[Stroke], text: str, parent=None):
        super().__init__(text, parent)
        self.document = document
        self.strokes = list(strokes)
        self.start = len(document)

    def redo(self) -> None:
        for k, s in enumerate(self.strokes):
            self.document.insert_stroke(self.start + k, s)

    def undo(self) -> None:
        for k in reversed(range(len(self.strokes))):
            self.document.remove_stroke(self.start + k)


@dataclass
class Candidate:
    """One generated candidate: its canvas layer and, once finished, its new strokes."""

    layer: GenerationLayer
    strokes: list[np.ndarray] | None = None        # document coordinates
    leaves_total: int = 0
    timings: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.strokes is not None


def draw_frame_matrix(x0: float, y0: float, x1: float, y1: float, fill: float = 0.8) -> np.ndarray:
    """(2, 3) document -> frame map that puts the frame in the middle of a document rect."""
    side = max(min(x1 - x0, y1 - y0) * fill, 1.0)
    s = FRAME / side
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([[s, 0, FRAME / 2 - s * cx], [0, s, FRAME / 2 - s * cy]], np.float64)


class GenerationController(QObject):
    """State of the generation feature; the window's menus and the panel call its slots."""

    state_changed = Signal()
    progress = Signal(int, int, int, int)   # candidate, candidates, leaves done, leaves total

    def __init__(self, window: MainWindow, backend_factory: BackendFactory | None = None):
        super().__init__(window)
        self.w = window
        self.worker = GenerationWorker.spawn(backend_factory, parent=self,
                                             device=window.device_choice())
        self.job: GenJob | None = None        # the job running, if any
        self.mode = ""
        self.label = ""
        self.candidates: list[Candidate] = []
        self.selected = -1
        self.device_name = ""
        self.classes: list[str] = []
        self.error = ""
        self.requested_at: float | None = None
        self._next_job = 1
        self._matrix: np.ndarray | None = None
        self._seed = int(time.time()) % 100000
        w = self.worker
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.stage1_done.connect(self._on_stage1)
        w.leaf_ready.connect(self._on_leaf)
        w.candidate_done.connect(self._on_candidate)
        w.job_finished.connect(self._on_job_finished)
        w.failed.connect(self._on_failed)
        window.canvas.stroke_started.connect(self._on_user_edit)
        window.document.changed.connect(self._on_user_edit)

    # -- queries ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def pending(self) -> bool:
        """Candidates are on screen, waiting for Accept or Reject."""
        return bool(self.candidates)

    def current(self) -> Candidate | None:
        return self.candidates[self.selected] if 0 <= self.selected < len(self.candidates) else None

    def resolve_label(self, choice: str) -> str | None:
        """The class to generate: the named one, or the current top guess."""
        if choice and choice != TOP_GUESS:
            return choice
        pred = self.w.latest_prediction
        return pred.label if pred is not None else None

    # -- the user's requests ----------------------------------------------------------------------
    def complete_sketch(self, choice: str = TOP_GUESS) -> bool:
        """Complete the drawing as ``choice`` (a class name or TOP_GUESS)."""
        if self.w.document.is_empty:
            self.w.show_error("Nothing to complete: draw part of a sketch first, or use Draw a ...")
            return False
        label = self.resolve_label(choice)
        if label is None:
            self.w.show_error("No guess yet: pick a class to complete the sketch as")
            return False
        from visketch_core.errors import SketchError
        from visketch_core.generate.completion import frame_matrix

        sketch = self.w.document.to_sketch()
        try:
            m = frame_matrix(sketch)
        except SketchError as exc:
            self.w.show_error(f"Cannot complete this drawing: {exc}")
            return False
        framed = sketch.transformed(m)
        return self._start("complete", label, m, tuple(framed.strokes))

    def draw_new(self, choice: str) -> bool:
        """A new sketch of class ``choice`` in the visible part of the canvas."""
        label = self.resolve_label(choice)
        if label is None:
            self.w.show_error("Pick a class to draw")
            return False
        c = self.w.canvas
        x0, y0 = c.to_document(c.rect().topLeft().toPointF())
        x1, y1 = c.to_document(c.rect().bottomRight().toPointF())
        return self._start("draw", label, draw_frame_matrix(x0, y0, x1, y1), ())

    def _start(self, mode: str, label: str, matrix: np.ndarray, strokes: tuple) -> bool:
        if self.running:
            self.cancel(quiet=True)
        self.candidates, self.selected = [], -1
        self.w.canvas.set_generation_layer(None)
        settings = self.w.settings
        n = int(min(max(settings.generation_candidates, 1), MAX_CANDIDATES))
        schedule = settings.generation_schedule if settings.generation_schedule in SCHEDULES \
            else "parallel"
        self._seed += 1
        job = GenJob(self._next_job, mode, label, n, self._seed, schedule, strokes)
        self._next_job += 1
        self.job, self.mode, self.label, self.error = job, mode, label, ""
        self._matrix = matrix
        t = frame_to_doc_transform(matrix)           # keep the whole frame on screen
        r = t.mapRect(QRectF(0, 0, FRAME, FRAME))
        self.w.canvas.ensure_visible(r.left(), r.top(), r.right(), r.bottom())
        self.requested_at = time.perf_counter()
        self.worker.start(job)
        verb = "Completing the sketch as" if mode == "complete" else "Drawing"
        self.w.show_info(f"{verb} {label} ({n} candidate{'s' * (n > 1)}, {schedule})")
        self.state_changed.emit()
        return True

    def cancel(self, quiet: bool = False) -> None:
        """Stop the job at the next leaf and clear what it showed; the document is untouched."""
        if self.job is None:
            return
        self.worker.cancel(self.job.job_id)
        self.job = None
        self._clear_unfinished()
        if not quiet:
            self.w.show_info("Generation cancelled")
        self.state_changed.emit()

    def _clear_unfinished(self) -> None:
        self.candidates = [c for c in self.candidates if c.finished]
        self.select(min(self.selected, len(self.candidates) - 1) if self.candidates else -1)

    def select(self, index: int) -> None:
        self.selected = index
        cand = self.current()
        self.w.canvas.set_generation_layer(cand.layer if cand else None)
        self.state_changed.emit()

    def accept(self) -> bool:
        """Add the selected finished candidate's strokes to the drawing (one undo step)."""
        cand = self.current()
        if cand is None or not cand.finished:
            self.w.show_error("Nothing to accept yet")
            return False
        if not cand.strokes:
            self.w.show_error("This candidate added no strokes")
            return False
        if self.running:
            self.cancel(quiet=True)
        doc = self.w.document
        base = doc.next_start_time(300.0)
        strokes, t = [], base
        for pts in cand.strokes:
            times = t + STROKE_MS_PER_POINT * np.arange(len(pts), dtype=np.float64)
            strokes.append(Stroke.of(pts, times))
            t = float(times[-1]) + 150.0
        self.candidates, self.selected = [], -1
        self.w.canvas.set_generation_layer(None)
        what = "completion" if self.mode == "complete" else f"drawing of a {self.label}"
        self.w.undo_stack.push(AddStrokesCommand(doc, strokes, f"Accept {what}"))
        self.w.show_info(f"Added {len(strokes)} strokes (Ctrl+Z removes them)")
        self.state_changed.emit()
        return True

    def reject(self) -> None:
        """Throw the candidates away (stops a job in progress too)."""
        if self.running:
            self.cancel(quiet=True)
        self.candidates, self.selected = [], -1
        self.w.canvas.set_generation_layer(None)
        self.state_changed.emit()

    def candidate_sketch(self, index: int | None = None) -> Sketch | None:
        """The drawing as it would be with candidate ``index`` (default: selected) accepted."""
        cand = self.candidates[self.selected if index is None else index] \
            if self.candidates else None
        if cand is None or not cand.finished:
            return None
        strokes = self.w.document.stroke_arrays() + [np.asarray(s) for s in cand.strokes]
        return Sketch(strokes=[np.asarray(s, np.float32) for s in strokes], label=self.label)

    async def export(self, path: str | None = None) -> bool:
        """Write the drawing with the selected candidate as PNG or SVG (strokes)."""
        sketch = self.candidate_sketch()
        if sketch is None:
            self.w.show_error("Nothing to export: no finished candidate")
            return False
        return await self.w.files.export_sketch(sketch, path, "Export candidate", self.label)

    def shutdown(self) -> None:
        if self.job is not None:
            self.worker.cancel(self.job.job_id)
        self.worker.shutdown()

    # -- the worker's answers (GUI thread) --------------------------------------------------------
    def _mine(self, job_id: int) -> bool:
        return self.job is not None and self.job.job_id == job_id

    def _candidate(self, k: int) -> Candidate:
        while len(self.candidates) <= k:
            layer = GenerationLayer(frame_to_doc_transform(self._matrix))
            self.candidates.append(Candidate(layer))
        return self.candidates[k]

    def _on_loaded(self, device: str, classes: list) -> None:
        self.device_name, self.classes = device, list(classes)
        self.state_changed.emit()

    def _on_load_failed(self, message: str) -> None:
        self.error = message
        self.w.show_error(f"Could not load the generation models: {message}")

    def _on_stage1(self, job_id: int, k: int, ev) -> None:
        if not self._mine(job_id):
            return
        cand = self._candidate(k)
        cand.layer.set_preview(ev.shat_ink)
        cand.leaves_total = int(ev.leaves)
        self.select(k)      # the user watches the candidate being drawn
        self.progress.emit(k, self.job.n, 0, cand.leaves_total)

    def _on_leaf(self, job_id: int, k: int, ev) -> None:
        if not self._mine(job_id):
            return
        cand = self._candidate(k)
        cand.layer.add_leaf(ev.index, ev.box, ev.patch)
        if self.selected == k:
            self.w.canvas.update()
        self.progress.emit(k, self.job.n, cand.layer.leaf_count, cand.leaves_total)

    def _on_candidate(self, job_id: int, k: int, result) -> None:
        if not self._mine(job_id):
            return
        cand = self._candidate(k)
        cand.strokes = cand.layer.doc_strokes(result.sketch.strokes)
        cand.layer.set_strokes(cand.strokes)
        cand.timings = dict(result.timings)
        if self.selected == k:
            self.w.canvas.update()
        self.state_changed.emit()

    def _on_job_finished(self, job_id: int, cancelled: bool) -> None:
        if not self._mine(job_id):
            return
        self.job = None
        if cancelled:
            self._clear_unfinished()
        n = sum(c.finished for c in self.candidates)
        if n:
            self.w.show_info(f"{n} candidate{'s' * (n > 1)} ready: Accept adds one to the drawing")
        self.state_changed.emit()

    def _on_failed(self, job_id: int, message: str) -> None:
        if not self._mine(job_id):
            return
        self.job = None
        self.error = message
        self._clear_unfinished()
        self.w.show_error(f"Generation failed: {message}")
        self.state_changed.emit()

    def _on_user_edit(self, *_args) -> None:
        if self.running and self.mode == "complete":
            self.cancel(quiet=True)
            self.w.show_info("Completion stopped: the drawing changed. Press Complete again.")


class GenerationPanel(QWidget):
    """Class, candidates and schedule; Complete / Draw / Cancel / Accept / Reject / Export;
    a progress bar counting leaves; the finished candidates side by side."""

    def __init__(self, controller: GenerationController, parent: QWidget | None = None):
        super().__init__(parent)
        self.c = controller
        w = controller.w
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class to complete or draw as")
        self.count_box = QSpinBox()
        self.count_box.setRange(1, MAX_CANDIDATES)
        self.count_box.setValue(int(min(max(w.settings.generation_candidates, 1), MAX_CANDIDATES)))
        self.count_box.valueChanged.connect(self._set_count)
        self.schedule_box = QComboBox()
        self.schedule_box.addItems(list(SCHEDULES))
        self.schedule_box.setCurrentText(w.settings.generation_schedule
                                         if w.settings.generation_schedule in SCHEDULES
                                         else "parallel")
        self.schedule_box.setToolTip("parallel: leaves that do not touch are decoded together "
                                     "(faster); sequential: one leaf at a time")
        self.schedule_box.currentTextChanged.connect(self._set_schedule)
        form = QFormLayout()
        form.addRow("Class", self.class_box)
        form.addRow("Candidates", self.count_box)
        form.addRow("Schedule", self.schedule_box)

        self.complete_button = QPushButton("Complete my sketch")
        self.complete_button.clicked.connect(lambda: controller.complete_sketch(self.choice()))
        self.draw_button = QPushButton("Draw it")
        self.draw_button.setToolTip("Draw a new sketch of the chosen class")
        self.draw_button.clicked.connect(lambda: controller.draw_new(self.choice()))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: controller.cancel())
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(controller.accept)
        self.reject_button = QPushButton("Reject")
        self.reject_button.clicked.connect(controller.reject)
        self.export_button = QPushButton("Export...")
        self.export_button.clicked.connect(lambda: asyncio.ensure_future(controller.export()))
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for b in (self.complete_button, self.draw_button, self.cancel_button):
            row1.addWidget(b)
        for b in (self.accept_button, self.reject_button, self.export_button):
            row2.addWidget(b)

        self.bar = QProgressBar()
        self.bar.setFormat("%v / %m leaves")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setIconSize(QSize(84, 84))
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setMinimumHeight(110)
        self.list.currentRowChanged.connect(self._on_row)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row1)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(row2)
        self._fill_classes(self._known_classes())
        controller.state_changed.connect(self.refresh)
        controller.progress.connect(self._on_progress)
        self.refresh()

    def _known_classes(self) -> list[str]:
        """The shipped class list (from the classifier's card) until the generator loads."""
        import json

        from visketch_core.paths import models_dir

        try:
            card = json.loads((models_dir() / "classifier.json").read_text(encoding="utf-8"))
            return [str(c) for c in card.get("classes", [])]
        except (OSError, ValueError, AttributeError):
            return []

    def _fill_classes(self, classes: list[str]) -> None:
        current = self.class_box.currentText()
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(TOP_GUESS)
        self.class_box.addItems(sorted(classes))
        self.class_box.setCurrentText(current or TOP_GUESS)
        self.class_box.blockSignals(False)

    def choice(self) -> str:
        return self.class_box.currentText()

    def _set_count(self, n: int) -> None:
        self.c.w.settings.generation_candidates = int(n)

    def _set_schedule(self, name: str) -> None:
        self.c.w.settings.generation_schedule = name

    def _on_progress(self, k: int, n: int, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat("%v / %m leaves")
        self.status.setText(f"Generating {self.c.label} on {self.c.device_name or 'CPU'}: "
                            f"candidate {k + 1} of {n}")

    def _on_row(self, row: int) -> None:
        finished = [i for i, cand in enumerate(self.c.candidates) if cand.finished]
        if 0 <= row < len(finished) and finished[row] != self.c.selected:
            self.c.select(finished[row])

    def refresh(self) -> None:
        c = self.c
        if c.classes and self.class_box.count() != len(c.classes) + 1:
            self._fill_classes(c.classes)
        running, has = c.running, any(cand.finished for cand in c.candidates)
        self.cancel_button.setEnabled(running)
        cur = c.current()
        ready = cur is not None and cur.finished
        self.accept_button.setEnabled(ready)
        self.export_button.setEnabled(ready)
        self.reject_button.setEnabled(running or has)
        device = c.device_name or "not loaded yet"
        if c.error and not running:
            text = f"Generation: {c.error}"
        elif running:
            text = f"Generating {c.label} on {device}..."
        elif has:
            text = f"{sum(x.finished for x in c.candidates)} candidate(s) of {c.label}: " \
                   "pick one, then Accept or Reject"
        else:
            text = f"Device: {device}"
        self.status.setText(text)
        if not running and not has:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("%v / %m leaves")
        self._refresh_list()

    def _refresh_list(self) -> None:
        c = self.c
        finished = [(i, cand) for i, cand in enumerate(c.candidates) if cand.finished]
        self.list.blockSignals(True)
        self.list.clear()
        for n, (i, _cand) in enumerate(finished):
            sketch = c.candidate_sketch(i)
            item = QListWidgetItem(QIcon(thumbnail(sketch, 84)), f"#{n + 1}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
            if i == c.selected:
                self.list.setCurrentRow(n)
        self.list.blockSignals(False)
