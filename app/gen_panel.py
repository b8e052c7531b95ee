"""The "Complete my sketch" panel: class, candidates, the buttons, progress, candidates.

Laid out to fit a 1280x720 screen beside the predictions without scrolling: the buttons a
completion needs (Complete, Draw it, Accept, Reject) and the candidate strip are all in
view. Its buttons do not take keyboard focus when clicked (they are reachable with Tab),
so after a click the canvas keeps the keyboard and Ctrl+Z, Delete and the other shortcuts
act on the drawing.

The class box applies to the next request only, unless "Keep" is ticked: a class picked
for one Draw it must not silently become the class of the next Complete.
"""

from __future__ import annotations

import asyncio
import json

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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

from app.dialogs import strokes_thumbnail
from app.gen_controller import MAX_CANDIDATES, TOP_GUESS, GenerationController
from app.gen_worker import SCHEDULES

THUMB = 64


def known_classes() -> list[str]:
    """The shipped class list (from the classifier's card) until the generator loads."""
    from visketch_core.paths import models_dir

    try:
        card = json.loads((models_dir() / "classifier.json").read_text(encoding="utf-8"))
        return [str(c) for c in card.get("classes", [])]
    except (OSError, ValueError, AttributeError):
        return []


def _button(text: str, tip: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    b.clicked.connect(lambda _=False: slot())
    return b


class GenerationPanel(QWidget):
    """Class (with Keep), candidates and schedule; Complete / Draw it / Cancel; a progress
    bar counting stage 1's steps, then the leaves; the finished candidates side by side;
    Accept / Reject / Export."""

    def __init__(self, controller: GenerationController, parent: QWidget | None = None):
        super().__init__(parent)
        self.c = controller
        settings = controller.w.settings
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class to complete or draw as: the top guess, or one "
                                  "you pick for the next request")
        self.class_box.activated.connect(lambda _i: self._give_back_focus())
        self.keep_box = QCheckBox("Keep")
        self.keep_box.setToolTip("Keep the picked class for every request (otherwise the "
                                 "class goes back to the top guess after one)")
        self.keep_box.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.count_box = QSpinBox()
        self.count_box.setRange(1, MAX_CANDIDATES)
        self.count_box.setValue(int(min(max(settings.generation_candidates, 1), MAX_CANDIDATES)))
        self.count_box.setToolTip("Candidates per request")
        self.count_box.valueChanged.connect(self._set_count)
        self.schedule_box = QComboBox()
        self.schedule_box.addItems(list(SCHEDULES))
        self.schedule_box.setCurrentText(settings.generation_schedule
                                         if settings.generation_schedule in SCHEDULES
                                         else "parallel")
        self.schedule_box.setToolTip("parallel: leaves that do not touch are decoded together "
                                     "(faster); sequential: one leaf at a time")
        self.schedule_box.currentTextChanged.connect(self._set_schedule)
        self.schedule_box.activated.connect(lambda _i: self._give_back_focus())

        c = controller
        self.complete_button = _button("Complete my sketch",
                                       "Finish the drawing as the class (Ctrl+G)",
                                       lambda: c.complete_sketch(self.choice()))
        self.draw_button = _button("Draw it", "Draw a new sketch of the class (Ctrl+Shift+G)",
                                   lambda: c.draw_new(self.choice()))
        self.cancel_button = _button("Cancel", "Stop generating (Ctrl+.)", lambda: c.cancel())
        self.accept_button = _button("Accept", "Add the candidate to the drawing; Ctrl+Z "
                                     "takes it out again (Ctrl+Return)", c.accept)
        self.reject_button = _button("Reject", "Throw the candidates away (Ctrl+Backspace)",
                                     c.reject)
        self.export_button = _button("Export...", "Save the drawing with this candidate as "
                                     "PNG or SVG", lambda: asyncio.ensure_future(c.export()))
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setFixedHeight(THUMB + 34)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.list.currentRowChanged.connect(self._on_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        for widgets in ((QLabel("Class"), self.class_box, self.keep_box),
                        (QLabel("Candidates"), self.count_box, QLabel("Schedule"),
                         self.schedule_box),
                        (self.complete_button, self.draw_button),
                        (self.bar, self.cancel_button)):
            row = QHBoxLayout()
            for x in widgets:
                row.addWidget(x, 1 if x in (self.class_box, self.schedule_box, self.bar) else 0)
            layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        for b in (self.accept_button, self.reject_button, self.export_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addStretch(1)
        self._guess: str | None = None
        self._guess_known = True
        self._fill_classes(known_classes())
        controller.state_changed.connect(self.refresh)
        controller.progress.connect(self._show_progress)
        controller.started.connect(self._on_started)
        self.refresh()

    # -- the class box ----------------------------------------------------------------------
    def _fill_classes(self, classes: list[str]) -> None:
        current = self.choice() if self.class_box.count() else TOP_GUESS
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(self._guess_text())
        self.class_box.addItems(sorted(classes))
        i = self.class_box.findText(current)
        self.class_box.setCurrentIndex(max(i, 0))
        self.class_box.blockSignals(False)

    def _guess_text(self) -> str:
        if not self._guess:
            return TOP_GUESS
        if not self._guess_known:
            return f"{TOP_GUESS} (none; closest: {self._guess})"
        return f"{TOP_GUESS} ({self._guess})"

    def set_classes(self, classes: list[str]) -> None:
        """The classes to offer (the recognizer's, until the generator says its own)."""
        if not self.c.classes and classes:
            self._fill_classes(list(classes))

    def show_guess(self, label: str | None, known: bool = True) -> None:
        """The classifier's current top guess, shown in the class box's first item;
        ``known`` False: the drawing looks like none of the classes and ``label`` is only
        the closest one (a completion then uses it, and says so)."""
        self._guess, self._guess_known = label, bool(known)
        if self.class_box.count():
            self.class_box.setItemText(0, self._guess_text())

    def choice(self) -> str:
        """The class picked, or TOP_GUESS."""
        i = self.class_box.currentIndex()
        return TOP_GUESS if i <= 0 else self.class_box.currentText()

    def pick(self, label: str) -> None:
        """Pick a class (as the user would in the box)."""
        i = self.class_box.findText(label)
        if i >= 0:
            self.class_box.setCurrentIndex(i)

    def _on_started(self, _mode: str, _label: str) -> None:
        if not self.keep_box.isChecked():
            self.class_box.setCurrentIndex(0)   # the next request follows the top guess

    # -- settings and focus ---------------------------------------------------------------
    def _set_count(self, n: int) -> None:
        self.c.w.settings.generation_candidates = int(n)
        self.c.w.settings_changed()

    def _set_schedule(self, name: str) -> None:
        self.c.w.settings.generation_schedule = name
        self.c.w.settings_changed()

    def _give_back_focus(self) -> None:
        self.c.w.canvas.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- state ---------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        p, c = self.c.progress_state, self.c
        if not c.running and not any(cand.finished for cand in c.candidates):
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")
            return
        # the text first: QProgressBar repaints at once when its value changes, and the
        # new range must not show under the old words
        if p.total == 0:
            self.bar.setFormat("starting...")
        elif p.unit == "steps":
            which = f" of candidate {p.k + 1} / {p.n}" if p.n > 1 else ""
            again = f" (draft {p.draft}: redrawing)" if p.draft > 1 else ""
            self.bar.setFormat("sketching: step %v / %m" + which + again)
        else:
            which = f" of candidate {p.k + 1} / {p.n}" if p.n > 1 else ""
            self.bar.setFormat("refining: %v / %m leaves" + which)
        self.bar.setRange(0, max(p.total, 1))
        self.bar.setValue(p.done)
        if c.running:
            which = f": candidate {p.k + 1} of {p.n}" if p.n > 1 else ""
            self.status.setText(f"Generating {c.label} on {c.device_name or 'CPU'}{which}")

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
            text = (f"Generating {c.label} on {device}..." if c.device_name
                    else f"Loading the generation models, then {c.label}...")
        elif has:
            n = sum(x.finished for x in c.candidates)
            text = f"{n} candidate{'s' * (n > 1)} of {c.label}: Accept or Reject"
        elif c.device_name:
            text = f"Device: {device}"
        else:
            text = "The generation models load when you first ask for a sketch"
        self.status.setText(text)
        self._show_progress()
        self._refresh_list()

    def _refresh_list(self) -> None:
        c = self.c
        finished = [(i, cand) for i, cand in enumerate(c.candidates) if cand.finished]
        self.list.blockSignals(True)
        self.list.clear()
        for n, (i, _cand) in enumerate(finished):
            icon = QIcon(strokes_thumbnail([p for p, _ in c.candidate_strokes(i)], THUMB))
            item = QListWidgetItem(icon, f"#{n + 1}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
            if i == c.selected:
                self.list.setCurrentRow(n)
        self.list.blockSignals(False)
