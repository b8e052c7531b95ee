"""The Help menu: About (version, credits, licences, what the models were trained on and
how well they do), the keyboard shortcuts, and the classes the models know.

The model facts are read from the shipped model cards (``resources/models/*.json``), so
the box describes the models actually installed. Whether the recognizer can say "none of
these" depends on the loaded model (``HelpDialogs.knows_unknown``, set when it loads). The
dialogs are non-modal: drawing goes on while one is open.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

QUICKDRAW_URL = "https://github.com/googlecreativelab/quickdraw-dataset"

# the parts the app and its bundles ship with, and their licences
BUNDLED = [
    ("Qt 6 and PySide6", "LGPL-3.0"),
    ("PyTorch", "BSD-3-Clause"),
    ("NumPy", "BSD-3-Clause"),
    ("OpenCV", "Apache-2.0"),
    ("pyqtgraph", "MIT"),
    ("qasync", "BSD-2-Clause"),
    ("platformdirs", "MIT"),
    ("tqdm", "MPL-2.0 and MIT"),
]


def _card(name: str) -> dict:
    from visketch_core.paths import models_dir

    try:
        data = json.loads((models_dir() / name).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _pct(v) -> str:
    return f"{float(v) * 100:.1f} %" if isinstance(v, (int, float)) else "n/a"


def _kind(card: dict) -> str:
    cfg = card.get("config", {})
    if cfg.get("head") == "gap":
        return ("a CNN over the whole sketch (the ViSketch feature pyramid, averaged; it won "
                "the project's benchmark against the quadtree head)")
    return "a ViSketch quadtree classifier"


def model_facts() -> list[str]:
    """One sentence per shipped model, with its numbers (HTML-escaped)."""
    out = []
    cls = _card("classifier.json")
    if cls:
        test = cls.get("test", {})
        half = test.get("partial_50", {})
        out.append(
            f"Recognition: {_kind(cls)} trained on {cls.get('trained_on', '?')}. "
            f"On the held-out test split ({test.get('n', '?')} sketches) it names the right "
            f"class first {_pct(test.get('top1'))} of the time (class-balanced "
            f"{_pct(test.get('balanced_top1'))}; top-3 {_pct(test.get('top3'))}), and "
            f"{_pct(half.get('top1'))} from the first half of the strokes. It says it is sure "
            f"above {_pct(test.get('confidence_threshold'))}, and is then right "
            f"{_pct(test.get('confident_accuracy'))} of the time.")
    gen = _card("generation.json")
    q = _card("generation_metrics.json").get("quality", {})
    if gen:
        text = (f"Generation: a 32x32 diffusion model for stage 1 and a leaf refiner, trained on "
                f"{gen.get('trained_on', '?')}.")
        if q:
            text += (f" The project's own 15-class judge recognises "
                     f"{_pct(q.get('parallel', {}).get('top1'))} of generated sketches "
                     f"(real test sketches: {_pct(q.get('real', {}).get('top1'))}) and "
                     f"{_pct(q.get('completion', {}).get('top1'))} of completed half-sketches. "
                     "A stricter 345-class judge recognises far fewer: generated sketches are "
                     "still cruder than people's (see docs/generation.md).")
        out.append(text)
    return [html.escape(t) for t in out]


def none_of_these_html(knows_unknown: bool) -> str:
    """What the recognizer does with a drawing of none of its classes, and where the list
    of classes is."""
    if knows_unknown:
        text = ("<p><b>None of these.</b> The recognizer knows only its classes. When a "
                "drawing looks like none of them it says so instead of naming one, and shows "
                "the closest classes faintly, marked as not a guess. The &ldquo;What do you "
                "know?&rdquo; link under that message lists the classes, and so does "
                "Help &gt; Classes the models know. Complete my sketch then uses the closest "
                "class, unless you pick one.</p>")
    else:
        text = ("<p><b>None of these.</b> The recognizer knows only its classes (Help &gt; "
                "Classes the models know lists them). A model calibrated for it says when a "
                "drawing looks like none of them; the model loaded now is not, so it always "
                "names the closest class.</p>")
    return text


def about_html(version: str, knows_unknown: bool = False) -> str:
    parts = "".join(f"<li>{html.escape(n)}: {html.escape(lic)}</li>" for n, lic in BUNDLED)
    facts = "".join(f"<p>{t}</p>" for t in model_facts()) + none_of_these_html(knows_unknown)
    return (
        f"<h3>ViSketch {html.escape(version)}</h3>"
        "<p>Draw, and watch a quadtree vision transformer recognise the sketch as you draw; "
        "let it complete the drawing or draw one of its own.</p>"
        f"{facts}"
        "<p><b>Data.</b> The models were trained on the Quick, Draw! dataset by Google "
        f"Creative Lab, <a href='{QUICKDRAW_URL}'>{QUICKDRAW_URL}</a>, used under the "
        "Creative Commons Attribution 4.0 International licence (CC BY 4.0).</p>"
        f"<p><b>Bundled parts.</b></p><ul>{parts}</ul>"
        "<p>ViSketch itself is MIT-licensed.</p>")


def shortcuts_html(actions: Iterable[QAction]) -> str:
    """A table of every action that has a shortcut, in menu order."""
    rows, seen = [], set()
    for a in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()]
        name = a.text().replace("&", "").rstrip(".")
        if not keys or name in seen:
            continue
        seen.add(name)
        rows.append(f"<tr><td>{html.escape(name)}</td>"
                    f"<td><b>{html.escape(', '.join(keys))}</b></td></tr>")
    rows += ["<tr><td>Pan</td><td><b>middle drag, Alt+drag, wheel</b></td></tr>",
             "<tr><td>Zoom at the pointer</td><td><b>Ctrl+wheel</b></td></tr>",
             "<tr><td>Cancel the stroke in progress</td><td><b>Esc</b></td></tr>"]
    return "<table cellspacing='6'>" + "".join(rows) + "</table>"


def classes_html(classes: list[str], knows_unknown: bool = False) -> str:
    if not classes:
        return "<p>The model is not loaded yet.</p>"
    items = "".join(f"<li>{html.escape(c)}</li>" for c in sorted(classes))
    unknown = (" When a drawing looks like none of them, the recognizer says so instead of "
               "guessing." if knows_unknown else "")
    return (f"<p>The shipped models know these {len(classes)} classes; recognition, "
            f"Complete my sketch and Draw it work with them only.{unknown}</p><ul>{items}</ul>")


class InfoDialog(QDialog):
    """A non-modal box of rich text, scrolled when long."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setOpenExternalLinks(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidget(self.label)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        self.resize(520, 460)

    def text(self) -> str:
        return self.label.text()


class HelpDialogs:
    """Opens (or raises) one dialog of each kind."""

    def __init__(self, parent: QWidget):
        self.parent = parent
        self.open: dict[str, InfoDialog] = {}
        self.knows_unknown = False     # the loaded recognizer can say "none of these"

    def show(self, title: str, text: str) -> InfoDialog:
        dlg = self.open.get(title)
        if dlg is None:
            dlg = self.open[title] = InfoDialog(title, text, self.parent)
        else:
            dlg.label.setText(text)
        dlg.show()
        dlg.raise_()
        return dlg

    def about(self) -> InfoDialog:
        from visketch_core import __version__

        return self.show("About ViSketch", about_html(__version__, self.knows_unknown))

    def shortcuts(self, actions: Iterable[QAction]) -> InfoDialog:
        return self.show("Keyboard shortcuts", shortcuts_html(actions))

    def classes(self, classes: list[str]) -> InfoDialog:
        return self.show("Classes the models know", classes_html(classes, self.knows_unknown))
