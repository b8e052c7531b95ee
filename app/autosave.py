"""Autosave: the drawing is written after every stroke and offered back after a crash.

Each running app owns ``autosave-<pid>.visketch`` (a normal ``.visketch`` document) in the
user data dir, guarded by a QLockFile. The file is replaced atomically after every edit (a
temporary file, then a rename), so a ``kill -9`` loses at most the stroke being drawn. A
clean exit deletes it. At start, an autosave whose lock is stale (its process is gone) is
a crash survivor and is offered back.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile

from visketch_core.sketch.model import Sketch

log = logging.getLogger(__name__)


@dataclass
class Survivor:
    """An autosave left behind by a session that did not exit cleanly."""

    path: Path
    document_path: str | None  # the file the drawing belonged to, if any
    mtime: float

    def discard(self) -> None:
        for p in (self.path, _meta(self.path), _lock(self.path)):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not remove %s: %s", p, exc)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _meta(path: Path) -> Path:
    return path.with_suffix(".json")


def _lock(path: Path) -> Path:
    return path.with_suffix(".lock")


class Autosave:
    """This session's autosave file. ``save`` after every edit; ``close`` on a clean exit."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / f"autosave-{os.getpid()}.visketch"
        self._lock: QLockFile | None = None
        self.saves = 0

    def _ensure_lock(self) -> None:
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = QLockFile(str(_lock(self.path)))
            lock.setStaleLockTime(0)  # never stale while this process lives
            if not lock.tryLock(100):
                log.warning("autosave lock %s is held by another process", _lock(self.path))
            self._lock = lock

    def save(self, sketch: Sketch, document_path: str | None = None,
             widths: list[float] | None = None) -> None:
        """Write ``sketch`` (strokes only, with their ``widths``) atomically. An empty
        sketch removes the file.

        No fsync: a killed process loses nothing the kernel already holds, and an fsync
        on the GUI thread could stall drawing for tens of milliseconds on a busy disk.
        """
        from app.docfile import document_dict

        self._ensure_lock()
        if not sketch.strokes:
            self.remove_file()
            return
        doc = document_dict(sketch, widths)
        meta = {"document_path": document_path, "pid": os.getpid(), "time": time.time()}
        _atomic_write(_meta(self.path), json.dumps(meta))
        _atomic_write(self.path, json.dumps(doc, separators=(",", ":"), allow_nan=False))
        self.saves += 1

    def remove_file(self) -> None:
        for p in (self.path, _meta(self.path)):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def close(self) -> None:
        """A clean exit: the autosave is no longer needed."""
        self.remove_file()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def abandon(self) -> None:
        """Release the lock but keep the file, as a crash would (tests use this)."""
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def survivors(self) -> list[Survivor]:
        """Autosaves of sessions that are gone, newest first (never this session's own)."""
        out = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob("autosave-*.visketch"):
            if path == self.path:
                continue
            lock = QLockFile(str(_lock(path)))
            lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
            if not lock.tryLock(0):
                continue  # its owner is still running
            lock.unlock()
            doc = None
            try:
                doc = json.loads(_meta(path).read_text(encoding="utf-8")).get("document_path")
            except (OSError, ValueError, AttributeError):
                pass
            out.append(Survivor(path, doc, path.stat().st_mtime))
        return sorted(out, key=lambda s: -s.mtime)
