"""What the window's controllers (files, generation, menus) may use of the window.

The controllers take a ``WindowHost`` instead of importing ``app.main_window``, so the
window depends on them and never the other way round, and a test can hand a controller
anything with these members.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

    from app.canvas import SketchCanvas
    from app.dialogs import Dialogs
    from app.document import SketchDocument
    from app.settings import AppSettings
    from visketch_core.sketch.model import Sketch


class WindowHost(Protocol):
    """The window as its controllers see it."""

    settings: AppSettings
    document: SketchDocument
    undo_stack: QUndoStack
    canvas: SketchCanvas
    dialogs: Dialogs
    latest_prediction: Any        # the newest core Prediction shown, or None

    def show_info(self, text: str) -> None:
        """A notice (it replaces an error: the user has moved on)."""

    def show_error(self, text: str, timeout_ms: int | None = None) -> None:
        """An error; ``timeout_ms`` None: the default for errors about an action."""

    def set_document(self, sketch: Sketch, path: str | None,
                     widths: list[float] | None = None) -> None:
        """Replace the drawing (a new history)."""

    def settings_changed(self) -> None:
        """Write the settings soon (they are saved when they change, not only on exit)."""

    def refresh_recent_menu(self) -> None: ...

    def update_title(self, *_args: Any) -> None: ...

    def device_choice(self) -> str: ...

    async def export_strokes(self, strokes: list, path: str | Path | None, title: str,
                             stem: str) -> bool:
        """Export ``(points, width)`` strokes as PNG or SVG (asks for the path when None)."""
        ...
