"""The window's session: start-up (the model loads while the window is already up),
the offer to restore a crashed session's autosave, files dropped on the window, and the
window's size and place.

A mixin of ``MainWindow``: these methods use the window's worker, autosave, message bar
and files, and nothing else of it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication

from app.autosave import Survivor
from app.commands import ReplaceStrokesCommand
from app.docfile import read_widths
from app.document import strokes_from_sketch
from app.settings import window_state_path
from app.worker import one_line
from visketch_core.sketch.model import Sketch

DEFAULT_SIZE = (1280, 720)


class SessionMixin:
    """Start-up, crash recovery, drops and window geometry for ``MainWindow``."""

    # -- start-up (a coroutine on the qasync loop) -----------------------------------------
    async def start(self, path: str | None = None, index: int | None = None,
                    offer_restore: bool = True) -> None:
        """Load the model and, meanwhile, open ``path`` or offer back a crashed session."""
        loading = asyncio.ensure_future(self.load_model())
        if path:
            await self.files.open(path, index)
        elif offer_restore:
            self.offer_restore()
        await loading

    async def load_model(self) -> bool:
        """(Re)load the recognizer on the worker thread; True when it is ready."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        def settle(ok: bool) -> None:
            if not fut.done():
                fut.set_result(ok)

        def done(*args) -> None:
            # a plain function connected to the worker's signal runs on the worker's thread
            loop.call_soon_threadsafe(settle, len(args) == 2)  # loaded(device, classes)

        self.worker.model_loaded.connect(done)
        self.worker.model_failed.connect(done)
        self.live.set_ready(False)
        self.status_device.setText("Device: loading...")
        self.worker.load(self.device_choice())
        try:
            return await fut
        finally:
            self.worker.model_loaded.disconnect(done)
            self.worker.model_failed.disconnect(done)

    def device_choice(self) -> str:
        return "cpu" if self.force_cpu or self.settings.device == "cpu" else "auto"

    def offer_restore(self) -> Survivor | None:
        survivors = self.autosave.survivors()
        if not survivors:
            return None
        s = survivors[0]
        when = time.strftime("%H:%M on %d %b", time.localtime(s.mtime))
        name = Path(s.document_path).name if s.document_path else "an untitled drawing"
        self.message_bar.show_message(
            f"ViSketch did not close properly last time. Restore {name} autosaved at {when}?",
            "offer", [("&Restore", lambda: self.restore(s)),
                      ("&Discard", lambda: [x.discard() for x in survivors])])
        return s

    def restore(self, survivor: Survivor) -> bool:
        from visketch_core.sketch.io import read_sketch

        try:
            sketch = read_sketch(survivor.path)
        except Exception as exc:  # noqa: BLE001 - a bad autosave must not stop the app
            self.show_error(f"Could not restore the autosave: {one_line(exc)}")
            return False
        self.set_document(Sketch(), path=survivor.document_path)
        self.undo_stack.push(ReplaceStrokesCommand(
            self.document, strokes_from_sketch(sketch, read_widths(survivor.path)),
            "Restore autosave"))
        self.canvas.fit_view()
        survivor.discard()
        self.show_info("Restored the autosaved drawing")
        return True

    def _qsettings(self) -> QSettings:
        return QSettings(str(window_state_path()), QSettings.Format.IniFormat)

    def _default_size(self) -> None:
        """1280x720, or the screen's free area when that is smaller."""
        w, h = DEFAULT_SIZE
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            avail = screen.availableGeometry()
            w, h = min(w, avail.width()), min(h, avail.height())
        self.resize(w, h)

    def _restore_geometry(self) -> None:
        qs = self._qsettings()
        geometry, state = qs.value("geometry"), qs.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -- drag and drop: a drawing dropped on the window opens ----------------------------------
    @staticmethod
    def _dropped_file(mime) -> str | None:
        urls = [u for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        return urls[0].toLocalFile() if urls else None

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_file(e.mimeData()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        path = self._dropped_file(e.mimeData())
        if path is None:
            e.ignore()
            return
        e.acceptProposedAction()
        asyncio.ensure_future(self.files.open(path))
