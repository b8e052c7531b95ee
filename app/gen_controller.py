"""Complete my sketch / Draw it: the app side of generation (the panel is ``app.gen_panel``).

The controller turns the user's request into a ``GenJob`` for the generation worker, places
the 256 px generation frame in the document (around the user's strokes for a completion, in
the visible part of the canvas for a new drawing), and shows what arrives on the canvas's
generation layer: stage 1's guess at each denoising step, faint; the stage-1 sketch; each
refined leaf as it is decoded; then the finished candidate's strokes. Candidates appear
side by side in the panel as they finish.

- The document is touched only by Accept: one undoable command that appends the chosen
  candidate's new strokes (the user's strokes are never altered). Reject and Cancel clear
  the layer; Cancel stops the worker at the next denoising step or leaf.
- To show the whole frame the view may zoom out when a job starts; Reject, Cancel and a
  failure put the view back as it was (unless the user has moved it since).
- A new stroke (or any edit of the drawing) while a completion runs cancels it: the
  completion was conditioned on the drawing as it was, so its leaves would no longer fit,
  and restarting on every stroke would keep the CPU busy while the user is still drawing.
  The user presses the button again when ready. Finished candidates stay until accepted
  or rejected.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal

from app.commands import AddStrokesCommand
from app.document import Stroke
from app.gen_layer import FRAME, GenerationLayer, frame_to_doc_transform
from app.gen_worker import SCHEDULES, BackendFactory, GenerationWorker, GenJob
from app.host import WindowHost

log = logging.getLogger(__name__)

TOP_GUESS = "Top guess"
MAX_CANDIDATES = 6
STROKE_MS_PER_POINT = 8.0   # clock given to accepted strokes (for replay)
STEP_FRAME_S = 0.1          # stage 1's guess is repainted at most this often: every repaint
                            # holds the interpreter lock the denoiser needs between its ops

View = tuple[float, QPointF, bool]


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


@dataclass
class Progress:
    """What the progress bar shows: ``done`` of ``total`` ``unit`` ("steps" or "leaves")
    of candidate ``k`` of ``n``. Reset to nothing at the start of every job."""

    unit: str = "steps"
    done: int = 0
    total: int = 0
    k: int = 0
    n: int = 1
    draft: int = 1      # stage 1's draft: the recognizer asked for another one


def draw_frame_matrix(x0: float, y0: float, x1: float, y1: float, fill: float = 0.8) -> np.ndarray:
    """(2, 3) document -> frame map that puts the frame in the middle of a document rect."""
    side = max(min(x1 - x0, y1 - y0) * fill, 1.0)
    s = FRAME / side
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([[s, 0, FRAME / 2 - s * cx], [0, s, FRAME / 2 - s * cy]], np.float64)


def _same_view(a: View, b: View) -> bool:
    return abs(a[0] - b[0]) < 1e-9 and abs(a[1].x() - b[1].x()) < 1e-6 \
        and abs(a[1].y() - b[1].y()) < 1e-6


class GenerationController(QObject):
    """State of the generation feature; the window's menus and the panel call its slots."""

    state_changed = Signal()
    progress = Signal()                 # ``self.progress_state`` changed
    started = Signal(str, str)          # mode, label: a job has just been sent

    def __init__(self, host: WindowHost, backend_factory: BackendFactory | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.w = host
        self.worker = GenerationWorker.spawn(backend_factory, parent=self,
                                             device=host.device_choice())
        self.job: GenJob | None = None        # the job running, if any
        self.mode = ""
        self.label = ""
        self.candidates: list[Candidate] = []
        self.selected = -1
        self.device_name = ""
        self.classes: list[str] = []
        self.error = ""
        self.requested_at: float | None = None
        self.progress_state = Progress()
        self._draft_steps = 0                 # stage-1 steps of one draft, this job
        self._step_shown_at = -1.0            # when a stage-1 guess was last shown
        self._step_pending: tuple | None = None   # (job, candidate, step) not shown yet
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.timeout.connect(self._show_pending_step)
        # leaves come in bursts (a parallel batch is decoded at once): the canvas and the
        # bar are brought up to date once a burst, not once a leaf, so that a burst costs
        # one repaint (QProgressBar repaints at once, the canvas with it) instead of dozens
        self._leaves_timer = QTimer(self)
        self._leaves_timer.setSingleShot(True)
        self._leaves_timer.setInterval(0)
        self._leaves_timer.timeout.connect(self._show_leaves)
        self._leaves_pending: tuple[int, int] | None = None   # (job, candidate) whose
                                                              # newest leaves are not shown
        self._next_job = 1
        self._matrix: np.ndarray | None = None
        self._view_before: View | None = None   # the view before a job zoomed out
        self._view_set: View | None = None      # the view the job set
        self._seed = int(time.time()) % 100000
        w = self.worker
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.stage1_step.connect(self._on_step)
        w.stage1_done.connect(self._on_stage1)
        w.leaf_ready.connect(self._on_leaf)
        w.candidate_done.connect(self._on_candidate)
        w.job_finished.connect(self._on_job_finished)
        w.failed.connect(self._on_failed)
        host.canvas.stroke_started.connect(self._on_user_edit)
        host.document.changed.connect(self._on_user_edit)

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

    def top_guess(self) -> str | None:
        """The class of the current top guess; when the drawing looks like none of the
        classes, the closest one (``guess_is_closest`` says so)."""
        pred = self.w.latest_prediction
        return pred.label if pred is not None else None

    def guess_is_closest(self) -> bool:
        """The recognizer says the drawing is none of its classes: the top guess is only
        the closest class, not a guess."""
        pred = self.w.latest_prediction
        return pred is not None and not getattr(pred, "known", True)

    def resolve_label(self, choice: str) -> str | None:
        """The class to generate: the named one, or the current top guess."""
        if choice and choice != TOP_GUESS:
            return choice
        return self.top_guess()

    def _closest_only(self, choice: str) -> bool:
        """``choice`` follows the top guess, and that is only the closest class."""
        return (not choice or choice == TOP_GUESS) and self.guess_is_closest()

    # -- the user's requests ----------------------------------------------------------------------
    def complete_sketch(self, choice: str = TOP_GUESS) -> bool:
        """Complete the drawing as ``choice`` (a class name or TOP_GUESS)."""
        if self.w.document.is_empty:
            self.w.show_error("Nothing to complete: draw part of a sketch first, or use Draw it")
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
        return self._start("complete", label, m, tuple(framed.strokes),
                           self._closest_only(choice))

    def draw_new(self, choice: str = TOP_GUESS) -> bool:
        """A new sketch of class ``choice`` in the visible part of the canvas."""
        label = self.resolve_label(choice)
        if label is None:
            self.w.show_error("Pick a class to draw")
            return False
        x0, y0, x1, y1 = self.w.canvas.visible_rect()
        return self._start("draw", label, draw_frame_matrix(x0, y0, x1, y1), (),
                           self._closest_only(choice))

    def _start(self, mode: str, label: str, matrix: np.ndarray, strokes: tuple,
               closest: bool = False) -> bool:
        if self.running:
            self.cancel(quiet=True)
        self.candidates, self.selected = [], -1
        canvas = self.w.canvas
        canvas.set_generation_layer(None)
        settings = self.w.settings
        n = int(min(max(settings.generation_candidates, 1), MAX_CANDIDATES))
        schedule = settings.generation_schedule if settings.generation_schedule in SCHEDULES \
            else "parallel"
        self._seed += 1
        job = GenJob(self._next_job, mode, label, n, self._seed, schedule, strokes)
        self._next_job += 1
        self.job, self.mode, self.label, self.error = job, mode, label, ""
        self.progress_state = Progress(n=n)
        self._matrix = matrix
        if self._view_before is None:       # a job replacing a job keeps the first view
            self._view_before = canvas.view()
        t = frame_to_doc_transform(matrix)           # keep the whole frame on screen
        r = t.mapRect(QRectF(0, 0, FRAME, FRAME))
        canvas.ensure_visible(r.left(), r.top(), r.right(), r.bottom())
        self._view_set = canvas.view()
        self.requested_at = time.perf_counter()
        self.worker.start(job)
        verb = "Completing the sketch as" if mode == "complete" else "Drawing"
        what = f"{label}, the closest class I know" if closest else label
        self.w.show_info(f"{verb} {what} ({n} candidate{'s' * (n > 1)}, {schedule})")
        self.started.emit(mode, label)
        self.state_changed.emit()
        self.progress.emit()
        return True

    def cancel(self, quiet: bool = False) -> None:
        """Stop the job at the next step or leaf and clear what it showed; the document is
        untouched."""
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
        if not self.candidates:
            self._restore_view()

    def _restore_view(self) -> None:
        """Put back the view a job zoomed out from, unless the user moved it since."""
        before, set_ = self._view_before, self._view_set
        self._view_before = self._view_set = None
        if before is not None and set_ is not None and _same_view(self.w.canvas.view(), set_):
            self.w.canvas.restore_view(before)

    def select(self, index: int) -> None:
        self.selected = index
        cand = self.current()
        self.w.canvas.set_generation_layer(cand.layer if cand else None)
        self.state_changed.emit()

    def _new_stroke_width(self) -> float:
        """A completion continues in the user's own line; a new drawing uses the pen."""
        widths = self.w.document.widths()
        if self.mode == "complete" and widths:
            return float(np.median(widths))
        return self.w.canvas.pen_width

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
        width = self._new_stroke_width()
        strokes, t = [], base
        for pts in cand.strokes:
            times = t + STROKE_MS_PER_POINT * np.arange(len(pts), dtype=np.float64)
            strokes.append(Stroke.of(pts, times, width))
            t = float(times[-1]) + 150.0
        self.candidates, self.selected = [], -1
        self._view_before = self._view_set = None   # the new strokes stay in view
        self.w.canvas.set_generation_layer(None)
        what = "completion" if self.mode == "complete" else f"drawing of a {self.label}"
        self.w.undo_stack.push(AddStrokesCommand(doc, strokes, f"Accept {what}"))
        self.w.show_info(f"Added {len(strokes)} strokes (Ctrl+Z removes them)")
        self.state_changed.emit()
        return True

    def reject(self) -> None:
        """Throw the candidates away (stops a job in progress too) and restore the view."""
        if self.running:
            self.cancel(quiet=True)
        self.candidates, self.selected = [], -1
        self.w.canvas.set_generation_layer(None)
        self._restore_view()
        self.state_changed.emit()

    def candidate_strokes(self, index: int | None = None) -> list[tuple[np.ndarray, float]]:
        """The drawing as (points, width) strokes with candidate ``index`` (default: the
        selected one) accepted; empty when that candidate is not finished."""
        i = self.selected if index is None else index
        cand = self.candidates[i] if 0 <= i < len(self.candidates) else None
        if cand is None or not cand.finished:
            return []
        doc = self.w.document
        width = self._new_stroke_width()
        return [(s.points, s.width) for s in doc.strokes] + \
            [(np.asarray(s, np.float32), width) for s in cand.strokes]

    async def export(self, path: str | None = None) -> bool:
        """Write the drawing with the selected candidate as PNG or SVG."""
        strokes = self.candidate_strokes()
        if not strokes:
            self.w.show_error("Nothing to export: no finished candidate")
            return False
        return await self.w.export_strokes(strokes, path, "Export candidate", self.label)

    def shutdown(self) -> None:
        if self.job is not None:
            self.worker.cancel(self.job.job_id)
        self.worker.shutdown()

    # -- the worker's answers (GUI thread) --------------------------------------------------------
    def reseed(self, seed: int) -> None:
        """Jobs from now on take the seeds seed + 1, seed + 2, ... (reproducible runs)."""
        self._seed = int(seed)

    def _mine(self, job_id: int) -> bool:
        return self.job is not None and self.job.job_id == job_id

    def _candidate(self, k: int) -> Candidate:
        while len(self.candidates) <= k:
            layer = GenerationLayer(frame_to_doc_transform(self._matrix))
            self.candidates.append(Candidate(layer))
        return self.candidates[k]

    def _set_progress(self, k: int, unit: str, done: int, total: int, draft: int = 1) -> None:
        self.progress_state = Progress(unit, done, total, k, self.job.n if self.job else 1, draft)
        self.progress.emit()

    def _on_loaded(self, device: str, classes: list) -> None:
        self.device_name, self.classes = device, list(classes)
        self.state_changed.emit()

    def _on_load_failed(self, message: str) -> None:
        self.error = message
        self.w.show_error(f"Could not load the generation models: {message}", 0)

    def _on_step(self, job_id: int, k: int, ev) -> None:
        """A denoising step. The first step of a candidate and a draft's last one are shown
        at once; in between, the newest step is shown at most every ``STEP_FRAME_S``."""
        if not self._mine(job_id):
            return
        self._show_leaves()
        wait = STEP_FRAME_S - (time.perf_counter() - self._step_shown_at)
        if ev.step != 1 and ev.step % max(1, self._draft_steps) != 0 and wait > 0:
            self._step_pending = (job_id, k, ev)
            if not self._step_timer.isActive():
                self._step_timer.start(max(1, int(wait * 1000)))
            return
        self._show_step(job_id, k, ev)

    def _show_pending_step(self) -> None:
        pending, self._step_pending = self._step_pending, None
        if pending is not None and self._mine(pending[0]):
            self._show_step(*pending)

    def _show_step(self, job_id: int, k: int, ev) -> None:
        self._step_pending = None
        self._step_timer.stop()
        self._step_shown_at = time.perf_counter()
        cand = self._candidate(k)
        cand.layer.set_step(ev.step, ev.total, ev.x0)
        if ev.step == 1:            # a candidate's first step: the user watches it take shape
            self._draft_steps = max(1, int(ev.total))   # a redraw adds as many again
            self.select(k)
        elif self.selected == k:
            self.w.canvas.update()
        per = self._draft_steps or max(1, int(ev.total))
        draft = (int(ev.step) - 1) // per + 1          # each draft counts its own steps
        self._set_progress(k, "steps", int(ev.step) - (draft - 1) * per, per, draft)

    def _on_stage1(self, job_id: int, k: int, ev) -> None:
        if not self._mine(job_id):
            return
        self._show_leaves()
        self._step_pending = None       # the stage-1 sketch replaces any guess not shown
        self._step_timer.stop()
        cand = self._candidate(k)
        cand.layer.set_preview(ev.shat_ink)
        cand.leaves_total = int(ev.leaves)
        self.select(k)      # the user watches the candidate being drawn
        self._set_progress(k, "leaves", 0, cand.leaves_total)

    def _on_leaf(self, job_id: int, k: int, ev) -> None:
        if not self._mine(job_id):
            return
        cand = self._candidate(k)
        cand.layer.add_leaf(ev.index, ev.box, ev.patch)
        if self._leaves_pending not in (None, (job_id, k)):
            self._show_leaves()
        self._leaves_pending = (job_id, k)
        if not self._leaves_timer.isActive():
            self._leaves_timer.start()

    def _show_leaves(self) -> None:
        """Show the leaves received since the last call (canvas and bar), if any."""
        self._leaves_timer.stop()
        pending, self._leaves_pending = self._leaves_pending, None
        if pending is None or not self._mine(pending[0]) or pending[1] >= len(self.candidates):
            return              # cancelled or replaced since: nothing of it is on screen
        k = pending[1]
        cand = self.candidates[k]
        if self.selected == k:
            self.w.canvas.update()
        self._set_progress(k, "leaves", cand.layer.leaf_count, cand.leaves_total)

    def _on_candidate(self, job_id: int, k: int, result) -> None:
        if not self._mine(job_id):
            return
        self._show_leaves()
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
        self._show_leaves()
        self.job = None
        if cancelled:
            self._clear_unfinished()
        n = sum(c.finished for c in self.candidates)
        if n and not any(c.strokes for c in self.candidates if c.finished):
            what = "completion" if self.mode == "complete" else "drawing"
            self.w.show_info(f"The {what} added nothing this time: press the button again "
                             "for another try")
        elif n:
            self.w.show_info(f"{n} candidate{'s' * (n > 1)} ready: Accept adds one to the drawing")
        self.state_changed.emit()

    def _on_failed(self, job_id: int, message: str) -> None:
        if not self._mine(job_id):
            return
        self._show_leaves()
        self.job = None
        self.error = message
        self._clear_unfinished()
        self.w.show_error(f"Generation failed: {message}")
        self.state_changed.emit()

    def _on_user_edit(self, *_args) -> None:
        if self.running and self.mode == "complete":
            self.cancel(quiet=True)
            self.w.show_info("Completion stopped: the drawing changed. Press Complete again.")
