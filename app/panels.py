"""The predictions panel: a headline guess plus a pyqtgraph bar chart of the top-5 classes.

Below the model's confidence threshold the headline says "Not sure yet" and the bars turn
grey; a dashed line marks the threshold on the chart. When the model says the drawing is
none of its classes (verdict "unknown") the headline says so, a "What do you know?" link
offers the list of classes, and the bars, fainter still, only show the closest classes.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import Qt, Signal  # noqa: E402
from PySide6.QtGui import QColor, QFont  # noqa: E402
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget  # noqa: E402

TOP_K = 5
CONFIDENT = QColor(40, 90, 220)
UNSURE = QColor(150, 150, 150)
UNKNOWN = QColor(195, 195, 195)
KNOW_LINK = "What do you know?"


def unknown_headline(n_classes: int) -> str:
    return f"This doesn't look like any of the {n_classes} things I know"


class PredictionPanel(QWidget):
    """Shows one ``Prediction`` at a time; ``prediction_shown(request_id)`` after each."""

    prediction_shown = Signal(int)
    classes_requested = Signal()     # the "What do you know?" link was clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.headline = QLabel()
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)
        self._big_font = font
        self._long_font = QFont(font)     # the unknown sentence: smaller, so it fits
        self._long_font.setPointSizeF(font.pointSizeF() * 0.7)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.know_link = QLabel(f"<a href='classes'>{KNOW_LINK}</a>")
        self.know_link.setTextFormat(Qt.TextFormat.RichText)
        self.know_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.know_link.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # the keys stay with the canvas
        self.know_link.linkActivated.connect(lambda _href: self.classes_requested.emit())
        self.know_link.hide()

        pg.setConfigOptions(antialias=False, background="w", foreground="k")  # bars need none
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # a click on the chart leaves the keys
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setXRange(0.0, 1.0, padding=0.02)
        self.plot.setYRange(-0.6, TOP_K - 0.4, padding=0)
        self.plot.setLabel("bottom", "probability")
        self.plot.getAxis("left").setWidth(110)
        self.plot.setMinimumHeight(130)   # room below for the generation panel at 720 px
        self.bars = pg.BarGraphItem(x0=[0.0] * TOP_K, y=list(range(TOP_K)), height=0.62,
                                    width=[0.0] * TOP_K, brush=UNSURE, pen=None)
        self.plot.addItem(self.bars)
        self.threshold_line = pg.InfiniteLine(
            pos=0.5, angle=90, pen=pg.mkPen((200, 60, 60), width=1.5, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.threshold_line)

        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        layout.addWidget(self.know_link)
        layout.addWidget(self.plot, 1)
        self.top: list[tuple[str, float]] = []
        self.confident = False
        self.verdict = ""
        self.show_empty()

    def set_threshold(self, threshold: float) -> None:
        """The loaded model's confidence threshold, marked on the chart."""
        self.threshold_line.setValue(float(threshold))

    def show_empty(self, text: str = "Draw something") -> None:
        self.top, self.confident, self.verdict = [], False, ""
        self._set_headline(text)
        self.detail.setText("The model's top guesses appear here while you draw.")
        self._set_bars([])

    def show_message(self, headline: str, detail: str) -> None:
        self.verdict = ""
        self._set_headline(headline)
        self.detail.setText(detail)

    def _set_headline(self, text: str, unknown: bool = False) -> None:
        """The headline; for the unknown verdict smaller, with the link to the classes and
        without the threshold (no bar is a guess then)."""
        self.headline.setFont(self._long_font if unknown else self._big_font)
        self.headline.setText(text)
        self.know_link.setVisible(unknown)
        self.threshold_line.setVisible(not unknown)

    def show_prediction(self, request_id: int, pred) -> None:
        """Display ``pred`` (a core ``Prediction``)."""
        self.top = [(str(label), float(p)) for label, p in pred.top[:TOP_K]]
        self.verdict = str(pred.verdict)
        self.confident = bool(pred.confident) and self.verdict != "unknown"
        label, prob = self.top[0]
        if self.verdict == "unknown":
            names = sorted(str(c) for c in pred.classes)
            self._set_headline(unknown_headline(len(names)), unknown=True)
            self.know_link.setToolTip("I know: " + ", ".join(names))
            self.detail.setText(f"Not a guess: the bars only show the closest classes "
                                f"(closest: {label}, {prob * 100:.0f}%).")
        elif self.confident:
            self._set_headline(f"{label}  {prob * 100:.0f}%")
            self.detail.setText(f"{len(pred.leaf_boxes)} leaves, {pred.ms:.0f} ms")
        else:
            self._set_headline("Not sure yet")
            self.detail.setText(
                f"Best guess: {label} ({prob * 100:.0f}%), below the "
                f"{_threshold_pct(pred.threshold)}% confidence threshold. Keep drawing.")
        self.threshold_line.setValue(float(pred.threshold))
        self._set_bars(self.top)
        self.prediction_shown.emit(request_id)

    def _set_bars(self, top: list[tuple[str, float]]) -> None:
        rows = list(top) + [("", 0.0)] * (TOP_K - len(top))
        # rank 1 at the top of the chart
        ys = [TOP_K - 1 - i for i in range(TOP_K)]
        if self.verdict == "unknown":       # no bar is a guess: all equally faint
            brushes = [pg.mkBrush(UNKNOWN) for _ in range(TOP_K)]
        else:
            colour = CONFIDENT if self.confident else UNSURE
            brushes = [pg.mkBrush(colour if i == 0 else colour.lighter(135))
                       for i in range(TOP_K)]
        self.bars.setOpts(x0=[0.0] * TOP_K, y=ys, width=[p for _, p in rows], brushes=brushes)
        ticks = [(y, f"{label} {p * 100:.0f}%" if label else "") for y, (label, p) in zip(ys, rows, strict=True)]
        self.plot.getAxis("left").setTicks([ticks])


def _threshold_pct(t: float) -> str:
    """A threshold as a percentage with the decimal it needs (0.995 -> "99.5", not "100")."""
    return f"{float(t) * 100:.1f}".rstrip("0").rstrip(".")
