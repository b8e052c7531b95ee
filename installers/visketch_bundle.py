"""The frozen app's entry point: check the bundle, then run ``app.main.main``.

``ViSketch [FILE] [--screenshot OUT.png] ...``  the app, with the arguments of ``visketch app``
``ViSketch --version``                          the version the bundle was built from
``ViSketch --check-bundle``                     check every bundled file against the manifest
                                                (sizes and SHA-256); exit 0 or 3

At build time the spec writes ``resources/MANIFEST.json`` (version, and size and SHA-256 of
every bundled resource). At start the frozen app compares sizes only (no hashing, so start-up
does not grow with the models); a missing or truncated model is reported on stderr and in a
dialog that names the file and says what to do, and the app still opens for drawing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

MANIFEST = "MANIFEST.json"
EXIT_DAMAGED = 3


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(resources: Path) -> dict:
    """The build's manifest: ``{"version": str, "files": {relpath: {"size", "sha256"}}}``."""
    return json.loads((resources / MANIFEST).read_text(encoding="utf-8"))


def bundle_problems(resources: Path, *, deep: bool = False) -> list[str]:
    """One line per thing wrong with the bundled resources; empty when all is well.

    ``deep`` also compares SHA-256 checksums (slower: reads every file)."""
    try:
        manifest = read_manifest(resources)
    except FileNotFoundError:
        return [f"{resources / MANIFEST} is missing"]
    except (OSError, ValueError, UnicodeDecodeError):
        return [f"{resources / MANIFEST} is unreadable"]
    problems = []
    for rel, info in sorted(manifest.get("files", {}).items()):
        path = resources / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif path.stat().st_size != info["size"]:
            problems.append(f"{rel} is damaged ({path.stat().st_size} bytes, "
                            f"expected {info['size']})")
        elif deep and sha256_of(path) != info["sha256"]:
            problems.append(f"{rel} is damaged (its checksum differs)")
    return problems


def damage_message(problems: list[str], resources: Path) -> str:
    return (f"This copy of ViSketch is damaged: {'; '.join(problems)} (in {resources}). "
            "Drawing still works, but recognising sketches needs the models: "
            "download ViSketch again and reinstall it.")


def _is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _start_qt(argv: list[str]):
    """Create the QApplication that ``app.main.main`` will reuse, so that it carries the
    icon and the desktop-file name (Wayland matches the window to visketch.desktop by it)."""
    if "--screenshot" in argv and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # as app.main does, headless
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from visketch_core.paths import resources_dir

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "ViSketch"])
    icon = resources_dir() / "icons" / "visketch.png"
    if icon.is_file():
        qapp.setWindowIcon(QIcon(str(icon)))
    qapp.setDesktopFileName("visketch")
    return qapp


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from visketch_core.paths import resources_dir

    resources = resources_dir()
    if argv[:1] == ["--version"]:
        try:
            version = read_manifest(resources)["version"]
        except (OSError, ValueError, KeyError):
            from visketch_core import __version__ as version
        print(f"ViSketch {version}")
        return 0
    if argv[:1] == ["--check-bundle"]:
        problems = bundle_problems(resources, deep=True)
        for line in problems:
            print(f"ViSketch: {line}", file=sys.stderr)
        if not problems:
            print(f"ViSketch: bundle OK ({len(read_manifest(resources)['files'])} files checked)")
        return EXIT_DAMAGED if problems else 0

    problems = bundle_problems(resources) if _is_frozen() else []
    qapp = _start_qt(argv)
    if problems:
        message = damage_message(problems, resources)
        print(f"ViSketch: {message}", file=sys.stderr)
        if "--screenshot" not in argv:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(None, "ViSketch is damaged", message)
    from app.main import main as app_main

    try:
        return app_main(argv)  # reuses QApplication.instance()
    finally:
        del qapp  # held until here: a collected wrapper would destroy the application


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
