"""Undo commands: every user edit of the drawing is one of these on the window's QUndoStack."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from app.document import SketchDocument, Stroke


class AddStrokeCommand(QUndoCommand):
    """Append one finished stroke (one command per stroke drawn)."""

    def __init__(self, document: SketchDocument, stroke: Stroke, parent=None):
        super().__init__("Draw stroke", parent)
        self.document = document
        self.stroke = stroke
        self.index = len(document)

    def redo(self) -> None:
        self.document.insert_stroke(self.index, self.stroke)

    def undo(self) -> None:
        self.document.remove_stroke(self.index)


class EraseStrokeCommand(QUndoCommand):
    """Remove the stroke at ``index`` (the stroke eraser pushes one per stroke it touches)."""

    def __init__(self, document: SketchDocument, index: int, parent=None):
        super().__init__("Erase stroke", parent)
        self.document = document
        self.index = index
        self.stroke = document.stroke(index)

    def redo(self) -> None:
        self.document.remove_stroke(self.index)

    def undo(self) -> None:
        self.document.insert_stroke(self.index, self.stroke)


class ReplaceStrokesCommand(QUndoCommand):
    """Swap the whole drawing for another list of strokes: clear (empty list) and import."""

    def __init__(self, document: SketchDocument, strokes: list[Stroke], text: str, parent=None):
        super().__init__(text, parent)
        self.document = document
        self.new = list(strokes)
        self.old = list(document.strokes)

    def redo(self) -> None:
        self.document.replace_strokes(self.new)

    def undo(self) -> None:
        self.document.replace_strokes(self.old)


class ClearCommand(ReplaceStrokesCommand):
    """Remove every stroke, undoably."""

    def __init__(self, document: SketchDocument, parent=None):
        super().__init__(document, [], "Clear", parent)


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
