"""A non-modal message bar over the top of the canvas: errors, notices, offers (restore).

It never blocks drawing, unlike a modal box, which matters for errors that arrive from the
inference worker in the middle of a stroke. It floats over the canvas (``CanvasArea``)
instead of taking a row of the layout: a message that pushed the canvas down would move
the drawing under the pen, and a stroke drawn meanwhile would get a step baked into it.

Levels: "error", "info", "offer". A notice replaces an error (the user has moved on: a
success says more than an old failure); an offer (restore an autosave) stays until it is
answered or dismissed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

MAX_WIDTH = 720  # px: a long message wraps instead of spanning a wide canvas
INSET = 8        # px between the bar and the canvas's edges

STYLES = {
    "error": "background:#fde2e1; border:1px solid #e0a3a0; color:#5a1410;",
    "info": "background:#e6f0fd; border:1px solid #a9c4ef; color:#0f2b5a;",
    "offer": "background:#fff4d6; border:1px solid #e5cc80; color:#4a3a05;",
}


class MessageBar(QFrame):
    """One message at a time, with optional action buttons. ``shown(level, text)`` on show."""

    shown = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("\u2715")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves focus be
        self.close_button.setToolTip("Dismiss")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 4, 4)
        self._layout.addWidget(self.label, 1)
        self._layout.addWidget(self.close_button)
        self._buttons: list[QPushButton] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.level = ""
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisibleTo(self.parentWidget()) else ""

    def show_message(self, text: str, level: str = "error",
                     actions: list[tuple[str, Callable[[], None]]] | None = None,
                     timeout_ms: int = 0) -> None:
        """Show ``text``; each action is a button that runs its callback and closes the bar."""
        for b in self._buttons:
            self._layout.removeWidget(b)
            b.deleteLater()
        self._buttons = []
        for name, callback in actions or []:
            b = QPushButton(name)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.clicked.connect(lambda _=False, cb=callback: (self.dismiss(), cb()))
            self._layout.insertWidget(self._layout.count() - 1, b)
            self._buttons.append(b)
        self.level = level
        self.setStyleSheet(f"#MessageBar {{{STYLES.get(level, STYLES['info'])}}}")
        self.label.setText(text)
        self.show()
        self._timer.stop()
        if timeout_ms:
            self._timer.start(timeout_ms)
        self.shown.emit(level, text)

    def button(self, name: str) -> QPushButton | None:
        """The action button called ``name`` (its accelerator's & left out)."""
        return next((b for b in self._buttons if b.text().replace("&", "") == name), None)

    def dismiss(self) -> None:
        self._timer.stop()
        self.hide()
        self.level = ""

    def hide_if(self, level: str) -> None:
        """Dismiss the message shown when it is of this level."""
        if self.level == level and not self.isHidden():
            self.dismiss()


class CanvasArea(QWidget):
    """The canvas filling the window's centre, with the message bar floating over its top.

    Neither child is in a layout: the canvas always has the whole area, whatever the bar
    shows, so a message never moves or resizes the drawing.
    """

    def __init__(self, canvas: QWidget, bar: MessageBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.bar = canvas, bar
        canvas.setParent(self)
        bar.setParent(self)
        bar.raise_()
        bar.installEventFilter(self)
        self.setMinimumSize(canvas.minimumSize())
        bar.shown.connect(lambda *_: self._place_bar())

    def sizeHint(self):  # noqa: N802
        return self.canvas.sizeHint()

    def resizeEvent(self, e) -> None:  # noqa: N802
        super().resizeEvent(e)
        self.canvas.setGeometry(self.rect())
        self._place_bar()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802
        if obj is self.bar and e.type() in (QEvent.Type.Show, QEvent.Type.LayoutRequest):
            self._place_bar()
        return False

    def _place_bar(self) -> None:
        width = min(self.width() - 2 * INSET, MAX_WIDTH)
        layout = self.bar.layout()
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
        height = max(height, self.bar.minimumSizeHint().height())
        self.bar.setGeometry((self.width() - width) // 2, INSET, width, height)
        self.bar.raise_()
