"""The leaf-vote card's hover rules, for the canvas.

The card is a hover aid: it shows once the pointer has rested over a leaf for
HOVER_REST_MS, and not near where the pen was just lifted (a pen or mouse resting at the
end of a stroke would otherwise put the card over the stroke just drawn). A mixin of
``SketchCanvas``, which owns the state it reads (prediction, flags, pointer, mode).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QTimer

from app import overlays

HOVER_REST_MS = 350  # the pointer rests this long over a leaf before its card shows
HOVER_CLEAR_PX = 40.0  # after pen-up, hovering starts once the pointer is this far away


class HoverCards:
    """Which leaf's card to show (``hovered_leaf``, -1 for none); ``leaf_hovered`` on change."""

    def _make_hover_timer(self) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(HOVER_REST_MS)
        timer.timeout.connect(self._hover_rested)
        return timer

    def _update_hover(self, pos: QPointF | None) -> None:
        """The pointer moved (or left: None) with no button down, or the prediction changed."""
        self._hover_pos = pos
        if pos is not None and self._pen_up_at is not None:
            d = pos - self._pen_up_at
            if (d.x() ** 2 + d.y() ** 2) ** 0.5 < HOVER_CLEAR_PX:
                pos = None          # still at the pen tip: no card over the fresh stroke
            else:
                self._pen_up_at = None
        idx = self._leaf_under(pos)
        if idx == -1:
            self._hover_timer.stop()
            self._set_hover_leaf(-1)
        elif idx == self._hover_leaf:
            self.update()           # the card follows the pointer
        else:
            self._set_hover_leaf(-1)
            self._hover_timer.start()   # shown once the pointer rests over the leaf
        if self.tool == "eraser":
            self.update()

    def _leaf_under(self, pos: QPointF | None) -> int:
        pred = self.prediction
        if pos is None or pred is None or not self.flags.leaf_votes or self._mode:
            return -1
        return overlays.leaf_at(pred.leaf_boxes, *self.to_document(pos))

    def _hover_rested(self) -> None:
        pos = self._hover_pos
        if pos is not None and self._pen_up_at is None:
            self._set_hover_leaf(self._leaf_under(pos))

    def _set_hover_leaf(self, idx: int) -> None:
        if idx != self._hover_leaf:
            self._hover_leaf = idx
            self.update()
            self.leaf_hovered.emit(idx)

    @property
    def hovered_leaf(self) -> int:
        return self._hover_leaf

