"""User settings: a small JSON file under platformdirs' user config dir.

``$VISKETCH_CONFIG_DIR`` and ``$VISKETCH_DATA_DIR`` override the folders (tests use them).
The window geometry is Qt's business and goes to a QSettings INI file in the same folder.
The window writes the settings soon after each change (not only on exit), so a crash or a
second window never loses a pen width or a recent file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

log = logging.getLogger(__name__)

APP_NAME = "visketch"
MAX_RECENT = 10
DEVICES = ("auto", "cpu")
_UNSET = object()


def config_dir() -> Path:
    return Path(os.environ.get("VISKETCH_CONFIG_DIR") or user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(os.environ.get("VISKETCH_DATA_DIR") or user_data_dir(APP_NAME))


@dataclass
class AppSettings:
    """Everything the user can set that outlives a session."""

    pen_width: float = 3.0  # of the strokes drawn next, in document units
    show_quadtree: bool = True
    show_heatmap: bool = False
    show_leaf_votes: bool = False  # a hover card: off until asked for (it covers ink)
    live_classification: bool = True
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU) or "cpu"
    last_open_dir: str = ""
    last_export_dir: str = ""
    recent_files: list[str] = field(default_factory=list)
    generation_candidates: int = 2  # candidates per Complete / Draw request
    generation_schedule: str = "parallel"  # or "sequential" (one leaf at a time, slower)
    export_png_size: int = 1024  # side of an exported PNG, pixels

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self.recent_files = ([p] + [r for r in self.recent_files if r != p])[:MAX_RECENT]

    def __setattr__(self, name: str, value: object) -> None:
        # Settings loaded from a file are written back as soon as one changes: a crash
        # (or a kill) must not lose the recent files and choices of the session.
        old = getattr(self, name, _UNSET)
        object.__setattr__(self, name, value)
        bound = self.__dict__.get("_bound")
        if bound is not None and not name.startswith("_") and old != value:
            self.save(bound)

    # -- persistence -----------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> AppSettings:
        """Read the settings file; unknown keys are ignored, bad values fall back to defaults.
        The settings that come back save themselves to ``path`` whenever one changes."""
        path = path or settings_path()
        out = cls._read(path)
        object.__setattr__(out, "_bound", path)
        return out

    @classmethod
    def _read(cls, path: Path) -> AppSettings:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except RecursionError:
            log.warning("ignoring unreadable settings %s: nested too deeply", path)
            return cls()
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s: %s", path, exc)
            return cls()
        if not isinstance(raw, dict):
            return cls()
        out = cls()
        for f in fields(cls):
            if f.name not in raw:
                continue
            value, default = raw[f.name], getattr(out, f.name)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            elif isinstance(default, list):
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            else:
                ok = isinstance(value, type(default))
            if ok:
                setattr(out, f.name, value)
        if out.device not in DEVICES:
            out.device = "auto"
        out.pen_width = min(max(out.pen_width, 1.0), 40.0)
        out.export_png_size = min(max(int(out.export_png_size), 64), 8192)
        out.generation_candidates = min(max(int(out.generation_candidates), 1), 6)
        if out.generation_schedule not in ("parallel", "sequential"):
            out.generation_schedule = "parallel"
        return out

    def save(self, path: Path | None = None) -> None:
        """Write atomically (temporary file, then rename); errors are logged, not raised."""
        path = path or settings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not save settings to %s: %s", path, exc)


def settings_path() -> Path:
    return config_dir() / "settings.json"


def window_state_path() -> Path:
    """The QSettings INI file for window geometry and dock state."""
    return config_dir() / "window.ini"
