"""Errors that reach users as one clear line."""

from __future__ import annotations

from pathlib import Path


class SketchError(ValueError):
    """Bad input: a file, a line of a file, or a sketch that cannot be used.

    ``str(err)`` is a single line naming the file (and line, when known).
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(f"{where}{message}")


class ModelError(RuntimeError):
    """A model file is missing, corrupt or of the wrong kind (one line, names the file)."""


class NoSketchError(SketchError):
    """A file held no readable sketch. When its bad records were already reported one by
    one, a command need not say it again."""
