"""Every question the app asks the user, in one replaceable object (tests swap in answers).

Also the sketch picker: a file of many sketches (QuickDraw ndjson, sketch-rnn npz) shows a
grid of thumbnails to pick one from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from visketch_core.sketch.model import Sketch

OPEN_FILTERS = ("All sketches (*.visketch *.ndjson *.npz *.bin *.npy *.svg *.png *.jpg *.jpeg);;"
                "ViSketch drawings (*.visketch);;QuickDraw (*.ndjson *.bin *.npy);;"
                "sketch-rnn (*.npz);;SVG (*.svg);;Images (*.png *.jpg *.jpeg);;All files (*)")
SAVE_FILTERS = "ViSketch drawing (*.visketch)"
EXPORT_FILTERS = "PNG image (*.png);;SVG drawing (*.svg)"


def thumbnail(sketch: Sketch, size: int = 72) -> QPixmap:
    """A small picture of a sketch's strokes (or raster)."""
    pm = QPixmap(size, size)
    pm.fill(QColor(255, 255, 255))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pts = [s for s in sketch.strokes if len(s)]
    if pts:
        allp = np.concatenate(pts)
        lo, hi = allp.min(0), allp.max(0)
        scale = (size - 8) / max(float((hi - lo).max()), 1e-6)
        off = (size - (hi - lo) * scale) / 2 - lo * scale
        pen = QPen(QColor(20, 20, 20), 1.4)
        p.setPen(pen)
        for s in pts:
            q = s * scale + off
            path = QPainterPath(QPointF(float(q[0, 0]), float(q[0, 1])))
            for x, y in q[1:]:
                path.lineTo(float(x), float(y))
            p.drawPath(path)
    p.end()
    return pm


class SketchPicker(QDialog):
    """Pick one sketch of many, by thumbnail."""

    def __init__(self, sketches: list[Sketch], more: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Pick a sketch")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(72, 72))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setUniformItemSizes(True)
        for i, sk in enumerate(sketches):
            item = QListWidgetItem(QIcon(thumbnail(sk)), f"{i}")
            item.setToolTip(f"#{i} {sk.label or ''} ({len(sk.strokes)} strokes)")
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if more:
            self.setWindowTitle(f"Pick a sketch (the first {len(sketches)} of the file)")
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(640, 480)

    def index(self) -> int:
        return self.list.currentRow()


class Dialogs:
    """The window's questions. Methods return None when the user cancels."""

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def open_path(self, title: str, folder: str, filters: str = OPEN_FILTERS) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, filters)
        return path or None

    def save_path(self, title: str, start: str, filters: str,
                  default_suffix: str = ".visketch") -> str | None:
        path, chosen = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        if not path:
            return None
        if not Path(path).suffix:
            chosen = chosen.lower()
            path += ".svg" if "*.svg" in chosen else ".png" if "*.png" in chosen else default_suffix
        return path

    def ask_save_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Icon.Question, "ViSketch",
                          f"Save the changes to {name}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.parent)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return "save"
        if answer == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    def pick_sketch(self, sketches: list[Sketch], more: bool) -> int | None:
        dlg = SketchPicker(sketches, more, self.parent)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        return dlg.index() if dlg.exec() == QDialog.DialogCode.Accepted else None
