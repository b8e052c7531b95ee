"""Entry point: ``visketch app [FILE]`` and ``visketch app --open FILE --screenshot OUT.png``.

The Qt event loop runs through qasync, so start-up (loading the model while the window is
already up), file I/O and exports are coroutines that never freeze the window.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback
from pathlib import Path

log = logging.getLogger("app")

SCREENSHOT_SIZE = (1200, 760)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="visketch app", description="The ViSketch desktop app.")
    p.add_argument("file", nargs="?", help="a drawing to open (.visketch, .ndjson, .svg, .png, ...)")
    p.add_argument("--open", dest="open_", metavar="FILE", help="a drawing to open")
    p.add_argument("--index", type=int, default=None,
                   help="which sketch of a many-sketch file to open (from 0)")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="open FILE, wait for its first prediction, save a grab of the window, exit")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds --screenshot waits for the first prediction")
    p.add_argument("--cpu", action="store_true", help="run the model on the CPU")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, *, recognizer_factory=None) -> int:
    """Run the app; returns the exit status. ``recognizer_factory`` is for tests."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.screenshot:
        # headless: the outcome is the one line screenshot() prints; the window's own
        # warnings ("Could not open ...") would only say it twice
        logging.getLogger().setLevel(logging.ERROR)
    if args.screenshot and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless checks just work

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.worker import one_line
    from visketch_core.paths import resources_dir

    _route_qt_messages()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "visketch"])
    app.setApplicationName("ViSketch")
    app.setOrganizationName("ViSketch")
    app.setDesktopFileName("visketch")
    icon = resources_dir() / "icons" / "visketch.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(recognizer_factory=recognizer_factory, force_cpu=args.cpu)

    def report(exc: BaseException) -> None:
        log.error("%s", "".join(traceback.format_exception(exc)).rstrip())
        window.show_error(f"Internal error: {one_line(exc)}")

    old_hook = sys.excepthook
    sys.excepthook = lambda _t, exc, _tb: report(exc)
    loop.set_exception_handler(
        lambda _loop, ctx: report(ctx.get("exception") or RuntimeError(ctx.get("message", "?"))))
    path = args.open_ or args.file
    if args.screenshot and args.index is None:
        args.index = 0  # headless: never stop at the sketch picker
    try:
        with loop:
            if args.screenshot:
                window.resize(*SCREENSHOT_SIZE)
                window.show()
                return loop.run_until_complete(
                    screenshot(window, path, args.index, args.screenshot, args.timeout))
            window.show()
            loop.create_task(window.start(path, args.index))
            loop.run_forever()
            return 0
    finally:
        sys.excepthook = old_hook
        window.shutdown()


def _route_qt_messages() -> None:
    """Qt's own messages go through logging (logger "qt") instead of straight to stderr,
    so the log level decides about them like about any other (the offscreen platform's
    "This plugin does not support propagateSizeHints()" is not news to a user)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(kind, _context, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


async def screenshot(window, path: str | None, index: int | None, out: str,
                     timeout: float) -> int:
    """Open ``path``, wait for the first prediction, save a grab of the window to ``out``."""
    loop = asyncio.get_running_loop()
    first = loop.create_future()

    def settle_now(ok: bool, message: str) -> None:
        if not first.done():
            first.set_result((ok, message))

    def settle(ok: bool, message: str = "") -> None:
        # plain functions connected to the worker's signals run on the worker's thread
        loop.call_soon_threadsafe(settle_now, ok, message)

    window.panel.prediction_shown.connect(lambda _rid: settle(True))
    window.live.failed.connect(lambda _rid, msg: settle(False, f"classification failed: {msg}"))
    window.worker.model_failed.connect(lambda msg: settle(False, f"model: {msg}"))
    await window.start(path, index, offer_restore=False)
    ok, message = True, ""
    if path and window.document.is_empty:
        ok, message = False, window.message_bar.label.text() or f"could not open {path}"
    elif not window.document.is_empty:
        try:
            ok, message = await asyncio.wait_for(first, timeout)
        except asyncio.TimeoutError:
            ok, message = False, f"no prediction within {timeout:g} s"
    if window.message_bar.level == "info":
        window.message_bar.dismiss()  # "Opened ..." is noise in a picture for the docs
        window.statusBar().clearMessage()
    await asyncio.sleep(0.3)  # let the chart and overlays paint
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(out):
        print(f"visketch app: could not write {out}", file=sys.stderr)
        return 1
    window.shutdown()
    window.close()
    if not ok:
        print(f"visketch app: {message}", file=sys.stderr)
        return 1
    return 0
