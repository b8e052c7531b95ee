"""A non-modal message bar above the canvas: errors, notices and offers (restore autosave).

It never blocks drawing, unlike a modal box, which matters for errors that arrive from the
inference worker in the middle of a stroke.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

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
        return next((b for b in self._buttons if b.text() == name), None)

    def dismiss(self) -> None:
        self._timer.stop()
        self.hide()
        self.level = ""
