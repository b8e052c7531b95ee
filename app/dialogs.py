"""Every question the app asks the user, in one replaceable object (tests swap in answers).

Also the sketch picker: a file of many sketches (QuickDraw ndjson, sketch-rnn npz) shows a
grid of thumbnails to pick one from.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
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
    """A small picture of a sketch's strokes."""
    return strokes_thumbnail(sketch.strokes, size)


def strokes_thumbnail(strokes: list[np.ndarray], size: int = 72) -> QPixmap:
    """A small picture of strokes (float (N, 2) each), fitted into ``size`` px."""
    pm = QPixmap(size, size)
    pm.fill(QColor(255, 255, 255))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pts = [np.asarray(s, np.float32) for s in strokes if len(s)]
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


async def shown(dialog: QDialog) -> int:
    """Show ``dialog`` window-modal and wait for it without a nested event loop.

    ``exec()`` inside a coroutine would run other asyncio tasks from within this one's step,
    which asyncio forbids ("Cannot enter into task ..."); ``open()`` plus a future does not.
    """
    fut = asyncio.get_running_loop().create_future()

    def done(code: int) -> None:
        if not fut.done():
            fut.set_result(code)

    dialog.finished.connect(done)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    try:
        return await fut
    finally:
        dialog.deleteLater()


def _with_suffix(path: str, chosen_filter: str, default_suffix: str) -> str:
    if not Path(path).suffix:
        chosen = chosen_filter.lower()
        path += ".svg" if "*.svg" in chosen else ".png" if "*.png" in chosen else default_suffix
    return path


class Dialogs:
    """The window's questions. Methods return None when the user cancels.

    The coroutines are for use inside tasks; the ``*_now`` methods block (a nested event
    loop) and are only for places outside any task, such as ``closeEvent``.
    """

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def _file_dialog(self, title: str, start: str, filters: str, save: bool) -> QFileDialog:
        dlg = QFileDialog(self.parent, title, start, filters)
        if save:
            dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dlg.setFileMode(QFileDialog.FileMode.AnyFile)
        else:
            dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        return dlg

    async def open_path(self, title: str, folder: str, filters: str = OPEN_FILTERS) -> str | None:
        dlg = self._file_dialog(title, folder, filters, save=False)
        if await shown(dlg) != QDialog.DialogCode.Accepted or not dlg.selectedFiles():
            return None
        return dlg.selectedFiles()[0]

    async def save_path(self, title: str, start: str, filters: str,
                        default_suffix: str = ".visketch") -> str | None:
        dlg = self._file_dialog(title, start, filters, save=True)
        if await shown(dlg) != QDialog.DialogCode.Accepted or not dlg.selectedFiles():
            return None
        return _with_suffix(dlg.selectedFiles()[0], dlg.selectedNameFilter(), default_suffix)

    def save_path_now(self, title: str, start: str, filters: str,
                      default_suffix: str = ".visketch") -> str | None:
        path, chosen = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        return _with_suffix(path, chosen, default_suffix) if path else None

    def _save_changes_box(self, name: str) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, "ViSketch", f"Save the changes to {name}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.parent)
        # Alt+S / Alt+D answer from the keyboard (Return saves, Escape cancels)
        box.button(QMessageBox.StandardButton.Save).setText("&Save")
        box.button(QMessageBox.StandardButton.Discard).setText("&Discard")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return box

    @staticmethod
    def _answer(box: QMessageBox) -> str:
        button = box.standardButton(box.clickedButton()) if box.clickedButton() else None
        if button == QMessageBox.StandardButton.Save:
            return "save"
        if button == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    async def ask_save_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = self._save_changes_box(name)
        await shown(box)
        return self._answer(box)

    def ask_save_changes_now(self, name: str) -> str:
        box = self._save_changes_box(name)
        box.exec()
        return self._answer(box)

    async def png_size(self, sizes: tuple[int, ...], current: int) -> int | None:
        """The side of an exported PNG, in pixels (None: cancelled)."""
        dlg = QInputDialog(self.parent)
        dlg.setWindowTitle("Export PNG")
        dlg.setLabelText("Picture size (pixels, square):")
        items = [str(v) for v in sizes]
        dlg.setComboBoxItems(items)
        dlg.setTextValue(str(current) if str(current) in items else items[-1])
        if await shown(dlg) != QDialog.DialogCode.Accepted:
            return None
        return int(dlg.textValue())

    async def pick_sketch(self, sketches: list[Sketch], more: bool) -> int | None:
        dlg = SketchPicker(sketches, more, self.parent)
        accepted = await shown(dlg) == QDialog.DialogCode.Accepted
        return dlg.index() if accepted else None
