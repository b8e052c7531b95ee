"""App latency benchmark: drives the real window offscreen and prints one JSON object.

- pen-up -> chart: median time from the mouse release that ends a stroke to the prediction
  chart showing the answer for the finished drawing (target <= 100 ms);
- event-loop stall: the longest gap between ticks of a 2 ms heartbeat timer while a
  simulated pen draws continuously (120 Hz moves) with live classification on
  (target <= 50 ms).

Usage: python benchmarks/app_latency.py [--fake] [--strokes 30] [--seconds 6] [--cpu]
The shipped classifier is used unless --fake (a recognizer with a fixed 10 ms cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time

from _common import SilentDialogs, isolate_app  # noqa: E402

isolate_app()

TARGET_PEN_UP_MS = 100.0
TARGET_STALL_MS = 50.0


def _fake_factory(device):
    import numpy as np

    from visketch_core.inference import Prediction

    class Fake:
        classes = [f"class{i}" for i in range(10)]
        threshold = 0.5
        device_name = "CPU"

        def classify(self, sketch, top_k=5):
            time.sleep(0.010)
            p = np.full(10, 0.05, np.float32)
            p[len(sketch.strokes) % 10] = 0.55
            order = np.argsort(-p)[:top_k]
            box = np.array([sketch.bounds()], np.float32)
            return Prediction(self.classes, p, [(self.classes[j], float(p[j])) for j in order],
                              box, np.zeros(1, np.int64), np.ones(1, np.float32), p[None],
                              True, 0.5, 10.0)

    return Fake()


def _pen(canvas, kind: str, x: float, y: float) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}
    button = Qt.MouseButton.NoButton if kind == "move" else Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == "release" else Qt.MouseButton.LeftButton
    local = QPointF(x, y)
    ev = QMouseEvent(types[kind], local, canvas.mapToGlobal(local), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, ev)


def _shape(i: int, n: int = 24) -> list[tuple[float, float]]:
    """Stroke i of a repeating family of scribbles inside a 500 x 500 area."""
    cx, cy = 150 + 60 * (i % 5), 150 + 50 * ((i // 5) % 5)
    r = 40 + 10 * (i % 3)
    return [(cx + r * math.cos(2 * math.pi * k / n + i) * (1 + 0.2 * math.sin(3 * k / n)),
             cy + r * math.sin(2 * math.pi * k / n + i)) for k in range(n)]


def _wait(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)


def pen_up_latency(app, w, strokes: int) -> tuple[list[float], list[float]]:
    """Draw ``strokes`` strokes at a human pace; time each pen-up to the updated chart."""
    shown: dict[int, float] = {}
    w.panel.prediction_shown.connect(lambda rid: shown.setdefault(rid, time.perf_counter()))
    latencies, model_ms = [], []
    for i in range(strokes):
        if i % 8 == 0:
            w.clear_drawing()
            _wait(app, 0.15)
        pts = _shape(i)
        _pen(w.canvas, "press", *pts[0])
        for x, y in pts[1:]:
            _wait(app, 0.008)  # a 120 Hz pen; live requests go out while it moves
            _pen(w.canvas, "move", x, y)
        t0 = time.perf_counter()
        _pen(w.canvas, "release", *pts[-1])
        rid = w.live.last_request_id  # the request for the finished drawing
        deadline = t0 + 30.0
        while not any(r >= rid for r in shown) and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.0002)
        done = min((t for r, t in shown.items() if r >= rid), default=float("nan"))
        latencies.append((done - t0) * 1000.0)
        if w.latest_prediction is not None:
            model_ms.append(float(w.latest_prediction.ms))
        _wait(app, 0.25)  # a pause between strokes, as people make
    return latencies, model_ms


def drawing_stall(app, w, seconds: float) -> dict:
    """Draw without pause for ``seconds`` and measure the event loop's longest stall."""
    from PySide6.QtCore import Qt, QTimer

    ticks: list[float] = []
    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    state = {"i": 0, "k": 0, "pts": _shape(0, 60), "down": False}

    def step():
        s = state
        if not s["down"]:
            if s["i"] % 6 == 0:
                w.clear_drawing()
            s["pts"], s["k"], s["down"] = _shape(s["i"], 60), 0, True
            _pen(w.canvas, "press", *s["pts"][0])
            return
        s["k"] += 1
        if s["k"] < len(s["pts"]):
            _pen(w.canvas, "move", *s["pts"][s["k"]])
        else:
            _pen(w.canvas, "release", *s["pts"][-1])
            s["down"], s["i"] = False, s["i"] + 1

    pen = QTimer()
    pen.setTimerType(Qt.TimerType.PreciseTimer)
    pen.timeout.connect(step)
    shown_before = w.live._shown
    requests_before, dropped_before = w.worker.requests, w.worker.dropped
    beat.start(2)
    pen.start(8)
    _wait(app, seconds)
    pen.stop()
    beat.stop()
    gaps = sorted((b - a) * 1000.0 for a, b in zip(ticks, ticks[1:], strict=False))
    return {
        "max_ms": round(gaps[-1], 1) if gaps else None,
        "p99_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 1) if gaps else None,
        "over_50ms": sum(g > TARGET_STALL_MS for g in gaps),
        "strokes_drawn": state["i"],
        "requests": w.worker.requests - requests_before,
        "dropped": w.worker.dropped - dropped_before,
        "answers_shown": w.live._shown - shown_before,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true", help="a fixed-cost fake recognizer")
    ap.add_argument("--strokes", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args(argv)

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(["app_latency"])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    w = MainWindow(recognizer_factory=_fake_factory if args.fake else None,
                   force_cpu=args.cpu, dialogs=SilentDialogs())
    w.resize(1200, 760)
    w.show()
    if not loop.run_until_complete(w.load_model()):
        print(json.dumps({"error": w.model_error}))
        return 1
    # warm up the model (first calls allocate)
    for i in range(3):
        pts = _shape(i)
        _pen(w.canvas, "press", *pts[0])
        for p in pts[1:]:
            _pen(w.canvas, "move", *p)
        _pen(w.canvas, "release", *pts[-1])
        _wait(app, 0.5)

    lat, model_ms = pen_up_latency(app, w, args.strokes)
    stall = drawing_stall(app, w, args.seconds)
    lat_sorted = sorted(lat)
    median = statistics.median(lat)
    out = {
        "benchmark": "app_latency",
        "model": "fake" if args.fake else "shipped",
        "device": w.device_name,
        "platform": os.environ.get("QT_QPA_PLATFORM", ""),
        "cpu_count": os.cpu_count(),
        "pen_up_to_chart_ms": {
            "median": round(median, 1),
            "p90": round(lat_sorted[int(0.9 * (len(lat) - 1))], 1),
            "max": round(lat_sorted[-1], 1),
            "n": len(lat),
        },
        "model_ms_median": round(statistics.median(model_ms), 1) if model_ms else None,
        "drawing_stall": stall | {"seconds": args.seconds},
        "targets": {"pen_up_median_ms": TARGET_PEN_UP_MS, "stall_max_ms": TARGET_STALL_MS},
        "pass": bool(median <= TARGET_PEN_UP_MS and (stall["max_ms"] or 0) <= TARGET_STALL_MS),
    }
    print(json.dumps(out))
    w.shutdown()
    w.close()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
