"""File actions: new, open, save, import, export, recent files.

Reading goes through ``visketch_core.sketch.io`` on an executor thread (awaited through
qasync), so a large QuickDraw file never freezes the window. Bad input becomes a one-line
message and the current drawing is left exactly as it was. Saving writes ``.visketch``
with each stroke's width (``app.docfile``); export draws the strokes as the canvas does
(``app.export``), widths included, PNG at the size the user picks.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace
from pathlib import Path

from app.commands import ReplaceStrokesCommand
from app.dialogs import EXPORT_FILTERS, SAVE_FILTERS
from app.docfile import read_widths, write_visketch
from app.document import strokes_from_sketch
from app.export import PNG_SIZES, export_drawing
from app.host import WindowHost
from visketch_core.errors import SketchError
from visketch_core.sketch.model import Sketch

log = logging.getLogger(__name__)

MAX_PICK = 300  # a many-sketch file offers its first MAX_PICK sketches to pick from
DOCUMENT_SUFFIX = ".visketch"


def read_for_app(path: str, index: int | None = None) -> tuple[list[Sketch], bool]:
    """Sketches of ``path`` ready for the document: the ``index``-th one, or the first
    MAX_PICK of it (and whether the file holds more). Raster sketches are traced to
    strokes. Runs on a worker thread; raises SketchError (one line)."""
    from visketch_core.sketch.io import read_sketch, read_sketches

    if index is not None:
        sketches, more = [read_sketch(path, index)], False
    else:
        errors: list[SketchError] = []
        it = read_sketches(path, on_error=errors.append)
        try:
            sketches = list(itertools.islice(it, MAX_PICK + 1))
        except SketchError:
            if errors:
                raise errors[0] from None
            raise
        more = len(sketches) > MAX_PICK
        sketches = sketches[:MAX_PICK]
    return [_traced(s) for s in sketches], more


def _traced(sketch: Sketch) -> Sketch:
    if sketch.strokes or sketch.raster is None:
        return sketch
    from visketch_core.geometry.vectorise import vectorise

    traced = vectorise(sketch.raster)
    if not traced.strokes:
        raise SketchError("no ink found in the image", path=sketch.source)
    return replace(sketch, strokes=traced.strokes, times=None, raster=None)


def _widths_of(path: str) -> list[float] | None:
    """The stroke widths a ``.visketch`` file recorded (other formats have none)."""
    return read_widths(path) if Path(path).suffix.lower() == DOCUMENT_SUFFIX else None


class FileActions:
    """The window's file menu, as coroutines (run them with ``asyncio.ensure_future``)."""

    def __init__(self, window: WindowHost):
        self.w = window
        self.path: str | None = None  # the .visketch file the drawing belongs to

    # -- helpers -----------------------------------------------------------------------
    @property
    def display_name(self) -> str:
        return Path(self.path).name if self.path else "Untitled"

    def _error(self, what: str, exc: BaseException) -> None:
        from app.worker import one_line

        self.w.show_error(f"{what}: {one_line(exc)}")

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, fn, *args)

    async def confirm_discard(self) -> bool:
        """True when the drawing may be replaced (saved, discarded, or unmodified)."""
        if self.w.undo_stack.isClean() or self.w.document.is_empty:
            return True
        answer = await self.w.dialogs.ask_save_changes(self.display_name)
        if answer == "save":
            return await self.save()
        return answer == "discard"

    def confirm_discard_now(self) -> bool:
        """``confirm_discard`` with blocking dialogs, for closeEvent (outside any task)."""
        if self.w.undo_stack.isClean() or self.w.document.is_empty:
            return True
        answer = self.w.dialogs.ask_save_changes_now(self.display_name)
        if answer == "save":
            return self.save_now()
        return answer == "discard"

    async def _load(self, path: str, index: int | None) -> Sketch | None:
        """The chosen sketch of ``path``, or None (message shown, nothing changed)."""
        try:
            sketches, more = await self._run(read_for_app, path, index)
        except Exception as exc:  # noqa: BLE001 - any failure: a message, the drawing as it was
            self._error(f"Could not open {Path(path).name}", exc)
            return None
        if len(sketches) > 1:
            pick = await self.w.dialogs.pick_sketch(sketches, more)
            if pick is None:
                return None
            sketches = [sketches[pick]]
        sketch = sketches[0]
        if not any(len(s) for s in sketch.strokes):
            self.w.show_error(f"Could not open {Path(path).name}: it holds no strokes")
            return None
        s = self.w.settings
        s.last_open_dir = str(Path(path).resolve().parent)
        s.add_recent(path)
        self.w.settings_changed()
        self.w.refresh_recent_menu()
        return sketch

    # -- actions --------------------------------------------------------------------------
    async def new(self) -> None:
        if await self.confirm_discard():
            self.w.set_document(Sketch(), path=None)

    async def open(self, path: str | None = None, index: int | None = None) -> bool:
        """Open a drawing (any readable format; only .visketch keeps its path for saving)."""
        if not await self.confirm_discard():
            return False
        if path is None:
            path = await self.w.dialogs.open_path("Open a drawing", self.w.settings.last_open_dir)
            if not path:
                return False
        sketch = await self._load(path, index)
        if sketch is None:
            return False
        is_doc = Path(path).suffix.lower() == DOCUMENT_SUFFIX
        widths = await self._run(_widths_of, path)
        self.w.set_document(sketch, path=str(Path(path).resolve()) if is_doc else None,
                            widths=widths)
        self.w.show_info(f"Opened {Path(path).name}")
        return True

    async def import_(self, path: str | None = None, index: int | None = None) -> bool:
        """Replace the drawing with a sketch from another file, undoably."""
        if path is None:
            path = await self.w.dialogs.open_path("Import a sketch",
                                                  self.w.settings.last_open_dir)
            if not path:
                return False
        sketch = await self._load(path, index)
        if sketch is None:
            return False
        widths = await self._run(_widths_of, path)
        self.w.undo_stack.push(ReplaceStrokesCommand(
            self.w.document, strokes_from_sketch(sketch, widths), f"Import {Path(path).name}"))
        self.w.document.label = sketch.label
        self.w.canvas.fit_view()
        self.w.show_info(f"Imported {Path(path).name}")
        return True

    def save_now(self, path: str | None = None) -> bool:
        """Save synchronously (for closeEvent); ask for a path when there is none."""
        path = path or self.path
        if path is None or Path(path).suffix.lower() != DOCUMENT_SUFFIX:
            start = str(Path(self.w.settings.last_open_dir or ".") / "drawing.visketch")
            path = self.w.dialogs.save_path_now("Save drawing", start, SAVE_FILTERS,
                                                DOCUMENT_SUFFIX)
            if not path:
                return False
        try:
            write_visketch(self.w.document.to_sketch(), self.w.document.widths(), path)
        except (SketchError, OSError) as exc:
            self._error("Could not save", exc)
            return False
        self._saved(path)
        return True

    async def save(self, path: str | None = None, ask: bool = False) -> bool:
        """Save the drawing as .visketch; ``ask`` (Save As) always asks for a path."""
        path = path or (None if ask else self.path)
        if path is None:
            start = str(Path(self.w.settings.last_open_dir or ".") / "drawing.visketch")
            path = await self.w.dialogs.save_path("Save drawing", start, SAVE_FILTERS,
                                                   DOCUMENT_SUFFIX)
            if not path:
                return False
        if Path(path).suffix.lower() != DOCUMENT_SUFFIX:
            path = str(Path(path).with_suffix(DOCUMENT_SUFFIX))
        try:
            await self._run(write_visketch, self.w.document.to_sketch(),
                            self.w.document.widths(), path)
        except (SketchError, OSError) as exc:
            self._error("Could not save", exc)
            return False
        self._saved(path)
        return True

    def _saved(self, path: str) -> None:
        self.path = str(Path(path).resolve())
        self.w.undo_stack.setClean()
        self.w.settings.last_open_dir = str(Path(path).resolve().parent)
        self.w.settings.add_recent(path)
        self.w.settings_changed()
        self.w.refresh_recent_menu()
        self.w.update_title()
        self.w.show_info(f"Saved {Path(path).name}")

    async def export(self, path: str | None = None) -> bool:
        """Write the drawing as PNG (dark ink on white, at a size the user picks) or SVG."""
        if self.w.document.is_empty:
            self.w.show_error("Nothing to export: the drawing is empty")
            return False
        stem = Path(self.path).stem if self.path else "drawing"
        strokes = [(s.points, s.width) for s in self.w.document.strokes]
        return await self.export_strokes(strokes, path, "Export drawing", stem)

    async def export_strokes(self, strokes: list, path: str | None, title: str,
                             stem: str) -> bool:
        """Write ``(points, width)`` strokes as PNG or SVG to ``path`` (asked for when None;
        the PNG's size is asked for then too)."""
        settings = self.w.settings
        asked = path is None
        if path is None:
            start = str(Path(settings.last_export_dir or ".") / f"{stem}.png")
            path = await self.w.dialogs.save_path(title, start, EXPORT_FILTERS, ".png")
            if not path:
                return False
        if Path(path).suffix.lower() not in (".png", ".svg"):
            self.w.show_error(f"Could not export {Path(path).name}: choose a .png or .svg name")
            return False
        size = settings.export_png_size
        if asked and Path(path).suffix.lower() == ".png":
            size = await self.w.dialogs.png_size(PNG_SIZES, size)
            if not size:
                return False
            settings.export_png_size = int(size)
        try:
            await self._run(export_drawing, strokes, path, int(size))
        except (SketchError, OSError) as exc:
            self._error(f"Could not export {Path(path).name}", exc)
            return False
        settings.last_export_dir = str(Path(path).resolve().parent)
        self.w.settings_changed()
        self.w.show_info(f"Exported {Path(path).name}")
        return True
